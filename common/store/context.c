/* context.c: the context store's SQL (MariaDB): chatbots, context_files,
 * context_chunks; see context.h. Prepared statements only: every value is
 * a bound parameter, and the SQL text of a multi-row statement is built
 * from fixed fragments. */
#include "common/store/context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/store/mariadb.h"

enum { CX_CHUNK_COLS = 8 };   /* values per chunk row of the INSERT */

int cx_chatbot_id_ok(const char *id)
{
    size_t n = 0;
    for (const char *p = id; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return n >= 1 && n <= 64;
}

void cx_index_name(const char *chatbot, char *out, size_t cap)
{
    snprintf(out, cap, "chatbot-%s", chatbot);
}

static int cx_oom(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return ST_EQUERY;
}

#define CX_DB(s, err, errlen)                       \
    struct db *d = stm_db((s), (err), (errlen));    \
    if (!d) return ST_ECONN

static int cxm_find_file(struct store *s, arena_t *ar, const char *chatbot, const char *sha256, struct cx_file *out,
                        char *err, size_t errlen)
{
    CX_DB(s, err, errlen);
    struct db_rows rs;
    struct db_param p[] = {DB_STR(chatbot), DB_STR(sha256)};
    int rc = db_query(d, ar,
                      "SELECT id, chunks, tokens, pages, tokenizer FROM context_files "
                      "WHERE chatbot_id = ? AND sha256 = ?",
                      p, 2, 1, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    if (rs.nrows == 0) return 0;
    memset(out, 0, sizeof(*out));
    out->id = strtoll(db_cell(&rs, 0, 0), NULL, 10);
    out->chunks = strtol(db_cell(&rs, 0, 1), NULL, 10);
    out->tokens = strtol(db_cell(&rs, 0, 2), NULL, 10);
    out->pages = db_cell(&rs, 0, 3) ? (int)strtol(db_cell(&rs, 0, 3), NULL, 10) : -1;
    snprintf(out->tokenizer, sizeof(out->tokenizer), "%s", db_cell(&rs, 0, 4) ? db_cell(&rs, 0, 4) : "");
    return 1;
}

static int cxm_lock_chatbot(struct store *s, arena_t *ar, const char *chatbot, char *err, size_t errlen)
{
    CX_DB(s, err, errlen);
    struct db_param p[] = {DB_STR(chatbot)};
    int rc = db_exec(d, "INSERT IGNORE INTO chatbots (id) VALUES (?)", p, 1, NULL, NULL, err, errlen);
    struct db_rows lock;
    if (rc == DB_OK)
        rc = db_query(d, ar, "SELECT id FROM chatbots WHERE id = ? FOR UPDATE", p, 1, 1, &lock, err, errlen);
    return rc;
}

static int cxm_add_file(struct store *s, const struct cx_file_row *f, long long *id, char *err, size_t errlen)
{
    CX_DB(s, err, errlen);
    struct db_param p[] = {
        DB_STR(f->chatbot),          DB_STR(f->title),   DB_STR(f->filename),         DB_STR(f->mime),
        DB_INT((long long)f->bytes), DB_STR(f->sha256),  DB_INT((long long)f->tokens), DB_INT((long long)f->chunks),
        f->pages > 0 ? DB_INT(f->pages) : DB_NULL,       DB_STR(f->tokenizer),         DB_STR(f->embedder),
    };
    unsigned long long last = 0;
    int rc = db_exec(d,
                     "INSERT INTO context_files (chatbot_id, title, filename, mime, bytes, sha256, tokens, chunks, "
                     "pages, tokenizer, embedder) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                     p, sizeof(p) / sizeof(p[0]), NULL, &last, err, errlen);
    *id = (long long)last;
    return rc;
}

/* "INSERT ... VALUES (?,?,?,?,?,?,?,?),..." with k tuples, in the arena. */
static char *cx_insert_sql(arena_t *ar, size_t k)
{
    static const char head[] =
        "INSERT INTO context_chunks (file_id, chatbot_id, seq, page, char_offset, text, tokens, vector) VALUES ";
    static const char row[] = "(?,?,?,?,?,?,?,?)";
    size_t len = sizeof(head) - 1 + k * sizeof(row);
    char *sql = ar_alloc(ar, len + 1);
    if (!sql) return NULL;
    char *p = sql;
    memcpy(p, head, sizeof(head) - 1);
    p += sizeof(head) - 1;
    for (size_t i = 0; i < k; i++) {
        if (i) *p++ = ',';
        memcpy(p, row, sizeof(row) - 1);
        p += sizeof(row) - 1;
    }
    *p = '\0';
    return sql;
}

static int cxm_add_chunks(struct store *s, arena_t *ar, long long file_id, const char *chatbot, size_t first_seq,
                          const struct cx_chunk_row *rows, const float *vecs, size_t n, int dim, char *err,
                          size_t errlen)
{
    CX_DB(s, err, errlen);
    struct db_param *p = ar_alloc(ar, (n ? n : 1) * CX_CHUNK_COLS * sizeof(*p));
    char *sql = cx_insert_sql(ar, n);
    if (!p || !sql) return cx_oom(err, errlen);
    size_t vbytes = (size_t)dim * sizeof(float);
    for (size_t i = 0; i < n; i++) {
        const struct cx_chunk_row *c = &rows[i];
        struct db_param *q = p + i * CX_CHUNK_COLS;
        q[0] = DB_INT(file_id);
        q[1] = DB_STR(chatbot);
        q[2] = DB_INT((long long)(first_seq + i));
        q[3] = c->page > 0 ? DB_INT(c->page) : DB_NULL;
        q[4] = DB_INT((long long)c->char_off);
        q[5] = DB_STRN(c->text, c->len);
        q[6] = DB_INT(c->tokens);
        q[7] = DB_BLOB(vecs + i * (size_t)dim, vbytes);
    }
    char dberr[256];
    int rc = db_exec(d, sql, p, n * CX_CHUNK_COLS, NULL, NULL, dberr, sizeof(dberr));
    if (rc != DB_OK)   /* the server's message may quote the text: not passed on */
        snprintf(err, errlen, "inserting chunk rows failed (%s)", rc == DB_ECONN ? "connection lost" : "query error");
    return rc;
}

static int cxm_chunk_ids(struct store *s, arena_t *ar, long long file_id, long long **ids, size_t *n, char *err,
                        size_t errlen)
{
    CX_DB(s, err, errlen);
    struct db_rows rs;
    struct db_param p[] = {DB_INT(file_id)};
    *n = 0;
    int rc = db_query(d, ar, "SELECT id FROM context_chunks WHERE file_id = ? ORDER BY seq", p, 1, 0, &rs, err,
                      errlen);
    if (rc != DB_OK) return rc;
    *ids = ar_alloc(ar, (rs.nrows ? rs.nrows : 1) * sizeof(**ids));
    if (!*ids) return cx_oom(err, errlen);
    for (size_t i = 0; i < rs.nrows; i++) (*ids)[i] = strtoll(db_cell(&rs, i, 0), NULL, 10);
    *n = rs.nrows;
    return ST_OK;
}

static int cxm_vectors(struct store *s, arena_t *ar, const char *chatbot, long long except_file, struct cx_vec **out,
                      size_t *n, char *err, size_t errlen)
{
    CX_DB(s, err, errlen);
    struct db_rows rs;
    struct db_param p[] = {DB_STR(chatbot), DB_INT(except_file)};
    *n = 0;
    int rc = db_query(d, ar, "SELECT id, vector FROM context_chunks WHERE chatbot_id = ? AND file_id <> ? ORDER BY id",
                      p, 2, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    *out = ar_alloc(ar, (rs.nrows ? rs.nrows : 1) * sizeof(**out));
    if (!*out) return cx_oom(err, errlen);
    for (size_t i = 0; i < rs.nrows; i++)
        (*out)[i] = (struct cx_vec){strtoll(db_cell(&rs, i, 0), NULL, 10), db_cell(&rs, i, 1), rs.lens[i * 2 + 1]};
    *n = rs.nrows;
    return ST_OK;
}

static int cxm_delete_file(struct store *s, long long file_id, char *err, size_t errlen)
{
    CX_DB(s, err, errlen);
    struct db_param p[] = {DB_INT(file_id)};
    return db_exec(d, "DELETE FROM context_files WHERE id = ?", p, 1, NULL, NULL, err, errlen);
}

/* The words of a question as InnoDB's full-text parser should see them.
 * The parser runs even in NATURAL LANGUAGE MODE and answers a syntax error
 * to a lone `*` or an open `"` (a 500 for an ordinary question), so every
 * ASCII byte that is not a letter or digit becomes a space; other UTF-8
 * bytes (letters of other scripts) stay. NULL when no word is left. */
static const char *cx_ft_words(arena_t *ar, const char *q)
{
    size_t n = strlen(q);
    char *w = ar_alloc(ar, n + 1);
    if (!w) return NULL;
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)q[i];
        int keep = c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
        w[i] = keep ? (char)c : ' ';
        any |= keep;
    }
    w[n] = '\0';
    return any ? w : NULL;
}

static int cxm_text_search(struct store *s, arena_t *ar, const char *chatbot, const char *query, int limit,
                          long long *ids, size_t *n, char *err, size_t errlen)
{
    CX_DB(s, err, errlen);
    *n = 0;
    query = cx_ft_words(ar, query);
    if (!query) return ST_OK;   /* nothing a full-text index could match */
    struct db_param p[4] = {DB_STR(chatbot), DB_STR(query), DB_STR(query), DB_INT(limit)};
    struct db_rows rs;
    int rc = db_query(d, ar,
                      "SELECT id FROM context_chunks WHERE chatbot_id = ? AND MATCH (text) AGAINST (? IN NATURAL "
                      "LANGUAGE MODE) ORDER BY MATCH (text) AGAINST (? IN NATURAL LANGUAGE MODE) DESC, id LIMIT ?",
                      p, 4, (size_t)limit, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    for (size_t r = 0; r < rs.nrows && *n < (size_t)limit; r++) ids[(*n)++] = atoll(db_cell(&rs, r, 0));
    return ST_OK;
}

static int cxm_chunks(struct store *s, arena_t *ar, const char *chatbot, const long long *ids, size_t nids,
                     struct cx_chunk **out, size_t *n, char *err, size_t errlen)
{
    CX_DB(s, err, errlen);
    *n = 0;
    *out = NULL;
    if (!nids) return ST_OK;
    buf_t sql;
    buf_init(&sql, ar, 8192);
    buf_adds(&sql, "SELECT c.id, c.file_id, c.page, c.text, f.title FROM context_chunks c JOIN context_files f ON "
                   "f.id = c.file_id WHERE c.chatbot_id = ? AND c.id IN (");
    struct db_param *q = ar_calloc(ar, nids + 1, sizeof(*q));
    if (!q) return cx_oom(err, errlen);
    q[0] = DB_STR(chatbot);
    for (size_t i = 0; i < nids; i++) {
        buf_adds(&sql, i ? ", ?" : "?");
        q[i + 1] = DB_INT(ids[i]);
    }
    buf_adds(&sql, ")");
    if (!sql.p) return cx_oom(err, errlen);
    struct db_rows rs;
    int rc = db_query(d, ar, sql.p, q, nids + 1, nids, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    *out = ar_calloc(ar, rs.nrows ? rs.nrows : 1, sizeof(**out));
    if (!*out) return cx_oom(err, errlen);
    for (size_t r = 0; r < rs.nrows; r++) {
        struct cx_chunk *c = &(*out)[r];
        c->id = atoll(db_cell(&rs, r, 0));
        c->file_id = atoll(db_cell(&rs, r, 1));
        c->page = db_cell(&rs, r, 2) ? atoi(db_cell(&rs, r, 2)) : 0;
        c->text = db_cell(&rs, r, 3) ? db_cell(&rs, r, 3) : "";
        c->len = rs.lens[r * rs.ncols + 3];
        c->title = db_cell(&rs, r, 4) ? db_cell(&rs, r, 4) : "";
    }
    *n = rs.nrows;
    return ST_OK;
}

static int cxm_first_texts(struct store *s, arena_t *ar, const char *chatbot, int limit, const char ***texts,
                          size_t **lens, size_t *n, char *err, size_t errlen)
{
    CX_DB(s, err, errlen);
    struct db_param p[2] = {DB_STR(chatbot), DB_INT(limit)};
    struct db_rows rs;
    *n = 0;
    int rc = db_query(d, ar, "SELECT text FROM context_chunks WHERE chatbot_id = ? ORDER BY id LIMIT ?", p, 2,
                      (size_t)limit, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    *texts = ar_alloc(ar, (rs.nrows ? rs.nrows : 1) * sizeof(**texts));
    *lens = ar_alloc(ar, (rs.nrows ? rs.nrows : 1) * sizeof(**lens));
    if (!*texts || !*lens) return cx_oom(err, errlen);
    for (size_t r = 0; r < rs.nrows; r++) {
        if (!db_cell(&rs, r, 0)) continue;
        (*texts)[*n] = db_cell(&rs, r, 0);
        (*lens)[(*n)++] = rs.lens[r];
    }
    return ST_OK;
}

static int cxm_file_titles(struct store *s, arena_t *ar, const char *chatbot, int limit, const char ***titles,
                          size_t *n, char *err, size_t errlen)
{
    CX_DB(s, err, errlen);
    struct db_param p[2] = {DB_STR(chatbot), DB_INT(limit)};
    struct db_rows rs;
    *n = 0;
    int rc = db_query(d, ar, "SELECT title FROM context_files WHERE chatbot_id = ? ORDER BY id LIMIT ?", p, 2,
                      (size_t)limit, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    *titles = ar_alloc(ar, (rs.nrows ? rs.nrows : 1) * sizeof(**titles));
    if (!*titles) return cx_oom(err, errlen);
    for (size_t r = 0; r < rs.nrows; r++)
        if (db_cell(&rs, r, 0)) (*titles)[(*n)++] = db_cell(&rs, r, 0);
    return ST_OK;
}

static int cxm_chatbot_create(struct store *s, const char *id, const char *name, int *what, char *err,
                             size_t errlen)
{
    CX_DB(s, err, errlen);
    unsigned long long affected = 0;
    struct db_param p[] = {DB_STR(id), name ? DB_STR(name) : DB_NULL};
    int rc = db_exec(d, "INSERT IGNORE INTO chatbots (id, name) VALUES (?, ?)", p, 2, &affected, NULL, err, errlen);
    if (rc != DB_OK) return rc;
    *what = affected ? CX_BOT_CREATED : CX_BOT_EXISTS;
    if (affected || !name) return ST_OK;
    struct db_param q[] = {DB_STR(name), DB_STR(id)};
    rc = db_exec(d, "UPDATE chatbots SET name = ? WHERE id = ?", q, 2, NULL, NULL, err, errlen);
    if (rc == DB_OK) *what = CX_BOT_NAMED;
    return rc;
}

static int cxm_chatbot_list(struct store *s, arena_t *ar, struct cx_bot **out, size_t *n, char *err, size_t errlen)
{
    CX_DB(s, err, errlen);
    struct db_rows rs;
    *n = 0;
    int rc = db_query(d, ar,
                      "SELECT c.id, IFNULL(c.name, ''), COUNT(f.id), IFNULL(SUM(f.chunks), 0), "
                      "IFNULL(SUM(f.tokens), 0), c.created_at FROM chatbots c "
                      "LEFT JOIN context_files f ON f.chatbot_id = c.id GROUP BY c.id ORDER BY c.id",
                      NULL, 0, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    *out = ar_calloc(ar, rs.nrows ? rs.nrows : 1, sizeof(**out));
    if (!*out) return cx_oom(err, errlen);
    for (size_t i = 0; i < rs.nrows; i++)
        (*out)[i] = (struct cx_bot){db_cell(&rs, i, 0),          db_cell(&rs, i, 1),
                                    atol(db_cell(&rs, i, 2)),    atol(db_cell(&rs, i, 3)),
                                    atol(db_cell(&rs, i, 4)),    db_cell(&rs, i, 5) ? db_cell(&rs, i, 5) : ""};
    *n = rs.nrows;
    return ST_OK;
}

/* The columns of a struct cx_file_info, in cxm_file_row's order. */
#define CX_FILE_COLS                                                                                          \
    "id, chatbot_id, title, filename, mime, sha256, tokenizer, embedder, bytes, tokens, chunks, pages, "     \
    "ROUND(UNIX_TIMESTAMP(created_at) * 1000)"

static void cxm_file_row(const struct db_rows *rs, size_t r, struct cx_file_info *f)
{
    const char *pages = db_cell(rs, r, 11), *at = db_cell(rs, r, 12);
    *f = (struct cx_file_info){
        .id = atoll(db_cell(rs, r, 0)),
        .chatbot = db_cell(rs, r, 1),
        .title = db_cell(rs, r, 2) ? db_cell(rs, r, 2) : "",
        .filename = db_cell(rs, r, 3) ? db_cell(rs, r, 3) : "",
        .mime = db_cell(rs, r, 4) ? db_cell(rs, r, 4) : "",
        .sha256 = db_cell(rs, r, 5) ? db_cell(rs, r, 5) : "",
        .tokenizer = db_cell(rs, r, 6) ? db_cell(rs, r, 6) : "",
        .embedder = db_cell(rs, r, 7) ? db_cell(rs, r, 7) : "",
        .bytes = atoll(db_cell(rs, r, 8) ? db_cell(rs, r, 8) : "0"),
        .tokens = atol(db_cell(rs, r, 9) ? db_cell(rs, r, 9) : "0"),
        .chunks = atol(db_cell(rs, r, 10) ? db_cell(rs, r, 10) : "0"),
        .pages = pages ? atoi(pages) : -1,
        .uploaded_ms = at ? atoll(at) : 0,
    };
}

static int cxm_file_get(struct store *s, arena_t *ar, long long id, struct cx_file_info *out, char *err,
                        size_t errlen)
{
    CX_DB(s, err, errlen);
    struct db_rows rs;
    struct db_param p[] = {DB_INT(id)};
    int rc = db_query(d, ar, "SELECT " CX_FILE_COLS " FROM context_files WHERE id = ?", p, 1, 1, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    if (!rs.nrows) return 0;
    cxm_file_row(&rs, 0, out);
    return 1;
}

static int cxm_file_list(struct store *s, arena_t *ar, const char *chatbot, long limit, long offset,
                         struct cx_file_info **out, size_t *n, long long *total, char *err, size_t errlen)
{
    CX_DB(s, err, errlen);
    struct db_rows rs, cnt;
    struct db_param p[] = {DB_STR(chatbot), DB_INT(limit), DB_INT(offset)};
    *n = 0;
    *total = 0;
    int rc = db_query(d, ar, "SELECT COUNT(*) FROM context_files WHERE chatbot_id = ?", p, 1, 1, &cnt, err, errlen);
    if (rc != DB_OK) return rc;
    *total = cnt.nrows && db_cell(&cnt, 0, 0) ? atoll(db_cell(&cnt, 0, 0)) : 0;
    rc = db_query(d, ar,
                  "SELECT " CX_FILE_COLS " FROM context_files WHERE chatbot_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
                  p, 3, (size_t)limit, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    *out = ar_calloc(ar, rs.nrows ? rs.nrows : 1, sizeof(**out));
    if (!*out) return cx_oom(err, errlen);
    for (size_t i = 0; i < rs.nrows; i++) cxm_file_row(&rs, i, &(*out)[i]);
    *n = rs.nrows;
    return ST_OK;
}

const struct cx_ops cx_mariadb = {
    .find_file = cxm_find_file,
    .lock_chatbot = cxm_lock_chatbot,
    .add_file = cxm_add_file,
    .add_chunks = cxm_add_chunks,
    .chunk_ids = cxm_chunk_ids,
    .vectors = cxm_vectors,
    .delete_file = cxm_delete_file,
    .text_search = cxm_text_search,
    .chunks = cxm_chunks,
    .first_texts = cxm_first_texts,
    .file_titles = cxm_file_titles,
    .chatbot_create = cxm_chatbot_create,
    .chatbot_list = cxm_chatbot_list,
    .file_get = cxm_file_get,
    .file_list = cxm_file_list,
};
