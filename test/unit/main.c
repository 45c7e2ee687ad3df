/* main.c: CUnit runner. The exit status comes from the failure count:
 * CU_basic_run_tests() returns success even when tests fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "common/base/log.h"
#include "test/unit/unit.h"

void unit_suite(const char *name, const struct unit_case *cases)
{
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    if (!s) {
        fprintf(stderr, "cannot add suite %s\n", name);
        exit(2);
    }
    for (const struct unit_case *c = cases; c->name; c++) CU_add_test(s, c->name, c->fn);
}

int main(int argc, char **argv)
{
    int verbose = argc > 1 && !strcmp(argv[1], "-v");
    /* The tests take failure paths on purpose. Their log lines are still
     * formatted and written (at DEBUG, so every LOG_* call runs), but to
     * /dev/null unless -v asks to see them. */
    if (log_open(verbose ? NULL : "/dev/null", LOG_LVL_DEBUG) < 0) return 2;
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    register_arena();
    register_config();
    register_mp();
    register_catterms();
    register_qparse();
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
    register_shm();
    register_addr();
    CU_basic_set_mode(verbose ? CU_BRM_VERBOSE : CU_BRM_NORMAL);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    unsigned tests_failed = CU_get_number_of_tests_failed();
    printf("\nunit: %u passed, %u failed\n", run - tests_failed, tests_failed);
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
