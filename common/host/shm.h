/* shm.h: the one file-backed shared mapping of a host (cfg shm_path).
 *
 * The file holds a table of regions. shm knows none of its tenants: each
 * module that keeps host-wide state describes its region with a struct
 * shm_region (the rate limiter: rl_shm_region; metrics: mx_shm_region; the
 * scoreboard: sb_shm_region), whoever attaches lists them in a struct
 * shm_layout (fcgi/ops.c), and a tenant finds its region again by name
 * (shm_region). Whichever process comes first creates and initialises the
 * file under an exclusive flock(2); everyone else (prefork workers, and
 * processes that mod_fcgid spawned on its own) maps the same file. The
 * header records the table; a process whose layout differs (another rate
 * limit, table size, route table, or a region more or less) builds a
 * fresh file and renames it into place, and processes that started earlier
 * keep the old one until they exit. Locks inside the mapping are robust
 * process-shared mutexes (shm_mutex_init/shm_lock); counters are lock-free
 * C11 atomics. */
#ifndef TROIKA_SHM_H
#define TROIKA_SHM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum { SHM_VERSION = 2, SHM_REGIONS_MAX = 8, SHM_NAME_MAX = 16, SHM_PARAMS = 4 };

/* One tenant's region, as its module describes it. */
struct shm_region {
    char name[SHM_NAME_MAX];      /* how the tenant finds it again: "rl" */
    uint64_t size;                /* bytes it needs */
    uint64_t params[SHM_PARAMS];  /* what decides its layout and meaning
                                     (sizes, limits, a signature) */
    /* Fills a fresh, zeroed region of `size` bytes from r->params. 0 or -1.
     * Runs once, in the process that builds the file. */
    int (*init)(void *mem, const struct shm_region *r);
};

/* The regions a process asks for, in order. Two processes share a file
 * only when their layouts have the same regions (name, size, params) in
 * the same order. */
struct shm_layout {
    uint32_t n;
    struct shm_region region[SHM_REGIONS_MAX];
};

/* Appends r. 0, or -1 when the table is full or the name is empty or
 * already taken. */
int shm_layout_add(struct shm_layout *lay, struct shm_region r);

/* A region as the file records it. */
struct shm_slot {
    char name[SHM_NAME_MAX];
    uint64_t size, off;
    uint64_t params[SHM_PARAMS];
};

struct shm_hdr {
    char magic[8];          /* "TROIKASH" */
    uint32_t version;
    uint32_t hdr_size;
    uint64_t size;          /* bytes of the whole file */
    char boot_id[40];       /* monotonic timestamps are valid for one boot */
    int64_t created_wall_ms;
    uint32_t ready;         /* set (release) when every region is initialised */
    uint32_t nregions;
    struct shm_slot region[SHM_REGIONS_MAX];
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

/* The region called `name`; NULL when not mapped or no such region. */
void *shm_region(const struct shm *s, const char *name);

/* Initialises a robust, process-shared mutex. 0 or -1. */
int shm_mutex_init(pthread_mutex_t *m);

/* Locks a robust mutex. Returns 0, or 1 when the previous owner died while
 * holding it: the caller repairs what the mutex protects and then calls
 * shm_mutex_consistent() before unlocking. -1 when unrecoverable. */
int shm_lock(pthread_mutex_t *m);
void shm_mutex_consistent(pthread_mutex_t *m);
void shm_unlock(pthread_mutex_t *m);

#endif
