/*
 * bond.c - the contract's bond: coupons c/f paid at t_k = T - k/f > 0 (k = 0, 1, 2, ...) and the
 * principal at T, discounted at the continuously compounded yield y:
 *   price = sum_k (c/f) e^{-y t_k} + e^{-y T}.
 * mdl_bond is the reference and sums the cash flows one by one, exactly as written.
 * mdl_bond_closed is the closed form, in scalar code (the vector kernel in kern_linear.c
 * evaluates the same form in lanes): the coupon times form an arithmetic progression, so their
 * discount factors form a geometric series,
 *   sum_{k<n} e^{-y (T - k/f)} = e^{-y T} expm1(y n / f) / expm1(y / f),
 * which is well conditioned for small y thanks to expm1 (the ratio tends to n as y -> 0).
 * n must be the count of k with T - k/f > 0 as evaluated in floating point, which is what the
 * reference loop counts; mdl_bond_count finds it exactly.
 */
#include <math.h>

#include "internal.h"
#include "model.h"

double mdl_bond(double y, double T, double coupon, double freq)
{
    double cf = coupon / freq, sum = 0.0;
    for (double k = 0.0;; k += 1.0) {
        double t = T - k / freq;
        if (!(t > 0.0))
            break;
        sum += cf * exp(-y * t);
    }
    return sum + exp(-y * T);
}

double mdl_bond_count(double T, double freq)
{
    /* T f is within a few ulps of the exact boundary; the predicate T - k/f > 0 is monotone in
     * k, so step from the estimate to the first k where it fails. */
    double n = ceil(T * freq);
    if (!(n >= 1.0))
        n = 1.0; /* k = 0 always pays: T > 0 */
    while (T - n / freq > 0.0)
        n += 1.0;
    while (n > 1.0 && !(T - (n - 1.0) / freq > 0.0))
        n -= 1.0;
    return n;
}

double mdl_bond_closed(double y, double T, double coupon, double freq)
{
    double n = mdl_bond_count(T, freq);
    double g = expm1(y / freq);
    /* y/f rounds to 0 only for |y| below ~1e-308 f: then every discount factor is 1. */
    double ratio = g != 0.0 ? expm1(y * n / freq) / g : n;
    double df = exp(-y * T);
    return df * (1.0 + coupon / freq * ratio);
}
