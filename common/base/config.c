/* config.c: the config table and its parsers. Adding a key is one line in
 * cfg_table (plus its field in struct cfg and its default). */
#include "common/base/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base/addr.h"
#include "common/base/log.h"
#include "common/base/origin.h"
#include "troika_build.h"
#include "troika_paths.h"

#ifndef TROIKA_DATADIR
#define TROIKA_DATADIR "/usr/local/share/troika"
#endif
#ifndef TROIKA_DEFAULT_CONFIG
#define TROIKA_DEFAULT_CONFIG "/etc/troika/troika.conf"
#endif

enum cfg_type { CT_STR, CT_INT, CT_BOOL, CT_SIZE, CT_MODE, CT_LOGLEVEL, CT_DOUBLE, CT_CHOICE };

struct cfg_key {
    const char *def;     /* default as config text, parsed like the file; NULL: zero/empty */
    const char *name;
    enum cfg_type type;
    size_t offset;
    size_t size;   /* for CT_STR: capacity */
    long min, max; /* for numbers */
    const char *choices;    /* for CT_CHOICE: "a|b|c" */
};

#define S(k, df) {.name = #k, .type = CT_STR, .offset = offsetof(struct cfg, k), .size = sizeof(((struct cfg *)0)->k), .def = df}
#define I(k, lo, hi, df) {.name = #k, .type = CT_INT, .offset = offsetof(struct cfg, k), .size = sizeof(int), .min = lo, .max = hi, .def = df}
#define B(k, df) {.name = #k, .type = CT_BOOL, .offset = offsetof(struct cfg, k), .size = sizeof(int), .min = 0, .max = 1, .def = df}
/* sizes: a long field, or an int one for sizes that fit */
#define Z(k, lo, hi, df) {.name = #k, .type = CT_SIZE, .offset = offsetof(struct cfg, k), .size = sizeof(((struct cfg *)0)->k), .min = lo, .max = hi, .def = df}
/* Doubles: bounds are given in thousandths (lo/1000 .. hi/1000). */
#define D(k, lo, hi, df) {.name = #k, .type = CT_DOUBLE, .offset = offsetof(struct cfg, k), .size = sizeof(double), .min = lo, .max = hi, .def = df}
#define C(k, list, df) {.name = #k, .type = CT_CHOICE, .offset = offsetof(struct cfg, k), .size = sizeof(((struct cfg *)0)->k), .choices = list, .def = df}

