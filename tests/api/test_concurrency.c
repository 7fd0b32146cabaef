/*
 * test_concurrency.c - many threads on one engine, through riskengine.h only: submit/cancel
 * storms (every request completes exactly once with OK, DEADLINE or CANCELLED, whoever cancels
 * it), and snapshot consistency under market updates (each result equals, bitwise, the result
 * computed alone on the market version it reports). Run under ThreadSanitizer by `make tsan`.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "book.h"
#include "harness.h"

#define STORM_THREADS 4
#define STORM_ROUNDS 25

typedef struct storm {
    rk_portfolio *pf;
    rk_request *req[STORM_THREADS];
    _Atomic int callbacks[STORM_THREADS];
    _Atomic int bad; /* a broken promise seen by a thread (checked on the main thread) */
} storm;

typedef struct storm_arg {
    storm *s;
    unsigned id;
} storm_arg;

static void storm_cb(rk_request *req, const rk_result *res, void *arg)
{
    (void)req;
    (void)res;
    atomic_fetch_add((_Atomic int *)arg, 1);
}

static void *storm_main(void *p)
{
    storm_arg *a = p;
    storm *s = a->s;
    rk_request *mine = s->req[a->id];
    uint64_t rng = 0x9E3779B97F4A7C15ull * (a->id + 1);
    for (int k = 0; k < STORM_ROUNDS; k++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        int64_t dl = (rng & 3) == 0 ? rk_deadline_in((int64_t)(rng % 3000000)) : RK_DEADLINE_NONE;
        if (rk_request_submit(mine, dl) != RK_OK)
            atomic_fetch_add(&s->bad, 1);
        /* cancel a neighbour's request (running or not), sometimes our own */
        if (rng & 4)
            rk_request_cancel(s->req[(a->id + 1 + (rng >> 8) % (STORM_THREADS - 1)) %
                                     STORM_THREADS]);
        if ((rng & 24) == 0)
            rk_request_cancel(mine);
        if (rk_request_wait(mine, RK_DEADLINE_NONE) != RK_OK)
            atomic_fetch_add(&s->bad, 1);
        rk_result *res;
        if (rk_request_take_result(mine, &res) != RK_OK) {
            atomic_fetch_add(&s->bad, 1);
            continue;
        }
        rk_status st = rk_result_status(res);
        if (st != RK_OK && st != RK_DEADLINE && st != RK_CANCELLED)
            atomic_fetch_add(&s->bad, 1);
        rk_coverage cv;
        if (rk_result_coverage(res, RK_MEASURE_GRID, rk_result_books(res), &cv) != RK_OK ||
            cv.cells_ok > cv.cells_requested || (st == RK_OK && cv.coverage < 0.99))
            atomic_fetch_add(&s->bad, 1);
        rk_result_destroy(res);
    }
    return NULL;
}

START_TEST(submit_cancel_storm)
{
    rk_dataset *ds = NULL;
    rk_engine *e = NULL;
    ck_assert_int_eq(book_build(500, &ds), RK_OK);
    ck_assert_int_eq(book_engine(2, &e), RK_OK);
    storm s;
    memset(&s, 0, sizeof s);
    atomic_init(&s.bad, 0);
    ck_assert_int_eq(rk_portfolio_create(e, ds, &s.pf), RK_OK);
    for (unsigned t = 0; t < STORM_THREADS; t++) {
        atomic_init(&s.callbacks[t], 0);
        ck_assert_int_eq(rk_request_create(s.pf, &s.req[t]), RK_OK);
        ck_assert_int_eq(rk_request_set_callback(s.req[t], storm_cb, &s.callbacks[t]), RK_OK);
    }
    pthread_t th[STORM_THREADS];
    storm_arg args[STORM_THREADS];
    for (unsigned t = 0; t < STORM_THREADS; t++) {
        args[t] = (storm_arg){&s, t};
        ck_assert_int_eq(pthread_create(&th[t], NULL, storm_main, &args[t]), 0);
    }
    for (unsigned t = 0; t < STORM_THREADS; t++)
        pthread_join(th[t], NULL);
    ck_assert_int_eq(atomic_load(&s.bad), 0);
    for (unsigned t = 0; t < STORM_THREADS; t++)
        ck_assert_int_eq(atomic_load(&s.callbacks[t]), STORM_ROUNDS); /* exactly once each */
    rk_engine_stats st;
    ck_assert_int_eq(rk_engine_stats_get(e, &st), RK_OK);
    ck_assert_uint_eq(st.requests_in_flight, 0);
    ck_assert_uint_eq(st.requests_completed, STORM_THREADS * STORM_ROUNDS);
    for (unsigned t = 0; t < STORM_THREADS; t++)
        rk_request_destroy(s.req[t]);
    rk_portfolio_destroy(s.pf);
    rk_engine_destroy(e);
    rk_dataset_destroy(ds);
}
END_TEST

