/**
 * @file riskengine.h
 * riskengine.h - the public interface of riskengine, the one header a client includes.
 *
 * This header is the contract: what is not declared here is not API. Every function says what
 * it does, who owns each pointer afterwards, which codes it returns and which threads may call
 * it. Public names start with rk_ / RK_. api/README.md is the guide; this is the reference.
 *
 * The objects, each an opaque handle with a create/destroy pair (destroy of NULL is harmless):
 *
 *   rk_engine     worker threads pinned to the machine's cores (NUMA aware); shared by
 *                 everything below; any number of threads submit to one engine.
 *   rk_dataset    factors, covariance, underlyings and positions: loaded from a folder of CSV
 *                 files or built in memory; read-only once a portfolio uses it.
 *   rk_portfolio  a data set laid out for an engine (node-local chunks), plus its live market:
 *                 underlying values and covariance that may be updated between and during
 *                 requests. Every update publishes a new immutable snapshot with a new version;
 *                 a request computes on the snapshot current when it was submitted.
 *   rk_request    what to compute (values, grid, parametric VaR, scenario P&L with VaR and
 *                 ES from Monte Carlo or historical scenarios, stress), run synchronously or
 *                 submitted and then waited for, with a deadline, cancellable, with an optional
 *                 completion callback. A request is reusable: submit it again once complete.
 *   rk_result     the numbers: per-cell values and codes, error records, per-book aggregates,
 *                 coverage, timings. Owned by the caller once taken; rk_result_destroy frees it.
 *   rk_whatif     candidate positions and their effect on each book's VaR/ES, evaluated against
 *                 the portfolio's warm cache of a complete result (rk_portfolio_warm), bitwise
 *                 what a full request with the candidates appended would return.
 *
 * Threads. There is no global mutable state: two engines never share anything. Each function
 * says who may call it; "any thread" means concurrently with any other call on other objects
 * and with the calls the function names. A handle must not be destroyed while another thread
 * uses it.
 *
 * Memory. Once warm (after the first few requests of a given shape), submitting, running,
 * waiting for, taking and destroying results of values/grid/parametric VaR requests, and
 * rk_portfolio_set_value(s), make no heap allocation on any thread: requests, results, market
 * snapshots and the engine's job records are recycled. Scenario requests (scenario VaR,
 * stress) allocate on first use and when their shape changes (scenario count, source); their
 * memory is bounded by the P&L they return (books x scenarios) plus one block of 64 scenarios'
 * market states, whatever the scenario count. A warm rk_whatif (rk_whatif_clear, _add of valid
 * candidates, _run, the accessors) makes no heap allocation either.
 */
#ifndef RISKENGINE_H
#define RISKENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rk_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RK_VERSION_MAJOR 0
#define RK_VERSION_MINOR 1
#define RK_VERSION_PATCH 0
#define RK_VERSION_STRING "0.1.0"

/* The library's version as "MAJOR.MINOR.PATCH"; static string. Any thread. */
RK_API const char *rk_version(void);

/* ---- time and deadlines ---- */

/** Deadlines and wait limits are absolute times in nanoseconds on CLOCK_MONOTONIC (the clock of
 * rk_now_ns()), never durations: a deadline does not drift when passed along. */
#define RK_DEADLINE_NONE INT64_MAX /**< "never": no deadline, or wait without limit */
#define RK_NO_WAIT INT64_C(0)       /**< as a wait limit: don't block, just look */

/** Now, in nanoseconds on CLOCK_MONOTONIC. Any thread. */
RK_API int64_t rk_now_ns(void);

/** The deadline `budget_ns` from now: rk_now_ns() + budget_ns, saturating at RK_DEADLINE_NONE;
 * a negative budget gives now (already expired). Any thread. */
RK_API int64_t rk_deadline_in(int64_t budget_ns);

/** No index: an error record's factor or scenario when not applicable. */
#define RK_NONE SIZE_MAX

/* ---- the engine ---- */

/** Worker threads and their pools; see the file comment. */
typedef struct rk_engine rk_engine;

/** Engine configuration. Initialise with rk_engine_config_init(), then change what you need;
 * fields added in later versions get defaults from the init function. */
/** Instruction-set level of the pricing kernels. Each level gives bitwise-reproducible results
 * on every CPU that runs it; between levels, prices may differ in the last bits (fused
 * multiply-adds, vector widths), within the models' tested tolerances. */
typedef enum rk_isa {
    RK_ISA_AUTO = 0,     /**< the best level this CPU supports (or the environment variable
                              RK_ISA, "baseline", "avx2" or "avx512", when it names a lower one) */
    RK_ISA_BASELINE = 1, /**< x86-64 baseline (SSE2); the portable build on other CPUs */
    RK_ISA_AVX2 = 2,     /**< AVX2 with FMA (x86-64-v3) */
    RK_ISA_AVX512 = 3,   /**< AVX-512 F/BW/CD/DQ/VL (x86-64-v4) */
} rk_isa;

/** The level's name ("auto", "baseline", "avx2", "avx512"); NULL for a value outside the enum.
 * Any thread. */
RK_API const char *rk_isa_name(rk_isa isa);

/** True when this build and CPU can run the level (RK_ISA_AUTO always). Any thread. */
RK_API bool rk_isa_supported(rk_isa isa);

