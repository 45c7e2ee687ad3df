/* test_sse.c: unit tests for the sse module. */
#include "test/unit/unit.h"

static void t_placeholder_sse(void)
{
    CU_ASSERT(1 + 1 == 2);
}

void register_sse(void)
{
    static const struct unit_case cases[] = {
        {"placeholder", t_placeholder_sse},
        {NULL, NULL},
    };
    unit_suite("sse", cases);
}
