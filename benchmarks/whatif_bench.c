/*
 * whatif_bench.c - pre-trade what-if latency through the public C API (see whatif_bench.h).
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "riskengine.h"
#include "whatif_bench.h"

#define WARM 50

typedef struct caller {
    rk_portfolio *pf;
    rk_position trade;
    bool scenario;
    size_t n;
    double *lat_us;
    _Atomic int *ready, *go; /* seq_cst: the start signal, so that callers run together */
    int failures;
} caller;

static void one(caller *c, rk_whatif *w, double *us)
{
    int64_t t0 = rk_now_ns();
    double after = NAN;
    rk_status rc = rk_whatif_clear(w);
    if (rc == RK_OK)
        rc = rk_whatif_add(w, &c->trade, NULL);
    if (rc == RK_OK)
        rc = rk_whatif_run(w, 0);
    if (rc == RK_OK)
        rc = c->scenario ? rk_whatif_scenario_var(w, rk_whatif_books(w), NULL, &after, NULL, NULL)
                         : rk_whatif_parametric_var(w, rk_whatif_books(w), NULL, &after, NULL);
    int64_t t1 = rk_now_ns();
    if (rc != RK_OK || !isfinite(after))
        c->failures++;
    if (us != NULL)
        *us = (double)(t1 - t0) * 1e-3;
}

static void *caller_main(void *p)
{
    caller *c = p;
    rk_whatif *w = NULL;
    if (rk_whatif_create(c->pf, &w) != RK_OK) {
        c->failures++;
        atomic_fetch_add(c->ready, 1);
        return NULL;
    }
    for (int k = 0; k < WARM; k++)
        one(c, w, NULL);
    atomic_fetch_add(c->ready, 1);
    while (!atomic_load(c->go))
        ;
    for (size_t k = 0; k < c->n; k++)
        one(c, w, &c->lat_us[k]);
    rk_whatif_destroy(w);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *s, size_t n, double p)
{
    size_t k = (size_t)ceil(p / 100.0 * (double)n);
    return s[k == 0 ? 0 : k - 1];
}

/* A european call on the data set's first spot, rate and vol underlyings, in its first book. */
static bool trade_of(const rk_dataset *ds, rk_position *p)
{
    const char *spot = NULL, *rate = NULL, *vol = NULL;
    double S = 0;
    for (size_t u = 0; u < rk_dataset_underlyings(ds); u++) {
        rk_underlying_kind k;
        double v;
        rk_dataset_underlying(ds, u, &k, &v);
        const char *name = rk_dataset_underlying_name(ds, u);
        if (k == RK_UNDERLYING_SPOT && spot == NULL && v > 0) {
            spot = name;
            S = v;
        } else if (k == RK_UNDERLYING_RATE && rate == NULL) {
            rate = name;
        } else if (k == RK_UNDERLYING_VOL && vol == NULL && v > 0) {
            vol = name;
        }
    }
    if (spot == NULL || rate == NULL || vol == NULL || rk_dataset_books(ds) == 0)
        return false;
    rk_position_init(p);
    p->id = "whatif_candidate";
    p->book = rk_dataset_book_name(ds, 0);
    p->instrument = "european_call";
    p->quantity = 100;
    p->underlying = spot;
    p->strike = S * 1.05;
    p->expiry = 0.5;
    p->rate = rate;
    p->vol = vol;
    return true;
}

int whatif_bench(const char *dir, size_t workers, size_t scenarios, size_t callers,
                 size_t per_caller, whatif_figures *out, char *msg, size_t msglen)
{
    memset(out, 0, sizeof *out);
    rk_dataset *ds = NULL;
    rk_engine *e = NULL;
    rk_portfolio *pf = NULL;
    rk_request *rq = NULL;
    rk_result *res = NULL;
    int ret = -1;
    caller *cs = calloc(callers, sizeof *cs);
    pthread_t *th = calloc(callers, sizeof *th);
    double *all = malloc(callers * per_caller * sizeof *all);
    rk_engine_config cfg;
    rk_engine_config_init(&cfg);
    cfg.threads = workers;
    if (cs == NULL || th == NULL || all == NULL) {
        snprintf(msg, msglen, "out of memory");
        goto out;
    }
    if (rk_dataset_load(dir, &ds, msg, msglen) != RK_OK ||
        rk_engine_create(&cfg, &e, msg, msglen) != RK_OK)
        goto out;
    rk_status rc = rk_portfolio_create(e, ds, &pf);
    if (rc == RK_OK)
        rc = rk_request_create(pf, &rq);
    if (rc == RK_OK && scenarios > 0)
        rc = rk_request_set_scenarios(rq, scenarios, 1);
    if (rc == RK_OK)
        rc = rk_request_set_measures(rq, scenarios > 0 ? RK_MEASURE_SCENARIO_VAR
                                                       : RK_MEASURE_PARAMETRIC_VAR);
    if (rc == RK_OK)
        rc = rk_request_run(rq, RK_DEADLINE_NONE, &res);
    if (rc == RK_OK)
        rc = rk_portfolio_warm(pf, res);
    if (rc != RK_OK) {
        snprintf(msg, msglen, "warm-up request: %s", rk_strerror(rc));
        goto out;
    }
    rk_position trade;
    if (!trade_of(ds, &trade)) {
        snprintf(msg, msglen, "no spot, rate and vol underlying to build a candidate");
        goto out;
    }
    _Atomic int ready = 0, go = 0;
    size_t started = 0;
    for (size_t t = 0; t < callers; t++) {
        cs[t] = (caller){.pf = pf,
                         .trade = trade,
                         .scenario = scenarios > 0,
                         .n = per_caller,
                         .lat_us = all + t * per_caller,
                         .ready = &ready,
                         .go = &go};
        if (pthread_create(&th[t], NULL, caller_main, &cs[t]) != 0)
            break;
        started++;
    }
    while (atomic_load(&ready) < (int)started)
        ;
    atomic_store(&go, 1);
    for (size_t t = 0; t < started; t++) {
        pthread_join(th[t], NULL);
        out->failures += cs[t].failures;
    }
    if (started < callers) {
        snprintf(msg, msglen, "cannot start the caller threads");
        goto out;
    }
    size_t n = callers * per_caller;
    qsort(all, n, sizeof *all, cmp);
    out->samples = n;
    out->p50_us = pct(all, n, 50);
    out->p99_us = pct(all, n, 99);
    out->max_us = all[n - 1];
    ret = 0;
out:
    rk_result_destroy(res);
    rk_request_destroy(rq);
    rk_portfolio_destroy(pf);
    rk_engine_destroy(e);
    rk_dataset_destroy(ds);
    free(all);
    free(th);
    free(cs);
    return ret;
}
