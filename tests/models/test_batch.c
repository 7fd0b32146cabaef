/*
 * test_batch.c - the model tables: every kind has a reference loop that equals mdl_price_ref;
 * at every instruction-set level this CPU supports, every registered variant equals the
 * reference on random valid inputs over the whole domain within its named tolerance (bitwise
 * where the variant claims it), prices an item to the same bits wherever it sits in a batch of
 * any length, and stops when the poll says so, having written exactly the items it reports.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model.h"

/* forward: each exponential within 1 ulp of libm's, one subtraction; absolute per unit of
 * S + K, as the two terms cancel near the money */
#define TOL_FORWARD_VECTOR_ABS 1e-15
/* european: log, exp and N vector functions within a few ulps, d1 written as the reference
 * writes it; relative to the price, plus absolute per unit of spot, for tiny prices */
#define TOL_EURO_VECTOR_REL 1e-12
#define TOL_EURO_VECTOR_ABS 1e-13
#define TOL_BOND_VECTOR 1e-13 /* geometric series against the literal sum, relative */
/* american (Bjerksund-Stensland, quadrature exponentials rounded differently, and trees):
 * relative to the price, plus absolute per unit of max(S, K), on ordinary inputs;
 * test_kern_american.c tests the kernel in depth, with its own tolerances */
#define TOL_AMER_REL 1e-13
#define TOL_AMER_ABS 1e-14
#define NB 1000
#define NPOLL 4096 /* long enough for every variant to poll at least twice */

static double S[NPOLL], K[NPOLL], T[NPOLL], r[NPOLL], sg[NPOLL], q[NPOLL], cpn[NPOLL],
    fq[NPOLL];
static uint32_t steps[NPOLL];
static double out_ref[NPOLL], out_var[NPOLL];
static uint8_t fl_ref[NPOLL], fl_var[NPOLL];
static double scratch[4096];
static const mdl_work work = {scratch, 4096};

static const double freqs[] = {1, 2, 3, 4, 6, 12, 52, 365, 0.5, 0.25};
#define NFREQS (sizeof freqs / sizeof freqs[0])

static double unif(double lo, double hi)
{
    return lo + (hi - lo) * (rand() / (double)RAND_MAX);
}

static double log_unif(double lo, double hi)
{
    return exp(unif(log(lo), log(hi)));
}

/* Ordinary books. */
static void random_inputs(unsigned seed)
{
    srand(seed);
    for (int i = 0; i < NPOLL; i++) {
        S[i] = unif(20, 200), K[i] = unif(50, 150), T[i] = unif(0.01, 30);
        r[i] = unif(-0.01, 0.12), sg[i] = unif(0.05, 0.9), q[i] = unif(0, 0.08);
        cpn[i] = unif(0, 0.1), fq[i] = (double)(1 + rand() % 12), steps[i] = 0;
    }
}

/* The whole domain: moneyness e^-4 to e^4 (deep in and out of the money, prices down to
 * underflow), T from a day to 30 years, volatility 1% to 150%, q above and below r, negative
 * rates, every coupon frequency; bonds with T on a coupon date k/f (or one ulp either side)
 * for a quarter of the items, where the count of cash flows is decided by rounding. */
static void wide_inputs(unsigned seed)
{
    srand(seed);
    for (int i = 0; i < NPOLL; i++) {
        S[i] = log_unif(1, 1000), K[i] = S[i] * exp(unif(-4, 4));
        T[i] = log_unif(1.0 / 365, 30), r[i] = unif(-0.03, 0.15), q[i] = unif(0, 0.15);
        sg[i] = log_unif(0.01, 1.5);
        cpn[i] = unif(0, 0.15), fq[i] = freqs[rand() % NFREQS], steps[i] = 0;
        if (rand() % 4 == 0) {
            double k = (double)(1 + rand() % (int)ceil(30 * fq[i]));
            T[i] = k / fq[i];
            int side = rand() % 3;
            if (side == 1)
                T[i] = nextafter(T[i], 0);
            else if (side == 2)
                T[i] = nextafter(T[i], INFINITY);
        }
    }
}

static mdl_batch batch(double *out, uint8_t *fl, size_t n)
{
    return (mdl_batch){n, S, K, T, r, sg, q, cpn, fq, steps, out, fl};
}

/* Each supported level's table in turn. */
#define FOR_EACH_LEVEL(tb)                                                                         \
    for (int lv_ = 0; lv_ < (int)MDL_ISA_COUNT; lv_++)                                            \
        for (const mdl_entry *tb = mdl_isa_supported((mdl_isa)lv_) ? mdl_table_isa((mdl_isa)lv_) \
                                                                   : NULL;                         \
             tb != NULL; tb = NULL)

/* The kinds the linear kernels (kern_linear.c) price. */
static bool linear_kind(int k)
{
    return k == MDL_SPOT || k == MDL_FORWARD || k == MDL_EURO_CALL || k == MDL_EURO_PUT ||
           k == MDL_BOND;
}