static const struct cfg_key cfg_table[] = {
    S(listen, "127.0.0.1:9000"),
    {.name = "listen_mode", .type = CT_MODE, .offset = offsetof(struct cfg, listen_mode), .size = sizeof(int), .max = 0777, .def = "0660"},
    I(listen_backlog, 1, 65535, "128"),
    I(workers, 1, 1024, "4"),
    I(max_requests, 0, INT_MAX, "1000"),
    S(pid_file, NULL),
    I(drain_timeout_ms, 0, 3600000, "30000"),
    I(request_terminate_timeout_ms, 0, 86400000, "300000"),
    S(base_path, NULL),
    S(shm_path, "/tmp/troika.shm"),
    I(scoreboard_slots, 4, 65536, "256"),
    I(respawn_backoff_max_ms, 100, 3600000, "30000"),
    I(crash_storm_deaths, 1, 100000, "10"),
    I(crash_storm_window_ms, 1000, 86400000, "60000"),
    I(request_terminate_grace_ms, 100, 600000, "2000"),
    S(log_file, NULL),
    {.name = "log_level", .type = CT_LOGLEVEL, .offset = offsetof(struct cfg, log_level), .size = sizeof(int), .def = "INFO"},
    S(db_host, "127.0.0.1"),
    I(db_port, 0, 65535, "3306"),
    S(db_socket, NULL),
    S(db_user, "troika"),
    S(db_password, NULL),
    S(db_name, "troika"),
    I(db_connect_timeout_ms, 100, 600000, "2000"),
    I(db_read_timeout_ms, 100, 3600000, "10000"),
    B(streaming_enabled, "1"),
    I(streaming_timeout, 100, 86400000, "30000"),
    I(streaming_chunk_size, 64, 1048576, "1024"),
    I(streaming_heartbeat_ms, 50, 3600000, "15000"),
    I(streaming_rate_limit, 1, 1000000, "30"),
    I(streaming_window_ms, 100, 86400000, "60000"),
    S(streaming_rate_whitelist, NULL),
    I(max_requests_per_client, 0, 65536, "0"),
    I(busy_timeout_ms, 0, 3600000, "1000"),
    S(trusted_proxies, NULL),
    S(proxy_header, "X-Forwarded-For"),
    I(rate_limit_table_size, 16, 16777216, "8192"),
    Z(max_json_body, 256, 1L << 30, "65536"),
    I(body_timeout_ms, 100, 3600000, "10000"),
    I(upload_timeout_ms, 1000, 86400000, "120000"),
    I(extract_timeout_ms, 100, 3600000, "20000"),
    Z(extract_memory, 16L << 20, 1L << 40, "512M"),
    Z(max_upload, 1024, 1L << 34, "10485760"),
    Z(max_query_string, 256, 1L << 20, "8192"),
    I(max_multipart_parts, 1, 1000, "16"),
    Z(max_part_headers, 256, 1048576, "8192"),
    S(index_dir, "/var/lib/troika/index"),
    S(currency, "INR"),
    S(embedding_provider, "builtin"),
    S(embedding_url, "https://api.openai.com"),
    S(embedding_model, "text-embedding-3-small"),
    S(embedding_api_key, NULL),
    I(embedding_dim, 8, 8192, "384"),
    I(embedding_timeout_ms, 100, 600000, "10000"),
    I(embedding_connect_timeout_ms, 100, 600000, "2000"),
    I(embedding_batch, 1, 2048, "64"),
    S(search_rank_method, "rrf"),
    I(search_rrf_k, 1, 100000, "60"),
    D(search_text_weight, 0, 1000, "0.5"),
    I(search_text_candidates, 1, 10000, "200"),
    I(search_result_cap, 1, 1000000, "10000"),
    I(search_vector_candidates, 1, 10000, "100"),
    I(search_nprobe, 0, 65536, "0"),
    D(search_min_vector_score, -1000, 1000, "0.2"),
#ifdef TROIKA_TEST_HOOKS
    I(search_step_delay_ms, 0, 60000, "0"),
#endif
    D(aza_min_score, 0, 1000, "0.3"),
    I(aza_candidates, 1, 10000, "100"),
    I(aza_max_candidates, 1, 100000, "1000"),
    C(llm_provider, "builtin|openai", "builtin"),
    S(llm_url, "https://api.openai.com"),
    S(llm_model, "gpt-4o-mini"),
    S(llm_api_key, NULL),
    I(llm_connect_timeout_ms, 100, 600000, "3000"),
    I(llm_timeout_ms, 100, 3600000, "60000"),
    I(llm_stall_timeout_ms, 100, 3600000, "15000"),
    I(llm_max_tokens, 1, 1000000, "512"),
    D(llm_temperature, 0, 2000, "0.2"),
    C(tts_provider, "builtin|openai", "builtin"),
    S(tts_url, "https://api.openai.com"),
    S(tts_model, "tts-1"),
    S(tts_api_key, NULL),
    S(tts_voice, NULL),
    S(tts_voices, NULL),
    I(tts_timeout_ms, 100, 600000, "15000"),
    I(chat_history_turns, 0, 100, "6"),
    I(chat_top_k, 1, 50, "5"),
    D(chat_min_score, -1000, 1000, "0.1"),
    S(upload_api_keys, NULL),
    S(tokenizer_file, TROIKA_DATADIR "/cl100k_base.json"),
    I(chunk_tokens, 32, 8192, "512"),
    I(chunk_overlap, 0, 4096, "64"),
#ifdef TROIKA_TEST_HOOKS
    S(upload_fault, NULL),
#endif
    S(cors_allowed_origins, NULL),
    I(cors_max_age, 0, 86400, "600"),
    S(ops_allowed_networks, "127.0.0.0/8, ::1"),
    I(session_idle_timeout_s, 0, INT_MAX, "86400"),
    I(session_retention_days, 0, 36500, "30"),
    I(troika_results, 1, 50, "6"),
    I(troika_history_turns, 0, 50, "6"),
    I(troika_budget_relax_pct, 0, 500, "20"),
    I(troika_designer_refresh_ms, 0, 86400000, "60000"),
    B(troika_llm_refine, "1"),};

