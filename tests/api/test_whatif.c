/*
 * test_whatif.c - pre-trade what-if through the public header. The oracle is a full request on
 * a second data set: the bundled sample with the same candidates appended to its positions
 * (rk_dataset_add_position, the loader's checks): every "after" figure of the what-if, for
 * every book, new books and TOTAL, must equal it bit for bit, for parametric VaR, Monte Carlo
 * and historical VaR/ES, and the "before" figures those of a full request on the sample alone.
 * Also: no candidate gives after == before; stale caches and RK_WHATIF_REFRESH after a market
 * update (against a full request on the moved market); duplicate ids; concurrent what-ifs on
 * one portfolio give the single-threaded bits; every error path.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "book.h"
#include "harness.h"

#define SAMPLE "data/sample"

/* The candidates: every instrument kind, existing and new books, a CRR tree and the
 * Bjerksund-Stensland closed form, literal and underlying rates and vols, and two invalid ones
 * (one in a book only it names: the book exists after, empty). */
typedef struct trade {
    const char *id, *book, *instrument, *underlying, *rate, *vol;
    double qty, strike, expiry, rate_lit, vol_lit, dividend, coupon, frequency;
    unsigned steps;
    rk_status want;
} trade;

static const trade trades[] = {
    {"W1", "MACRO_LDN", "european_call", "EQ_TECHNOLOGY_00013", "IR_USD_6M",
     "VOL_EQ_TECHNOLOGY_00002", 1500, 72.0, 0.75, NAN, NAN, 0.01, 0, NAN, 0, RK_OK},
    {"W2", "NEW_DESK", "american_put", "EQ_FINANCIALS_00001", NULL, "VOL_EQ_FINANCIALS_00001", -800,
     280.0, 1.2, 0.05, NAN, 0.02, 0, NAN, 0, RK_OK},
    {"W3", "RATES_NY", "american_call", "EQ_TECHNOLOGY_00006", "IR_USD_1Y", NULL, 300, 330.0, 0.5,
     NAN, 0.31, 0.0, 0, NAN, 60, RK_OK},
    {"W4", "NEW_RATES", "bond", "IR_USD_2Y", NULL, NULL, 2e6, NAN, 3.4, NAN, NAN, 0, 0.045, 2, 0,
     RK_OK},
    {"W5", "EQ_DELTA_ONE_LDN", "forward", "EQ_FINANCIALS_00015", "IR_USD_3M", NULL, -5000, 110.0,
     0.4, NAN, NAN, 0.015, 0, NAN, 0, RK_OK},
    {"W6", "NEW_DESK", "spot", "FX_EURUSD", NULL, NULL, 3e6, NAN, NAN, NAN, NAN, 0, 0, NAN, 0,
     RK_OK},
    {"W7", "EMPTY_DESK", "european_put", "EQ_TECHNOLOGY_00009", "IR_USD_6M",
     "VOL_EQ_TECHNOLOGY_00002", 100, -5.0, 0.5, NAN, NAN, 0, 0, NAN, 0, RK_INVALID_INPUT},
    {"W8", "MACRO_LDN", "spot", "NO_SUCH_UNDERLYING", NULL, NULL, 10, NAN, NAN, NAN, NAN, 0, 0, NAN,
     0, RK_INVALID_INPUT},
    {"W9", "EQ_DERIVATIVES_NY", "european_put", "EQ_TECHNOLOGY_00009", NULL, "VOL_FX_EURUSD", 700,
     250.0, 0.3, 0.049, NAN, 0.0, 0, NAN, 0, RK_OK},
};
#define NTRADES (sizeof trades / sizeof trades[0])

static rk_position position_of(const trade *t)
{
    rk_position p;
    rk_position_init(&p);
    p.id = t->id;
    p.book = t->book;
    p.instrument = t->instrument;
    p.quantity = t->qty;
    p.underlying = t->underlying;
    p.strike = t->strike;
    p.expiry = t->expiry;
    p.rate = t->rate;
    p.rate_literal = t->rate_lit;
    p.vol = t->vol;
    p.vol_literal = t->vol_lit;
    p.dividend = t->dividend;
    p.coupon = t->coupon;
    p.frequency = t->frequency;
    p.steps = t->steps;
    return p;
}

