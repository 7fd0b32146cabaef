/*
 * fuzz_run.h - what the data-set harnesses (fuzz_dataset.c, fuzz_builders.c) share: one
 * 1-thread engine for the whole process, and a small request on a data set that built, checked
 * for what the header promises of a result.
 *
 * A request runs under a deadline (FUZZ_DEADLINE_NS): an input may hold a CRR tree of a million
 * steps, legal and slow; the deadline is how a caller bounds that, and it is part of what is
 * fuzzed.
 */
#ifndef RK_FUZZ_RUN_H
#define RK_FUZZ_RUN_H

#include "fuzz.h"
#include "riskengine.h"

#define FUZZ_DEADLINE_NS INT64_C(100000000)

static inline rk_engine *fuzz_engine(void)
{
    static rk_engine *e;
    if (e == NULL) {
        rk_engine_config cfg;
        rk_engine_config_init(&cfg);
        cfg.threads = 1;
        cfg.no_pin = 1;
        char msg[256] = "";
        if (rk_engine_create(&cfg, &e, msg, sizeof msg) != RK_OK)
            fuzz_fail("engine: %s", msg);
    }
    return e;
}

/* Runs `measures` (RK_MEASURE_*) on pf and reads every number of the result. */
static inline void fuzz_request(rk_portfolio *pf, unsigned measures)
{
    rk_request *req = NULL;
    rk_status rc = rk_request_create(pf, &req);
    if (rc == RK_NO_MEMORY)
        return;
    if (rc != RK_OK)
        fuzz_fail("rk_request_create: %s", rk_strerror(rc));
    const rk_dataset *ds = rk_portfolio_dataset(pf);
    if (rk_dataset_scenarios(ds) == 0)
        measures &= ~(unsigned)RK_MEASURE_STRESS;
    if (rk_request_set_measures(req, measures) != RK_OK)
        fuzz_fail("rk_request_set_measures(%#x) refused", measures);
    rk_result *res = NULL;
    rc = rk_request_run(req, rk_deadline_in(FUZZ_DEADLINE_NS), &res);
    if (rc == RK_OK) {
        rk_status st = rk_result_status(res);
        if (st != RK_OK && st != RK_DEADLINE && st != RK_NO_MEMORY)
            fuzz_fail("result status %s", rk_strerror(st));
        size_t n = rk_result_positions(res), nb = rk_result_books(res);
        if (n != rk_dataset_positions(ds))
            fuzz_fail("result of %zu positions, data set of %zu", n, rk_dataset_positions(ds));
        for (size_t i = 0; i < n; i++) {
            double v;
            rk_status c = rk_result_value(res, i, &v);
            if (c == RK_OK && !(v - v == 0))
                fuzz_fail("position %zu: value %g reported OK", i, v);
        }
        for (size_t b = 0; b <= nb; b++) {
            rk_coverage cov;
            if (rk_result_coverage(res, RK_MEASURE_VALUES, b, &cov) == RK_OK &&
                (cov.cells_ok > cov.cells_requested || !(cov.coverage >= 0 && cov.coverage <= 1)))
                fuzz_fail("book %zu: coverage %g (%llu of %llu cells)", b, cov.coverage,
                          (unsigned long long)cov.cells_ok,
                          (unsigned long long)cov.cells_requested);
        }
        rk_result_destroy(res);
    } else if (rc != RK_NO_MEMORY && rc != RK_NOT_FOUND) {
        fuzz_fail("rk_request_run: %s", rk_strerror(rc));
    }
    rk_request_destroy(req);
}

#endif
