/*
 * xsum.h - exact, order-independent sums of doubles, for every aggregate the engine reports.
 *
 * Each term is converted to a signed fixed-point integer in units of 2^-64 (truncated toward
 * zero: an error below 5.5e-20 per term) and added into a 128-bit accumulator. Integer addition
 * is associative, so a sum does not depend on the order of its terms, on how rows were cut into
 * tiles, on which worker or process added them, or on how partial sums were combined: results
 * are bitwise identical for any thread count, topology, tile size or process count by
 * construction. The sum is rounded to double once, at the end.
 *
 * Range: a term must satisfy |x| < 2^62 (about 4.6e18); a sum of fewer than 2^64 such terms
 * cannot overflow. Larger terms are refused (xsum_term_ok) and reported as NUMERIC by callers:
 * no portfolio value comes near it.
 *
 * Why not the alternatives: summing doubles in a fixed order (chunk by chunk) makes the order
 * part of the data layout and forces every process boundary onto a chunk boundary; Kahan or
 * pairwise sums are accurate but still order-dependent; a full-range superaccumulator costs
 * tens of ns per term. This costs a few ns.
 */
#ifndef RSK_XSUM_H
#define RSK_XSUM_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

__extension__ typedef __int128 rsk_xsum;
__extension__ typedef unsigned __int128 rsk_xsum_bits; /* its bits, for rsk_xsum_join */

#define RSK_XSUM_LIMIT 0x1p62 /* |term| must be below this */

static inline bool rsk_xsum_term_ok(double x)
{
    return fabs(x) < RSK_XSUM_LIMIT;
}

/* x in units of 2^-64, truncated toward zero. x must pass rsk_xsum_term_ok.
 *
 * Without branches on the magnitude (deltas and P&L straddle every power of two, so a branch on
 * the exponent is mispredicted half the time in the grid's loop): with a = |x| < 2^62,
 * trunc(a 2^64) = i 2^64 + j 2^32 + k, where i = trunc(a), j = trunc((a - i) 2^32) and
 * k = trunc(((a - i) 2^32 - j) 2^32). Every step is exact in doubles (a fraction of a double,
 * and its products by powers of two, are doubles), and every truncation is one signed 64-bit
 * conversion (i < 2^62, j, k < 2^32), which the x86-64 baseline has. */
static inline rsk_xsum rsk_xsum_from(double x)
{
    double a = fabs(x);
    int64_t i = (int64_t)a;
    double f = (a - (double)i) * 0x1p32;
    int64_t j = (int64_t)f;
    int64_t k = (int64_t)((f - (double)j) * 0x1p32);
    rsk_xsum v = ((rsk_xsum)i << 64) + (rsk_xsum)((uint64_t)j << 32 | (uint64_t)k);
    return x < 0.0 ? -v : v;
}

/* A result of rsk_xsum_from from its high and low 64-bit halves (cells.h's array conversion
 * gives them so). */
static inline rsk_xsum rsk_xsum_join(int64_t hi, uint64_t lo)
{
    return (rsk_xsum)((rsk_xsum_bits)(uint64_t)hi << 64 | lo);
}

/* The sum as a double, rounded once. */
static inline double rsk_xsum_value(rsk_xsum s)
{
    return (double)s * 0x1p-64;
}

#endif /* RSK_XSUM_H */