START_TEST(table_complete)
{
    mdl_init();
    mdl_init(); /* idempotent */
    ck_assert(mdl_isa_supported(MDL_ISA_BASELINE));
    ck_assert_ptr_eq(mdl_table(), mdl_table_isa(mdl_isa_best()));
    FOR_EACH_LEVEL(tb)
    {
        for (int k = 0; k < (int)MDL_KIND_COUNT; k++) {
            ck_assert_str_eq(tb[k].name, mdl_kind_name((mdl_kind)k));
            ck_assert(tb[k].batch != NULL);
            ck_assert(tb[k].ref_batch != NULL);
            ck_assert_ptr_nonnull(tb[k].variant);
            if (linear_kind(k))
                ck_assert_str_eq(tb[k].variant, "vector");
        }
        ck_assert_str_ne(tb[MDL_AMER_CALL].variant, "reference");
        ck_assert_str_ne(tb[MDL_AMER_PUT].variant, "reference");
    }
}
END_TEST

START_TEST(reference_batch_is_the_scalar_reference)
{
    random_inputs(3);
    FOR_EACH_LEVEL(tb)
    {
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
}
END_TEST

/* The variant of kind k against the reference on out_ref/out_var[0..n), inputs as in b. */
static void check_variant(int k, const mdl_batch *b, size_t i)
{
    ck_assert_uint_eq(fl_var[i], fl_ref[i]);
    double Sq = b->S[i], Kq = b->K[i];
    if (isnan(out_ref[i])) {
        ck_assert_msg(isnan(out_var[i]), "kind %d item %zu: %.17g, want NaN", k, i, out_var[i]);
        return;
    }
    switch (k) {
    case MDL_SPOT: /* a copy */
        ck_assert(rk_test_same_bits(out_var[i], out_ref[i]));
        break;
    case MDL_FORWARD:
        ck_assert_close(out_var[i], out_ref[i], TOL_FORWARD_VECTOR_ABS * (Sq + Kq), 0);
        break;
    case MDL_EURO_CALL:
    case MDL_EURO_PUT:
        ck_assert_close(out_var[i], out_ref[i], TOL_EURO_VECTOR_ABS * Sq, TOL_EURO_VECTOR_REL);
        break;
    case MDL_BOND:
        ck_assert_close(out_var[i], out_ref[i], 0, TOL_BOND_VECTOR);
        break;
    case MDL_AMER_CALL:
    case MDL_AMER_PUT:
        ck_assert_close(out_var[i], out_ref[i], TOL_AMER_ABS * fmax(Sq, Kq), TOL_AMER_REL);
        break;
    default:
        ck_abort_msg("no tolerance named for variant of kind %d", k);
    }
}

static void variants_against_reference(bool no_q_no_coupon, bool linear_only)
{
    FOR_EACH_LEVEL(tb)
    {
        for (int k = 0; k < (int)MDL_KIND_COUNT; k++) {
            if (tb[k].batch == tb[k].ref_batch || (linear_only && !linear_kind(k)))
                continue;
            mdl_batch br = batch(out_ref, fl_ref, NB), bv = batch(out_var, fl_var, NB);
            if (no_q_no_coupon) {
                br.q = bv.q = NULL;
                br.coupon = bv.coupon = NULL;
            }
            memset(fl_var, 0xff, sizeof fl_var);
            ck_assert_uint_eq(tb[k].ref_batch(&br, &work, NULL), NB);
            ck_assert_uint_eq(tb[k].batch(&bv, &work, NULL), NB);
            for (size_t i = 0; i < NB; i++)
                check_variant(k, &bv, i);
        }
    }
}

START_TEST(variants_match_reference)
{
    for (unsigned seed = 1; seed <= 5; seed++) {
        random_inputs(seed);
        variants_against_reference(false, false);
    }
}
END_TEST

/* The linear kernels over the whole domain (the american ones: test_kern_american.c). */
START_TEST(variants_match_reference_whole_domain)
{
    for (unsigned seed = 11; seed <= 20; seed++) {
        wide_inputs(seed);
        variants_against_reference(seed % 2 == 0, true);
    }
}
END_TEST

/* The bond kernel's count of cash flows equals the reference loop's at every coupon date k/f
 * of 30 years and one ulp either side: one flow too many or too few would move the price by
 * c/f e^{-yt}, a thousand times the tolerance. */
START_TEST(bond_count_on_coupon_dates)
{
    for (size_t m = 0; m < NFREQS; m++) {
        double f = freqs[m];
        size_t n = 0;
        double step = ceil(30 * f * 3 / NPOLL); /* dates spread over the 30 years */
        for (double k = 1; k <= 30 * f && n + 3 <= NPOLL; k += step) {
            double t = k / f;
            double ts[3] = {nextafter(t, 0), t, nextafter(t, INFINITY)};
            for (int s = 0; s < 3; s++, n++) {
                T[n] = ts[s], r[n] = 0.05, cpn[n] = 0.1, fq[n] = f;
                S[n] = K[n] = sg[n] = q[n] = 1.0, steps[n] = 0;
            }
        }
        FOR_EACH_LEVEL(tb)
        {
            mdl_batch br = batch(out_ref, fl_ref, n), bv = batch(out_var, fl_var, n);
            ck_assert_uint_eq(tb[MDL_BOND].ref_batch(&br, &work, NULL), n);
            ck_assert_uint_eq(tb[MDL_BOND].batch(&bv, &work, NULL), n);
            for (size_t i = 0; i < n; i++)
                check_variant(MDL_BOND, &bv, i);
        }
    }
}
END_TEST

/* Copies item src of the input arrays to position dst. */
static void copy_item(size_t dst, size_t src)
{
    S[dst] = S[src], K[dst] = K[src], T[dst] = T[src], r[dst] = r[src], sg[dst] = sg[src];
    q[dst] = q[src], cpn[dst] = cpn[src], fq[dst] = fq[src], steps[dst] = steps[src];
}

/* The same item gives the same bits at every position of batches of every length (vector
 * lanes, block padding, the last short block), at each level. Items 0..NITEM-1 are the probes;
 * the batches are built from position BASE on, filled with other items around the probe. */
#define NITEM 40
#define BASE 1000
START_TEST(kernels_deterministic)
{
    static const size_t lens[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100};
    wide_inputs(77);
    FOR_EACH_LEVEL(tb)
    {
        for (int k = 0; k < (int)MDL_KIND_COUNT; k++) {
            if (!linear_kind(k))
                continue;
            for (size_t it = 0; it < NITEM; it++) {
                double want = NAN;
                for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
                    size_t len = lens[li];
                    size_t pos[3] = {0, len / 2, len - 1};
                    for (int pi = 0; pi < 3; pi++) {
                        for (size_t j = 0; j < len; j++)
                            copy_item(BASE + j, NITEM + (j * 7 + li) % 500);
                        copy_item(BASE + pos[pi], it);
                        mdl_batch b = {len,         S + BASE,  K + BASE,   T + BASE,
                                       r + BASE,    sg + BASE, q + BASE,   cpn + BASE,
                                       fq + BASE,   steps + BASE, out_var, fl_var};
                        ck_assert_uint_eq(tb[k].batch(&b, &work, NULL), len);
                        if (li == 0)
                            want = out_var[0];
                        ck_assert_msg(rk_test_same_bits(out_var[pos[pi]], want),
                                      "%s level %d item %zu: %.17g at %zu of %zu, %.17g alone",
                                      tb[k].name, lv_, it, out_var[pos[pi]], pos[pi], len,
                                      want);
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

/* A stopped batch reports how many items it priced: those are priced as an uninterrupted run
 * prices them, and nothing after them is written. */
START_TEST(batches_stop)
{
    random_inputs(9);
    mdl_poll poll = {stop_after, NULL};
    FOR_EACH_LEVEL(tb)
    {
        for (int k = 0; k < (int)MDL_KIND_COUNT; k++) {
            size_t n = (k == MDL_AMER_CALL || k == MDL_AMER_PUT) ? NB : NPOLL;
            for (int v = 0; v < 2; v++) {
                mdl_batch_fn fn = v ? tb[k].batch : tb[k].ref_batch;
                mdl_batch full = batch(out_ref, fl_ref, n);
                ck_assert_uint_eq(fn(&full, &work, NULL), n);
                for (int allowed = 0; allowed < 3; allowed++) {
                    mdl_batch b = batch(out_var, fl_var, n);
                    for (size_t i = 0; i < n; i++)
                        out_var[i] = -1.0;
                    polls_left = allowed;
                    size_t done = fn(&b, &work, &poll);
                    ck_assert_uint_le(done, n);
                    if (k != MDL_SPOT)
                        ck_assert_uint_lt(done, n);
                    for (size_t i = 0; i < done; i++)
                        ck_assert(rk_test_same_bits(out_var[i], out_ref[i]));
                    /* a tree stopped mid-item leaves that item NaN, flagged */
                    if (done < n && out_var[done] != -1.0) {
                        ck_assert(isnan(out_var[done]));
                        ck_assert_uint_eq(fl_var[done], MDL_FLAG_STOPPED);
                    }
                    for (size_t i = done + 1; i < n; i++)
                        ck_assert(out_var[i] == -1.0);
                    if (allowed > 0 && k != MDL_SPOT)
                        ck_assert_uint_gt(done, 0);
                }
            }
        }
    }
    /* a tree inside a batch: stopped mid-item, that item is not counted */
    for (int i = 0; i < NB; i++)
        steps[i] = 500;
    FOR_EACH_LEVEL(tb)
    {
        mdl_batch b = batch(out_var, fl_var, 3);
        polls_left = 3;
        ck_assert_uint_eq(tb[MDL_AMER_PUT].batch(&b, &work, &poll), 0);
        ck_assert(isnan(out_var[0]));
        ck_assert_uint_eq(fl_var[0], MDL_FLAG_STOPPED);
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("batch");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, table_complete);
    tcase_add_test(tc, reference_batch_is_the_scalar_reference);
    tcase_add_test(tc, variants_match_reference);
    tcase_add_test(tc, variants_match_reference_whole_domain);
    tcase_add_test(tc, bond_count_on_coupon_dates);
    tcase_add_test(tc, kernels_deterministic);
    tcase_add_test(tc, batches_stop);
    suite_add_tcase(s, tc);
    return s;
}
