/* main.c: CUnit runner. The exit status comes from the failure count:
 * CU_basic_run_tests() returns success even when tests fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "common/base/log.h"
#include "test/unit/unit.h"

static unsigned unit_skipped;

int unit_skip_tokenizer(void)
{
    const char *v = getenv("TROIKA_SKIP_TOKENIZER");
    return v && !strcmp(v, "1");
}

void unit_suite_needs(unsigned needs, const char *name, const struct unit_case *cases)
{
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    if (!s) {
        fprintf(stderr, "cannot add suite %s\n", name);
        exit(2);
    }
    int skip = (needs & UNIT_NEEDS_TOKENIZER) && unit_skip_tokenizer();
    for (const struct unit_case *c = cases; c->name; c++) {
        CU_pTest t = CU_add_test(s, c->name, c->fn);
        if (t && skip) {
            CU_set_test_active(t, CU_FALSE);
            unit_skipped++;
            printf("unit: skipped %s: %s (TROIKA_SKIP_TOKENIZER=1: no cl100k_base rank file)\n", name, c->name);
        }
    }
}

void unit_suite(const char *name, const struct unit_case *cases)
{
    unit_suite_needs(0, name, cases);
}

int main(int argc, char **argv)
{
    int verbose = argc > 1 && !strcmp(argv[1], "-v");
    /* The tests take failure paths on purpose. Their log lines are still
     * formatted and written (at DEBUG, so every LOG_* call runs), but to
     * /dev/null unless -v asks to see them. */
    if (log_open(verbose ? NULL : "/dev/null", LOG_LVL_DEBUG) < 0) return 2;
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    CU_set_fail_on_inactive(CU_FALSE);   /* a test left out on purpose is skipped, not failed */
    register_arena();
    register_config();
    register_mp();
    register_catterms();
    register_qparse();
    register_spell();
    register_filters();
    register_inr();
    register_intent();
    register_rank();
    register_request();
    register_rl();
    register_metrics();
    register_router();
    register_sink();
    register_sse();
    register_tok();
    register_troika();
    register_troika_stream();
    register_u8();
    register_upload();
    register_upload_faults();
    register_product_search_faults();
    register_embed();
    register_vidx();
    register_b64();
    register_llm();
    register_llm_net();
    register_sentence();
    register_chat();
    register_chat_stream();
    register_suggest();
    register_tts();
    register_catbits();
    register_catalog();
    register_clock();
    register_id();
    register_hash();
    register_sha256();
    register_files();
    register_cors();
    register_access();
    register_shm();
    register_addr();
    register_scoreboard();
    register_body();
    register_ps_page();
    CU_basic_set_mode(verbose ? CU_BRM_VERBOSE : CU_BRM_NORMAL);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    unsigned tests_failed = CU_get_number_of_tests_failed();
    if (unit_skipped)
        printf("\nunit: %u passed, %u failed, %u skipped (TROIKA_SKIP_TOKENIZER=1)\n", run - tests_failed,
               tests_failed, unit_skipped);
    else
        printf("\nunit: %u passed, %u failed\n", run - tests_failed, tests_failed);
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
