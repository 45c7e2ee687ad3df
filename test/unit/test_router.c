/* test_router.c: unit tests for the router module. */
#include "test/unit/unit.h"

static void t_placeholder_router(void)
{
    CU_ASSERT(1 + 1 == 2);
}

void register_router(void)
{
    static const struct unit_case cases[] = {
        {"placeholder", t_placeholder_router},
        {NULL, NULL},
    };
    unit_suite("router", cases);
}
