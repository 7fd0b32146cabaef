/*
 * measures.c - parametric VaR, VaR/ES from scenarios, Monte Carlo shocks (see measures.h).
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "measures.h"

#define RSK_PI 3.14159265358979323846
#include "states.h"

/* ---- FRTB ---- */

const double rsk_frtb_lh[RSK_FRTB_NLH] = {10, 20, 40, 60, 120};

double rsk_frtb_es(const double es[RSK_FRTB_NLH])
{
    double sum = es[0] * es[0];
    for (int j = 1; j < RSK_FRTB_NLH; j++) {
        double t = es[j] * sqrt((rsk_frtb_lh[j] - rsk_frtb_lh[j - 1]) / RSK_FRTB_T);
        sum += t * t;
    }
    return sqrt(sum);
}

/* ---- inverse normal ---- */

double rsk_norm_inv(double p)
{
    if (!(p > 0.0 && p < 1.0))
        return NAN;
    /* Rational approximation (relative error ~1e-9, P. J. Acklam) refined by one Halley step
     * on the erfc-based CDF, which brings it to machine precision. */
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    const double plow = 0.02425;
    double x;
    if (p < plow) {
        double q = sqrt(-2.0 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    } else if (p <= 1.0 - plow) {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
    } else {
        double q = sqrt(-2.0 * log1p(-p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    }
    /* Halley: e = N(x) - p; u = e * sqrt(2 pi) exp(x^2/2). */
    double e = 0.5 * erfc(-x / sqrt(2.0)) - p;
    double u = e * sqrt(2.0 * RSK_PI) * exp(0.5 * x * x);
    return x - u / (1.0 + 0.5 * x * u);
}

/* ---- VaR / ES from scenarios ---- */

size_t rsk_tail_count(size_t nscen, double alpha)
{
    double x = (double)nscen * (1.0 - alpha);
    double r = nearbyint(x);
    /* 1 - 0.99 is 0.010000000000000009 in binary: 1000 * that is a hair above 10. A product
     * within a few ulps of an integer is that integer. */
    double k = fabs(x - r) <= 1e-9 * (r > 1.0 ? r : 1.0) ? r : ceil(x);
    if (k < 1.0)
        k = 1.0;
    if (k > (double)nscen)
        k = (double)nscen;
    return (size_t)k;
}

static int by_loss_desc(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a < b) - (a > b);
}

/* Moves the m largest of a[0, n) to a[0, m) (in no order): quickselect, median of three.
 * Only the tail is sorted then: the k-th largest and the sum of the k largest in descending
 * order are those of a full sort, bit for bit (equal values are interchangeable), at a
 * fraction of the cost for a what-if's 1000 scenarios. */
static void select_largest(double *a, size_t n, size_t m)
{
    size_t lo = 0, hi = n; /* the boundary m lies in [lo, hi) */
    while (hi - lo > 16) {
        double x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
        double piv = x > y ? (y > z ? y : (x > z ? z : x)) : (x > z ? x : (y > z ? z : y));
        /* three-way partition: > piv, == piv, < piv */
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            if (a[i] > piv) {
                double t = a[lt];
                a[lt++] = a[i];
                a[i++] = t;
            } else if (a[i] < piv) {
                double t = a[--gt];
                a[gt] = a[i];
                a[i] = t;
            } else {
                i++;
            }
        }
        if (m <= lt)
            hi = lt;
        else if (m <= gt)
            return; /* [lt, gt) are all equal to the pivot */
        else
            lo = gt;
    }
    qsort(a + lo, hi - lo, sizeof *a, by_loss_desc); /* a short run: settle it by sorting */
}

rk_status rsk_var_es(const double *pnl, size_t n, double var_alpha, double es_alpha, double *work,
                     double *var, double *es)
{
    if (n == 0 || !(var_alpha > 0 && var_alpha < 1) || !(es_alpha > 0 && es_alpha < 1))
        return RK_BAD_ARGUMENT;
    for (size_t s = 0; s < n; s++)
        work[s] = -pnl[s];
    size_t kv = rsk_tail_count(n, var_alpha), ke = rsk_tail_count(n, es_alpha);
    size_t m = kv > ke ? kv : ke;
    select_largest(work, n, m);
    qsort(work, m, sizeof *work, by_loss_desc);
    *var = work[kv - 1];
    double sum = 0.0;
    for (size_t s = 0; s < ke; s++)
        sum += work[s];
    *es = sum / (double)ke;
    return RK_OK;
}

static int by_rank(const void *pa, const void *pb)
{
    const rsk_ranked *a = pa, *b = pb;
    if (a->loss != b->loss)
        return (a->loss < b->loss) - (a->loss > b->loss);
    return (a->s > b->s) - (a->s < b->s);
}

void rsk_tail_rank(const rsk_xsum *tot, size_t n, rsk_ranked *rank)
{
    for (size_t s = 0; s < n; s++) {
        rank[s].loss = -rsk_xsum_value(tot[s]);
        rank[s].s = s;
    }
    qsort(rank, n, sizeof *rank, by_rank);
}

rk_status rsk_scen_components(const rsk_xsum *xpnl, size_t nbooks, size_t n, double var_alpha,
                              double es_alpha, double var_total, rsk_ranked *rank, double *work,
                              double *sort, double *cvar, double *ces, double *incr)
{
    if (n == 0 || !(var_alpha > 0 && var_alpha < 1) || !(es_alpha > 0 && es_alpha < 1))
        return RK_BAD_ARGUMENT;
    const rsk_xsum *tot = xpnl + nbooks * n;
    rsk_tail_rank(tot, n, rank);
    size_t kv = rsk_tail_count(n, var_alpha), ke = rsk_tail_count(n, es_alpha);
    size_t sv = rank[kv - 1].s;
    for (size_t b = 0; b <= nbooks; b++) {
        const rsk_xsum *row = xpnl + b * n;
        cvar[b] = -rsk_xsum_value(row[sv]);
        rsk_xsum tail = 0;
        for (size_t k = 0; k < ke; k++)
            tail += row[rank[k].s];
        ces[b] = -rsk_xsum_value(tail) / (double)ke;
        if (b == nbooks) {
            incr[b] = var_total;
            continue;
        }
        for (size_t s = 0; s < n; s++)
            work[s] = rsk_xsum_value(tot[s] - row[s]);
        double without, es_unused;
        rk_status rc = rsk_var_es(work, n, var_alpha, es_alpha, sort, &without, &es_unused);
        if (rc != RK_OK)
            return rc;
        incr[b] = var_total - without;
    }
    return RK_OK;
}

/* ---- parametric VaR ---- */

void rsk_parametric_free(rsk_parametric *p)
{
    if (p == NULL)
        return;
    free(p->sigma);
    free(p->var);
    free(p->contrib);
    memset(p, 0, sizeof *p);
}

rk_status rsk_parametric_var(const double *exposure, size_t nbooks, const double *cov, size_t F,
                             double alpha, double horizon, rsk_parametric *out)
{
    memset(out, 0, sizeof *out);
    if (!(alpha > 0 && alpha < 1) || !(horizon > 0))
        return RK_BAD_ARGUMENT;
    size_t rows = nbooks + 1;
    out->sigma = calloc(rows, sizeof(double));
    out->var = calloc(rows, sizeof(double));
    out->contrib = calloc(rows, sizeof(double));
    double *es = calloc(rows * (F ? F : 1), sizeof(double)); /* E Sigma, rows x F */
    if (out->sigma == NULL || out->var == NULL || out->contrib == NULL || es == NULL) {
        free(es);
        rsk_parametric_free(out);
        return RK_NO_MEMORY;
    }
    rk_status rc = rsk_parametric_var_into(exposure, nbooks, cov, F, alpha, horizon, es, out);
    free(es);
    return rc;
}

rk_status rsk_parametric_var_into(const double *exposure, size_t nbooks, const double *cov,
                                  size_t F, double alpha, double horizon, double *es,
                                  rsk_parametric *out)
{
    if (!(alpha > 0 && alpha < 1) || !(horizon > 0))
        return RK_BAD_ARGUMENT;
    rsk_blas_init();
    size_t rows = nbooks + 1;
    out->nbooks = nbooks;
    out->z = rsk_norm_inv(alpha);
    double scale = out->z * sqrt(horizon);
    if (F > 0) {
        /* (E Sigma) for every book at once; Sigma is symmetric so E Sigma = (Sigma E^T)^T. */
        cblas_dsymm(CblasRowMajor, CblasRight, CblasLower, (int)rows, (int)F, 1.0, cov, (int)F,
                    exposure, (int)F, 0.0, es, (int)F);
    }
    const double *etot = exposure + nbooks * F;
    for (size_t b = 0; b < rows; b++) {
        const double *eb = exposure + b * F;
        double own = F > 0 ? cblas_ddot((int)F, es + b * F, 1, eb, 1) : 0.0;
        out->sigma[b] = sqrt(own > 0 ? own : 0.0);
        out->var[b] = scale * out->sigma[b];
    }
    double sp = out->sigma[nbooks];
    for (size_t b = 0; b < rows; b++) {
        /* e_b' Sigma e / sigma_P: the book's share of the total's standard deviation */
        double cross = F > 0 ? cblas_ddot((int)F, es + b * F, 1, etot, 1) : 0.0;
        out->contrib[b] = sp > 0 ? scale * cross / sp : 0.0;
    }
    return RK_OK;
}

/* ---- Monte Carlo ---- */

rk_status rsk_cholesky(const double *cov, size_t F, double *L)
{
    memcpy(L, cov, F * F * sizeof(double));
    if (F == 0)
        return RK_OK;
    /* In place: the row-major lower triangle is the column-major upper one (the row-major
     * interface would allocate a transposed copy, and print to stdout when it cannot). */
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)F, L, (lapack_int)F);
    if (info < 0)
        return RK_INTERNAL;
    if (info > 0)
        return RK_NUMERIC;
    for (size_t i = 0; i < F; i++)
        for (size_t j = i + 1; j < F; j++)
            L[i * F + j] = 0.0;
    return RK_OK;
}