typedef struct rk_engine_config {
    size_t threads;        /**< workers; 0 = one per allowed core (cpuset and cgroup quota) */
    const char *topology;  /**< NULL: this machine; else an hwloc synthetic description
                                ("node:2 core:4 pu:1") or the path of an hwloc XML file; copied */
    int no_pin;            /**< non-zero: do not bind workers or memory to cores and nodes */
    double tile_target_us; /**< wanted cost of one tile in µs; 0 = default (50) */
    rk_isa isa;            /**< pricing kernels' level; RK_ISA_AUTO (0, the default) = the best
                                this CPU supports */
} rk_engine_config;

/** Fills *cfg with the defaults. Any thread. */
RK_API void rk_engine_config_init(rk_engine_config *cfg);

/** Creates an engine and starts its workers (they sleep until work arrives). cfg may be NULL
 * (defaults). Returns RK_OK and *out; RK_BAD_ARGUMENT (out NULL, tile_target_us < 0, an isa
 * outside the enum or one this CPU cannot run, with the reason in msg), or
 * RK_INVALID_INPUT / RK_IO / RK_NO_MEMORY with a one-line reason in msg (msg may be NULL; at
 * most msglen bytes, NUL-terminated). A binding the system refuses is not an error. Free with
 * rk_engine_destroy(). Any thread. */
RK_API rk_status rk_engine_create(const rk_engine_config *cfg, rk_engine **out, char *msg,
                                  size_t msglen);

/** Stops the workers and frees the engine. Every portfolio on it must be destroyed first.
 * NULL is harmless. Owner only. */
RK_API void rk_engine_destroy(rk_engine *e);

/** Worker threads of the engine; 0 for NULL. Any thread. */
RK_API size_t rk_engine_workers(const rk_engine *e);

/** The level the engine prices at (never RK_ISA_AUTO); RK_ISA_AUTO for NULL. Any thread. */
RK_API rk_isa rk_engine_isa(const rk_engine *e);

/** Engine statistics (rk_engine_stats_get). Counters only grow. */
typedef struct rk_engine_stats {
    uint64_t requests_submitted; /**< rk_request submissions accepted */
    uint64_t requests_completed; /**< of those, complete */
    uint64_t requests_in_flight; /**< submitted and not yet complete */
    uint64_t deadline_misses;    /**< requests that completed after their deadline */
    uint64_t cancels;            /**< requests cancelled before completion */
    uint64_t tiles_done;         /**< tiles run or recorded by the workers */
    uint64_t channel_max;        /**< highest fan-in channel occupancy of any request */
    size_t workers;              /**< worker threads */
    /** Tiles that ran longer than their stall budget: 100 times the tile's estimated cost, and
     * at least 1 ms. Counted when the tile ends; a tile still running is in workers_stalled. */
    uint64_t stalls;
    /** Workers inside a tile past its stall budget right now (not a counter: it falls again
     * when the tile ends). */
    uint64_t workers_stalled;
} rk_engine_stats;

/** Fills *out with a snapshot of the engine's counters (each read atomically, not all at one
 * instant). RK_BAD_ARGUMENT when e or out is NULL. Any thread, any time. */
RK_API rk_status rk_engine_stats_get(const rk_engine *e, rk_engine_stats *out);

/** One worker's activity (rk_engine_worker_stats_get). */
typedef struct rk_worker_stats {
    unsigned node;        /**< NUMA node of the worker's pool */
    int bound;            /**< 1 when bound to its core as asked */
    uint64_t tiles;       /**< tiles it ran */
    uint64_t steals;      /**< of those, tiles of another node */
    uint64_t busy_ns;     /**< time spent running tiles */
    int64_t heartbeat_ns; /**< last time (rk_now_ns clock) it polled inside a tile (every poll,
                               about every 10 µs of work), took or finished one, or woke */
    int64_t tile_ns;      /**< how long it has been inside its current tile; 0 when idle */
    int64_t tile_budget_ns; /**< the current tile's stall budget (rk_engine_stats::stalls); 0
                                 when idle */
    bool stalled;         /**< inside its current tile for longer than the budget */
} rk_worker_stats;

/** Fills *out for worker `worker` (0 .. rk_engine_workers()-1). RK_BAD_ARGUMENT for NULL, or
 * RK_NOT_FOUND for an unknown worker. Any thread, any time. */
RK_API rk_status rk_engine_worker_stats_get(const rk_engine *e, size_t worker,
                                            rk_worker_stats *out);

/* ---- data sets ---- */

/** Factors, covariance, underlyings and positions (contract §1, §2). */
typedef struct rk_dataset rk_dataset;

/** Kinds of underlying. */
typedef enum rk_underlying_kind {
    RK_UNDERLYING_SPOT, /**< equity, FX, commodity: x' = x exp(beta . df); value > 0 */
    RK_UNDERLYING_RATE, /**< continuously-compounded rate: x' = x + beta . df */
    RK_UNDERLYING_VOL   /**< implied volatility: x' = x exp(beta . df); value > 0 */
} rk_underlying_kind;

/** Loads the data set in folder dir (factors.csv, covariance.csv, underlyings.csv,
 * positions.csv; contract §5). Invalid positions are kept, marked INVALID_INPUT, each with one
 * error record (rk_dataset_error). Returns RK_OK and *out; RK_BAD_ARGUMENT for NULL dir or out;
 * RK_INVALID_INPUT or RK_IO for a file-level problem, with "file:line:col: reason" in msg (may
 * be NULL). Free with rk_dataset_destroy(). Any thread. */
RK_API rk_status rk_dataset_load(const char *dir, rk_dataset **out, char *msg, size_t msglen);

