/*
 * test_contrib.c - component and incremental scenario risk (rk_result_scenario_contribution),
 * checked against a hand computation from the per-book P&L the result publishes
 * (rk_result_scenario_pnl): the scenarios ranked by the TOTAL's loss (ties by index), the tail
 * counts from the contract's formula in integer arithmetic, each book's loss in the VaR
 * scenario (bit for bit), its mean loss over the ES tail, the VaR of the TOTAL without it; the
 * contributions add up to the TOTAL's VaR and ES; per position, each book's positions add up
 * to the book's VaR contribution exactly (their terms summed exactly, then rounded: the book's
 * bits) and to its ES contribution; var.csv's contribution column is the API's, for Monte
 * Carlo and historical scenarios.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "book.h"
#include "harness.h"
#include "xsum.h"

#define SAMPLE "data/sample"

typedef struct ranked {
    double loss;
    size_t s;
} ranked;

static int by_loss(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->loss != b->loss)
        return a->loss < b->loss ? 1 : -1;
    return a->s < b->s ? -1 : a->s > b->s;
}

static int by_value_desc(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a < b) - (a > b);
}

/* ceil(S p / q) for a confidence 1 - p/q, in integers: no rounding can add one. */
static size_t tail(size_t S, size_t p, size_t q)
{
    size_t k = (S * p + q - 1) / q;
    return k < 1 ? 1 : k;
}

/* Book of each row of the sample's positions.csv (file order = position index), as names. */
static char **sample_books(size_t n)
{
    char *text = rk_test_slurp(SAMPLE, "positions.csv");
    ck_assert_ptr_nonnull(text);
    char **books = calloc(n, sizeof *books);
    size_t i = 0;
    for (char *line = strchr(text, '\n') + 1; *line != '\0' && i < n;
         line = strchr(line, '\n') + 1) {
        if (line[0] == '#')
            continue;
        char *b = strchr(line, ',') + 1;
        size_t len = strcspn(b, ",");
        books[i] = malloc(len + 1);
        memcpy(books[i], b, len);
        books[i++][len] = '\0';
    }
    ck_assert_uint_eq(i, n);
    free(text);
    return books;
}

/* Per position: the positions of each book (and of the TOTAL) add up to its contributions. */
static void check_positions(rk_result *res, const rk_dataset *ds)
{
    size_t N = rk_result_positions(res), B = rk_result_books(res);
    double *vc = malloc(N * sizeof *vc), *ec = malloc(N * sizeof *ec);
    ck_assert_int_eq(rk_result_position_contributions(res, vc, ec, N), RK_OK);
    char **books = sample_books(N);
    for (size_t b = 0; b <= B; b++) {
        rsk_xsum acc = 0;
        double es_sum = 0, cv, ce;
        for (size_t i = 0; i < N; i++) {
            double v;
            bool ok = rk_result_value(res, i, &v) == RK_OK;
            ck_assert_int_eq(isnan(vc[i]), !ok);
            ck_assert_int_eq(isnan(ec[i]), !ok);
            if (!ok || (b < B && strcmp(books[i], rk_dataset_book_name(ds, b)) != 0))
                continue;
            acc += rsk_xsum_from(-vc[i]);
            es_sum += ec[i];
        }
        ck_assert_int_eq(rk_result_scenario_contribution(res, b, &cv, &ce, NULL), RK_OK);
        ck_assert_msg(rk_test_same_bits(-rsk_xsum_value(acc), cv),
                      "book %zu: positions add up to %.17g, the book's contribution %.17g", b,
                      -rsk_xsum_value(acc), cv);
        ck_assert_close(es_sum, ce, 1e-6, 1e-12);
    }
    ck_assert_int_eq(rk_result_position_contributions(res, vc, ec, N + 1), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_result_position_contributions(res, NULL, ec, N), RK_BAD_ARGUMENT);
    for (size_t i = 0; i < N; i++)
        free(books[i]);
    free(books);
    free(vc);
    free(ec);
}

