/* admin_files.c: troika-admin files list|show|delete: what the document
 * management API does (docs/upload.md "Managing files"), for an operator:
 * a chatbot's uploaded files, one file, and deleting one with its chunks
 * and vectors, all or nothing (cx_delete). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/store/context.h"
#include "tools/admin.h"

static const char adm_files_usage[] = "usage: troika-admin files list CHATBOT_ID\n"
                                      "       troika-admin files show FILE_ID\n"
                                      "       troika-admin files delete FILE_ID\n";

static void adm_file_print(const struct cx_file_info *f)
{
    printf("%-8lld %-20s %-32.32s %-16s %10lld %8ld %6ld %5s  %s\n", f->id, f->chatbot, f->title, f->mime, f->bytes,
           f->tokens, f->chunks, f->pages >= 0 ? "pdf" : "-", f->sha256);
}

static void adm_file_head(void)
{
    printf("%-8s %-20s %-32s %-16s %10s %8s %6s %5s  %s\n", "id", "chatbot", "title", "type", "bytes", "tokens",
           "chunks", "pages", "sha256");
}

static int adm_file_id(const char *s, long long *id)
{
    char *end;
    *id = strtoll(s, &end, 10);
    return *end || *id <= 0 ? -1 : 0;
}

int adm_files(struct adm *a, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    if (argc != 3 || (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "delete")))
        return fprintf(stderr, "%s", adm_files_usage), ADM_USAGE;
    long long id = 0;
    if (!strcmp(sub, "list") ? !cx_chatbot_id_ok(argv[2]) : adm_file_id(argv[2], &id) < 0)
        return fprintf(stderr, "troika-admin files %s: '%s' is not a %s\n", sub, argv[2],
                       !strcmp(sub, "list") ? "chatbot id" : "file id"),
               ADM_USAGE;
    struct store *st = adm_store(a);
    if (!st) return ADM_FAIL;
    char err[512];
    if (!strcmp(sub, "list")) {
        struct cx_file_info *f;
        size_t n;
        long long total;
        if (cx_file_list(st, a->ar, argv[2], 1000000, 0, &f, &n, &total, err, sizeof(err)) != ST_OK)
            return fprintf(stderr, "troika-admin files list: %s\n", err), ADM_FAIL;
        adm_file_head();
        for (size_t i = 0; i < n; i++) adm_file_print(&f[i]);
        printf("(%lld files)\n", total);
        return ADM_OK;
    }
    struct cx_file_info f;
    int rc = cx_file_get(st, a->ar, id, &f, err, sizeof(err));
    if (rc < 0) return fprintf(stderr, "troika-admin files %s: %s\n", sub, err), ADM_FAIL;
    if (rc == 0) return fprintf(stderr, "troika-admin files %s: no file %lld\n", sub, id), ADM_FAIL;
    if (!strcmp(sub, "show")) {
        adm_file_head();
        adm_file_print(&f);
        return ADM_OK;
    }
    struct cx_delete r = {.file_id = id, .chatbot = f.chatbot, .index_dir = a->cfg.index_dir};
    struct cx_deleted out;
    rc = cx_delete(st, a->ar, &r, &out, err, sizeof(err));
    if (rc == CX_DEL_GONE) return fprintf(stderr, "troika-admin files delete: no file %lld\n", id), ADM_FAIL;
    if (rc != CX_DEL_OK)
        return fprintf(stderr, "troika-admin files delete: %s; nothing was deleted\n", err), ADM_FAIL;
    printf("file %lld (\"%s\") of chatbot %s deleted with its %ld chunks; the chatbot's index %s\n", id, f.title,
           f.chatbot, out.chunks,
           out.index == CX_IDX_REBUILT ? "was rebuilt" : out.index == CX_IDX_REMOVED ? "was removed (no chunk left)"
                                                                                     : "did not exist");
    return ADM_OK;
}