/** Creates an empty data set to build in memory, in this order: factors, then covariance and
 * underlyings, then positions. Returns RK_OK and *out, RK_BAD_ARGUMENT, or RK_NO_MEMORY. Free
 * with rk_dataset_destroy(). Any thread. */
RK_API rk_status rk_dataset_create(rk_dataset **out);

/** Frees the data set. Every portfolio using it must be destroyed first. NULL is harmless.
 * Owner only. */
RK_API void rk_dataset_destroy(rk_dataset *ds);

/*
 * Building. The rk_dataset_add_* and _set_ functions copy their arguments (strings included).
 * They return RK_BAD_ARGUMENT for NULL or malformed arguments (nothing stored), RK_BUSY once a
 * portfolio has been created on the data set (it is then read-only), RK_NO_MEMORY. Owner only:
 * one thread at a time per data set.
 */

/** Appends factor `name` (unique). Only before any underlying or covariance is set. *index
 * (may be NULL) receives its index. */
RK_API rk_status rk_dataset_add_factor(rk_dataset *ds, const char *name, size_t *index);

/** Sets the daily covariance: nfactors x nfactors, row-major; nfactors must equal the factor
 * count. The rule is covariance.csv's (else RK_INVALID_INPUT): every entry finite, every
 * variance > 0, symmetric within |a_ij - a_ji| <= 1e-12 sqrt(a_ii a_jj) (the stored copy is
 * the exactly symmetric average), positive definite. */
RK_API rk_status rk_dataset_set_covariance(rk_dataset *ds, const double *cov, size_t nfactors);

/** Appends underlying `name` (unique) of the given kind and base value with its loadings
 * (nloadings must equal the factor count; loadings may be NULL when it is 0). A spot or vol
 * value must be finite and > 0, a rate finite. *index (may be NULL) receives its index. */
RK_API rk_status rk_dataset_add_underlying(rk_dataset *ds, const char *name,
                                           rk_underlying_kind kind, double value,
                                           const double *loadings, size_t nloadings,
                                           size_t *index);

/** One position, as a row of positions.csv (contract §2). Initialise with rk_position_init(): it
 * sets every number to NaN ("empty cell"; dividend and coupon to 0) and every name to NULL. */
typedef struct rk_position {
    const char *id;         /**< unique, required */
    const char *book;       /**< required (NULL or "" makes the position invalid) */
    const char *instrument; /**< "spot", "forward", "european_call", "european_put",
                                 "american_call", "american_put", "bond" */
    double quantity;
    const char *underlying; /**< spot underlying (rate underlying for bonds) */
    double strike, expiry;
    const char *rate;       /**< rate underlying, or NULL to use rate_literal */
    double rate_literal;
    const char *vol;        /**< vol underlying, or NULL to use vol_literal */
    double vol_literal;
    double dividend, coupon, frequency;
    unsigned steps;         /**< american: 0 = Bjerksund-Stensland 2002, n > 0 = CRR tree */
} rk_position;

/** Fills *p with "empty" (see rk_position). Any thread. */
RK_API void rk_position_init(rk_position *p);

/** Appends a position and validates it exactly as the loader does. Returns RK_OK when stored
 * and valid; RK_INVALID_INPUT when stored but invalid (it is then excluded from every measure
 * and has one error record, rk_dataset_error); RK_BAD_ARGUMENT when not stored (NULL p or id,
 * duplicate id). *index (may be NULL) receives the row. */
RK_API rk_status rk_dataset_add_position(rk_dataset *ds, const rk_position *p, size_t *index);

/** Sizes; 0 for NULL. Any thread once built (read-only). */
RK_API size_t rk_dataset_factors(const rk_dataset *ds);
RK_API size_t rk_dataset_underlyings(const rk_dataset *ds);
RK_API size_t rk_dataset_positions(const rk_dataset *ds);
RK_API size_t rk_dataset_books(const rk_dataset *ds);

/** Names by index, owned by the data set (valid until it is destroyed); NULL when out of
 * range. Any thread once built. */
RK_API const char *rk_dataset_factor_name(const rk_dataset *ds, size_t factor);
RK_API const char *rk_dataset_underlying_name(const rk_dataset *ds, size_t underlying);
RK_API const char *rk_dataset_position_id(const rk_dataset *ds, size_t position);
RK_API const char *rk_dataset_book_name(const rk_dataset *ds, size_t book);

/** Kind and base value (as loaded or added) of an underlying: RK_OK, RK_NOT_FOUND for an
 * unknown index, RK_BAD_ARGUMENT for NULL ds. kind and value may be NULL. Any thread once
 * built. The live value is the portfolio's (rk_portfolio_set_value). */
RK_API rk_status rk_dataset_underlying(const rk_dataset *ds, size_t underlying,
                                       rk_underlying_kind *kind, double *value);

/** Index of an underlying by name: RK_OK and *index, RK_NOT_FOUND, or RK_BAD_ARGUMENT. */
RK_API rk_status rk_dataset_find_underlying(const rk_dataset *ds, const char *name,
                                            size_t *index);

/** An error record: a position-level problem, or one cell of a result. */
typedef struct rk_error_info {
    size_t position;     /**< row, or RK_NONE when not about a position */
    size_t factor;       /**< grid cell's factor, or RK_NONE */
    size_t scenario;     /**< scenario, or RK_NONE */
    rk_status code;      /**< never RK_OK */
    const char *message; /**< one line, owned by the data set or static */
    unsigned measure;    /**< RK_MEASURE_* the record belongs to; 0 for position-level records
                              (load, validation, base value) */
} rk_error_info;

