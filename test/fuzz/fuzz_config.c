/* fuzz_config.c: the config file reader (common/base/config.c: cfg_read,
 * every key's parser through cfg_set, then cfg_check) on any text.
 *
 * What must hold: a refusal names what it refuses (a non-empty message
 * that fits its buffer); an accepted file leaves every string setting
 * terminated within its field. */
#include "test/fuzz/fuzz.h"

#include "common/base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;   /* fmemopen refuses an empty buffer */
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f) return 0;
    struct cfg *c = malloc(sizeof(*c));
    if (!c) abort();
    cfg_defaults(c);
    char err[700];
    memset(err, 0, sizeof(err));
    int rc = cfg_read(c, f, "fuzz.conf", err, sizeof(err));
    fclose(f);
    if (rc < 0) {
        FZ_CHECK(err[0] && memchr(err, '\0', sizeof(err)), "a refusal without a message");
    } else {
        FZ_CHECK(rc == 0, "cfg_read returned %d", rc);
        memset(err, 0, sizeof(err));
        if (cfg_check(c, err, sizeof(err)) < 0) FZ_CHECK(err[0], "cfg_check refused without a message");
        FZ_CHECK(memchr(c->listen, '\0', sizeof(c->listen)) && memchr(c->base_path, '\0', sizeof(c->base_path)) &&
                     memchr(c->db_password, '\0', sizeof(c->db_password)),
                 "a string setting is not terminated");
    }
    free(c);
    return 0;
}
