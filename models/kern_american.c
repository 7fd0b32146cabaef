/*
 * kern_american.c - the batch kernel of the american call and put: Bjerksund-Stensland 2002
 * (bs2002.c is the specification) across items in vector lanes, trees by the level's CRR
 * kernel; compiled once per level (kern.h). The put is the call of the transformed inputs,
 * P(S, K, T, r, q, s) = C(K, S, T, q, r, s).
 *
 * How a block of MDL_VB items is priced. The formula needs, per price, 4 logarithms, 2 expm1,
 * 38 normal CDFs, 21 exponentials and 20 bivariate normal quadratures of 20 nodes each (400
 * exponentials, most of the work). Every one of these is a vector loop over the block's lanes:
 * all MDL_VB of them, or the first half when at most half are taken (a batch's last window,
 * mostly: the engine's grid gives the kernel about a hundred items a call, so a whole block there
 * would be a twelfth of its work spent on padding). Both widths are multiples of the level's
 * vector width, so a lane goes through the same instructions in either, and each is compiled
 * with its width as a constant (price_block_whole, price_block_half):
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
 * At the AVX-512 level stages 2 and 3 are written with intrinsics, bound by their instruction
 * count: every exponential, of the quadratures, the factors and the CDFs, is exp2_8's, 2^y from
 * a table of 16 in registers; the CDFs are vm_ncdf's form with its exponent polynomial in 16
 * pieces of lower degree, and without vm_ncdf's low part of x^2 (ncdf_neg8; both in vm512.h).
 *
 * Accuracy. The only differences from the reference are the vector functions (within 1 ulp
 * where libm is within half an ulp; the CDFs within 5 ulp relative, where the reference's erfc
 * form loses up to a hundred in the tail; at AVX-512 the factors within 2 + 0.64 |x| ulp and
 * the CDFs N(-a) within 5 + 0.63 a^2, which the bounds below carry), the quadrature exponential
 * below, the reciprocals and the fused multiply-adds of the quadrature. Most prices are then within
 * a few 1e-16 relative of the reference. Where the formula adds large terms that cancel, or where a
 * CDF far in its tail (or a large exponent) amplifies a rounding, they are not. The finish
 * estimates the distance: each term's own error (its factor's exponent and exponential, its CDFs
 * with their arguments' sensitivity, its quadratures, a pair of phi or psi that share their factors
 * counting the factors' errors on their difference only), plus the part common to all terms
 * that the logs' rounding moves (prepare: COHERENT); a price whose estimate exceeds KEEP_REL
 * relative plus KEEP_ABS per unit of max(S, K) is priced by the reference instead.
 *
 * The european case (the call's q <= 0, where early exercise never pays and the reference
 * prices the european) is priced by the level's european call. Items the vector formula does
 * not price go to the scalar path (scalar_price, the reference's logic with this level's tree):
 * trees (steps > 0), inputs where the approximation is undefined (the 200-step tree with
 * MDL_FLAG_FALLBACK), prices that are not finite or too sensitive, and the boundary cases (a
 * trigger within rounding of 0, a spot within rounding of the trigger I2) where the reference's
 * own rounding decides. Spots beyond the trigger are exercised at once: S - K. Trees and the
 * european case are known from the inputs alone, and take no lane: the blocks are filled with
 * the other items (the batch, below). Items are priced and written in order, a window of at most 2
 * MDL_VB at a time; the poll is consulted between windows; trees poll by themselves, and a tree
 * stopped by the poll leaves its entry NaN with MDL_FLAG_STOPPED and nothing after it written.
 */
#include <math.h>
#include <stdbool.h>

#include "kern.h"
#include "vm512.h"

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
 * all erred the same way at their worst; the distance measured at AVX-512 over 476,000 prices
 * of the whole domain (the inputs of tests/models/test_kern_american.c) is at most 5.2% of it
 * (4.1% over 532,000 of a W1-like book). A price is kept when the estimate is within KEEP_REL
 * relative plus KEEP_ABS per unit of max(S, K), ten times the tolerances of that test, so that
 * the distance stays within 0.52 of them (measured: 0.17); the rest (1.7% of the whole domain,
 * mostly low dividend yields, whose triggers are far and whose terms large; 4 prices in a
 * million of the W1-like book) is priced by the reference. */
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
 * operation on x86. The AVX-512 level's ncdf_neg8 clamps there too. */
