/*
 * test_kern_crr.c - the vectorised CRR tree (models/kern_crr.c) at every level this CPU runs,
 * against the scalar reference mdl_crr: calls and puts, american and european, every step
 * count from 1 to 64 and random ones up to 1000, over the whole domain (deep in and out of the
 * money, expiries from days to 30 years, q above and below r, volatilities 5% to 100%); the
 * reference's edge cases (no steps, short scratch, no risk-neutral probability); convergence
 * of the european tree to Black-Scholes; the poll consulted regularly and honoured; the same
 * bits for the same inputs, whatever the scratch held before and wherever it sits.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"
#include "model.h"

/* Absolute, per step and per unit of max(S, K). The reference forms node prices by repeated
 * multiplication (S d^n, then s *= u^2 along a step and base *= u down the tree), which drifts
 * by up to about one ulp per multiplication, so its node prices are off by up to ~n ulps; the
 * kernel's are one exp and two multiplications from exact. A node's payoff error is its price
 * error, and the price is a probability-weighted sum of payoffs: the difference is bounded by
 * ~n ulps of max(S, K) (measured: 1.25 n DBL_EPSILON max(S, K) at worst over 20,000 random
 * trees of up to 1000 steps). */
#define TOL_CRR_VEC_PER_STEP (4 * DBL_EPSILON)
/* The european tree against Black-Scholes at 1000 steps, per unit of S: CRR converges as 1/n
 * (with an oscillation); a few 1e-4 S at 1000 steps for these inputs. */
#define TOL_CRR_BS_1000 1e-3
/* Most node updates between two polls: 10 µs at 1 ns per update (baseline's rate). */
#define MAX_NODES_PER_POLL 10000u

#define MAX_STEPS 1000u
#define NRANDOM 2500

static double scratch_ref[2 * (MAX_STEPS + 1)];
static double scratch_vec[2 * (MAX_STEPS + 1) + 8];

static uint64_t rng_state;

/* A small generator of our own, so that the inputs are the same with every libc. */
static double unif(double lo, double hi)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return lo + (hi - lo) * (double)(rng_state >> 11) * 0x1p-53;
}

typedef struct tree_in {
    bool call, american;
    double S, K, T, r, sg, q;
    uint32_t steps;
} tree_in;

static tree_in random_tree(int i)
{
    tree_in t;
    t.call = unif(0, 1) < 0.5;
    t.american = unif(0, 1) < 0.5;
    t.S = unif(5, 500);
    t.K = t.S * exp(unif(-0.7, 0.7));
    t.T = exp(unif(log(2.0 / 365.0), log(30.0))); /* days to 30 years */
    t.r = unif(-0.01, 0.10);
    t.q = unif(0.0, 0.12); /* above and below r */
    t.sg = unif(0.05, 1.0);
    t.steps = i < 64 * 4 ? (uint32_t)(i / 4 + 1) : (uint32_t)unif(1, MAX_STEPS + 1);
    switch (i % 8) {
    case 0: /* deep in or out of the money */
        t.K = t.S * (unif(0, 1) < 0.5 ? unif(0.1, 0.4) : unif(2.5, 8.0));
        break;
    case 1: /* a few days */
        t.T = unif(1.0 / 365.0, 10.0 / 365.0);
        break;
    case 2: /* decades */
        t.T = unif(15, 30);
        break;
    case 3: /* the volatility's ends */
        t.sg = unif(0, 1) < 0.5 ? unif(0.05, 0.08) : unif(0.8, 1.0);
        break;
    default:
        break;
    }
    if (t.steps > MAX_STEPS)
        t.steps = MAX_STEPS;
    return t;
}

/* The reference's up probability, to leave out the inputs where it sits on the edge of [0, 1]
 * (there, one rounding can make one tree valid and the other not). */
static bool p_on_edge(const tree_in *t)
{
    double dt = t->T / t->steps, u = exp(t->sg * sqrt(dt)), d = 1.0 / u;
    double p = (exp((t->r - t->q) * dt) - d) / (u - d);
    return fabs(p) < 1e-9 || fabs(p - 1.0) < 1e-9;
}

static double price_ref(const tree_in *t)
{
    const mdl_work w = {scratch_ref, sizeof scratch_ref / sizeof *scratch_ref};
    bool stopped = true;
    double p = mdl_crr(t->call, t->american, t->S, t->K, t->T, t->r, t->sg, t->q, t->steps, &w,
                       NULL, &stopped);
    ck_assert(!stopped);
    return p;
}

static double price_vec(mdl_crr_fn f, const tree_in *t, size_t offset)
{
    const mdl_work w = {scratch_vec + offset, mdl_work_needed(t->steps)};
    ck_assert_uint_le(offset + w.len, sizeof scratch_vec / sizeof *scratch_vec);
    bool stopped = true;
    double p =
        f(t->call, t->american, t->S, t->K, t->T, t->r, t->sg, t->q, t->steps, &w, NULL, &stopped);
    ck_assert(!stopped);
    return p;
}

