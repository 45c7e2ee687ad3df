/* id.c: random ids; see id.h. */
#include "common/base/id.h"

#include <errno.h>
#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/base/clock.h"

void id_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[32];
    for (size_t done = 0; done < nbytes;) {
        size_t n = nbytes - done < sizeof(raw) ? nbytes - done : sizeof(raw);
        if (getrandom(raw, n, GRND_NONBLOCK) != (ssize_t)n) {
            unsigned long long x = (unsigned long long)clk_wall_us() ^ ((unsigned long long)getpid() << 40) ^ done;
            for (size_t i = 0; i < n; i++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                raw[i] = (unsigned char)(x >> 56);
            }
        }
        for (size_t i = 0; i < n; i++, done++) {
            out[2 * done] = hex[raw[i] >> 4];
            out[2 * done + 1] = hex[raw[i] & 15];
        }
    }
}

void id_new(char out[ID_SIZE])
{
    id_hex(out, (ID_SIZE - 1) / 2);
    out[ID_SIZE - 1] = '\0';
}

int id_secret_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[64];
    if (nbytes > sizeof(raw)) return -1;
    for (size_t got = 0; got < nbytes;) {
        ssize_t n = getrandom(raw + got, nbytes - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        got += (size_t)n;
    }
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    return 0;
}

int id_secret(char out[ID_SIZE])
{
    if (id_secret_hex(out, (ID_SIZE - 1) / 2) < 0) return -1;
    out[ID_SIZE - 1] = '\0';
    return 0;
}

int id_valid(const char *id)
{
    size_t n = 0;
    for (const char *p = id; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return n >= 1 && n <= 64;
}
