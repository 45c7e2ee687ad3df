/* selftest.c: GET /api/stream/selftest (and /api/selftest): n progress
 * ticks interval_ms apart, so an operator can see whether the web server
 * in front buffers the stream. */
#include <stdio.h>

#include <json-c/json.h>

#include "common/base/log.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/handlers.h"

static const char selftest_hint[] =
    "If these events arrived all at once, the web server is buffering the stream. "
    "nginx: keep X-Accel-Buffering from the app or set 'fastcgi_buffering off;' and a "
    "fastcgi_read_timeout above STREAMING_HEARTBEAT_MS. Apache mod_fcgid: "
    "'FcgidOutputBufferSize 0' at server or virtual-host scope. Apache mod_proxy_fcgi: "
    "'flushpackets=on' on a ProxyPass with its own backend name.";

int h_selftest(struct ctx *c)
{
    long n, interval;
    if (hx_param_int(c, "n", 5, 1, 20, &n) < 0) return 0;
    if (hx_param_int(c, "interval_ms", 500, 0, 2000, &interval) < 0) return 0;

    LOG_INFO(c->route->name, c->req->id, NULL, "Starting selftest stream n=%ld interval_ms=%ld", n, interval);
    json_object *ctxo = json_object_new_object();
    json_object_object_add(ctxo, "n", json_object_new_int64(n));
    json_object_object_add(ctxo, "intervalMs", json_object_new_int64(interval));
    int rc = hx_connected(c, ctxo);
    for (long i = 1; rc == 0 && i <= n; i++) {
        if (i > 1 || interval > 0) rc = sink_sleep(c->sink, (int)interval);
        if (rc) break;
        char msg[64];
        snprintf(msg, sizeof(msg), "Tick %ld of %ld", i, n);
        rc = sink_progress(c->sink, "selftest", msg, i, (int)(i * 100 / n));
    }
    if (rc) return rc;
    json_object *done = json_object_new_object();
    json_object_object_add(done, "total", json_object_new_int64(n));
    json_object_object_add(done, "duration", json_object_new_int64(hx_elapsed(c)));
    json_object_object_add(done, "hint", json_object_new_string(selftest_hint));
    LOG_INFO(c->route->name, c->req->id, NULL, "Selftest stream complete");
    return sink_emit(c->sink, "complete", done);
}
