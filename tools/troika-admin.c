/* troika-admin.c: the operator's tool: catalog import, demo/benchmark
 * catalog generation, vector index build, and statistics. It reads the same
 * config as troika-fcgi (-c FILE, else $TROIKA_CONFIG, else the build's
 * default path) and talks to the same database and index folder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "troika_build.h"
#include "troika_paths.h"
#include "common/base/config.h"
#include "common/base/log.h"
#include "common/store/store.h"
#include "tools/admin.h"

static const char adm_usage[] =
    "Usage: troika-admin [-c FILE] COMMAND [OPTIONS]\n"
    "\n"
    "Manages Troika's product catalog, its vector index and the chatbots. It\n"
    "reads the same config as troika-fcgi: -c FILE, else $TROIKA_CONFIG, else\n"
    "  " TROIKA_DEFAULT_CONFIG "\n"
    "and every key can be overridden from the environment (DB_HOST, INDEX_DIR, ...).\n"
    "\n"
    "Commands:\n"
    "  import-products FILE [--format jsonl|csv] [--dry-run] [--json]\n"
    "      Upserts products by sku from JSON Lines (one object per line) or CSV\n"
    "      with the same column names (header row first; array cells separated\n"
    "      by '|', ',' or ';'). Prints how many were inserted, updated, unchanged\n"
    "      and rejected, with each rejected line's number and reason. A bad line\n"
    "      never stops the others; running the same file again changes nothing.\n"
    "      --dry-run checks and classifies without writing. --json prints the\n"
    "      summary as one JSON object. Exit status 0, or 3 when lines were\n"
    "      rejected (the rest were imported), 1 on a fatal error.\n"
    "  gen-catalog [--count N] [--seed S] [--format jsonl|csv] [--out FILE]\n"
    "      Writes a generated Indian designer-fashion catalog (lehengas, sarees,\n"
    "      kurtas, sherwanis, ...) for demos and benchmarks to stdout or FILE.\n"
    "      The same count and seed always give the same catalog.\n"
    "      Defaults: --count 5000 --seed 1 --format jsonl.\n"
    "  build-index [--batch N] [--if-stale]\n"
    "      Embeds every product (\"title. category. designer. colours. tags.\n"
    "      description\") with the configured embedder and writes the vector\n"
    "      index 'products' into index_dir. Running workers pick it up at their\n"
    "      next search; no restart needed. --if-stale does nothing when the\n"
    "      index already holds the current catalog, built by the configured\n"
    "      embedder. --batch: texts per embedding call (embedding_batch).\n"
    "  stats [--json]\n"
    "      Catalog figures (products, stock, categories, designers, prices) and\n"
    "      the state of the vector index.\n"
    "  chatbot-create ID [--name NAME]\n"
    "      Creates the chatbot ID (1-64 of A-Z a-z 0-9 _ -) ahead of its first\n"
    "      upload (uploads create it too), or sets the name of an existing one.\n"
    "  chatbot-list\n"
    "      Each chatbot with its uploaded files, chunks, tokens and the vector\n"
    "      count of its index (chatbot-<id> in index_dir).\n"
    "  files list CHATBOT_ID | files show FILE_ID | files delete FILE_ID\n"
    "      A chatbot's uploaded files; one file; deleting one with its chunks\n"
    "      and vectors, all or nothing (the index is rebuilt without them).\n"
    "  key create (--chatbot ID | --all-chatbots) --scope upload|manage|admin\n"
    "             [--name TEXT] [--json]\n"
    "      Makes an API key and prints it once (the database keeps only its\n"
    "      SHA-256). upload < manage < admin: each scope includes the ones\n"
    "      before it. A key for one chatbot gets 403 on any other.\n"
    "  key list [--json] | key revoke KEY_ID\n"
    "      The keys (id, prefix, scopes, chatbot, created, last used, revoked);\n"
    "      revoking one refuses it from the next request on.\n"
    "  origin add|remove CHATBOT_ID ORIGIN | origin list [CHATBOT_ID]\n"
    "      The origins (https://shop.example) whose pages may call the API for\n"
    "      that chatbot from a browser (CORS), besides cors_allowed_origins.\n"
    "  sessions prune [--older-than-days N] [--dry-run]\n"
    "      Deletes the chat and sales-agent sessions, with their messages, not\n"
    "      used for session_retention_days (or N) days. Run it daily (cron).\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   config file\n"
    "  -h, --help          this text\n"
    "  -V, --version       print the version\n"
    "\n"
    "Typical use:\n"
    "  troika-admin gen-catalog --count 5000 --seed 1 > catalog.jsonl\n"
    "  troika-admin import-products catalog.jsonl\n"
    "  troika-admin build-index\n"
    "  troika-admin stats\n";

struct store *adm_store(struct adm *a)
{
    char err[512];
    if (!a->store) a->store = st_open(&a->cfg, err, sizeof(err));
    if (!a->store) {
        fprintf(stderr, "troika-admin: %s\n", err);
        return NULL;
    }
    if (st_connect(a->store, err, sizeof(err)) != ST_OK) {
        fprintf(stderr, "troika-admin: cannot connect to the database %s as %s on %s: %s\n", a->cfg.db_name,
                a->cfg.db_user, a->cfg.db_socket[0] ? a->cfg.db_socket : a->cfg.db_host, err);
        fprintf(stderr, "troika-admin: config: %s\n", a->cfg_path ? a->cfg_path : "(defaults + environment)");
        return NULL;
    }
    return a->store;
}

struct adm_cmd {
    const char *name;
    int (*fn)(struct adm *a, int argc, char **argv);
    int needs_config;
};

static const struct adm_cmd adm_cmds[] = {
    {"import-products", adm_import, 1},
    {"gen-catalog", adm_gen_catalog, 0},
    {"build-index", adm_build_index, 1},
    {"stats", adm_stats, 1},
    {"chatbot-create", adm_chatbot_create, 1},
    {"chatbot-list", adm_chatbot_list, 1},
    {"files", adm_files, 1},
    {"key", adm_key, 1},
    {"origin", adm_origin, 1},
    {"sessions", adm_sessions, 1},
};

int main(int argc, char **argv)
{
    static struct adm a;
    const char *path = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(adm_usage, stdout);
            return ADM_OK;
        } else if (!strcmp(o, "-V") || !strcmp(o, "--version")) {
            puts("troika-admin (" PACKAGE_STRING ")");
            return ADM_OK;
        } else if ((!strcmp(o, "-c") || !strcmp(o, "--config")) && i + 1 < argc) {
            path = argv[++i];
        } else if (!strncmp(o, "--config=", 9)) {
            path = o + 9;
        } else {
            fprintf(stderr, "troika-admin: unknown option %s\n\n%s", o, adm_usage);
            return ADM_USAGE;
        }
    }
    if (i >= argc) {
        fputs(adm_usage, stderr);
        return ADM_USAGE;
    }
    const struct adm_cmd *cmd = NULL;
    for (size_t k = 0; k < sizeof(adm_cmds) / sizeof(adm_cmds[0]); k++)
        if (!strcmp(adm_cmds[k].name, argv[i])) cmd = &adm_cmds[k];
    if (!cmd) {
        fprintf(stderr, "troika-admin: unknown command '%s'\n\n%s", argv[i], adm_usage);
        return ADM_USAGE;
    }

    if (!path) {
        /* As troika-fcgi: no file at the built-in default means defaults + environment. */
        struct stat st;
        path = cfg_default_path();
        if (!getenv("TROIKA_CONFIG") && stat(path, &st) != 0) path = NULL;
    }
    char err[700];
    cfg_defaults(&a.cfg);
    if (cfg_load(&a.cfg, path, err, sizeof(err)) < 0) {
        fprintf(stderr, "troika-admin: config error: %s\n", err);
        return ADM_FAIL;
    }
    if (cmd->needs_config && !path)
        fprintf(stderr, "troika-admin: note: no config file at %s; using defaults and the environment\n",
                cfg_default_path());
    a.cfg_path = path;
    /* Library code logs through log.h; the tool's own output is its stdout. */
    log_open("", LOG_LVL_ERROR);
    a.ar = ar_new(1 << 20);
    if (!a.ar) {
        fprintf(stderr, "troika-admin: out of memory\n");
        return ADM_FAIL;
    }
    int rc = cmd->fn(&a, argc - i, argv + i);
    st_close(a.store);
    ar_free(a.ar);
    return rc;
}
