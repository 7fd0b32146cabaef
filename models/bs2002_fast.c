/*
 * bs2002_fast.c - the "blocked" batch variant of the american call and put (table.c registers
 * it over the reference loops): Bjerksund-Stensland 2002 priced BLOCK at a time, the twenty
 * bivariate normal quadratures of every price in the block evaluated together by one loop
 * that the compiler vectorises with plain SSE2.
 *
 * Why: the reference spends most of a price in the 400 libm exp calls of its twenty
 * mdl_bvn_quad (20 nodes each) and in its 46 erfc calls. Here each price is prepared exactly as
 * bs2002.c does it (the same operations in the same order), its twenty (h k, h^2 + k^2) pairs go
 * to a structure-of-arrays block, and one loop over nodes and pairs sums
 * W_j exp(A_j h k - B_j (h^2 + k^2)) with exp_quad below: a branch-free exponential accurate to
 * about 1 ulp on the quadrature's range. The price is then finished with the reference's own
 * operations. The normal CDFs the reference computes twice (phi's at the barrier I1 are psi's
 * e1, e2) are computed once, bitwise the same values. So the only difference from the
 * reference is the rounding of the quadrature exponentials: about 1e-15 relative on a price,
 * TOL_BS2002_BLOCKED in tests/models/test_bs2002_fast.c.
 *
 * Entries with steps > 0, the european case (q <= 0 for the call), immediate exercise, and the
 * cases where the approximation is undefined (priced by the fallback tree) follow the reference
 * exactly: the first are priced by mdl_price_ref itself, the others with the reference's values.
 * The poll is consulted between blocks; trees poll by themselves. A tree stopped by the poll
 * leaves its entry NaN with MDL_FLAG_STOPPED and nothing after it written, as the reference
 * loop does.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "model.h"

#define T1_RATIO 0.61803398874989484820 /* t1 / T = (sqrt(5) - 1) / 2, as in bs2002.c */

/* Prices per block: large enough that the quadrature loop runs long vectors, small enough that
 * the block (about 25 KiB of scratch) stays in L1 and a block (~20 µs at most) between polls. */
#define BLOCK 16
#define PAIRS 20 /* bivariate normals per price: 5 psi x 4 */
#define NQ (BLOCK * PAIRS)
#define NODES 20 /* the tabulated rule of bs2002.c has 20 nodes */

/* The quadrature sums differ from the reference's by at most QUAD_REL_DIFF relative (twenty
 * positive terms, each exponential within 1 ulp of libm's, the same order of summation; a
 * generous bound) plus QUAD_ABS_DIFF (exponents below -708 are clamped there, where libm
 * returns less than e^-708 = 3.3e-308, and the weights sum to 0.14). A price whose
 * quadratures enter with large factors that cancel (low volatility with a large carry makes
 * the factors e^{kappa ...} huge) could move by more than KEEP_REL relative plus KEEP_ABS per
 * unit of max(S, K): it is priced by the reference instead. In a book of ordinary inputs that
 * is almost never the case. */
#define QUAD_REL_DIFF 4e-15
#define QUAD_ABS_DIFF 1e-308
#define KEEP_REL 5e-14
#define KEEP_ABS 5e-15

/* ---- the quadrature exponential ----
 * exp(x) for x >= -708 (the caller clamps): exp(x) = 2^n exp(r), n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2], with ln 2 split
 * in a 42-bit head (n * LN2_HI is exact for |n| < 2^11) and a tail. exp(r) is a degree 11
 * polynomial, the Chebyshev fit of exp on [-0.3468, 0.3468] (error 3.2e-18, below the rounding
 * of Horner's scheme). 2^n is added to the exponent field as an integer: n sits in the low bits
 * of x / ln 2 + 1.5 * 2^52, and shifting those bits left by 52 places n, and nothing else, in the
 * exponent. No table, no branch: the loop vectorises with SSE2 alone and gives the same bits on
 * every x86-64.
 * Domain: the quadrature's exponents are -(h^2 - 2 s h k + k^2) / (2 (1 - s^2)) <= 0. They are
 * clamped at -708, where the result is still a normal number (e^-708 ~ 3e-308); libm would
 * return e^x < 3e-308 there, a difference far below any price's rounding. */