static void check(rk_result *res, size_t S)
{
    size_t B = rk_result_books(res);
    ck_assert_uint_eq(rk_result_scenarios(res, RK_MEASURE_SCENARIO_VAR), S);
    double *pnl = malloc((B + 1) * S * sizeof *pnl);
    for (size_t b = 0; b <= B; b++)
        for (size_t s = 0; s < S; s++)
            ck_assert_int_eq(rk_result_scenario_pnl(res, b, s, &pnl[b * S + s]), RK_OK);
    const double *tot = pnl + B * S;
    ranked *r = malloc(S * sizeof *r);
    for (size_t s = 0; s < S; s++)
        r[s] = (ranked){-tot[s], s};
    qsort(r, S, sizeof *r, by_loss);
    size_t kv = tail(S, 1, 100), ke = tail(S, 25, 1000); /* 0.99 and 0.975 */
    double var, es;
    ck_assert_int_eq(rk_result_scenario_var(res, B, &var, &es), RK_OK);
    double sum_cv = 0, sum_ce = 0, tot_cv, tot_ce, tot_inc;
    ck_assert_int_eq(rk_result_scenario_contribution(res, B, &tot_cv, &tot_ce, &tot_inc), RK_OK);
    ck_assert_msg(rk_test_same_bits(tot_cv, var), "TOTAL's VaR contribution %.17g, VaR %.17g",
                  tot_cv, var);
    ck_assert(rk_test_same_bits(tot_inc, var));
    ck_assert_close(tot_ce, es, 0.0, 1e-12);
    double *without = malloc(S * sizeof *without);
    for (size_t b = 0; b < B; b++) {
        double cv, ce, inc;
        ck_assert_int_eq(rk_result_scenario_contribution(res, b, &cv, &ce, &inc), RK_OK);
        const double *row = pnl + b * S;
        /* its loss in the VaR scenario, the very bits of its P&L there */
        ck_assert_msg(rk_test_same_bits(cv, -row[r[kv - 1].s]), "book %zu: %.17g vs %.17g", b, cv,
                      -row[r[kv - 1].s]);
        double m = 0;
        for (size_t k = 0; k < ke; k++)
            m -= row[r[k].s];
        ck_assert_close(ce, m / (double)ke, 1e-9, 1e-12);
        for (size_t s = 0; s < S; s++)
            without[s] = -(tot[s] - row[s]);
        qsort(without, S, sizeof *without, by_value_desc);
        ck_assert_close(inc, var - without[kv - 1], 1e-9 * fabs(var), 0.0);
        sum_cv += cv;
        sum_ce += ce;
    }
    /* the books' shares add up to the TOTAL's (rounded once each) */
    ck_assert_close(sum_cv, var, 0.0, 1e-12);
    ck_assert_close(sum_ce, tot_ce, 0.0, 1e-12);
    free(without);
    free(r);
    free(pnl);
}

/* The sample on an engine, and a scenario VaR request's result (historical or 1000 Monte
 * Carlo scenarios). */
typedef struct sample {
    rk_dataset *ds;
    rk_engine *e;
    rk_portfolio *pf;
    rk_request *rq;
} sample;

static rk_result *sample_run(sample *sm, bool historical, size_t threads)
{
    char msg[256];
    rk_result *res = NULL;
    ck_assert_int_eq(rk_dataset_load(SAMPLE, &sm->ds, msg, sizeof msg), RK_OK);
    ck_assert_int_eq(book_engine(threads, &sm->e), RK_OK);
    ck_assert_int_eq(rk_portfolio_create(sm->e, sm->ds, &sm->pf), RK_OK);
    ck_assert_int_eq(rk_request_create(sm->pf, &sm->rq), RK_OK);
    if (historical)
        ck_assert_int_eq(rk_request_set_historical(sm->rq), RK_OK);
    else
        ck_assert_int_eq(rk_request_set_scenarios(sm->rq, 1000, 11), RK_OK);
    ck_assert_int_eq(rk_request_set_measures(sm->rq, RK_MEASURE_SCENARIO_VAR), RK_OK);
    ck_assert_int_eq(rk_request_run(sm->rq, RK_DEADLINE_NONE, &res), RK_OK);
    return res;
}

