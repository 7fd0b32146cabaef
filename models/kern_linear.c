/*
 * kern_linear.c - the batch kernels of the closed forms without early exercise: spot, forward,
 * european call and put, bond; compiled once per level (kern.h).
 */
#include <math.h>
#include <stdbool.h>

#include "kern.h"
#include "vm512.h"

/* Blocks between two polls: 128 items, under 6 µs for the costliest of these (the european,
 * about 45 ns a price at the baseline level). */
#define POLL_BLOCKS (128u / MDL_VB)

static void clear_flags(const mdl_batch *b, size_t i0, size_t n)
{
    if (b->flags != NULL)
        for (size_t j = 0; j < n; j++)
            b->flags[i0 + j] = 0;
}

/* The block's view of input a: the batch's own items where the block is full, else
 * mdl_block_load's padded copy in buf (zeros for an absent input). Reading a full block in
 * place saves the copy and the stalls of reloading, as vectors, what was just stored item by
 * item (forward: 5.3 ns a price at AVX-512 through copies, 3.1 in place). The arithmetic is
 * elementwise, so an item gets the same bits either way. */
static inline const double *block_in(double *buf, const double *a, size_t i0, size_t n)
{
    if (a != NULL && n == MDL_VB)
        return a + i0;
    mdl_block_load(buf, a, i0, n);
    return buf;
}

/* Where the block's prices go: in place for a full block, else buf (block_done copies). */
static inline double *block_out(double *buf, const mdl_batch *b, size_t i0, size_t n)
{
    return n == MDL_VB ? b->price + i0 : buf;
}

static inline void block_done(const double *out, const mdl_batch *b, size_t i0, size_t n)
{
    if (n < MDL_VB)
        for (size_t j = 0; j < n; j++)
            b->price[i0 + j] = out[j];
    clear_flags(b, i0, n);
}

static size_t spot(const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)
{
    (void)w;
    (void)poll;
    for (size_t i = 0; i < b->n; i++)
        b->price[i] = b->S[i];
    clear_flags(b, 0, b->n);
    return b->n;
}

/* S e^{-qT} - K e^{-rT}. */
static size_t forward(const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)
{
    (void)w;
    for (size_t i0 = 0, blocks = 0; i0 < b->n; i0 += MDL_VB, blocks++) {
        if (blocks > 0 && blocks % POLL_BLOCKS == 0 && mdl_poll_stop(poll))
            return i0;
        size_t n = b->n - i0 < MDL_VB ? b->n - i0 : MDL_VB;
        double Sb[MDL_VB], Kb[MDL_VB], Tb[MDL_VB], rb[MDL_VB], qb[MDL_VB], ob[MDL_VB];
        const double *restrict S = block_in(Sb, b->S, i0, n);
        const double *restrict K = block_in(Kb, b->K, i0, n);
        const double *restrict T = block_in(Tb, b->T, i0, n);
        const double *restrict r = block_in(rb, b->r, i0, n);
        const double *restrict q = block_in(qb, b->q, i0, n);
        double *restrict out = block_out(ob, b, i0, n);
        MDL_SIMD
        for (size_t j = 0; j < MDL_VB; j++)
            out[j] = S[j] * vm_exp(-q[j] * T[j]) - K[j] * vm_exp(-r[j] * T[j]);
        block_done(out, b, i0, n);
    }
    return b->n;
}

/*
 * Black-Scholes-Merton with dividend yield, as models/bsm.c writes it (the same d1, the put
 * computed directly, not by parity):
 *   omega (S e^{-qT} N(omega d1) - K e^{-rT} N(omega d2)),  omega = +1 call, -1 put.
 * vm_ncdf keeps its relative accuracy in the lower tail, so deep out-of-the-money prices keep
 * theirs (at AVX-512 a few ulp less of it: euro_block). Every input the reference accepts is
 * priced here: there are no rare items.
 */
/* d1 as bsm.c forms it, and sd = sigma sqrt(T). */
VM_INLINE double euro_d1(double S, double K, double T, double r, double sg, double q, double *sd)
{
    *sd = sg * sqrt(T);
    return (vm_log(S / K) + (r - q + 0.5 * sg * sg) * T) / *sd;
}

#if defined(__AVX512F__) && defined(__AVX512DQ__)
/* At AVX-512 the block's CDFs and discount factors are vm512.h's, in a pass of their own over the
 * arguments the portable loop leaves in arrays: ncdf_neg8 and exp8 take about half the
 * instructions of vm_ncdf and vm_exp, within 4.7 + 0.63 d^2 and 1.9 + 0.64 |x| ulp (the
 * european's tests allow 1e-12 relative, and the american kernel's european case, priced here,
 * its own 5e-14 with 1e-14 of max(S, K)). The products and the difference are the portable
 * loop's, in its order. */
