/*
 * baseline_omp.c - the naive OpenMP baseline (see baselines.h): `#pragma omp parallel for` over
 * positions, each position's grid revalued with the scalar reference models and libm. Built
 * with -fopenmp by benchmarks/bench.mk only; the library never uses OpenMP.
 */
#include <omp.h>
#include <stdlib.h>

#include "baselines.h"
#include "model.h"

#define BL_OMP_BUMP 1e-4

int bl_openmp(const dat_dataset *ds, int threads, bl_result *res)
{
    size_t n = ds->pos.n, F = ds->mkt.nfactors, work_len = bl_work_len(ds);
    rsk_states st;
    if (rsk_states_grid(&ds->mkt, BL_OMP_BUMP, &st) != RK_OK)
        return -1;
    double *delta = malloc(n * F * sizeof *delta);
    int failed = 0;
    if (delta == NULL) {
        rsk_states_free(&st);
        return -1;
    }
#pragma omp parallel num_threads(threads) reduction(| : failed)
    {
        double *work = malloc(work_len * sizeof *work);
        failed |= work == NULL;
#pragma omp for schedule(static)
        for (long i = 0; i < (long)n; i++)
            if (work != NULL)
                bl_position_deltas(ds, &st, (size_t)i, delta + (size_t)i * F, work, work_len);
        free(work);
    }
    int rc = failed ? -1 : bl_finish(ds, delta, res);
    free(delta);
    rsk_states_free(&st);
    return rc;
}