START_TEST(every_level_has_a_tree)
{
    for (int l = 0; l < (int)MDL_ISA_COUNT; l++)
        if (mdl_isa_supported((mdl_isa)l))
            ck_assert(mdl_crr_for((mdl_isa)l) != NULL);
    ck_assert_uint_ge(mdl_work_needed(0), 2 * (MDL_FALLBACK_STEPS + 1));
    ck_assert_uint_ge(mdl_work_needed(MAX_STEPS), 2 * (MAX_STEPS + 1));
}
END_TEST

START_TEST(matches_reference)
{
    int checked = 0, invalid = 0;
    for (int l = 0; l < (int)MDL_ISA_COUNT; l++) {
        if (!mdl_isa_supported((mdl_isa)l))
            continue;
        mdl_crr_fn f = mdl_crr_for((mdl_isa)l);
        rng_state = 12345;
        for (int i = 0; i < NRANDOM; i++) {
            tree_in t = random_tree(i);
            if (p_on_edge(&t))
                continue;
            double want = price_ref(&t), got = price_vec(f, &t, 0);
            if (isnan(want)) {
                ck_assert_msg(isnan(got), "level %s tree %d: %.17g, want NaN",
                              mdl_isa_name((mdl_isa)l), i, got);
                invalid++;
                continue;
            }
            ck_assert_msg(isfinite(got), "level %s tree %d: %g", mdl_isa_name((mdl_isa)l), i, got);
            ck_assert_close(got, want, TOL_CRR_VEC_PER_STEP * t.steps * fmax(t.S, t.K), 0);
            checked++;
        }
    }
    ck_assert_int_gt(checked, 3 * NRANDOM / 2); /* the baseline and more, mostly valid trees */
    ck_assert_int_gt(invalid, 0);               /* and some without a risk-neutral measure */
}
END_TEST

/* Every step count 1..64 (odd, even, below and across every vector width) at fixed inputs,
 * both payoffs and both exercise styles, and a few step counts around the poll's interval. */
START_TEST(matches_reference_every_small_step_count)
{
    static const uint32_t big[] = {127, 128, 129, 255, 256, 257, 999, 1000};
    for (int l = 0; l < (int)MDL_ISA_COUNT; l++) {
        if (!mdl_isa_supported((mdl_isa)l))
            continue;
        mdl_crr_fn f = mdl_crr_for((mdl_isa)l);
        for (uint32_t n = 1; n <= 64 + sizeof big / sizeof *big; n++)
            for (int c = 0; c < 4; c++) {
                tree_in t = {c & 1, c & 2, 97.0, 100.0, 0.75, 0.03, 0.3, 0.05, n};
                if (n > 64)
                    t.steps = big[n - 65];
                double want = price_ref(&t);
                ck_assert_close(price_vec(f, &t, 0), want,
                                TOL_CRR_VEC_PER_STEP * t.steps * fmax(t.S, t.K), 0);
            }
    }
}
END_TEST

START_TEST(edge_cases_as_reference)
{
    for (int l = 0; l < (int)MDL_ISA_COUNT; l++) {
        if (!mdl_isa_supported((mdl_isa)l))
            continue;
        mdl_crr_fn f = mdl_crr_for((mdl_isa)l);
        mdl_work full = {scratch_vec, mdl_work_needed(10)};
        mdl_work short_by_one = {scratch_vec, 2 * 11 - 1};
        mdl_work null_buf = {NULL, 100};
        bool stopped = true;
        /* no steps */
        ck_assert(isnan(f(false, true, 90, 100, 1, 0.05, 0.2, 0, 0, &full, NULL, &stopped)));
        ck_assert(!stopped);
        /* scratch: short, absent */
        ck_assert(isnan(f(false, true, 90, 100, 1, 0.05, 0.2, 0, 10, &short_by_one, NULL, NULL)));
        ck_assert(isnan(f(false, true, 90, 100, 1, 0.05, 0.2, 0, 10, &null_buf, NULL, NULL)));
        ck_assert(isnan(f(false, true, 90, 100, 1, 0.05, 0.2, 0, 10, NULL, NULL, NULL)));
        /* exactly enough */
        ck_assert(isfinite(f(false, true, 90, 100, 1, 0.05, 0.2, 0, 10, &full, NULL, NULL)));
        /* p > 1 (r - q large against sigma), p < 0 (q - r large), sigma = 0 */
        ck_assert(isnan(f(true, true, 90, 100, 1, 0.5, 0.01, 0, 10, &full, NULL, NULL)));
        ck_assert(isnan(f(true, false, 90, 100, 1, 0.0, 0.01, 0.5, 10, &full, NULL, NULL)));
        ck_assert(isnan(f(false, true, 90, 100, 1, 0.05, 0.0, 0, 10, &full, NULL, &stopped)));
        ck_assert(!stopped);
    }
}
END_TEST