typedef enum method { PARAMETRIC, MC, HISTORICAL } method;

typedef struct side {
    rk_dataset *ds;
    rk_portfolio *pf;
    rk_request *req;
} side;

static rk_engine *engine;

static void setup(void)
{
    ck_assert_int_eq(book_engine(2, &engine), RK_OK);
}

static void teardown(void)
{
    rk_engine_destroy(engine);
    engine = NULL;
}

/* The sample, with the first `ntr` candidates appended when `appended`. */
static void side_open(side *s, bool appended, size_t ntr, method m)
{
    char msg[256];
    ck_assert_int_eq(rk_dataset_load(SAMPLE, &s->ds, msg, sizeof msg), RK_OK);
    for (size_t k = 0; appended && k < ntr; k++) {
        rk_position p = position_of(&trades[k]);
        ck_assert_int_eq(rk_dataset_add_position(s->ds, &p, NULL), trades[k].want);
    }
    ck_assert_int_eq(rk_portfolio_create(engine, s->ds, &s->pf), RK_OK);
    ck_assert_int_eq(rk_request_create(s->pf, &s->req), RK_OK);
    unsigned measures = RK_MEASURE_PARAMETRIC_VAR;
    if (m == MC) {
        ck_assert_int_eq(rk_request_set_scenarios(s->req, 1000, 7), RK_OK);
        measures |= RK_MEASURE_SCENARIO_VAR;
    } else if (m == HISTORICAL) {
        ck_assert_int_eq(rk_request_set_historical(s->req), RK_OK);
        measures |= RK_MEASURE_SCENARIO_VAR;
    }
    ck_assert_int_eq(rk_request_set_measures(s->req, measures), RK_OK);
    ck_assert_int_eq(rk_request_set_confidence(s->req, 0.99), RK_OK);
    ck_assert_int_eq(rk_request_set_horizon(s->req, 2.0), RK_OK);
}

static void side_close(side *s)
{
    rk_request_destroy(s->req);
    rk_portfolio_destroy(s->pf);
    rk_dataset_destroy(s->ds);
}

static rk_result *run_full(side *s)
{
    rk_result *res = NULL;
    ck_assert_int_eq(rk_request_run(s->req, RK_DEADLINE_NONE, &res), RK_OK);
    ck_assert_int_eq(rk_result_status(res), RK_OK);
    return res;
}

static void assert_same(double got, double want, const char *what, size_t book)
{
    ck_assert_msg(rk_test_same_bits(got, want), "%s of book %zu: %.17g, full request %.17g", what,
                  book, got, want);
}

/* Every figure after the what-if against a full request's result on the appended data set,
 * and every "before" figure against the base result (new books: 0). */
static void check_against(const rk_whatif *w, const rk_result *base, const rk_result *full,
                          const rk_dataset *full_ds, method m)
{
    size_t B = rk_result_books(full), B0 = rk_result_books(base);
    ck_assert_uint_eq(rk_whatif_books(w), B);
    for (size_t b = 0; b <= B; b++) {
        const char *name = rk_whatif_book_name(w, b);
        ck_assert_ptr_nonnull(name);
        ck_assert_str_eq(name, b < B ? rk_dataset_book_name(full_ds, b) : "TOTAL");
        size_t b0 = b == B ? B0 : b; /* the same book in the base result */
        bool existed = b == B || b < B0;
        double before, after, contrib, want, want_c;
        ck_assert_int_eq(rk_whatif_parametric_var(w, b, &before, &after, &contrib), RK_OK);
        ck_assert_int_eq(rk_result_parametric_var(full, b, &want, &want_c), RK_OK);
        assert_same(after, want, "parametric VaR after", b);
        assert_same(contrib, want_c, "parametric contribution after", b);
        if (existed) {
            ck_assert_int_eq(rk_result_parametric_var(base, b0, &want, NULL), RK_OK);
            assert_same(before, want, "parametric VaR before", b);
        } else {
            ck_assert(before == 0.0);
        }
        double vb, va, eb, ea, wv, we;
        rk_status sc = rk_whatif_scenario_var(w, b, &vb, &va, &eb, &ea);
        if (m == PARAMETRIC) {
            ck_assert_int_eq(sc, RK_NOT_FOUND);
            continue;
        }
        ck_assert_int_eq(sc, RK_OK);
        ck_assert_int_eq(rk_result_scenario_var(full, b, &wv, &we), RK_OK);
        assert_same(va, wv, "scenario VaR after", b);
        assert_same(ea, we, "scenario ES after", b);
        if (existed) {
            ck_assert_int_eq(rk_result_scenario_var(base, b0, &wv, &we), RK_OK);
            assert_same(vb, wv, "scenario VaR before", b);
            assert_same(eb, we, "scenario ES before", b);
        } else {
            ck_assert(vb == 0.0 && eb == 0.0);
        }
    }
}