#undef S
#undef I
#undef B
#undef Z
#undef D
#undef C

void cfg_defaults(struct cfg *c)
{
    memset(c, 0, sizeof(*c));
    /* Each default is text in its table row, parsed and checked like a
     * value from the file; a bad default is a build bug, caught at once. */
    for (size_t i = 0; i < sizeof(cfg_table) / sizeof(cfg_table[0]); i++) {
        char err[256];
        if (cfg_table[i].def && cfg_set(c, cfg_table[i].name, cfg_table[i].def, err, sizeof(err)) < 0) {
            fprintf(stderr, "troika: bad built-in default: %s\n", err);
            abort();
        }
    }
}

static const struct cfg_key *cfg_find(const char *key)
{
    for (size_t i = 0; i < sizeof(cfg_table) / sizeof(cfg_table[0]); i++)
        if (strcasecmp(cfg_table[i].name, key) == 0) return &cfg_table[i];
    return NULL;
}

static int cfg_parse_long(const char *v, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v) return -1;
    while (isspace((unsigned char)*end)) end++;
    if (*end) return -1;
    *out = n;
    return 0;
}

/* Sizes accept a K/M/G suffix (powers of 1024). */
static int cfg_parse_size(const char *v, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || n < 0) return -1;
    long mul = 1;
    if (*end == 'k' || *end == 'K') mul = 1024L, end++;
    else if (*end == 'm' || *end == 'M') mul = 1024L * 1024, end++;
    else if (*end == 'g' || *end == 'G') mul = 1024L * 1024 * 1024, end++;
    if ((*end == 'b' || *end == 'B') && mul > 1) end++;
    while (isspace((unsigned char)*end)) end++;
    if (*end || n > LONG_MAX / mul) return -1;
    *out = n * mul;
    return 0;
}

/* ---- one parser per value type: the value text into the field ----------- */

static int cfg_put_str(const struct cfg_key *k, char *field, const char *value, char *err, size_t errlen)
{
    if (strlen(value) >= k->size) {
        snprintf(err, errlen, "%s: value is longer than %zu bytes", k->name, k->size - 1);
        return -1;
    }
    memcpy(field, value, strlen(value) + 1);
    return 0;
}

/* CT_INT and CT_SIZE ("64K", "10M"), into an int or a long field. */
static int cfg_put_number(const struct cfg_key *k, char *field, const char *value, char *err, size_t errlen)
{
    long n;
    if ((k->type == CT_INT ? cfg_parse_long(value, &n) : cfg_parse_size(value, &n)) < 0) {
        snprintf(err, errlen, "%s: '%s' is not a %s", k->name, value,
                 k->type == CT_INT ? "whole number" : "size (e.g. 65536, 64K, 10M)");
        return -1;
    }
    if (n < k->min || n > k->max) {
        snprintf(err, errlen, "%s: '%s' is out of range (%ld..%ld)", k->name, value, k->min, k->max);
        return -1;
    }
    if (k->size == sizeof(int)) *(int *)field = (int)n;
    else *(long *)field = n;
    return 0;
}

static int cfg_put_bool(const struct cfg_key *k, char *field, const char *value, char *err, size_t errlen)
{
    if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") || !strcasecmp(value, "on") || !strcmp(value, "1"))
        *(int *)field = 1;
    else if (!strcasecmp(value, "false") || !strcasecmp(value, "no") || !strcasecmp(value, "off") ||
             !strcmp(value, "0"))
        *(int *)field = 0;
    else {
        snprintf(err, errlen, "%s: '%s' is not a boolean (true/false)", k->name, value);
        return -1;
    }
    return 0;
}