START_TEST(european_converges_to_black_scholes)
{
    static const double Ks[] = {60, 90, 100, 110, 160};
    for (int l = 0; l < (int)MDL_ISA_COUNT; l++) {
        if (!mdl_isa_supported((mdl_isa)l))
            continue;
        mdl_crr_fn f = mdl_crr_for((mdl_isa)l);
        for (int c = 0; c < 2; c++)
            for (int k = 0; k < 5; k++) {
                tree_in t = {c, false, 100.0, Ks[k], 1.5, 0.04, 0.25, 0.015, 1000};
                double bs = mdl_bsm(c, t.S, t.K, t.T, t.r, t.sg, t.q);
                ck_assert_close(price_vec(f, &t, 0), bs, TOL_CRR_BS_1000 * t.S, 0);
                /* the american tree is worth at least the european one */
                tree_in a = t;
                a.american = true;
                ck_assert(price_vec(f, &a, 0) >= price_vec(f, &t, 0));
            }
    }
}
END_TEST

typedef struct counter {
    unsigned calls, stop_at; /* stop_at = 0: never stop */
} counter;

static bool count_calls(void *arg)
{
    counter *c = arg;
    c->calls++;
    return c->stop_at != 0 && c->calls >= c->stop_at;
}

START_TEST(poll_regular_and_honoured)
{
    for (int l = 0; l < (int)MDL_ISA_COUNT; l++) {
        if (!mdl_isa_supported((mdl_isa)l))
            continue;
        mdl_crr_fn f = mdl_crr_for((mdl_isa)l);
        for (int am = 0; am < 2; am++) {
            tree_in t = {false, am, 90, 100, 1, 0.05, 0.2, 0.01, MAX_STEPS};
            const mdl_work w = {scratch_vec, mdl_work_needed(MAX_STEPS)};
            size_t nodes = (size_t)MAX_STEPS * (MAX_STEPS + 1) / 2;
            /* a poll that never stops: consulted at least every MAX_NODES_PER_POLL node
             * updates, and the price is the one without a poll */
            counter c = {0, 0};
            mdl_poll poll = {count_calls, &c};
            bool stopped = true;
            double p =
                f(t.call, t.american, t.S, t.K, t.T, t.r, t.sg, t.q, t.steps, &w, &poll, &stopped);
            ck_assert(!stopped);
            ck_assert_uint_ge(c.calls, nodes / MAX_NODES_PER_POLL);
            ck_assert(rk_test_same_bits(p, price_vec(f, &t, 0)));
            /* a poll that says stop at its 5th call: NaN, stopped, not called again */
            counter c5 = {0, 5};
            mdl_poll poll5 = {count_calls, &c5};
            p = f(t.call, t.american, t.S, t.K, t.T, t.r, t.sg, t.q, t.steps, &w, &poll5, &stopped);
            ck_assert(isnan(p));
            ck_assert(stopped);
            ck_assert_uint_eq(c5.calls, 5);
            /* a small tree does not reach the poll */
            counter c0 = {0, 1};
            mdl_poll poll0 = {count_calls, &c0};
            p = f(t.call, t.american, t.S, t.K, t.T, t.r, t.sg, t.q, 100, &w, &poll0, &stopped);
            ck_assert(isfinite(p));
            ck_assert(!stopped);
            ck_assert_uint_eq(c0.calls, 0);
        }
    }
}
END_TEST

/* Same inputs, same bits: twice in a row, with the scratch filled with garbage before, and
 * with the scratch at other alignments (threads' scratch sits at different addresses). */
START_TEST(deterministic)
{
    for (int l = 0; l < (int)MDL_ISA_COUNT; l++) {
        if (!mdl_isa_supported((mdl_isa)l))
            continue;
        mdl_crr_fn f = mdl_crr_for((mdl_isa)l);
        rng_state = 777;
        for (int i = 0; i < 200; i++) {
            tree_in t = random_tree(i * 5 + 3);
            double first = price_vec(f, &t, 0);
            ck_assert(rk_test_same_bits(price_vec(f, &t, 0), first));
            for (size_t j = 0; j < sizeof scratch_vec / sizeof *scratch_vec; j++)
                scratch_vec[j] = (double)j * -1.5e10;
            ck_assert(rk_test_same_bits(price_vec(f, &t, 0), first));
            for (size_t off = 1; off < 8; off++)
                ck_assert_msg(rk_test_same_bits(price_vec(f, &t, off), first),
                              "level %s tree %d offset %zu", mdl_isa_name((mdl_isa)l), i, off);
        }
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("kern_crr");
    TCase *tc = tcase_create("kern_crr");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_level_has_a_tree);
    tcase_add_test(tc, matches_reference);
    tcase_add_test(tc, matches_reference_every_small_step_count);
    tcase_add_test(tc, edge_cases_as_reference);
    tcase_add_test(tc, european_converges_to_black_scholes);
    tcase_add_test(tc, poll_regular_and_honoured);
    tcase_add_test(tc, deterministic);
    suite_add_tcase(s, tc);
    return s;
}
