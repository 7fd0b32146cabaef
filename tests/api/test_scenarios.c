/*
 * test_scenarios.c - scenario VaR/ES and stress through the public header: the numbers equal
 * bitwise what `riskengine var --method mc|historical` and `riskengine stress` print for the
 * bundled sample; the same bits for 1 and 3 workers and for a recycled request; a deadline
 * derived from a measured full run gives coverage strictly between 0 and 1 with DEADLINE
 * records; cancel; a covariance update changes the Monte Carlo scenarios; every error path of
 * the new options and accessors.
 *
 * The program under test is $RK_PROGRAM (set by `make test`), build/riskengine otherwise. The
 * API side uses riskengine.h only.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "book.h"
#include "harness.h"

#define SAMPLE "data/sample"
/* A request's wait must return within its deadline plus this (noisy shared CI machines). */
#define DEADLINE_SLACK_NS RK_TEST_DEADLINE_SLACK_NS
/* The deadline run gets this fraction of a measured full run. */
#define DEADLINE_FRACTION 3

/* Runs the program with the given arguments (NULL-terminated), output to files in dir.
 * Returns its exit status. */
static int run_cli(const char *dir, const char *arg0, ...)
{
    const char *args[31];
    int n = 0;
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a != NULL && n < 30; a = va_arg(ap, const char *))
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    return rk_test_run_program(dir, args);
}

static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    return f;
}

/* Book index of a var.csv/stress.csv label: a book's name, or TOTAL = rk_dataset_books. */
static size_t book_index(const rk_dataset *ds, const char *label)
{
    size_t B = rk_dataset_books(ds);
    if (strcmp(label, "TOTAL") == 0)
        return B;
    for (size_t b = 0; b < B; b++)
        if (strcmp(rk_dataset_book_name(ds, b), label) == 0)
            return b;
    ck_abort_msg("unknown book %s", label);
    return B;
}

typedef struct sample {
    rk_dataset *ds;
    rk_engine *e;
    rk_portfolio *pf;
} sample;

static void sample_open(sample *s, size_t threads)
{
    char msg[256];
    ck_assert_int_eq(rk_dataset_load(SAMPLE, &s->ds, msg, sizeof msg), RK_OK);
    ck_assert_int_eq(book_engine(threads, &s->e), RK_OK);
    ck_assert_int_eq(rk_portfolio_create(s->e, s->ds, &s->pf), RK_OK);
}

static void sample_close(sample *s)
{
    rk_portfolio_destroy(s->pf);
    rk_engine_destroy(s->e);
    rk_dataset_destroy(s->ds);
}

/* Every var.csv row of `method` equals the API's VaR, ES and coverage, bitwise. */
static void check_var_csv(const char *dir, const rk_dataset *ds, const rk_result *res,
                          const char *method)
{
    FILE *f = open_out(dir, "var.csv");
    char line[1024];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* header */
    size_t rows = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        char book[256], meth[64];
        size_t nscen;
        double var, es, cov;
        ck_assert_int_eq(sscanf(line, "%255[^,],%63[^,],%zu,%lf,%lf,%lf", book, meth, &nscen, &var,
                                &es, &cov),
                         6);
        ck_assert_str_eq(meth, method);
        size_t b = book_index(ds, book);
        ck_assert_uint_eq(nscen, rk_result_scenarios(res, RK_MEASURE_SCENARIO_VAR));
        double v, e;
        ck_assert_int_eq(rk_result_scenario_var(res, b, &v, &e), RK_OK);
        ck_assert_msg(rk_test_same_bits(v, var), "%s VaR %.17g vs %.17g", book, v, var);
        ck_assert_msg(rk_test_same_bits(e, es), "%s ES %.17g vs %.17g", book, e, es);
        rk_coverage c;
        ck_assert_int_eq(rk_result_coverage(res, RK_MEASURE_SCENARIO_VAR, b, &c), RK_OK);
        ck_assert(rk_test_same_bits(c.coverage, cov));
        rows++;
    }
    fclose(f);
    ck_assert_uint_eq(rows, rk_dataset_books(ds) + 1);
}