/* ---- snapshot consistency ---- */

#define SNAP_UPDATES 60
#define SNAP_RESULTS 24
#define SNAP_THREADS 3

/* The market thread's k-th update (version k + 2) moves both spots together. */
static void snap_values(int k, double v[2])
{
    v[0] = 100.0 + 0.37 * (double)(k + 1);
    v[1] = 50.0 - 0.11 * (double)(k + 1);
}

typedef struct snap_run {
    rk_portfolio *pf;
    _Atomic int stop;
    rk_result *res[SNAP_THREADS][SNAP_RESULTS];
} snap_run;

typedef struct snap_arg {
    snap_run *r;
    unsigned id;
} snap_arg;

static void *market_main(void *p)
{
    snap_run *r = p;
    for (int k = 0; k < SNAP_UPDATES && !atomic_load(&r->stop); k++) {
        double v[2];
        snap_values(k, v);
        rk_portfolio_set_values(r->pf, 0, 2, v);
        sched_yield();
    }
    return NULL;
}

static void *snap_client(void *p)
{
    snap_arg *a = p;
    rk_request *rq;
    if (rk_request_create(a->r->pf, &rq) != RK_OK)
        return NULL;
    for (int k = 0; k < SNAP_RESULTS; k++)
        if (rk_request_run(rq, RK_DEADLINE_NONE, &a->r->res[a->id][k]) != RK_OK)
            a->r->res[a->id][k] = NULL;
    rk_request_destroy(rq);
    return NULL;
}

START_TEST(results_match_their_snapshot)
{
    rk_dataset *ds = NULL;
    rk_engine *e = NULL;
    ck_assert_int_eq(book_build(400, &ds), RK_OK);
    ck_assert_int_eq(book_engine(2, &e), RK_OK);
    snap_run r;
    memset(&r, 0, sizeof r);
    atomic_init(&r.stop, 0);
    ck_assert_int_eq(rk_portfolio_create(e, ds, &r.pf), RK_OK);
    pthread_t mt, ct[SNAP_THREADS];
    snap_arg args[SNAP_THREADS];
    ck_assert_int_eq(pthread_create(&mt, NULL, market_main, &r), 0);
    for (unsigned t = 0; t < SNAP_THREADS; t++) {
        args[t] = (snap_arg){&r, t};
        ck_assert_int_eq(pthread_create(&ct[t], NULL, snap_client, &args[t]), 0);
    }
    for (unsigned t = 0; t < SNAP_THREADS; t++)
        pthread_join(ct[t], NULL);
    atomic_store(&r.stop, 1);
    pthread_join(mt, NULL);

    /* Recompute alone on each version seen, on a second portfolio of the same data. */
    rk_portfolio *quiet;
    ck_assert_int_eq(rk_portfolio_create(e, ds, &quiet), RK_OK);
    rk_request *rq;
    ck_assert_int_eq(rk_request_create(quiet, &rq), RK_OK);
    for (unsigned t = 0; t < SNAP_THREADS; t++) {
        for (int k = 0; k < SNAP_RESULTS; k++) {
            rk_result *got = r.res[t][k];
            ck_assert_ptr_nonnull(got);
            uint64_t ver = rk_result_market_version(got);
            double v[2] = {100.0, 50.0};
            if (ver >= 2)
                snap_values((int)ver - 2, v);
            ck_assert_int_eq(rk_portfolio_set_values(quiet, 0, 2, v), RK_OK);
            rk_result *want;
            ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &want), RK_OK);
            size_t n = rk_result_positions(got), B = rk_result_books(got);
            for (size_t i = 0; i < n; i++) {
                double a, b;
                ck_assert_int_eq(rk_result_value(got, i, &a), rk_result_value(want, i, &b));
                ck_assert_msg(rk_test_same_bits(a, b), "position %zu at version %llu", i,
                              (unsigned long long)ver);
            }
            for (size_t bk = 0; bk <= B; bk++) {
                double a, b;
                ck_assert_int_eq(rk_result_parametric_var(got, bk, &a, NULL), RK_OK);
                ck_assert_int_eq(rk_result_parametric_var(want, bk, &b, NULL), RK_OK);
                ck_assert(rk_test_same_bits(a, b));
            }
            rk_result_destroy(want);
            rk_result_destroy(got);
        }
    }
    rk_request_destroy(rq);
    rk_portfolio_destroy(quiet);
    rk_portfolio_destroy(r.pf);
    rk_engine_destroy(e);
    rk_dataset_destroy(ds);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("api-concurrency");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, submit_cancel_storm);
    tcase_add_test(tc, results_match_their_snapshot);
    suite_add_tcase(s, tc);
    return s;
}
