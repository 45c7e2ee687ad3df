/* admin_chatbot.c: troika-admin chatbot-create and chatbot-list. A chatbot
 * is a row of `chatbots`; uploads create it on first use, an operator may
 * create it ahead (with a display name) and list what each one holds. */
#include <stdio.h>
#include <string.h>

#include "common/store/context.h"
#include "index/vidx.h"
#include "tools/admin.h"

int adm_chatbot_create(struct adm *a, int argc, char **argv)
{
    const char *id = NULL, *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--name") && i + 1 < argc) name = argv[++i];
        else if (argv[i][0] != '-' && !id) id = argv[i];
        else {
            fprintf(stderr, "troika-admin chatbot-create: unexpected '%s'\n", argv[i]);
            return ADM_USAGE;
        }
    }
    if (!id) {
        fprintf(stderr, "troika-admin chatbot-create: which chatbot? (chatbot-create ID [--name NAME])\n");
        return ADM_USAGE;
    }
    if (!cx_chatbot_id_ok(id)) {
        fprintf(stderr, "troika-admin chatbot-create: '%s': an id is 1-64 characters of A-Z, a-z, 0-9, _ and -\n",
                id);
        return ADM_USAGE;
    }
    if (name && strlen(name) > 255) {
        fprintf(stderr, "troika-admin chatbot-create: the name is longer than 255 bytes\n");
        return ADM_USAGE;
    }
    struct store *st = adm_store(a);
    if (!st) return ADM_FAIL;
    char err[512];
    int what = 0;
    if (cx_chatbot_create(st, id, name, &what, err, sizeof(err)) != ST_OK) {
        fprintf(stderr, "troika-admin chatbot-create: %s\n", err);
        return ADM_FAIL;
    }
    printf(what == CX_BOT_CREATED ? "chatbot %s created\n" : what == CX_BOT_NAMED ? "chatbot %s exists; name set\n"
                                                                                   : "chatbot %s exists\n",
           id);
    return ADM_OK;
}

int adm_chatbot_list(struct adm *a, int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "troika-admin chatbot-list: takes no arguments\n");
        return ADM_USAGE;
    }
    struct store *st = adm_store(a);
    if (!st) return ADM_FAIL;
    char err[512];
    struct cx_bot *bots;
    size_t n;
    if (cx_chatbot_list(st, a->ar, &bots, &n, err, sizeof(err)) != ST_OK) {
        fprintf(stderr, "troika-admin chatbot-list: %s\n", err);
        return ADM_FAIL;
    }
    printf("%-24s %-24s %6s %8s %10s %8s  %s\n", "chatbot", "name", "files", "chunks", "tokens", "index", "created");
    for (size_t i = 0; i < n; i++) {
        char idx[128], verr[256], count[32] = "absent";
        struct vidx_meta m;
        cx_index_name(bots[i].id, idx, sizeof(idx));
        if (vidx_read_meta(a->cfg.index_dir, idx, &m, verr, sizeof(verr)) == 0) snprintf(count, sizeof(count), "%ld", m.count);
        printf("%-24s %-24s %6ld %8ld %10ld %8s  %s\n", bots[i].id, bots[i].name, bots[i].files, bots[i].chunks,
               bots[i].tokens, count, bots[i].created_at);
    }
    return ADM_OK;
}