/* What-if of the first ntr candidates on the sample vs. a full request with them appended. */
static void exact_for(method m, size_t ntr)
{
    side base, full;
    side_open(&base, false, 0, m);
    side_open(&full, true, ntr, m);
    rk_result *rb = run_full(&base), *rf = run_full(&full);
    ck_assert_int_eq(rk_portfolio_warm(base.pf, rb), RK_OK);
    ck_assert_uint_eq(rk_portfolio_warm_version(base.pf), 1);
    rk_whatif *w = NULL;
    ck_assert_int_eq(rk_whatif_create(base.pf, &w), RK_OK);
    for (size_t k = 0; k < ntr; k++) {
        rk_position p = position_of(&trades[k]);
        size_t idx = 99;
        ck_assert_int_eq(rk_whatif_add(w, &p, &idx), trades[k].want);
        ck_assert_uint_eq(idx, k);
    }
    ck_assert_uint_eq(rk_whatif_trades(w), ntr);
    ck_assert_int_eq(rk_whatif_run(w, 0), RK_OK);
    ck_assert_uint_eq(rk_whatif_market_version(w), 1);
    check_against(w, rb, rf, full.ds, m);
    /* each candidate's base value is its value in the full request */
    size_t n0 = rk_dataset_positions(base.ds);
    for (size_t k = 0; k < ntr; k++) {
        double v = 0, want = 0;
        const char *msg = NULL;
        rk_status code = rk_whatif_trade(w, k, &v, &msg);
        ck_assert_int_eq(code, trades[k].want);
        ck_assert_int_eq(rk_result_value(rf, n0 + k, &want), code);
        if (code == RK_OK) {
            ck_assert_ptr_null(msg);
            assert_same(v, want, "candidate value", k);
        } else {
            ck_assert_ptr_nonnull(msg);
            /* the reason of the same row of the appended data set (the location differs: a
             * candidate is built in memory, like a position added to a built data set) */
            rk_error_info e;
            bool found = false;
            for (size_t r = 0; r < rk_dataset_error_count(full.ds); r++) {
                ck_assert_int_eq(rk_dataset_error(full.ds, r, &e), RK_OK);
                if (e.position == n0 + k) {
                    ck_assert_ptr_nonnull(strstr(msg, ": "));
                    ck_assert_ptr_nonnull(strstr(e.message, ": "));
                    ck_assert_str_eq(strstr(msg, ": "), strstr(e.message, ": "));
                    found = true;
                }
            }
            ck_assert(found);
        }
    }
    /* a second run on the same candidates gives the same bits (the scratch is reused) */
    ck_assert_int_eq(rk_whatif_run(w, 0), RK_OK);
    check_against(w, rb, rf, full.ds, m);
    rk_whatif_destroy(w);
    rk_result_destroy(rb);
    rk_result_destroy(rf);
    side_close(&base);
    side_close(&full);
}

START_TEST(parametric_equals_full_request)
{
    exact_for(PARAMETRIC, NTRADES);
    exact_for(PARAMETRIC, 1);
}
END_TEST

START_TEST(monte_carlo_equals_full_request)
{
    exact_for(MC, NTRADES);
    exact_for(MC, 2);
}
END_TEST

START_TEST(historical_equals_full_request)
{
    exact_for(HISTORICAL, NTRADES);
    exact_for(HISTORICAL, 4);
}
END_TEST

