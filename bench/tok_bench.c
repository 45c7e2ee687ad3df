/* tok_bench.c: tokens per second of the cl100k_base tokenizer (common/text/tok)
 * over files, and the time to load the rank file. A benchmark, not a test.
 *
 *   bench/tok_bench RANKFILE FILE...   prints one line per file
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/text/tok.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s RANKFILE FILE...\n", argv[0]);
        return 2;
    }
    char why[512], err[256];
    double t0 = now();
    struct tok *t = tok_open(argv[1], why, sizeof(why), err, sizeof(err));
    double load = now() - t0;
    if (!t || !tok_exact(t)) {
        fprintf(stderr, "tok_bench: %s\n", t ? why : err);
        return 1;
    }
    printf("load\t%.1f ms\n", load * 1000);
    for (int i = 2; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        rewind(f);
        char *s = malloc((size_t)n + 1);
        if (!s || fread(s, 1, (size_t)n, f) != (size_t)n) return 1;
        fclose(f);
        double best = 1e9;
        long count = 0;
        for (int rep = 0; rep < 3; rep++) {   /* best of three */
            double a = now();
            count = tok_count(t, s, (size_t)n);
            double d = now() - a;
            if (d < best) best = d;
        }
        printf("%s\t%ld bytes\t%ld tokens\t%.3f s\t%.0f tokens/s\t%.1f MB/s\n", argv[i], n, count, best,
               (double)count / best, (double)n / best / 1e6);
        free(s);
    }
    tok_close(t);
    return 0;
}
