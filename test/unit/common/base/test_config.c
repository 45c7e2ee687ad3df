/* test_config.c: the config table (common/base/config.c): every kind of bad
 * value refused with the key and value named, the cross-key checks, the
 * file syntax, and the environment overriding the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base/config.h"
#include "common/base/log.h"
#include "test/unit/unit.h"

static void t_defaults(void)
{
    struct cfg c;
    char err[256] = "";
    cfg_defaults(&c);
    CU_ASSERT_EQUAL(cfg_check(&c, err, sizeof(err)), 0);
    /* SPEC section 4 and 6 defaults */
    CU_ASSERT_EQUAL(c.streaming_enabled, 1);
    CU_ASSERT_EQUAL(c.streaming_timeout, 30000);
    CU_ASSERT_EQUAL(c.streaming_chunk_size, 1024);
    CU_ASSERT_EQUAL(c.streaming_heartbeat_ms, 15000);
    CU_ASSERT_EQUAL(c.streaming_rate_limit, 30);
    CU_ASSERT_EQUAL(c.streaming_window_ms, 60000);
    CU_ASSERT_EQUAL(c.max_json_body, 64L * 1024);
    CU_ASSERT_EQUAL(c.max_upload, 10L * 1024 * 1024);
    CU_ASSERT_EQUAL(c.max_query_string, 8L * 1024);
    CU_ASSERT_EQUAL(c.max_multipart_parts, 16);
    CU_ASSERT_EQUAL(c.max_part_headers, 8 * 1024);
    CU_ASSERT_EQUAL(c.log_level, LOG_LVL_INFO);
}

