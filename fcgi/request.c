/* request.c: FastCGI parameters, query-string decoding, body reading.
 *
 * The body is read under a deadline. libfcgi blocks in read() until a
 * record arrives, so a client that sends one byte now and then (through a
 * web server that passes the body on as it comes) would hold the worker
 * for as long as it likes. So the worker takes what libfcgi already holds
 * without a read, and otherwise asks it for one byte with the connection's
 * receive timeout set to the time left: one fill, which returns what has
 * arrived or fails with EAGAIN when the time is up. (libfcgi may read
 * ahead into a buffer the stream does not show; asking it, rather than
 * polling the socket, never misses those bytes. A fill that meets a record
 * header alone reads once more, so the bound is the deadline plus at most
 * the time left at that fill.) */
#include "fcgi/request.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "common/base/clock.h"
#include "common/base/config.h"
#include "common/base/id.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *req_url_decode(arena_t *ar, const char *s, size_t n, int plus_space)
{
    char *out = ar_alloc(ar, n + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+' && plus_space) {
            out[o++] = ' ';
        } else if (c == '%' && i + 2 < n) {
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0 || (hi | lo) == 0) {
                out[o++] = c;   /* malformed escape or %00: kept as it is */
                continue;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return out;
}

int req_parse_query(arena_t *ar, const char *qs, struct kv **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!qs || !*qs) return 0;
    size_t cap = 1;
    for (const char *p = qs; *p; p++)
        if (*p == '&') cap++;
    struct kv *kv = ar_calloc(ar, cap, sizeof(*kv));
    if (!kv) return -1;
    size_t cnt = 0;
    const char *p = qs;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t klen = eq ? (size_t)(eq - p) : len;
            kv[cnt].key = req_url_decode(ar, p, klen, 1);
            kv[cnt].value = eq ? req_url_decode(ar, eq + 1, len - klen - 1, 1) : ar_strdup(ar, "");
            if (!kv[cnt].key || !kv[cnt].value) return -1;
            cnt++;
        }
        if (!amp) break;
        p = amp + 1;
    }
    *out = kv;
    *n = cnt;
    return 0;
}

static const char *envget(char **env, const char *name)
{
    if (!env) return NULL;
    size_t n = strlen(name);
    for (char **p = env; *p; p++)
        if (strncmp(*p, name, n) == 0 && (*p)[n] == '=') return *p + n + 1;
    return NULL;
}

const char *req_env(const struct req *r, const char *name)
{
    return envget(r->env, name);
}

const char *req_param(const struct req *r, const char *name)
{
    for (size_t i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i].key, name) == 0) return r->params[i].value;
    return NULL;
}

int req_init(struct req *r, arena_t *ar, const struct cfg *cfg, char **env)
{
    struct FCGX_Request *fx = r->fx;
    memset(r, 0, sizeof(*r));
    r->fx = fx;
    r->ar = ar;
    r->cfg = cfg;
    r->env = env;
    r->t0_ms = clk_mono_ms();
    r->content_length = -1;

    const char *m = envget(env, "REQUEST_METHOD");
    r->method = m ? m : "GET";
    const char *ct = envget(env, "CONTENT_TYPE");
    r->content_type = ct ? ct : "";
    const char *cl = envget(env, "CONTENT_LENGTH");
    if (cl && *cl) {
        char *end;
        long long v = strtoll(cl, &end, 10);
        r->content_length = (*end || v < 0) ? -2 : v;
    }
    const char *ra = envget(env, "REMOTE_ADDR");
    r->remote_addr = ra ? ra : "";
    r->client_ip = r->remote_addr;

    const char *rid = envget(env, "HTTP_X_REQUEST_ID");
    if (rid && id_valid(rid)) snprintf(r->id, sizeof(r->id), "%s", rid);
    else id_new(r->id);

    /* Path: REQUEST_URI without the query (falls back to SCRIPT_NAME +
     * PATH_INFO), minus base_path. Percent-escapes in the path are decoded. */
    const char *uri = envget(env, "REQUEST_URI");
    const char *qs = envget(env, "QUERY_STRING");
    char *path;
    if (uri && *uri) {
        const char *q = strchr(uri, '?');
        size_t plen = q ? (size_t)(q - uri) : strlen(uri);
        path = req_url_decode(ar, uri, plen, 0);
        if (!qs && q) qs = q + 1;
    } else {
        const char *sn = envget(env, "SCRIPT_NAME"), *pi = envget(env, "PATH_INFO");
        path = ar_printf(ar, "%s%s", sn ? sn : "", pi ? pi : "");
    }
    if (!path) return REQ_EBAD;
    size_t bl = strlen(cfg->base_path);
    if (bl && strncmp(path, cfg->base_path, bl) == 0 && (path[bl] == '/' || path[bl] == '\0'))
        path += bl;
    if (!*path) path = (char *)"/";
    r->path = path;
    r->query = qs ? qs : "";
    if (strlen(r->query) > (size_t)cfg->max_query_string) return REQ_ETOOBIG;
    if (req_parse_query(ar, r->query, &r->params, &r->nparams) < 0) return REQ_EBAD;
    return REQ_OK;
}

