/* log.c: line-oriented logger writing whole lines with one write(2), so
 * lines from several worker processes sharing the file never interleave
 * (O_APPEND). */
#include "common/base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/base/clock.h"

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

static char *log_digits(char *p, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10) p[i] = (char)('0' + v % 10);
    return p + n;
}

void log_timestamp(char out[32], long long wall_ms)
{
    /* Days to a civil date: H. Hinnant's civil_from_days (proleptic
     * Gregorian, exact for every day); no gmtime_r, strftime or printf on
     * the per-event path. */
    long long secs = wall_ms / 1000, ms = wall_ms % 1000;
    if (ms < 0) ms += 1000, secs--;
    long long days = secs / 86400, sod = secs % 86400;
    if (sod < 0) sod += 86400, days--;
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    long long y = (long long)yoe + era * 400 + (m <= 2);
    char *p = out;
    if (y >= 0 && y <= 9999) p = log_digits(p, (unsigned)y, 4);
    else p += snprintf(p, 12, "%lld", y);
    *p++ = '-';
    p = log_digits(p, m, 2);
    *p++ = '-';
    p = log_digits(p, d, 2);
    *p++ = 'T';
    p = log_digits(p, (unsigned)(sod / 3600), 2);
    *p++ = ':';
    p = log_digits(p, (unsigned)(sod / 60 % 60), 2);
    *p++ = ':';
    p = log_digits(p, (unsigned)(sod % 60), 2);
    *p++ = '.';
    p = log_digits(p, (unsigned)ms, 3);
    *p++ = 'Z';
    *p = '\0';
}

static const char *const log_names[] = {"DEBUG", "INFO", "ERROR"};

void log_write(int level, const char *route, const char *rid, json_object *extra,
               const char *fmt, ...)
{
    char line[8192];
    log_timestamp(line, (long long)clk_wall_ms());
    int n = (int)strlen(line);
    int has_rid = rid && *rid;
    n += snprintf(line + n, sizeof(line) - (size_t)n, " %s [%s%s%s] ", log_names[level < 0 ? 0 : level > 2 ? 2 : level], route ? route : "app",
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
