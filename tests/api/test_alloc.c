/*
 * test_alloc.c - the real-time path makes no heap allocation once warm. This program replaces
 * the malloc family with counting versions (malloc_hook.h), so every allocation by any thread -
 * the caller, the engine's workers, OpenBLAS, libc - is seen, not only those a library chooses
 * to route through hooks. After a warm-up (which includes
 * client threads submitting concurrently), repeated grid + parametric VaR requests with
 * deadlines, several in flight at once and completed on the engine's worker threads, with
 * market updates between them, must allocate and free nothing. So must what-ifs once warm:
 * two client threads, each with its own rk_whatif on one portfolio, clearing, adding candidates
 * (one in a new book) and evaluating them against the warm cache at the same time.
 *
 * Sanitizer builds interpose the malloc family themselves; there the test only runs the
 * workload (the count is checked in the plain build).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "book.h"
#include "harness.h"
#include "malloc_hook.h"

#define COUNTING MALLOC_HOOKED

#define CLIENTS 3
#define WARM_ROUNDS 8
#define HOT_ROUNDS 40
#define WARM_PASSES 3
/* Generous: the test is about allocations; a deadline that hits is fine too. */
#define BUDGET_NS INT64_C(2000000000)

typedef struct client {
    rk_portfolio *pf;
    rk_request *rq;
    int rounds;
    _Atomic int bad;
} client;

static void *client_main(void *p)
{
    client *c = p;
    for (int k = 0; k < c->rounds; k++) {
        if (rk_request_submit(c->rq, rk_deadline_in(BUDGET_NS)) != RK_OK ||
            rk_request_wait(c->rq, RK_DEADLINE_NONE) != RK_OK) {
            atomic_fetch_add(&c->bad, 1);
            continue;
        }
        rk_result *res;
        if (rk_request_take_result(c->rq, &res) != RK_OK) {
            atomic_fetch_add(&c->bad, 1);
            continue;
        }
        double var;
        rk_coverage cv;
        rk_timings tm;
        size_t cur = 0;
        rk_error_info ei;
        rk_result_parametric_var(res, rk_result_books(res), &var, NULL);
        rk_result_coverage(res, RK_MEASURE_GRID, rk_result_books(res), &cv);
        rk_result_timings(res, &tm);
        while (rk_result_next_error(res, &cur, &ei))
            ;
        rk_result_destroy(res);
    }
    return NULL;
}

