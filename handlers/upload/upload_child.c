/* upload_child.c: text extraction of untrusted files (PDF, HTML) in a
 * child process that can be bounded and killed.
 *
 * poppler and libxml2 cannot be told to stop at a size or a time: a 31 KB
 * PDF whose one page is a 10 MB Flate stream of "(...) Tj 0 0 Td" keeps
 * poppler_page_get_text busy for minutes and past 500 MB, and 3 million
 * nested tags take libxml2 half a gigabyte. So the worker forks; the child
 * lowers its own limits (RLIMIT_CPU, and RLIMIT_AS at what it inherited
 * plus extract_memory), extracts with up_extract into a shared anonymous
 * mapping and leaves; the worker waits no longer than extract_timeout_ms,
 * polling the request's cancel callback (client gone, stream deadline)
 * every 10 ms, and kills a child that runs over. What was found over a
 * limit is refused with a sentence naming the limit; the worker's own
 * memory never holds the parser's.
 *
 * The child inherits the worker's descriptors (the FastCGI and database
 * connections) and touches none of them: it writes only the mapping and
 * leaves with _exit, so no library's exit handler or connection close
 * runs there. Other text types are parsed in the worker: their parsers
 * are linear and stop at max_text themselves. */
#include "handlers/upload/upload.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/base/clock.h"

/* The head of the shared mapping; the text and the page offsets follow. */
struct upc_shared {
    int rc;              /* UP_EX_*, or UPC_RUNNING until the child is done */
    int npages;
    size_t n;            /* text bytes */
    size_t bad;          /* INVALID_UTF8's offset */
    char why[512];
};

enum { UPC_RUNNING = 1 };

/* How the wait ended. */
enum { UPC_EXITED, UPC_TIMEOUT, UPC_CANCELLED };

struct upc_map {
    void *base;
    size_t len;
    struct upc_shared *sh;
    char *text;          /* max_text + 1 bytes */
    size_t *pages;       /* pages_cap entries */
    size_t pages_cap;
};

static size_t upc_align(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

static int upc_map(struct upc_map *m, size_t max_text)
{
    /* every page adds at least its "\n\n" to the text */
    m->pages_cap = max_text / 2 + 2;
    size_t off_text = upc_align(sizeof(struct upc_shared));
    size_t off_pages = upc_align(off_text + max_text + 1);
    m->len = off_pages + m->pages_cap * sizeof(size_t);
    /* NORESERVE: only the pages the child writes cost memory */
    m->base = mmap(NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m->base == MAP_FAILED) return -1;
    m->sh = m->base;
    m->text = (char *)m->base + off_text;
    m->pages = (size_t *)(void *)((char *)m->base + off_pages);
    m->sh->rc = UPC_RUNNING;
    return 0;
}

/* The child's virtual size now (what it inherited), in bytes. */
static size_t upc_vsize(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

static void upc_limits(const struct up_bounds *b)
{
    struct rlimit r;
    rlim_t cpu = (rlim_t)(b->timeout_ms + 999) / 1000 + 1;
    r.rlim_cur = cpu;
    r.rlim_max = cpu + 1;   /* SIGXCPU at the soft limit, SIGKILL at the hard one */
    setrlimit(RLIMIT_CPU, &r);
    if (b->memory > 0) {
        r.rlim_cur = r.rlim_max = (rlim_t)(upc_vsize() + (size_t)b->memory);
        setrlimit(RLIMIT_AS, &r);
    }
    r.rlim_cur = r.rlim_max = 0;   /* no core file of a child killed at a limit */
    setrlimit(RLIMIT_CORE, &r);
}

/* The child: extract, copy into the mapping, leave. Never returns. */
static void upc_child(const struct upc_map *m, enum up_type t, const char *d, size_t n, size_t max_text,
                      const struct up_bounds *b)
{
    /* libxml2 and a C++ runtime at a limit write to stderr (the worker's
     * log): the child's verdict is the mapping and its exit */
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, STDERR_FILENO);
        close(null);
    }
    upc_limits(b);
    struct upc_shared *sh = m->sh;
    arena_t *ar = ar_new(64 * 1024);
    struct up_text out;
    size_t bad = 0;
    int rc = ar ? up_extract(ar, t, d, n, max_text, &out, &bad, sh->why, sizeof(sh->why), NULL, NULL) : UP_EX_FAIL;
    if (!ar) snprintf(sh->why, sizeof(sh->why), "out of memory");
    if (rc == UP_EX_OK) {
        if (out.n > max_text || (size_t)out.npages > m->pages_cap) {
            snprintf(sh->why, sizeof(sh->why), "the extracted text is larger than %zu bytes", max_text);
            rc = UP_EX_FAIL;
        } else {
            memcpy(m->text, out.s, out.n);
            m->text[out.n] = '\0';
            sh->n = out.n;
            if (out.npages) memcpy(m->pages, out.pages, (size_t)out.npages * sizeof(size_t));
            sh->npages = out.npages;
        }
    }
    sh->bad = bad;
    __atomic_store_n(&sh->rc, rc, __ATOMIC_RELEASE);
    _exit(0);
}

