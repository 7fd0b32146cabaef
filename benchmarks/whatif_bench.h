/*
 * whatif_bench.h - pre-trade what-if latency on a warm portfolio, through the public C API
 * (rk_portfolio_warm, rk_whatif_clear/add/run and the answer accessors), for bench.c.
 */
#ifndef BENCH_WHATIF_H
#define BENCH_WHATIF_H

#include <stddef.h>

/* Latency figures of one configuration, in microseconds. */
typedef struct whatif_figures {
    double p50_us, p99_us, max_us;
    size_t samples;
    int failures; /* what-ifs that did not return RK_OK (or gave no answer) */
} whatif_figures;

/* Loads the data set in dir, makes an engine of `workers` workers and a portfolio, runs one
 * request (parametric VaR when scenarios is 0, else scenario VaR over that many Monte Carlo
 * scenarios), warms the cache from it, then times `per_caller` what-ifs of one european option
 * on each of `callers` threads at once (each its own rk_whatif; a warm-up of 50 each first,
 * untimed). One what-if is timed from rk_whatif_clear to the TOTAL's after figure read. 0 on
 * success, else -1 with a reason in msg. */
int whatif_bench(const char *dir, size_t workers, size_t scenarios, size_t callers,
                 size_t per_caller, whatif_figures *out, char *msg, size_t msglen);

#endif /* BENCH_WHATIF_H */