#define EXP_LOG2E 1.4426950408889634
#define EXP_SHIFT 6755399441055744.0      /* 1.5 * 2^52 */
#define EXP_LN2_HI 0.6931471805598903     /* 0x1.62e42fefa3800p-1 */
#define EXP_LN2_LO 5.497923018708371e-14  /* 0x1.ef35793c76730p-45 */
#define EXP_LOWEST -708.0

static inline double exp_quad(double x)
{
    double k = x * EXP_LOG2E + EXP_SHIFT;
    double n = k - EXP_SHIFT;
    double r = (x - n * EXP_LN2_HI) - n * EXP_LN2_LO;
    /* 1 + r + r^2 (c2 + c3 r + ...): the tail by Estrin's scheme, whose short dependency
     * chains let the out-of-order core overlap many exponentials; the leading 1 + r is added
     * last, so the tail's rounding stays below half an ulp of the result. */
    double r2 = r * r, r4 = r2 * r2;
    double a1 = 5.0000000000000189e-01 + 1.6666666666666680e-01 * r;
    double a2 = 4.1666666666487377e-02 + 8.3333333333195456e-03 * r;
    double a3 = 1.3888888952505406e-03 + 1.9841269890193705e-04 * r;
    double a4 = 2.4801485278370062e-05 + 2.7557240761739257e-06 * r;
    double a5 = 2.7632715071632255e-07 + 2.5110095611886237e-08 * r;
    double tail = (a1 + a2 * r2) + r4 * ((a3 + a4 * r2) + r4 * a5);
    double p = 1.0 + (r + tail * r2);
    uint64_t kb, pb;
    memcpy(&kb, &k, sizeof kb);
    memcpy(&pb, &p, sizeof pb);
    pb += kb << 52;
    memcpy(&p, &pb, sizeof p);
    return p;
}

/* sum[i] = sum_j W_j exp(A_j hk[i] - B_j hs[i]) for the NQ pairs of a block: the reference's
 * mdl_bvn_quad with the same arguments and the same order of summation, node after node. */
static void quad_block(double *restrict sum, const double *restrict hk,
                       const double *restrict hs, int nq)
{
    const mdl_bvn_nodes *nd = mdl_bs2002_rho_nodes();
    double x[NQ];
    for (int i = 0; i < nq; i++)
        sum[i] = 0.0;
    for (int j = 0; j < NODES; j++) {
        double a = nd->A[j], bb = nd->B[j], w = nd->W[j];
        /* The clamp has a loop of its own: inside the exponential's loop the compiler would
         * branch around the polynomial for the clamped case, and a branch stops vectorisation. */
        for (int i = 0; i < nq; i++) {
            double v = a * hk[i] - bb * hs[i];
            x[i] = v > EXP_LOWEST ? v : EXP_LOWEST;
        }
        for (int i = 0; i < nq; i++)
            sum[i] += w * exp_quad(x[i]);
    }
}

/* ---- one price, prepared and finished as in bs2002.c ---- */

enum { HOW_FORMULA, HOW_VALUE, HOW_REFERENCE };

typedef struct gam {
    double gamma, mu, lam, kap; /* as bs_gamma in bs2002.c */
    double e[4], Ne[4];
} gam;

typedef struct prep {
    int how;      /* HOW_*: finish the formula, take value, or call the reference */
    double value; /* HOW_VALUE: european price or immediate exercise */
    double K, T, I1, I2, beta, la1, la2;
    double lnS, lnK, lnI1, lnI2, t1, sv1;
    gam g[3];          /* gamma = beta, 1, 0 */
    double Nf[PAIRS];  /* N(-f) of the five psi, four each */
} prep;

/* The five psi of the price: which gamma, which H (0: I1, 1: K). */
static const int psi_gamma[5] = {0, 1, 1, 2, 2};
static const int psi_h_is_k[5] = {0, 0, 1, 0, 1};