static inline void euro_block(const double *restrict S, const double *restrict K,
                              const double *restrict T, const double *restrict r,
                              const double *restrict sg, const double *restrict q, double omega,
                              double *restrict out)
{
    double a1[MDL_VB], a2[MDL_VB], xq[MDL_VB], xr[MDL_VB];
    MDL_SIMD
    for (size_t j = 0; j < MDL_VB; j++) {
        double sd, d1 = euro_d1(S[j], K[j], T[j], r[j], sg[j], q[j], &sd);
        double d2 = d1 - sd;
        a1[j] = -(omega * d1); /* N(omega d) = N(-a) */
        a2[j] = -(omega * d2);
        xq[j] = -q[j] * T[j];
        xr[j] = -r[j] * T[j];
    }
    const __m512d om = V8(omega);
    for (size_t j = 0; j < MDL_VB; j += 8) {
        __m512d fs = _mm512_mul_pd(_mm512_loadu_pd(S + j), exp8(_mm512_loadu_pd(xq + j)));
        __m512d fk = _mm512_mul_pd(_mm512_loadu_pd(K + j), exp8(_mm512_loadu_pd(xr + j)));
        __m512d n1 = ncdf_neg8(_mm512_loadu_pd(a1 + j)), n2 = ncdf_neg8(_mm512_loadu_pd(a2 + j));
        __m512d v = _mm512_sub_pd(_mm512_mul_pd(fs, n1), _mm512_mul_pd(fk, n2));
        _mm512_storeu_pd(out + j, _mm512_mul_pd(om, v));
    }
}
#else
static inline void euro_block(const double *restrict S, const double *restrict K,
                              const double *restrict T, const double *restrict r,
                              const double *restrict sg, const double *restrict q, double omega,
                              double *restrict out)
{
    MDL_SIMD
    for (size_t j = 0; j < MDL_VB; j++) {
        double sd, d1 = euro_d1(S[j], K[j], T[j], r[j], sg[j], q[j], &sd);
        double d2 = d1 - sd;
        double fs = S[j] * vm_exp(-q[j] * T[j]);
        double fk = K[j] * vm_exp(-r[j] * T[j]);
        out[j] = omega * (fs * vm_ncdf(omega * d1) - fk * vm_ncdf(omega * d2));
    }
}
#endif

static inline size_t euro(const mdl_batch *b, const mdl_poll *poll, double omega)
{
    for (size_t i0 = 0, blocks = 0; i0 < b->n; i0 += MDL_VB, blocks++) {
        if (blocks > 0 && blocks % POLL_BLOCKS == 0 && mdl_poll_stop(poll))
            return i0;
        size_t n = b->n - i0 < MDL_VB ? b->n - i0 : MDL_VB;
        double Sb[MDL_VB], Kb[MDL_VB], Tb[MDL_VB], rb[MDL_VB], sb[MDL_VB], qb[MDL_VB], ob[MDL_VB];
        const double *restrict S = block_in(Sb, b->S, i0, n);
        const double *restrict K = block_in(Kb, b->K, i0, n);
        const double *restrict T = block_in(Tb, b->T, i0, n);
        const double *restrict r = block_in(rb, b->r, i0, n);
        const double *restrict sg = block_in(sb, b->sigma, i0, n);
        const double *restrict q = block_in(qb, b->q, i0, n);
        double *restrict out = block_out(ob, b, i0, n);
        euro_block(S, K, T, r, sg, q, omega, out);
        block_done(out, b, i0, n);
    }
    return b->n;
}

size_t MDL_KERN(mdl_kern_euro_call)(const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)
{
    (void)w;
    return euro(b, poll, 1.0);
}

static size_t euro_put(const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)
{
    (void)w;
    return euro(b, poll, -1.0);
}

/* Bonds whose cash-flow count T f exceeds this go to the reference, which gives NaN for them
 * (model.h); no real bond comes near. It also keeps ceil below in the range of its rounding
 * trick. */
#define BOND_MAX_FLOWS MDL_BOND_MAX_FLOWS

/* ceil(v) for 0 <= v < 2^51: v + 1.5 * 2^52 rounds v to an integer, corrected by one where it
 * rounded down (SSE2 has no rounding instruction, and a library call would stop
 * vectorisation). */
static inline double ceil_small(double v)
{
    double m = (v + 6755399441055744.0) - 6755399441055744.0;
    return m < v ? m + 1.0 : m;
}

