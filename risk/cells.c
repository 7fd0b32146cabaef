/*
 * cells.c - which copy of cells.h's arithmetic (kern_cells.c) each instruction-set level uses.
 */
#include "cells.h"

const rsk_cells *rsk_cells_for(mdl_isa isa)
{
    switch (isa) {
#ifdef MDL_HAVE_X86_KERNELS
    case MDL_ISA_AVX2:
        return &rsk_cells_avx2;
    case MDL_ISA_AVX512:
        return &rsk_cells_avx512;
#endif
    default:
        return &rsk_cells_baseline;
    }
}
