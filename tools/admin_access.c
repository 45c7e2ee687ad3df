/* admin_access.c: troika-admin key, origin and sessions: API keys with
 * scopes (created, listed, revoked; a key is printed once and the database
 * keeps only its SHA-256), the origins a chatbot's pages may call from
 * (CORS), and the sessions' retention job. docs/access.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/id.h"
#include "common/base/origin.h"
#include "common/base/sha256.h"
#include "common/store/access.h"
#include "common/store/context.h"
#include "common/store/session.h"
#include "tools/admin.h"

enum { ADM_KEY_BYTES = 32, ADM_KEY_ID_BYTES = 6, ADM_KEY_PREFIX = 12 };

static const char adm_key_usage[] =
    "usage: troika-admin key create (--chatbot ID | --all-chatbots) --scope upload|manage|admin [--name TEXT] [--json]\n"
    "       troika-admin key list [--json]\n"
    "       troika-admin key revoke KEY_ID\n";

static int adm_key_create(struct adm *a, int argc, char **argv)
{
    const char *bot = NULL, *scope = NULL, *name = NULL;
    int all = 0, json = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--chatbot") && i + 1 < argc) bot = argv[++i];
        else if (!strcmp(argv[i], "--all-chatbots")) all = 1;
        else if (!strcmp(argv[i], "--scope") && i + 1 < argc) scope = argv[++i];
        else if (!strcmp(argv[i], "--name") && i + 1 < argc) name = argv[++i];
        else if (!strcmp(argv[i], "--json")) json = 1;
        else return fprintf(stderr, "troika-admin key create: unexpected '%s'\n%s", argv[i], adm_key_usage), ADM_USAGE;
    }
    unsigned scopes = scope ? acc_scopes_parse(scope) : 0;
    if (!scopes)
        return fprintf(stderr, "troika-admin key create: --scope must be upload, manage or admin\n%s", adm_key_usage),
               ADM_USAGE;
    if (!!bot == all)
        return fprintf(stderr, "troika-admin key create: give --chatbot ID or --all-chatbots\n%s", adm_key_usage),
               ADM_USAGE;
    if (bot && !cx_chatbot_id_ok(bot))
        return fprintf(stderr, "troika-admin key create: '%s': a chatbot id is 1-64 of A-Z a-z 0-9 _ -\n", bot),
               ADM_USAGE;
    if (name && strlen(name) > 255)
        return fprintf(stderr, "troika-admin key create: the name is longer than 255 bytes\n"), ADM_USAGE;
    struct store *st = adm_store(a);
    if (!st) return ADM_FAIL;
    /* trk_ + 256 random bits; a public id to name it by */
    char key[4 + 2 * ADM_KEY_BYTES + 1] = "trk_", id[ACC_ID_SIZE] = "k", prefix[ADM_KEY_PREFIX + 1];
    uint8_t hash[SHA256_LEN];
    if (id_secret_hex(key + 4, ADM_KEY_BYTES) < 0 || id_secret_hex(id + 1, ADM_KEY_ID_BYTES) < 0)
        return fprintf(stderr, "troika-admin key create: the kernel's random source failed\n"), ADM_FAIL;
    key[sizeof(key) - 1] = '\0';
    id[1 + 2 * ADM_KEY_ID_BYTES] = '\0';
    memcpy(prefix, key, ADM_KEY_PREFIX);
    prefix[ADM_KEY_PREFIX] = '\0';
    sha256(key, strlen(key), hash);
    struct acc_key_new k = {.id = id, .hash = hash, .prefix = prefix, .scopes = scopes, .chatbot = bot, .name = name};
    char err[512];
    if (acc_key_add(st, &k, err, sizeof(err)) != ST_OK)
        return fprintf(stderr, "troika-admin key create: %s\n", err), ADM_FAIL;
    if (json)
        printf("{\"id\":\"%s\",\"key\":\"%s\",\"scope\":\"%s\",\"chatbotId\":%s%s%s}\n", id, key,
               acc_scope_name(scopes), bot ? "\"" : "", bot ? bot : "null", bot ? "\"" : "");
    else
        printf("%s\n", key);
    fprintf(stderr,
            "troika-admin: key %s created: scope %s, %s%s. It is shown this once (the database keeps only its "
            "SHA-256): store it now.\n",
            id, acc_scope_name(scopes), bot ? "chatbot " : "every chatbot", bot ? bot : "");
    return ADM_OK;
}

