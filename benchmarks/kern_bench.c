/*
 * kern_bench.c - one model kernel at one instruction-set level, called on batches of N items as
 * the engine calls it (a grid tile hands the american kernel about 100), timed as the best of
 * R calls: the figure for comparing two builds of a kernel, alternated, where bench's kernel
 * section (every kernel, every level, W1's own positions) is the figure for the targets. The
 * best of many short calls leaves out most of what a shared machine adds; two runs of the same
 * build agree within about 1%.
 *
 *   make kern-bench && build/benchmarks/kern_bench [--kind american_put] [--isa avx512]
 *                                                   [--n 100] [--reps 5000] [--seed 12345]
 *
 * Inputs are drawn uniformly over a W1-like domain: S in [60, 140], K in [80, 120], T in
 * [0.1, 3] years, r in [0.5%, 5%], sigma in [10%, 50%], q in [0.5%, 4%] except every fifth
 * item, whose q is 0 (a call without dividends is priced as a european). Prints ns per item
 * and the sum of the prices (two builds that should agree print the same sum).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

static uint64_t rng;

static double uniform(double a, double b)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return a + (b - a) * (double)(rng >> 11) * 0x1p-53;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void usage(void)
{
    fprintf(stderr, "usage: kern_bench [--kind KIND] [--isa baseline|avx2|avx512] [--n N] "
                    "[--reps R] [--seed S]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    mdl_kind kind = MDL_AMER_PUT;
    mdl_isa isa = mdl_isa_best();
    long n = 100, reps = 5000;
    rng = 12345;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            usage();
        if (strcmp(a, "--kind") == 0 && mdl_kind_parse(v, &kind))
            i++;
        else if (strcmp(a, "--isa") == 0 && mdl_isa_parse(v, &isa) && mdl_isa_supported(isa))
            i++;
        else if (strcmp(a, "--n") == 0 && (n = atol(v)) > 0)
            i++;
        else if (strcmp(a, "--reps") == 0 && (reps = atol(v)) > 0)
            i++;
        else if (strcmp(a, "--seed") == 0 && (rng = strtoull(v, NULL, 10)) != 0)
            i++;
        else
            usage();
    }
    mdl_init();
    const mdl_entry *tab = mdl_table_isa(isa);
    size_t m = (size_t)n;
    double *in = malloc(7 * m * sizeof(double));
    if (in == NULL)
        return 1;
    double *S = in, *K = S + m, *T = K + m, *r = T + m, *sg = r + m, *q = sg + m, *p = q + m;
    for (size_t i = 0; i < m; i++) {
        S[i] = uniform(60, 140);
        K[i] = uniform(80, 120);
        T[i] = uniform(0.1, 3);
        r[i] = uniform(0.005, 0.05);
        sg[i] = uniform(0.1, 0.5);
        q[i] = i % 5 == 0 ? 0.0 : uniform(0.005, 0.04);
    }
    mdl_batch b = {.n = m, .S = S, .K = K, .T = T, .r = r, .sigma = sg, .q = q, .price = p};
    double best = HUGE_VAL;
    for (long k = 0; k < reps; k++) {
        double t0 = now_s();
        tab[kind].batch(&b, NULL, NULL);
        double t1 = now_s();
        best = t1 - t0 < best ? t1 - t0 : best;
    }
    double sum = 0.0;
    for (size_t i = 0; i < m; i++)
        sum += p[i];
    printf("%s %s n=%ld: %.1f ns per item, best of %ld (sum of prices %.17g)\n",
           mdl_kind_name(kind), mdl_isa_name(isa), n, best / (double)n * 1e9, reps, sum);
    free(in);
    return 0;
}
