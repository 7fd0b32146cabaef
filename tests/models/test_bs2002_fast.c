/*
 * test_bs2002_fast.c - the "blocked" american variant (models/bs2002_fast.c) against the
 * reference loop: prices within TOL_BS2002_BLOCKED on a few thousand random valid inputs, with
 * the corners mixed in (deep in and out of the money, short and long expiries, low and high
 * volatilities, inputs where the approximation is undefined and the fallback tree prices, and
 * inputs beyond the trigger that are exercised at once); the same flags; trees and fallbacks
 * bitwise the reference's; a poll that stops the batch honoured; edge batch sizes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model.h"

/* The variant differs from the reference only in the rounding of the quadrature's
 * exponentials (about 1 ulp each): relative to the price, plus an absolute part per unit of
 * max(S, K) for prices that are tiny or that the formula forms by cancellation. */
#define TOL_BS2002_BLOCKED_REL 1e-13
#define TOL_BS2002_BLOCKED_ABS 1e-14
#define NR 3000
#define BIG_STEPS 500u

static double S[NR + 1], K[NR + 1], T[NR + 1], r[NR + 1], sg[NR + 1], q[NR + 1];
static uint32_t steps[NR + 1];
static double out_ref[NR + 1], out_var[NR + 1];
static uint8_t fl_ref[NR + 1], fl_var[NR + 1];
static double scratch[BIG_STEPS + 1];
static const mdl_work work = {scratch, BIG_STEPS + 1};

static double unif(double lo, double hi)
{
    return lo + (hi - lo) * (rand() / (double)RAND_MAX);
}

/* One random valid input; one in eight is a corner of some kind. */
static void random_input(int i)
{
    S[i] = unif(10, 500), K[i] = S[i] * unif(0.8, 1.2), T[i] = unif(0.1, 3);
    sg[i] = unif(0.1, 0.6), r[i] = unif(0.005, 0.06), q[i] = unif(0, 0.04);
    steps[i] = 0;
    switch (rand() % 16) {
    case 0: /* deep in or out of the money */
        K[i] = S[i] * (rand() % 2 ? unif(0.2, 0.6) : unif(1.6, 4.0));
        break;
    case 1: /* short expiry */
        T[i] = unif(0.002, 0.05);
        break;
    case 2: /* long expiry */
        T[i] = unif(5, 30);
        break;
    case 3: /* low volatility */
        sg[i] = unif(0.02, 0.08);
        break;
    case 4: /* high volatility */
        sg[i] = unif(0.8, 1.5);
        break;
    case 5: /* wide rates and yields, negative included: some of them undefined */
        r[i] = unif(-0.02, 0.5), q[i] = unif(-0.02, 0.5), sg[i] = unif(0.05, 0.3);
        break;
    case 6: /* beyond the trigger: exercised at once */
        r[i] = unif(0.05, 0.15), q[i] = unif(0.05, 0.15), sg[i] = unif(0.1, 0.3);
        K[i] = S[i] * (rand() % 2 ? unif(0.2, 0.4) : unif(2.5, 5.0));
        break;
    case 7: /* a tree */
        steps[i] = 1 + (uint32_t)(rand() % 60);
        break;
    default:
        break;
    }
}

static void random_inputs(unsigned seed)
{
    srand(seed);
    for (int i = 0; i <= NR; i++)
        random_input(i);
}

static mdl_batch batch(double *out, uint8_t *fl, size_t n)
{
    return (mdl_batch){n, S, K, T, r, sg, q, NULL, NULL, steps, out, fl};
}

static void check_close(int i)
{
    double tol_abs = TOL_BS2002_BLOCKED_ABS * fmax(S[i], K[i]);
    ck_assert_uint_eq(fl_var[i], fl_ref[i]);
    if (steps[i] > 0 || (fl_ref[i] & MDL_FLAG_FALLBACK) != 0)
        ck_assert(rk_test_same_bits(out_var[i], out_ref[i]));
    else
        ck_assert_close(out_var[i], out_ref[i], tol_abs, TOL_BS2002_BLOCKED_REL);
}

START_TEST(blocked_is_registered)
{
    const mdl_entry *tb = mdl_table();
    ck_assert_str_eq(tb[MDL_AMER_CALL].variant, "blocked");
    ck_assert_str_eq(tb[MDL_AMER_PUT].variant, "blocked");
}
END_TEST

START_TEST(blocked_matches_reference)
{
    const mdl_entry *tb = mdl_table();
    int fallbacks = 0, exercised = 0, trees = 0;
    for (unsigned seed = 11; seed <= 12; seed++) {
        random_inputs(seed);
        for (int k = MDL_AMER_CALL; k <= MDL_AMER_PUT; k++) {
            mdl_batch br = batch(out_ref, fl_ref, NR), bv = batch(out_var, fl_var, NR);
            memset(fl_var, 0xff, sizeof fl_var);
            ck_assert_uint_eq(tb[k].ref_batch(&br, &work, NULL), NR);
            ck_assert_uint_eq(tb[k].batch(&bv, &work, NULL), NR);
            for (int i = 0; i < NR; i++) {
                check_close(i);
                double intrinsic = k == MDL_AMER_CALL ? S[i] - K[i] : K[i] - S[i];
                fallbacks += (fl_ref[i] & MDL_FLAG_FALLBACK) != 0;
                exercised += steps[i] == 0 && intrinsic > 0 && out_ref[i] == intrinsic;
                trees += steps[i] > 0;
            }
        }
    }
    /* the corners were reached */
    ck_assert_int_gt(fallbacks, 10);
    ck_assert_int_gt(exercised, 10);
    ck_assert_int_gt(trees, 10);
}
END_TEST