static const char *adm_or(const char *s, const char *dflt)
{
    return s && *s ? s : dflt;
}

static int adm_key_list(struct adm *a, int argc, char **argv)
{
    int json = argc > 2 && !strcmp(argv[2], "--json");
    if (argc > 2 + json) return fprintf(stderr, "%s", adm_key_usage), ADM_USAGE;
    struct store *st = adm_store(a);
    if (!st) return ADM_FAIL;
    struct acc_key_row *k;
    size_t n;
    char err[512];
    if (acc_key_list(st, a->ar, &k, &n, err, sizeof(err)) != ST_OK)
        return fprintf(stderr, "troika-admin key list: %s\n", err), ADM_FAIL;
    if (json) {
        printf("[");
        for (size_t i = 0; i < n; i++)
            printf("%s{\"id\":\"%s\",\"prefix\":\"%s\",\"scopes\":\"%s\",\"chatbotId\":%s%s%s,\"created\":\"%s\","
                   "\"lastUsed\":%s%s%s,\"revoked\":%s%s%s}",
                   i ? "," : "", k[i].id, k[i].prefix, k[i].scopes, k[i].chatbot ? "\"" : "",
                   adm_or(k[i].chatbot, "null"), k[i].chatbot ? "\"" : "", adm_or(k[i].created, ""),
                   k[i].last_used ? "\"" : "", adm_or(k[i].last_used, "null"), k[i].last_used ? "\"" : "",
                   k[i].revoked ? "\"" : "", adm_or(k[i].revoked, "null"), k[i].revoked ? "\"" : "");
        printf("]\n");
        return ADM_OK;
    }
    printf("%-14s %-13s %-20s %-20s %-23s %-23s %s\n", "id", "prefix", "scopes", "chatbot", "created", "last used",
           "revoked");
    for (size_t i = 0; i < n; i++)
        printf("%-14s %-13s %-20s %-20s %-23s %-23s %s%s%s\n", k[i].id, k[i].prefix, k[i].scopes,
               adm_or(k[i].chatbot, "(every)"), adm_or(k[i].created, "-"), adm_or(k[i].last_used, "never"),
               adm_or(k[i].revoked, "-"), k[i].name ? "  " : "", k[i].name ? k[i].name : "");
    return ADM_OK;
}

static int adm_key_revoke(struct adm *a, int argc, char **argv)
{
    if (argc != 3) return fprintf(stderr, "%s", adm_key_usage), ADM_USAGE;
    struct store *st = adm_store(a);
    if (!st) return ADM_FAIL;
    char err[512];
    int rc = acc_key_revoke(st, argv[2], err, sizeof(err));
    if (rc < 0) return fprintf(stderr, "troika-admin key revoke: %s\n", err), ADM_FAIL;
    if (rc == 0) return fprintf(stderr, "troika-admin key revoke: no key %s that is not revoked yet\n", argv[2]), ADM_FAIL;
    printf("key %s revoked\n", argv[2]);
    return ADM_OK;
}

int adm_key(struct adm *a, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    if (!strcmp(sub, "create")) return adm_key_create(a, argc, argv);
    if (!strcmp(sub, "list")) return adm_key_list(a, argc, argv);
    if (!strcmp(sub, "revoke")) return adm_key_revoke(a, argc, argv);
    fprintf(stderr, "%s", adm_key_usage);
    return ADM_USAGE;
}

/* ---- origins --------------------------------------------------------------------------- */

static const char adm_origin_usage[] = "usage: troika-admin origin add|remove CHATBOT_ID ORIGIN\n"
                                       "       troika-admin origin list [CHATBOT_ID]\n";