static void gam_init(gam *g, const prep *p, double gamma, double b, double r, double v2)
{
    g->gamma = gamma;
    g->mu = b + (gamma - 0.5) * v2;
    g->lam = -r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2;
    g->kap = 2.0 * b / v2 + (2.0 * gamma - 1.0);
    double m = g->mu * p->t1;
    double x1 = p->lnS - p->lnI1;
    double x2 = 2.0 * p->lnI2 - p->lnS - p->lnI1;
    g->e[0] = (x1 + m) / p->sv1;
    g->e[1] = (x2 + m) / p->sv1;
    g->e[2] = (x1 - m) / p->sv1;
    g->e[3] = (x2 - m) / p->sv1;
    for (int i = 0; i < 4; i++)
        g->Ne[i] = mdl_norm_cdf(-g->e[i]);
}

/* The (h k, h^2 + k^2) of one bivariate normal, as mdl_bvn_quad forms them. */
static void pair(double *hk, double *hs, double h, double k)
{
    *hk = h * k;
    *hs = h * h + k * k;
}

/* Everything of mdl_bs2002_call(S, K, T, r, sigma, q) up to the quadratures; writes the twenty
 * pairs (zeros when the formula is not needed: they are summed anyway, harmlessly). */
static void prepare(prep *p, double S, double K, double T, double r, double sigma, double q,
                    double *hk, double *hs)
{
    for (int j = 0; j < PAIRS; j++)
        hk[j] = hs[j] = 0.0;
    p->how = HOW_VALUE;
    double b = r - q;
    if (b >= r) {
        p->value = mdl_bsm(true, S, K, T, r, sigma, q);
        return;
    }
    double v2 = sigma * sigma;
    double rad = (b / v2 - 0.5) * (b / v2 - 0.5) + 2.0 * r / v2;
    if (!(rad >= 0.0))
        goto undefined;
    double beta = (0.5 - b / v2) + sqrt(rad);
    if (!(beta > 1.0))
        goto undefined;
    double binf = beta / (beta - 1.0) * K;
    double b0 = fmax(K, r / (r - b) * K);
    double gap = binf - b0;
    if (!(gap > 0.0) || !isfinite(binf))
        goto undefined;

    p->T = T;
    p->t1 = T1_RATIO * T;
    p->sv1 = sigma * sqrt(p->t1);
    double svT = sigma * sqrt(T);
    double scale = K * K / (gap * b0);
    double h1 = -(b * p->t1 + 2.0 * p->sv1) * scale;
    double h2 = -(b * T + 2.0 * svT) * scale;
    double I1 = b0 - gap * expm1(h1);
    double I2 = b0 - gap * expm1(h2);
    if (!(I1 > 0.0 && I2 > 0.0))
        goto undefined;
    if (S >= I2) {
        p->value = S - K;
        return;
    }

    p->how = HOW_FORMULA;
    p->K = K, p->I1 = I1, p->I2 = I2, p->beta = beta;
    p->lnS = log(S);
    p->lnK = log(K);
    p->lnI1 = log(I1);
    p->lnI2 = log(I2);
    gam_init(&p->g[0], p, beta, b, r, v2);
    gam_init(&p->g[1], p, 1.0, b, r, v2);
    gam_init(&p->g[2], p, 0.0, b, r, v2);
    p->la1 = -beta * p->lnI1;
    p->la2 = -beta * p->lnI2;

    for (int c = 0; c < 5; c++) {
        const gam *g = &p->g[psi_gamma[c]];
        double lnH = psi_h_is_k[c] ? p->lnK : p->lnI1;
        double m = g->mu * T;
        double f[4];
        f[0] = (p->lnS - lnH + m) / svT;
        f[1] = (2.0 * p->lnI2 - p->lnS - lnH + m) / svT;
        f[2] = (2.0 * p->lnI1 - p->lnS - lnH + m) / svT;
        f[3] = (p->lnS + 2.0 * p->lnI1 - lnH - 2.0 * p->lnI2 + m) / svT;
        for (int t = 0; t < 4; t++)
            p->Nf[4 * c + t] = mdl_norm_cdf(-f[t]);
        /* correlation +rho for M(-e1,-f1), M(-e2,-f2); -rho for the other two (internal.h) */
        pair(&hk[4 * c + 0], &hs[4 * c + 0], g->e[0], f[0]);
        pair(&hk[4 * c + 1], &hs[4 * c + 1], g->e[1], f[1]);
        pair(&hk[4 * c + 2], &hs[4 * c + 2], -g->e[2], f[2]);
        pair(&hk[4 * c + 3], &hs[4 * c + 3], -g->e[3], f[3]);
    }
    return;

undefined:
    p->how = HOW_REFERENCE;
}

