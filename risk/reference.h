/*
 * reference.h - the reference evaluator: contract §3 computed the plainest way, one position at a
 * time, single-threaded, with the models' scalar reference functions.
 *
 * It is the oracle the engine is tested against, so it shares nothing with the engine's path
 * beyond the scalar models and the output structures: it reads the data set in file order,
 * shocks the underlyings itself and never touches tiles, chunks' slot layout or batch entries.
 * Its sums are exact (xsum.h) like the engine's, so that aggregates too can be compared bit
 * for bit.
 */
#ifndef RSK_REFERENCE_H
#define RSK_REFERENCE_H

#include "dataset.h"
#include "eval.h"

/* Base values of every row (invalid rows: INVALID_INPUT, NaN). */
rk_status rsk_ref_values(const dat_dataset *ds, rsk_values *out);

/* The unit price of row i in the base market (NaN when not finite or out of memory): says
 * whether a non-finite value comes from the price or from quantity x price. */
double rsk_ref_unit_price(const dat_dataset *ds, size_t i);

/* The full-revaluation grid with bump h, using base values v. */
rk_status rsk_ref_grid(const dat_dataset *ds, double h, const rsk_values *v, rsk_grid *out);

/* Scenario P&L for nscen shocks (nscen x nfactors, row-major) against base values v. */
rk_status rsk_ref_pnl(const dat_dataset *ds, const double *shock, size_t nscen, const rsk_values *v,
                      rsk_pnl *out);

#endif /* RSK_REFERENCE_H */