START_TEST(no_candidate_changes_nothing)
{
    side base;
    side_open(&base, false, 0, MC);
    rk_result *rb = run_full(&base);
    ck_assert_int_eq(rk_portfolio_warm(base.pf, rb), RK_OK);
    rk_whatif *w = NULL;
    ck_assert_int_eq(rk_whatif_create(base.pf, &w), RK_OK);
    ck_assert_int_eq(rk_whatif_run(w, 0), RK_OK);
    size_t B = rk_whatif_books(w);
    ck_assert_uint_eq(B, rk_result_books(rb));
    for (size_t b = 0; b <= B; b++) {
        double before, after, vb, va, eb, ea;
        ck_assert_int_eq(rk_whatif_parametric_var(w, b, &before, &after, NULL), RK_OK);
        assert_same(after, before, "parametric VaR", b);
        ck_assert_int_eq(rk_whatif_scenario_var(w, b, &vb, &va, &eb, &ea), RK_OK);
        assert_same(va, vb, "scenario VaR", b);
        assert_same(ea, eb, "scenario ES", b);
    }
    rk_whatif_destroy(w);
    rk_result_destroy(rb);
    side_close(&base);
}
END_TEST

START_TEST(stale_cache_and_refresh)
{
    side base, full;
    side_open(&base, false, 0, MC);
    side_open(&full, true, 3, MC);
    rk_result *rb = run_full(&base);
    ck_assert_int_eq(rk_portfolio_warm(base.pf, rb), RK_OK);
    rk_whatif *w = NULL;
    ck_assert_int_eq(rk_whatif_create(base.pf, &w), RK_OK);
    for (size_t k = 0; k < 3; k++) {
        rk_position p = position_of(&trades[k]);
        ck_assert_int_eq(rk_whatif_add(w, &p, NULL), RK_OK);
    }
    /* the market moves: in both portfolios */
    size_t u;
    ck_assert_int_eq(rk_dataset_find_underlying(base.ds, "EQ_TECHNOLOGY_00013", &u), RK_OK);
    ck_assert_int_eq(rk_portfolio_set_value(base.pf, u, 75.5), RK_OK);
    ck_assert_int_eq(rk_portfolio_set_value(full.pf, u, 75.5), RK_OK);
    /* a result of the old snapshot can no longer warm the cache */
    ck_assert_int_eq(rk_portfolio_warm(base.pf, rb), RK_STALE);
    ck_assert_int_eq(rk_whatif_run(w, 0), RK_STALE);
    ck_assert_uint_eq(rk_whatif_books(w), 0);
    ck_assert_int_eq(rk_whatif_parametric_var(w, 0, NULL, NULL, NULL), RK_NOT_FOUND);
    /* refresh: recomputed on the current market, then the after figures of a full request */
    ck_assert_int_eq(rk_whatif_run(w, RK_WHATIF_REFRESH), RK_OK);
    ck_assert_uint_eq(rk_whatif_market_version(w), 2);
    ck_assert_uint_eq(rk_portfolio_warm_version(base.pf), 2);
    rk_result *rf = run_full(&full), *rb2 = run_full(&base);
    check_against(w, rb2, rf, full.ds, MC);
    rk_whatif_destroy(w);
    rk_result_destroy(rb);
    rk_result_destroy(rb2);
    rk_result_destroy(rf);
    side_close(&base);
    side_close(&full);
}
END_TEST

/* ---- concurrent what-ifs ---- */

typedef struct worker_arg {
    rk_portfolio *pf;
    size_t first;       /* the candidates it adds: [first, first + 3) */
    const double *want; /* (books + 1) x 3: parametric VaR, scenario VaR, ES after */
    size_t nbooks;
    int rounds;
    int failures;
} worker_arg;

static void answers(const rk_whatif *w, double *out)
{
    size_t B = rk_whatif_books(w);
    for (size_t b = 0; b <= B; b++) {
        rk_whatif_parametric_var(w, b, NULL, &out[3 * b], NULL);
        rk_whatif_scenario_var(w, b, NULL, &out[3 * b + 1], NULL, &out[3 * b + 2]);
    }
}

