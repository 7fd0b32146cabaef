/*
 * kern_american.c - the batch kernel of the american call and put: Bjerksund-Stensland 2002
 * (bs2002.c is the specification) across items in vector lanes, trees by the level's CRR
 * kernel; compiled once per level (kern.h). The put is the call of the transformed inputs,
 * P(S, K, T, r, q, s) = C(K, S, T, q, r, s).
 *
 * How a block of MDL_VB items is priced. The formula needs, per price, 4 logarithms, 2 expm1,
 * 38 normal CDFs, 21 exponentials and 20 bivariate normal quadratures of 20 nodes each (400
 * exponentials, most of the work). Every one of these is a vector loop over the whole block:
 *  1. prepare: beta, B_inf, B0, h1, h2, I1, I2, the logs, the gamma-dependent terms, and into
 *     arrays the 38 CDF arguments, the 21 exponents of the factors and the 20 quadrature pairs
 *     (h k, h^2 + k^2) of each item, each with a bound on how far it may be from the
 *     reference's value;
 *  2. one loop of vm_ncdf over the 38 x MDL_VB arguments, one of vm_exp over the 21 x MDL_VB
 *     exponents;
 *  3. the quadratures: for each of the 20 x MDL_VB pairs, the 20 nodes in a row with the
 *     tabulated constants of rho = sqrt(t1/T) broadcast (t1/T is the same for every option, so
 *     the nodes are computed once for all: bs2002.c's table), the sum kept in a register;
 *  4. finish: the price, summed in the reference's order, and a bound on its distance from the
 *     reference's price.
 * Work shared beyond the reference's: phi and psi depend on H only through their CDFs and
 * quadratures, so phi(S,t1,g,I2,I2) and phi(S,t1,g,I1,I2) (same g and weight) share both
 * exponential factors, and psi(.., I1, ..) and psi(.., K, ..) (same g and weight) share all
 * four: 21 exponentials instead of 33. The arithmetic is the reference's, operation for
 * operation (no fused multiply-add where the reference has none), except that the 38 CDF
 * arguments are multiplied by 1/(s sqrt t) instead of divided by it (38 divisions less).
 *
 * At the AVX-512 level stages 2 and 3 are written with intrinsics: the quadrature exponential
 * from a table of 16 in registers (fewer instructions, which bound them), the factors as
 * vmath.h's vm_exp with the same bits, and the CDFs as vm_ncdf but for its exponent polynomial,
 * taken in 16 pieces of lower degree (ncdf8).
 *
 * Accuracy. The only differences from the reference are the vector functions (within 1 ulp
 * where libm is within half an ulp; the CDFs within 5 ulp relative, where the reference's erfc
 * form loses up to a hundred in the tail), the quadrature exponential below, the reciprocals
 * and the fused multiply-adds of the quadrature. Most prices are then within a few 1e-16
 * relative of the reference. Where the formula adds large terms that cancel, or where a CDF far
 * in its tail (or a large exponent) amplifies a rounding, they are not. The finish estimates the
 * distance: each term's own error (its factor's exponent and exponential, its CDFs with their
 * arguments' sensitivity, its quadratures, a pair of phi or psi that share their factors
 * counting the factors' errors on their difference only), plus the part common to all terms
 * that the logs' rounding moves (prepare: COHERENT); a price whose estimate exceeds KEEP_REL
 * relative plus KEEP_ABS per unit of max(S, K) is priced by the reference instead.
 *
 * Items the vector formula does not price go to the scalar path (scalar_price, the reference's
 * logic with this level's tree): trees (steps > 0), the european case (q <= 0 for the call),
 * inputs where the approximation is undefined (the 200-step tree with MDL_FLAG_FALLBACK),
 * prices that are not finite or too sensitive, and the boundary cases (a trigger within rounding
 * of 0, a spot within rounding of the trigger I2) where the reference's own rounding decides.
 * Spots beyond the trigger are exercised at once: S - K. The first two are known from the
 * inputs alone, and take no lane: the blocks are filled with the other items (the batch,
 * below). Items are priced and written in order, a window of at most 2 MDL_VB at a time; the
 * poll is consulted between windows; trees poll by themselves, and a tree stopped by the poll
 * leaves its entry NaN with MDL_FLAG_STOPPED and nothing after it written.
 */
#include <math.h>
#include <stdbool.h>

#include "kern.h"

#define T1_RATIO 0.61803398874989484820 /* t1 / T = (sqrt(5) - 1) / 2, as in bs2002.c */

#define NARG 38  /* CDF arguments per price: 12 e, 6 d (phi at H = I2), 20 f */
#define NFAC 21  /* exponential factors per price */
#define PAIRS 20 /* bivariate normals per price: 5 psi x 4 */
#define NODES 20 /* the tabulated rule of bs2002.c */

/* What a lane needs: the formula, the value beyond the trigger, or the scalar path. */
#define HOW_FORMULA 0.0
#define HOW_VALUE 1.0
#define HOW_SCALAR 2.0

/* Unit roundoff. */
#define U 0x1p-53

/* The finish's estimate of the distance from the reference's price sums every term's bound as if
 * all erred the same way at their worst; the distance measured over 63,000 random inputs of the
 * whole domain is at most 6.3% of it (3% over a W1-like book). A price is kept when the estimate
 * is within KEEP_REL relative plus KEEP_ABS per unit of max(S, K), ten times the tolerances of
 * tests/models/test_kern_american.c, so that the distance stays within 0.63 of them (measured:
 * 0.11); the rest (about 1% of a W1-like book, mostly low dividend yields, whose triggers are
 * far and whose terms large; more over the whole domain) is priced by the reference. */
#define KEEP_REL 5e-13
#define KEEP_ABS 1e-13

/* Boundary cases left to the reference's own rounding: a trigger below TRIGGER_MIN B0 (its
 * sign decides whether the formula is defined), a spot within SPOT_EDGE relative of I2, plus
 * I2's own error (it decides immediate exercise; the formula equals S - K there, up to
 * rounding). */
#define TRIGGER_MIN 1e-6
#define SPOT_EDGE 1e-12

/* The price's move when the logs of S, K, I1, I2 move by 1.5 ulp each, in units of the largest
 * move times S + K: at most 2.05 over random inputs of the whole domain (measured by moving each
 * log in turn, both ways). */
#define COHERENT 4.0

/* ---- the quadratures ----
 * A pair's exponents A_j h k - B_j (h^2 + k^2) = -(h^2 - 2 s_j h k + k^2) / (2 (1 - s_j^2)) lie
 * in [-(h^2 + k^2) / (2 (1 - s_j)), -(h^2 + k^2) / (2 (1 + s_j))] (0 <= s_j < rho = 0.786).
 * A pair with h^2 + k^2 > HS_MAX has every term below e^-81 (its sum below QUAD_TINY); it is
 * replaced by (0, HS_MAX), whose terms are as small, so that every exponent evaluated is in
 * [-678, 0] ([-978, 0] in base 2), where the exponential below needs no test. */
#define HS_MAX 290.0
#define QUAD_TINY 1e-36

