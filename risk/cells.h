/*
 * cells.h - the arithmetic of a tile's cells over whole arrays: the grid's delta and gamma from
 * the two bumps' values, and the fixed-point conversion of xsum.h for the exact sums. One copy
 * per instruction-set level (kern_cells.c, compiled like the pricing kernels), chosen with the
 * pricing level; every copy gives the same bits (each operation is exact or correctly rounded,
 * with no contraction), so the level changes only the speed.
 */
#ifndef RSK_CELLS_H
#define RSK_CELLS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "xsum.h"

/* d[i] = (vp[i] - vm[i]) / h2 and g[i] = (vp[i] - 2 base[i] + vm[i]) / hh, for i < n: the
 * central differences of a bump h, with h2 = 2 h and hh = h h (as the reference forms them). */
typedef void (*rsk_greeks_fn)(size_t n, const double *restrict vp, const double *restrict vm,
                              const double *restrict base, double h2, double hh, double *restrict d,
                              double *restrict g);

/* rsk_xsum_from for x[0..n) at once, as the high and low 64-bit halves of each result
 * (rsk_xsum_join puts them together): the same bits as rsk_xsum_from for every term that
 * rsk_xsum_term_ok accepts, and 0 for the others. */
typedef void (*rsk_xsum_split_fn)(const double *restrict x, size_t n, int64_t *restrict hi,
                                  uint64_t *restrict lo);

typedef struct rsk_cells {
    rsk_greeks_fn greeks;
    rsk_xsum_split_fn split;
} rsk_cells;

/* The copies of level isa (the baseline's for a level this build has no copy of). */
const rsk_cells *rsk_cells_for(mdl_isa isa);

/* Each level's copies, defined by kern_cells.c as rsk_cells_<level>. */
extern const rsk_cells rsk_cells_baseline, rsk_cells_avx2, rsk_cells_avx512;

#endif /* RSK_CELLS_H */
