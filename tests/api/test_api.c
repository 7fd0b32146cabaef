/*
 * test_api.c - the public header's contract, through riskengine.h only: lifecycles (destroy of
 * NULL, reuse of a request), every error path (NULL, bad sizes, unknown ids, bad options, busy
 * objects), synchronous and asynchronous runs with callbacks, deadlines and cancellation,
 * results equal to a fresh run, and bitwise identical results across worker counts.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "book.h"
#include "harness.h"

/* A request's wait must return within its deadline plus this (noisy shared CI machines). */
#define DEADLINE_SLACK_NS RK_TEST_DEADLINE_SLACK_NS
/* Values at two instruction-set levels: the models' own tolerance against their references
 * (tests/models/), the loosest of which is the european's 1e-12 relative. */
#define TOL_ISA_REL 1e-12

START_TEST(destroy_null_is_harmless)
{
    rk_engine_destroy(NULL);
    rk_dataset_destroy(NULL);
    rk_portfolio_destroy(NULL);
    rk_request_destroy(NULL);
    rk_result_destroy(NULL);
    rk_engine_config_init(NULL);
    rk_position_init(NULL);
}
END_TEST

START_TEST(null_and_bad_arguments)
{
    ck_assert_int_eq(rk_engine_create(NULL, NULL, NULL, 0), RK_BAD_ARGUMENT);
    rk_engine_config cfg;
    rk_engine_config_init(&cfg);
    cfg.tile_target_us = -1;
    rk_engine *e = NULL;
    ck_assert_int_eq(rk_engine_create(&cfg, &e, NULL, 0), RK_BAD_ARGUMENT);
    ck_assert_ptr_null(e);
    ck_assert_int_eq(rk_dataset_create(NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_dataset_load(NULL, NULL, NULL, 0), RK_BAD_ARGUMENT);
    rk_dataset *ds = NULL;
    char msg[256];
    ck_assert_int_ne(rk_dataset_load("/nonexistent-folder", &ds, msg, sizeof msg), RK_OK);
    ck_assert_ptr_null(ds);
    ck_assert_int_gt((int)strlen(msg), 0);
    ck_assert_int_eq(rk_portfolio_create(NULL, NULL, NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_create(NULL, NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_submit(NULL, 0), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_wait(NULL, 0), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_cancel(NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_take_result(NULL, NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_run(NULL, 0, NULL), RK_BAD_ARGUMENT);
    ck_assert(!rk_request_done(NULL));
    ck_assert_int_eq(rk_result_status(NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_result_value(NULL, 0, NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_result_timings(NULL, NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_engine_stats_get(NULL, NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_portfolio_set_value(NULL, 0, 1), RK_BAD_ARGUMENT);
    ck_assert_uint_eq(rk_portfolio_market_version(NULL), 0);
    ck_assert_uint_eq(rk_dataset_positions(NULL), 0);
    ck_assert_ptr_null(rk_dataset_position_id(NULL, 0));
    ck_assert_int_ge(rk_now_ns(), 0);
    ck_assert_int_eq(rk_deadline_in(INT64_MAX), RK_DEADLINE_NONE);
}
END_TEST

/* Bonds built in memory meet the loader's bounds: a frequency or a cash-flow count that would
 * make the pricer's flow-by-flow loop spin for ever (near 1e17) is refused at once. */
START_TEST(bond_bounds_in_memory)
{
    rk_dataset *ds = NULL;
    ck_assert_int_eq(rk_dataset_create(&ds), RK_OK);
    ck_assert_int_eq(rk_dataset_add_factor(ds, "f0", NULL), RK_OK);
    const double cov[1] = {1e-4}, l[1] = {1};
    ck_assert_int_eq(rk_dataset_set_covariance(ds, cov, 1), RK_OK);
    ck_assert_int_eq(rk_dataset_add_underlying(ds, "R", RK_UNDERLYING_RATE, 0.03, l, 1, NULL),
                     RK_OK);
    rk_position p;
    rk_position_init(&p);
    p.book = "b";
    p.instrument = "bond";
    p.quantity = 1;
    p.underlying = "R";
    p.coupon = 0.05;
    static const struct {
        double T, f;
        rk_status want;
        const char *msg;
    } cases[] = {
        {5, 2, RK_OK, NULL},
        {5, 1e17, RK_INVALID_INPUT, "frequency must be at most 366 a year"},
        {1e17, 2, RK_INVALID_INPUT, "expiry x frequency must be at most 100000 cash flows"},
        {1000, 365, RK_INVALID_INPUT, "expiry x frequency must be at most 100000 cash flows"},
    };
    char id[8];
    size_t nerr = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        snprintf(id, sizeof id, "B%zu", k);
        p.id = id;
        p.expiry = cases[k].T;
        p.frequency = cases[k].f;
        ck_assert_int_eq(rk_dataset_add_position(ds, &p, NULL), cases[k].want);
        if (cases[k].msg == NULL)
            continue;
        rk_error_info ei;
        ck_assert_int_eq(rk_dataset_error(ds, nerr++, &ei), RK_OK);
        ck_assert_uint_eq(ei.position, k);
        ck_assert_msg(strstr(ei.message, cases[k].msg) != NULL, "%s", ei.message);
    }
    rk_dataset_destroy(ds);
}
END_TEST

START_TEST(dataset_building_errors)
{
    rk_dataset *ds = NULL;
    ck_assert_int_eq(rk_dataset_create(&ds), RK_OK);
    ck_assert_int_eq(rk_dataset_add_factor(ds, NULL, NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_dataset_add_factor(ds, "", NULL), RK_BAD_ARGUMENT);
    size_t j;
    ck_assert_int_eq(rk_dataset_add_factor(ds, "f0", &j), RK_OK);
    ck_assert_uint_eq(j, 0);
    ck_assert_int_eq(rk_dataset_add_factor(ds, "f0", NULL), RK_BAD_ARGUMENT); /* duplicate */
    ck_assert_int_eq(rk_dataset_add_factor(ds, "f1", NULL), RK_OK);
    const double notsym[4] = {1, 0.5, 0.4, 1}, notpd[4] = {1, 2, 2, 1}, ok[4] = {1, 0.1, 0.1, 1};
    ck_assert_int_eq(rk_dataset_set_covariance(ds, ok, 3), RK_BAD_ARGUMENT); /* size */
    ck_assert_int_eq(rk_dataset_set_covariance(ds, NULL, 2), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_dataset_set_covariance(ds, notsym, 2), RK_INVALID_INPUT);
    ck_assert_int_eq(rk_dataset_set_covariance(ds, notpd, 2), RK_INVALID_INPUT);
    /* covariance.csv's rule: rounding-level asymmetry is accepted, as the loader accepts it */
    const double nearly[4] = {1, 0.1, 0.1 * (1 + 1e-14), 1};
    ck_assert_int_eq(rk_dataset_set_covariance(ds, nearly, 2), RK_OK);
    ck_assert_int_eq(rk_dataset_set_covariance(ds, ok, 2), RK_OK);
    ck_assert_int_eq(rk_dataset_add_factor(ds, "late", NULL), RK_BAD_ARGUMENT);
    const double l[2] = {1, 0};
    ck_assert_int_eq(rk_dataset_add_underlying(ds, "S", RK_UNDERLYING_SPOT, -1, l, 2, NULL),
                     RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_dataset_add_underlying(ds, "S", RK_UNDERLYING_SPOT, 1, l, 1, NULL),
                     RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_dataset_add_underlying(ds, "S", (rk_underlying_kind)7, 1, l, 2, NULL),
                     RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_dataset_add_underlying(ds, "S", RK_UNDERLYING_SPOT, 1, l, 2, NULL), RK_OK);
    ck_assert_int_eq(rk_dataset_add_underlying(ds, "S", RK_UNDERLYING_SPOT, 1, l, 2, NULL),
                     RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_dataset_add_underlying(ds, "R", RK_UNDERLYING_RATE, -0.01, l, 2, NULL),
                     RK_OK);
    size_t u;
    ck_assert_int_eq(rk_dataset_find_underlying(ds, "R", &u), RK_OK);
    ck_assert_uint_eq(u, 1);
    ck_assert_int_eq(rk_dataset_find_underlying(ds, "X", &u), RK_NOT_FOUND);
    rk_position p;
    rk_position_init(&p);
    ck_assert_int_eq(rk_dataset_add_position(ds, NULL, NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_dataset_add_position(ds, &p, NULL), RK_BAD_ARGUMENT); /* no id */
    p.id = "x";
    p.book = "b";
    p.instrument = "spot";
    p.quantity = 2;
    p.underlying = "S";
    ck_assert_int_eq(rk_dataset_add_position(ds, &p, NULL), RK_OK);
    ck_assert_int_eq(rk_dataset_add_position(ds, &p, NULL), RK_BAD_ARGUMENT); /* duplicate */
    p.id = "y";
    p.instrument = "swaption";
    ck_assert_int_eq(rk_dataset_add_position(ds, &p, NULL), RK_INVALID_INPUT);
    p.id = "z";
    p.instrument = "spot";
    p.book = NULL;
    ck_assert_int_eq(rk_dataset_add_position(ds, &p, NULL), RK_INVALID_INPUT);
    ck_assert_uint_eq(rk_dataset_positions(ds), 3);
    ck_assert_uint_eq(rk_dataset_error_count(ds), 2);
    rk_error_info ei;
    ck_assert_int_eq(rk_dataset_error(ds, 0, &ei), RK_OK);
    ck_assert_uint_eq(ei.position, 1);
    ck_assert_int_eq(ei.code, RK_INVALID_INPUT);
    ck_assert_int_eq(rk_dataset_error(ds, 2, &ei), RK_NOT_FOUND);
    /* Once a portfolio uses it, the data set is read-only. */
    rk_engine *e = NULL;
    ck_assert_int_eq(book_engine(1, &e), RK_OK);
    rk_portfolio *pf = NULL;
    ck_assert_int_eq(rk_portfolio_create(e, ds, &pf), RK_OK);
    p.id = "w";
    ck_assert_int_eq(rk_dataset_add_position(ds, &p, NULL), RK_BUSY);
    ck_assert_int_eq(rk_dataset_add_factor(ds, "f9", NULL), RK_BUSY);
    /* Market updates: unknown ids, bad values, bad sizes. */
    ck_assert_int_eq(rk_portfolio_set_value(pf, 9, 1.0), RK_NOT_FOUND);
    ck_assert_int_eq(rk_portfolio_set_value(pf, 0, -1.0), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_portfolio_set_value(pf, 1, -0.02), RK_OK); /* rates may be negative */
    const double two[2] = {1, 2};
    ck_assert_int_eq(rk_portfolio_set_values(pf, 1, 2, two), RK_NOT_FOUND);
    ck_assert_int_eq(rk_portfolio_set_covariance(pf, ok, 3), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_portfolio_set_covariance(pf, notpd, 2), RK_INVALID_INPUT);
    const double asym[4] = {1, 0.1, 0.2, 1};
    ck_assert_int_eq(rk_portfolio_set_covariance(pf, asym, 2), RK_INVALID_INPUT);
    ck_assert_int_eq(rk_portfolio_set_covariance(pf, nearly, 2), RK_OK);
    ck_assert_int_eq(rk_portfolio_set_covariance(pf, ok, 2), RK_OK);
    ck_assert_uint_eq(rk_portfolio_market_version(pf), 4);
    rk_portfolio_destroy(pf);
    rk_engine_destroy(e);
    rk_dataset_destroy(ds);
}
END_TEST

START_TEST(request_options_and_states)
{
    fixture f;
    fx_open(&f, 300, 2);
    rk_request *rq;
    ck_assert_int_eq(rk_request_create(f.pf, &rq), RK_OK);
    ck_assert_int_eq(rk_request_set_measures(rq, 0), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_measures(rq, 1u << 20), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_measures(rq, RK_MEASURE_STRESS), RK_NOT_FOUND); /* no file */
    ck_assert_int_eq(rk_request_set_bump(rq, 0), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_bump(rq, NAN), RK_BAD_ARGUMENT);
    /* the range's ends are accepted, the doubles beyond them refused */
    ck_assert_int_eq(rk_request_set_bump(rq, RK_BUMP_MIN), RK_OK);
    ck_assert_int_eq(rk_request_set_bump(rq, RK_BUMP_MAX), RK_OK);
    ck_assert_int_eq(rk_request_set_bump(rq, nextafter(RK_BUMP_MIN, 0)), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_bump(rq, nextafter(RK_BUMP_MAX, 2)), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_bump(rq, 1e-300), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_bump(rq, INFINITY), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_bump(rq, 1e-4), RK_OK);
    ck_assert_int_eq(rk_request_set_confidence(rq, 1.0), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_horizon(rq, -1), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_wait(rq, RK_NO_WAIT), RK_BAD_ARGUMENT); /* never submitted */
    rk_result *res;
    ck_assert_int_eq(rk_request_take_result(rq, &res), RK_NOT_FOUND);
    ck_assert_int_eq(rk_request_cancel(rq), RK_OK); /* harmless when idle */
    /* Running: options and resubmission are refused. */
    ck_assert_int_eq(rk_request_submit(rq, RK_DEADLINE_NONE), RK_OK);
    rk_status s = rk_request_submit(rq, RK_DEADLINE_NONE);
    ck_assert(s == RK_BUSY || s == RK_OK); /* OK only if it completed already */
    ck_assert_int_eq(rk_request_wait(rq, RK_DEADLINE_NONE), RK_OK);
    ck_assert(rk_request_done(rq));
    ck_assert_int_eq(rk_request_take_result(rq, &res), RK_OK);
    rk_result *again;
    ck_assert_int_eq(rk_request_take_result(rq, &again), RK_NOT_FOUND);
    ck_assert_int_eq(rk_result_status(res), RK_OK);
    /* Accessor errors. */
    size_t n = rk_result_positions(res), F = rk_result_factors(res), B = rk_result_books(res);
    ck_assert_uint_eq(n, 302);
    ck_assert_uint_eq(F, 3);
    ck_assert_uint_eq(B, 3);
    double d, g;
    ck_assert_int_eq(rk_result_value(res, n, &d), RK_BAD_ARGUMENT);
    ck_assert(isnan(d));
    ck_assert_int_eq(rk_result_sensitivity(res, 0, F, &d, &g), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_result_exposure(res, B + 1, 0, &d), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_result_parametric_var(res, B + 1, &d, &g), RK_BAD_ARGUMENT);
    rk_coverage cv;
    ck_assert_int_eq(rk_result_coverage(res, 1u << 9, 0, &cv), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_result_value(res, n - 1, &d), RK_INVALID_INPUT);
    ck_assert_int_eq(rk_result_sensitivity(res, n - 1, 0, &d, &g), RK_INVALID_INPUT);
    /* The Euler contributions add up to the total. */
    double total, sum = 0;
    ck_assert_int_eq(rk_result_parametric_var(res, B, &total, NULL), RK_OK);
    for (size_t b = 0; b < B; b++) {
        double c;
        ck_assert_int_eq(rk_result_parametric_var(res, b, NULL, &c), RK_OK);
        sum += c;
    }
    ck_assert_close(sum, total, 1e-9, 1e-9);
    ck_assert_int_eq(rk_result_coverage(res, RK_MEASURE_VALUES, B, &cv), RK_OK);
    ck_assert_uint_eq(cv.cells_requested, 302);
    ck_assert_uint_eq(cv.cells_ok, 300);
    size_t cur = 0, nerr = 0;
    rk_error_info ei;
    while (rk_result_next_error(res, &cur, &ei))
        nerr++;
    ck_assert_uint_eq(nerr, 2);
    rk_timings tm;
    ck_assert_int_eq(rk_result_timings(res, &tm), RK_OK);
    ck_assert_int_ge(tm.completed_ns, tm.submitted_ns);
    ck_assert_uint_gt(tm.tiles, 0);
    rk_result_destroy(res);

    /* Values only: grid accessors say the measure was not computed. */
    ck_assert_int_eq(rk_request_set_measures(rq, RK_MEASURE_VALUES), RK_OK);
    ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &res), RK_OK);
    ck_assert_int_eq(rk_result_sensitivity(res, 0, 0, &d, &g), RK_NOT_FOUND);
    ck_assert_int_eq(rk_result_parametric_var(res, 0, &d, &g), RK_NOT_FOUND);
    ck_assert_int_eq(rk_result_value(res, 0, &d), RK_OK);
    ck_assert_uint_eq(rk_result_measures(res), RK_MEASURE_VALUES);
    rk_result_destroy(res);
    rk_engine_stats st;
    ck_assert_int_eq(rk_engine_stats_get(f.e, &st), RK_OK);
    ck_assert_uint_eq(st.requests_in_flight, 0);
    ck_assert_uint_ge(st.requests_completed, 2);
    ck_assert_uint_gt(st.tiles_done, 0);
    rk_worker_stats ws;
    ck_assert_int_eq(rk_engine_worker_stats_get(f.e, 0, &ws), RK_OK);
    ck_assert_int_eq(rk_engine_worker_stats_get(f.e, rk_engine_workers(f.e), &ws), RK_NOT_FOUND);
    rk_request_destroy(rq);
    fx_close(&f);
}
END_TEST

/* Every cell and aggregate of two results, bitwise. */
static void same_results(const rk_result *a, const rk_result *b)
{
    size_t n = rk_result_positions(a), F = rk_result_factors(a), B = rk_result_books(a);
    ck_assert_uint_eq(n, rk_result_positions(b));
    for (size_t i = 0; i < n; i++) {
        double va, vb;
        ck_assert_int_eq(rk_result_value(a, i, &va), rk_result_value(b, i, &vb));
        ck_assert(rk_test_same_bits(va, vb));
        for (size_t j = 0; j < F; j++) {
            double da, ga, db, gb;
            ck_assert_int_eq(rk_result_sensitivity(a, i, j, &da, &ga),
                             rk_result_sensitivity(b, i, j, &db, &gb));
            ck_assert(rk_test_same_bits(da, db) && rk_test_same_bits(ga, gb));
        }
    }
    for (size_t k = 0; k <= B; k++) {
        double xa, xb, ca, cb;
        for (size_t j = 0; j < F; j++) {
            rk_result_exposure(a, k, j, &xa);
            rk_result_exposure(b, k, j, &xb);
            ck_assert(rk_test_same_bits(xa, xb));
        }
        rk_result_parametric_var(a, k, &xa, &ca);
        rk_result_parametric_var(b, k, &xb, &cb);
        ck_assert(rk_test_same_bits(xa, xb) && rk_test_same_bits(ca, cb));
    }
}

START_TEST(same_bits_across_worker_counts_and_reuse)
{
    fixture f1, f3;
    fx_open(&f1, 1200, 1);
    fx_open(&f3, 1200, 3);
    rk_request *r1, *r3;
    ck_assert_int_eq(rk_request_create(f1.pf, &r1), RK_OK);
    ck_assert_int_eq(rk_request_create(f3.pf, &r3), RK_OK);
    rk_result *a, *b, *c;
    ck_assert_int_eq(rk_request_run(r1, RK_DEADLINE_NONE, &a), RK_OK);
    ck_assert_int_eq(rk_request_run(r3, RK_DEADLINE_NONE, &b), RK_OK);
    same_results(a, b);
    /* A recycled request and result give the same bits again. */
    rk_result_destroy(b);
    ck_assert_int_eq(rk_request_run(r3, RK_DEADLINE_NONE, &c), RK_OK);
    same_results(a, c);
    rk_result_destroy(a);
    rk_result_destroy(c);
    rk_request_destroy(r1);
    rk_request_destroy(r3);
    fx_close(&f1);
    fx_close(&f3);
}
END_TEST

/* Values and grid of two results within rel (plus abs per unit of value) of each other. */
static void close_results(const rk_result *a, const rk_result *b, double rel)
{
    size_t n = rk_result_positions(a), F = rk_result_factors(a);
    ck_assert_uint_eq(n, rk_result_positions(b));
    for (size_t i = 0; i < n; i++) {
        double va, vb;
        ck_assert_int_eq(rk_result_value(a, i, &va), rk_result_value(b, i, &vb));
        if (isnan(va) && isnan(vb))
            continue;
        ck_assert_close(va, vb, rel * (1.0 + fabs(va)), rel);
    }
    (void)F;
}

/* Every level this CPU runs: chosen through the configuration, reported by rk_engine_isa,
 * bitwise reproducible across worker counts at one level, and within the models' tolerance of
 * the baseline; a level outside the enum is refused with a reason. */
START_TEST(isa_levels)
{
    ck_assert_str_eq(rk_isa_name(RK_ISA_AUTO), "auto");
    ck_assert_str_eq(rk_isa_name(RK_ISA_BASELINE), "baseline");
    ck_assert_str_eq(rk_isa_name(RK_ISA_AVX2), "avx2");
    ck_assert_str_eq(rk_isa_name(RK_ISA_AVX512), "avx512");
    ck_assert_ptr_null(rk_isa_name((rk_isa)99));
    ck_assert(rk_isa_supported(RK_ISA_BASELINE));
    ck_assert(!rk_isa_supported((rk_isa)99));

    rk_engine_config cfg;
    rk_engine_config_init(&cfg);
    ck_assert_int_eq(cfg.isa, RK_ISA_AUTO);
    cfg.isa = (rk_isa)99;
    rk_engine *e = NULL;
    char msg[256] = "";
    ck_assert_int_eq(rk_engine_create(&cfg, &e, msg, sizeof msg), RK_BAD_ARGUMENT);
    ck_assert_ptr_null(e);
    ck_assert_int_gt((int)strlen(msg), 0);
    for (rk_isa l = RK_ISA_BASELINE; l <= RK_ISA_AVX512; l++) {
        if (rk_isa_supported(l))
            continue;
        cfg.isa = l; /* a level this CPU lacks */
        ck_assert_int_eq(rk_engine_create(&cfg, &e, msg, sizeof msg), RK_BAD_ARGUMENT);
        ck_assert_ptr_nonnull(strstr(msg, rk_isa_name(l)));
    }
    cfg.isa = RK_ISA_AUTO;
    ck_assert_int_eq(rk_engine_create(&cfg, &e, NULL, 0), RK_OK);
    ck_assert_int_ne(rk_engine_isa(e), RK_ISA_AUTO);
    ck_assert(rk_isa_supported(rk_engine_isa(e)));
    rk_engine_destroy(e);

    /* results hold their portfolio: everything stays open until the comparisons are done */
    enum { RUNS = 2 * (RK_ISA_AVX512 + 1) };
    rk_engine *eng[RUNS] = {NULL};
    rk_portfolio *pfs[RUNS] = {NULL};
    rk_result *res[RUNS] = {NULL};
    rk_dataset *ds;
    ck_assert_int_eq(book_build(600, &ds), RK_OK);
    int base = -1;
    for (rk_isa l = RK_ISA_BASELINE; l <= RK_ISA_AVX512; l++) {
        if (!rk_isa_supported(l))
            continue;
        for (int k = 0; k < 2; k++) {
            int at = 2 * (int)l + k;
            rk_engine_config_init(&cfg);
            cfg.isa = l;
            cfg.threads = k == 0 ? 1 : 3;
            cfg.no_pin = 1;
            cfg.tile_target_us = 20;
            ck_assert_int_eq(rk_engine_create(&cfg, &eng[at], NULL, 0), RK_OK);
            ck_assert_int_eq(rk_engine_isa(eng[at]), l);
            rk_request *rq;
            ck_assert_int_eq(rk_portfolio_create(eng[at], ds, &pfs[at]), RK_OK);
            ck_assert_int_eq(rk_request_create(pfs[at], &rq), RK_OK);
            ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &res[at]), RK_OK);
            rk_request_destroy(rq);
        }
        same_results(res[2 * l], res[2 * l + 1]);
        if (base < 0)
            base = 2 * (int)l;
        else
            close_results(res[base], res[2 * l], TOL_ISA_REL);
    }
    for (int at = 0; at < RUNS; at++) {
        rk_result_destroy(res[at]);
        rk_portfolio_destroy(pfs[at]);
        rk_engine_destroy(eng[at]);
    }
    rk_dataset_destroy(ds);
}
END_TEST

typedef struct cb_state {
    _Atomic int calls;
    _Atomic int status;
} cb_state;

static void on_done(rk_request *req, const rk_result *res, void *arg)
{
    (void)req;
    cb_state *s = arg;
    atomic_store(&s->status, (int)rk_result_status(res));
    atomic_fetch_add(&s->calls, 1);
}

START_TEST(callback_once_without_waiting)
{
    fixture f;
    fx_open(&f, 600, 2);
    rk_request *rq;
    ck_assert_int_eq(rk_request_create(f.pf, &rq), RK_OK);
    cb_state s;
    atomic_init(&s.calls, 0);
    atomic_init(&s.status, -1);
    ck_assert_int_eq(rk_request_set_callback(rq, on_done, &s), RK_OK);
    for (int k = 0; k < 5; k++) {
        ck_assert_int_eq(rk_request_submit(rq, RK_DEADLINE_NONE), RK_OK);
        while (!rk_request_done(rq)) /* nobody waits: the engine completes it */
            ;
        ck_assert_int_eq(atomic_load(&s.calls), k + 1);
        ck_assert_int_eq(atomic_load(&s.status), RK_OK);
    }
    rk_request_destroy(rq); /* with an untaken result */
    fx_close(&f);
}
END_TEST

START_TEST(reuse_unmoved_same_bits)
{
    /* The grid's fast path gives bitwise the results of full revaluation. */
    fixture f;
    fx_open(&f, 3000, 2);
    rk_result *res[2];
    for (int k = 0; k < 2; k++) {
        rk_request *rq;
        ck_assert_int_eq(rk_request_create(f.pf, &rq), RK_OK);
        ck_assert_int_eq(rk_request_set_reuse_unmoved(rq, k == 1), RK_OK);
        ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &res[k]), RK_OK);
        ck_assert_int_eq(rk_result_status(res[k]), RK_OK);
        rk_request_destroy(rq);
    }
    size_t P = rk_result_positions(res[0]), F = rk_result_factors(res[0]);
    size_t zeros = 0;
    for (size_t i = 0; i < P; i++)
        for (size_t j = 0; j < F; j++) {
            double d0, g0, d1, g1;
            rk_status s0 = rk_result_sensitivity(res[0], i, j, &d0, &g0);
            ck_assert_int_eq(s0, rk_result_sensitivity(res[1], i, j, &d1, &g1));
            if (s0 != RK_OK)
                continue;
            ck_assert(rk_test_same_bits(d0, d1) && rk_test_same_bits(g0, g1));
            zeros += d0 == 0.0 && g0 == 0.0;
        }
    ck_assert_uint_gt(zeros, 0); /* the book has cells the fast path skips */
    size_t B = rk_result_books(res[0]);
    double v0, v1;
    ck_assert_int_eq(rk_result_parametric_var(res[0], B, &v0, NULL), RK_OK);
    ck_assert_int_eq(rk_result_parametric_var(res[1], B, &v1, NULL), RK_OK);
    ck_assert(rk_test_same_bits(v0, v1));
    rk_result_destroy(res[0]);
    rk_result_destroy(res[1]);
    ck_assert_int_eq(rk_request_set_reuse_unmoved(NULL, true), RK_BAD_ARGUMENT);
    fx_close(&f);
}
END_TEST

START_TEST(deadline_and_cancel)
{
    fixture f;
    fx_open(&f, 20000, 2);
    rk_request *rq;
    ck_assert_int_eq(rk_request_create(f.pf, &rq), RK_OK);
    /* An expired deadline: everything DEADLINE, promptly. */
    rk_result *res;
    ck_assert_int_eq(rk_request_run(rq, rk_now_ns() - 1, &res), RK_OK);
    ck_assert_int_eq(rk_result_status(res), RK_DEADLINE);
    double v;
    ck_assert_int_eq(rk_result_value(res, 0, &v), RK_DEADLINE);
    rk_coverage cv;
    ck_assert_int_eq(rk_result_coverage(res, RK_MEASURE_GRID, rk_result_books(res), &cv), RK_OK);
    ck_assert_uint_eq(cv.cells_ok, 0);
    rk_result_destroy(res);
    /* A short budget: returns by deadline + slack, whatever was finished. */
    int64_t dl = rk_deadline_in(2000000);
    ck_assert_int_eq(rk_request_submit(rq, dl), RK_OK);
    ck_assert_int_eq(rk_request_wait(rq, RK_DEADLINE_NONE), RK_OK);
    ck_assert_int_le(rk_now_ns(), dl + DEADLINE_SLACK_NS);
    ck_assert_int_eq(rk_request_take_result(rq, &res), RK_OK);
    rk_status s = rk_result_status(res);
    ck_assert(s == RK_OK || s == RK_DEADLINE);
    rk_result_destroy(res);
    /* Wait with a limit that passes first: RK_TIMEOUT, then cancel completes it. */
    ck_assert_int_eq(rk_request_submit(rq, RK_DEADLINE_NONE), RK_OK);
    s = rk_request_wait(rq, RK_NO_WAIT);
    ck_assert(s == RK_TIMEOUT || s == RK_OK);
    ck_assert_int_eq(rk_request_cancel(rq), RK_OK);
    ck_assert_int_eq(rk_request_wait(rq, RK_DEADLINE_NONE), RK_OK);
    ck_assert_int_eq(rk_request_take_result(rq, &res), RK_OK);
    s = rk_result_status(res);
    ck_assert(s == RK_CANCELLED || s == RK_OK);
    size_t cur = 0;
    rk_error_info ei;
    bool any = false;
    while (rk_result_next_error(res, &cur, &ei))
        any = any || ei.code == RK_CANCELLED;
    ck_assert(s == RK_OK || any);
    rk_result_destroy(res);
    rk_request_destroy(rq);
    fx_close(&f);
}
END_TEST

START_TEST(loaded_matches_built)
{
    /* The bundled sample data set loads through the API with its documented invalid rows. */
    rk_dataset *ds = NULL;
    char msg[256];
    ck_assert_int_eq(rk_dataset_load("data/sample", &ds, msg, sizeof msg), RK_OK);
    ck_assert_uint_gt(rk_dataset_positions(ds), 0);
    ck_assert_uint_gt(rk_dataset_error_count(ds), 0);
    rk_engine *e = NULL;
    ck_assert_int_eq(book_engine(2, &e), RK_OK);
    rk_portfolio *pf = NULL;
    ck_assert_int_eq(rk_portfolio_create(e, ds, &pf), RK_OK);
    rk_request *rq;
    ck_assert_int_eq(rk_request_create(pf, &rq), RK_OK);
    rk_result *res;
    ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &res), RK_OK);
    ck_assert_int_eq(rk_result_status(res), RK_OK);
    size_t cur = 0, nerr = 0;
    rk_error_info ei;
    while (rk_result_next_error(res, &cur, &ei))
        nerr += ei.factor == RK_NONE && ei.code == RK_INVALID_INPUT;
    size_t npos = 0;
    for (size_t k = 0; k < rk_dataset_error_count(ds); k++) {
        ck_assert_int_eq(rk_dataset_error(ds, k, &ei), RK_OK);
        npos += ei.position != RK_NONE;
    }
    ck_assert_uint_eq(nerr, npos);
    rk_result_destroy(res);
    rk_request_destroy(rq);
    rk_portfolio_destroy(pf);
    rk_engine_destroy(e);
    rk_dataset_destroy(ds);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("contract");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, destroy_null_is_harmless);
    tcase_add_test(tc, null_and_bad_arguments);
    tcase_add_test(tc, dataset_building_errors);
    tcase_add_test(tc, bond_bounds_in_memory);
    tcase_add_test(tc, request_options_and_states);
    tcase_add_test(tc, same_bits_across_worker_counts_and_reuse);
    tcase_add_test(tc, callback_once_without_waiting);
    tcase_add_test(tc, deadline_and_cancel);
    tcase_add_test(tc, reuse_unmoved_same_bits);
    tcase_add_test(tc, loaded_matches_built);
    tcase_add_test(tc, isa_levels);
    suite_add_tcase(s, tc);
    return s;
}
