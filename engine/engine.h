/*
 * engine.h - the fan-out/fan-in scheduler: NUMA-aware pinned pools, tiles, the fan-in channel,
 * deadlines and cancellation. Internal interface (eng_ prefix); engine/README.md is its design.
 *
 * The engine knows nothing about finance. A job is a rectangle of cells, rows x columns: a row
 * is a chunk of positions owned by one NUMA node, a column is a market state (a bump, a
 * scenario). The engine cuts the rectangle into tiles sized by the job's cost estimates, hands
 * each tile to a worker of the node that owns its rows (stealing across nodes only when a node
 * runs dry), and gathers exactly one record per tile through the job's fan-in channel. The
 * job's run() callback does the arithmetic and writes into the job's own buffers; the engine
 * only moves tiles and records.
 *
 * Cells the job never reached are the job's to mark: a job initialises its cell status to a
 * "pending" value, run() sets the cells it finishes, and after the job completes the caller
 * gives every still-pending cell the code of its tile's record (DEADLINE, CANCELLED, ...).
 */
#ifndef ENG_ENGINE_H
#define ENG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "rk_status.h"

/* ---- time: CLOCK_MONOTONIC nanoseconds ---- */

#define ENG_NO_DEADLINE INT64_MAX /* "never" */
int64_t eng_now_ns(void);
/* An eng_now_ns() time as a timespec, for pthread_cond_timedwait on a CLOCK_MONOTONIC
 * condition variable. */
struct timespec eng_timespec(int64_t ns);

/* ---- the engine ---- */

typedef struct eng_engine eng_engine;

typedef struct eng_config {
    size_t threads;          /* workers; 0 = one per allowed core (cpuset and cgroup quota) */
    bool no_pin;             /* do not bind workers or memory */
    const char *topology;    /* NULL: this machine; else an hwloc synthetic description
                                ("node:2 core:4 pu:1") or the path of an hwloc XML file */
    double tile_target_us;   /* wanted cost of one tile; 0 = default (50 µs) */
    size_t channel_capacity; /* fan-in channel slots per job; 0 = default */
    unsigned stress;         /* test builds: 1 = shrink channels to 1 slot and shuffle wake order */
} eng_config;

/* Creates an engine: discovers the topology, creates one pool per NUMA node and one pinned
 * worker per core (workers sleep until work arrives). Returns RK_OK and *out, or an error code
 * with a one-line reason in msg (msg may be NULL). A binding the system refuses is not an error:
 * it is reported by eng_describe(). Any thread. */
rk_status eng_create(const eng_config *cfg, eng_engine **out, char *msg, size_t msglen);

/* Stops the workers (after every in-flight job has completed or been cancelled; call with no
 * job outstanding) and frees the engine. NULL is harmless. */
void eng_destroy(eng_engine *e);

size_t eng_node_count(const eng_engine *e);
size_t eng_worker_count(const eng_engine *e);
/* Workers in pool (node) n. */
size_t eng_node_workers(const eng_engine *e, size_t node);

/* The engine's placement, as data: where the topology came from, its cores and NUMA nodes, one
 * entry per pool (node) and one per worker with the cpuset asked for and the binding actually
 * obtained (or why it was refused). Formats are the caller's (the program writes it as JSON). */
typedef struct eng_pool_info {
    unsigned os_index; /* the NUMA node's OS index */
    char nodeset[128]; /* hwloc list syntax, "-" when unknown */
    size_t workers;
} eng_pool_info;

typedef struct eng_worker_info {
    unsigned id, node;
    unsigned core;     /* the core's hwloc logical index */
    char cpuset[128];  /* hwloc list syntax, "-" when unknown */
    bool bound;
    char binding[96];  /* "bound", or "not bound: why" */
} eng_worker_info;

