/* test_config.c: unit tests for the config module. */
#include "test/unit/unit.h"

static void t_placeholder_config(void)
{
    CU_ASSERT(1 + 1 == 2);
}

void register_config(void)
{
    static const struct unit_case cases[] = {
        {"placeholder", t_placeholder_config},
        {NULL, NULL},
    };
    unit_suite("config", cases);
}
