/*
 * test_oom.c - allocation failure, SQLite style: the N-th allocation of an operation fails, for
 * N = 1, 2, ... until the operation makes fewer than N allocations and succeeds. Every failed
 * attempt must return RK_NO_MEMORY (or a result whose status or records say NO_MEMORY), must
 * leave the heap as it found it once its objects are destroyed (the count of live allocations
 * is back where it was), and the next attempt, without injection, must give the same numbers
 * as an untroubled run.
 *
 * Operations: rk_dataset_load, rk_portfolio_create, rk_portfolio_set_covariance, and a full
 * request (create, submit, wait, take) for every measure.
 *
 * The malloc family is replaced (malloc_hook.h), so every allocation of every thread is seen,
 * the libraries below ours included. Sanitizer builds interpose the malloc family themselves;
 * there the loops do not run (the plain build runs them; CI runs both).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "malloc_hook.h"
#include "riskengine.h"

/* No attempt needs more allocations than this; the loop stops there with a failure. */
#define MAX_ATTEMPTS 20000

#if MALLOC_HOOKED
static void arm(long n)
{
    atomic_store(&mh_failed, 0);
    atomic_store(&mh_fail_in, n);
}

/* Disarms; returns whether a failure was injected. */
static int disarm(void)
{
    atomic_store(&mh_fail_in, 0);
    return atomic_load(&mh_failed);
}
#endif

/* ---- the operations ---- */

static const char *data_dir(void)
{
    const char *d = getenv("RK_TEST_DATA");
    return d != NULL ? d : "data/sample";
}

static rk_engine *engine(void)
{
    rk_engine_config cfg;
    rk_engine_config_init(&cfg);
    cfg.threads = 2;
    cfg.no_pin = 1;
    rk_engine *e = NULL;
    char msg[256];
    ck_assert_msg(rk_engine_create(&cfg, &e, msg, sizeof msg) == RK_OK, "engine: %s", msg);
    return e;
}

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

static uint64_t num(uint64_t h, rk_status st, double x)
{
    uint64_t u = 0;
    if (st == RK_OK)
        memcpy(&u, &x, sizeof u);
    return mix(mix(h, (uint64_t)st), u);
}

/* A digest of everything a result holds for its measures. */
static uint64_t result_digest(const rk_result *res)
{
    uint64_t h = mix(0, (uint64_t)rk_result_status(res));
    size_t np = rk_result_positions(res), nf = rk_result_factors(res), nb = rk_result_books(res);
    unsigned m = rk_result_measures(res);
    double a, b;
    rk_status st;
    for (size_t p = 0; p < np; p++) {
        st = rk_result_value(res, p, &a);
        h = num(h, st, a);
        for (size_t f = 0; (m & RK_MEASURE_GRID) && f < nf; f++) {
            st = rk_result_sensitivity(res, p, f, &a, &b);
            h = num(num(h, st, a), st, b);
        }
    }
    for (size_t k = 0; k <= nb; k++) {
        st = rk_result_parametric_var(res, k, &a, &b);
        h = num(num(h, st, a), st, b);
        st = rk_result_scenario_var(res, k, &a, &b);
        h = num(num(h, st, a), st, b);
        for (size_t s = 0; s < rk_result_scenarios(res, RK_MEASURE_STRESS); s++) {
            st = rk_result_stress(res, s, k, &a, NULL);
            h = num(h, st, a);
        }
    }
    return h;
}

/* Whether a result says it ran out of memory: its status, or one of its records. */
static int says_no_memory(const rk_result *res)
{
    if (rk_result_status(res) == RK_NO_MEMORY)
        return 1;
    size_t cur = 0;
    rk_error_info ei;
    while (rk_result_next_error(res, &cur, &ei))
        if (ei.code == RK_NO_MEMORY)
            return 1;
    return 0;
}

/* One attempt of an operation: returns its status, and on success a digest of what it made.
 * setup and teardown (optional) run around it, outside the injection: what lives across the
 * operation (an engine, with its caches of spare jobs) is made before and destroyed after, so
 * that the heap count after teardown shows leaks and nothing else. */
typedef rk_status (*attempt_fn)(void *ctx, uint64_t *digest);
typedef void (*around_fn)(void *ctx);