/* Waits for the child: its exit, the deadline, or a cancel. */
static int upc_wait(pid_t pid, int timeout_ms, int (*cancel)(void *), void *arg, int *status)
{
    int64_t deadline = clk_mono_ms() + timeout_ms;
    int how = UPC_EXITED;
    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR)) return how;
        if (cancel && cancel(arg)) how = UPC_CANCELLED;
        else if (clk_mono_ms() >= deadline) how = UPC_TIMEOUT;
        if (how != UPC_EXITED) {
            kill(pid, SIGKILL);
            while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
            }
            return how;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* The sentence for a child that did not finish. */
static void upc_why(int how, int status, const struct up_bounds *b, const char *kind, char *why, size_t whylen)
{
    if (how == UPC_TIMEOUT)
        snprintf(why, whylen, "extracting the text of this %s took longer than %d ms (extract_timeout_ms)", kind,
                 b->timeout_ms);
    else if (how == UPC_CANCELLED)
        snprintf(why, whylen, "stopped");
    else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
        snprintf(why, whylen, "extracting the text of this %s used more than %d s of CPU", kind,
                 (b->timeout_ms + 999) / 1000 + 1);
    else if (WIFSIGNALED(status))
        snprintf(why, whylen,
                 "extracting the text of this %s needed more than %ld MiB of memory (extract_memory) or failed "
                 "(signal %d)",
                 kind, b->memory >> 20, WTERMSIG(status));
    else
        snprintf(why, whylen, "the %s could not be read", kind);
}

int up_extract_bounded(arena_t *ar, enum up_type t, const char *d, size_t n, size_t max_text,
                       const struct up_bounds *b, struct up_text *out, size_t *bad, char *why, size_t whylen,
                       int (*cancel)(void *), void *arg)
{
    if (t != UP_PDF && t != UP_HTML)
        return up_extract(ar, t, d, n, max_text, out, bad, why, whylen, cancel, arg);
    memset(out, 0, sizeof(*out));
    *bad = 0;
    why[0] = '\0';
    const char *kind = t == UP_PDF ? "PDF" : "HTML file";
    struct upc_map m;
    if (upc_map(&m, max_text) < 0) {
        snprintf(why, whylen, "out of memory for the extraction");
        return UP_EX_FAIL;
    }
    int rc = UP_EX_FAIL, status = 0, how, done;
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whylen, "the extraction could not start: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) upc_child(&m, t, d, n, max_text, b);
    how = upc_wait(pid, b->timeout_ms, cancel, arg, &status);
    done = __atomic_load_n(&m.sh->rc, __ATOMIC_ACQUIRE);
    if (how != UPC_EXITED || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || done == UPC_RUNNING) {
        upc_why(how, status, b, kind, why, whylen);
        goto out;
    }
    rc = done;
    *bad = m.sh->bad;
    snprintf(why, whylen, "%s", m.sh->why);
    if (rc != UP_EX_OK) goto out;
    char *s = ar_alloc(ar, m.sh->n + 1);
    size_t *pages = m.sh->npages ? ar_alloc(ar, (size_t)m.sh->npages * sizeof(size_t)) : NULL;
    if (!s || (m.sh->npages && !pages)) {
        snprintf(why, whylen, "out of memory for the extracted text");
        rc = UP_EX_FAIL;
        goto out;
    }
    memcpy(s, m.text, m.sh->n + 1);
    if (pages) memcpy(pages, m.pages, (size_t)m.sh->npages * sizeof(size_t));
    out->s = s;
    out->n = m.sh->n;
    out->pages = pages;
    out->npages = m.sh->npages;
out:
    munmap(m.base, m.len);
    return rc;
}