typedef struct eng_topology_info {
    char source[160];   /* "this machine", "synthetic: ...", "xml: ..." */
    bool this_system;   /* false: a loaded description, so nothing is bound */
    size_t cores, nodes, workers;
    bool pinning;
    double quota_cpus;  /* cgroup CPU quota in CPUs, 0 when unlimited */
    eng_pool_info *pools;     /* nodes entries */
    eng_worker_info *worker;  /* workers entries */
} eng_topology_info;

/* Fills *out (allocating its arrays: free with eng_topology_info_free). RK_OK, RK_NO_MEMORY,
 * RK_BAD_ARGUMENT. Any thread. */
rk_status eng_topology_get(const eng_engine *e, eng_topology_info *out);
void eng_topology_info_free(eng_topology_info *t);

/* Writes the same as human-readable lines. */
void eng_describe(const eng_engine *e, FILE *out);

/* Memory for node `node`'s share: bound to that node where the system allows (hwloc), plain
 * otherwise. Zero-filled. Free with eng_node_free(ptr, bytes). Any thread. */
void *eng_node_alloc(eng_engine *e, size_t node, size_t bytes);
void eng_node_free(eng_engine *e, void *ptr, size_t bytes);

/* ---- jobs, tiles, workers ---- */

typedef struct eng_tile {
    uint32_t row0, row1; /* rows [row0, row1), all owned by one node */
    uint32_t col0, col1; /* columns [col0, col1) */
    uint32_t index;      /* position of the tile in the job's record table */
    double cost_ns;      /* estimated cost, from the job's row_cost (stall detection) */
} eng_tile;

/* The context of the worker running a tile. */
typedef struct eng_worker eng_worker;

/* True when the tile should stop now: the job is cancelled or past its deadline. Cheap
 * (an atomic load and, every few calls, the clock); call it at least every ~50 µs of work,
 * inside long computations too. Owner worker only. */
bool eng_should_stop(eng_worker *w);
/* The code a stopped tile reports: RK_DEADLINE or RK_CANCELLED; RK_OK while not stopped. */
rk_status eng_stop_code(eng_worker *w);
/* The worker's scratch memory, at least job->scratch_bytes, node-local, 64-byte aligned,
 * reused across tiles (no allocation per tile). Owner worker only. */
void *eng_worker_scratch(eng_worker *w);
unsigned eng_worker_id(const eng_worker *w);

/* What run() reports for its tile; the engine turns it into the tile's record. */
typedef struct eng_tile_result {
    rk_status code;    /* RK_OK when every cell of the tile was attempted (cell-level errors
                          such as NUMERIC are the job's own business); else why it stopped */
    uint64_t cells_ok; /* cells finished OK, for coverage and statistics */
    char message[96];  /* optional detail, "" when none */
} eng_tile_result;

typedef struct eng_job_desc {
    uint32_t nrows, ncols;
    const uint32_t *row_node; /* node owning each row; NULL = rows spread evenly in order */
    const double *row_cost;   /* estimated ns per cell for each row; NULL = uniform */
    uint32_t max_tile_cols;   /* upper bound on columns per tile; 0 = no bound */
    size_t scratch_bytes;     /* per-worker scratch run() needs */
    /* Computes tile t. Runs on a worker thread; tiles of one job run concurrently, so run()
     * writes only the cells of its tile. Must poll eng_should_stop(w). */
    void (*run)(void *arg, const eng_tile *t, eng_worker *w, eng_tile_result *res);
    void *arg;
} eng_job_desc;

/* One record per tile, delivered exactly once. */
typedef struct eng_record {
    eng_tile tile;
    rk_status code;
    uint64_t cells_ok;
    unsigned worker;  /* who ran it; UINT32_MAX when never run (expired or cancelled) */
    char message[96];
} eng_record;

typedef struct eng_job eng_job;

/* Completion callback: called exactly once, on the thread that delivers the last record (a
 * worker or the waiter), after every record is in. It must not block or free the job. */
typedef void (*eng_done_fn)(eng_job *r, void *arg);

