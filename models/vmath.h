/*
 * vmath.h - elementary functions written for the kernels' block loops (kern.h): branch-free,
 * no table, no libm call, so that the compiler vectorises a loop that calls them at every
 * level, and the same bits come out on every CPU of one level.
 *
 * Where the level has FMA (__FMA__: AVX2 and AVX-512 levels) the formulas use it through
 * VM_FMA, which changes the last bits between levels but not their accuracy; without it they
 * use a multiply and an add (fma() would then be a slow library call, not an instruction).
 * Special values follow C's functions (NaN in, NaN out; overflow to +inf; underflow through
 * the subnormals to 0).
 */
#ifndef MDL_VMATH_H
#define MDL_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Inlined always: a call left out of line (gcc's size limits reject vm_ncdf twice in one loop)
 * stops the caller's loop from vectorising. */
#if defined(__GNUC__)
#define VM_INLINE static inline __attribute__((always_inline))
#else
#define VM_INLINE static inline
#endif

#ifdef __FMA__
#define VM_FMA(a, b, c) fma((a), (b), (c))
#else
#define VM_FMA(a, b, c) ((a) * (b) + (c))
#endif

VM_INLINE uint64_t vm_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

VM_INLINE double vm_from_bits(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* e^x = 2^n e^r, n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2]: ln 2 is split in a
 * 42-bit head (n VM_LN2_HI is exact for |n| < 2^11) and a tail. n is rounded by adding
 * 1.5 * 2^52, which leaves it in the low bits of k. */
#define VM_LOG2E 1.4426950408889634
#define VM_SHIFT 6755399441055744.0     /* 1.5 * 2^52 */
#define VM_LN2_HI 0.6931471805598903    /* 0x1.62e42fefa3800p-1 */
#define VM_LN2_LO 5.497923018708371e-14 /* 0x1.ef35793c76730p-45 */
/* Beyond these e^x is +inf, or 0 (or, for expm1, -1) in double; the clamp keeps n in the range
 * where the scaling below is exact, and passes NaN through (the comparison is false). */
#define VM_EXP_HI 710.0
#define VM_EXP_LO -746.0

/* Q(r) = (e^r - 1 - r) / r^2 for |r| <= 0.3466: the degree 10 Chebyshev interpolant of
 * models/tools/exp_coeffs.py (absolute error 1.4e-18, so that r^2 Q keeps e^r - 1's relative
 * accuracy too), by Estrin's scheme, whose short dependency chains let the out-of-order core
 * overlap many evaluations. */
VM_INLINE double vm_exp_q_(double r)
{
    double r2 = r * r, r4 = r2 * r2;
    double a0 = VM_FMA(0.1666666666666667, r, 0.5);
    double a1 = VM_FMA(0.008333333333326136, r, 0.04166666666666667);
    double a2 = VM_FMA(0.00019841269874815834, r, 0.001388888888888375);
    double a3 = VM_FMA(2.7557255406285044e-06, r, 2.480158732554432e-05);
    double a4 = VM_FMA(2.5105214474751413e-08, r, 2.7557273647451087e-07);
    double b0 = VM_FMA(a1, r2, a0);
    double b1 = VM_FMA(a3, r2, a2);
    double b2 = VM_FMA(2.0914685161418067e-09, r2, a4);
    return VM_FMA(r4, VM_FMA(r4, b2, b1), b0);
}

/* 2^n as the product of two normal powers of two, for integer n in [-1076, 1024] held in the
 * low bits of k (k = n + 1.5 * 2^52): n1 = floor(n / 2) and n2 = n - n1 lie in [-538, 512], so
 * that p 2^n1 is exact and (p 2^n1) 2^n2 rounds once, also into the subnormals. Unsigned
 * arithmetic only (SSE2 has no 64-bit arithmetic shift): u = n + 2046 >= 0. */
