/* unit.h: CUnit suites, one per source module (the test tree mirrors the
 * source tree). Each test_*.c defines one register function. */
#ifndef TROIKA_UNIT_H
#define TROIKA_UNIT_H

#include <CUnit/CUnit.h>

void register_arena(void);
void register_config(void);
void register_mp(void);
void register_catterms(void);
void register_qparse(void);
void register_spell(void);
void register_filters(void);
void register_inr(void);
void register_intent(void);
void register_rank(void);
void register_request(void);
void register_rl(void);
void register_metrics(void);
void register_router(void);
void register_sink(void);
void register_sse(void);
void register_tok(void);
void register_troika(void);
void register_troika_stream(void);
void register_u8(void);
void register_upload(void);
void register_upload_faults(void);
void register_product_search_faults(void);
void register_embed(void);
void register_vidx(void);
void register_b64(void);
void register_llm(void);
void register_llm_net(void);
void register_sentence(void);
void register_chat(void);
void register_chat_stream(void);
void register_suggest(void);
void register_tts(void);
void register_catbits(void);
void register_catalog(void);
void register_clock(void);
void register_id(void);
void register_hash(void);
void register_sha256(void);
void register_files(void);
void register_cors(void);
void register_access(void);
void register_shm(void);
void register_addr(void);
void register_scoreboard(void);
void register_body(void);
void register_ps_page(void);

/* Where the cl100k_base rank file is: $TROIKA_TOKENIZER_FILE, else
 * tools/fetch-tokenizer.sh's cache (test_tok.c). */
const char *unit_tok_path(char *buf, size_t cap);

/* The exact tokenizer from the rank file, opened once and kept for the run
 * (test_tok.c). A test that needs it and finds no rank file fails, naming
 * tools/fetch-tokenizer.sh; such tests are in a suite registered with
 * unit_suite_needs(UNIT_NEEDS_TOKENIZER, ...), so that
 * TROIKA_SKIP_TOKENIZER=1 (the README's test command told to go without
 * the file) leaves them out and the runner names each one. NULL after the
 * failure is recorded. */
struct tok;
struct tok *unit_tok_exact(void);

/* 1 when the run was told to go without the rank file. */
int unit_skip_tokenizer(void);
#define UNIT_NO_RANK_FILE                                                                                   \
    "the cl100k_base rank file is not installed: run tools/fetch-tokenizer.sh (or set TROIKA_SKIP_TOKENIZER=1 " \
    "to leave the tests that need it out)"

/* Adds a suite with tests {name, fn} ending in {NULL, NULL}. */
struct unit_case {
    const char *name;
    void (*fn)(void);
};
void unit_suite(const char *name, const struct unit_case *cases);

/* A suite whose tests cannot run without `needs` (UNIT_NEEDS_*): when the
 * run was told to go without it, its tests are registered inactive: not
 * run, counted as skipped, and named in the output. */
enum { UNIT_NEEDS_TOKENIZER = 1 };
void unit_suite_needs(unsigned needs, const char *name, const struct unit_case *cases);

#endif
