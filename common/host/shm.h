/* shm.h: the one file-backed shared mapping of a host (cfg shm_path).
 *
 * Holds three regions: the rate-limit table (rl.h), the metrics (metrics.h)
 * and the worker scoreboard (scoreboard.h). Whichever process comes first
 * creates and initialises the file under an exclusive flock(2); everyone
 * else (prefork workers, and processes that mod_fcgid spawned on its own)
 * maps the same file. The header records the layout; a process whose
 * config asks for a different layout (another rate limit, table size,
 * route table or binary version) builds a fresh file and renames it into
 * place, and processes that started earlier keep the old one until they
 * exit. Locks inside the mapping are robust process-shared mutexes
 * (shm_mutex_init/shm_lock); counters are lock-free C11 atomics. */
#ifndef TROIKA_SHM_H
#define TROIKA_SHM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum { SHM_VERSION = 1 };

/* Everything that decides the size and meaning of the mapping. Two
 * processes share a mapping only when their layouts are equal. */
struct shm_layout {
    uint32_t rl_capacity;   /* client addresses tracked at once */
    uint32_t rl_limit;      /* admissions per window: the ring of each address */
    int64_t rl_window_ms;
    uint32_t sb_slots;      /* scoreboard slots (processes) */
    uint32_t nroutes;       /* metric rows: one per route + one for "other" */
    uint64_t routes_sig;    /* hash of the route paths, in table order */
};

struct shm_hdr {
    char magic[8];          /* "TROIKASH" */
    uint32_t version;
    uint32_t hdr_size;
    uint64_t size;          /* bytes of the whole file */
    char boot_id[40];       /* monotonic timestamps are valid for one boot */
    struct shm_layout lay;
    uint64_t rl_off, mx_off, sb_off;
    int64_t created_wall_ms;
    uint32_t ready;         /* set (release) when every region is initialised */
    uint32_t pad;
};

/* A process's view of the mapping. */
struct shm {
    int fd;
    unsigned char *base;
    size_t size;
    struct shm_hdr *hdr;
    int created;            /* this process initialised it */
    char path[512];
};

/* Maps `path` with `lay`, creating or replacing the file as described
 * above. On error returns -1 with err naming the path and the reason. */
int shm_attach(struct shm *s, const char *path, const struct shm_layout *lay, char *err, size_t errlen);

/* Unmaps (the file stays for the other processes). Safe on a zeroed struct. */
void shm_detach(struct shm *s);

/* 1 when s is mapped with exactly this layout. */
int shm_same_layout(const struct shm *s, const struct shm_layout *lay);

/* The regions (NULL when not mapped). */
void *shm_rl(const struct shm *s);
void *shm_mx(const struct shm *s);
void *shm_sb(const struct shm *s);

/* Initialises a robust, process-shared mutex. 0 or -1. */
int shm_mutex_init(pthread_mutex_t *m);

/* Locks a robust mutex. Returns 0, or 1 when the previous owner died while
 * holding it: the caller repairs what the mutex protects and then calls
 * shm_mutex_consistent() before unlocking. -1 when unrecoverable. */
int shm_lock(pthread_mutex_t *m);
void shm_mutex_consistent(pthread_mutex_t *m);
void shm_unlock(pthread_mutex_t *m);

#endif