static void sample_close(sample *sm)
{
    rk_request_destroy(sm->rq);
    rk_portfolio_destroy(sm->pf);
    rk_engine_destroy(sm->e);
    rk_dataset_destroy(sm->ds);
}

static void run_and_check(bool historical)
{
    sample sm;
    rk_result *res = sample_run(&sm, historical, 2);
    rk_request *rq = sm.rq;
    check(res, historical ? rk_dataset_scenarios(sm.ds) : 1000);
    check_positions(res, sm.ds);
    /* accessor errors */
    size_t B = rk_result_books(res);
    double x = 0;
    ck_assert_int_eq(rk_result_scenario_contribution(res, B + 1, &x, NULL, NULL), RK_BAD_ARGUMENT);
    ck_assert(isnan(x));
    ck_assert_int_eq(rk_result_scenario_contribution(NULL, 0, NULL, NULL, NULL), RK_BAD_ARGUMENT);
    rk_result_destroy(res);
    ck_assert_int_eq(rk_request_set_measures(rq, RK_MEASURE_VALUES), RK_OK);
    ck_assert_int_eq(rk_request_run(rq, RK_DEADLINE_NONE, &res), RK_OK);
    ck_assert_int_eq(rk_result_scenario_contribution(res, 0, NULL, NULL, NULL), RK_NOT_FOUND);
    double one[256];
    ck_assert_int_eq(rk_result_position_contributions(res, one, one, rk_result_positions(res)),
                     RK_NOT_FOUND);
    rk_result_destroy(res);
    sample_close(&sm);
}

START_TEST(monte_carlo_contributions)
{
    run_and_check(false);
}
END_TEST

START_TEST(historical_contributions)
{
    run_and_check(true);
}
END_TEST

/* var.csv's contribution column is the API's VaR contribution, as text (shortest round trip). */
START_TEST(program_writes_the_contributions)
{
    char *tmp = rk_test_tmpdir();
    char out[4096];
    snprintf(out, sizeof out, "%s/o", tmp);
    const char *args[] = {"var",      "--data",     SAMPLE,    "--out", out,
                          "--method", "historical", "--quiet", NULL};
    ck_assert_int_eq(rk_test_run_program(tmp, args), 0);
    char *csv = rk_test_slurp(out, "var.csv");
    ck_assert_ptr_nonnull(csv);
    sample sm;
    rk_result *res = sample_run(&sm, true, 1);
    size_t B = rk_result_books(res);
    for (size_t b = 0; b <= B; b++) {
        const char *name = b < B ? rk_dataset_book_name(sm.ds, b) : "TOTAL";
        char key[256];
        snprintf(key, sizeof key, "\n%s,historical,", name);
        const char *line = strstr(csv, key);
        ck_assert_ptr_nonnull(line);
        line++;
        const char *f = line;
        for (int c = 0; c < 6; c++)
            f = strchr(f, ',') + 1;
        double got = strtod(f, NULL), want;
        ck_assert_int_eq(rk_result_scenario_contribution(res, b, &want, NULL, NULL), RK_OK);
        ck_assert_msg(rk_test_same_bits(got, want), "%s: var.csv %.17g, API %.17g", name, got,
                      want);
    }
    rk_result_destroy(res);
    sample_close(&sm);
    free(csv);
    rk_test_rmtree(tmp);
    free(tmp);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("api-contrib");
    TCase *tc = tcase_create("contributions");
    tcase_set_timeout(tc, 120 * RK_TEST_SLOWDOWN);
    tcase_add_test(tc, monte_carlo_contributions);
    tcase_add_test(tc, historical_contributions);
    tcase_add_test(tc, program_writes_the_contributions);
    suite_add_tcase(s, tc);
    return s;
}
