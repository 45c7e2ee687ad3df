/* shm.c: creating, checking and mapping the shared file; robust mutexes.
 *
 * Creation protocol: open(O_CREAT) the path, take flock(LOCK_EX), and make
 * sure the locked file is still the one at the path (another process may
 * have renamed a fresh file over it meanwhile; then start again). An empty
 * file is sized and initialised in place; a file with another layout is
 * replaced by a fresh one built beside it and renamed over the path. The
 * flock is released by the kernel even when its holder is killed. */
#include "common/host/shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/base/clock.h"

static const char shm_magic[8] = {'T', 'R', 'O', 'I', 'K', 'A', 'S', 'H'};

static void shm_boot_id(char out[40])
{
    memset(out, 0, 40);
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (!f) return;
    if (!fgets(out, 40, f)) out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

static size_t shm_align(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

int shm_layout_add(struct shm_layout *lay, struct shm_region r)
{
    if (lay->n >= SHM_REGIONS_MAX || !r.name[0] || r.name[SHM_NAME_MAX - 1] || !r.init) return -1;
    for (uint32_t i = 0; i < lay->n; i++)
        if (strcmp(lay->region[i].name, r.name) == 0) return -1;
    lay->region[lay->n++] = r;
    return 0;
}

/* The file's region table for a layout, and the file's size. */
static size_t shm_plan(const struct shm_layout *lay, struct shm_slot slot[SHM_REGIONS_MAX])
{
    size_t off = shm_align(sizeof(struct shm_hdr));
    memset(slot, 0, sizeof(struct shm_slot) * SHM_REGIONS_MAX);
    for (uint32_t i = 0; i < lay->n; i++) {
        const struct shm_region *r = &lay->region[i];
        memcpy(slot[i].name, r->name, SHM_NAME_MAX);
        memcpy(slot[i].params, r->params, sizeof(r->params));
        slot[i].size = r->size;
        slot[i].off = off;
        off += shm_align(r->size);
    }
    return off;
}

/* 1 when the header's region table is the layout's. */
static int shm_table_matches(const struct shm_hdr *h, const struct shm_layout *lay)
{
    if (h->nregions != lay->n) return 0;
    for (uint32_t i = 0; i < lay->n; i++) {
        const struct shm_slot *a = &h->region[i];
        const struct shm_region *b = &lay->region[i];
        if (memcmp(a->name, b->name, SHM_NAME_MAX) != 0 || a->size != b->size ||
            memcmp(a->params, b->params, sizeof(a->params)) != 0)
            return 0;
    }
    return 1;
}

int shm_same_layout(const struct shm *s, const struct shm_layout *lay)
{
    return s->hdr && shm_table_matches(s->hdr, lay);
}

/* 1 when the mapped header is complete and matches. */
static int shm_matches(const struct shm_hdr *h, size_t file_size, const struct shm_layout *lay,
                       const char *boot)
{
    return memcmp(h->magic, shm_magic, sizeof(shm_magic)) == 0 && h->version == SHM_VERSION &&
           h->hdr_size == sizeof(*h) && h->size == file_size && shm_table_matches(h, lay) &&
           strncmp(h->boot_id, boot, 40) == 0 &&
           atomic_load_explicit((_Atomic uint32_t *)&h->ready, memory_order_acquire) == 1;
}

/* Sizes fd and writes a fresh mapping into it. 0 or -1 (errno set). */
static int shm_build(int fd, const struct shm_layout *lay, const char *boot)
{
    struct shm_slot slot[SHM_REGIONS_MAX];
    size_t size = shm_plan(lay, slot);
    if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)size) < 0) return -1;
    unsigned char *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) return -1;
    struct shm_hdr *h = (struct shm_hdr *)base;
    memcpy(h->magic, shm_magic, sizeof(shm_magic));
    h->version = SHM_VERSION;
    h->hdr_size = sizeof(*h);
    h->size = size;
    memcpy(h->boot_id, boot, 40);
    h->nregions = lay->n;
    memcpy(h->region, slot, sizeof(slot));
    h->created_wall_ms = clk_wall_ms();
    int rc = 0;
    for (uint32_t i = 0; i < lay->n && rc == 0; i++)
        if (lay->region[i].init(base + slot[i].off, &lay->region[i]) < 0) rc = -1;
    if (rc == 0) atomic_store_explicit((_Atomic uint32_t *)&h->ready, 1, memory_order_release);
    munmap(base, size);
    return rc;
}

static int shm_fail(char *err, size_t errlen, const char *path, const char *what)
{
    snprintf(err, errlen, "shm_path: cannot %s %s: %s", what, path, strerror(errno));
    return -1;
}

/* Opens the file at path and locks it (LOCK_EX), making sure the locked
 * file is still the one at the path: another process may have renamed a
 * fresh file over it while we waited. 0 with *fd and *st, 1 when it was
 * replaced (look again), -1 with err. */