/*
 * The bond in closed form (see models/bond.c): with n coupon times T - k/f > 0,
 *   price = e^{-yT} (1 + (c/f) expm1(y n / f) / expm1(y / f)),
 * the ratio tending to n as y / f rounds to 0. n must be the count the reference loop finds,
 * which evaluates T - k/f > 0 in floating point for k = 0, 1, ...; the predicate is monotone
 * in k. From m = ceil(T f) (T f rounded lies within ulps of the exact boundary, on either
 * side: T = 16.6, f = 365 gives T f just above 6059 while T - 6059/f is not positive), the
 * same predicate at m - 2 ... m + 1 gives n = m - 2 + (the number of them that hold), provided
 * it holds at m - 2 and fails at m + 1: it always does, as T f is never off by a whole unit,
 * but an item where the four do not show that (the first fails with m - 2 > 0, or the last
 * holds) is marked and priced by the reference, as are inputs outside the domain (NaN, T or f
 * not positive, T f beyond BOND_MAX_FLOWS).
 */
static size_t bond(const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)
{
    for (size_t i0 = 0, blocks = 0; i0 < b->n; i0 += MDL_VB, blocks++) {
        if (blocks > 0 && blocks % POLL_BLOCKS == 0 && mdl_poll_stop(poll))
            return i0;
        size_t n = b->n - i0 < MDL_VB ? b->n - i0 : MDL_VB;
        double yb[MDL_VB], Tb[MDL_VB], cb[MDL_VB], fb[MDL_VB], ob[MDL_VB], rare[MDL_VB];
        const double *restrict y = block_in(yb, b->r, i0, n);
        const double *restrict T = block_in(Tb, b->T, i0, n);
        const double *restrict c = block_in(cb, b->coupon, i0, n);
        const double *restrict f = block_in(fb, b->freq, i0, n);
        double *restrict out = block_out(ob, b, i0, n);
        MDL_SIMD
        for (size_t j = 0; j < MDL_VB; j++) {
            /* Conditions are counted in doubles: the vectoriser does not combine the masks
             * of double comparisons with || and &&. */
            double tf = T[j] * f[j];
            double bad = (T[j] > 0.0 ? 0.0 : 1.0) + (f[j] > 0.0 ? 0.0 : 1.0) +
                         (tf <= BOND_MAX_FLOWS ? 0.0 : 1.0) + (y[j] == y[j] ? 0.0 : 1.0) +
                         (c[j] == c[j] ? 0.0 : 1.0);
            double m = ceil_small(bad == 0.0 ? tf : 1.0);
            double low = T[j] - (m - 2.0) / f[j] > 0.0 ? 1.0 : 0.0;
            double below = T[j] - (m - 1.0) / f[j] > 0.0 ? 1.0 : 0.0;
            double at = T[j] - m / f[j] > 0.0 ? 1.0 : 0.0;
            double above = T[j] - (m + 1.0) / f[j] > 0.0 ? 1.0 : 0.0;
            double cnt = (m - 2.0) + low + below + at + above;
            rare[j] = bad + above + (1.0 - low) * (m > 2.0 ? 1.0 : 0.0);
            double g = vm_expm1(y[j] / f[j]);
            double ratio = g != 0.0 ? vm_expm1(y[j] * cnt / f[j]) / g : cnt;
            out[j] = vm_exp(-y[j] * T[j]) * (1.0 + c[j] / f[j] * ratio);
        }
        for (size_t j = 0; j < n; j++)
            if (rare[j] != 0.0) {
                size_t i = i0 + j;
                mdl_in in = {0.0, 0.0, b->T[i], b->r[i], 0.0, 0.0,
                             b->coupon != NULL ? b->coupon[i] : 0.0, b->freq[i], 0};
                out[j] = mdl_price_ref(MDL_BOND, &in, w, NULL, NULL);
            }
        block_done(out, b, i0, n);
    }
    return b->n;
}

void MDL_KERN(mdl_kern_fill_linear)(mdl_entry *table)
{
    table[MDL_SPOT].variant = "vector";
    table[MDL_SPOT].batch = spot;
    table[MDL_FORWARD].variant = "vector";
    table[MDL_FORWARD].batch = forward;
    table[MDL_EURO_CALL].variant = "vector";
    table[MDL_EURO_CALL].batch = MDL_KERN(mdl_kern_euro_call);
    table[MDL_EURO_PUT].variant = "vector";
    table[MDL_EURO_PUT].batch = euro_put;
    table[MDL_BOND].variant = "vector";
    table[MDL_BOND].batch = bond;
}