static void *worker(void *p)
{
    worker_arg *a = p;
    rk_whatif *w = NULL;
    if (rk_whatif_create(a->pf, &w) != RK_OK) {
        a->failures++;
        return NULL;
    }
    double got[3 * 32];
    for (int r = 0; r < a->rounds; r++) {
        rk_whatif_clear(w);
        for (size_t k = a->first; k < a->first + 3; k++) {
            rk_position pos = position_of(&trades[k]);
            rk_whatif_add(w, &pos, NULL);
        }
        if (rk_whatif_run(w, 0) != RK_OK || rk_whatif_books(w) != a->nbooks) {
            a->failures++;
            continue;
        }
        answers(w, got);
        for (size_t i = 0; i < 3 * (a->nbooks + 1); i++)
            if (!rk_test_same_bits(got[i], a->want[i]))
                a->failures++;
    }
    rk_whatif_destroy(w);
    return NULL;
}

START_TEST(concurrent_whatifs_give_the_same_bits)
{
    side base;
    side_open(&base, false, 0, MC);
    rk_result *rb = run_full(&base);
    ck_assert_int_eq(rk_portfolio_warm(base.pf, rb), RK_OK);
    enum { THREADS = 4 };
    double want[THREADS][3 * 32];
    size_t nb[THREADS];
    worker_arg args[THREADS];
    for (size_t t = 0; t < THREADS; t++) {
        size_t first = (t * 2) % (NTRADES - 2);
        rk_whatif *w = NULL;
        ck_assert_int_eq(rk_whatif_create(base.pf, &w), RK_OK);
        for (size_t k = first; k < first + 3; k++) {
            rk_position pos = position_of(&trades[k]);
            rk_whatif_add(w, &pos, NULL);
        }
        ck_assert_int_eq(rk_whatif_run(w, 0), RK_OK);
        nb[t] = rk_whatif_books(w);
        ck_assert_uint_lt(nb[t], 31);
        answers(w, want[t]);
        rk_whatif_destroy(w);
        args[t] = (worker_arg){
            .pf = base.pf, .first = first, .want = want[t], .nbooks = nb[t], .rounds = 20};
    }
    pthread_t th[THREADS];
    for (size_t t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, worker, &args[t]), 0);
    /* the cache is replaced while they run: each keeps the one it started with, same bits */
    for (int r = 0; r < 3; r++)
        ck_assert_int_eq(rk_portfolio_warm(base.pf, rb), RK_OK);
    for (size_t t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        ck_assert_int_eq(args[t].failures, 0);
    }
    rk_result_destroy(rb);
    side_close(&base);
}
END_TEST

