/* test_u8.c: unit tests for the u8 module. */
#include "test/unit/unit.h"

static void t_placeholder_u8(void)
{
    CU_ASSERT(1 + 1 == 2);
}

void register_u8(void)
{
    static const struct unit_case cases[] = {
        {"placeholder", t_placeholder_u8},
        {NULL, NULL},
    };
    unit_suite("u8", cases);
}
