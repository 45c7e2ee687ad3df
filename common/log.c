/* log.c: line-oriented logger writing whole lines with one write(2), so
 * lines from several worker processes sharing the file never interleave
 * (O_APPEND). */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

int log_level_current = LOG_LVL_INFO;
static int log_fd = 2;
static char log_path[512];

int log_level_parse(const char *s)
{
    if (!strcasecmp(s, "debug")) return LOG_LVL_DEBUG;
    if (!strcasecmp(s, "info")) return LOG_LVL_INFO;
    if (!strcasecmp(s, "error")) return LOG_LVL_ERROR;
    return -1;
}

int log_open(const char *path, int level)
{
    log_level_current = level;
    if (!path || !*path) {
        log_path[0] = '\0';
        log_fd = 2;
        return 0;
    }
    snprintf(log_path, sizeof(log_path), "%s", path);
    return log_reopen();
}

int log_reopen(void)
{
    if (!log_path[0]) return 0;
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return -1;
    int old = log_fd;
    log_fd = fd;
    if (old > 2) close(old);
    return 0;
}

static const char *const log_names[] = {"DEBUG", "INFO", "ERROR"};

void log_write(int level, const char *route, const char *rid, json_object *extra,
               const char *fmt, ...)
{
    char line[8192];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    int has_rid = rid && *rid;
    n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03dZ %s [%s%s%s] ", (int)(tv.tv_usec / 1000),
                  log_names[level < 0 ? 0 : level > 2 ? 2 : level], route ? route : "app",
                  has_rid ? "-" : "", has_rid ? rid : "");
    va_list ap;
    va_start(ap, fmt);
    if (n < (int)sizeof(line)) n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (extra && n < (int)sizeof(line) - 2) {
        const char *js = json_object_to_json_string_ext(extra, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        n += snprintf(line + n, sizeof(line) - (size_t)n, " %s", js);
    }
    if (n >= (int)sizeof(line) - 1) {
        n = (int)sizeof(line) - 5;
        memcpy(line + n, "...", 3);
        n += 3;
    }
    /* Keep the entry on one line whatever the message held. */
    for (int i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
    line[n++] = '\n';
    ssize_t w;
    do w = write(log_fd, line, (size_t)n);
    while (w < 0 && errno == EINTR);
}