#define CDF_MAX VM8_CDF_MAX
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
VM_INLINE void quadratures(double *restrict sum, const double *restrict hk,
                           const double *restrict hs, const quad_nodes *restrict qn, int nv)
{
    /* the vectors of [pair][lane] in the first nv lanes, hv of each pair's row, four at a time:
     * four independent chains per node, and its three constants loaded once for them */
    const int hv = nv / 8;
    _Static_assert(PAIRS % 4 == 0, "the pairs' vectors go four at a time");
    for (int k = 0; k < PAIRS * hv; k += 4) {
        __m512d u[4], v[4], s[4];
        int at[4];
        for (int l = 0; l < 4; l++) {
            at[l] = (k + l) / hv * MDL_VB + (k + l) % hv * 8;
            u[l] = _mm512_loadu_pd(hk + at[l]);
            v[l] = _mm512_loadu_pd(hs + at[l]);
            s[l] = _mm512_setzero_pd();
        }
        for (int j = 0; j < NODES; j++) {
            __m512d A = _mm512_set1_pd(qn->A[j]), nB = _mm512_set1_pd(qn->nB[j]);
            __m512d W = _mm512_set1_pd(qn->W[j]);
            for (int l = 0; l < 4; l++) {
                __m512d y = _mm512_fmadd_pd(A, u[l], _mm512_mul_pd(nB, v[l]));
                s[l] = _mm512_fmadd_pd(W, exp2_8(y), s[l]);
            }
        }
        for (int l = 0; l < 4; l++)
            _mm512_storeu_pd(sum + at[l], s[l]);
    }
}
#else
/* sum[i] = sum_j W_j e^{A_j hk[i] - B_j hs[i]}, the nodes in the reference's order, for the
 * pairs [pair][lane] in the first nv lanes. */
VM_INLINE double quad_sum(double u, double v, const quad_nodes *restrict qn)
{
    double s = 0.0;
    for (int j = 0; j < NODES; j++)
        s = VM_FMA(qn->W[j], quad_exp2(VM_FMA(qn->A[j], u, qn->nB[j] * v)), s);
    return s;
}

