/*
 * baselines.h - the designs the engine is measured against, on the same W1 data in the same
 * run: the single-threaded reference evaluator (risk/reference.h), a naive OpenMP `parallel for`
 * over positions calling the scalar reference models with libm, and a thread-per-job design
 * (one thread spawned per block of positions, results gathered through a mutex-protected list,
 * the way goroutine-per-cell code reads in C).
 *
 * Each computes the W1 answer (the grid's deltas, per-book exposures, parametric VaR of the
 * TOTAL book) so that the benchmark can check it against the engine's before comparing times.
 */
#ifndef BENCH_BASELINES_H
#define BENCH_BASELINES_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "states.h"

/* The checked outcome of one W1 computation. */
typedef struct bl_result {
    double var_total;    /* parametric VaR(0.99, 1 day), TOTAL */
    double exposure_sum; /* sum over factors of the TOTAL exposure */
    uint64_t cells_ok;   /* grid cells with a finite delta */
} bl_result;

/* Deltas of position i on every factor of the grid states st (rsk_states_grid), scalar
 * reference models; writes F deltas (NaN when a price is not finite). work holds
 * mdl_work_needed(max steps) doubles. Returns the OK count. Any thread. */
size_t bl_position_deltas(const dat_dataset *ds, const rsk_states *st, size_t i, double *delta,
                          double *work, size_t work_len);
/* Doubles of model scratch any position of ds needs. */
size_t bl_work_len(const dat_dataset *ds);
/* Exposures per book from n x F deltas (plain sums in position order), then parametric VaR. */
int bl_finish(const dat_dataset *ds, const double *delta, bl_result *res);

/* The three baselines; each returns 0 on success. threads: workers to use (OpenMP threads;
 * ignored by the reference). block: positions per spawned thread. */
int bl_reference(const dat_dataset *ds, bl_result *res);
int bl_openmp(const dat_dataset *ds, int threads, bl_result *res);
int bl_thread_per_job(const dat_dataset *ds, size_t block, bl_result *res);

#endif /* BENCH_BASELINES_H */