int adm_origin(struct adm *a, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    int list = !strcmp(sub, "list");
    if (list ? argc > 3 : (argc != 4 || (strcmp(sub, "add") && strcmp(sub, "remove"))))
        return fprintf(stderr, "%s", adm_origin_usage), ADM_USAGE;
    const char *bot = argc > 2 ? argv[2] : NULL;
    if (bot && !cx_chatbot_id_ok(bot))
        return fprintf(stderr, "troika-admin origin: '%s': a chatbot id is 1-64 of A-Z a-z 0-9 _ -\n", bot), ADM_USAGE;
    char low[ORG_MAX], err[512];
    if (!list) {
        if (org_check(argv[3], err, sizeof(err)) < 0 || org_lower(argv[3], low, sizeof(low)) < 0)
            return fprintf(stderr, "troika-admin origin: %s\n", err), ADM_USAGE;
    }
    struct store *st = adm_store(a);
    if (!st) return ADM_FAIL;
    if (!strcmp(sub, "add")) {
        if (acc_origin_add(st, bot, low, err, sizeof(err)) != ST_OK)
            return fprintf(stderr, "troika-admin origin add: %s\n", err), ADM_FAIL;
        printf("chatbot %s: pages on %s may call the API\n", bot, low);
        return ADM_OK;
    }
    if (!strcmp(sub, "remove")) {
        int rc = acc_origin_remove(st, bot, low, err, sizeof(err));
        if (rc < 0) return fprintf(stderr, "troika-admin origin remove: %s\n", err), ADM_FAIL;
        printf(rc ? "chatbot %s: %s removed\n" : "chatbot %s: %s was not listed\n", bot, low);
        return ADM_OK;
    }
    struct acc_origin *o;
    size_t n;
    if (acc_origin_list(st, a->ar, bot, &o, &n, err, sizeof(err)) != ST_OK)
        return fprintf(stderr, "troika-admin origin list: %s\n", err), ADM_FAIL;
    printf("%-24s %-48s %s\n", "chatbot", "origin", "added");
    for (size_t i = 0; i < n; i++) printf("%-24s %-48s %s\n", o[i].chatbot, o[i].origin, adm_or(o[i].created, "-"));
    if (a->cfg.cors_allowed_origins[0])
        printf("(and for every chatbot, cors_allowed_origins = %s)\n", a->cfg.cors_allowed_origins);
    return ADM_OK;
}

/* ---- sessions ---------------------------------------------------------------------------- */

static const char adm_sessions_usage[] =
    "usage: troika-admin sessions prune [--older-than-days N] [--dry-run]\n";

int adm_sessions(struct adm *a, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "prune")) return fprintf(stderr, "%s", adm_sessions_usage), ADM_USAGE;
    long days = a->cfg.session_retention_days;
    int dry = 0;
    for (int i = 2; i < argc; i++) {
        char *end;
        if (!strcmp(argv[i], "--older-than-days") && i + 1 < argc) {
            days = strtol(argv[++i], &end, 10);
            if (*end || days < 1 || days > 36500)
                return fprintf(stderr, "troika-admin sessions prune: --older-than-days takes 1-36500\n"), ADM_USAGE;
        } else if (!strcmp(argv[i], "--dry-run")) {
            dry = 1;
        } else {
            return fprintf(stderr, "troika-admin sessions prune: unexpected '%s'\n%s", argv[i], adm_sessions_usage),
                   ADM_USAGE;
        }
    }
    if (days == 0) {
        printf("session_retention_days is 0: sessions are kept; nothing pruned\n");
        return ADM_OK;
    }
    long long idle = days * 86400LL;
    if (a->cfg.session_idle_timeout_s && idle < a->cfg.session_idle_timeout_s)
        fprintf(stderr, "troika-admin: note: %ld days is shorter than session_idle_timeout_s: sessions that may "
                        "still be continued are deleted too\n", days);
    struct store *st = adm_store(a);
    if (!st) return ADM_FAIL;
    long long sessions = 0, messages = 0;
    char err[512];
    if (sess_prune(st, a->ar, idle, 500, dry, &sessions, &messages, err, sizeof(err)) != ST_OK)
        return fprintf(stderr, "troika-admin sessions prune: %s\n", err), ADM_FAIL;
    printf("%s %lld sessions and their %lld messages, unused for %ld days or more\n",
           dry ? "would delete" : "deleted", sessions, messages, days);
    return ADM_OK;
}