VM_INLINE void quadratures(double *restrict sum, const double *restrict hk,
                           const double *restrict hs, const quad_nodes *restrict qn, int nv)
{
    if (nv == MDL_VB) { /* the whole block: one loop over its rows end to end */
        MDL_SIMD
        for (int i = 0; i < PAIRS * MDL_VB; i++)
            sum[i] = quad_sum(hk[i], hs[i], qn);
        return;
    }
    for (int p = 0; p < PAIRS; p++) {
        MDL_SIMD
        for (int l = 0; l < nv; l++)
            sum[p * MDL_VB + l] = quad_sum(hk[p * MDL_VB + l], hs[p * MDL_VB + l], qn);
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

/* What the AVX-512 level's exponentials add to the portable functions' error (ncdf_neg8 and
 * exp8, below, skip vm_exp's low part): relative, per unit of a^2 for N(-a) and of |x| for e^x,
 * and their own rounding beyond vm_exp's. */
#if defined(__AVX512F__) && defined(__AVX512DQ__)
#define CDF_EXP_ARG (1.5 * U)
#define CDF_EXP_OWN (2.0 * U)
#define FAC_EXP_ARG (1.5 * U)
#define FAC_EXP_OWN (1.0 * U)
#else
#define CDF_EXP_ARG 0.0
#define CDF_EXP_OWN 0.0
#define FAC_EXP_ARG 0.0
#define FAC_EXP_OWN 0.0
#endif

/* A factor's relative error bound, for an exponent p = w + lam t + g ln S of bound dw on w:
 * FAC_OWN + dw + FAC_ARG (|w| + |lam t| + |g ln S|); the sums' and products' roundings and the
 * exponential's, 3 u + 4 u |p| at most with vm_exp; FAC_ARG's part covers FAC_EXP_ARG |p|. A
 * further term kap d of the exponent adds kap_err. */
#define FAC_OWN (3.0 * U + FAC_EXP_OWN)
#define FAC_ARG (4.0 * U + FAC_EXP_ARG)

/* Bound on |N(-a) - reference| / N(-a) for an argument a formed with a reciprocal (within
 * 3 u |a| of the reference's division): the functions' own rounding, and the argument's error
 * times the logarithmic derivative of N(-a), phi(a)/N(-a), which is at most a + 1 for a >= 0,
 * and for a < 0 at most 2 phi(a) <= 0.8 / (1 + a^2/2), so that the product is below 2 u. For
 * a < 0, N(-a) = 1 - N(a), and N(a)'s relative error CDF_EXP_ARG a^2 is below CDF_EXP_ARG in
 * N(-a)'s (a^2 N(a) / N(-a) < 1/3). */
VM_INLINE double cdf_err(double a)
{
    /* 4 u + CDF_EXP_OWN + (a + 1) 3 u a + CDF_EXP_ARG a^2; the bounds' own arithmetic may be
     * fused (their roundings are far below their slack) */
    double tail = VM_FMA(VM_FMA(3.0 * U + CDF_EXP_ARG, a, 3.0 * U), a, 4.0 * U + CDF_EXP_OWN);
    return a > 0.0 ? tail : 6.0 * U + CDF_EXP_OWN + CDF_EXP_ARG;
}

/* Bound on the relative error of a quadrature with arguments h, k formed with a reciprocal
 * (each within 3 u of the reference's): every exponent A_j h k - B_j (h^2 + k^2) (A_j <= 2.04,
 * B_j <= 1.3) moves by at most 5 (|h| + |k|)(dh + dk) = 15 u (|h| + |k|)^2, plus the rounding
 * of the exponent (fused here, not in the reference) and of the exponential and the sum. */
VM_INLINE double quad_err(double h, double k, double hs)
{
    double s = fabs(h) + fabs(k);
    return VM_FMA(15.0 * U * s, s, VM_FMA(8.0 * U, hs, 8.0 * U));
}

/* One pair (h, k), as mdl_bvn_quad forms it, with its error bound. */
VM_INLINE void put_pair(block *bk, int p, int j, double h, double k)
{
    double hk = h * k, hs = h * h + k * k;
    bk->qerr[p][j] = quad_err(h, k, hs);
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
        bk->arg[ARG_F(c, i)][j] = f[i];
        bk->nerr[ARG_F(c, i)][j] = cdf_err(f[i]);
        put_pair(bk, 4 * c + i, j, h, f[i]);
    }
}

/* Bound on the error of kap (lnA - lnB): the roundings of the difference and of the product. */
VM_INLINE double kap_err(gam x, double diff)
{
    return (2.0 * U + FAC_EXP_ARG) * fabs(x.kap * diff);
}

/* phi's two factors at fo: e^p, e^{p + kap (lnI2 - lnS)}, p = w + lam t1 + g lnS. */
VM_INLINE void put_phi_fac(block *bk, int j, int fo, gam x, double w, double dw, const item *it)
{
    double p = w + x.lam * it->t1 + x.g * it->lnS;
    double dp =
        VM_FMA(FAC_ARG, VM_FMA(fabs(x.g), it->aS, fabs(w) + fabs(x.lam * it->t1)), FAC_OWN + dw);
    double p1 = p + x.kap * (it->lnI2 - it->lnS);
    bk->fac[fo][j] = p;
    bk->fac[fo + 1][j] = p1;
    bk->ferr[fo][j] = dp;
    bk->ferr[fo + 1][j] = dp + kap_err(x, it->lnI2 - it->lnS);
}

/* psi's four factors at fo: e^p, e^{p + kap (lnI2 - lnS)}, e^{p + kap (lnI1 - lnS)},
 * e^{p + kap (lnI1 - lnI2)}, p = w + lam T + g lnS. */
VM_INLINE void put_psi_fac(block *bk, int j, int fo, gam x, double w, double dw, const item *it)
{
    double p = w + x.lam * it->T + x.g * it->lnS;
    double dp =
        VM_FMA(FAC_ARG, VM_FMA(fabs(x.g), it->aS, fabs(w) + fabs(x.lam * it->T)), FAC_OWN + dw);
    double p1 = p + x.kap * (it->lnI2 - it->lnS), p2 = p + x.kap * (it->lnI1 - it->lnS);
    double p3 = p + x.kap * (it->lnI1 - it->lnI2);
    bk->fac[fo][j] = p;
    bk->fac[fo + 1][j] = p1;
    bk->fac[fo + 2][j] = p2;
    bk->fac[fo + 3][j] = p3;
    bk->ferr[fo][j] = dp;
    bk->ferr[fo + 1][j] = dp + kap_err(x, it->lnI2 - it->lnS);
    bk->ferr[fo + 2][j] = dp + kap_err(x, it->lnI1 - it->lnS);
    bk->ferr[fo + 3][j] = dp + kap_err(x, it->lnI1 - it->lnI2);
}

/* Stage 1 for the block's first nv lanes (every stage takes the block's nv, MDL_VB or half of
 * it: a multiple of the level's vector width, so that each lane goes through the vector
 * instructions wherever it sits). */
VM_INLINE void prepare(block *bk, int nv)
{
    MDL_SIMD
    for (int j = 0; j < nv; j++) {
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
        double p0 = beta * it.lnS + la2;
        bk->fac[0][j] = p0;
        bk->ferr[0][j] = FAC_OWN + dla2 + FAC_ARG * (beta * it.aS + fabs(la2));
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
/* Stage 2: the CDFs and the factors, in place. */
VM_INLINE void cdfs_and_factors(block *bk, int nv)
{
    for (int i = 0; i < NARG; i++)
        for (int j = 0; j < nv; j += 8)
            _mm512_storeu_pd(&bk->arg[i][j], ncdf_neg8(_mm512_loadu_pd(&bk->arg[i][j])));
    for (int i = 0; i < NFAC; i++)
        for (int j = 0; j < nv; j += 8)
            _mm512_storeu_pd(&bk->fac[i][j], exp8(_mm512_loadu_pd(&bk->fac[i][j])));
}
#else
VM_INLINE double cdf_of(double a)
{
    double x = a > CDF_MAX ? CDF_MAX : a;
    return vm_ncdf(x < -CDF_MAX ? CDF_MAX : -x);
}

/* Stage 2: the CDFs and the factors, in place. */
VM_INLINE void cdfs_and_factors(block *bk, int nv)
{
    if (nv == MDL_VB) { /* the whole block: one loop over its rows end to end */
        double *a = &bk->arg[0][0], *f = &bk->fac[0][0];
        MDL_SIMD
        for (int i = 0; i < NARG * MDL_VB; i++)
            a[i] = cdf_of(a[i]);
        MDL_SIMD
        for (int i = 0; i < NFAC * MDL_VB; i++)
            f[i] = vm_exp(f[i]);
        return;
    }
    for (int i = 0; i < NARG; i++) {
        double *a = bk->arg[i];
        MDL_SIMD
        for (int j = 0; j < nv; j++)
            a[j] = cdf_of(a[j]);
    }
    for (int i = 0; i < NFAC; i++) {
        double *f = bk->fac[i];
        MDL_SIMD
        for (int j = 0; j < nv; j++)
            f[j] = vm_exp(f[j]);
    }
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
    double ea = own_f ? bk->nerr[na][j] + bk->ferr[fa][j] : bk->nerr[na][j];
    double eb = own_f ? bk->nerr[nb][j] + bk->ferr[fa + 1][j] : bk->nerr[nb][j];
    *err = VM_FMA(ta, ea, VM_FMA(tb, eb, (Fa + Fb) * CDF_TINY));
    *mag = ta + tb;
    return ta - tb;
}

/* The factors' errors of phi(.., I2, ..) - phi(.., I1, ..), which share their two factors:
 * only the difference of their CDFs carries them. */
VM_INLINE double phi_pair_ferr(const block *bk, int j, int fa, int g)
{
    double d1 = bk->arg[ARG_D(g, 0)][j] - bk->arg[ARG_E(g, 0)][j];
    double d2 = bk->arg[ARG_D(g, 1)][j] - bk->arg[ARG_E(g, 1)][j];
    return VM_FMA(bk->fac[fa][j] * fabs(d1), bk->ferr[fa][j],
                  bk->fac[fa + 1][j] * fabs(d2) * bk->ferr[fa + 1][j]);
}

/* One M of psi c (its i-th), with its error bound (without the factor's). */
VM_INLINE double psi_m(const block *bk, int j, int c, int i, double *em)
{
    static const int pg[5] = {0, 1, 1, 2, 2};
    int na = ARG_E(pg[c], i), nf = ARG_F(c, i), p = 4 * c + i;
    double nn = bk->arg[na][j] * bk->arg[nf][j], qd = bk->quad[p][j];
    *em = VM_FMA(nn, bk->nerr[na][j] + bk->nerr[nf][j] + U,
                 VM_FMA(qd, bk->qerr[p][j], QUAD_TINY + 2.0 * CDF_TINY));
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
        e = VM_FMA(F, VM_FMA(fabs(m), bk->ferr[fo + i][j], em), e);
        s = VM_FMA(F, fabs(m), s);
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
        e = VM_FMA(F, VM_FMA(fabs(ma - mb), bk->ferr[fo + i][j], ea + eb), e);
        s = VM_FMA(F, fabs(ma) + fabs(mb), s);
    }
    *va = a;
    *vb = b;
    *err = e;
    *mag = s;
}

/* Stage 4: the prices, summed as bs2002.c sums them, and bounds on their distance from the
 * reference's. */
VM_INLINE void finish(block *bk, int nv)
{
    MDL_SIMD
    for (int j = 0; j < nv; j++) {
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

        double mag = VM_FMA(aw2, F0 + mA, VM_FMA(aw1, mF + m0, mB + mC + mD + mE + m12 + m34));
        double err = VM_FMA(aw2, VM_FMA(F0, bk->ferr[0][j], eA), VM_FMA(dw2, F0 + mA, eB + eC));
        err += VM_FMA(aw1, eF + e0, VM_FMA(dw1, mF + m0, eD + eE + e12 + e34));
        err += phi_pair_ferr(bk, j, 5, 1) + phi_pair_ferr(bk, j, 7, 2);
        /* the products' and sums' roundings, which differ from the reference's when their
         * operands do */
        err += VM_FMA(U, mag, bk->coh[j]);
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

/* What an item needs, known from its inputs alone: a vector lane; the level's european call,
 * when the call priced has a dividend yield not > 0 (early exercise never pays: the reference
 * prices the european there); the scalar path, for a tree or a yield that is NaN (the
 * reference's logic then decides). */
typedef enum item_way { ITEM_LANE, ITEM_EURO, ITEM_SCALAR } item_way;

static item_way item_of(bool call, const mdl_batch *b, size_t i)
{
    if (b->steps != NULL && b->steps[i] > 0)
        return ITEM_SCALAR;
    double q = call ? at(b->q, i) : b->r[i]; /* the dividend yield of the call priced */
    return q > 0.0 ? ITEM_LANE : q <= 0.0 ? ITEM_EURO : ITEM_SCALAR;
}

/* Items taken at a time: up to MDL_VB of them in lanes, the others by the european call or the
 * scalar path; the poll is consulted between windows (about 8 µs of W1's work at most). */
#define WINDOW (2 * MDL_VB)

/* Items whose european case is priced at a time, before their windows: enough that the european
 * call's blocks are mostly full, few enough to take under 3 µs at any level. */
#define CHUNK (8 * WINDOW)

/* A window: its items win[0..nw), in order, and those that take a lane, idx[0..m) (m <= MDL_VB),
 * a subsequence; item i's way is way[i - i0] (the chunk's, from i0); the european case's items
 * among them are the next ones of the chunk, whose prices start at euro. */
typedef struct window {
    size_t win[WINDOW], idx[MDL_VB];
    size_t nw, m, i0;
    const uint8_t *way;
    const double *euro;
} window;

/* Item i's inputs as a call, at [j] of the six arrays: P(S,K,T,r,q,s) = C(K,S,T,q,r,s). */
static void call_inputs(bool call, const mdl_batch *b, size_t i, size_t j, double *S, double *K,
                        double *T, double *r, double *sg, double *q)
{
    S[j] = call ? b->S[i] : b->K[i];
    K[j] = call ? b->K[i] : b->S[i];
    T[j] = b->T[i];
    r[j] = call ? b->r[i] : at(b->q, i);
    sg[j] = b->sigma[i];
    q[j] = call ? at(b->q, i) : b->r[i];
}

/* Classifies the items [i0, i1) into way[0..i1-i0) and prices the european case's among them by
 * the level's european call, of the inputs as a call, into price[], in order. The european
 * kernel's numbers, lane by lane, depend only on each item's inputs, as the block's do. */
static void price_european(bool call, const mdl_batch *b, size_t i0, size_t i1, uint8_t *way,
                           double *price)
{
    double S[CHUNK], K[CHUNK], T[CHUNK], r[CHUNK], sg[CHUNK], q[CHUNK];
    size_t n = 0;
    for (size_t i = i0; i < i1; i++) {
        way[i - i0] = (uint8_t)item_of(call, b, i);
        if (way[i - i0] == ITEM_EURO)
            call_inputs(call, b, i, n++, S, K, T, r, sg, q);
    }
    if (n == 0)
        return;
    mdl_batch eb = {.n = n, .S = S, .K = K, .T = T, .r = r, .sigma = sg, .q = q, .price = price};
    MDL_KERN(mdl_kern_euro_call)(&eb, NULL, NULL);
}

/* The block's stages for its first nv lanes, with its first m lanes' items: a block without
 * formula among them skips the vector work (each lane's numbers do not depend on it). */
VM_INLINE void price_block(block *bk, size_t m, const quad_nodes *qn, int nv)
{
    prepare(bk, nv);
    bool formulas = false;
    for (size_t j = 0; j < m; j++)
        formulas |= bk->how[j] == HOW_FORMULA;
    if (formulas) {
        cdfs_and_factors(bk, nv);
        quadratures(&bk->quad[0][0], &bk->hk[0][0], &bk->hs[0][0], qn, nv);
        finish(bk, nv);
    }
}

/* The two widths, each compiled with its constant. */
static void price_block_whole(block *bk, size_t m, const quad_nodes *qn)
{
    price_block(bk, m, qn, MDL_VB);
}

static void price_block_half(block *bk, size_t m, const quad_nodes *qn)
{
    price_block(bk, m, qn, MDL_VB / 2);
}

/* Prices the window's items, in order: those listed in idx as one block, its lanes beyond m
 * copies of its first item; the european case from euro; the others by the scalar path.
 * Returns false when a tree stopped at the poll's request; *stopped is then that item (NaN,
 * MDL_FLAG_STOPPED), the items before it are priced and none after it is written. */
static bool price_window(bool call, const mdl_batch *b, const window *wd, block *bk,
                         const quad_nodes *qn, const mdl_work *w, const mdl_poll *poll,
                         size_t *stopped)
{
    if (wd->m > 0) {
        /* the block's lanes: half of them when that is enough (a batch's last window, mostly) */
        size_t nv = wd->m <= MDL_VB / 2 ? MDL_VB / 2 : MDL_VB;
        for (size_t j = 0; j < nv; j++)
            call_inputs(call, b, wd->idx[j < wd->m ? j : 0], j, bk->S, bk->K, bk->T, bk->r, bk->sg,
                        bk->q);
        if (nv == MDL_VB)
            price_block_whole(bk, wd->m, qn);
        else
            price_block_half(bk, wd->m, qn);
    }
    const double *euro = wd->euro;
    for (size_t k = 0, j = 0; k < wd->nw; k++) {
        size_t i = wd->win[k];
        double how = HOW_SCALAR, price = NAN;
        if (j < wd->m && wd->idx[j] == i) {
            how = bk->how[j];
            if (how == HOW_FORMULA) {
                price = bk->price[j];
                double scale = b->S[i] > b->K[i] ? b->S[i] : b->K[i];
                if (!isfinite(price) || !(bk->err[j] <= KEEP_REL * fabs(price) + KEEP_ABS * scale))
                    how = HOW_SCALAR;
            } else if (how == HOW_VALUE) {
                price = bk->value[j];
            }
            j++;
        } else if (wd->way[i - wd->i0] == ITEM_EURO) {
            how = HOW_VALUE;
            price = *euro++;
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
 * The items that may take a lane (item_of) fill the blocks; the european case is priced chunk
 * by chunk by the european call, the others by the scalar path in their turn: a W1 book's
 * american calls without dividends (a fifth of them) take no lane of a block whose work they do
 * not use. A lane's numbers depend only on its inputs, so a price is the same wherever its item
 * sits. Items are written in order, window by window (a window does not cross a chunk's end);
 * the poll is consulted between windows.
 */
static size_t american(bool call, const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)
{
    block bk;
    quad_nodes qn;
    quad_nodes_load(&qn);
    double euro[CHUNK];
    uint8_t way[CHUNK];
    window wd = {.nw = 0, .m = 0, .i0 = 0, .way = way, .euro = euro};
    size_t chunk_end = 0, ne = 0, stopped;
    for (size_t i = 0; i < b->n; i++) {
        if (wd.nw == 0 && i > 0 && mdl_poll_stop(poll))
            return i;
        if (i == chunk_end) {
            chunk_end = b->n - i < CHUNK ? b->n : i + CHUNK;
            price_european(call, b, i, chunk_end, way, euro);
            wd.i0 = i;
            wd.euro = euro;
            ne = 0;
        }
        wd.win[wd.nw++] = i;
        if (way[i - wd.i0] == ITEM_LANE)
            wd.idx[wd.m++] = i;
        else if (way[i - wd.i0] == ITEM_EURO)
            ne++;
        if (wd.m == MDL_VB || wd.nw == WINDOW || i + 1 == chunk_end) {
            if (!price_window(call, b, &wd, &bk, &qn, w, poll, &stopped))
                return stopped;
            wd.nw = wd.m = 0;
            wd.euro = euro + ne;
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