START_TEST(blocked_edge_sizes)
{
    static const size_t sizes[] = {0, 1, 7, 256};
    const mdl_entry *tb = mdl_table();
    random_inputs(5);
    for (int k = MDL_AMER_CALL; k <= MDL_AMER_PUT; k++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t n = sizes[s];
            mdl_batch br = batch(out_ref, fl_ref, n), bv = batch(out_var, fl_var, n);
            out_var[n] = 12345.0, fl_var[n] = 0x5a; /* must stay untouched */
            ck_assert_uint_eq(tb[k].ref_batch(&br, &work, NULL), n);
            ck_assert_uint_eq(tb[k].batch(&bv, &work, NULL), n);
            for (size_t i = 0; i < n; i++)
                check_close((int)i);
            ck_assert(out_var[n] == 12345.0);
            ck_assert_uint_eq(fl_var[n], 0x5a);
        }
    }
}
END_TEST

/* Also without the optional arrays: q and flags NULL. */
START_TEST(blocked_optional_arrays)
{
    const mdl_entry *tb = mdl_table();
    random_inputs(6);
    for (int i = 0; i < 64; i++)
        steps[i] = 0;
    for (int k = MDL_AMER_CALL; k <= MDL_AMER_PUT; k++) {
        mdl_batch br = batch(out_ref, fl_ref, 64), bv = batch(out_var, NULL, 64);
        br.q = bv.q = NULL;
        br.steps = bv.steps = NULL;
        ck_assert_uint_eq(tb[k].ref_batch(&br, &work, NULL), 64);
        ck_assert_uint_eq(tb[k].batch(&bv, &work, NULL), 64);
        for (int i = 0; i < 64; i++)
            ck_assert_close(out_var[i], out_ref[i], TOL_BS2002_BLOCKED_ABS * fmax(S[i], K[i]),
                            TOL_BS2002_BLOCKED_REL);
    }
}
END_TEST

static int polls_left;
static bool stop_after(void *arg)
{
    (void)arg;
    return polls_left-- <= 0;
}

/* Stopped between blocks: fewer than n, those equal to the reference, nothing written after. */
START_TEST(blocked_poll_stops_between_blocks)
{
    const mdl_entry *tb = mdl_table();
    random_inputs(7);
    for (int i = 0; i < NR; i++)
        steps[i] = 0;
    mdl_poll poll = {stop_after, NULL};
    for (int k = MDL_AMER_CALL; k <= MDL_AMER_PUT; k++) {
        for (int allowed = 0; allowed < 3; allowed++) {
            mdl_batch br = batch(out_ref, fl_ref, 200), bv = batch(out_var, fl_var, 200);
            ck_assert_uint_eq(tb[k].ref_batch(&br, &work, NULL), 200);
            for (int i = 0; i < 200; i++)
                out_var[i] = -1.0, fl_var[i] = 0x5a;
            polls_left = allowed;
            size_t done = tb[k].batch(&bv, &work, &poll);
            ck_assert_uint_gt(done, 0);
            ck_assert_uint_lt(done, 200);
            for (size_t i = 0; i < done; i++)
                check_close((int)i);
            for (size_t i = done; i < 200; i++) {
                ck_assert(out_var[i] == -1.0);
                ck_assert_uint_eq(fl_var[i], 0x5a);
            }
        }
    }
}
END_TEST

/* Stopped inside a tree in the middle of a block: that entry NaN and MDL_FLAG_STOPPED, not
 * counted, nothing after it written. */
START_TEST(blocked_poll_stops_in_a_tree)
{
    const mdl_entry *tb = mdl_table();
    random_inputs(8);
    for (int i = 0; i < 20; i++)
        steps[i] = 0;
    steps[5] = BIG_STEPS;
    mdl_poll poll = {stop_after, NULL};
    for (int k = MDL_AMER_CALL; k <= MDL_AMER_PUT; k++) {
        mdl_batch br = batch(out_ref, fl_ref, 20), bv = batch(out_var, fl_var, 20);
        ck_assert_uint_eq(tb[k].ref_batch(&br, &work, NULL), 20);
        for (int i = 0; i < 20; i++)
            out_var[i] = -1.0, fl_var[i] = 0x5a;
        polls_left = 2; /* the 500-step tree polls about 15 times */
        ck_assert_uint_eq(tb[k].batch(&bv, &work, &poll), 5);
        for (int i = 0; i < 5; i++)
            check_close(i);
        ck_assert(isnan(out_var[5]));
        ck_assert_uint_eq(fl_var[5], MDL_FLAG_STOPPED);
        for (int i = 6; i < 20; i++) {
            ck_assert(out_var[i] == -1.0);
            ck_assert_uint_eq(fl_var[i], 0x5a);
        }
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("bs2002_fast");
    TCase *tc = tcase_create("bs2002_fast");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, blocked_is_registered);
    tcase_add_test(tc, blocked_matches_reference);
    tcase_add_test(tc, blocked_edge_sizes);
    tcase_add_test(tc, blocked_optional_arrays);
    tcase_add_test(tc, blocked_poll_stops_between_blocks);
    tcase_add_test(tc, blocked_poll_stops_in_a_tree);
    suite_add_tcase(s, tc);
    return s;
}