/** Load and validation records, in file order. */
RK_API size_t rk_dataset_error_count(const rk_dataset *ds);
/** Fills *out with record k: RK_OK, RK_NOT_FOUND past the end, RK_BAD_ARGUMENT for NULL. */
RK_API rk_status rk_dataset_error(const rk_dataset *ds, size_t k, rk_error_info *out);

/** Scenarios of the data set's scenarios.csv (historical and stress, as loaded); 0 when it has
 * none or for NULL. Any thread once built. */
RK_API size_t rk_dataset_scenarios(const rk_dataset *ds);
/** Name of scenario `scenario` (row of scenarios.csv), owned by the data set; NULL when out of
 * range. Any thread once built. */
RK_API const char *rk_dataset_scenario_name(const rk_dataset *ds, size_t scenario);
/** Index of a scenario by name (the first row with that name): RK_OK and *index, RK_NOT_FOUND,
 * or RK_BAD_ARGUMENT for NULL. Any thread once built. */
RK_API rk_status rk_dataset_find_scenario(const rk_dataset *ds, const char *name, size_t *index);

/* ---- portfolios and their live market ---- */

/** A data set bound to an engine, with its live market; see the file comment. */
typedef struct rk_portfolio rk_portfolio;

/** Lays out ds's valid positions for engine e (node-local chunks) and takes ds's underlying
 * values and covariance as market version 1. ds becomes read-only; e and ds must outlive the
 * portfolio. Returns RK_OK and *out, RK_BAD_ARGUMENT (NULL, or ds has no covariance while it
 * has factors), RK_NO_MEMORY. Free with rk_portfolio_destroy(). Any thread; several portfolios
 * may share one data set and one engine. */
RK_API rk_status rk_portfolio_create(rk_engine *e, rk_dataset *ds, rk_portfolio **out);

/** Frees the portfolio. Every request and result on it must be destroyed first. NULL is
 * harmless. Owner only. */
RK_API void rk_portfolio_destroy(rk_portfolio *pf);

/** Sets underlying `underlying`'s value (copy-on-write: a new snapshot is published at once,
 * atomically; requests already submitted keep theirs). Returns RK_OK; RK_NOT_FOUND for an
 * unknown index; RK_BAD_ARGUMENT for NULL or an invalid value (non-finite; <= 0 for spot and
 * vol). Any thread, concurrently with requests and other updates (updates are serialised). */
RK_API rk_status rk_portfolio_set_value(rk_portfolio *pf, size_t underlying, double value);

/** Sets the values of underlyings [first, first + n) in one snapshot: all or nothing (errors as
 * rk_portfolio_set_value; RK_NOT_FOUND when the range is out of bounds). Any thread. */
RK_API rk_status rk_portfolio_set_values(rk_portfolio *pf, size_t first, size_t n,
                                         const double *values);

/** Replaces the covariance (same rule and symmetrised copy as rk_dataset_set_covariance) in a
 * new snapshot. RK_INVALID_INPUT when the rule is not met, RK_BAD_ARGUMENT for NULL or a wrong
 * size, RK_NO_MEMORY.
 * Allocates scratch for the check. Any thread. */
RK_API rk_status rk_portfolio_set_covariance(rk_portfolio *pf, const double *cov,
                                             size_t nfactors);

/** The version of the current market snapshot: 1 at creation, +1 per successful update. 0 for
 * NULL. Any thread. */
RK_API uint64_t rk_portfolio_market_version(const rk_portfolio *pf);

/** The portfolio's data set (borrowed). Any thread. */
RK_API const rk_dataset *rk_portfolio_dataset(const rk_portfolio *pf);

/* ---- requests ---- */

/** What a request computes: a set of RK_MEASURE_* bits. Each implies those it needs (the grid
 * needs base values; parametric VaR needs the grid's exposures; scenario P&L needs base
 * values). Stages run in this order: values, grid, scenario VaR, stress. */
enum {
    RK_MEASURE_VALUES = 1u << 0,         /**< base value of every position */
    RK_MEASURE_GRID = 1u << 1,           /**< delta and gamma per (position, factor), full
                                              revaluation, and per-book exposures */
    RK_MEASURE_PARAMETRIC_VAR = 1u << 2, /**< delta-normal VaR per book, Euler contributions */
    RK_MEASURE_SCENARIO_VAR = 1u << 3,   /**< P&L per book and scenario by full revaluation,
                                              VaR and ES per book; scenarios from Monte Carlo
                                              (default, rk_request_set_scenarios) or from
                                              scenarios.csv (rk_request_set_historical) */
    RK_MEASURE_STRESS = 1u << 4          /**< P&L per book of each scenario of scenarios.csv */
};

/** Most Monte Carlo scenarios one request may ask for (rk_request_set_scenarios). */
#define RK_SCENARIOS_MAX ((size_t)1 << 24)

typedef struct rk_request rk_request;
typedef struct rk_result rk_result;

/** Completion callback: called exactly once per submission, after the result is complete, on
 * an engine worker or on the thread that waited for or cancelled the request. `res` is readable
 * during the call only (take it afterwards with rk_request_take_result). It must return
 * promptly, must not block, and must not call rk_request_* on `req` or destroy anything. */
typedef void (*rk_request_done_fn)(rk_request *req, const rk_result *res, void *arg);

/** Creates a request on portfolio pf, computing values, grid and parametric VaR with the
 * defaults (bump 1e-4, confidence 0.99, ES confidence 0.975, horizon 1 day; for scenario VaR,
 * 1000 Monte Carlo scenarios with seed 1, as the riskengine program). Returns RK_OK and *out,
 * RK_BAD_ARGUMENT, RK_NO_MEMORY. Free with rk_request_destroy(). Any thread. */