START_TEST(mc_var_matches_the_program)
{
    char *tmp = rk_test_tmpdir();
    ck_assert_int_eq(run_cli(tmp, "var", "--data", SAMPLE, "--out", tmp, "--method", "mc",
                             "--scenarios", "700", "--seed", "42", "--confidence", "0.99",
                             "--es-confidence", "0.975", "--horizon", "10", NULL),
                     0);
    sample s;
    sample_open(&s, 2);
    rk_request *rq;
    ck_assert_int_eq(rk_request_create(s.pf, &rq), RK_OK);
    ck_assert_int_eq(rk_request_set_measures(rq, RK_MEASURE_SCENARIO_VAR), RK_OK);
    ck_assert_int_eq(rk_request_set_scenarios(rq, 700, 42), RK_OK);
    ck_assert_int_eq(rk_request_set_horizon(rq, 10), RK_OK);
    rk_result *res;
    ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &res), RK_OK);
    ck_assert_int_eq(rk_result_status(res), RK_OK);
    ck_assert_uint_eq(rk_result_measures(res), RK_MEASURE_SCENARIO_VAR | RK_MEASURE_VALUES);
    check_var_csv(tmp, s.ds, res, "mc");
    /* P&L of the TOTAL is the books' P&L in every scenario (up to rounding of each sum). */
    size_t B = rk_result_books(res);
    double tot, sum = 0, one;
    ck_assert_int_eq(rk_result_scenario_pnl(res, B, 5, &tot), RK_OK);
    for (size_t b = 0; b < B; b++) {
        ck_assert_int_eq(rk_result_scenario_pnl(res, b, 5, &one), RK_OK);
        sum += one;
    }
    ck_assert_close(sum, tot, 1e-6, 1e-12);
    rk_timings tm;
    ck_assert_int_eq(rk_result_timings(res, &tm), RK_OK);
    ck_assert_int_gt(tm.scenarios_ns, 0);
    rk_result_destroy(res);
    rk_request_destroy(rq);
    sample_close(&s);
    rk_test_rmtree(tmp);
    free(tmp);
}
END_TEST

START_TEST(historical_and_stress_match_the_program)
{
    char *tmp = rk_test_tmpdir();
    ck_assert_int_eq(run_cli(tmp, "var", "--data", SAMPLE, "--out", tmp, "--method",
                             "historical", "--confidence", "0.95", "--es-confidence", "0.9", NULL),
                     0);
    sample s;
    sample_open(&s, 3);
    ck_assert_uint_gt(rk_dataset_scenarios(s.ds), 0);
    rk_request *rq;
    ck_assert_int_eq(rk_request_create(s.pf, &rq), RK_OK);
    ck_assert_int_eq(rk_request_set_historical(rq), RK_OK);
    ck_assert_int_eq(rk_request_set_measures(rq, RK_MEASURE_SCENARIO_VAR | RK_MEASURE_STRESS),
                     RK_OK);
    ck_assert_int_eq(rk_request_set_confidence(rq, 0.95), RK_OK);
    ck_assert_int_eq(rk_request_set_es_confidence(rq, 0.9), RK_OK);
    rk_result *res;
    ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &res), RK_OK);
    ck_assert_int_eq(rk_result_status(res), RK_OK);
    check_var_csv(tmp, s.ds, res, "historical");
    rk_result_destroy(res);

    /* Stress alone (its own run of the file's scenarios) against stress.csv. */
    ck_assert_int_eq(run_cli(tmp, "stress", "--data", SAMPLE, "--out", tmp, NULL), 0);
    ck_assert_int_eq(rk_request_set_measures(rq, RK_MEASURE_STRESS), RK_OK);
    ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &res), RK_OK);
    ck_assert_int_eq(rk_result_status(res), RK_OK);
    ck_assert_uint_eq(rk_result_scenarios(res, RK_MEASURE_STRESS), rk_dataset_scenarios(s.ds));
    ck_assert_uint_eq(rk_result_scenarios(res, RK_MEASURE_SCENARIO_VAR), 0);
    FILE *f = open_out(tmp, "stress.csv");
    char line[1024];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    size_t rows = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        char scen[256], book[256];
        double pnl, cov;
        ck_assert_int_eq(sscanf(line, "%255[^,],%255[^,],%lf,%lf", scen, book, &pnl, &cov), 4);
        size_t k, b = book_index(s.ds, book);
        ck_assert_int_eq(rk_dataset_find_scenario(s.ds, scen, &k), RK_OK);
        ck_assert_str_eq(rk_dataset_scenario_name(s.ds, k), scen);
        double p;
        rk_coverage c;
        ck_assert_int_eq(rk_result_stress(res, k, b, &p, &c), RK_OK);
        ck_assert_msg(rk_test_same_bits(p, pnl), "%s/%s %.17g vs %.17g", scen, book, p, pnl);
        ck_assert(rk_test_same_bits(c.coverage, cov));
        rows++;
    }
    fclose(f);
    ck_assert_uint_eq(rows, rk_dataset_scenarios(s.ds) * (rk_dataset_books(s.ds) + 1));
    /* The sample's invalid rows: one record each, at the position level. */
    size_t cur = 0;
    rk_error_info ei;
    while (rk_result_next_error(res, &cur, &ei))
        ck_assert_uint_eq(ei.measure, 0);
    rk_result_destroy(res);
    rk_request_destroy(rq);
    sample_close(&s);
    rk_test_rmtree(tmp);
    free(tmp);
}
END_TEST