START_TEST(no_allocation_after_warm_up)
{
    rk_dataset *ds = NULL;
    rk_engine *e = NULL;
    ck_assert_int_eq(book_build(3000, &ds), RK_OK);
    ck_assert_int_eq(book_engine(2, &e), RK_OK);
    rk_portfolio *pf = NULL;
    ck_assert_int_eq(rk_portfolio_create(e, ds, &pf), RK_OK);
    client c[CLIENTS];
    for (int t = 0; t < CLIENTS; t++) {
        c[t].pf = pf;
        atomic_init(&c[t].bad, 0);
        ck_assert_int_eq(rk_request_create(pf, &c[t].rq), RK_OK);
        ck_assert_int_eq(rk_request_set_measures(c[t].rq, RK_MEASURE_GRID |
                                                              RK_MEASURE_PARAMETRIC_VAR),
                         RK_OK);
    }
    /* Warm-up, outside the counted window: every request, result, snapshot and engine record
     * reaches its steady size, first from this thread, then from concurrent client threads
     * (creating a thread allocates its stack and TLS, so threads are not created in the
     * window). */
    for (int k = 0; k < WARM_ROUNDS; k++) {
        rk_portfolio_set_value(pf, 0, 100.0 + 0.1 * k);
        for (int t = 0; t < CLIENTS; t++) {
            c[t].rounds = 1;
            client_main(&c[t]);
        }
    }
    pthread_t th[CLIENTS];
    for (int t = 0; t < CLIENTS; t++)
        c[t].rounds = WARM_ROUNDS;
    for (int t = 0; t < CLIENTS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, client_main, &c[t]), 0);
    for (int t = 0; t < CLIENTS; t++)
        pthread_join(th[t], NULL);

    /* The steady-state loop: requests in flight together, market updates between. Run
     * WARM_PASSES times uncounted (the last of the warm-up: it brings every pool - snapshots,
     * results, engine requests - to the size this pattern of overlap needs however the threads
     * happen to interleave), then once counted. */
    for (int pass = 0; pass <= WARM_PASSES; pass++) {
        atomic_store(&mh_counting, pass == WARM_PASSES);
        for (int k = 0; k < HOT_ROUNDS; k++) {
            rk_portfolio_set_value(pf, 0, 100.0 + 0.01 * k);
            rk_portfolio_set_value(pf, 1, 50.0 + 0.01 * k);
            /* No ck_assert in the window: Check allocates to record each one. */
            for (int t = 0; t < CLIENTS; t++)
                if (rk_request_submit(c[t].rq, rk_deadline_in(BUDGET_NS)) != RK_OK)
                    atomic_fetch_add(&c[t].bad, 1);
            for (int t = 0; t < CLIENTS; t++) {
                rk_result *res;
                if (rk_request_wait(c[t].rq, RK_DEADLINE_NONE) != RK_OK ||
                    rk_request_take_result(c[t].rq, &res) != RK_OK) {
                    atomic_fetch_add(&c[t].bad, 1);
                    continue;
                }
                double var;
                rk_result_parametric_var(res, rk_result_books(res), &var, NULL);
                rk_result_destroy(res);
            }
        }
    }
    atomic_store(&mh_counting, 0);
    unsigned long na = atomic_load(&mh_allocs), nf = atomic_load(&mh_frees);
    for (int t = 0; t < CLIENTS; t++)
        ck_assert_int_eq(atomic_load(&c[t].bad), 0);
#if COUNTING
    ck_assert_msg(na == 0 && nf == 0, "%lu allocations and %lu frees in the steady state", na,
                  nf);
#else
    (void)na;
    (void)nf;
#endif
    for (int t = 0; t < CLIENTS; t++)
        rk_request_destroy(c[t].rq);
    rk_portfolio_destroy(pf);
    rk_engine_destroy(e);
    rk_dataset_destroy(ds);
}
END_TEST

/* ---- what-if ---- */

#define WHATIF_CLIENTS 2
#define WHATIF_ROUNDS 50

typedef struct wclient {
    rk_whatif *w;
    _Atomic int *phase; /* the pass to run; -1: leave (seq_cst: the go signal of each pass) */
    _Atomic int *done;  /* passes finished, summed over the clients */
    _Atomic int bad;
} wclient;

static void whatif_round(wclient *c)
{
    static const char *books[3] = {"desk1", "new_desk", "desk2"};
    static const char *ids[3] = {"cand_call", "cand_spot", "cand_bond"};
    rk_whatif_clear(c->w);
    for (int k = 0; k < 3; k++) {
        rk_position p;
        rk_position_init(&p);
        p.id = ids[k];
        p.book = books[k];
        p.quantity = 10.0 + k;
        p.instrument = k == 0 ? "european_call" : k == 1 ? "spot" : "bond";
        p.underlying = k == 2 ? "R" : k == 0 ? "A" : "B";
        p.strike = 101.0;
        p.expiry = 0.8;
        p.rate = "R";
        p.vol = "V";
        p.coupon = 0.03;
        p.frequency = 1;
        if (rk_whatif_add(c->w, &p, NULL) != RK_OK)
            atomic_fetch_add(&c->bad, 1);
    }
    double v;
    if (rk_whatif_run(c->w, 0) != RK_OK ||
        rk_whatif_scenario_var(c->w, rk_whatif_books(c->w), NULL, &v, NULL, NULL) != RK_OK ||
        rk_whatif_parametric_var(c->w, 0, NULL, &v, NULL) != RK_OK)
        atomic_fetch_add(&c->bad, 1);
}