RK_API rk_status rk_request_create(rk_portfolio *pf, rk_request **out);

/** Cancels the request if it is running, waits for it, frees it and a result not taken. NULL
 * is harmless. Owner only; no other call on the request may be in progress. */
RK_API void rk_request_destroy(rk_request *req);

/*
 * Options. Each returns RK_OK, RK_BAD_ARGUMENT (NULL, or a value out of range), or RK_BUSY while
 * the request is running (nothing changed then). They apply to the next submission. Owner only.
 */
/** measures: RK_MEASURE_* bits, at least one, no unknown bit. RK_NOT_FOUND when they need
 * scenarios.csv (RK_MEASURE_STRESS, or RK_MEASURE_SCENARIO_VAR with the historical source) and
 * the portfolio's data set has none. */
RK_API rk_status rk_request_set_measures(rk_request *req, unsigned measures);
/** The range of the grid bump: outside it the bumped states or h^2 leave the doubles' useful
 * range (h = 1e-300 makes every gamma infinite) or the bump is no longer a small move. */
#define RK_BUMP_MIN 1e-8
#define RK_BUMP_MAX 1.0
/** Grid bump h in factor units, in [RK_BUMP_MIN, RK_BUMP_MAX] (default 1e-4); RK_BAD_ARGUMENT
 * otherwise. */
RK_API rk_status rk_request_set_bump(rk_request *req, double h);
/** VaR confidence alpha in (0, 1) (default 0.99), for parametric and scenario VaR. */
RK_API rk_status rk_request_set_confidence(rk_request *req, double alpha);
/** Expected-shortfall confidence alpha in (0, 1) (default 0.975), for scenario VaR. */
RK_API rk_status rk_request_set_es_confidence(rk_request *req, double alpha);
/** VaR horizon in days, finite and > 0 (default 1): scales parametric VaR and Monte Carlo
 * shocks by sqrt(days); historical and stress scenarios are used as given. */
RK_API rk_status rk_request_set_horizon(rk_request *req, double days);
/** Scenario VaR from n Monte Carlo scenarios (1 <= n <= RK_SCENARIOS_MAX; every seed is valid):
 * shock_s = sqrt(horizon) L z_s with L = chol(covariance of the request's market snapshot) and
 * z_s standard normals keyed by (seed, s), so scenario s is the same whoever computes it. The
 * factor L is cached per covariance: market updates of values only reuse it. The numbers equal
 * bitwise those of `riskengine var --method mc` for the same data and settings. */
RK_API rk_status rk_request_set_scenarios(rk_request *req, size_t n, uint64_t seed);
/** Scenario VaR from the scenarios of the data set's scenarios.csv, used as given (shocks are
 * not scaled by the horizon), as `riskengine var --method historical`. RK_NOT_FOUND when the
 * data set has no scenarios. rk_request_set_scenarios() switches back to Monte Carlo. */
RK_API rk_status rk_request_set_historical(rk_request *req);
/** The grid's fast path, off by default: where a bump moves none of a position's inputs (no
 * underlying of the position loads on the bumped factor), its base value is taken instead of
 * revaluing. The results are bitwise those of full revaluation (a model is a pure function of
 * its inputs); only the work differs. RK_BUSY while the request runs. */
RK_API rk_status rk_request_set_reuse_unmoved(rk_request *req, bool on);
/** Completion callback (NULL: none) and its argument. */
RK_API rk_status rk_request_set_callback(rk_request *req, rk_request_done_fn fn, void *arg);

/** Submits the request and returns at once. It computes on the market snapshot current now.
 * deadline: absolute rk_now_ns() time, or RK_DEADLINE_NONE. Work not done by the deadline is
 * marked RK_DEADLINE in the result (and the request completes within a small overshoot of it).
 * A result from a previous submission that was not taken is recycled. Returns RK_OK;
 * RK_BAD_ARGUMENT (NULL); RK_BUSY when already running; RK_NO_MEMORY; for scenario measures
 * also RK_NOT_FOUND (no scenarios.csv) and RK_NUMERIC (the covariance has no Cholesky factor).
 * Scenario measures allocate here on first use (see the file comment). Owner only. */
RK_API rk_status rk_request_submit(rk_request *req, int64_t deadline);

/** Waits until the request is complete or until the absolute time `until` (RK_DEADLINE_NONE:
 * no limit; RK_NO_WAIT: don't block). Past the request's deadline it stops the remaining work
 * itself, so the request completes promptly even when the workers are busy. Returns RK_OK when
 * complete (the completion callback has returned), RK_TIMEOUT otherwise, RK_BAD_ARGUMENT for
 * NULL or a request never submitted. Any thread; one waiter at a time. */
RK_API rk_status rk_request_wait(rk_request *req, int64_t until);

/** Asks a running request to stop: work not started is marked RK_CANCELLED, running work stops
 * at its next check (tens of µs); completion follows promptly. Harmless when not running.
 * Returns RK_OK or RK_BAD_ARGUMENT (NULL). Any thread, concurrently with wait, submit and
 * take_result on the same request; not with its destroy. */
RK_API rk_status rk_request_cancel(rk_request *req);

/** True when the request was submitted and is complete. Any thread. */
RK_API bool rk_request_done(const rk_request *req);

/** Hands over the result of the last submission: RK_OK and *out (the caller now owns it; free
 * with rk_result_destroy), RK_BUSY while running, RK_NOT_FOUND when there is none (never
 * submitted, or already taken), RK_BAD_ARGUMENT for NULL. Owner only. */
