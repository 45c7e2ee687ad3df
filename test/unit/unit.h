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
void register_shm(void);
void register_addr(void);

/* Where the cl100k_base rank file is: $TROIKA_TOKENIZER_FILE, else
 * tools/fetch-tokenizer.sh's cache (test_tok.c). */
const char *unit_tok_path(char *buf, size_t cap);

/* Adds a suite with tests {name, fn} ending in {NULL, NULL}. */
struct unit_case {
    const char *name;
    void (*fn)(void);
};
void unit_suite(const char *name, const struct unit_case *cases);

#endif