static rk_status attempt(attempt_fn fn, around_fn setup, around_fn teardown, void *ctx,
                         uint64_t *digest)
{
    if (setup != NULL)
        setup(ctx);
    rk_status st = fn(ctx, digest);
    if (teardown != NULL)
        teardown(ctx);
    return st;
}

/* The loop: attempts with the N-th allocation failing, N = 1, 2, ..., until one succeeds
 * without injection. Checks every failed attempt's code and the heap, and the final digest. */
static void fault_loop(const char *what, attempt_fn fn, around_fn setup, around_fn teardown,
                       void *ctx)
{
    uint64_t want;
    ck_assert_msg(attempt(fn, setup, teardown, ctx, &want) == RK_OK, "%s fails without injection",
                  what);
#if MALLOC_HOOKED
    long n;
    for (n = 1; n <= MAX_ATTEMPTS; n++) {
        long before = atomic_load(&mh_live);
        uint64_t got = 0;
        if (setup != NULL)
            setup(ctx);
        arm(n);
        rk_status st = fn(ctx, &got);
        int hit = disarm();
        if (teardown != NULL)
            teardown(ctx);
        long after = atomic_load(&mh_live);
        if (!hit) {
            ck_assert_msg(st == RK_OK, "%s: %s without an injected failure", what,
                          rk_status_name(st));
            ck_assert_msg(got == want, "%s: other numbers after %ld injected failures", what,
                          n - 1);
            break;
        }
        ck_assert_msg(st == RK_NO_MEMORY || st == RK_OK,
                      "%s: allocation %ld failed, returned %s (want NO_MEMORY)", what, n,
                      rk_status_name(st));
        /* The next untroubled attempt gives the right numbers, and its own count of live
         * allocations is the yardstick: what setup and teardown leave behind (the C library's
         * and hwloc's first-use state) is the same for both, a leak is not. */
        uint64_t again = 0;
        long before_again = atomic_load(&mh_live);
        rk_status st_again = attempt(fn, setup, teardown, ctx, &again);
        long clean = atomic_load(&mh_live) - before_again; /* before any ck_assert: they allocate */
        ck_assert_msg(st_again == RK_OK && again == want,
                      "%s: the run after failing allocation %ld differs", what, n);
        ck_assert_msg(after - before == clean,
                      "%s: allocation %ld failed, %ld allocations leaked", what, n,
                      after - before - clean);
    }
    ck_assert_msg(n <= MAX_ATTEMPTS, "%s: still failing after %d attempts", what, MAX_ATTEMPTS);
    printf("%s: %ld allocations, each failed in turn\n", what, n - 1);
#endif
}

/* rk_dataset_load: the data set's digest is its counts and error records. */
static rk_status load_attempt(void *ctx, uint64_t *digest)
{
    (void)ctx;
    rk_dataset *ds = NULL;
    char msg[512];
    rk_status st = rk_dataset_load(data_dir(), &ds, msg, sizeof msg);
    if (st == RK_OK) {
        uint64_t h = mix(mix(mix(0, rk_dataset_positions(ds)), rk_dataset_underlyings(ds)),
                         rk_dataset_scenarios(ds));
        size_t ne = rk_dataset_error_count(ds);
        for (size_t k = 0; k < ne; k++) {
            rk_error_info ei;
            rk_dataset_error(ds, k, &ei);
            if (ei.code == RK_NO_MEMORY)
                st = RK_NO_MEMORY; /* a record that ran out of memory is a failed load */
            h = mix(mix(h, ei.position), (uint64_t)ei.code);
        }
        *digest = h;
    }
    rk_dataset_destroy(ds);
    return st;
}

START_TEST(dataset_load)
{
    fault_loop("rk_dataset_load", load_attempt, NULL, NULL, NULL);
}
END_TEST

typedef struct pf_ctx {
    rk_engine *e;
    rk_dataset *ds;
    unsigned measures; /* 0: only create the portfolio */
    int historical;
    int set_cov;       /* set the covariance (scaled by 1.01) before the request */
    double *cov;
} pf_ctx;

