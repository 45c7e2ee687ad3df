/* route.c: a real route run end to end; see route.h. */
#include "test/unit/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "common/base/config.h"
#include "common/text/tok.h"
#include "fcgi/router.h"
#include "handlers/handlers.h"
#include "index/embed.h"
#include "index/pidx.h"

void rfx_open(struct rfx *f)
{
    memset(f, 0, sizeof(*f));
    f->ar = ar_new(64 * 1024);
    cfg_defaults(&f->app.cfg);
    f->app.sb_slot = -1;
    f->app.routes = h_routes();
    cap_io(&f->cap, &f->io);
}

int rfx_run(struct rfx *f, const char *method, const char *uri, char **extra_env, const char *body, size_t blen)
{
    char *env[40];
    size_t n = 0;
    char m[64], u[2048], q[2048];
    const char *qs = strchr(uri, '?');
    snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
    snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
    snprintf(q, sizeof(q), "QUERY_STRING=%s", qs ? qs + 1 : "");
    env[n++] = m;
    env[n++] = u;
    env[n++] = q;
    for (size_t i = 0; extra_env && extra_env[i] && n < sizeof(env) / sizeof(env[0]) - 1; i++)
        env[n++] = extra_env[i];
    env[n] = NULL;

    cap_in_init(&f->in, body ? body : "", body ? blen : 0, 16 * 1024);
    f->r.fx = &f->in.fx;
    CU_ASSERT_EQUAL_FATAL(req_init(&f->r, f->ar, &f->app.cfg, env), REQ_OK);
    const struct route *rt = NULL;
    char allow[64];
    enum rt_result res = rt_match(&f->app.routes, f->r.path, f->r.method, &rt, allow, sizeof(allow));
    CU_ASSERT_FATAL(res == RT_FOUND || res == RT_OPTIONS);
    sink_init(&f->s, res == RT_FOUND && (rt->flags & RT_STREAM) ? SINK_SSE : SINK_JSON, f->ar, &f->app.cfg,
              "rid-route", rt->name, &f->io, f->r.t0_ms);
    f->s.abort_flag = &f->abort;
    int status = res == RT_OPTIONS ? rt_options(&f->app, &f->r, &f->s, rt, allow)
                                   : rt_dispatch(&f->app, &f->r, &f->s, rt);
    f->parsed = 1;
    if (f->cap.len && cap_parse(&f->cap, &f->p) != 0) {
        fprintf(stderr, "\n  framing: %s\n  output:\n%s\n", f->p.error, f->cap.p ? f->cap.p : "");
        CU_FAIL("response is not well-formed");
    }
    return status;
}

void rfx_reset(struct rfx *f)
{
    if (f->parsed) cap_parse_free(&f->p);
    memset(&f->p, 0, sizeof(f->p));
    f->parsed = 0;
    cap_free(&f->cap);
    memset(&f->cap, 0, sizeof(f->cap));
    cap_io(&f->cap, &f->io);
    cap_in_free(&f->in);
    memset(&f->in, 0, sizeof(f->in));
    memset(&f->r, 0, sizeof(f->r));
    memset(&f->s, 0, sizeof(f->s));
    ar_reset(f->ar);
}

void rfx_close(struct rfx *f)
{
    rfx_reset(f);
    emb_close(f->app.emb);
    tok_close(f->app.tok);
    pidx_close(f->app.pidx);
    free(f->app.catalog);   /* holds no names: a fake store lists no designer */
    f->app.emb = NULL;
    f->app.tok = NULL;
    f->app.pidx = NULL;
    f->app.catalog = NULL;
    ar_free(f->ar);
}

const char *rfx_names(const struct rfx *f, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < f->p.n && o < cap; i++) {
        if (f->p.ev[i].id == 0) continue;
        int w = snprintf(out + o, cap - o, "%s%s", o ? " " : "", f->p.ev[i].name);
        if (w < 0) break;
        o += (size_t)w;
    }
    return out;
}