RK_API rk_status rk_request_take_result(rk_request *req, rk_result **out);

/** Synchronous form: submit, wait without limit (the deadline still bounds it), take the
 * result. Returns as rk_request_submit, and then RK_OK with *out. Owner only. */
RK_API rk_status rk_request_run(rk_request *req, int64_t deadline, rk_result **out);

/* ---- results ---- */

/** Frees a result (recycled into its portfolio's pool). NULL is harmless. Owner only; any
 * thread. Must happen before the portfolio is destroyed. */
RK_API void rk_result_destroy(rk_result *res);

/** How the request ended: RK_OK when every measure ran to the end (individual cells may still
 * carry INVALID_INPUT or NUMERIC); RK_DEADLINE or RK_CANCELLED when work was cut short (the
 * result is partial: see coverage); another code when it could not run (e.g. RK_NO_MEMORY). */
RK_API rk_status rk_result_status(const rk_result *res);

/** The market snapshot version the result was computed on (rk_portfolio_market_version at
 * submission). */
RK_API uint64_t rk_result_market_version(const rk_result *res);

/** The measures computed (RK_MEASURE_* bits, implied ones included). */
RK_API unsigned rk_result_measures(const rk_result *res);

/** Sizes (as the portfolio's data set); 0 for NULL. */
RK_API size_t rk_result_positions(const rk_result *res);
RK_API size_t rk_result_factors(const rk_result *res);
/** Books; book index rk_result_books(res) is the portfolio TOTAL in per-book accessors. */
RK_API size_t rk_result_books(const rk_result *res);

/*
 * Cell accessors return the cell's code: RK_OK (and the numbers), or its error (INVALID_INPUT,
 * NUMERIC, DEADLINE, CANCELLED; numbers NaN). RK_BAD_ARGUMENT for NULL or an index out of
 * range, RK_NOT_FOUND when the measure was not computed. Any thread (a result is read-only);
 * out-pointers may be NULL.
 */
RK_API rk_status rk_result_value(const rk_result *res, size_t position, double *value);
RK_API rk_status rk_result_sensitivity(const rk_result *res, size_t position, size_t factor,
                                       double *delta, double *gamma);

/*
 * Aggregates, per book (TOTAL = rk_result_books(res)); sums of the OK cells only (see
 * coverage). RK_OK, RK_BAD_ARGUMENT, RK_NOT_FOUND as above.
 */
/** Sum of OK deltas of the book's positions on factor `factor`. */
RK_API rk_status rk_result_exposure(const rk_result *res, size_t book, size_t factor,
                                    double *exposure);
/** Standalone delta-normal VaR of the book and its Euler contribution to the TOTAL VaR (the
 * contributions add up to the TOTAL). */
RK_API rk_status rk_result_parametric_var(const rk_result *res, size_t book, double *var,
                                          double *contribution);

/** Coverage of one measure for one book: cells finished OK / cells requested, where requested
 * counts every position of the book, valid or not (for scenario measures, x scenarios). */
typedef struct rk_coverage {
    uint64_t cells_requested, cells_ok;
    double coverage; /**< cells_ok / cells_requested, 1 when nothing was requested */
} rk_coverage;
/** measure: RK_MEASURE_VALUES, RK_MEASURE_GRID (parametric VaR covers what the grid does),
 * RK_MEASURE_SCENARIO_VAR or RK_MEASURE_STRESS. */
RK_API rk_status rk_result_coverage(const rk_result *res, unsigned measure, size_t book,
                                    rk_coverage *out);

/*
 * Scenario measures. P&L cells are (position, scenario); per-book P&L sums the OK cells of each
 * scenario exactly and rounds once, so it does not depend on threads or deadlines (a deadline
 * only decides which cells are present). VaR and ES are computed over every scenario's P&L as
 * summed (contract §3: k = max(1, ceil(S (1 - alpha))) largest losses): with coverage below 1 they
 * describe the OK cells only. Codes as for the aggregates above; RK_NOT_FOUND when the measure
 * was not requested.
 */
/** Scenarios of a scenario measure in this result (RK_MEASURE_SCENARIO_VAR: the Monte Carlo
 * count or the file's; RK_MEASURE_STRESS: the file's); 0 when not computed or for NULL. */
RK_API size_t rk_result_scenarios(const rk_result *res, unsigned measure);
/** P&L of book `book` (TOTAL = rk_result_books) in scenario `scenario` of the scenario VaR set. */
RK_API rk_status rk_result_scenario_pnl(const rk_result *res, size_t book, size_t scenario,
                                        double *pnl);
/** Scenario VaR (at the request's confidence) and ES (at its ES confidence) of book `book`, as
 * positive losses. */
RK_API rk_status rk_result_scenario_var(const rk_result *res, size_t book, double *var,
                                        double *es);
/** Component and incremental risk of the scenario VaR set, for book `book` (TOTAL =
 * rk_result_books): var_contribution, its Euler contribution to the TOTAL's VaR (minus its P&L
 * in the scenario whose TOTAL loss is the VaR: the k-th largest, ties by scenario index);
 * es_contribution, its contribution to the TOTAL's ES (minus its mean P&L over the k_ES
 * scenarios of largest TOTAL loss); incremental_var, the TOTAL's VaR minus the VaR of the TOTAL
 * without the book. Each comes from the exact per-book sums, which add up to the TOTAL's
 * exactly, and is rounded once: the contributions add up to the TOTAL's (for the TOTAL:
 * var_contribution is its VaR, es_contribution its tail mean, incremental_var its VaR) up to
 * that rounding. Pointers may be NULL. Codes as rk_result_scenario_var. */