/* e^{logw} phi(S, t1, gamma, H, I2); at H = I1 its two CDFs are psi's N(-e1), N(-e2). */
static double phi_t1(const prep *p, const gam *g, int h_is_i1, double logw)
{
    double n1, n2;
    if (h_is_i1) {
        n1 = g->Ne[0], n2 = g->Ne[1];
    } else {
        double m = g->mu * p->t1;
        double d1 = (p->lnS - p->lnI2 + m) / p->sv1;
        double d2 = (2.0 * p->lnI2 - p->lnS - p->lnI2 + m) / p->sv1;
        n1 = mdl_norm_cdf(-d1), n2 = mdl_norm_cdf(-d2);
    }
    double x = logw + g->lam * p->t1 + g->gamma * p->lnS;
    return exp(x) * n1 - exp(x + g->kap * (p->lnI2 - p->lnS)) * n2;
}

/* e^{logw} psi(S, T, gamma, H, I2, I1, t1) for the c-th psi, its quadratures in qs[4c..].
 * Adds to sp[0] the sum of factor x quadrature over its four quadratures, to sp[1] the sum of
 * the factors (see finish). */
static double psi_T(const prep *p, int c, const double *qs, double logw, double *sp)
{
    const gam *g = &p->g[psi_gamma[c]];
    const double *nf = &p->Nf[4 * c], *qc = &qs[4 * c];
    double m1 = g->Ne[0] * nf[0] + qc[0];
    double m2 = g->Ne[1] * nf[1] + qc[1];
    double m3 = g->Ne[2] * nf[2] - qc[2];
    double m4 = g->Ne[3] * nf[3] - qc[3];
    double x = logw + g->lam * p->T + g->gamma * p->lnS;
    double f1 = exp(x), f2 = exp(x + g->kap * (p->lnI2 - p->lnS));
    double f3 = exp(x + g->kap * (p->lnI1 - p->lnS)), f4 = exp(x + g->kap * (p->lnI1 - p->lnI2));
    sp[0] += f1 * qc[0] + f2 * qc[1] + f3 * qc[2] + f4 * qc[3];
    sp[1] += f1 + f2 + f3 + f4;
    return f1 * m1 - f2 * m2 - f3 * m3 + f4 * m4;
}

/* The price from the prepared values and the twenty quadratures, summed as bs2002.c sums it.
 * Returns in *dev a bound on how far the price can be from the reference's: each quadrature
 * within QUAD_REL_DIFF relative plus QUAD_ABS_DIFF of the reference's, times its factor. */
static double finish(const prep *p, const double *qs, double *dev)
{
    const gam *gb = &p->g[0], *g1 = &p->g[1], *g0 = &p->g[2];
    double I1 = p->I1, I2 = p->I2, K = p->K, lnKw = p->lnK;
    double price = (I2 - K) * exp(p->beta * p->lnS + p->la2);
    price += -(I2 - K) * phi_t1(p, gb, 0, p->la2) + phi_t1(p, g1, 0, 0.0) -
             phi_t1(p, g1, 1, 0.0) - phi_t1(p, g0, 0, lnKw) + phi_t1(p, g0, 1, lnKw) +
             (I1 - K) * phi_t1(p, gb, 1, p->la1);
    double s0[2] = {0.0, 0.0}, s[2] = {0.0, 0.0}; /* the factors are positive exponentials */
    double psi0 = psi_T(p, 0, qs, p->la1, s0);
    price += -(I1 - K) * psi0 + psi_T(p, 1, qs, 0.0, s) - psi_T(p, 2, qs, 0.0, s) -
             psi_T(p, 3, qs, lnKw, s) + psi_T(p, 4, qs, lnKw, s);
    double w0 = fabs(I1 - K);
    *dev = QUAD_REL_DIFF * (w0 * s0[0] + s[0]) + QUAD_ABS_DIFF * (w0 * s0[1] + s[1]);
    return price;
}

