/* fuzz_mp.c: a libFuzzer target for the multipart parser (common/io/mp.c).
 * The first input byte picks where the body is split in two feeds and the
 * second the header limit, so split delimiters and limits are explored
 * along with the bytes. Run it with test/fuzz/run.sh mp SECONDS. */
#include "test/fuzz/fuzz.h"

#include "common/base/arena.h"
#include "common/io/mp.h"

static int on_begin(void *ud, const struct mp_part *p)
{
    /* touch every string the parser hands out */
    size_t *n = ud;
    *n += strlen(p->name) + (p->filename ? strlen(p->filename) : 0) + (p->content_type ? strlen(p->content_type) : 0);
    return 0;
}

static int on_data(void *ud, const char *d, size_t n)
{
    size_t *sum = ud;
    for (size_t i = 0; i < n; i++) *sum += (unsigned char)d[i];
    return 0;
}

static int on_end(void *ud)
{
    (void)ud;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t split = data[0], hdr = 64 + (size_t)data[1] * 4;
    data += 2;
    size -= 2;
    if (split > size) split = size;
    static const struct mp_callbacks cb = {on_begin, on_data, on_end};
    arena_t *ar = ar_new(4096);
    if (!ar) return 0;
    struct mp_parser p;
    size_t sink = 0;
    struct mp_limits lim = {8, hdr};
    if (mp_init(&p, ar, "XyZ", &lim, &cb, &sink) == MP_OK) {
        int rc = mp_feed(&p, (const char *)data, split);
        if (rc == MP_OK) rc = mp_feed(&p, (const char *)data + split, size - split);
        if (rc == MP_OK) mp_finish(&p);
    }
    ar_free(ar);
    return 0;
}