RK_API rk_status rk_result_scenario_contribution(const rk_result *res, size_t book,
                                                 double *var_contribution, double *es_contribution,
                                                 double *incremental_var);
/** Per-position Euler contributions to the TOTAL's scenario VaR and ES, into the caller's
 * arrays of n = rk_result_positions(res) doubles: var_contribution[i], minus position i's P&L
 * in the VaR scenario; es_contribution[i], minus its mean P&L over the ES tail (the scenarios
 * ranked as for rk_result_scenario_contribution). NaN for a position whose base value is not
 * OK; 0 for a cell that was not finite (it is left out of the sums too). A book's positions'
 * contributions are the terms of its exact sums, so they add up to the book's contribution
 * (rk_result_scenario_contribution) exactly before rounding. The result keeps only per-book
 * P&L, so this revalues every position in the tail scenarios (max(k_VaR, k_ES) of them: 25 for
 * 1000 scenarios at 0.99/0.975) on the portfolio's engine, in the result's market: it
 * allocates and takes that long. Codes as rk_result_scenario_var, RK_BAD_ARGUMENT for a NULL
 * array or a wrong n, RK_NO_MEMORY. Any thread (the result is not changed). */
RK_API rk_status rk_result_position_contributions(const rk_result *res, double *var_contribution,
                                                  double *es_contribution, size_t n);
/** Stress P&L of book `book` in scenario `scenario` (the row of scenarios.csv; find it by name
 * with rk_dataset_find_scenario) and the coverage of that (scenario, book): OK positions / the
 * book's positions. cov may be NULL. */
RK_API rk_status rk_result_stress(const rk_result *res, size_t scenario, size_t book,
                                  double *pnl, rk_coverage *cov);

/** Iterates over the result's error records: position-level ones first (one per position whose
 * base value is not OK), then grid cells that are not OK in positions whose base value is, then
 * per position and scenario measure (scenario VaR, then stress) at most two records: NUMERIC
 * when its value was not finite in some scenarios (`scenario` = the first such), and DEADLINE
 * or CANCELLED when some of its scenarios were never computed (`scenario` = RK_NONE); the
 * record's `measure` says which measure.
 * Start with *cursor = 0; each call fills *out and returns true, or returns false at the end.
 * Makes no allocation. Any thread. */
RK_API bool rk_result_next_error(const rk_result *res, size_t *cursor, rk_error_info *out);

/** Timings and engine figures of a request (all times on the rk_now_ns clock). */
typedef struct rk_timings {
    int64_t submitted_ns;  /**< rk_request_submit accepted it */
    int64_t completed_ns;  /**< its last measure finished */
    int64_t deadline_ns;   /**< as submitted, or RK_DEADLINE_NONE */
    int64_t overshoot_ns;  /**< completed - deadline when later than the deadline, else 0 */
    int64_t values_ns;     /**< time in the values stage */
    int64_t grid_ns;       /**< time in the grid stage (0 when not run) */
    int64_t var_ns;        /**< time in parametric VaR (0 when not run) */
    uint64_t tiles, tiles_ok; /**< engine tiles of all stages, and those that finished */
    uint64_t channel_max;  /**< highest fan-in channel occupancy in any stage */
    int64_t scenarios_ns;  /**< time in the scenario stages, P&L blocks and VaR/ES (0 when not
                                run) */
} rk_timings;
RK_API rk_status rk_result_timings(const rk_result *res, rk_timings *out);

/* ---- pre-trade what-if ---- */

/*
 * A what-if answers "what does this trade do to my book's risk?" against a warm cache of the
 * portfolio instead of a new request over every position. The cache holds what one complete
 * result held, pinned to that result's market snapshot: the grid and scenario market states,
 * the per-book exposures and the per-book per-scenario P&L as exact sums, and the figures. A
 * what-if prices only its candidate positions, in those states, with the portfolio's kernels
 * (its engine's instruction-set level), adds their terms to the exact sums and takes the
 * measures with the functions a request uses: every "after" figure equals bitwise what a full
 * request with the same settings returns on the data set with the candidates appended to its
 * positions (positions.csv), new books included.
 *
 * Memory of a cache: the grid states ((1 + 2F) x underlyings doubles), the scenario states
 * (scenarios x underlyings doubles: 16 MB for 1000 scenarios of 2000 underlyings), the sums
 * ((books + 1) x (F + scenarios) x 16 bytes) and a table of the positions' ids.
 */

/** A set of candidate positions and its answers, against one portfolio's warm cache. */
typedef struct rk_whatif rk_whatif;

/** Makes the portfolio's warm cache from `res`, a complete result of a request on pf (status
 * RK_OK) that computed parametric VaR and/or scenario VaR; what-ifs use it from now on (one
 * still running keeps the one it started with). The cache is pinned to the result's market
 * snapshot and settings (bump, confidences, horizon, the scenario set: when the result has both,
 * parametric VaR and scenario VaR are both cached). res stays the caller's. Returns RK_OK;
 * RK_BAD_ARGUMENT (NULL, a result of another portfolio, or one without those measures or not
 * complete with RK_OK); RK_NO_MEMORY. Allocates. Any thread. */
RK_API rk_status rk_portfolio_warm(rk_portfolio *pf, const rk_result *res);

/** The market version of the portfolio's warm cache; 0 when it has none (or pf is NULL). Any
 * thread. */