/* CDF arguments beyond +-CDF_MAX are taken as +-CDF_MAX: N(-a) is then below CDF_TINY, normal,
 * and within CDF_TINY of the reference's (or 1 either way), where the full argument would
 * give, or form on the way, a subnormal, whose arithmetic costs about a hundred cycles an
 * operation on x86. */
#define CDF_MAX 37.0
#define CDF_TINY 1e-299

#if !(defined(__AVX512F__) && defined(__AVX512DQ__)) /* AVX-512 has its own, below */
/* 2^y for y in [-1000, 0] (no special case): 2^n 2^f with n = round(y) and f = y - n in
 * [-1/2, 1/2] (exact), 2^f = e^r with r = f ln 2, e^r = 1 + r (1 + r Q(r)) by Horner's scheme, Q
 * the degree 9 Chebyshev fit of (e^r - 1 - r) / r^2 on |r| <= 0.347 (error 3.2e-18, below the
 * rounding), its coefficients times powers of ln 2 so that the polynomial is in f; 2^n is added
 * to the exponent field as an integer: n sits in the low bits of k, and shifting them by 52
 * places n, and nothing else, there. Within about 1 ulp. The quadrature's exponents are taken in
 * base 2 directly (the node constants times log2 e), which saves the reduction's two products:
 * their rounding is of the order of the exponent's own, which the reference has too (quad_err).
 * Cheaper than vm_exp (no clamp, no split scaling into the subnormals, no compensation): the 400
 * of them are most of a price. Horner's long dependency chain costs nothing here: the
 * 20 x MDL_VB pairs of a block are independent, and the out-of-order core overlaps them. */
#define LN2 0.69314718055994530942
/* q_k ln2^(k+2), with q_k (k = 0..9) the coefficients of Q. */
static const double quad_q[10] = {
    0.2402265069591016,    0.055504108664821625,   0.00961812910758709,    0.0013333558146406382,
    0.0001540353046393577, 1.5252733841669457e-05, 1.3215432427233442e-06, 1.0178057029806383e-07,
    7.074213608683074e-09, 4.455828201583414e-10,
};
#define QC(k) quad_q[k]
VM_INLINE double quad_exp2(double y)
{
    double k = y + VM_SHIFT;
    double n = k - VM_SHIFT;
    double f = y - n;
    double t = VM_FMA(QC(9), f, QC(8));
    t = VM_FMA(t, f, QC(7));
    t = VM_FMA(t, f, QC(6));
    t = VM_FMA(t, f, QC(5));
    t = VM_FMA(t, f, QC(4));
    t = VM_FMA(t, f, QC(3));
    t = VM_FMA(t, f, QC(2));
    t = VM_FMA(t, f, QC(1));
    t = VM_FMA(t, f, QC(0));
    t = VM_FMA(t, f, LN2);
    double p = VM_FMA(t, f, 1.0);
    return vm_from_bits(vm_bits(p) + (vm_bits(k) << 52));
}
#endif

/* The node constants of bs2002.c in base 2: A_j log2 e and -B_j log2 e. */
typedef struct quad_nodes {
    double A[NODES], nB[NODES], W[NODES];
} quad_nodes;

static void quad_nodes_load(quad_nodes *qn)
{
    const mdl_bvn_nodes *nd = mdl_bs2002_rho_nodes();
    for (int j = 0; j < NODES; j++) {
        qn->A[j] = nd->A[j] * VM_LOG2E;
        qn->nB[j] = -nd->B[j] * VM_LOG2E;
        qn->W[j] = nd->W[j];
    }
}

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>

/* At the AVX-512 level, 2^y another way, in fewer instructions (the 400 of a price are bound by
 * their number): with m = floor(16 y), f = y - m/16 in [0, 1/16) (exact: vreducepd) and
 * j = m mod 16, 2^y = 2^floor(y) 2^(j/16) 2^f, where 2^(j/16) comes from a table of 16 held in
 * two registers (vpermt2pd, indexed by the low bits of y + 1.5 * 2^48 rounded down, which hold
 * m), 2^f = 1 + f R(f), R the degree 5 Chebyshev interpolant of (2^f - 1) / f on [0, 1/16]
 * (error of f R below 2.9e-17), and 2^floor(y) is applied by vscalefpd, which floors y itself.
 * Within about 1 ulp (the table's rounding, the last two roundings); the same bits on every
 * AVX-512 CPU (no approximate instruction). */
static const double quad_r[6] = {
    0.6931471805599448,   0.24022650695962044,   0.0555041085678426,
    0.009618135722740813, 0.0013331520045529266, 0.00015692444190046448,
};
static const double quad_tab[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0,
};