/* Scenario P&L, VaR, ES and coverage of two results, bitwise. */
static void same_scenarios(const rk_result *a, const rk_result *b)
{
    size_t N = rk_result_scenarios(a, RK_MEASURE_SCENARIO_VAR), B = rk_result_books(a);
    ck_assert_uint_eq(N, rk_result_scenarios(b, RK_MEASURE_SCENARIO_VAR));
    for (size_t k = 0; k <= B; k++) {
        for (size_t s = 0; s < N; s++) {
            double pa, pb;
            ck_assert_int_eq(rk_result_scenario_pnl(a, k, s, &pa), RK_OK);
            ck_assert_int_eq(rk_result_scenario_pnl(b, k, s, &pb), RK_OK);
            ck_assert(rk_test_same_bits(pa, pb));
        }
        double va, ea, vb, eb;
        ck_assert_int_eq(rk_result_scenario_var(a, k, &va, &ea), RK_OK);
        ck_assert_int_eq(rk_result_scenario_var(b, k, &vb, &eb), RK_OK);
        ck_assert(rk_test_same_bits(va, vb) && rk_test_same_bits(ea, eb));
        rk_coverage ca, cb;
        ck_assert_int_eq(rk_result_coverage(a, RK_MEASURE_SCENARIO_VAR, k, &ca), RK_OK);
        ck_assert_int_eq(rk_result_coverage(b, RK_MEASURE_SCENARIO_VAR, k, &cb), RK_OK);
        ck_assert_uint_eq(ca.cells_ok, cb.cells_ok);
    }
}

