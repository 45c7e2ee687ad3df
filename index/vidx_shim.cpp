// vidx_shim.cpp: the only C++ in Troika: extern "C" wrappers over FAISS
// that turn exceptions into error codes.
#include "index/vidx.h"

#include <omp.h>

extern "C" void vidx_threads_init(void)
{
    omp_set_num_threads(1);
}