RK_API uint64_t rk_portfolio_warm_version(const rk_portfolio *pf);

/** Creates an empty what-if on pf. Returns RK_OK and *out, RK_BAD_ARGUMENT, RK_NO_MEMORY. Free
 * with rk_whatif_destroy() before the portfolio. Any thread. */
RK_API rk_status rk_whatif_create(rk_portfolio *pf, rk_whatif **out);

/** Frees the what-if (and its reference to a cache). NULL is harmless. Owner only. */
RK_API void rk_whatif_destroy(rk_whatif *w);

/** Removes every candidate (the answers go too). RK_OK, RK_BAD_ARGUMENT for NULL. Owner only. */
RK_API rk_status rk_whatif_clear(rk_whatif *w);

/** Adds a candidate position, copied (strings included), and validates it exactly as the
 * loader validates a row of positions.csv (rk_dataset_add_position's checks and messages). Its
 * book may be one of the portfolio's or a new one; new books are numbered after the
 * portfolio's, in the order candidates name them, as appended rows of positions.csv would be.
 * Returns RK_OK when stored and valid; RK_INVALID_INPUT when stored but invalid (it is then
 * left out of every figure and rk_whatif_trade gives its message); RK_BAD_ARGUMENT when not
 * stored (NULL p or id, an id of the portfolio or of another candidate); RK_NO_MEMORY. Owner
 * only. Allocates only to grow past the largest candidate set this what-if has held, and the
 * message of an invalid candidate. */
RK_API rk_status rk_whatif_add(rk_whatif *w, const rk_position *p, size_t *index);

/** rk_whatif_run flag: when the cache is stale, first run a request with the cache's settings
 * on the current market snapshot and warm the cache from its result (rk_portfolio_warm), then
 * evaluate. That request allocates (as any scenario request does on first use). */
#define RK_WHATIF_REFRESH 1u

/** Evaluates the candidates against the portfolio's warm cache: prices each valid one in the
 * cached market states and fills the answers (rk_whatif_parametric_var, rk_whatif_scenario_var,
 * rk_whatif_trade). Returns RK_OK; RK_NOT_FOUND when the portfolio has no warm cache; RK_STALE
 * when the portfolio's market has moved since the cache's snapshot (rk_portfolio_market_version
 * differs from rk_portfolio_warm_version) and flags lacks RK_WHATIF_REFRESH (the answers are
 * then cleared); RK_BAD_ARGUMENT (NULL, an unknown flag); RK_NO_MEMORY; with RK_WHATIF_REFRESH,
 * a code of rk_request_run. A candidate whose base value is not finite is left out with
 * RK_NUMERIC. Once warm (after a first run with as many candidates, books and CRR steps) it
 * makes no heap allocation, without RK_WHATIF_REFRESH. Owner only; what-ifs of one portfolio
 * may run concurrently on several threads, each its own rk_whatif, also with requests, market
 * updates and rk_portfolio_warm. */
RK_API rk_status rk_whatif_run(rk_whatif *w, unsigned flags);

/** Market version of the cache the last rk_whatif_run used; 0 before a successful run. */
RK_API uint64_t rk_whatif_market_version(const rk_whatif *w);

/** Books after the candidates: the portfolio's and the new ones; book index rk_whatif_books(w)
 * is the TOTAL in the per-book accessors. 0 before a successful run or for NULL. */
RK_API size_t rk_whatif_books(const rk_whatif *w);

/** Name of book `book` (< rk_whatif_books): the portfolio's book names, then the new ones;
 * "TOTAL" for the TOTAL. Owned by the what-if (new books) or the data set, valid until the
 * next rk_whatif_clear/add/destroy. NULL when out of range. */
RK_API const char *rk_whatif_book_name(const rk_whatif *w, size_t book);

/** Candidates added since the last clear. */
RK_API size_t rk_whatif_trades(const rk_whatif *w);

/** Candidate k after a run: its code (RK_OK; RK_INVALID_INPUT, RK_NUMERIC) and, when OK, its
 * base value in the cache's market (NaN otherwise); message (may be NULL) receives the
 * validation or pricing message, or NULL when OK (owned by the what-if, valid until its next
 * clear, add or destroy). RK_BAD_ARGUMENT for NULL or k out of range, RK_NOT_FOUND before a
 * successful run. Any thread while the owner does not change it. */
RK_API rk_status rk_whatif_trade(const rk_whatif *w, size_t k, double *value, const char **message);

/** Parametric VaR of book `book` (TOTAL = rk_whatif_books) before and after the candidates,
 * standalone, and the book's Euler contribution to the TOTAL after (pointers may be NULL). A
 * new book's "before" is 0. RK_OK; RK_NOT_FOUND when the cache has no parametric VaR or before
 * a successful run; RK_BAD_ARGUMENT for NULL or a book out of range. */
RK_API rk_status rk_whatif_parametric_var(const rk_whatif *w, size_t book, double *before,
                                          double *after, double *contribution_after);

/** Scenario VaR and ES of book `book` (TOTAL = rk_whatif_books) before and after, at the cached
 * result's confidences and over its scenario set (pointers may be NULL); a new book's "before"
 * is 0. Codes as rk_whatif_parametric_var, RK_NOT_FOUND when the cache has no scenario VaR. */
RK_API rk_status rk_whatif_scenario_var(const rk_whatif *w, size_t book, double *var_before,
                                        double *var_after, double *es_before, double *es_after);

#ifdef __cplusplus
}
#endif
#endif /* RISKENGINE_H */
