/* log.h: one line per event: `<time> <LEVEL> [<route>-<requestId>] <message> {json}`.
 *
 * The LOG_* macros test the level before evaluating their arguments, so a
 * disabled level costs one comparison. The log file is reopened on request
 * (SIGUSR1) with log_reopen(). Callers never pass keys, passwords or
 * uploaded content. Process-wide state: set once at start-up. */
#ifndef TROIKA_LOG_H
#define TROIKA_LOG_H

struct json_object;

enum { LOG_LVL_DEBUG = 0, LOG_LVL_INFO = 1, LOG_LVL_ERROR = 2 };

extern int log_level_current;

/* Opens `path` for appending ("" or NULL: stderr). 0 or -1. */
int log_open(const char *path, int level);
/* Reopens the same path (after logrotate moved it). */
int log_reopen(void);
/* "DEBUG"/"INFO"/"ERROR" (any case) to a level, or -1. */
int log_level_parse(const char *s);

/* UTC time `wall_ms` (ms since the epoch) as "YYYY-MM-DDTHH:MM:SS.mmmZ":
 * the one formatter of the log lines and the events' `timestamp`. Pure. */
void log_timestamp(char out[32], long long wall_ms);

/* Borrowed extra: serialized on one line, may be NULL. */
void log_write(int level, const char *route, const char *rid, struct json_object *extra,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define LOG_AT(lvl, route, rid, extra, ...)                                    \
    do {                                                                       \
        if ((lvl) >= log_level_current) log_write(lvl, route, rid, extra, __VA_ARGS__); \
    } while (0)
#define LOG_DEBUG(route, rid, extra, ...) LOG_AT(LOG_LVL_DEBUG, route, rid, extra, __VA_ARGS__)
#define LOG_INFO(route, rid, extra, ...) LOG_AT(LOG_LVL_INFO, route, rid, extra, __VA_ARGS__)
#define LOG_ERROR(route, rid, extra, ...) LOG_AT(LOG_LVL_ERROR, route, rid, extra, __VA_ARGS__)

#endif