START_TEST(same_bits_across_worker_counts)
{
    fixture f1, f3;
    fx_open(&f1, 900, 1);
    fx_open(&f3, 900, 3);
    rk_request *r1, *r3;
    ck_assert_int_eq(rk_request_create(f1.pf, &r1), RK_OK);
    ck_assert_int_eq(rk_request_create(f3.pf, &r3), RK_OK);
    unsigned m = RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR | RK_MEASURE_SCENARIO_VAR;
    ck_assert_int_eq(rk_request_set_measures(r1, m), RK_OK);
    ck_assert_int_eq(rk_request_set_measures(r3, m), RK_OK);
    /* 300 scenarios: four full blocks and a partial one */
    ck_assert_int_eq(rk_request_set_scenarios(r1, 300, 7), RK_OK);
    ck_assert_int_eq(rk_request_set_scenarios(r3, 300, 7), RK_OK);
    rk_result *a, *b, *c;
    ck_assert_int_eq(rk_request_run(r1, RK_DEADLINE_NONE, &a), RK_OK);
    ck_assert_int_eq(rk_request_run(r3, RK_DEADLINE_NONE, &b), RK_OK);
    ck_assert_int_eq(rk_result_status(a), RK_OK);
    same_scenarios(a, b);
    rk_coverage cv;
    size_t B = rk_result_books(a);
    ck_assert_int_eq(rk_result_coverage(a, RK_MEASURE_SCENARIO_VAR, B, &cv), RK_OK);
    ck_assert_uint_eq(cv.cells_requested, 902u * 300u);
    ck_assert_uint_eq(cv.cells_ok, 900u * 300u);
    /* A recycled request and result give the same bits again. */
    rk_result_destroy(b);
    ck_assert_int_eq(rk_request_run(r3, RK_DEADLINE_NONE, &c), RK_OK);
    same_scenarios(a, c);
    rk_result_destroy(c);
    /* A new covariance: other Monte Carlo scenarios; the old one back: the old bits. */
    double cov2[BOOK_F * BOOK_F];
    for (size_t k = 0; k < BOOK_F * BOOK_F; k++)
        cov2[k] = 4 * book_cov[k];
    ck_assert_int_eq(rk_portfolio_set_covariance(f3.pf, cov2, BOOK_F), RK_OK);
    ck_assert_int_eq(rk_request_run(r3, RK_DEADLINE_NONE, &c), RK_OK);
    double va, vc;
    ck_assert_int_eq(rk_result_scenario_var(a, B, &va, NULL), RK_OK);
    ck_assert_int_eq(rk_result_scenario_var(c, B, &vc, NULL), RK_OK);
    ck_assert(!rk_test_same_bits(va, vc));
    rk_result_destroy(c);
    ck_assert_int_eq(rk_portfolio_set_covariance(f3.pf, book_cov, BOOK_F), RK_OK);
    ck_assert_int_eq(rk_request_run(r3, RK_DEADLINE_NONE, &c), RK_OK);
    same_scenarios(a, c);
    rk_result_destroy(c);
    rk_result_destroy(a);
    rk_request_destroy(r1);
    rk_request_destroy(r3);
    fx_close(&f1);
    fx_close(&f3);
}
END_TEST

/* Records of a result with the given code, of scenario VaR (or of any measure when `any`). */
static size_t count_records_of(const rk_result *res, rk_status code, bool any)
{
    size_t cur = 0, n = 0;
    rk_error_info ei;
    while (rk_result_next_error(res, &cur, &ei))
        n += (any || ei.measure == RK_MEASURE_SCENARIO_VAR) && ei.code == code;
    return n;
}

static size_t count_records(const rk_result *res, rk_status code)
{
    return count_records_of(res, code, false);
}

START_TEST(deadline_gives_partial_coverage)
{
    fixture f;
    fx_open(&f, 6000, 2);
    rk_request *rq;
    ck_assert_int_eq(rk_request_create(f.pf, &rq), RK_OK);
    ck_assert_int_eq(rk_request_set_measures(rq, RK_MEASURE_SCENARIO_VAR), RK_OK);
    ck_assert_int_eq(rk_request_set_scenarios(rq, 640, 3), RK_OK); /* ten blocks */
    rk_result *res;
    /* The budget is a fraction of what the whole run takes here and now. */
    int64_t t0 = rk_now_ns();
    ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &res), RK_OK);
    int64_t full = rk_now_ns() - t0;
    ck_assert_int_eq(rk_result_status(res), RK_OK);
    size_t B = rk_result_books(res);
    rk_coverage cv;
    ck_assert_int_eq(rk_result_coverage(res, RK_MEASURE_SCENARIO_VAR, B, &cv), RK_OK);
    ck_assert_uint_eq(cv.cells_ok, 6000u * 640u);
    rk_result_destroy(res);

    int64_t dl = rk_deadline_in(full / DEADLINE_FRACTION);
    ck_assert_int_eq(rk_request_submit(rq, dl), RK_OK);
    ck_assert_int_eq(rk_request_wait(rq, RK_DEADLINE_NONE), RK_OK);
    ck_assert_int_le(rk_now_ns(), dl + DEADLINE_SLACK_NS);
    ck_assert_int_eq(rk_request_take_result(rq, &res), RK_OK);
    ck_assert_int_eq(rk_result_status(res), RK_DEADLINE);
    ck_assert_int_eq(rk_result_coverage(res, RK_MEASURE_SCENARIO_VAR, B, &cv), RK_OK);
    ck_assert_msg(cv.coverage > 0 && cv.coverage < 1, "coverage %g", cv.coverage);
    ck_assert_uint_gt(count_records(res, RK_DEADLINE), 0);
    double v, e;
    ck_assert_int_eq(rk_result_scenario_var(res, B, &v, &e), RK_OK); /* of the OK cells */
    rk_result_destroy(res);

    /* The request stays usable: a full run again. */
    ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &res), RK_OK);
    ck_assert_int_eq(rk_result_status(res), RK_OK);
    ck_assert_uint_eq(count_records(res, RK_DEADLINE), 0);
    rk_result_destroy(res);
    rk_request_destroy(rq);
    fx_close(&f);
}
END_TEST

