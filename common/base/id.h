/* id.h: random ids (request ids, session ids, index build ids) and the
 * one rule for an id a client may hand us. No state, no allocation. */
#ifndef TROIKA_ID_H
#define TROIKA_ID_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {   /* index/vidx_shim.cpp stamps its build ids with it */
#endif

enum { ID_SIZE = 33 };   /* a fresh id: 32 hex digits and the NUL */

/* Writes 2 * nbytes lowercase hex digits of fresh randomness into out (no
 * NUL). getrandom(2); when the kernel's pool is not ready yet, the time
 * and the pid instead (unique, not secret). */
void id_hex(char *out, size_t nbytes);

/* A fresh id: 32 hex digits, NUL-terminated. */
void id_new(char out[ID_SIZE]);

/* 2 * nbytes hex digits (no NUL) from the kernel's CSPRNG only, waiting
 * for its pool at early boot rather than falling back: for ids that must
 * not be guessed (session ids, API keys). 0, or -1 when getrandom(2)
 * fails (out untouched then). */
int id_secret_hex(char *out, size_t nbytes);

/* A fresh secret id: 32 hex digits (128 bits of id_secret_hex) and the
 * NUL. 0 or -1. */
int id_secret(char out[ID_SIZE]);

/* 1 when id is 1-64 chars of [A-Za-z0-9._-] (an X-Request-Id or a
 * sessionId a client sent). */
int id_valid(const char *id);

#ifdef __cplusplus
}
#endif

#endif
