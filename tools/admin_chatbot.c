/* admin_chatbot.c: troika-admin chatbot-create and chatbot-list. A chatbot
 * is a row of `chatbots`; uploads create it on first use, an operator may
 * create it ahead (with a display name) and list what each one holds. */
#include <stdio.h>
#include <string.h>

#include "common/io/db.h"
#include "handlers/upload/upload.h"
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
    if (!up_chatbot_id_ok(id)) {
        fprintf(stderr, "troika-admin chatbot-create: '%s': an id is 1-64 characters of A-Z, a-z, 0-9, _ and -\n",
                id);
        return ADM_USAGE;
    }
    if (name && strlen(name) > 255) {
        fprintf(stderr, "troika-admin chatbot-create: the name is longer than 255 bytes\n");
        return ADM_USAGE;
    }
    struct db *d = adm_db(a);
    if (!d) return ADM_FAIL;
    char err[512];
    unsigned long long affected = 0;
    struct db_param p[] = {DB_STR(id), name ? DB_STR(name) : DB_NULL};
    int rc = db_exec(d, "INSERT IGNORE INTO chatbots (id, name) VALUES (?, ?)", p, 2, &affected, NULL, err,
                     sizeof(err));
    if (rc == DB_OK && !affected && name) {
        struct db_param q[] = {DB_STR(name), DB_STR(id)};
        rc = db_exec(d, "UPDATE chatbots SET name = ? WHERE id = ?", q, 2, NULL, NULL, err, sizeof(err));
        if (rc == DB_OK) printf("chatbot %s exists; name set\n", id);
    } else if (rc == DB_OK) {
        printf(affected ? "chatbot %s created\n" : "chatbot %s exists\n", id);
    }
    if (rc != DB_OK) {
        fprintf(stderr, "troika-admin chatbot-create: %s\n", err);
        return ADM_FAIL;
    }
    return ADM_OK;
}

int adm_chatbot_list(struct adm *a, int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "troika-admin chatbot-list: takes no arguments\n");
        return ADM_USAGE;
    }
    struct db *d = adm_db(a);
    if (!d) return ADM_FAIL;
    char err[512];
    struct db_rows rs;
    int rc = db_query(d, a->ar,
                      "SELECT c.id, IFNULL(c.name, ''), COUNT(f.id), IFNULL(SUM(f.chunks), 0), "
                      "IFNULL(SUM(f.tokens), 0), c.created_at FROM chatbots c "
                      "LEFT JOIN context_files f ON f.chatbot_id = c.id GROUP BY c.id ORDER BY c.id",
                      NULL, 0, 0, &rs, err, sizeof(err));
    if (rc != DB_OK) {
        fprintf(stderr, "troika-admin chatbot-list: %s\n", err);
        return ADM_FAIL;
    }
    printf("%-24s %-24s %6s %8s %10s %8s  %s\n", "chatbot", "name", "files", "chunks", "tokens", "index", "created");
    for (size_t i = 0; i < rs.nrows; i++) {
        char idx[128], verr[256], count[32] = "absent";
        struct vidx_meta m;
        up_index_name(db_cell(&rs, i, 0), idx, sizeof(idx));
        if (vidx_read_meta(a->cfg.index_dir, idx, &m, verr, sizeof(verr)) == 0) snprintf(count, sizeof(count), "%ld", m.count);
        printf("%-24s %-24s %6s %8s %10s %8s  %s\n", db_cell(&rs, i, 0), db_cell(&rs, i, 1), db_cell(&rs, i, 2),
               db_cell(&rs, i, 3), db_cell(&rs, i, 4), count, db_cell(&rs, i, 5));
    }
    return ADM_OK;
}