/* A number; the key's range is in thousandths (min/max are longs). */
static int cfg_put_double(const struct cfg_key *k, char *field, const char *value, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double d = strtod(value, &end);
    while (isspace((unsigned char)*end)) end++;
    if (errno || end == value || *end || d != d) {
        snprintf(err, errlen, "%s: '%s' is not a number", k->name, value);
        return -1;
    }
    if (d < k->min / 1000.0 || d > k->max / 1000.0) {
        snprintf(err, errlen, "%s: '%s' is out of range (%g..%g)", k->name, value, k->min / 1000.0,
                 k->max / 1000.0);
        return -1;
    }
    *(double *)field = d;
    return 0;
}

static int cfg_put_mode(const struct cfg_key *k, char *field, const char *value, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long m = strtol(value, &end, 8);
    if (errno || end == value || *end || m < 0 || m > 0777) {
        snprintf(err, errlen, "%s: '%s' is not an octal file mode (e.g. 0660)", k->name, value);
        return -1;
    }
    *(int *)field = (int)m;
    return 0;
}

/* One of k->choices ("a|b|c"), any case, stored lower-case. */
static int cfg_put_choice(const struct cfg_key *k, char *field, const char *value, char *err, size_t errlen)
{
    size_t vl = strlen(value);
    for (const char *p = k->choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t cl = bar ? (size_t)(bar - p) : strlen(p);
        if (cl == vl && strncasecmp(p, value, cl) == 0 && cl < k->size) {
            for (size_t i = 0; i < cl; i++) field[i] = (char)tolower((unsigned char)value[i]);
            field[cl] = '\0';
            return 0;
        }
        p += cl + (bar ? 1 : 0);
    }
    snprintf(err, errlen, "%s: '%s' is not one of %s", k->name, value, k->choices);
    return -1;
}

static int cfg_put_loglevel(const struct cfg_key *k, char *field, const char *value, char *err, size_t errlen)
{
    int lvl = log_level_parse(value);
    if (lvl < 0) {
        snprintf(err, errlen, "%s: '%s' is not one of DEBUG, INFO, ERROR", k->name, value);
        return -1;
    }
    *(int *)field = lvl;
    return 0;
}

typedef int (*cfg_put_fn)(const struct cfg_key *k, char *field, const char *value, char *err, size_t errlen);

static const cfg_put_fn cfg_put[] = {
    [CT_STR] = cfg_put_str,       [CT_INT] = cfg_put_number,        [CT_BOOL] = cfg_put_bool,
    [CT_SIZE] = cfg_put_number,   [CT_MODE] = cfg_put_mode,         [CT_LOGLEVEL] = cfg_put_loglevel,
    [CT_DOUBLE] = cfg_put_double, [CT_CHOICE] = cfg_put_choice,
};

int cfg_set(struct cfg *c, const char *key, const char *value, char *err, size_t errlen)
{
    const struct cfg_key *k = cfg_find(key);
    if (!k) {
        if (!strcmp(key, "upload_fault") || !strcmp(key, "search_step_delay_ms"))
            snprintf(err, errlen, "%s: a test hook, only in a build configured with --enable-test-hooks", key);
        else
            snprintf(err, errlen, "unknown config key '%s'", key);
        return -1;
    }
    return cfg_put[k->type](k, (char *)c + k->offset, value, err, errlen);
}

static char *cfg_trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

static int cfg_read_file(struct cfg *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = cfg_read(c, f, path, err, errlen);
    fclose(f);
    return rc;
}

int cfg_read(struct cfg *c, FILE *f, const char *path, char *err, size_t errlen)
{
    char line[4096];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        char *s = cfg_trim(line);
        if (!*s || *s == '#') continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value', got '%s'", path, lineno, s);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = cfg_trim(s), *val = cfg_trim(eq + 1);
        /* Allow a trailing comment after whitespace, and optional quotes;
         * inside quotes a " #" is part of the value. */
        char *close = (*val == '"' || *val == '\'') ? strchr(val + 1, *val) : NULL;
        for (char *h = close ? close : val; (h = strchr(h, '#')) != NULL; h++) {
            if (h > val && isspace((unsigned char)h[-1])) {
                *h = '\0';
                val = cfg_trim(val);
                break;
            }
        }
        size_t vl = strlen(val);
        if (vl >= 2 && ((val[0] == '"' && val[vl - 1] == '"') || (val[0] == '\'' && val[vl - 1] == '\''))) {
            val[vl - 1] = '\0';
            val++;
        }
        char msg[600];
        if (cfg_set(c, key, val, msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
            rc = -1;
            break;
        }
    }
    return rc;
}

