/*
 * w1_request.h - the one door through which the latency benchmarks send a W1 request (contract §6:
 * the sensitivity grid of a 10,000-position book plus parametric VaR) and wait for it.
 *
 * Everything the latency, deadline and cancellation measurements time goes through these four
 * calls. They drive the public C API (riskengine.h) as a client would: rk_request with
 * RK_MEASURE_GRID | RK_MEASURE_PARAMETRIC_VAR, rk_request_submit / rk_request_wait /
 * rk_request_cancel, and the rk_result_* accessors for coverage, exposures and the TOTAL VaR.
 * W1_LAYER names the layer in every result file.
 *
 * Threading: a w1_ctx is shared by any number of caller threads; a w1_request belongs to the
 * thread that started it, except w1_cancel(), which any thread may call until w1_free.
 */
#ifndef BENCH_W1_REQUEST_H
#define BENCH_W1_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"

#define W1_LAYER                                                                                   \
    "public C API (rk_request_submit/rk_request_wait, GRID|PARAMETRIC_VAR, rk_result_*)"

typedef struct w1_ctx w1_ctx;
typedef struct w1_request w1_request;

/* What a finished request reports. */
typedef struct w1_result {
    int status;           /* 0 = ran (possibly partial), else an rk_status of the request itself */
    double var_total;     /* parametric VaR(0.99, 1 day) of the TOTAL book over OK cells */
    double exposure_sum;  /* sum of the TOTAL exposures over all factors */
    uint64_t cells_ok, cells_requested; /* grid cells (position x factor) */
    int64_t engine_overshoot_ns;        /* the request's own overshoot figure
                                           (rk_timings.overshoot_ns: completion - deadline) */
} w1_result;

/* Opens a context on data set ds with an engine of `threads` workers (0 = one per allowed
 * core): the context loads ds's folder (ds->dir) through rk_dataset_load, so ds must have been
 * loaded from one. Returns NULL with a reason in msg. */
w1_ctx *w1_open(const dat_dataset *ds, size_t threads, char *msg, size_t msglen);
void w1_close(w1_ctx *c);
size_t w1_workers(const w1_ctx *c);
/* Grid cells of one request (for coverage). */
uint64_t w1_cells(const w1_ctx *c);

/* The grid's fast path (rk_request_set_reuse_unmoved) for the requests started from now on:
 * bitwise the same results, fewer revaluations. Off by default. */
void w1_set_reuse_unmoved(w1_ctx *c, bool on);

/* Starts a request with an absolute rk_now_ns() deadline (INT64_MAX = RK_DEADLINE_NONE = none).
 * NULL on failure. The caller must w1_wait() it exactly once, then w1_free() it. */
w1_request *w1_start(w1_ctx *c, int64_t deadline_ns);
/* Waits for the request to complete (rk_request_wait: past the deadline it stops the remaining
 * work itself) and fills *res. Once only. */
void w1_wait(w1_request *r, w1_result *res);
/* Asks the request to stop; returns at once. Any thread, until w1_free; harmless once the
 * request has completed. */
void w1_cancel(w1_request *r);
/* Frees a waited request (back to its context for reuse), after every thread that may cancel it
 * is done with it. NULL is harmless. */
void w1_free(w1_request *r);

#endif /* BENCH_W1_REQUEST_H */
