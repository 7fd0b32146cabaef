/*
 * test_kern_american.c - the vector kernel of the american call and put
 * (models/kern_american.c) at every level this CPU runs, against the reference loop: prices
 * within TOL_AMER_VEC on random inputs over the whole domain (deep in and out of the money,
 * expiries from days to 30 years, q above and below r, volatilities from 5% to 100%, calls and
 * puts), with the corners mixed in (inputs where the approximation is undefined and the
 * fallback tree prices, inputs beyond the trigger exercised at once, the european case, trees);
 * the same flags; a poll that stops the batch between blocks or inside a tree honoured; edge
 * batch sizes and the optional arrays; the same bits for an item wherever it sits in a batch
 * and whatever the batch's length.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model.h"

/* The formula's prices: relative to the price, plus absolute per unit of max(S, K) for prices
 * that are tiny or that the formula forms by cancellation. The kernel keeps a price only when
 * its estimate of the distance is well within these (the rest is priced by the reference). */
#define TOL_AMER_VEC_REL 5e-14
#define TOL_AMER_VEC_ABS 1e-14
/* Trees (steps > 0, and the fallback where the approximation is undefined) are the level's tree
 * kernel's, within its tolerance of the reference tree (test_kern_crr.c): absolute, per step and
 * per unit of max(S, K). */
#define TOL_AMER_TREE_PER_STEP (4 * DBL_EPSILON)
#define NR 3000
#define BIG_STEPS 500u

static double S[NR + 1], K[NR + 1], T[NR + 1], r[NR + 1], sg[NR + 1], q[NR + 1];
static uint32_t steps[NR + 1];
static double out_ref[NR + 1], out_var[NR + 1];
static uint8_t fl_ref[NR + 1], fl_var[NR + 1];
static double scratch[2 * (BIG_STEPS + 1)];
static const mdl_work work = {scratch, 2 * (BIG_STEPS + 1)};

static uint64_t rng_state;

/* A small generator of our own, so that the inputs are the same with every libc. */
static double unif(double lo, double hi)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return lo + (hi - lo) * (double)(rng_state >> 11) * 0x1p-53;
}

static int pick(int n)
{
    return (int)unif(0, n - 1e-9);
}

/* One random valid input over the whole domain; one in two is a corner of some kind. */
static void random_input(int i)
{
    S[i] = unif(5, 500), K[i] = S[i] * exp(unif(-0.5, 0.5));
    T[i] = exp(unif(log(2.0 / 365.0), log(30.0)));
    sg[i] = unif(0.05, 1.0), r[i] = unif(-0.01, 0.12), q[i] = unif(0, 0.12);
    steps[i] = 0;
    switch (pick(16)) {
    case 0: /* deep in or out of the money */
        K[i] = S[i] * (pick(2) ? unif(0.2, 0.6) : unif(1.6, 4.0));
        break;
    case 1: /* days */
        T[i] = unif(2.0 / 365.0, 0.05);
        break;
    case 2: /* long expiry */
        T[i] = unif(5, 30);
        break;
    case 3: /* low volatility */
        sg[i] = unif(0.05, 0.1);
        break;
    case 4: /* q well above r, and well below */
        if (pick(2))
            r[i] = unif(0.0, 0.03), q[i] = unif(0.06, 0.15);
        else
            r[i] = unif(0.06, 0.15), q[i] = unif(0.0, 0.02);
        break;
    case 5: /* wide rates and yields, negative included: european cases, some undefined */
        r[i] = unif(-0.02, 0.5), q[i] = unif(-0.02, 0.5), sg[i] = unif(0.05, 0.3);
        break;
    case 6: /* beyond the trigger: exercised at once */
        r[i] = unif(0.05, 0.15), q[i] = unif(0.05, 0.15), sg[i] = unif(0.1, 0.3);
        K[i] = S[i] * (pick(2) ? unif(0.2, 0.4) : unif(2.5, 5.0));
        break;
    case 7: /* a tree */
        steps[i] = 1 + (uint32_t)pick(60);
        break;
    default:
        break;
    }
}

static void random_inputs(uint64_t seed)
{
    rng_state = seed;
    for (int i = 0; i <= NR; i++)
        random_input(i);
}