VM_INLINE void vm_pow2_pair_(double k, double *s1, double *s2)
{
    uint64_t u = vm_bits(k) - vm_bits(VM_SHIFT) + 2046u;
    uint64_t e1 = u >> 1;  /* n1 + 1023 */
    uint64_t e2 = u - e1;  /* n2 + 1023 */
    *s1 = vm_from_bits(e1 << 52);
    *s2 = vm_from_bits(e2 << 52);
}

/* e^x. Within 1 ulp over the whole range (within an ulp of the subnormal where the result is
 * one); +inf above ln(DBL_MAX) = 709.78, 0 below -745.14, NaN for NaN. */
VM_INLINE double vm_exp(double x)
{
    x = x > VM_EXP_HI ? VM_EXP_HI : x;
    x = x < VM_EXP_LO ? VM_EXP_LO : x;
    double k = VM_FMA(x, VM_LOG2E, VM_SHIFT);
    double n = k - VM_SHIFT;
    double rh = VM_FMA(-n, VM_LN2_HI, x); /* exact */
    double r = VM_FMA(-n, VM_LN2_LO, rh);
    double c = VM_FMA(-n, VM_LN2_LO, rh - r); /* r's rounding error */
    /* 1 + r exactly as h + e (|r| < 1), so that only the last addition rounds visibly. */
    double h = 1.0 + r;
    double e = (1.0 - h) + r;
    double p = h + (e + VM_FMA(vm_exp_q_(r), r * r, c));
    double s1, s2;
    vm_pow2_pair_(k, &s1, &s2);
    return p * s1 * s2;
}

/* ln x for x > 0, within 1 ulp (fdlibm's method). x = 2^k (1 + f) with 1 + f in
 * [sqrt(2)/2, sqrt(2)), taken from the bits; ln(1 + f) = 2 atanh(s) = f - f^2/2 + s (f^2/2 + R(s^2)),
 * s = f / (2 + f), R fdlibm's Remez polynomial (error below 2^-58.45); k ln 2 with ln 2 in a
 * head whose product with k is exact and a tail. k becomes a double through the bits of
 * 2^52 + k (SSE2 has no 64-bit integer conversion). Subnormal x are scaled by 2^54 first.
 * ln 0 = -inf, ln x = NaN for x < 0 or NaN, ln inf = inf. */
#define VM_LOG_LN2_HI 6.93147180369123816490e-01 /* 0x3fe62e42fee00000 */
#define VM_LOG_LN2_LO 1.90821492927058770002e-10 /* 0x3dea39ef35793c76 */
#define VM_SQRT1_2_HI 0x3fe6a09e00000000u        /* sqrt(2)/2, high word */

VM_INLINE double vm_log(double x)
{
    double sub = x < 0x1p-1022 ? 1.0 : 0.0;
    double xs = x < 0x1p-1022 ? x * 0x1p54 : x;
    /* Adding 0x3ff00000 - (sqrt(2)/2's high word) to the high word carries mantissas >=
     * sqrt(2) into the next exponent, so that k counts binades from sqrt(2)/2; the mantissa
     * bits under sqrt(2)/2's exponent and high word then give 1 + f in [sqrt(2)/2, sqrt(2)). */
    uint64_t u = vm_bits(xs) + (0x3ff0000000000000u - VM_SQRT1_2_HI);
    double kd = vm_from_bits(0x4330000000000000u | (u >> 52)) - (0x1p52 + 1023.0);
    kd = VM_FMA(sub, -54.0, kd);
    double f = vm_from_bits((u & 0x000fffffffffffffu) + VM_SQRT1_2_HI) - 1.0;
    double hfsq = 0.5 * f * f;
    double s = f / (2.0 + f);
    double z = s * s, w = z * z;
    double t1 = w * VM_FMA(w, VM_FMA(w, 1.531383769920937332e-01, 2.222219843214978396e-01),
                           3.999999999940941908e-01);
    double t2 = z * VM_FMA(w, VM_FMA(w, VM_FMA(w, 1.479819860511658591e-01,
                                               1.818357216161805012e-01),
                                     2.857142874366239149e-01),
                           6.666666666666735130e-01);
    double R = t2 + t1;
    double y = VM_FMA(kd, VM_LOG_LN2_LO, s * (hfsq + R)) - hfsq + f;
    y = VM_FMA(kd, VM_LOG_LN2_HI, y);
    y = x > 0.0 ? y : (x == 0.0 ? -HUGE_VAL : NAN);
    return x == HUGE_VAL ? HUGE_VAL : y;
}

