/*
 * test_batch.c - the model table: every kind has a reference loop that equals mdl_price_ref,
 * every registered variant equals the reference on random valid inputs within its named
 * tolerance (bitwise where the variant claims it), and batches stop when the poll says so.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model.h"

#define TOL_EURO_HOISTED_REL 1e-12 /* d1 rounded differently; relative to the price ... */
#define TOL_EURO_HOISTED_ABS 1e-13 /* ... plus absolute per unit of spot, for tiny prices */
#define TOL_BOND_CLOSED 1e-13      /* geometric series against the literal sum, relative */
/* blocked BS2002 (quadrature exponentials rounded differently): relative to the price, plus
 * absolute per unit of max(S, K); test_bs2002_fast.c tests it in depth */
#define TOL_BS2002_BLOCKED_REL 1e-13
#define TOL_BS2002_BLOCKED_ABS 1e-14
#define NB 1000

static double S[NB], K[NB], T[NB], r[NB], sg[NB], q[NB], cpn[NB], fq[NB];
static uint32_t steps[NB];
static double out_ref[NB], out_var[NB];
static uint8_t fl_ref[NB], fl_var[NB];
static double scratch[1001];
static const mdl_work work = {scratch, 1001};

static double unif(double lo, double hi)
{
    return lo + (hi - lo) * (rand() / (double)RAND_MAX);
}

static void random_inputs(unsigned seed)
{
    srand(seed);
    for (int i = 0; i < NB; i++) {
        S[i] = unif(20, 200), K[i] = unif(50, 150), T[i] = unif(0.01, 30);
        r[i] = unif(-0.01, 0.12), sg[i] = unif(0.05, 0.9), q[i] = unif(0, 0.08);
        cpn[i] = unif(0, 0.1), fq[i] = (double)(1 + rand() % 12), steps[i] = 0;
    }
}

static mdl_batch batch(double *out, uint8_t *fl, size_t n)
{
    return (mdl_batch){n, S, K, T, r, sg, q, cpn, fq, steps, out, fl};
}

START_TEST(table_complete)
{
    mdl_init();
    mdl_init(); /* idempotent */
    const mdl_entry *tb = mdl_table();
    for (int k = 0; k < (int)MDL_KIND_COUNT; k++) {
        ck_assert_str_eq(tb[k].name, mdl_kind_name((mdl_kind)k));
        ck_assert(tb[k].batch != NULL);
        ck_assert(tb[k].ref_batch != NULL);
        ck_assert_ptr_nonnull(tb[k].variant);
    }
    ck_assert_str_eq(tb[MDL_EURO_CALL].variant, "hoisted");
    ck_assert_str_eq(tb[MDL_EURO_PUT].variant, "hoisted");
    ck_assert_str_eq(tb[MDL_FORWARD].variant, "hoisted");
    ck_assert_str_eq(tb[MDL_BOND].variant, "hoisted");
    ck_assert_str_eq(tb[MDL_AMER_CALL].variant, "blocked");
    ck_assert_str_eq(tb[MDL_AMER_PUT].variant, "blocked");
}
END_TEST

START_TEST(reference_batch_is_the_scalar_reference)
{
    const mdl_entry *tb = mdl_table();
    random_inputs(3);
    for (int k = 0; k < (int)MDL_KIND_COUNT; k++) {
        size_t n = (k == MDL_AMER_CALL || k == MDL_AMER_PUT) ? 100 : NB;
        mdl_batch b = batch(out_ref, fl_ref, n);
        ck_assert_uint_eq(tb[k].ref_batch(&b, &work, NULL), n);
        for (size_t i = 0; i < n; i++) {
            mdl_in in = {S[i], K[i], T[i], r[i], sg[i], q[i], cpn[i], fq[i], steps[i]};
            unsigned fl;
            double p = mdl_price_ref((mdl_kind)k, &in, &work, NULL, &fl);
            ck_assert(rk_test_same_bits(out_ref[i], p));
            ck_assert_uint_eq(fl_ref[i], fl);
        }
    }
}
END_TEST

START_TEST(variants_match_reference)
{
    const mdl_entry *tb = mdl_table();
    for (unsigned seed = 1; seed <= 5; seed++) {
        random_inputs(seed);
        for (int k = 0; k < (int)MDL_KIND_COUNT; k++) {
            if (tb[k].batch == tb[k].ref_batch)
                continue;
            mdl_batch br = batch(out_ref, fl_ref, NB), bv = batch(out_var, fl_var, NB);
            memset(fl_var, 0xff, sizeof fl_var);
            ck_assert_uint_eq(tb[k].ref_batch(&br, &work, NULL), NB);
            ck_assert_uint_eq(tb[k].batch(&bv, &work, NULL), NB);
            for (int i = 0; i < NB; i++) {
                ck_assert_uint_eq(fl_var[i], fl_ref[i]);
                switch (k) {
                case MDL_SPOT:
                case MDL_FORWARD: /* same operations in the same order: bitwise */
                    ck_assert(rk_test_same_bits(out_var[i], out_ref[i]));
                    break;
                case MDL_EURO_CALL:
                case MDL_EURO_PUT:
                    ck_assert_close(out_var[i], out_ref[i], TOL_EURO_HOISTED_ABS * S[i],
                                    TOL_EURO_HOISTED_REL);
                    break;
                case MDL_BOND:
                    ck_assert_close(out_var[i], out_ref[i], 0, TOL_BOND_CLOSED);
                    break;
                case MDL_AMER_CALL:
                case MDL_AMER_PUT:
                    ck_assert_close(out_var[i], out_ref[i],
                                    TOL_BS2002_BLOCKED_ABS * fmax(S[i], K[i]),
                                    TOL_BS2002_BLOCKED_REL);
                    break;
                default:
                    ck_abort_msg("no tolerance named for variant of %s", tb[k].name);
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

START_TEST(batches_stop)
{
    const mdl_entry *tb = mdl_table();
    random_inputs(9);
    mdl_poll poll = {stop_after, NULL};
    for (int k = 0; k < (int)MDL_KIND_COUNT; k++) {
        for (int v = 0; v < 2; v++) {
            mdl_batch_fn fn = v ? tb[k].batch : tb[k].ref_batch;
            mdl_batch b = batch(out_var, fl_var, NB);
            polls_left = 0;
            size_t done = fn(&b, &work, &poll);
            /* either it never needed to poll (it finished), or it stopped early */
            ck_assert(done <= NB);
            if (k != MDL_SPOT)
                ck_assert_uint_lt(done, NB);
        }
    }
    /* a tree inside a batch: stopped mid-item, that item is not counted */
    for (int i = 0; i < NB; i++)
        steps[i] = 500;
    mdl_batch b = batch(out_var, fl_var, 3);
    polls_left = 3;
    ck_assert_uint_eq(tb[MDL_AMER_PUT].batch(&b, &work, &poll), 0);
    ck_assert(isnan(out_var[0]));
    ck_assert_uint_eq(fl_var[0], MDL_FLAG_STOPPED);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("batch");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, table_complete);
    tcase_add_test(tc, reference_batch_is_the_scalar_reference);
    tcase_add_test(tc, variants_match_reference);
    tcase_add_test(tc, batches_stop);
    suite_add_tcase(s, tc);
    return s;
}