static mdl_batch batch(double *out, uint8_t *fl, size_t n)
{
    return (mdl_batch){n, S, K, T, r, sg, q, NULL, NULL, steps, out, fl};
}

/* Trees: the item's own steps, or the fallback's. */
static uint32_t tree_steps(int i)
{
    if (steps[i] > 0)
        return steps[i];
    return (fl_ref[i] & MDL_FLAG_FALLBACK) != 0 ? MDL_FALLBACK_STEPS : 0;
}

static void check_close(int i)
{
    double scale = fmax(S[i], K[i]);
    ck_assert_uint_eq(fl_var[i], fl_ref[i]);
    uint32_t n = tree_steps(i);
    if (isnan(out_ref[i])) /* a tree without a risk-neutral probability on its grid */
        ck_assert(isnan(out_var[i]));
    else if (n > 0)
        ck_assert_close(out_var[i], out_ref[i], TOL_AMER_TREE_PER_STEP * n * scale, 0);
    else
        ck_assert_close(out_var[i], out_ref[i], TOL_AMER_VEC_ABS * scale, TOL_AMER_VEC_REL);
}

/* The tables of the levels this CPU runs; returns their count. */
static int levels(const mdl_entry *tb[MDL_ISA_COUNT])
{
    int n = 0;
    for (int l = 0; l < (int)MDL_ISA_COUNT; l++)
        if (mdl_isa_supported((mdl_isa)l))
            tb[n++] = mdl_table_isa((mdl_isa)l);
    ck_assert_int_gt(n, 0);
    return n;
}

START_TEST(vector_is_registered)
{
    const mdl_entry *tb[MDL_ISA_COUNT];
    int nl = levels(tb);
    for (int l = 0; l < nl; l++) {
        ck_assert_str_eq(tb[l][MDL_AMER_CALL].variant, "vector");
        ck_assert_str_eq(tb[l][MDL_AMER_PUT].variant, "vector");
    }
    ck_assert_str_eq(mdl_table()[MDL_AMER_CALL].variant, "vector");
}
END_TEST

START_TEST(vector_matches_reference)
{
    const mdl_entry *tb[MDL_ISA_COUNT];
    int nl = levels(tb);
    int fallbacks = 0, exercised = 0, trees = 0, european = 0, formula = 0;
    for (uint64_t seed = 11; seed <= 13; seed++) {
        random_inputs(seed);
        for (int k = MDL_AMER_CALL; k <= MDL_AMER_PUT; k++) {
            mdl_batch br = batch(out_ref, fl_ref, NR);
            ck_assert_uint_eq(tb[0][k].ref_batch(&br, &work, NULL), NR);
            for (int l = 0; l < nl; l++) {
                mdl_batch bv = batch(out_var, fl_var, NR);
                memset(fl_var, 0xff, sizeof fl_var);
                ck_assert_uint_eq(tb[l][k].batch(&bv, &work, NULL), NR);
                for (int i = 0; i < NR; i++)
                    check_close(i);
            }
            for (int i = 0; i < NR; i++) {
                bool call = k == MDL_AMER_CALL;
                double intrinsic = call ? S[i] - K[i] : K[i] - S[i];
                /* the european case: q <= 0 for the call, r <= 0 for the put */
                bool euro = steps[i] == 0 && (call ? q[i] <= 0 : r[i] <= 0);
                fallbacks += (fl_ref[i] & MDL_FLAG_FALLBACK) != 0;
                exercised += steps[i] == 0 && intrinsic > 0 && out_ref[i] == intrinsic;
                trees += steps[i] > 0;
                european += euro;
                formula += steps[i] == 0 && !euro && fl_ref[i] == 0;
            }
        }
    }
    /* the corners were reached */
    ck_assert_int_gt(fallbacks, 10);
    ck_assert_int_gt(exercised, 10);
    ck_assert_int_gt(trees, 10);
    ck_assert_int_gt(european, 10);
    ck_assert_int_gt(formula, 10000);
}
END_TEST

/* The european case is the level's european call of the inputs as a call (a put's transformed),
 * to the bit, and within the tolerance of the reference's; immediate exercise is the reference's
 * value to the bit. */