static rk_status pf_attempt(void *ctx, uint64_t *digest)
{
    pf_ctx *c = ctx;
    rk_portfolio *pf = NULL;
    rk_request *rq = NULL;
    rk_result *res = NULL;
    rk_status st = rk_portfolio_create(c->e, c->ds, &pf);
    if (st == RK_OK && c->set_cov)
        st = rk_portfolio_set_covariance(pf, c->cov, rk_dataset_factors(c->ds));
    if (st == RK_OK && c->measures != 0) {
        st = rk_request_create(pf, &rq);
        if (st == RK_OK)
            st = rk_request_set_measures(rq, c->measures);
        if (st == RK_OK && (c->measures & RK_MEASURE_SCENARIO_VAR))
            st = c->historical ? rk_request_set_historical(rq)
                               : rk_request_set_scenarios(rq, 100, 7);
        if (st == RK_OK)
            st = rk_request_submit(rq, RK_DEADLINE_NONE);
        if (st == RK_OK)
            st = rk_request_wait(rq, RK_DEADLINE_NONE);
        if (st == RK_OK)
            st = rk_request_take_result(rq, &res);
        if (st == RK_OK) {
            if (says_no_memory(res))
                st = RK_NO_MEMORY;
            else if (rk_result_status(res) != RK_OK)
                st = rk_result_status(res);
            else
                *digest = result_digest(res);
        }
    } else if (st == RK_OK) {
        *digest = rk_portfolio_market_version(pf);
    }
    rk_result_destroy(res);
    rk_request_destroy(rq);
    rk_portfolio_destroy(pf);
    return st;
}

static void pf_setup(pf_ctx *c)
{
    memset(c, 0, sizeof *c);
    char msg[512];
    ck_assert_msg(rk_dataset_load(data_dir(), &c->ds, msg, sizeof msg) == RK_OK, "%s", msg);
}

static void pf_teardown(pf_ctx *c)
{
    rk_dataset_destroy(c->ds);
    free(c->cov);
}

static void engine_up(void *ctx)
{
    ((pf_ctx *)ctx)->e = engine();
}

static void engine_down(void *ctx)
{
    pf_ctx *c = ctx;
    rk_engine_destroy(c->e);
    c->e = NULL;
}

START_TEST(portfolio_create)
{
    pf_ctx c;
    pf_setup(&c);
    fault_loop("rk_portfolio_create", pf_attempt, engine_up, engine_down, &c);
    pf_teardown(&c);
}
END_TEST

START_TEST(portfolio_set_covariance)
{
    pf_ctx c;
    pf_setup(&c);
    /* The sample's covariance, read back through a parametric VaR would be circular: build a
     * valid one instead (diagonal), which the rule accepts whatever the factors are. */
    size_t nf = rk_dataset_factors(c.ds);
    c.cov = calloc(nf * nf, sizeof *c.cov);
    for (size_t i = 0; i < nf; i++)
        c.cov[i * nf + i] = 1e-4 * (1.0 + (double)i);
    c.set_cov = 1;
    c.measures = RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR;
    fault_loop("rk_portfolio_set_covariance + parametric VaR", pf_attempt, engine_up, engine_down, &c);
    pf_teardown(&c);
}
END_TEST

static const struct {
    const char *name;
    unsigned measures;
    int historical;
} MEASURES[] = {
    {"values", RK_MEASURE_VALUES, 0},
    {"grid", RK_MEASURE_GRID, 0},
    {"parametric VaR", RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR, 0},
    {"Monte Carlo VaR", RK_MEASURE_SCENARIO_VAR, 0},
    {"historical VaR", RK_MEASURE_SCENARIO_VAR, 1},
    {"stress", RK_MEASURE_STRESS, 0},
};

START_TEST(every_measure)
{
    pf_ctx c;
    pf_setup(&c);
    c.measures = MEASURES[_i].measures;
    c.historical = MEASURES[_i].historical;
    char what[96];
    snprintf(what, sizeof what, "request: %s", MEASURES[_i].name);
    fault_loop(what, pf_attempt, engine_up, engine_down, &c);
    pf_teardown(&c);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("api-oom");
    TCase *tc = tcase_create("oom");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, dataset_load);
    tcase_add_test(tc, portfolio_create);
    tcase_add_test(tc, portfolio_set_covariance);
    tcase_add_loop_test(tc, every_measure, 0, (int)(sizeof MEASURES / sizeof MEASURES[0]));
    suite_add_tcase(s, tc);
    return s;
}
