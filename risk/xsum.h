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

#define RSK_XSUM_LIMIT 0x1p62 /* |term| must be below this */

static inline bool rsk_xsum_term_ok(double x)
{
    return fabs(x) < RSK_XSUM_LIMIT;
}

/* x in units of 2^-64, truncated toward zero. x must pass rsk_xsum_term_ok. */
static inline rsk_xsum rsk_xsum_from(double x)
{
    /* x = m * 2^e exactly, m a 53-bit integer; the scaled value is m * 2^(e + 64). */
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int exp = (int)((bits >> 52) & 0x7ff);
    uint64_t mant = bits & ((UINT64_C(1) << 52) - 1);
    if (exp == 0) {
        return 0; /* zero or subnormal: far below 2^-64 */
    }
    mant |= UINT64_C(1) << 52;
    int shift = exp - 1075 + 64; /* x = mant * 2^(exp - 1075) */
    rsk_xsum v;
    if (shift >= 0)
        v = (rsk_xsum)mant << shift; /* shift <= 73 for |x| < 2^62: 126 bits */
    else if (shift > -64)
        v = (rsk_xsum)(mant >> -shift);
    else
        v = 0;
    return (bits >> 63) ? -v : v;
}

/* The sum as a double, rounded once. */
static inline double rsk_xsum_value(rsk_xsum s)
{
    return (double)s * 0x1p-64;
}

#endif /* RSK_XSUM_H */