static void t_set_good(void)
{
    struct cfg c;
    char err[256] = "";
    cfg_defaults(&c);
#define SET_OK(k, v) CU_ASSERT_EQUAL(cfg_set(&c, k, v, err, sizeof(err)), 0)
    SET_OK("workers", "8");
    CU_ASSERT_EQUAL(c.workers, 8);
    SET_OK("WORKERS", " 9 ");   /* keys are case-insensitive; blanks around numbers */
    CU_ASSERT_EQUAL(c.workers, 9);
    SET_OK("workers", "1");      /* both ends of the range */
    SET_OK("workers", "1024");
    CU_ASSERT_EQUAL(c.workers, 1024);
    SET_OK("max_requests", "0");
    SET_OK("listen_mode", "0600");
    CU_ASSERT_EQUAL(c.listen_mode, 0600);
    SET_OK("listen_mode", "755");
    CU_ASSERT_EQUAL(c.listen_mode, 0755);
    SET_OK("max_json_body", "128K");
    CU_ASSERT_EQUAL(c.max_json_body, 128L * 1024);
    SET_OK("max_json_body", "2kb");
    CU_ASSERT_EQUAL(c.max_json_body, 2048);
    SET_OK("max_upload", "20M");
    CU_ASSERT_EQUAL(c.max_upload, 20L * 1024 * 1024);
    SET_OK("max_upload", "1G");
    CU_ASSERT_EQUAL(c.max_upload, 1L << 30);
    SET_OK("max_part_headers", "16K");   /* a size kept in an int */
    CU_ASSERT_EQUAL(c.max_part_headers, 16 * 1024);
    SET_OK("max_query_string", "4096");
    CU_ASSERT_EQUAL(c.max_query_string, 4096);
    static const char *const yes[] = {"true", "TRUE", "yes", "On", "1"};
    static const char *const no[] = {"false", "False", "no", "OFF", "0"};
    for (size_t i = 0; i < 5; i++) {
        SET_OK("streaming_enabled", no[i]);
        CU_ASSERT_EQUAL(c.streaming_enabled, 0);
        SET_OK("streaming_enabled", yes[i]);
        CU_ASSERT_EQUAL(c.streaming_enabled, 1);
    }
    SET_OK("log_level", "debug");
    CU_ASSERT_EQUAL(c.log_level, LOG_LVL_DEBUG);
    SET_OK("log_level", "ERROR");
    CU_ASSERT_EQUAL(c.log_level, LOG_LVL_ERROR);
    SET_OK("db_password", "");
    CU_ASSERT_STRING_EQUAL(c.db_password, "");
    char longest[CFG_STR_MAX];
    memset(longest, 'p', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    SET_OK("index_dir", longest);   /* exactly the capacity */
    CU_ASSERT_EQUAL(strlen(c.index_dir), CFG_STR_MAX - 1);
#undef SET_OK
}

struct bad {
    const char *key, *value;
    const char *says;   /* a fragment the message must hold besides key and value */
};

/* Each bad value: -1, the message names the key and the value, and the
 * field keeps its old value. */
static void t_set_errors(void)
{
    static const struct bad bad[] = {
        {"workers", "abc", "whole number"},
        {"workers", "", "whole number"},
        {"workers", "12abc", "whole number"},
        {"workers", "1.5", "whole number"},
        {"workers", "0x10", "whole number"},
        {"workers", "99999999999999999999999", "whole number"},
        {"workers", "0", "out of range"},
        {"workers", "1025", "out of range"},
        {"workers", "-1", "out of range"},
        {"db_port", "65536", "out of range"},
        {"max_requests", "3000000000", "out of range"},
        {"streaming_chunk_size", "63", "out of range"},
        {"streaming_heartbeat_ms", "49", "out of range"},
        {"streaming_enabled", "maybe", "boolean"},
        {"streaming_enabled", "", "boolean"},
        {"streaming_enabled", "2", "boolean"},
        {"max_json_body", "64Q", "size"},
        {"max_json_body", "K", "size"},
        {"max_json_body", "-5", "size"},
        {"max_json_body", "12 K", "size"},
        {"max_json_body", "9999999999G", "size"},
        {"max_json_body", "255", "out of range"},
        {"max_json_body", "2G", "out of range"},
        {"max_upload", "17G", "out of range"},
        {"max_part_headers", "2M", "out of range"},
        {"max_part_headers", "8X", "size"},
        {"listen_mode", "0999", "octal"},
        {"listen_mode", "1777", "octal"},
        {"listen_mode", "rw-rw----", "octal"},
        {"listen_mode", "", "octal"},
        {"listen_mode", "-1", "octal"},
        {"log_level", "verbose", "DEBUG, INFO, ERROR"},
        {"log_level", "WARN", "DEBUG, INFO, ERROR"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cfg c, before;
        char err[512] = "";
        cfg_defaults(&c);
        before = c;
        int rc = cfg_set(&c, bad[i].key, bad[i].value, err, sizeof(err));
        CU_ASSERT_EQUAL(rc, -1);
        char quoted[128];
        snprintf(quoted, sizeof(quoted), "'%s'", bad[i].value);
        int ok = strstr(err, bad[i].key) && strstr(err, quoted) && strstr(err, bad[i].says);
        CU_ASSERT(ok);
        if (rc != -1 || !ok) fprintf(stderr, "\n  %s=%s: rc %d, '%s'\n", bad[i].key, bad[i].value, rc, err);
        CU_ASSERT(memcmp(&c, &before, sizeof(c)) == 0);
    }
}

static void t_set_unknown_and_long(void)
{
    struct cfg c;
    char err[512] = "";
    cfg_defaults(&c);
    CU_ASSERT_EQUAL(cfg_set(&c, "no_such_key", "1", err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'no_such_key'"));
    /* a prefix of a real key is not that key */
    CU_ASSERT_EQUAL(cfg_set(&c, "worker", "2", err, sizeof(err)), -1);
    CU_ASSERT_EQUAL(cfg_set(&c, "", "2", err, sizeof(err)), -1);

    /* Too long: the key and the limit are named. The value itself is not
     * repeated: it may be a password, and it is longer than a line. */
    char v[CFG_STR_MAX + 1];
    memset(v, 's', CFG_STR_MAX);
    v[CFG_STR_MAX] = '\0';
    CU_ASSERT_EQUAL(cfg_set(&c, "db_password", v, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "db_password"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "511"));
    CU_ASSERT_PTR_NULL(strstr(err, "ssssssss"));
    CU_ASSERT_STRING_EQUAL(c.db_password, "");
    /* currency is a small field: its own capacity applies */
    CU_ASSERT_EQUAL(cfg_set(&c, "currency", "ABCDEFGHIJKLMNOP", err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "currency"));
    CU_ASSERT_STRING_EQUAL(c.currency, "INR");
}

static void check_fails(struct cfg *c, const char *frag1, const char *frag2)
{
    char err[512] = "";
    CU_ASSERT_EQUAL(cfg_check(c, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, frag1));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, frag2));
}

static void t_check(void)
{
    struct cfg c;
    char err[512];
    static const char *const good_bases[] = {"", "/troika", "/a/b"};
    for (size_t i = 0; i < 3; i++) {
        cfg_defaults(&c);
        snprintf(c.base_path, sizeof(c.base_path), "%s", good_bases[i]);
        CU_ASSERT_EQUAL(cfg_check(&c, err, sizeof(err)), 0);
    }
    static const char *const bad_bases[] = {"troika", "/troika/", "/"};
    for (size_t i = 0; i < 3; i++) {
        cfg_defaults(&c);
        snprintf(c.base_path, sizeof(c.base_path), "%s", bad_bases[i]);
        char q[64];
        snprintf(q, sizeof(q), "'%s'", bad_bases[i]);
        check_fails(&c, "base_path", q);
    }

    cfg_defaults(&c);
    c.streaming_heartbeat_ms = c.streaming_timeout;   /* equal is too long too */
    check_fails(&c, "streaming_heartbeat_ms", "'30000'");
    cfg_defaults(&c);
    c.streaming_heartbeat_ms = 40000;
    check_fails(&c, "streaming_heartbeat_ms", "'40000'");
    cfg_defaults(&c);
    c.streaming_heartbeat_ms = c.streaming_timeout - 1;
    CU_ASSERT_EQUAL(cfg_check(&c, err, sizeof(err)), 0);

    cfg_defaults(&c);
    c.listen[0] = '\0';
    check_fails(&c, "listen", "");
    cfg_defaults(&c);
    snprintf(c.currency, sizeof(c.currency), "EURO");
    check_fails(&c, "currency", "'EURO'");

    /* access: origins are scheme://host[:port] or *, networks parse, retention covers the idle time */
    cfg_defaults(&c);
    snprintf(c.cors_allowed_origins, sizeof(c.cors_allowed_origins), "https://a.example, * http://127.0.0.1:8000");
    CU_ASSERT_EQUAL(cfg_check(&c, err, sizeof(err)), 0);
    snprintf(c.cors_allowed_origins, sizeof(c.cors_allowed_origins), "https://a.example/shop");
    check_fails(&c, "cors_allowed_origins", "has a path");
    cfg_defaults(&c);
    snprintf(c.ops_allowed_networks, sizeof(c.ops_allowed_networks), "10.0.0.0/33");
    check_fails(&c, "ops_allowed_networks", "10.0.0.0/33");
    cfg_defaults(&c);
    c.session_idle_timeout_s = 3 * 86400;
    c.session_retention_days = 2;
    check_fails(&c, "session_retention_days", "'2'");
    c.session_retention_days = 0;   /* kept forever */
    CU_ASSERT_EQUAL(cfg_check(&c, err, sizeof(err)), 0);
    c.session_retention_days = 3;
    CU_ASSERT_EQUAL(cfg_check(&c, err, sizeof(err)), 0);
}

/* The tests below read the environment through cfg_load: clear what the
 * shell running them may have set for the keys they look at. */
static void env_clear(void)
{
    static const char *const keys[] = {
        "WORKERS", "STREAMING_TIMEOUT", "STREAMING_HEARTBEAT_MS", "STREAMING_ENABLED",
        "STREAMING_CHUNK_SIZE", "STREAMING_RATE_LIMIT", "DB_NAME", "DB_USER", "DB_PASSWORD",
        "DB_SOCKET", "INDEX_DIR", "BASE_PATH", "MAX_JSON_BODY", "LOG_LEVEL", "PROXY_HEADER",
        "LISTEN_MODE", "LISTEN", "CURRENCY",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char name[64];
        unsetenv(keys[i]);
        snprintf(name, sizeof(name), "TROIKA_%s", keys[i]);
        unsetenv(name);
    }
}

/* Writes text to a fresh temporary file; returns its path (static). */
static const char *tmpconf(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/troika-unit-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n) {
        close(fd);
        return NULL;
    }
    close(fd);
    return path;
}

static void t_file(void)
{
    env_clear();
    const char *path = tmpconf(
        "# Troika test config\n"
        "   # an indented comment\n"
        "\n"
        "workers = 3\n"
        "WORKERS = 5            # a later line wins; keys ignore case\n"
        "  Streaming_Timeout=4000\n"
        "streaming_heartbeat_ms = 1000\n"
        "db_name = 'shop'       # quotes are removed\n"
        "db_user = \"app user\"\n"
        "db_password = \"p#ss word\"\n"
        "db_socket = \"secret #1\"   # a hash after a blank inside quotes is data\n"
        "index_dir = /var/lib/x#y\n"
        "base_path = /troika\t# a comment after a tab\n"
        "max_json_body = 128K\n"
        "log_level = debug\n"
        "streaming_enabled = off\n"
        "proxy_header =\n"
        "\tlisten_mode\t=\t0600\t\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    struct cfg c;
    char err[512] = "";
    cfg_defaults(&c);
    int rc = cfg_load(&c, path, err, sizeof(err));
    unlink(path);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc) fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_EQUAL(c.workers, 5);
    CU_ASSERT_EQUAL(c.streaming_timeout, 4000);
    CU_ASSERT_EQUAL(c.streaming_heartbeat_ms, 1000);
    CU_ASSERT_STRING_EQUAL(c.db_name, "shop");
    CU_ASSERT_STRING_EQUAL(c.db_user, "app user");
    CU_ASSERT_STRING_EQUAL(c.db_password, "p#ss word");
    CU_ASSERT_STRING_EQUAL(c.db_socket, "secret #1");
    CU_ASSERT_STRING_EQUAL(c.index_dir, "/var/lib/x#y");
    CU_ASSERT_STRING_EQUAL(c.base_path, "/troika");
    CU_ASSERT_EQUAL(c.max_json_body, 128L * 1024);
    CU_ASSERT_EQUAL(c.log_level, LOG_LVL_DEBUG);
    CU_ASSERT_EQUAL(c.streaming_enabled, 0);
    CU_ASSERT_STRING_EQUAL(c.proxy_header, "");
    CU_ASSERT_EQUAL(c.listen_mode, 0600);
    /* untouched keys keep their defaults */
    CU_ASSERT_EQUAL(c.streaming_chunk_size, 1024);
}

/* A file that must be refused; with_path: the message names the file
 * (cross-key checks run after every source and name only keys). */
static void file_fails(const char *text, const char *frag1, const char *frag2, int with_path)
{
    const char *path = tmpconf(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    char saved[64];
    snprintf(saved, sizeof(saved), "%s", path);
    struct cfg c;
    char err[512] = "";
    cfg_defaults(&c);
    int rc = cfg_load(&c, saved, err, sizeof(err));
    unlink(saved);
    CU_ASSERT_EQUAL(rc, -1);
    if (with_path) CU_ASSERT_PTR_NOT_NULL(strstr(err, saved));
    int ok = strstr(err, frag1) && strstr(err, frag2);
    CU_ASSERT(ok);
    if (!ok) fprintf(stderr, "\n  got '%s'\n", err);
}

static void t_file_errors(void)
{
    env_clear();
    file_fails("workers = 2\nthis line has no equals sign\n", ":2:", "key = value", 1);
    file_fails("# ok\n\nworkers = many\n", ":3:", "workers: 'many' is not a whole number", 1);
    file_fails("colour = blue\n", ":1:", "unknown config key 'colour'", 1);
    file_fails("log_level = loud   # trailing comment\n", ":1:", "log_level: 'loud'", 1);
    file_fails("streaming_enabled = \"sometimes\"\n", ":1:", "'sometimes'", 1);
    /* cross-key checks run after the file */
    file_fails("streaming_timeout = 1000\nstreaming_heartbeat_ms = 1000\n", "streaming_heartbeat_ms", "'1000'", 0);
    file_fails("base_path = api/\n", "base_path", "'api/'", 0);

    struct cfg c;
    char err[512] = "";
    cfg_defaults(&c);
    CU_ASSERT_EQUAL(cfg_load(&c, "/nonexistent/troika.conf", err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/troika.conf"));
}

static void t_env(void)
{
    env_clear();
    const char *path = tmpconf("workers = 3\ndb_name = fromfile\nstreaming_rate_limit = 10\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    char saved[64];
    snprintf(saved, sizeof(saved), "%s", path);
    struct cfg c;
    char err[512] = "";

    /* UPPER(key) overrides the file */
    setenv("WORKERS", "7", 1);
    setenv("STREAMING_ENABLED", "false", 1);
    cfg_defaults(&c);
    CU_ASSERT_EQUAL(cfg_load(&c, saved, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(c.workers, 7);
    CU_ASSERT_EQUAL(c.streaming_enabled, 0);
    CU_ASSERT_STRING_EQUAL(c.db_name, "fromfile");
    CU_ASSERT_EQUAL(c.streaming_rate_limit, 10);

    /* TROIKA_UPPER(key) overrides both */
    setenv("TROIKA_WORKERS", "9", 1);
    setenv("TROIKA_DB_NAME", "fromenv", 1);
    cfg_defaults(&c);
    CU_ASSERT_EQUAL(cfg_load(&c, saved, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(c.workers, 9);
    CU_ASSERT_STRING_EQUAL(c.db_name, "fromenv");

    /* a bad environment value names the variable, the key and the value */
    setenv("TROIKA_STREAMING_CHUNK_SIZE", "lots", 1);
    cfg_defaults(&c);
    CU_ASSERT_EQUAL(cfg_load(&c, saved, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "TROIKA_STREAMING_CHUNK_SIZE"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "streaming_chunk_size"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'lots'"));
    unsetenv("TROIKA_STREAMING_CHUNK_SIZE");

    /* the environment alone, without a file; the cross-key check sees it */
    setenv("STREAMING_HEARTBEAT_MS", "60000", 1);
    cfg_defaults(&c);
    CU_ASSERT_EQUAL(cfg_load(&c, NULL, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "streaming_heartbeat_ms"));
    unsetenv("STREAMING_HEARTBEAT_MS");

    unsetenv("WORKERS");
    unsetenv("STREAMING_ENABLED");
    unsetenv("TROIKA_WORKERS");
    unsetenv("TROIKA_DB_NAME");
    unlink(saved);

    /* the default path follows TROIKA_CONFIG */
    setenv("TROIKA_CONFIG", "/tmp/elsewhere.conf", 1);
    CU_ASSERT_STRING_EQUAL(cfg_default_path(), "/tmp/elsewhere.conf");
    setenv("TROIKA_CONFIG", "", 1);
    CU_ASSERT_STRING_NOT_EQUAL(cfg_default_path(), "");
    unsetenv("TROIKA_CONFIG");
}

/* The shipped conf/troika.conf is accepted as it stands. */
static void t_shipped_file(void)
{
    env_clear();
    struct cfg c, d;
    char err[512] = "";
    cfg_defaults(&c);
    cfg_defaults(&d);
    int rc = cfg_load(&c, TROIKA_TEST_SRCDIR "/conf/troika.conf", err, sizeof(err));
    CU_ASSERT_EQUAL(rc, 0);
    if (rc) fprintf(stderr, "\n  %s\n", err);
    /* it documents the defaults of the spec */
    CU_ASSERT_EQUAL(c.streaming_timeout, d.streaming_timeout);
    CU_ASSERT_EQUAL(c.streaming_chunk_size, d.streaming_chunk_size);
    CU_ASSERT_EQUAL(c.streaming_heartbeat_ms, d.streaming_heartbeat_ms);
    CU_ASSERT_EQUAL(c.max_json_body, d.max_json_body);
    CU_ASSERT_EQUAL(c.max_upload, d.max_upload);
    CU_ASSERT_EQUAL(c.max_query_string, d.max_query_string);
    CU_ASSERT_EQUAL(c.max_part_headers, d.max_part_headers);
}

void register_config(void)
{
    static const struct unit_case cases[] = {
        {"defaults pass the checks and match the spec", t_defaults},
        {"set: every type, range ends, case-insensitive keys", t_set_good},
        {"set: bad int/bool/size/mode/level name key and value", t_set_errors},
        {"set: unknown key, too-long string", t_set_unknown_and_long},
        {"check: base_path, heartbeat vs timeout, listen, currency, access", t_check},
        {"file: comments, quotes, trailing comments, later lines win", t_file},
        {"file: errors name file, line, key and value", t_file_errors},
        {"environment: UPPER, then TROIKA_UPPER; errors name the variable", t_env},
        {"the shipped conf/troika.conf loads and passes the checks", t_shipped_file},
        {NULL, NULL},
    };
    unit_suite("config", cases);
}
