/*
 * vmath.h - elementary functions written for the kernels' block loops (kern.h): branch-free,
 * no table, no libm call, so that the compiler vectorises a loop that calls them at every
 * level, and the same bits come out on every CPU of one level.
 *
 * PLACEHOLDER BODIES: vm_log, vm_expm1 and vm_ncdf still call libm and are being replaced.
 */
#ifndef MDL_VMATH_H
#define MDL_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t vm_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline double vm_from_bits(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* e^x. */
static inline double vm_exp(double x)
{
    return exp(x);
}

/* ln x for x > 0. */
static inline double vm_log(double x)
{
    return log(x);
}

/* e^x - 1. */
static inline double vm_expm1(double x)
{
    return expm1(x);
}

/* The standard normal CDF N(x). */
static inline double vm_ncdf(double x)
{
    return 0.5 * erfc(-x * 0.70710678118654752440);
}

#endif /* MDL_VMATH_H */
