/*
 * engine_internal.h - the engine's private structures, shared by topology.c, pool.c,
 * channel.c and sched.c. Nothing here is API: engine.h is the interface, sched.c's top comment
 * the design.
 *
 * Every field says what protects it:
 *   [imm]    set before the object is shared, read-only afterwards
 *   [owner]  only the owning thread (worker thread, or the job's current consumer)
 *   [emu]    eng_engine.mu
 *   [rmu]    eng_job.mu
 *   [atomic] an atomic; its memory orders are noted where it is used
 */
#ifndef ENG_INTERNAL_H
#define ENG_INTERNAL_H

#include <hwloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "engine.h"

#define ENG_CACHE_LINE 64
#define ENG_DEFAULT_TILE_US 50.0
#define ENG_DEFAULT_CHANNEL 256
#define ENG_DEFAULT_CELL_NS 1000.0 /* assumed cost of a cell when the job gives no row_cost */
#define ENG_MAX_WORKERS 4096
#define ENG_SPIN_ROUNDS 2000       /* bounded spin of an idle worker before it sleeps */
/* A tile is stalled when it has run longer than ENG_STALL_FACTOR times its estimated cost, and
 * at least ENG_STALL_MIN_NS: below that, one preemption of a tiny tile would count. */
#define ENG_STALL_FACTOR 100.0
#define ENG_STALL_MIN_NS 1000000

/* Always-on cheap assertion: a broken invariant of the engine is a bug, never a user error. */
#define ENG_ASSERT(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            eng_panic_(__FILE__, __LINE__, #cond);                                                 \
    } while (0)
_Noreturn void eng_panic_(const char *file, int line, const char *what);

/* ---- topology (topology.c) ---- */

typedef struct eng_topo {
    hwloc_topology_t topo;   /* [imm] */
    bool this_system;        /* [imm] the topology describes the machine we run on */
    char source[160];        /* [imm] "this machine", "synthetic: ...", "xml: ..." */
    size_t ncores;           /* [imm] cores (PUs when the topology has no cores) */
    size_t nnodes;           /* [imm] NUMA nodes, at least 1 */
    unsigned *core_node;     /* [imm] node of each core, in core order */
    hwloc_obj_t *cores;      /* [imm] the core objects, in logical order */
    hwloc_obj_t *node_objs;  /* [imm] NUMA node objects (NULL entries when none reported) */
    double quota_cpus;       /* [imm] cgroup CPU quota in CPUs, 0 when unlimited */
} eng_topo;

rk_status eng_topo_load(eng_topo *t, const char *spec, char *msg, size_t msglen);
void eng_topo_fini(eng_topo *t);
/* Default worker count: min(allowed cores, ceil(quota)), at least 1. */
size_t eng_topo_default_threads(const eng_topo *t);
/* Chooses a core for each of n workers: round-robin over nodes in core order; cores are reused
 * (oversubscription) only when n exceeds the core count. */
void eng_topo_assign(const eng_topo *t, size_t n, size_t *core_of_worker);

/* ---- workers and the engine (pool.c) ---- */

typedef struct eng_job eng_job;

struct eng_worker {
    eng_engine *eng;          /* [imm] */
    unsigned id;              /* [imm] */
    unsigned node;            /* [imm] */
    size_t core;              /* [imm] index into topo.cores */
    pthread_t thread;         /* [imm] after start */
    bool started;             /* [imm] */
    int bound;                /* [owner] until the start handshake, [imm] afterwards */
    char bind_msg[96];        /* [owner] until the start handshake, [imm] afterwards */

    /* Scratch: node-local, 64-byte aligned. The worker swaps in scratch_next (installed by
     * eng_submit under emu) at its next pick, which also happens under emu. */
    void *scratch;            /* [owner] */
    size_t scratch_bytes;     /* [owner] */
    void *scratch_next;       /* [emu] */
    size_t scratch_next_bytes;/* [emu] */

    /* The tile being run, for eng_should_stop. */
    eng_job *running;     /* [owner] */

    /* Sleeping: a worker sleeps on its own condition variable so that eng_submit can choose
     * whom to wake, and in which order. */
    pthread_cond_t cv;        /* [emu] */
    bool sleeping;            /* [emu] */
    bool woken;               /* [emu] */
    uint64_t seen_gen;        /* [owner] */