START_TEST(vector_european_and_exercise_exact)
{
    const mdl_entry *tb[MDL_ISA_COUNT];
    int nl = levels(tb);
    rng_state = 21;
    for (int i = 0; i < 64; i++) {
        S[i] = unif(20, 200), T[i] = unif(0.1, 5), sg[i] = unif(0.1, 0.5), steps[i] = 0;
        if (i % 2 == 0) { /* european: q <= 0 (for the put below, r <= 0 as well) */
            K[i] = S[i] * unif(0.7, 1.3), r[i] = unif(-0.02, 0.0), q[i] = unif(-0.02, 0.0);
        } else { /* far beyond the trigger on both sides */
            K[i] = S[i] * (i % 4 == 1 ? 0.25 : 4.0), r[i] = 0.1, q[i] = 0.1;
        }
    }
    static double euro[64];
    for (int k = MDL_AMER_CALL; k <= MDL_AMER_PUT; k++) {
        bool call = k == MDL_AMER_CALL;
        mdl_batch br = batch(out_ref, fl_ref, 64);
        ck_assert_uint_eq(tb[0][k].ref_batch(&br, &work, NULL), 64);
        /* P(S,K,T,r,q,s) = C(K,S,T,q,r,s) */
        mdl_batch be = {64,           call ? S : K, call ? K : S, T,    call ? r : q, sg,
                        call ? q : r, NULL,         NULL,         NULL, euro,         NULL};
        for (int l = 0; l < nl; l++) {
            ck_assert_uint_eq(tb[l][MDL_EURO_CALL].batch(&be, &work, NULL), 64);
            mdl_batch bv = batch(out_var, fl_var, 64);
            ck_assert_uint_eq(tb[l][k].batch(&bv, &work, NULL), 64);
            for (int i = 0; i < 64; i++) {
                ck_assert_uint_eq(fl_var[i], fl_ref[i]);
                double intrinsic = call ? S[i] - K[i] : K[i] - S[i];
                if (i % 2 == 0) {
                    ck_assert(rk_test_same_bits(out_var[i], euro[i]));
                    ck_assert_close(out_var[i], out_ref[i], TOL_AMER_VEC_ABS * fmax(S[i], K[i]),
                                    TOL_AMER_VEC_REL);
                } else if (out_ref[i] == intrinsic) {
                    ck_assert(rk_test_same_bits(out_var[i], out_ref[i]));
                }
            }
        }
    }
}
END_TEST

/* Where the approximation is undefined (a carry so negative that the trigger is not positive):
 * the 200-step tree, flagged. */
START_TEST(vector_fallback)
{
    const mdl_entry *tb[MDL_ISA_COUNT];
    int nl = levels(tb);
    for (int i = 0; i < 20; i++) {
        S[i] = 80 + 2 * i, K[i] = 100, T[i] = 1.0 + 0.1 * i, sg[i] = 0.05, steps[i] = 0;
        r[i] = 0.45, q[i] = 0.02; /* put: the call of (r, q) = (0.02, 0.45) */
    }
    mdl_batch br = batch(out_ref, fl_ref, 20);
    ck_assert_uint_eq(tb[0][MDL_AMER_PUT].ref_batch(&br, &work, NULL), 20);
    int fallbacks = 0;
    for (int i = 0; i < 20; i++)
        fallbacks += fl_ref[i] == MDL_FLAG_FALLBACK;
    ck_assert_int_gt(fallbacks, 0);
    for (int l = 0; l < nl; l++) {
        mdl_batch bv = batch(out_var, fl_var, 20);
        ck_assert_uint_eq(tb[l][MDL_AMER_PUT].batch(&bv, &work, NULL), 20);
        for (int i = 0; i < 20; i++)
            check_close(i);
    }
}
END_TEST