/* The connection's receive timeout: ms (0: none). */
static void req_rcvtimeo(int fd, int64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

int req_read(struct req *r, char *buf, size_t room, int64_t deadline_ms)
{
    if (!r->fx || !r->fx->in || room == 0) return 0;
    FCGX_Stream *in = r->fx->in;
    int fd = r->fx->ipcFd;
    size_t have = in->isClosed ? 0 : (size_t)(in->stop - in->rdNext);
    if (fd >= 0 && deadline_ms) {
        if (have) {
            room = room < have ? room : have;   /* what libfcgi holds: no read() */
        } else {
            int64_t left = deadline_ms - clk_mono_ms();
            if (left <= 0) return REQ_ETIMEOUT;
            req_rcvtimeo(fd, left);
            room = 1;   /* one fill: libfcgi reads what has arrived, or waits at most `left` */
        }
    }
    int n = FCGX_GetStr(buf, (int)(room > 65536 ? 65536 : room), in);
    if (n > 0) return n;
    int e = FCGX_GetError(in);
    if (e == EAGAIN || e == EWOULDBLOCK) return REQ_ETIMEOUT;   /* SO_RCVTIMEO ran out */
    return e ? REQ_EIO : 0;
}

void req_read_done(struct req *r)
{
    if (r->fx && r->fx->ipcFd >= 0) req_rcvtimeo(r->fx->ipcFd, 0);
}

void req_finish(struct FCGX_Request *fx, int linger_ms)
{
    if (fx->ipcFd >= 0 && !fx->keepConnection && fx->in) {
        /* the response's last records (END_REQUEST), as FCGX_Finish_r
         * would write them: error stream first, output last */
        FCGX_FClose(fx->err);
        FCGX_FClose(fx->out);
        if (shutdown(fx->ipcFd, SHUT_WR) == 0) {
            char trash[4096];
            int64_t end = clk_mono_ms() + linger_ms;
            for (;;) {
                int64_t left = end - clk_mono_ms();
                struct pollfd p = {.fd = fx->ipcFd, .events = POLLIN};
                if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
                if (read(fx->ipcFd, trash, sizeof(trash)) <= 0) break;
            }
        }
        FCGX_Detach(fx);   /* libfcgi closes without lingering again */
    }
    FCGX_Finish_r(fx);
}

int req_read_body(struct req *r, size_t max)
{
    if (r->content_length == -2) return REQ_EBAD;
    if (r->content_length > (long long)max) return REQ_ETOOBIG;   /* refuse unread */
    size_t want = r->content_length >= 0 ? (size_t)r->content_length : max + 1;
    char *body = ar_alloc(r->ar, (want < max ? want : max) + 2);
    if (!body) return REQ_ETOOBIG;
    size_t got = 0;
    int64_t deadline = r->cfg && r->cfg->body_timeout_ms ? clk_mono_ms() + r->cfg->body_timeout_ms : 0;
    int rc = REQ_OK;
    if (r->fx) {
        while (got <= max) {
            size_t room = (r->content_length >= 0 ? want : max + 1) - got;
            if (room == 0) break;
            int n = req_read(r, body + got, room, deadline);
            if (n < 0) rc = n;
            if (n <= 0) break;
            got += (size_t)n;
        }
        req_read_done(r);
        if (rc == REQ_ETIMEOUT) return rc;
        if (got > max) return REQ_ETOOBIG;
        if (r->content_length >= 0 && got < (size_t)r->content_length) return REQ_EIO;
    }
    body[got] = '\0';
    r->body = body;
    r->body_len = got;
    return REQ_OK;
}