    /* Statistics: written by the owner, read by anyone (relaxed). */
    _Atomic uint64_t st_tiles, st_steals, st_busy_ns;
    _Atomic int64_t st_heartbeat;
    /* The tile being run, for the stall check: its start (0 when none) and the time past which
     * it is stalled. Written by the owner with release stores (st_stall_at before st_tile_t0 at
     * the start, st_tile_t0 first at the end), read with acquire loads in that order, so a
     * reader that sees a start also sees that tile's limit. */
    _Atomic int64_t st_tile_t0, st_stall_at;
    uint64_t rng;             /* [owner] stress-mode shuffling of the worker's own choices */
};

typedef struct eng_node {
    size_t nworkers;          /* [imm] */
    hwloc_nodeset_t nodeset;  /* [imm] NULL when the topology reports no NUMA node */
    unsigned os_index;        /* [imm] */
} eng_node;

struct eng_engine {
    eng_topo topo;            /* [imm] */
    eng_config cfg;           /* [imm] resolved: defaults applied, stress from RK_STRESS */
    bool pin;                 /* [imm] bind threads and memory */
    size_t nnodes;            /* [imm] */
    eng_node *nodes;          /* [imm] */
    size_t nworkers;          /* [imm] */
    eng_worker *workers;      /* [imm] array; fields as marked in eng_worker */

    pthread_mutex_t mu;       /* protects the job list, sleeping workers, shutdown */
    eng_job *head;        /* [emu] in-flight jobs in EDF order (deadline, then seq) */
    uint64_t next_seq;        /* [emu] submission counter: FIFO among equal deadlines */
    _Atomic uint64_t gen;     /* [atomic, written under emu] bumped by every submit */
    bool shutdown;            /* [emu] */
    size_t scratch_bytes;     /* [emu] largest scratch any job asked for */
    uint64_t rng;             /* [emu] stress-mode wake shuffling */

    pthread_mutex_t start_mu; /* start handshake: workers report their binding */
    pthread_cond_t start_cv;
    size_t started;           /* [start_mu] */

    _Atomic uint64_t st_submitted, st_done, st_tiles, st_misses, st_cancels; /* relaxed */
    _Atomic uint64_t st_channel_max; /* relaxed: highest fan-in occupancy of any job */
    _Atomic uint64_t st_stalls;      /* relaxed: tiles that ended past their stall budget */
    eng_job *spare;       /* [emu] cache of freed jobs, linked through their `next` */
    size_t nspare;            /* [emu] */
};

/* Spare jobs kept for reuse (sched.c); the memory of a few hundred tiles each. */
#define ENG_REQUEST_CACHE 64
/* Frees the cache of spare jobs (sched.c); from eng_destroy, after the workers left. */
void eng_sched_fini(eng_engine *e);
/* Binds the calling worker thread and reports to eng_create's start handshake (pool.c). */
void eng_worker_bind(eng_worker *w);
/* Worker entry point (sched.c). */
void *eng_worker_main(void *arg);
/* Node-local allocation of worker scratch (pool.c). */
void *eng_scratch_alloc(eng_engine *e, unsigned node, size_t bytes);
void eng_scratch_free(eng_engine *e, void *p, size_t bytes);

/* ---- the fan-in channel (channel.c) ---- */

/* A bounded multi-producer single-consumer ring of records. Any thread may push; only the
 * holder of the owning job's lock may pop (that lock makes the consumer single). */
typedef struct eng_slot {
    _Atomic size_t seq;       /* [atomic] the slot's turn: pos when free, pos+1 when full */
    eng_record rec;           /* written by the producer owning the turn, read by the consumer */
} eng_slot;

typedef struct eng_channel {
    size_t cap;               /* [imm] logical capacity */
    size_t nslots;            /* [imm] max(cap, 2) */
    eng_slot *slots;          /* [imm] array of nslots */
    _Alignas(ENG_CACHE_LINE) _Atomic size_t tail; /* [atomic] next position to produce */
    _Alignas(ENG_CACHE_LINE) _Atomic size_t head; /* [atomic, written by the consumer only] */
    _Atomic size_t max_occupancy;                 /* [atomic] statistics */
} eng_channel;

rk_status eng_channel_init(eng_channel *ch, size_t cap);
void eng_channel_fini(eng_channel *ch);
/* Empties the ring for reuse by a new job, keeping its slots. No producer or consumer may be
 * active. */
void eng_channel_reset(eng_channel *ch);
/* Returns false when the ring is full. Any thread. */
bool eng_channel_push(eng_channel *ch, const eng_record *rec);
/* Returns false when the next slot holds no published record. Consumer only. */
bool eng_channel_pop(eng_channel *ch, eng_record *out);

#endif /* ENG_INTERNAL_H */