static int cfg_read_env(struct cfg *c, char *err, size_t errlen)
{
    char name[128];
    for (size_t i = 0; i < sizeof(cfg_table) / sizeof(cfg_table[0]); i++) {
        const char *key = cfg_table[i].name;
        for (int pass = 0; pass < 2; pass++) {
            size_t o = 0;
            if (pass == 1) o = (size_t)snprintf(name, sizeof(name), "TROIKA_");
            for (const char *p = key; *p && o < sizeof(name) - 1; p++)
                name[o++] = (char)toupper((unsigned char)*p);
            name[o] = '\0';
            const char *v = getenv(name);
            if (!v) continue;
            char msg[600];
            if (cfg_set(c, key, v, msg, sizeof(msg)) < 0) {
                snprintf(err, errlen, "environment %s: %s", name, msg);
                return -1;
            }
        }
    }
    return 0;
}

/* ---- cross-key checks, one concern each ------------------------------------ */

/* Where and how the server answers: the socket, the prefix, the stream's
 * clocks. */
static int cfg_check_serving(const struct cfg *c, char *err, size_t errlen)
{
    if (!c->listen[0]) {
        snprintf(err, errlen, "listen: must name a unix socket path or host:port");
        return -1;
    }
    if (c->base_path[0] && (c->base_path[0] != '/' || c->base_path[strlen(c->base_path) - 1] == '/')) {
        snprintf(err, errlen, "base_path: '%s' must start with '/' and not end with '/'", c->base_path);
        return -1;
    }
    if (c->streaming_heartbeat_ms >= c->streaming_timeout) {
        snprintf(err, errlen, "streaming_heartbeat_ms: '%d' must be less than streaming_timeout (%d)",
                 c->streaming_heartbeat_ms, c->streaming_timeout);
        return -1;
    }
    return 0;
}

/* What the host shares: the address lists, the shared file and what it
 * must hold. */
static int cfg_check_shared(const struct cfg *c, char *err, size_t errlen)
{
    char nerr[300];
    struct addr_nets nets;
    if (addr_nets_parse(c->streaming_rate_whitelist, &nets, nerr, sizeof(nerr)) < 0) {
        snprintf(err, errlen, "streaming_rate_whitelist: %s", nerr);
        return -1;
    }
    if (addr_nets_parse(c->trusted_proxies, &nets, nerr, sizeof(nerr)) < 0) {
        snprintf(err, errlen, "trusted_proxies: %s", nerr);
        return -1;
    }
    if (!c->shm_path[0]) {
        snprintf(err, errlen, "shm_path: must name a file (rate limits, metrics and the scoreboard live there)");
        return -1;
    }
    if (c->scoreboard_slots < 2 * c->workers + 2) {
        snprintf(err, errlen, "scoreboard_slots: '%d' must be at least 2 x workers + 2 (%d): a reload runs old and "
                 "new workers side by side", c->scoreboard_slots, 2 * c->workers + 2);
        return -1;
    }
    if ((double)c->rate_limit_table_size * (72.0 + 8.0 * c->streaming_rate_limit) > 1024.0 * 1024 * 1024) {
        snprintf(err, errlen, "rate_limit_table_size: '%d' entries of streaming_rate_limit %d admissions need more "
                 "than 1 GiB of shared memory", c->rate_limit_table_size, c->streaming_rate_limit);
        return -1;
    }
    return 0;
}

/* Ranking, money and the providers: a provider that needs a URL or a model
 * has one. */
