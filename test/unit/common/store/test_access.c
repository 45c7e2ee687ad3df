/* test_access.c: the pure rules of who may do what: key scopes nest
 * (common/store/access) and when a session a client sent may be continued
 * (common/store/session: sess_decide). */
#include <string.h>

#include "common/store/access.h"
#include "common/store/session.h"
#include "test/unit/unit.h"

static void t_scopes(void)
{
    CU_ASSERT_EQUAL(acc_scopes_parse("upload"), ACC_UPLOAD);
    CU_ASSERT_EQUAL(acc_scopes_parse("Manage"), ACC_MANAGE);
    CU_ASSERT_EQUAL(acc_scopes_parse("upload,manage"), ACC_UPLOAD | ACC_MANAGE);
    CU_ASSERT_EQUAL(acc_scopes_parse("admin"), ACC_ADMIN);
    CU_ASSERT_EQUAL(acc_scopes_parse(""), 0);
    CU_ASSERT_EQUAL(acc_scopes_parse("root"), 0);
    CU_ASSERT_EQUAL(acc_scopes_parse("upload,root"), 0);
    CU_ASSERT_EQUAL(acc_scopes_parse("uploads"), 0);
    /* upload < manage < admin */
    CU_ASSERT_TRUE(acc_allows(ACC_UPLOAD, ACC_UPLOAD));
    CU_ASSERT_FALSE(acc_allows(ACC_UPLOAD, ACC_MANAGE));
    CU_ASSERT_FALSE(acc_allows(ACC_UPLOAD, ACC_ADMIN));
    CU_ASSERT_TRUE(acc_allows(ACC_MANAGE, ACC_UPLOAD));
    CU_ASSERT_TRUE(acc_allows(ACC_MANAGE, ACC_MANAGE));
    CU_ASSERT_FALSE(acc_allows(ACC_MANAGE, ACC_ADMIN));
    CU_ASSERT_TRUE(acc_allows(ACC_ADMIN, ACC_UPLOAD));
    CU_ASSERT_TRUE(acc_allows(ACC_ADMIN, ACC_MANAGE));
    CU_ASSERT_TRUE(acc_allows(ACC_ADMIN, ACC_ADMIN));
    CU_ASSERT_FALSE(acc_allows(0, ACC_UPLOAD));
    CU_ASSERT_FALSE(acc_allows(ACC_ADMIN, 0));
    CU_ASSERT_STRING_EQUAL(acc_scope_name(ACC_UPLOAD | ACC_MANAGE), "manage");
}

static void t_session_decide(void)
{
    struct sess_info chat_a = {SESS_CHAT, "shop-a", 10}, agent = {SESS_AGENT, "", 10},
                     agent_a = {SESS_AGENT, "shop-a", 10}, old = {SESS_LEGACY, "shop-a", 0},
                     idle = {SESS_CHAT, "shop-a", 3600};
    CU_ASSERT_EQUAL(sess_decide(NULL, SESS_CHAT, "shop-a", 3600), SESS_UNKNOWN);
    CU_ASSERT_EQUAL(sess_decide(&chat_a, SESS_CHAT, "shop-a", 3600), SESS_CONTINUE);
    CU_ASSERT_EQUAL(sess_decide(&chat_a, SESS_CHAT, "shop-b", 3600), SESS_FOREIGN);
    CU_ASSERT_EQUAL(sess_decide(&chat_a, SESS_CHAT, "SHOP-A", 3600), SESS_FOREIGN);   /* ids are case-sensitive */
    CU_ASSERT_EQUAL(sess_decide(&chat_a, SESS_AGENT, "shop-a", 3600), SESS_FOREIGN);  /* chat's is not the agent's */
    CU_ASSERT_EQUAL(sess_decide(&agent, SESS_AGENT, NULL, 3600), SESS_CONTINUE);
    CU_ASSERT_EQUAL(sess_decide(&agent, SESS_AGENT, "", 3600), SESS_CONTINUE);
    CU_ASSERT_EQUAL(sess_decide(&agent, SESS_AGENT, "shop-a", 3600), SESS_FOREIGN);
    CU_ASSERT_EQUAL(sess_decide(&agent_a, SESS_AGENT, NULL, 3600), SESS_FOREIGN);
    CU_ASSERT_EQUAL(sess_decide(&agent_a, SESS_CHAT, "shop-a", 3600), SESS_FOREIGN);
    CU_ASSERT_EQUAL(sess_decide(&old, SESS_CHAT, "shop-a", 3600), SESS_OLD);
    CU_ASSERT_EQUAL(sess_decide(&idle, SESS_CHAT, "shop-a", 3600), SESS_EXPIRED);     /* at the timeout: expired */
    CU_ASSERT_EQUAL(sess_decide(&idle, SESS_CHAT, "shop-a", 3601), SESS_CONTINUE);
    CU_ASSERT_EQUAL(sess_decide(&idle, SESS_CHAT, "shop-a", 0), SESS_CONTINUE);       /* 0: never expires */
    CU_ASSERT_EQUAL(sess_decide(&idle, SESS_CHAT, "shop-b", 0), SESS_FOREIGN);        /* ownership first */
    CU_ASSERT_STRING_EQUAL(sess_decision_name(SESS_FOREIGN), "other_owner");
    CU_ASSERT_STRING_EQUAL(sess_decision_name(SESS_EXPIRED), "expired");
}

void register_access(void)
{
    static const struct unit_case cases[] = {
        {"key scopes nest: upload < manage < admin", t_scopes},
        {"a session is continued by its owner only, while not idle", t_session_decide},
        {NULL, NULL},
    };
    unit_suite("access", cases);
}