/* ---- the batch ---- */

static double at(const double *a, size_t i)
{
    return a != NULL ? a[i] : 0.0;
}

static size_t american_blocked(bool call, const mdl_batch *b, const mdl_work *w,
                               const mdl_poll *poll)
{
    mdl_kind kind = call ? MDL_AMER_CALL : MDL_AMER_PUT;
    prep pr[BLOCK];
    double hk[NQ], hs[NQ], qs[NQ];
    for (size_t i0 = 0; i0 < b->n; i0 += BLOCK) {
        if (i0 > 0 && mdl_poll_stop(poll))
            return i0;
        size_t m = b->n - i0 < BLOCK ? b->n - i0 : BLOCK;
        int formulas = 0;
        for (size_t j = 0; j < BLOCK; j++) {
            size_t i = i0 + j;
            double *phk = &hk[j * PAIRS], *phs = &hs[j * PAIRS];
            if (j >= m || (b->steps != NULL && b->steps[i] > 0)) {
                pr[j].how = HOW_REFERENCE;
                for (int t = 0; t < PAIRS; t++)
                    phk[t] = phs[t] = 0.0;
                continue;
            }
            double S = b->S[i], K = b->K[i], T = b->T[i], r = b->r[i], sg = b->sigma[i];
            double q = at(b->q, i);
            /* P(S,K,T,r,q,s) = C(K,S,T,q,r,s), as table.c prices the put */
            if (call)
                prepare(&pr[j], S, K, T, r, sg, q, phk, phs);
            else
                prepare(&pr[j], K, S, T, q, sg, r, phk, phs);
            formulas += pr[j].how == HOW_FORMULA;
        }
        /* only the block's m prices: a short run (a few positions a bump moves) costs what it
         * holds, not a full block; each pair's sum is the same whatever the count */
        if (formulas > 0)
            quad_block(qs, hk, hs, (int)m * PAIRS);
        for (size_t j = 0; j < m; j++) {
            size_t i = i0 + j;
            unsigned fl = 0;
            double price = NAN;
            int how = pr[j].how;
            if (how == HOW_FORMULA) {
                double dev;
                price = finish(&pr[j], &qs[j * PAIRS], &dev);
                /* Not finite: the reference finds it undefined too and falls back. Too much
                 * cancellation: the reference's own value is that sensitive to the rounding
                 * of its exponentials, so only the reference reproduces it. */
                double scale = fmax(b->S[i], b->K[i]);
                if (!isfinite(price) ||
                    !(dev <= KEEP_REL * fabs(price) + KEEP_ABS * scale))
                    how = HOW_REFERENCE;
            } else if (how == HOW_VALUE) {
                price = pr[j].value;
            }
            if (how == HOW_REFERENCE) {
                mdl_in in = {b->S[i], b->K[i], b->T[i], b->r[i], b->sigma[i], at(b->q, i),
                             at(b->coupon, i), at(b->freq, i),
                             b->steps != NULL ? b->steps[i] : 0};
                price = mdl_price_ref(kind, &in, w, poll, &fl);
            }
            b->price[i] = price;
            if (b->flags != NULL)
                b->flags[i] = (uint8_t)fl;
            if (fl & MDL_FLAG_STOPPED)
                return i;
        }
    }
    return b->n;
}

size_t mdl_amer_call_blocked(const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)
{
    return american_blocked(true, b, w, poll);
}

size_t mdl_amer_put_blocked(const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)
{
    return american_blocked(false, b, w, poll);
}