/* Submits a job. deadline is an absolute eng_now_ns() time or ENG_NO_DEADLINE; jobs are
 * served earliest deadline first. The description and its buffers must stay valid until the
 * job is complete. Returns RK_OK and *out, RK_BAD_ARGUMENT, or RK_NO_MEMORY. Any thread. */
rk_status eng_submit(eng_engine *e, const eng_job_desc *job, int64_t deadline, eng_done_fn done,
                     void *done_arg, eng_job **out);

/* Waits until every record is in, or until the absolute time `until` (ENG_NO_DEADLINE: no
 * limit; 0: don't block). Past the job's deadline it claims every tile not yet started and
 * records it DEADLINE, then waits only for tiles in flight, which stop at their next poll.
 * Returns RK_OK when complete, RK_TIMEOUT otherwise. Any thread; one waiter at a time. */
rk_status eng_wait(eng_job *r, int64_t until);

/* Asks the job to stop: tiles not started are recorded CANCELLED, running tiles stop at
 * their next poll. Returns at once; harmless after completion. Any thread. */
void eng_cancel(eng_job *r);

bool eng_job_done(const eng_job *r);

/* The records, ordered by tile index (valid once complete, and inside the completion
 * callback). The pointer lives as long as r. */
const eng_record *eng_job_records(const eng_job *r, size_t *n);

typedef struct eng_job_stats {
    uint64_t tiles, tiles_ok, cells, cells_ok;
    int64_t submitted_ns, first_tile_ns, completed_ns, deadline_ns;
    int64_t overshoot_ns; /* completed - deadline when completion came after the deadline, 0
                             otherwise */
    uint64_t steals;      /* tiles run by a worker of another node */
    uint64_t channel_max; /* highest channel occupancy seen */
} eng_job_stats;

void eng_job_stats_get(const eng_job *r, eng_job_stats *out);

/* Makes sure the engine keeps at least n spare job objects (n <= 64), each able to hold
 * jobs of up to `tiles` tiles, so that the next submits of such jobs allocate nothing (a
 * real-time caller reserves what its jobs in flight need, once, when it sets them up).
 * Returns RK_OK, RK_BAD_ARGUMENT (n too large) or RK_NO_MEMORY. Any thread. */
rk_status eng_reserve(eng_engine *e, size_t n, size_t tiles);

/* Cancels if still running, waits for completion, frees. NULL is harmless. */
void eng_job_free(eng_job *r);

/* Synchronous convenience: submit, wait, collect stats. The caller frees *out_req. */
rk_status eng_run(eng_engine *e, const eng_job_desc *job, int64_t deadline, eng_job **out_req);

/* ---- statistics ---- */

typedef struct eng_worker_stats {
    unsigned node;
    int bound;              /* 1 bound as asked, 0 not bound (refused or --no-pin) */
    uint64_t tiles, steals;
    uint64_t busy_ns;
    int64_t heartbeat_ns;   /* last time the worker polled inside a tile, took or finished one,
                               or woke */
    int64_t tile_ns;        /* time inside its current tile; 0 when not running one */
    int64_t tile_budget_ns; /* the current tile's stall budget (ENG_STALL_FACTOR x estimate); 0
                               when not running one */
    bool stalled;           /* inside its current tile for longer than the budget */
    char binding[96];       /* "bound", or "not bound: <reason>" */
} eng_worker_stats;

typedef struct eng_stats {
    uint64_t jobs_submitted, jobs_done, jobs_in_flight;
    uint64_t tiles_done, deadline_misses, cancels;
    uint64_t channel_max; /* highest fan-in channel occupancy of any completed job */
    uint64_t stalls;      /* tiles that ran longer than their stall budget (counted when they end) */
    uint64_t workers_stalled; /* workers inside a tile past its budget right now */
    size_t nworkers;
} eng_stats;

void eng_stats_get(const eng_engine *e, eng_stats *out);
/* Fills up to n worker entries; returns the worker count. */
size_t eng_worker_stats_get(const eng_engine *e, eng_worker_stats *out, size_t n);

#endif /* ENG_ENGINE_H */