START_TEST(vector_edge_sizes)
{
    static const size_t sizes[] = {0, 1, 7, 15, 16, 17, 256};
    const mdl_entry *tb[MDL_ISA_COUNT];
    int nl = levels(tb);
    random_inputs(5);
    for (int k = MDL_AMER_CALL; k <= MDL_AMER_PUT; k++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t n = sizes[s];
            mdl_batch br = batch(out_ref, fl_ref, n);
            ck_assert_uint_eq(tb[0][k].ref_batch(&br, &work, NULL), n);
            for (int l = 0; l < nl; l++) {
                mdl_batch bv = batch(out_var, fl_var, n);
                out_var[n] = 12345.0, fl_var[n] = 0x5a; /* must stay untouched */
                ck_assert_uint_eq(tb[l][k].batch(&bv, &work, NULL), n);
                for (size_t i = 0; i < n; i++)
                    check_close((int)i);
                ck_assert(out_var[n] == 12345.0);
                ck_assert_uint_eq(fl_var[n], 0x5a);
            }
        }
    }
}
END_TEST

/* Also without the optional arrays: q, steps and flags NULL. */
START_TEST(vector_optional_arrays)
{
    const mdl_entry *tb[MDL_ISA_COUNT];
    int nl = levels(tb);
    random_inputs(6);
    for (int k = MDL_AMER_CALL; k <= MDL_AMER_PUT; k++) {
        mdl_batch br = batch(out_ref, fl_ref, 64);
        br.q = NULL;
        br.steps = NULL;
        ck_assert_uint_eq(tb[0][k].ref_batch(&br, &work, NULL), 64);
        for (int l = 0; l < nl; l++) {
            mdl_batch bv = batch(out_var, NULL, 64);
            bv.q = NULL;
            bv.steps = NULL;
            ck_assert_uint_eq(tb[l][k].batch(&bv, &work, NULL), 64);
            for (int i = 0; i < 64; i++) {
                if (isnan(out_ref[i])) {
                    ck_assert(isnan(out_var[i]));
                    continue;
                }
                double tol = (fl_ref[i] & MDL_FLAG_FALLBACK) != 0
                                 ? TOL_AMER_TREE_PER_STEP * MDL_FALLBACK_STEPS * fmax(S[i], K[i])
                                 : TOL_AMER_VEC_ABS * fmax(S[i], K[i]);
                ck_assert_close(out_var[i], out_ref[i], tol, TOL_AMER_VEC_REL);
            }
        }
    }
}
END_TEST

/* An item gives the same bits wherever it sits in a batch and whatever the batch's length (its
 * block's other items, and the padding of a short block, change nothing), at every level. */
START_TEST(vector_same_bits_anywhere)
{
    enum { N = 300 };
    static const size_t starts[] = {0, 1, 5, 13, 16, 37, 150};
    static const size_t lens[] = {1, 2, 9, 16, 17, 33, 100};
    const mdl_entry *tb[MDL_ISA_COUNT];
    int nl = levels(tb);
    random_inputs(31);
    for (int i = 0; i < N; i++)
        steps[i] = 0;
    for (int k = MDL_AMER_CALL; k <= MDL_AMER_PUT; k++) {
        for (int l = 0; l < nl; l++) {
            mdl_batch bf = batch(out_ref, fl_ref, N);
            ck_assert_uint_eq(tb[l][k].batch(&bf, &work, NULL), N);
            for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
                for (size_t m = 0; m < sizeof lens / sizeof lens[0]; m++) {
                    size_t i0 = starts[s], n = lens[m];
                    if (i0 + n > N)
                        continue;
                    mdl_batch bp = {n,      S + i0, K + i0, T + i0,     r + i0,  sg + i0,
                                    q + i0, NULL,   NULL,   steps + i0, out_var, fl_var};
                    ck_assert_uint_eq(tb[l][k].batch(&bp, &work, NULL), n);
                    for (size_t i = 0; i < n; i++) {
                        ck_assert(rk_test_same_bits(out_var[i], out_ref[i0 + i]));
                        ck_assert_uint_eq(fl_var[i], fl_ref[i0 + i]);
                    }
                }
            }
        }
    }
}
END_TEST

static int polls_left;
static bool stop_after(void *arg)
{
    (void)arg;
    return polls_left-- <= 0;
}

/* Items whose inputs send them to the scalar path (the european case: the call's dividend yield
 * 0, r = 0 for a put; trees) take no lane, and the others fill the blocks past them: many of
 * both, interleaved, each price the bits of its item priced alone. */