START_TEST(errors)
{
    side base;
    side_open(&base, false, 0, PARAMETRIC);
    rk_whatif *w = NULL;
    ck_assert_int_eq(rk_whatif_create(NULL, &w), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_whatif_create(base.pf, NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_whatif_create(base.pf, &w), RK_OK);
    /* no cache yet */
    ck_assert_int_eq(rk_whatif_run(w, 0), RK_NOT_FOUND);
    ck_assert_uint_eq(rk_portfolio_warm_version(base.pf), 0);
    ck_assert_int_eq(rk_whatif_run(w, 2), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_whatif_run(NULL, 0), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_portfolio_warm(NULL, NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_portfolio_warm(base.pf, NULL), RK_BAD_ARGUMENT);
    /* a result without VaR cannot warm it; nor one of another portfolio */
    rk_result *vals = NULL;
    ck_assert_int_eq(rk_request_set_measures(base.req, RK_MEASURE_VALUES), RK_OK);
    ck_assert_int_eq(rk_request_run(base.req, RK_DEADLINE_NONE, &vals), RK_OK);
    ck_assert_int_eq(rk_portfolio_warm(base.pf, vals), RK_BAD_ARGUMENT);
    rk_result_destroy(vals);
    side other;
    side_open(&other, false, 0, PARAMETRIC);
    rk_result *ro = run_full(&other);
    ck_assert_int_eq(rk_portfolio_warm(base.pf, ro), RK_BAD_ARGUMENT);
    rk_result_destroy(ro);
    side_close(&other);
    /* ids: NULL, empty, one of the portfolio, one of another candidate */
    rk_position p = position_of(&trades[0]);
    ck_assert_int_eq(rk_whatif_add(NULL, &p, NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_whatif_add(w, NULL, NULL), RK_BAD_ARGUMENT);
    p.id = NULL;
    ck_assert_int_eq(rk_whatif_add(w, &p, NULL), RK_BAD_ARGUMENT);
    p.id = "";
    ck_assert_int_eq(rk_whatif_add(w, &p, NULL), RK_BAD_ARGUMENT);
    p.id = "P0000001";
    ck_assert_int_eq(rk_whatif_add(w, &p, NULL), RK_BAD_ARGUMENT);
    p.id = "W1";
    ck_assert_int_eq(rk_whatif_add(w, &p, NULL), RK_OK);
    ck_assert_int_eq(rk_whatif_add(w, &p, NULL), RK_BAD_ARGUMENT);
    ck_assert_uint_eq(rk_whatif_trades(w), 1);
    p.id = "W1b";
    p.book = NULL;
    ck_assert_int_eq(rk_whatif_add(w, &p, NULL), RK_INVALID_INPUT);
    /* accessors before a run */
    ck_assert_int_eq(rk_whatif_trade(w, 0, NULL, NULL), RK_NOT_FOUND);
    ck_assert_int_eq(rk_whatif_trade(w, 2, NULL, NULL), RK_BAD_ARGUMENT);
    ck_assert_uint_eq(rk_whatif_books(w), 0);
    ck_assert_ptr_null(rk_whatif_book_name(w, 0));
    ck_assert_int_eq(rk_whatif_parametric_var(w, 0, NULL, NULL, NULL), RK_NOT_FOUND);
    /* after a run: out of range, and a cache without scenarios */
    ck_assert_int_eq(rk_request_set_measures(base.req, RK_MEASURE_PARAMETRIC_VAR), RK_OK);
    rk_result *rb = run_full(&base);
    ck_assert_int_eq(rk_portfolio_warm(base.pf, rb), RK_OK);
    ck_assert_int_eq(rk_whatif_run(w, 0), RK_OK);
    size_t B = rk_whatif_books(w);
    ck_assert_str_eq(rk_whatif_book_name(w, B), "TOTAL");
    ck_assert_ptr_null(rk_whatif_book_name(w, B + 1));
    ck_assert_int_eq(rk_whatif_parametric_var(w, B + 1, NULL, NULL, NULL), RK_BAD_ARGUMENT);
    ck_assert_int_eq(rk_whatif_scenario_var(w, 0, NULL, NULL, NULL, NULL), RK_NOT_FOUND);
    const char *msg = NULL;
    ck_assert_int_eq(rk_whatif_trade(w, 1, NULL, &msg), RK_INVALID_INPUT);
    ck_assert_ptr_nonnull(strstr(msg, "book is empty"));
    ck_assert_int_eq(rk_whatif_clear(w), RK_OK);
    ck_assert_uint_eq(rk_whatif_trades(w), 0);
    ck_assert_int_eq(rk_whatif_clear(NULL), RK_BAD_ARGUMENT);
    ck_assert_uint_eq(rk_whatif_trades(NULL), 0);
    ck_assert_uint_eq(rk_whatif_market_version(NULL), 0);
    rk_whatif_destroy(w);
    rk_whatif_destroy(NULL);
    rk_result_destroy(rb);
    side_close(&base);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("api-whatif");
    TCase *tc = tcase_create("whatif");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120 * RK_TEST_SLOWDOWN);
    tcase_add_test(tc, parametric_equals_full_request);
    tcase_add_test(tc, monte_carlo_equals_full_request);
    tcase_add_test(tc, historical_equals_full_request);
    tcase_add_test(tc, no_candidate_changes_nothing);
    tcase_add_test(tc, stale_cache_and_refresh);
    tcase_add_test(tc, concurrent_whatifs_give_the_same_bits);
    tcase_add_test(tc, errors);
    suite_add_tcase(s, tc);
    return s;
}
