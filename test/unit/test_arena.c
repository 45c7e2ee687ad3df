/* test_arena.c: unit tests for the arena module. */
#include "test/unit/unit.h"

static void t_placeholder_arena(void)
{
    CU_ASSERT(1 + 1 == 2);
}

void register_arena(void)
{
    static const struct unit_case cases[] = {
        {"placeholder", t_placeholder_arena},
        {NULL, NULL},
    };
    unit_suite("arena", cases);
}
