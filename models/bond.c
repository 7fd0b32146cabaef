/*
 * bond.c - the contract's bond: coupons c/f paid at t_k = T - k/f > 0 (k = 0, 1, 2, ...) and the
 * principal at T, discounted at the continuously compounded yield y:
 *   price = sum_k (c/f) e^{-y t_k} + e^{-y T}.
 * mdl_bond is the reference and sums the cash flows one by one, exactly as written. The batch
 * kernel (kern_linear.c) uses the closed form instead: the coupon times form an arithmetic
 * progression, so their discount factors form a geometric series,
 *   sum_{k<n} e^{-y (T - k/f)} = e^{-y T} expm1(y n / f) / expm1(y / f),
 * well conditioned for small y thanks to expm1 (the ratio tends to n as y -> 0), with n the
 * count of k with T - k/f > 0 as this loop evaluates it in floating point. Both give NaN for
 * a frequency that is not positive or more than MDL_BOND_MAX_FLOWS cash flows.
 */
#include <math.h>

#include "model.h"

double mdl_bond(double y, double T, double coupon, double freq)
{
    /* The loop below cannot poll: past MDL_BOND_MAX_FLOWS it would run for seconds (and from
     * T f near 2^53 on, k += 1 stops moving k and it never ends). The loaders refuse such bonds
     * long before; a bond built around them gets NaN, a NUMERIC cell. */
    if (!(freq > 0.0) || !(T * freq <= MDL_BOND_MAX_FLOWS))
        return NAN;
    double cf = coupon / freq, sum = 0.0;
    for (double k = 0.0;; k += 1.0) {
        double t = T - k / freq;
        if (!(t > 0.0))
            break;
        sum += cf * exp(-y * t);
    }
    return sum + exp(-y * T);
}