static void quadratures(double *restrict sum, const double *restrict hk, const double *restrict hs,
                        const quad_nodes *restrict qn)
{
    const __m512d tlo = _mm512_loadu_pd(quad_tab), thi = _mm512_loadu_pd(quad_tab + 8);
    const __m512d shift = _mm512_set1_pd(0x1.8p48);
    const __m512d r0 = _mm512_set1_pd(quad_r[0]), r1 = _mm512_set1_pd(quad_r[1]);
    const __m512d r2 = _mm512_set1_pd(quad_r[2]), r3 = _mm512_set1_pd(quad_r[3]);
    const __m512d r4 = _mm512_set1_pd(quad_r[4]), r5 = _mm512_set1_pd(quad_r[5]);
    /* four vectors of pairs at a time: four independent chains per node, and its three
     * constants loaded once for them */
    for (int i = 0; i < PAIRS * MDL_VB; i += 32) {
        __m512d u[4], v[4], s[4];
        for (int l = 0; l < 4; l++) {
            u[l] = _mm512_loadu_pd(hk + i + 8 * l);
            v[l] = _mm512_loadu_pd(hs + i + 8 * l);
            s[l] = _mm512_setzero_pd();
        }
        for (int j = 0; j < NODES; j++) {
            __m512d A = _mm512_set1_pd(qn->A[j]), nB = _mm512_set1_pd(qn->nB[j]);
            __m512d W = _mm512_set1_pd(qn->W[j]);
            for (int l = 0; l < 4; l++) {
                __m512d y = _mm512_fmadd_pd(A, u[l], _mm512_mul_pd(nB, v[l]));
                __m512d k =
                    _mm512_add_round_pd(y, shift, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
                __m512d f =
                    _mm512_reduce_pd(y, (4 << 4) | _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
                __m512d t = _mm512_permutex2var_pd(tlo, _mm512_castpd_si512(k), thi);
                __m512d p = _mm512_fmadd_pd(r5, f, r4);
                p = _mm512_fmadd_pd(p, f, r3);
                p = _mm512_fmadd_pd(p, f, r2);
                p = _mm512_fmadd_pd(p, f, r1);
                p = _mm512_fmadd_pd(p, f, r0);
                p = _mm512_mul_pd(p, f);
                __m512d e = _mm512_scalef_pd(_mm512_fmadd_pd(t, p, t), y);
                s[l] = _mm512_fmadd_pd(W, e, s[l]);
            }
        }
        for (int l = 0; l < 4; l++)
            _mm512_storeu_pd(sum + i + 8 * l, s[l]);
    }
}
#else
/* sum[i] = sum_j W_j e^{A_j hk[i] - B_j hs[i]}, the nodes in the reference's order. */
static void quadratures(double *restrict sum, const double *restrict hk, const double *restrict hs,
                        const quad_nodes *restrict qn)
{
    MDL_SIMD
    for (int i = 0; i < PAIRS * MDL_VB; i++) {
        double u = hk[i], v = hs[i], s = 0.0;
        for (int j = 0; j < NODES; j++)
            s = VM_FMA(qn->W[j], quad_exp2(VM_FMA(qn->A[j], u, qn->nB[j] * v)), s);
        sum[i] = s;
    }
}
#endif

/* ---- the block's arrays ---- */

/* Per block, [quantity][lane]. About 30 KiB: stays in L1. */
typedef struct block {
    /* inputs, as a call (puts transformed) */
    double S[MDL_VB], K[MDL_VB], T[MDL_VB], r[MDL_VB], sg[MDL_VB], q[MDL_VB];
    double how[MDL_VB];   /* HOW_* */
    double value[MDL_VB]; /* HOW_VALUE: S - K */
    /* what the finish needs beyond the arrays below */
    double I1[MDL_VB], I2[MDL_VB], eI1[MDL_VB], eI2[MDL_VB]; /* eI: relative error bound */
    double arg[NARG][MDL_VB];  /* CDF arguments a; then N(-a) in place */
    double nerr[NARG][MDL_VB]; /* relative error bound of N(-a) */
    double fac[NFAC][MDL_VB];  /* exponents; then the factors in place */
    double ferr[NFAC][MDL_VB]; /* relative error bound of the factors */
    double hk[PAIRS][MDL_VB], hs[PAIRS][MDL_VB], quad[PAIRS][MDL_VB];
    double qerr[PAIRS][MDL_VB]; /* relative error bound of the quadratures */
    double coh[MDL_VB];         /* the logs' common part of the error bound (prepare) */
    double price[MDL_VB], err[MDL_VB];
} block;

/* Indices. Gammas: 0 = beta, 1 = 1, 2 = 0. CDF arguments: e1..e4 of gamma g at 4 g + i; d1, d2
 * (phi at H = I2) of gamma g at 12 + 2 g + i; f1..f4 of psi c at 18 + 4 c + i. Factors: 0 the
 * first term; phi: 1-2 (beta, weight alpha2), 3-4 (beta, alpha1), 5-6 (1), 7-8 (0, K); psi:
 * 9-12 (beta, alpha1), 13-16 (1), 17-20 (0, K). The five psi c = 0..4: (beta, I1), (1, I1),
 * (1, K), (0, I1), (0, K); their pairs at 4 c + i. */
#define ARG_E(g, i) (4 * (g) + (i))
#define ARG_D(g, i) (12 + 2 * (g) + (i))
#define ARG_F(c, i) (18 + 4 * (c) + (i))

/* Bound on |N(-a) - reference| / N(-a) for an argument a formed with a reciprocal (within
 * 3 u |a| of the reference's division): the functions' own rounding, and the argument's error
 * times the logarithmic derivative of N(-a), phi(a)/N(-a), which is at most a + 1 for a >= 0,
 * and for a < 0 at most 2 phi(a) <= 0.8 / (1 + a^2/2), so that the product is below 2 u. */
VM_INLINE double cdf_err(double a)
{
    return 4.0 * U + (a > 0.0 ? (a + 1.0) * 3.0 * U * a : 2.0 * U);
}

/* Bound on the relative error of a quadrature with arguments h, k off by dh, dk: every
 * exponent A_j h k - B_j (h^2 + k^2) (A_j <= 2.04, B_j <= 1.3) moves by at most
 * 5 (|h| + |k|)(dh + dk), plus the rounding of the exponent (fused here, not in the
 * reference) and of the exponential and the sum. */
VM_INLINE double quad_err(double h, double k, double dh, double dk, double hs)
{
    return 8.0 * U + 5.0 * (fabs(h) + fabs(k)) * (dh + dk) + 8.0 * U * hs;
}

/* One pair (h, k), as mdl_bvn_quad forms it, with its error bound. */
VM_INLINE void put_pair(block *bk, int p, int j, double h, double k, double dh, double dk)
{
    double hk = h * k, hs = h * h + k * k;
    bk->qerr[p][j] = quad_err(h, k, dh, dk, hs);
    bool far = hs > HS_MAX;
    bk->hk[p][j] = far ? 0.0 : hk;
    bk->hs[p][j] = far ? HS_MAX : hs;
}

/* The drift, lambda and kappa of bs2002.c's gamma_init. */
typedef struct gam {
    double g, mu, lam, kap;
} gam;

VM_INLINE gam gam_make(double g, double b, double r, double v2, double kb)
{
    gam x;
    x.g = g;
    x.mu = b + (g - 0.5) * v2;
    x.lam = -r + g * b + 0.5 * g * (g - 1.0) * v2;
    x.kap = kb + (2.0 * g - 1.0);
    return x;
}

/* What the arguments and exponents of one item share. */
typedef struct item {
    double lnS, lnK, lnI1, lnI2, t1, T, inv1, invT;
    double aS, aK, a1, a2; /* |ln| */
} item;

/* e1..e4 and d1, d2 of gamma index gi. */
VM_INLINE void put_e(block *bk, int j, int gi, gam x, const item *it)
{
    double m1 = x.mu * it->t1;
    double x1 = it->lnS - it->lnI1;
    double x2 = 2.0 * it->lnI2 - it->lnS - it->lnI1;
    double e1 = (x1 + m1) * it->inv1, e2 = (x2 + m1) * it->inv1;
    double e3 = (x1 - m1) * it->inv1, e4 = (x2 - m1) * it->inv1;
    double d1 = (it->lnS - it->lnI2 + m1) * it->inv1;
    double d2 = (2.0 * it->lnI2 - it->lnS - it->lnI2 + m1) * it->inv1;
    bk->arg[ARG_E(gi, 0)][j] = e1;
    bk->arg[ARG_E(gi, 1)][j] = e2;
    bk->arg[ARG_E(gi, 2)][j] = e3;
    bk->arg[ARG_E(gi, 3)][j] = e4;
    bk->arg[ARG_D(gi, 0)][j] = d1;
    bk->arg[ARG_D(gi, 1)][j] = d2;
    bk->nerr[ARG_E(gi, 0)][j] = cdf_err(e1);
    bk->nerr[ARG_E(gi, 1)][j] = cdf_err(e2);
    bk->nerr[ARG_E(gi, 2)][j] = cdf_err(e3);
    bk->nerr[ARG_E(gi, 3)][j] = cdf_err(e4);
    bk->nerr[ARG_D(gi, 0)][j] = cdf_err(d1);
    bk->nerr[ARG_D(gi, 1)][j] = cdf_err(d2);
}

/* f1..f4 of psi c (gamma index gi, barrier log lnH) and its four pairs: correlation +rho for
 * M(-e1,-f1), M(-e2,-f2), -rho for the other two (internal.h). */
VM_INLINE void put_f(block *bk, int j, int c, int gi, gam x, double lnH, const item *it)
{
    double m = x.mu * it->T;
    double lnS = it->lnS, lnI1 = it->lnI1, lnI2 = it->lnI2;
    double f[4];
    f[0] = (lnS - lnH + m) * it->invT;
    f[1] = (2.0 * lnI2 - lnS - lnH + m) * it->invT;
    f[2] = (2.0 * lnI1 - lnS - lnH + m) * it->invT;
    f[3] = (lnS + 2.0 * lnI1 - lnH - 2.0 * lnI2 + m) * it->invT;
    for (int i = 0; i < 4; i++) {
        double e = bk->arg[ARG_E(gi, i)][j];
        double h = i < 2 ? e : -e;
        double dh = 3.0 * U * fabs(h), dk = 3.0 * U * fabs(f[i]);
        bk->arg[ARG_F(c, i)][j] = f[i];
        bk->nerr[ARG_F(c, i)][j] = cdf_err(f[i]);
        put_pair(bk, 4 * c + i, j, h, f[i], dh, dk);
    }
}

/* Bound on the error of kap (lnA - lnB): the roundings of the difference and of the product. */
VM_INLINE double kap_err(gam x, double diff)
{
    return 2.0 * U * fabs(x.kap * diff);
}

/* phi's two factors at fo: e^p, e^{p + kap (lnI2 - lnS)}, p = w + lam t1 + g lnS. */
VM_INLINE void put_phi_fac(block *bk, int j, int fo, gam x, double w, double dw, const item *it)
{
    double p = w + x.lam * it->t1 + x.g * it->lnS;
    double dp = 3.0 * U + dw + 4.0 * U * (fabs(w) + fabs(x.lam * it->t1) + fabs(x.g) * it->aS);
    bk->fac[fo][j] = p;
    bk->fac[fo + 1][j] = p + x.kap * (it->lnI2 - it->lnS);
    bk->ferr[fo][j] = dp;
    bk->ferr[fo + 1][j] = dp + kap_err(x, it->lnI2 - it->lnS);
}

/* psi's four factors at fo: e^p, e^{p + kap (lnI2 - lnS)}, e^{p + kap (lnI1 - lnS)},
 * e^{p + kap (lnI1 - lnI2)}, p = w + lam T + g lnS. */
VM_INLINE void put_psi_fac(block *bk, int j, int fo, gam x, double w, double dw, const item *it)
{
    double p = w + x.lam * it->T + x.g * it->lnS;
    double dp = 3.0 * U + dw + 4.0 * U * (fabs(w) + fabs(x.lam * it->T) + fabs(x.g) * it->aS);
    bk->fac[fo][j] = p;
    bk->fac[fo + 1][j] = p + x.kap * (it->lnI2 - it->lnS);
    bk->fac[fo + 2][j] = p + x.kap * (it->lnI1 - it->lnS);
    bk->fac[fo + 3][j] = p + x.kap * (it->lnI1 - it->lnI2);
    bk->ferr[fo][j] = dp;
    bk->ferr[fo + 1][j] = dp + kap_err(x, it->lnI2 - it->lnS);
    bk->ferr[fo + 2][j] = dp + kap_err(x, it->lnI1 - it->lnS);
    bk->ferr[fo + 3][j] = dp + kap_err(x, it->lnI1 - it->lnI2);
}

/* Stage 1 for the whole block. */
static void prepare(block *bk)
{
    MDL_SIMD
    for (int j = 0; j < MDL_VB; j++) {
        double S = bk->S[j], K = bk->K[j], T = bk->T[j], r = bk->r[j], sg = bk->sg[j];
        double q = bk->q[j];
        /* as mdl_bs2002_call, operation for operation */
        double b = r - q;
        double v2 = sg * sg;
        double bv = b / v2;
        double rad = (bv - 0.5) * (bv - 0.5) + 2.0 * r / v2;
        double beta = (0.5 - bv) + sqrt(rad);
        double binf = beta / (beta - 1.0) * K;
        double b0r = r / (r - b) * K;
        double b0 = b0r > K ? b0r : K; /* fmax(K, b0r) */
        double gap = binf - b0;
        double t1 = T1_RATIO * T;
        double sv1 = sg * sqrt(t1), svT = sg * sqrt(T);
        double scale = K * K / (gap * b0);
        double h1 = -(b * t1 + 2.0 * sv1) * scale;
        double h2 = -(b * T + 2.0 * svT) * scale;
        double em1 = vm_expm1(h1), em2 = vm_expm1(h2);
        double I1 = b0 - gap * em1, I2 = b0 - gap * em2;
        bool defined = b < r && rad >= 0.0 && beta > 1.0 && gap > 0.0 && binf < HUGE_VAL &&
                       I1 > TRIGGER_MIN * b0 && I2 > TRIGGER_MIN * b0;
        /* I's relative distance from the reference's: expm1 within 1 ulp, amplified by
         * gap |e^h - 1| / I. */
        double eI1 = 2.0 * U + 3.0 * U * gap * fabs(em1) / I1;
        double eI2 = 2.0 * U + 3.0 * U * gap * fabs(em2) / I2;
        bool edge = fabs(S - I2) <= (SPOT_EDGE + 8.0 * eI2) * I2;
        bk->how[j] = !defined || edge ? HOW_SCALAR : S >= I2 ? HOW_VALUE : HOW_FORMULA;
        bk->value[j] = S - K;
        bk->I1[j] = I1;
        bk->I2[j] = I2;
        bk->eI1[j] = eI1;
        bk->eI2[j] = eI2;

        item it;
        it.t1 = t1;
        it.T = T;
        it.inv1 = 1.0 / sv1;
        it.invT = 1.0 / svT;
        it.lnS = vm_log(S);
        it.lnK = vm_log(K);
        it.lnI1 = vm_log(I1);
        it.lnI2 = vm_log(I2);
        it.aS = fabs(it.lnS), it.aK = fabs(it.lnK), it.a1 = fabs(it.lnI1), it.a2 = fabs(it.lnI2);
        /* The logs (within 1.5 ulp of the reference's) and I1, I2 move every term together:
         * the CDF arguments and the exponents are formed from them as the reference forms
         * them, so that the price moves as if S, K, I1, I2 had moved by as much, smoothly, by
         * at most COHERENT times the largest log's move times S + K (measured, moving each log
         * in turn). That part is bounded once, here; the terms' bounds hold the rest, their
         * own roundings. */
        double lmax = it.aS > it.aK ? it.aS : it.aK;
        lmax = it.a1 > lmax ? it.a1 : lmax;
        lmax = it.a2 > lmax ? it.a2 : lmax;
        lmax = lmax > 1.0 ? lmax : 1.0;
        bk->coh[j] = COHERENT * (3.0 * U * lmax + eI1 + eI2) * (S + K);

        double kb = 2.0 * b / v2;
        gam gb = gam_make(beta, b, r, v2, kb), g1 = gam_make(1.0, b, r, v2, kb),
            g0 = gam_make(0.0, b, r, v2, kb);
        put_e(bk, j, 0, gb, &it);
        put_e(bk, j, 1, g1, &it);
        put_e(bk, j, 2, g0, &it);
        put_f(bk, j, 0, 0, gb, it.lnI1, &it);
        put_f(bk, j, 1, 1, g1, it.lnI1, &it);
        put_f(bk, j, 2, 1, g1, it.lnK, &it);
        put_f(bk, j, 3, 2, g0, it.lnI1, &it);
        put_f(bk, j, 4, 2, g0, it.lnK, &it);

        /* alpha_i e^{...} = (I_i - K) e^{... - beta ln I_i}: the alphas enter as weights */
        double la1 = -beta * it.lnI1, la2 = -beta * it.lnI2;
        double dla1 = U * fabs(la1), dla2 = U * fabs(la2);
        bk->fac[0][j] = beta * it.lnS + la2;
        bk->ferr[0][j] = 3.0 * U + dla2 + 4.0 * U * (beta * it.aS + fabs(la2));
        put_phi_fac(bk, j, 1, gb, la2, dla2, &it);
        put_phi_fac(bk, j, 3, gb, la1, dla1, &it);
        put_phi_fac(bk, j, 5, g1, 0.0, 0.0, &it);
        put_phi_fac(bk, j, 7, g0, it.lnK, U * it.aK, &it);
        put_psi_fac(bk, j, 9, gb, la1, dla1, &it);
        put_psi_fac(bk, j, 13, g1, 0.0, 0.0, &it);
        put_psi_fac(bk, j, 17, g0, it.lnK, U * it.aK, &it);
    }
}

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#define V8(c) _mm512_set1_pd(c)
#define FMA8(a, b, c) _mm512_fmadd_pd((a), (b), (c))

/* vm_exp_q_ (vmath.h), operation for operation. */
static inline __m512d ncdf_q8(__m512d r)
{
    __m512d r2 = _mm512_mul_pd(r, r), r4 = _mm512_mul_pd(r2, r2);
    __m512d a0 = FMA8(V8(0.1666666666666667), r, V8(0.5));
    __m512d a1 = FMA8(V8(0.008333333333326136), r, V8(0.04166666666666667));
    __m512d a2 = FMA8(V8(0.00019841269874815834), r, V8(0.001388888888888375));
    __m512d a3 = FMA8(V8(2.7557255406285044e-06), r, V8(2.480158732554432e-05));
    __m512d a4 = FMA8(V8(2.5105214474751413e-08), r, V8(2.7557273647451087e-07));
    __m512d b0 = FMA8(a1, r2, a0);
    __m512d b1 = FMA8(a3, r2, a2);
    __m512d b2 = FMA8(V8(2.0914685161418067e-09), r2, a4);
    return FMA8(r4, FMA8(r4, b2, b1), b0);
}

/* The exponent polynomial of the CDF, P(t), in 16 pieces of degree NCDF_DEGREE
 * (models/tools/ncdf_piece_coeffs.py; truncation error below 8.4e-19): coefficient k of piece i
 * at [k][i]. */
#define NCDF_DEGREE 9
static const double ncdf_piece[NCDF_DEGREE + 1][16] __attribute__((aligned(64))) = {
    {-1.2333935255073332, -1.1684052995790095, -1.0998547842646504, -1.0282228061490861,
     -0.9535708519677768, -0.8760587468514588, -0.7959553013477976, -0.7136380605872192,
     -0.629580539022419, -0.5443282926383651, -0.4584677401292903, -0.37259287063628066,
     -0.2872746601282921, -0.20303660322705092, -0.12033795983512398, -0.03956471565632581},
    {0.031501347482734254, 0.03350522588668166, 0.03504705597943128, 0.0365799517328006,
     0.03805877727535684, 0.03943092697103167, 0.04064094835835557, 0.04163662851499658,
     0.04237516377966598, 0.04282793097632767, 0.04298286344622176, 0.04284421896344844,
     0.042430227496121034, 0.04176948382128747, 0.040896976035902435, 0.039850433310272534},
    {0.0003618283176745662, 0.0003834200183045187, 0.0003860258224988348, 0.00037853136509879813,
     0.00035866978792417414, 0.00032506829803357636, 0.0002777402028070248, 0.00021829588506140708,
     0.00014976909953054522, 7.611301535825935e-05, 1.540980262187101e-06, -7.00880548599111e-05,
     -0.00013569926791354075, -0.00019319928436243021, -0.00024147024117249948,
     -0.0002802286546657309},
    {2.0643700774355154e-06, 1.132205095250106e-06, -3.3688107752275424e-07,
     -2.2259043288101868e-06, -4.43421069216228e-06, -6.766547909619074e-06, -8.964243771743413e-06,
     -1.0764781213525541e-05, -1.1965753699332781e-05, -1.2467472069948396e-05,
     -1.2281468745519645e-05, -1.1508930860546387e-05, -1.0303370125930485e-05,
     -8.832672258529358e-06, -7.2503618141740795e-06, -5.6793404257075245e-06},
    {-9.858337377389886e-08, -1.5616276636290443e-07, -2.1095464520681305e-07,
     -2.5921778447707375e-07, -2.887238055533908e-07, -2.8883933174930344e-07,
     -2.549737897282588e-07, -1.9085103571701804e-07, -1.072991177964372e-07,
     -1.8420453384344443e-08, 6.27306260777658e-08, 1.2712365146952823e-07, 1.7070819486180458e-07,
     1.937345420604179e-07, 1.99272844666818e-07, 1.916750731574489e-07},
    {-4.417001097738629e-09, -5.445863571134391e-09, -5.346566630519454e-09, -4.095025639776719e-09,
     -1.6208283314142159e-09, 1.6783702569404742e-09, 5.0304040496338245e-09, 7.606716863090418e-09,
     8.860947937641453e-09, 8.692102074169198e-09, 7.3861325407765896e-09, 5.4263191454151935e-09,
     3.2974148460982118e-09, 1.361685280675495e-09, -1.7951203976006636e-10,
     -1.264588123843746e-09},
    {-6.877080717318469e-11, -3.0261763132472384e-11, 5.246484869544699e-11, 1.5736539139617245e-10,
     2.493410748545394e-10, 2.893091332598992e-10, 2.573392998609513e-10, 1.6422235010272216e-10,
     4.3516987748833194e-11, -6.739440051739988e-11, -1.4326615644814024e-10,
     -1.7646236708718632e-10, -1.7327631826878138e-10, -1.4658554294858163e-10,
     -1.0949469984136166e-10, -7.186212460387064e-11},
    {1.7609368427306467e-12, 4.624234682670045e-12, 7.017725798703131e-12, 7.529100548607344e-12,
     5.113584593196801e-12, 3.435881300266119e-13, -4.7709028175432885e-12, -8.106700362948097e-12,
     -8.671589616274043e-12, -6.86624213562148e-12, -3.8871466363080975e-12, -9.396663828771853e-13,
     1.2336549871513807e-12, 2.419260656950038e-12, 2.76126901296157e-12, 2.5472262375002893e-12},
    {1.3230679312285307e-13, 1.7307608888674964e-13, 1.0674953592437942e-13, -5.594504540675051e-14,
     -2.3932648933804646e-13, -3.3264387295614914e-13, -2.8127042793125224e-13,
     -1.2427124053171476e-13, 4.840288185435926e-14, 1.6286973529473698e-13, 1.9541870908415501e-13,
     1.645990475749828e-13, 1.0486446893018102e-13, 4.519957718503947e-14, 9.54102016349932e-16,
     -2.4481406172606218e-14},
    {2.4587465784758014e-15, -7.934437777583514e-16, -6.682687979341319e-15,
     -1.0649109145053814e-14, -8.608183502115878e-15, -1.2205701323354491e-15,
     6.520412071874087e-15, 1.0027330110819288e-14, 8.448105217092975e-15, 4.064052986351409e-15,
     -2.493609378860384e-16, -2.8379606710553744e-15, -3.526188633888301e-15,
     -2.964794631515296e-15, -1.925636295550167e-15, -9.355899817368484e-16},
};

/* Coefficient k of each lane's piece: the low 4 bits of i's lanes index a table of 16 held in two
 * registers. */
#define PIECE_COEF(k, i)                                                                           \
    _mm512_permutex2var_pd(_mm512_load_pd(ncdf_piece[k]), (i), _mm512_load_pd(ncdf_piece[k] + 8))

/* N(x) for |x| <= CDF_MAX: vm_ncdf's method, erfc(z) = t exp(-z^2 + P(t)), t = 2 / (2 + z), with
 * P(t) in 16 pieces of degree 9 (ncdf_piece) instead of one of degree 27: 10 table lookups and
 * 9 multiply-adds instead of 27 multiply-adds and 4 squarings (the kernel 3% faster). The rest
 * is vm_ncdf's, operation for operation, with 2^n applied by vscalefpd (the results are normal
 * for |x| <= CDF_MAX). Over 2 million arguments in [-37, 0] each, against erfcl, the largest
 * error was 4.8 ulp (vm_ncdf's 7.0; the truncation of the pieces is below 1e-18), and in [0, 8]
 * 3 units of 2^-53 absolute, as vm_ncdf. t = 2 / d is a vdivpd: the loop is bound by its
 * instruction count, and the divider works beside the two FMA ports. (A quotient from
 * vrcp14pd's estimate and Newton steps, the same bits, takes seven more instructions; it made
 * the kernel 4% slower: models/README.md.) */
static inline __m512d ncdf8(__m512d x)
{
    __m512d a = _mm512_abs_pd(x);
    __m512d d = FMA8(a, V8(0.70710678118654752440), V8(2.0));
    __m512d t = _mm512_div_pd(V8(2.0), d);
    /* P(t) piecewise: piece i = floor(16 t) (t = 1 joins the last), w = 2 (16 t - i) - 1 */
    __m512d s = _mm512_min_pd(_mm512_mul_pd(t, V8(16.0)), V8(0x1.fffffffffffffp3));
    __m512i i = _mm512_castpd_si512(
        _mm512_add_round_pd(s, V8(0x1.8p52), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
    __m512d w =
        FMA8(V8(2.0), _mm512_reduce_pd(s, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC), V8(-1.0));
    __m512d p = PIECE_COEF(NCDF_DEGREE, i);
    for (int k = NCDF_DEGREE - 1; k >= 0; k--)
        p = FMA8(p, w, PIECE_COEF(k, i));
    __m512d hi = _mm512_mul_pd(a, a);
    __m512d lo = _mm512_fmsub_pd(a, a, hi);
    /* vm_exp_sum_(-hi / 2, p, -lo / 2) */
    __m512d ea = _mm512_mul_pd(V8(-0.5), hi), ec = _mm512_mul_pd(V8(-0.5), lo);
    __m512d k = FMA8(_mm512_add_pd(ea, p), V8(VM_LOG2E), V8(VM_SHIFT));
    __m512d n = _mm512_sub_pd(k, V8(VM_SHIFT));
    __m512d rh = _mm512_add_pd(_mm512_fnmadd_pd(n, V8(VM_LN2_HI), ea), p);
    __m512d r = _mm512_add_pd(rh, _mm512_fnmadd_pd(n, V8(VM_LN2_LO), ec));
    __m512d h = _mm512_add_pd(V8(1.0), r);
    __m512d e = _mm512_add_pd(_mm512_sub_pd(V8(1.0), h), r);
    __m512d ex = _mm512_add_pd(h, FMA8(ncdf_q8(r), _mm512_mul_pd(r, r), e));
    ex = _mm512_scalef_pd(ex, n);
    __m512d v = _mm512_mul_pd(_mm512_mul_pd(V8(0.5), t), ex);
    __mmask8 pos = _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_GT_OQ);
    return _mm512_mask_sub_pd(v, pos, V8(1.0), v);
}

/* vm_exp, operation for operation, with 2^n applied by vscalefpd: one rounding of p 2^n, as
 * vm_exp's two steps, so the same bits. The clamps keep NaN as vm_exp's do. */
static inline __m512d exp8(__m512d x)
{
    x = _mm512_min_pd(V8(VM_EXP_HI), x);
    x = _mm512_max_pd(V8(VM_EXP_LO), x);
    __m512d k = FMA8(x, V8(VM_LOG2E), V8(VM_SHIFT));
    __m512d n = _mm512_sub_pd(k, V8(VM_SHIFT));
    __m512d rh = _mm512_fnmadd_pd(n, V8(VM_LN2_HI), x);
    __m512d r = _mm512_fnmadd_pd(n, V8(VM_LN2_LO), rh);
    __m512d c = _mm512_fnmadd_pd(n, V8(VM_LN2_LO), _mm512_sub_pd(rh, r));
    __m512d h = _mm512_add_pd(V8(1.0), r);
    __m512d e = _mm512_add_pd(_mm512_sub_pd(V8(1.0), h), r);
    __m512d p = _mm512_add_pd(h, _mm512_add_pd(e, FMA8(ncdf_q8(r), _mm512_mul_pd(r, r), c)));
    return _mm512_scalef_pd(p, n);
}

/* Stage 2: the CDFs and the factors, in place. */
static void cdfs_and_factors(block *bk)
{
    double *a = &bk->arg[0][0], *f = &bk->fac[0][0];
    for (int i = 0; i < NARG * MDL_VB; i += 8) {
        __m512d x = _mm512_loadu_pd(a + i);
        /* operands in this order: NaN passes, as in the portable clamp */
        x = _mm512_max_pd(V8(-CDF_MAX), _mm512_min_pd(V8(CDF_MAX), x));
        _mm512_storeu_pd(a + i, ncdf8(_mm512_sub_pd(_mm512_setzero_pd(), x)));
    }
    for (int i = 0; i < NFAC * MDL_VB; i += 8)
        _mm512_storeu_pd(f + i, exp8(_mm512_loadu_pd(f + i)));
}
#else
/* Stage 2: the CDFs and the factors, in place. */
static void cdfs_and_factors(block *bk)
{
    double *a = &bk->arg[0][0], *f = &bk->fac[0][0];
    MDL_SIMD
    for (int i = 0; i < NARG * MDL_VB; i++) {
        double x = a[i] > CDF_MAX ? CDF_MAX : a[i];
        a[i] = vm_ncdf(x < -CDF_MAX ? CDF_MAX : -x);
    }
    MDL_SIMD
    for (int i = 0; i < NFAC * MDL_VB; i++)
        f[i] = vm_exp(f[i]);
}
#endif

/* phi's value F_a N_a - F_b N_b; its error bound (without the factors' own errors when
 * own_f is 0: a pair of phi sharing its factors counts them once, below) and its magnitude. */
VM_INLINE double phi_term(const block *bk, int j, int fa, int na, int nb, int own_f, double *err,
                          double *mag)
{
    double Fa = bk->fac[fa][j], Fb = bk->fac[fa + 1][j];
    double Na = bk->arg[na][j], Nb = bk->arg[nb][j];
    double ta = Fa * Na, tb = Fb * Nb;
    *err = ta * (bk->nerr[na][j] + own_f * bk->ferr[fa][j]) +
           tb * (bk->nerr[nb][j] + own_f * bk->ferr[fa + 1][j]) + (Fa + Fb) * CDF_TINY;
    *mag = ta + tb;
    return ta - tb;
}

/* The factors' errors of phi(.., I2, ..) - phi(.., I1, ..), which share their two factors:
 * only the difference of their CDFs carries them. */
VM_INLINE double phi_pair_ferr(const block *bk, int j, int fa, int g)
{
    double d1 = bk->arg[ARG_D(g, 0)][j] - bk->arg[ARG_E(g, 0)][j];
    double d2 = bk->arg[ARG_D(g, 1)][j] - bk->arg[ARG_E(g, 1)][j];
    return bk->fac[fa][j] * fabs(d1) * bk->ferr[fa][j] +
           bk->fac[fa + 1][j] * fabs(d2) * bk->ferr[fa + 1][j];
}

/* One M of psi c (its i-th), with its error bound (without the factor's). */
VM_INLINE double psi_m(const block *bk, int j, int c, int i, double *em)
{
    static const int pg[5] = {0, 1, 1, 2, 2};
    int na = ARG_E(pg[c], i), nf = ARG_F(c, i), p = 4 * c + i;
    double nn = bk->arg[na][j] * bk->arg[nf][j], qd = bk->quad[p][j];
    *em = nn * (bk->nerr[na][j] + bk->nerr[nf][j] + U) + qd * bk->qerr[p][j] + QUAD_TINY +
          2.0 * CDF_TINY;
    return i < 2 ? nn + qd : nn - qd;
}

/* psi = F1 m1 - F2 m2 - F3 m3 + F4 m4, summed in that order. */
VM_INLINE double psi_add(double v, int i, double t)
{
    return i == 0 ? t : i == 3 ? v + t : v - t;
}

/* psi 0 (its own factors, from fo): value, error bound and magnitude as phi_term. */
VM_INLINE double psi_term(const block *bk, int j, int fo, double *err, double *mag)
{
    double v = 0.0, e = 0.0, s = 0.0;
    for (int i = 0; i < 4; i++) {
        double em, m = psi_m(bk, j, 0, i, &em);
        double F = bk->fac[fo + i][j];
        v = psi_add(v, i, F * m);
        e += F * (em + fabs(m) * bk->ferr[fo + i][j]);
        s += F * fabs(m);
    }
    *err = e;
    *mag = s;
    return v;
}

/* psi c and psi c + 1 (H = I1 and H = K), which share their four factors (from fo): their
 * values in *va, *vb; their error bound, where the factors' own errors are carried by the
 * difference of the M values only, and their magnitude. */
VM_INLINE void psi_pair(const block *bk, int j, int c, int fo, double *va, double *vb, double *err,
                        double *mag)
{
    double a = 0.0, b = 0.0, e = 0.0, s = 0.0;
    for (int i = 0; i < 4; i++) {
        double ea, eb, ma = psi_m(bk, j, c, i, &ea), mb = psi_m(bk, j, c + 1, i, &eb);
        double F = bk->fac[fo + i][j];
        a = psi_add(a, i, F * ma);
        b = psi_add(b, i, F * mb);
        e += F * (ea + eb + fabs(ma - mb) * bk->ferr[fo + i][j]);
        s += F * (fabs(ma) + fabs(mb));
    }
    *va = a;
    *vb = b;
    *err = e;
    *mag = s;
}

/* Stage 4: the prices, summed as bs2002.c sums them, and bounds on their distance from the
 * reference's. */
static void finish(block *bk)
{
    MDL_SIMD
    for (int j = 0; j < MDL_VB; j++) {
        double K = bk->K[j], I1 = bk->I1[j], I2 = bk->I2[j];
        double w1 = I1 - K, w2 = I2 - K, aw1 = fabs(w1), aw2 = fabs(w2);
        double dw1 = I1 * bk->eI1[j] + U * aw1, dw2 = I2 * bk->eI2[j] + U * aw2;
        double eA, eB, eC, eD, eE, eF, mA, mB, mC, mD, mE, mF;
        double pA = phi_term(bk, j, 1, ARG_D(0, 0), ARG_D(0, 1), 1, &eA, &mA);
        double pB = phi_term(bk, j, 5, ARG_D(1, 0), ARG_D(1, 1), 0, &eB, &mB);
        double pC = phi_term(bk, j, 5, ARG_E(1, 0), ARG_E(1, 1), 0, &eC, &mC);
        double pD = phi_term(bk, j, 7, ARG_D(2, 0), ARG_D(2, 1), 0, &eD, &mD);
        double pE = phi_term(bk, j, 7, ARG_E(2, 0), ARG_E(2, 1), 0, &eE, &mE);
        double pF = phi_term(bk, j, 3, ARG_E(0, 0), ARG_E(0, 1), 1, &eF, &mF);
        double e0, e12, e34, m0, m12, m34, s1, s2, s3, s4;
        double s0 = psi_term(bk, j, 9, &e0, &m0);
        psi_pair(bk, j, 1, 13, &s1, &s2, &e12, &m12);
        psi_pair(bk, j, 3, 17, &s3, &s4, &e34, &m34);
        double F0 = bk->fac[0][j];

        double price = w2 * F0;
        price += -w2 * pA + pB - pC - pD + pE + w1 * pF;
        price += -w1 * s0 + s1 - s2 - s3 + s4;

        double mag = aw2 * F0 + aw2 * mA + mB + mC + mD + mE + aw1 * mF + aw1 * m0 + m12 + m34;
        double err = aw2 * F0 * bk->ferr[0][j] + dw2 * F0 + aw2 * eA + dw2 * mA + eB + eC + eD +
                     eE + aw1 * eF + dw1 * mF + aw1 * e0 + dw1 * m0 + e12 + e34;
        err += phi_pair_ferr(bk, j, 5, 1) + phi_pair_ferr(bk, j, 7, 2);
        /* the products' and sums' roundings, which differ from the reference's when their
         * operands do */
        err += U * mag + bk->coh[j];
        bk->price[j] = price;
        bk->err[j] = err;
    }
}

/* ---- the scalar path ---- */

static double at(const double *a, size_t i)
{
    return a != NULL ? a[i] : 0.0;
}

/* The american price by this level's tree; adds MDL_FLAG_STOPPED when the poll stopped it. */
static double tree(bool call, const mdl_in *in, uint32_t steps, const mdl_work *w,
                   const mdl_poll *poll, unsigned *fl)
{
    bool stopped = false;
    double p = MDL_KERN(mdl_crr_vec)(call, true, in->S, in->K, in->T, in->r, in->sigma, in->q,
                                     steps, w, poll, &stopped);
    if (stopped)
        *fl |= MDL_FLAG_STOPPED;
    return p;
}

/* The reference's american price (table.c), with this level's tree. */
static double scalar_price(bool call, const mdl_in *in, const mdl_work *w, const mdl_poll *poll,
                           unsigned *fl)
{
    if (in->steps > 0)
        return tree(call, in, in->steps, w, poll, fl);
    bool defined;
    double p = call ? mdl_bs2002_call(in->S, in->K, in->T, in->r, in->sigma, in->q, &defined)
                    : mdl_bs2002_call(in->K, in->S, in->T, in->q, in->sigma, in->r, &defined);
    if (defined)
        return p;
    *fl |= MDL_FLAG_FALLBACK;
    return tree(call, in, MDL_FALLBACK_STEPS, w, poll, fl);
}

/* ---- the batch ---- */

/* Item i by the scalar path: its price and flags written; false when a tree stopped at the
 * poll's request. */
static bool scalar_item(bool call, const mdl_batch *b, size_t i, const mdl_work *w,
                        const mdl_poll *poll)
{
    mdl_in in = {b->S[i],          b->K[i],        b->T[i],
                 b->r[i],          b->sigma[i],    at(b->q, i),
                 at(b->coupon, i), at(b->freq, i), b->steps != NULL ? b->steps[i] : 0};
    unsigned fl = 0;
    b->price[i] = scalar_price(call, &in, w, poll, &fl);
    if (b->flags != NULL)
        b->flags[i] = (uint8_t)fl;
    return !(fl & MDL_FLAG_STOPPED);
}

/* Whether item i may take a vector lane: what its inputs alone say would go to the scalar path
 * does not (a tree; the european case, the call's dividend yield not > 0, where prepare would
 * find the formula undefined). */
static bool lane_item(bool call, const mdl_batch *b, size_t i)
{
    double q = call ? at(b->q, i) : b->r[i]; /* the dividend yield of the call priced */
    return (b->steps == NULL || b->steps[i] == 0) && q > 0.0;
}

/* Items taken at a time: up to MDL_VB of them in lanes, the others by the scalar path; the poll
 * is consulted between windows (about 8 µs of W1's work at most). */
#define WINDOW (2 * MDL_VB)

/* Prices the window's items win[0..nw), in order: those listed in idx[0..m) (m <= MDL_VB, a
 * subsequence) as one block, its lanes beyond m copies of its first item, the others by the
 * scalar path. Returns false when a tree stopped at the poll's request; *stopped is then that
 * item (NaN, MDL_FLAG_STOPPED), the items before it are priced and none after it is written. */
static bool price_window(bool call, const mdl_batch *b, const size_t *win, size_t nw,
                         const size_t *idx, size_t m, block *bk, const quad_nodes *qn,
                         const mdl_work *w, const mdl_poll *poll, size_t *stopped)
{
    bool formulas = false;
    if (m > 0) {
        /* P(S,K,T,r,q,s) = C(K,S,T,q,r,s) */
        for (size_t j = 0; j < MDL_VB; j++) {
            size_t i = idx[j < m ? j : 0];
            bk->S[j] = call ? b->S[i] : b->K[i];
            bk->K[j] = call ? b->K[i] : b->S[i];
            bk->T[j] = b->T[i];
            bk->r[j] = call ? b->r[i] : at(b->q, i);
            bk->sg[j] = b->sigma[i];
            bk->q[j] = call ? at(b->q, i) : b->r[i];
        }
        prepare(bk);
        for (size_t j = 0; j < m; j++)
            formulas |= bk->how[j] == HOW_FORMULA;
    }
    /* a block without formula skips the vector work; each lane's numbers do not depend on it */
    if (formulas) {
        cdfs_and_factors(bk);
        quadratures(&bk->quad[0][0], &bk->hk[0][0], &bk->hs[0][0], qn);
        finish(bk);
    }
    for (size_t k = 0, j = 0; k < nw; k++) {
        size_t i = win[k];
        double how = HOW_SCALAR, price = NAN;
        if (j < m && idx[j] == i) {
            how = bk->how[j];
            if (how == HOW_FORMULA) {
                price = bk->price[j];
                double scale = fmax(b->S[i], b->K[i]);
                if (!isfinite(price) || !(bk->err[j] <= KEEP_REL * fabs(price) + KEEP_ABS * scale))
                    how = HOW_SCALAR;
            } else if (how == HOW_VALUE) {
                price = bk->value[j];
            }
            j++;
        }
        if (how == HOW_SCALAR) {
            if (!scalar_item(call, b, i, w, poll)) {
                *stopped = i;
                return false;
            }
            continue;
        }
        b->price[i] = price;
        if (b->flags != NULL)
            b->flags[i] = 0;
    }
    return true;
}

/*
 * The items that may take a lane (lane_item) fill the blocks, the others are priced by the
 * scalar path in their turn: a W1 book's american calls without dividends (a fifth of them) no
 * longer take a lane each of a block whose work they do not use. A lane's numbers depend only on
 * its inputs, so a price is the same wherever its item sits. Items are priced and written in
 * order, window by window; the poll is consulted between windows.
 */
static size_t american(bool call, const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)
{
    block bk;
    quad_nodes qn;
    quad_nodes_load(&qn);
    size_t win[WINDOW], idx[MDL_VB], nw = 0, m = 0, stopped;
    for (size_t i = 0; i < b->n; i++) {
        if (nw == 0 && i > 0 && mdl_poll_stop(poll))
            return i;
        win[nw++] = i;
        if (lane_item(call, b, i))
            idx[m++] = i;
        if (m == MDL_VB || nw == WINDOW || i + 1 == b->n) {
            if (!price_window(call, b, win, nw, idx, m, &bk, &qn, w, poll, &stopped))
                return stopped;
            nw = m = 0;
        }
    }
    return b->n;
}

static size_t amer_call(const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)
{
    return american(true, b, w, poll);
}

static size_t amer_put(const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)
{
    return american(false, b, w, poll);
}

void MDL_KERN(mdl_kern_fill_american)(mdl_entry *table)
{
    table[MDL_AMER_CALL].variant = "vector";
    table[MDL_AMER_CALL].batch = amer_call;
    table[MDL_AMER_PUT].variant = "vector";
    table[MDL_AMER_PUT].batch = amer_put;
}