/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011). */
static void philox4x32(uint32_t ctr[4], const uint32_t key_in[2])
{
    const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
    const uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
    uint32_t k0 = key_in[0], k1 = key_in[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)M0 * ctr[0];
        uint64_t p1 = (uint64_t)M1 * ctr[2];
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        uint32_t n0 = hi1 ^ ctr[1] ^ k0;
        uint32_t n2 = hi0 ^ ctr[3] ^ k1;
        ctr[0] = n0;
        ctr[1] = lo1;
        ctr[2] = n2;
        ctr[3] = lo0;
        k0 += W0;
        k1 += W1;
    }
}

/* A double in (0, 1] from 53 random bits. */
static double unit_open0(uint32_t hi, uint32_t lo)
{
    uint64_t bits = ((uint64_t)hi << 21) ^ (uint64_t)(lo >> 11);
    bits &= (UINT64_C(1) << 53) - 1;
    return ((double)bits + 1.0) * 0x1.0p-53;
}

void rsk_mc_normals(uint64_t seed, uint64_t s, size_t F, double *z)
{
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    for (size_t j = 0; j < F; j += 2) {
        uint32_t ctr[4] = {(uint32_t)s, (uint32_t)(s >> 32), (uint32_t)(j / 2), 0x5EEDu};
        philox4x32(ctr, key);
        double u1 = unit_open0(ctr[0], ctr[1]);
        double u2 = unit_open0(ctr[2], ctr[3]);
        double r = sqrt(-2.0 * log(u1));
        double th = 2.0 * RSK_PI * u2;
        z[j] = r * cos(th);
        if (j + 1 < F)
            z[j + 1] = r * sin(th);
    }
}

void rsk_mc_shocks(const double *L, size_t F, uint64_t seed, uint64_t first, size_t n,
                   double horizon, double *work, double *shock)
{
    rsk_blas_init();
    for (size_t s = 0; s < n; s++)
        rsk_mc_normals(seed, first + s, F, work + s * F);
    if (n == 0 || F == 0)
        return;
    /* shock (n x F) = sqrt(H) * Z (n x F) * L^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)F, (int)F, sqrt(horizon),
                work, (int)F, L, (int)F, 0.0, shock, (int)F);
}
