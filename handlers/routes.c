/* routes.c: the route table, the one list of what the API serves. Each row:
 * path, methods, flags (fcgi/route.h), the handler, and the name logs and
 * metrics use (a `{name}` segment matches one path segment: rt_param). A
 * streaming route and its normal twin share a handler.
 * fcgi/main.c hands the table to the process (struct app); the router,
 * the rate limiter and the metrics read it there. Adding a route is adding
 * a row (a path with a `stream` segment must be RT_STREAM: test_router). */
#include "handlers/handlers.h"

#include "fcgi/route.h"

static const struct route h_route_rows[] = {
    {"/api/health", RT_GET, 0, h_health, "health"},
    {"/api/metrics", RT_GET, 0, h_metrics, "metrics"},
    {"/api/stream/selftest", RT_GET, RT_STREAM, h_selftest, "selftest"},
    {"/api/selftest", RT_GET, RT_LIMITED, h_selftest, "selftest"},
    {"/api/context/upload-file/stream", RT_POST, RT_STREAM | RT_BODY_OWN, h_upload, "context-upload"},
    {"/api/context/upload-file", RT_POST, RT_LIMITED | RT_BODY_OWN, h_upload, "context-upload"},
    {"/api/context/files", RT_GET, 0, h_files_list, "context-files"},
    {"/api/context/files/{id}", RT_GET | RT_DELETE, 0, h_file, "context-file"},
    {"/api/products/search/stream", RT_GET, RT_STREAM, h_product_search, "product-search"},
    {"/api/products/search", RT_GET, RT_LIMITED, h_product_search, "product-search"},
    {"/api/chat/query/stream", RT_POST, RT_STREAM | RT_BODY_JSON, h_chat, "chat"},
    {"/api/chat/query", RT_POST, RT_LIMITED | RT_BODY_JSON, h_chat, "chat"},
    {"/api/troika/intelligent-chat/stream", RT_POST, RT_STREAM | RT_BODY_JSON, h_troika, "troika"},
    {"/api/troika/intelligent-chat", RT_POST, RT_LIMITED | RT_BODY_JSON, h_troika, "troika"},
    {"/aza/search/stream", RT_POST, RT_STREAM | RT_BODY_JSON, h_aza_search, "aza-search"},
    {"/aza/search", RT_POST, RT_LIMITED | RT_BODY_JSON, h_aza_search, "aza-search"},
};

struct rt_table h_routes(void)
{
    return (struct rt_table){h_route_rows, sizeof(h_route_rows) / sizeof(h_route_rows[0])};
}