typedef struct cb_state {
    _Atomic int calls;
} cb_state;

static void on_done(rk_request *req, const rk_result *res, void *arg)
{
    (void)req;
    (void)res;
    cb_state *s = arg;
    atomic_fetch_add(&s->calls, 1);
}

START_TEST(cancel_and_complete_without_waiting)
{
    fixture f;
    fx_open(&f, 3000, 2);
    rk_request *rq;
    ck_assert_int_eq(rk_request_create(f.pf, &rq), RK_OK);
    ck_assert_int_eq(rk_request_set_measures(rq, RK_MEASURE_SCENARIO_VAR), RK_OK);
    ck_assert_int_eq(rk_request_set_scenarios(rq, 2000, 5), RK_OK);
    cb_state s;
    atomic_init(&s.calls, 0);
    ck_assert_int_eq(rk_request_set_callback(rq, on_done, &s), RK_OK);
    /* Cancel: the rest CANCELLED, promptly. */
    ck_assert_int_eq(rk_request_submit(rq, RK_DEADLINE_NONE), RK_OK);
    ck_assert_int_eq(rk_request_cancel(rq), RK_OK);
    ck_assert_int_eq(rk_request_wait(rq, RK_DEADLINE_NONE), RK_OK);
    ck_assert_int_eq(atomic_load(&s.calls), 1);
    rk_result *res;
    ck_assert_int_eq(rk_request_take_result(rq, &res), RK_OK);
    rk_status st = rk_result_status(res);
    ck_assert(st == RK_CANCELLED || st == RK_OK);
    rk_coverage cv;
    ck_assert_int_eq(rk_result_coverage(res, RK_MEASURE_SCENARIO_VAR, rk_result_books(res), &cv),
                     RK_OK);
    if (st == RK_CANCELLED) {
        ck_assert(cv.coverage < 1);
        /* at the position level when the base values were cancelled too */
        ck_assert_uint_gt(count_records_of(res, RK_CANCELLED, true), 0);
    }
    rk_result_destroy(res);
    /* Nobody waits: the blocks chain from the engine's callbacks to the end. */
    ck_assert_int_eq(rk_request_set_scenarios(rq, 200, 5), RK_OK);
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(rk_request_submit(rq, RK_DEADLINE_NONE), RK_OK);
        while (!rk_request_done(rq))
            ;
        ck_assert_int_eq(atomic_load(&s.calls), k + 2);
    }
    ck_assert_int_eq(rk_request_take_result(rq, &res), RK_OK);
    ck_assert_int_eq(rk_result_status(res), RK_OK);
    rk_result_destroy(res);
    /* Destroying a running request drains it. */
    ck_assert_int_eq(rk_request_set_scenarios(rq, 2000, 5), RK_OK);
    ck_assert_int_eq(rk_request_submit(rq, RK_DEADLINE_NONE), RK_OK);
    rk_request_destroy(rq);
    fx_close(&f);
}
END_TEST