/* e^x - 1 with relative accuracy everywhere (within 1.4 ulp): with x = n ln 2 + r as in vm_exp
 * and p = e^r - 1 = r + r^2 Q(r) (Q vm_exp's, no cancellation: r is the leading term),
 *   e^x - 1 = 2^n p + (2^n - 1) = 2 (h p + (h - 1/2)),  h = 2^(n-1),
 * where h - 1/2 (for n <= 53) and the doubling are exact; n = 0 gives p itself.
 * Writing it with h = 2^(n-1) lets 2^1024 (x up to ln(DBL_MAX)) overflow only at the last
 * doubling. x is clamped to [-40, 710]: e^x - 1 rounds to -1 below -37.5. Subnormal x are their
 * own result (h p would lose their last bit). */
#define VM_EXPM1_LO -40.0

VM_INLINE double vm_expm1(double x)
{
    double xc = x > VM_EXP_HI ? VM_EXP_HI : x;
    xc = xc < VM_EXPM1_LO ? VM_EXPM1_LO : xc;
    double k = VM_FMA(xc, VM_LOG2E, VM_SHIFT);
    double n = k - VM_SHIFT;
    double rh = VM_FMA(-n, VM_LN2_HI, xc); /* exact */
    double r = VM_FMA(-n, VM_LN2_LO, rh);
    double c = VM_FMA(-n, VM_LN2_LO, rh - r); /* r's rounding error; 0 when n = 0 */
    /* p = e^r - 1 as p + pl (|r| >= |w|), whose rounding the sum below would amplify when
     * 2^n p and 2^n - 1 nearly cancel. */
    double w = VM_FMA(vm_exp_q_(r), r * r, c);
    double p = r + w;
    double pl = (r - p) + w;
    double h = vm_from_bits((vm_bits(k) - vm_bits(VM_SHIFT) + 1022u) << 52);
    double y = 2.0 * VM_FMA(h, pl, VM_FMA(h, p, h - 0.5));
    return fabs(x) < 0x1p-54 ? x : y;
}

/* e^(a + b + c) for a + b + c >= -747, |b| <= 2 and |c| < 2^-30, with a - n ln2_hi exact (a
 * is x^2/2 for |x| < 40): as vm_exp, but a large a loses nothing to the rounding of a + b, and
 * the tiny c joins ln 2's tail. */
VM_INLINE double vm_exp_sum_(double a, double b, double c)
{
    double k = VM_FMA(a + b, VM_LOG2E, VM_SHIFT);
    double n = k - VM_SHIFT;
    double rh = VM_FMA(-n, VM_LN2_HI, a) + b;
    double r = rh + VM_FMA(-n, VM_LN2_LO, c);
    double h = 1.0 + r;
    double e = (1.0 - h) + r;
    double p = h + VM_FMA(vm_exp_q_(r), r * r, e);
    double s1, s2;
    vm_pow2_pair_(k, &s1, &s2);
    return p * s1 * s2;
}