static int cfg_check_providers(const struct cfg *c, char *err, size_t errlen)
{
    if (strcmp(c->search_rank_method, "rrf") != 0 && strcmp(c->search_rank_method, "weighted") != 0) {
        snprintf(err, errlen, "search_rank_method: '%s' is not one of rrf, weighted", c->search_rank_method);
        return -1;
    }
    if (!strcmp(c->llm_provider, "openai") && !c->llm_url[0]) {
        snprintf(err, errlen, "llm_url: must be set when llm_provider is openai");
        return -1;
    }
    if (!strcmp(c->tts_provider, "openai") && !c->tts_url[0]) {
        snprintf(err, errlen, "tts_url: must be set when tts_provider is openai");
        return -1;
    }
    if (strlen(c->currency) != 3) {
        snprintf(err, errlen, "currency: '%s' is not a 3-letter ISO 4217 code", c->currency);
        return -1;
    }
    if (strcmp(c->embedding_provider, "builtin") != 0 && strcmp(c->embedding_provider, "openai") != 0) {
        snprintf(err, errlen, "embedding_provider: '%s' is not one of builtin, openai", c->embedding_provider);
        return -1;
    }
    if (!strcmp(c->embedding_provider, "openai") &&
        strncmp(c->embedding_url, "http://", 7) != 0 && strncmp(c->embedding_url, "https://", 8) != 0) {
        snprintf(err, errlen, "embedding_url: '%s' must start with http:// or https://", c->embedding_url);
        return -1;
    }
    if (!strcmp(c->embedding_provider, "openai") && !c->embedding_model[0]) {
        snprintf(err, errlen, "embedding_model: must name a model when embedding_provider is openai");
        return -1;
    }
    return 0;
}

/* Who may call what: the origins browsers may call from, the networks
 * that see the host's internals, and sessions kept no longer than they
 * may be continued. */
static int cfg_check_access(const struct cfg *c, char *err, size_t errlen)
{
    char e[300];
    struct addr_nets nets;
    if (org_list_check(c->cors_allowed_origins, e, sizeof(e)) < 0) {
        snprintf(err, errlen, "cors_allowed_origins: %s", e);
        return -1;
    }
    if (addr_nets_parse(c->ops_allowed_networks, &nets, e, sizeof(e)) < 0) {
        snprintf(err, errlen, "ops_allowed_networks: %s", e);
        return -1;
    }
    if (c->session_retention_days && c->session_idle_timeout_s &&
        (long long)c->session_retention_days * 86400 < c->session_idle_timeout_s) {
        snprintf(err, errlen, "session_retention_days: '%d' days is shorter than session_idle_timeout_s (%d s): "
                 "sessions that may still be continued would be deleted", c->session_retention_days,
                 c->session_idle_timeout_s);
        return -1;
    }
    return 0;
}

/* Uploads: chunking, and the fault hook of test builds. */
static int cfg_check_upload(const struct cfg *c, char *err, size_t errlen)
{
    if (c->chunk_overlap > c->chunk_tokens / 2) {
        snprintf(err, errlen, "chunk_overlap: '%d' must be at most half of chunk_tokens (%d)", c->chunk_overlap,
                 c->chunk_tokens);
        return -1;
    }
#ifdef TROIKA_TEST_HOOKS
    static const char *const faults[] = {"", "extraction", "chunking", "token_counting", "embedding",
                                         "storing", "index", "commit"};
    int fault_ok = 0;
    for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
        if (!strcmp(c->upload_fault, faults[i])) fault_ok = 1;
    if (!fault_ok) {
        snprintf(err, errlen,
                 "upload_fault: '%s' is not one of extraction, chunking, token_counting, embedding, storing, "
                 "index, commit (or empty)", c->upload_fault);
        return -1;
    }
#endif
    return 0;
}

int cfg_check(const struct cfg *c, char *err, size_t errlen)
{
    if (cfg_check_serving(c, err, errlen) < 0 || cfg_check_shared(c, err, errlen) < 0 ||
        cfg_check_providers(c, err, errlen) < 0 || cfg_check_access(c, err, errlen) < 0 ||
        cfg_check_upload(c, err, errlen) < 0)
        return -1;
    return 0;
}

int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen)
{
    if (path && cfg_read_file(c, path, err, errlen) < 0) return -1;
    if (cfg_read_env(c, err, errlen) < 0) return -1;
    return cfg_check(c, err, errlen);
}

const char *cfg_default_path(void)
{
    const char *p = getenv("TROIKA_CONFIG");
    return p && *p ? p : TROIKA_DEFAULT_CONFIG;
}