static int shm_open_locked(const char *path, int *fd, struct stat *st, char *err, size_t errlen)
{
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0) return shm_fail(err, errlen, path, "open");
    int rc = -1;
    struct stat b;
    if (flock(*fd, LOCK_EX) < 0)
        shm_fail(err, errlen, path, "lock");
    else if (fstat(*fd, st) < 0)
        shm_fail(err, errlen, path, "stat");
    else if (stat(path, &b) == 0 && st->st_ino == b.st_ino && st->st_dev == b.st_dev)
        return 0;
    else
        rc = 1;
    close(*fd);
    *fd = -1;
    return rc;
}

/* The locked file *fd (of size `size`) made to hold this layout: kept when
 * its header matches, initialised in place when empty, else replaced by a
 * fresh file built beside it and renamed over the path (*fd becomes the
 * fresh one; closing the old drops its lock). 0 or -1 with err. */
static int shm_ensure(struct shm *s, int *fd, off_t size, const struct shm_layout *lay, const char *boot, char *err,
                      size_t errlen)
{
    const char *path = s->path;
    struct shm_hdr h;
    if ((size_t)size >= sizeof(h) && pread(*fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
        shm_matches(&h, (size_t)size, lay, boot))
        return 0;
    if (size == 0) {
        if (shm_build(*fd, lay, boot) < 0) return shm_fail(err, errlen, path, "initialise");
        s->created = 1;
        return 0;
    }
    /* Another layout (or a stale boot): a fresh file, renamed over. */
    char tmp[sizeof(s->path) + 32];
    snprintf(tmp, sizeof(tmp), "%s.%d.new", path, (int)getpid());
    int nfd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (nfd < 0) return shm_fail(err, errlen, tmp, "create");
    if (shm_build(nfd, lay, boot) < 0 || rename(tmp, path) < 0) {
        shm_fail(err, errlen, path, "replace");
        close(nfd);
        unlink(tmp);
        return -1;
    }
    close(*fd);
    *fd = nfd;
    s->created = 1;
    return 0;
}

/* Maps the whole file into s and lets go of the lock; s owns fd. */
static int shm_map(struct shm *s, int fd, char *err, size_t errlen)
{
    struct stat c;
    if (fstat(fd, &c) < 0) return shm_fail(err, errlen, s->path, "stat");
    void *base = mmap(NULL, (size_t)c.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) return shm_fail(err, errlen, s->path, "map");
    s->base = base;
    s->size = (size_t)c.st_size;
    s->hdr = base;
    flock(fd, LOCK_UN);
    s->fd = fd;
    return 0;
}

int shm_attach(struct shm *s, const char *path, const struct shm_layout *lay, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    if (strlen(path) >= sizeof(s->path) - 32) {
        snprintf(err, errlen, "shm_path: '%s' is too long", path);
        return -1;
    }
    snprintf(s->path, sizeof(s->path), "%s", path);
    char boot[40];
    shm_boot_id(boot);
    for (int attempt = 0; attempt < 20; attempt++) {
        int fd;
        struct stat st;
        int rc = shm_open_locked(path, &fd, &st, err, errlen);
        if (rc < 0) return -1;
        if (rc > 0) continue;   /* replaced while we waited: look again */
        if (shm_ensure(s, &fd, st.st_size, lay, boot, err, errlen) < 0 || shm_map(s, fd, err, errlen) < 0) {
            close(fd);
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "shm_path: %s keeps being replaced by other processes", path);
    return -1;
}

void shm_detach(struct shm *s)
{
    if (s->base) munmap(s->base, s->size);
    if (s->fd >= 0 && s->hdr) close(s->fd);
    s->base = NULL;
    s->hdr = NULL;
    s->size = 0;
    s->fd = -1;
}

void *shm_region(const struct shm *s, const char *name)
{
    if (!s->hdr) return NULL;
    for (uint32_t i = 0; i < s->hdr->nregions && i < SHM_REGIONS_MAX; i++)
        if (strncmp(s->hdr->region[i].name, name, SHM_NAME_MAX) == 0) return s->base + s->hdr->region[i].off;
    return NULL;
}

int shm_mutex_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    if (pthread_mutexattr_init(&a)) return -1;
    int rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) ||
             pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) || pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return rc ? -1 : 0;
}

int shm_lock(pthread_mutex_t *m)
{
    int rc = pthread_mutex_lock(m);
    if (rc == 0) return 0;
    if (rc == EOWNERDEAD) return 1;
    return -1;
}

void shm_mutex_consistent(pthread_mutex_t *m)
{
    pthread_mutex_consistent(m);
}

void shm_unlock(pthread_mutex_t *m)
{
    pthread_mutex_unlock(m);
}
