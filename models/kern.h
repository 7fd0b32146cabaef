/*
 * kern.h - what the kernel files (kern_*.c) share. Each kernel file is compiled once per
 * instruction-set level (model.h), with that level's flags and -DMDL_ISA_SUFFIX=<level>, so one
 * source gives one copy of every kernel per level; MDL_KERN(name) names the copy of this level
 * (name_avx2). table.c fills each level's table through that level's mdl_kern_fill_*.
 *
 * How a kernel is written. Inputs are read MDL_VB at a time into local arrays; a short last
 * block is padded with copies of its first item (valid inputs, so padding lanes compute
 * harmless numbers). Every per-item computation is a branch-free loop over the whole block (or,
 * in the american kernel, its first half, when that holds every item: kern_american.c), marked
 * MDL_SIMD so that the compiler vectorises it at the level's width (2, 4 or 8 doubles)
 * with no scalar remainder: each item goes through exactly the same instructions wherever it
 * sits in a batch, which keeps results bitwise reproducible across tiles, threads and
 * processes at one level. Items the vector path cannot price (rare domains) are marked in the
 * loop and priced afterwards by the scalar reference. No libm call inside a block loop: the
 * vector functions of vmath.h instead. No reduction across lanes (omp simd reductions reorder
 * sums).
 */
#ifndef MDL_KERN_H
#define MDL_KERN_H

#ifndef MDL_ISA_SUFFIX
#error "kern_*.c are compiled once per level: the Makefile passes -DMDL_ISA_SUFFIX=<level>"
#endif

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "model.h"
#include "vmath.h"

#define MDL_KERN_CAT2_(a, b) a##_##b
#define MDL_KERN_CAT_(a, b) MDL_KERN_CAT2_(a, b)
/* This level's copy of a kernel function. */
#define MDL_KERN(name) MDL_KERN_CAT_(name, MDL_ISA_SUFFIX)

/* Items per block: two vectors of the level's width or more, and small enough that a block of
 * the costliest closed form (Bjerksund-Stensland 2002: about 0.35 µs a price at AVX-512, 0.65
 * at AVX2, 2 at the baseline) stays under 10 µs between two polls. Fixed per level, so an
 * item's instructions do not depend on its place in a batch. */
#if defined(__AVX512F__)
#define MDL_VB 16
#elif defined(__AVX2__)
#define MDL_VB 8
#else
#define MDL_VB 4
#endif

/* The block loops: vectorised at the level's width (-fopenmp-simd honours the pragma alone,
 * with no OpenMP run time). */
#define MDL_SIMD _Pragma("omp simd")

/* dst[0..MDL_VB) = a[i0..i0+n), padded with a[i0] (n >= 1); zeros when a is NULL. */
static inline void mdl_block_load(double *restrict dst, const double *a, size_t i0, size_t n)
{
    for (size_t j = 0; j < MDL_VB; j++)
        dst[j] = a == NULL ? 0.0 : a[i0 + (j < n ? j : 0)];
}

/* This level's fills and its tree kernel (kern_crr.c, which the american kernel of the same
 * level calls) are declared for every level in internal.h, as mdl_kern_fill_linear_<level>
 * and so on; a kernel file defines its level's copy as MDL_KERN(name). */

#endif /* MDL_KERN_H */
