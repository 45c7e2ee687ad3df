/* vidx.h: the vector index (FAISS behind a C++ shim). Plain C; no C++
 * exception crosses this header. */
#ifndef TROIKA_VIDX_H
#define TROIKA_VIDX_H

#ifdef __cplusplus
extern "C" {
#endif

/* Keeps FAISS single-threaded in this process (DESIGN: a forked child's
 * multi-threaded search hangs after OpenMP ran in the parent). Call before
 * any FAISS use and in every worker. */
void vidx_threads_init(void);

#ifdef __cplusplus
}
#endif

#endif