START_TEST(options_and_accessor_errors)
{
    fixture f;
    fx_open(&f, 60, 1);
    rk_request *rq;
    ck_assert_int_eq(rk_request_create(f.pf, &rq), RK_OK);
    ck_assert_int_eq(rk_request_set_scenarios(NULL, 10, 1), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_scenarios(rq, 0, 1), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_scenarios(rq, RK_SCENARIOS_MAX + 1, 1), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_scenarios(rq, 1, UINT64_MAX), RK_OK); /* any seed */
    ck_assert_int_eq(rk_request_set_es_confidence(rq, 0), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_es_confidence(rq, 1), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_es_confidence(rq, NAN), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_confidence(rq, -0.5), RK_BAD_ARGUMENT);
    /* The built book has no scenarios.csv. */
    ck_assert_uint_eq(rk_dataset_scenarios(f.ds), 0);
    ck_assert_ptr_null(rk_dataset_scenario_name(f.ds, 0));
    size_t k;
    ck_assert_int_eq(rk_dataset_find_scenario(f.ds, "x", &k), RK_NOT_FOUND);
    ck_assert_int_eq(rk_dataset_find_scenario(NULL, "x", &k), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_request_set_historical(rq), RK_NOT_FOUND);
    ck_assert_int_eq(rk_request_set_measures(rq, RK_MEASURE_STRESS), RK_NOT_FOUND);
    ck_assert_int_eq(rk_request_set_measures(rq, RK_MEASURE_SCENARIO_VAR), RK_OK);
    ck_assert_int_eq(rk_request_set_scenarios(rq, 65, 9), RK_OK);
    rk_result *res;
    ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &res), RK_OK);
    size_t B = rk_result_books(res);
    double d, e;
    ck_assert_int_eq(rk_result_scenario_var(res, B + 1, &d, &e), RK_BAD_ARGUMENT);
    ck_assert(isnan(d) && isnan(e));
    ck_assert_int_eq(rk_result_scenario_pnl(res, 0, 65, &d), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_result_scenario_pnl(res, 0, 64, &d), RK_OK);
    ck_assert_int_eq(rk_result_stress(res, 0, 0, &d, NULL), RK_NOT_FOUND);
    ck_assert_int_eq(rk_result_sensitivity(res, 0, 0, &d, &e), RK_NOT_FOUND);
    rk_coverage cv;
    ck_assert_int_eq(rk_result_coverage(res, RK_MEASURE_STRESS, 0, &cv), RK_NOT_FOUND);
    ck_assert_uint_eq(rk_result_scenarios(res, RK_MEASURE_STRESS), 0);
    ck_assert_uint_eq(rk_result_scenarios(NULL, RK_MEASURE_SCENARIO_VAR), 0);
    ck_assert_int_eq(rk_result_scenario_var(NULL, 0, &d, &e), RK_BAD_ARGUMENT);
    /* VaR of one scenario: k = 1, VaR = ES = its loss. */
    ck_assert_int_eq(rk_request_set_scenarios(rq, 1, 9), RK_OK);
    rk_result_destroy(res);
    ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &res), RK_OK);
    double pnl;
    ck_assert_int_eq(rk_result_scenario_pnl(res, B, 0, &pnl), RK_OK);
    ck_assert_int_eq(rk_result_scenario_var(res, B, &d, &e), RK_OK);
    ck_assert(rk_test_same_bits(d, -pnl) && rk_test_same_bits(e, -pnl));
    /* Values-only results say the scenario measures were not computed. */
    rk_result_destroy(res);
    ck_assert_int_eq(rk_request_set_measures(rq, RK_MEASURE_VALUES), RK_OK);
    ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &res), RK_OK);
    ck_assert_int_eq(rk_result_scenario_var(res, 0, &d, &e), RK_NOT_FOUND);
    ck_assert_int_eq(rk_result_coverage(res, RK_MEASURE_SCENARIO_VAR, 0, &cv), RK_NOT_FOUND);
    rk_result_destroy(res);
    rk_request_destroy(rq);
    fx_close(&f);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("api-scenarios");
    TCase *tc = tcase_create("scenarios");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, mc_var_matches_the_program);
    tcase_add_test(tc, historical_and_stress_match_the_program);
    tcase_add_test(tc, same_bits_across_worker_counts);
    tcase_add_test(tc, deadline_gives_partial_coverage);
    tcase_add_test(tc, cancel_and_complete_without_waiting);
    tcase_add_test(tc, options_and_accessor_errors);
    suite_add_tcase(s, tc);
    return s;
}
