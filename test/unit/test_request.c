/* test_request.c: unit tests for the request module. */
#include "test/unit/unit.h"

static void t_placeholder_request(void)
{
    CU_ASSERT(1 + 1 == 2);
}

void register_request(void)
{
    static const struct unit_case cases[] = {
        {"placeholder", t_placeholder_request},
        {NULL, NULL},
    };
    unit_suite("request", cases);
}