START_TEST(vector_scalar_items_interleaved)
{
    enum { N = 150 };
    const mdl_entry *tb[MDL_ISA_COUNT];
    int nl = levels(tb);
    for (int k = MDL_AMER_CALL; k <= MDL_AMER_PUT; k++) {
        random_inputs(41);
        for (int i = 0; i < N; i++) {
            steps[i] = i % 11 == 4 ? 3 + (uint32_t)(i % 5) : 0;
            if (i % 3 == 0 || i % 5 == 1)
                *(k == MDL_AMER_CALL ? &q[i] : &r[i]) = 0.0;
        }
        for (int l = 0; l < nl; l++) {
            mdl_batch bf = batch(out_ref, fl_ref, N);
            ck_assert_uint_eq(tb[l][k].batch(&bf, &work, NULL), N);
            for (size_t i = 0; i < N; i++) {
                mdl_batch one = {1,     S + i, K + i,    T + i,   r + i,  sg + i,
                                 q + i, NULL,  NULL, steps + i, out_var, fl_var};
                ck_assert_uint_eq(tb[l][k].batch(&one, &work, NULL), 1);
                ck_assert_msg(rk_test_same_bits(out_var[0], out_ref[i]), "%s level %d item %zu",
                              k == MDL_AMER_CALL ? "call" : "put", l, i);
                ck_assert_uint_eq(fl_var[0], fl_ref[i]);
            }
        }
    }
}
END_TEST

/* Stopped between blocks: fewer than n, those equal to the reference, nothing written after. */
START_TEST(vector_poll_stops_between_blocks)
{
    const mdl_entry *tb[MDL_ISA_COUNT];
    int nl = levels(tb);
    random_inputs(7);
    for (int i = 0; i < NR; i++)
        steps[i] = 0;
    mdl_poll poll = {stop_after, NULL};
    for (int k = MDL_AMER_CALL; k <= MDL_AMER_PUT; k++) {
        mdl_batch br = batch(out_ref, fl_ref, 200);
        ck_assert_uint_eq(tb[0][k].ref_batch(&br, &work, NULL), 200);
        for (int l = 0; l < nl; l++) {
            for (int allowed = 0; allowed < 3; allowed++) {
                mdl_batch bv = batch(out_var, fl_var, 200);
                for (int i = 0; i < 200; i++)
                    out_var[i] = -1.0, fl_var[i] = 0x5a;
                polls_left = allowed;
                size_t done = tb[l][k].batch(&bv, &work, &poll);
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
}
END_TEST

/* Stopped inside a tree in the middle of a block: that entry NaN and MDL_FLAG_STOPPED, not
 * counted, nothing after it written. */
START_TEST(vector_poll_stops_in_a_tree)
{
    const mdl_entry *tb[MDL_ISA_COUNT];
    int nl = levels(tb);
    random_inputs(8);
    for (int i = 0; i < 20; i++)
        steps[i] = 0;
    steps[5] = BIG_STEPS;
    mdl_poll poll = {stop_after, NULL};
    for (int k = MDL_AMER_CALL; k <= MDL_AMER_PUT; k++) {
        mdl_batch br = batch(out_ref, fl_ref, 20);
        ck_assert_uint_eq(tb[0][k].ref_batch(&br, &work, NULL), 20);
        for (int l = 0; l < nl; l++) {
            mdl_batch bv = batch(out_var, fl_var, 20);
            for (int i = 0; i < 20; i++)
                out_var[i] = -1.0, fl_var[i] = 0x5a;
            polls_left = 2; /* the 500-step tree polls about 15 times */
            ck_assert_uint_eq(tb[l][k].batch(&bv, &work, &poll), 5);
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
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("kern_american");
    TCase *tc = tcase_create("kern_american");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, vector_is_registered);
    tcase_add_test(tc, vector_matches_reference);
    tcase_add_test(tc, vector_european_and_exercise_exact);
    tcase_add_test(tc, vector_fallback);
    tcase_add_test(tc, vector_edge_sizes);
    tcase_add_test(tc, vector_optional_arrays);
    tcase_add_test(tc, vector_same_bits_anywhere);
    tcase_add_test(tc, vector_scalar_items_interleaved);
    tcase_add_test(tc, vector_poll_stops_between_blocks);
    tcase_add_test(tc, vector_poll_stops_in_a_tree);
    suite_add_tcase(s, tc);
    return s;
}