/* The standard normal CDF N(x), with full relative accuracy in the lower tail (the result is
 * normal down to x = -37.5, 0 below -38.5) and absolute accuracy ~1e-16 elsewhere:
 *   N(-|x|) = erfc(z) / 2,  z = |x| / sqrt(2),  N(|x|) = 1 - N(-|x|),
 *   erfc(z) = t e^(-z^2 + P(t)),  t = 2 / (2 + z),
 * P of models/tools/ncdf_coeffs.py: its Chebyshev series (28 terms, truncation error 3e-18)
 * turned into a polynomial in u = 2t - 1 (well conditioned: the sum of |coefficients| is 1.46),
 * evaluated by Estrin's scheme, whose tree of short chains the out-of-order core overlaps
 * (Clenshaw's recurrence on the Chebyshev coefficients costs twice the operations in one long
 * chain). z^2 = x^2 / 2 is taken exactly, as a head and a tail (FMA, or Dekker's splitting
 * without it): its rounding alone would cost 1e-13 relative at x = -38. Within 8 ulp relative
 * for x <= 0 (tests/models/test_vmath.c).
 * |x| is clamped at 38.6, where N rounds to 0 or 1 already. */
#define VM_NCDF_CLAMP 38.6

VM_INLINE double vm_ncdf(double x)
{
    double a = fabs(x);
    a = a > VM_NCDF_CLAMP ? VM_NCDF_CLAMP : a;
    double t = 2.0 / VM_FMA(a, 0.70710678118654752440, 2.0);
    /* P(t) as a polynomial of degree 27 in u = 2t - 1, by Estrin's scheme. */
    double u = VM_FMA(2.0, t, -1.0);
    double u2 = u * u, u4 = u2 * u2, u8 = u4 * u4, u16 = u8 * u8;
    double p0 = VM_FMA(0.6726432239776567, u, -0.6717940840566923);
    double p1 = VM_FMA(-0.0468956102311753, u, 0.04734330684190443);
    double p2 = VM_FMA(0.008824938557060623, u, -0.009872689366389959);
    double p3 = VM_FMA(-0.002345812500482853, u, 0.001758933557799016);
    double p4 = VM_FMA(0.000673678795580235, u, -0.00014624686337800336);
    double p5 = VM_FMA(-0.0001743029472030762, u, -9.37350311709817e-05);
    double p6 = VM_FMA(3.17451797494374e-05, u, 7.14010141275703e-05);
    double p7 = VM_FMA(1.3772664134464417e-07, u, -3.0187884551394243e-05);
    double p8 = VM_FMA(-2.947986876998259e-06, u, 8.562623420121286e-06);
    double p9 = VM_FMA(1.2500276612569754e-06, u, -1.27231190486887e-06);
    double p10 = VM_FMA(-2.495832761719667e-07, u, -1.6849800720653297e-07);
    double p11 = VM_FMA(1.4448658046252676e-09, u, 1.5334345920908177e-07);
    double p12 = VM_FMA(1.1172352263623759e-08, u, -3.9171820510271855e-08);
    double p13 = VM_FMA(-1.8902306008944537e-09, u, 4.06088214696972e-09);
    double q0 = VM_FMA(p1, u2, p0), q1 = VM_FMA(p3, u2, p2), q2 = VM_FMA(p5, u2, p4);
    double q3 = VM_FMA(p7, u2, p6), q4 = VM_FMA(p9, u2, p8), q5 = VM_FMA(p11, u2, p10);
    double q6 = VM_FMA(p13, u2, p12);
    double r0 = VM_FMA(q1, u4, q0), r1 = VM_FMA(q3, u4, q2), r2 = VM_FMA(q5, u4, q4);
    double s0 = VM_FMA(r1, u8, r0), s1 = VM_FMA(q6, u8, r2);
    double p = VM_FMA(s1, u16, s0);
    /* a^2 / 2 = hi + lo exactly. */
    double hi = a * a;
#ifdef __FMA__
    double lo = fma(a, a, -hi);
#else
    double split = a * 134217729.0; /* 2^27 + 1 */
    double ah = split - (split - a), al = a - ah;
    double lo = ((ah * ah - hi) + 2.0 * ah * al) + al * al;
#endif
    double e = 0.5 * t * vm_exp_sum_(-0.5 * hi, p, -0.5 * lo);
    return x > 0.0 ? 1.0 - e : e;
}

#endif /* MDL_VMATH_H */