static void *wclient_main(void *p)
{
    wclient *c = p;
    int seen = 0;
    for (;;) {
        int ph;
        while ((ph = atomic_load(c->phase)) == seen)
            ;
        if (ph < 0)
            return NULL;
        for (int k = 0; k < WHATIF_ROUNDS; k++)
            whatif_round(c);
        seen = ph;
        atomic_fetch_add(c->done, 1);
    }
}

START_TEST(whatif_no_allocation_after_warm_up)
{
    rk_dataset *ds = NULL;
    rk_engine *e = NULL;
    ck_assert_int_eq(book_build(2000, &ds), RK_OK);
    ck_assert_int_eq(book_engine(2, &e), RK_OK);
    rk_portfolio *pf = NULL;
    ck_assert_int_eq(rk_portfolio_create(e, ds, &pf), RK_OK);
    rk_request *rq = NULL;
    ck_assert_int_eq(rk_request_create(pf, &rq), RK_OK);
    ck_assert_int_eq(rk_request_set_scenarios(rq, 300, 5), RK_OK);
    ck_assert_int_eq(
        rk_request_set_measures(rq, RK_MEASURE_PARAMETRIC_VAR | RK_MEASURE_SCENARIO_VAR), RK_OK);
    rk_result *res = NULL;
    ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &res), RK_OK);
    ck_assert_int_eq(rk_portfolio_warm(pf, res), RK_OK);
    _Atomic int phase = 0, done = 0;
    wclient c[WHATIF_CLIENTS];
    pthread_t th[WHATIF_CLIENTS];
    for (int t = 0; t < WHATIF_CLIENTS; t++) {
        c[t].phase = &phase;
        c[t].done = &done;
        atomic_init(&c[t].bad, 0);
        ck_assert_int_eq(rk_whatif_create(pf, &c[t].w), RK_OK);
        whatif_round(&c[t]); /* warm-up on this thread */
        ck_assert_int_eq(pthread_create(&th[t], NULL, wclient_main, &c[t]), 0);
    }
    /* WARM_PASSES passes uncounted, then one counted; the threads live through all of them */
    for (int pass = 1; pass <= WARM_PASSES + 1; pass++) {
        atomic_store(&mh_counting, pass == WARM_PASSES + 1);
        atomic_store(&phase, pass);
        while (atomic_load(&done) < pass * WHATIF_CLIENTS)
            ;
    }
    atomic_store(&mh_counting, 0);
    atomic_store(&phase, -1);
    for (int t = 0; t < WHATIF_CLIENTS; t++)
        pthread_join(th[t], NULL);
    unsigned long na = atomic_load(&mh_allocs), nf = atomic_load(&mh_frees);
    for (int t = 0; t < WHATIF_CLIENTS; t++) {
        ck_assert_int_eq(atomic_load(&c[t].bad), 0);
        rk_whatif_destroy(c[t].w);
    }
#if COUNTING
    ck_assert_msg(na == 0 && nf == 0, "%lu allocations and %lu frees in warm what-ifs", na, nf);
#else
    (void)na;
    (void)nf;
#endif
    rk_result_destroy(res);
    rk_request_destroy(rq);
    rk_portfolio_destroy(pf);
    rk_engine_destroy(e);
    rk_dataset_destroy(ds);
}
END_TEST

START_TEST(counter_sees_allocations)
{
    /* The interposer is live: an allocation in the window is counted. */
    atomic_store(&mh_counting, 1);
    void *volatile p = malloc(64);
    free(p);
    atomic_store(&mh_counting, 0);
#if COUNTING
    ck_assert_uint_ge(atomic_load(&mh_allocs), 1);
    ck_assert_uint_ge(atomic_load(&mh_frees), 1);
#endif
    atomic_store(&mh_allocs, 0);
    atomic_store(&mh_frees, 0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("api-alloc");
    TCase *tc = tcase_create("real-time path");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, counter_sees_allocations);
    tcase_add_test(tc, no_allocation_after_warm_up);
    tcase_add_test(tc, whatif_no_allocation_after_warm_up);
    suite_add_tcase(s, tc);
    return s;
}
