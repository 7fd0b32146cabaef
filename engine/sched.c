/*
 * sched.c - the scheduler: jobs cut into tiles, lock-free claiming, earliest-deadline-first
 * service, stealing across nodes, the fan-in of records, deadlines and cancellation.
 *
 * Concepts
 * --------
 * node     A NUMA node of the topology (topology.c); a machine without one counts as one node.
 * worker   A thread pinned to one core (pool.c). It belongs to the pool of its core's node.
 * pool     The workers of one node. Pools share nothing but the engine's job list.
 * job  One submitted job: its tiles, one claim index per node, a fan-in channel, a record
 *          table, a lock and a condition variable for its waiter.
 * tile     A rectangle of the job: whole rows of one node x a run of columns, sized at submit
 *          so that its estimated cost (row_cost x columns) is about tile_target_us. Tiles are
 *          numbered by row, then column; the number is the record's slot in the table.
 *
 * A job keeps, per node, the list of that node's tile numbers (in tile order) and an
 * atomic claim index. A worker claims tile i of node n's list by fetch_add on the index: no
 * lock, no CAS loop, each tile claimed exactly once. Jobs are kept in one list ordered by
 * (deadline, submission number); ENG_NO_DEADLINE sorts last, FIFO among equal deadlines.
 *
 * Picking work (worker, under the engine lock): the first job in EDF order whose own-node
 * list is not exhausted; failing that, the first job in EDF order with any other node's
 * list not exhausted (a steal, nodes visited from the worker's own node upwards). The worker
 * takes a reference on the job, drops the lock and claims tiles from that one list until it
 * is exhausted or the engine's generation changed (every submit bumps it), then picks again.
 * Hence: claiming is lock-free, the lock is taken once per (worker, job, list) rather than
 * per tile, and a new earlier-deadline job is served from the next tile boundary on.
 *
 * Sleeping: a worker that found nothing spins a bounded while (ENG_SPIN_ROUNDS loads of the
 * generation, none in stress mode), then re-picks under the lock and, still finding nothing,
 * sleeps on its own condition variable in that same critical section. eng_submit links the
 * job and wakes sleepers in the same critical section, so a wake-up cannot be lost. Each
 * worker has its own condition variable so that submit wakes only as many workers as the
 * job has tiles, those of the owning nodes first (stress mode: in shuffled order).
 *
 * Designs rejected
 * ----------------
 * - One global locked queue of tiles: every tile pays a lock round trip on one cache line
 *   shared by all cores of all nodes; at 50 µs tiles and 64+ cores the lock is the bottleneck,
 *   and a global queue has no notion of node affinity.
 * - Work-stealing deques per worker (Chase-Lev): built for tasks that spawn tasks. Our tiles are
 *   all known at submit; dealing them to per-worker deques fixes the split early and makes
 *   deadline expiry and cancellation walk every deque. One claim index per (job, node)
 *   gives the same locality with one atomic, and expiry is one exchange per node.
 * - A heap allocation per tile or per record: tiles live in one array per job, records in
 *   a ring and a table allocated at submit; the per-tile path allocates nothing. A freed job
 *   goes back to a small per-engine cache with its arrays, so that once warm, submitting makes
 *   no heap allocation either (the API's real-time path relies on it).
 * - Signalling the waiter for every record: a context switch per tile. The waiter is woken when
 *   the ring is half full, at completion, and by its own timeout at the deadline.
 * - Blocking producers on a full ring: if the caller is not waiting, workers would block
 *   forever. A producer that finds the ring full drains it into the table itself.
 *
 * Races and their ordering
 * ------------------------
 * Submit vs. pick. Submit fills the job, then under the engine lock links it, bumps gen and
 * wakes sleepers. A worker reads the job only after finding it in the list under the same
 * lock, so all of its immutable fields are visible (the lock orders them).
 *
 * Claim vs. claim vs. expiry. Workers fetch_add the claim index; eng_wait (past the deadline)
 * and eng_cancel exchange it with the list's end. Each tile number below the end is returned to
 * exactly one of them (the index only grows; the RMWs on it are totally ordered), which then
 * owes exactly one record for it. A worker that claimed a tile checks the stop flag and the
 * deadline before running it and, if either says stop, records the code without running.
 *
 * Producer vs. producer vs. consumer (the fan-in). Every record owner pushes its record into
 * the channel (channel.c) and then increments `produced` (acq_rel). The channel's consumer is
 * whoever holds the job lock and drains it into the table:
 *   1. the waiter, when woken;
 *   2. a producer that found the ring full: it locks, drains, unlocks and pushes again;
 *   3. the producer whose increment made `produced` equal the tile count: every other push
 *      happened before its increment (release on each increment, acquire on the last), so its
 *      drain finds every record.
 * Case 3 makes completion independent of any waiter: the job completes even if nobody
 * ever calls eng_wait. Each drain counts deliveries under the lock; the drain that makes the
 * count reach the tile count sets `completing` and its thread finishes the job. That drain
 * may come before the last producer's increment (the record is visible once published): the
 * late producer's own drain then finds `completing` set and does nothing; it still holds its
 * reference, so the job outlives it.
 *
 * Completion. The finishing thread (a worker, the waiter or a canceller, always holding a
 * reference): records the completion time and overshoot; unlinks the job under the engine
 * lock; calls the completion callback, outside every lock; then sets `done` under the job
 * lock and broadcasts. eng_wait returns only when it sees `done` under that lock, so the
 * callback has returned before the caller can free the job, and the job is unlinked
 * before any owner can drop it.
 *
 * Lifetime. A job is reference counted: one reference for the owner (dropped by
 * eng_job_free after completion), one per worker serving it (taken under the engine lock
 * while linked), one for the duration of eng_wait / eng_cancel. The last drop frees it; a
 * worker may thus still hold a completed job, touching only its claim indices (which are
 * exhausted) before dropping it.
 *
 * Locks: the engine lock (eng_engine.mu) and a job's lock (eng_job.mu) are never held
 * together. Neither is held while a tile runs or while the callback runs.
 *
 * Memory orders (each atomic):
 *   claim[n].next   relaxed fetch_add / exchange: only uniqueness matters; tile data is
 *                   immutable and was published by the engine lock.
 *   stop            relaxed: a hint polled by run(); no data travels with it.
 *   produced        acq_rel fetch_add: the last producer's drain sees every push (see above).
 *   done            release store under the job lock / acquire load in eng_job_done.
 *   refs            acq_rel fetch_sub: the freeing thread sees every other holder's writes;
 *                   relaxed fetch_add (the adder already holds a reference or the engine lock).
 *   gen             written under the engine lock; relaxed loads outside it are hints only,
 *                   the decision is always re-made under the lock.
 *   first_tile_ns, steals, statistics counters: relaxed.
 */
#include <math.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "engine_internal.h"

#define ENG_MAX_NODES_ON_STACK 64

typedef struct eng_claim {
    _Alignas(ENG_CACHE_LINE) _Atomic size_t next; /* [atomic] next list position to claim */
} eng_claim;

struct eng_job {
    eng_engine *eng;          /* [imm] */
    eng_job_desc job;              /* [imm] copy; row_node/row_cost are used only during submit */
    int64_t deadline;         /* [imm] absolute, or ENG_NO_DEADLINE */
    uint64_t seq;             /* [imm] submission number, EDF tie-break */
    eng_done_fn done_fn;      /* [imm] */
    void *done_arg;           /* [imm] */
    size_t ntiles;            /* [imm] */
    uint64_t ncells;          /* [imm] */
    eng_tile *tiles;          /* [imm] ntiles, by row then column */
    uint32_t *tile_node;      /* [imm] owning node of each tile */
    uint32_t *node_tiles;     /* [imm] tile numbers grouped by node, tile order within a node */
    size_t *node_off;         /* [imm] nnodes + 1 offsets into node_tiles */
    eng_claim *claim;         /* [atomic] nnodes claim indices, one cache line each */

    _Atomic int stop;         /* [atomic] 0, RK_DEADLINE or RK_CANCELLED; first writer wins */
    _Atomic size_t refs;      /* [atomic] */
    _Atomic size_t produced;  /* [atomic] records pushed so far */
    _Atomic int64_t first_tile_ns; /* [atomic] */
    _Atomic uint64_t steals;  /* [atomic] */
    _Atomic bool done;        /* [atomic, written under rmu] the callback has returned */

    eng_channel ch;           /* pushes: any thread; pops: holder of mu */
    pthread_mutex_t mu;       /* the job lock (rmu) */
    pthread_cond_t cv;        /* [rmu] the waiter sleeps here (CLOCK_MONOTONIC) */
    eng_record *records;      /* [rmu] table by tile number; read-only once complete */
    unsigned char *seen;      /* [rmu] one byte per tile: delivered already */
    size_t delivered;         /* [rmu] */
    bool completing;          /* [rmu] the last record is in; a thread is finishing */
    bool expired;             /* [rmu] the unstarted tiles were expired (by eng_wait, or by the
                                 first worker to see the job stopped) */
    uint64_t tiles_ok, cells_ok; /* [rmu] */
    int64_t submitted_ns;     /* [imm] */
    int64_t completed_ns;     /* [rmu] set with completing */

    eng_job *prev, *next; /* [emu] the engine's in-flight list, or (next) the engine's
                                 cache of spare jobs */
    bool linked;              /* [emu] */

    /* Capacities kept when the job is recycled (see req_obtain). [owner]: the submitting
     * thread while it fills the job, nobody afterwards until the last reference drops. */
    size_t tiles_cap;         /* eng_tile / tile_node slots allocated */
    size_t records_cap;       /* records / seen / node_tiles slots allocated */
    size_t *fill;             /* nnodes counters for the counting sort at submit */
};

/* ---- small helpers ---- */

static void set_stop(eng_job *r, int code)
{
    int expected = 0;
    /* relaxed: see the header comment; the first reason wins. */
    atomic_compare_exchange_strong_explicit(&r->stop, &expected, code, memory_order_relaxed,
                                            memory_order_relaxed);
}

static bool past_deadline(const eng_job *r, int64_t now)
{
    return r->deadline != ENG_NO_DEADLINE && now >= r->deadline;
}

/* Frees a job's memory for good. No reference left; no lock held. */
static void req_free_memory(eng_job *r)
{
    eng_channel_fini(&r->ch);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r->tiles);
    free(r->tile_node);
    free(r->node_tiles);
    free(r->node_off);
    free(r->claim);
    free(r->records);
    free(r->seen);
    free(r->fill);
    free(r);
}

/*
 * The last reference dropped: the job goes back to the engine's cache of spare jobs
 * (up to ENG_REQUEST_CACHE of them), keeping its arrays, channel, lock and condition variable,
 * so that a steady stream of similar jobs makes no heap allocation (the API's real-time
 * path). The cache is under the engine lock; no job lock is held here.
 */
static void req_destroy(eng_job *r)
{
    eng_engine *e = r->eng;
    pthread_mutex_lock(&e->mu);
    if (e->nspare < ENG_REQUEST_CACHE) {
        r->next = e->spare;
        e->spare = r;
        e->nspare++;
        r = NULL;
    }
    pthread_mutex_unlock(&e->mu);
    if (r != NULL)
        req_free_memory(r);
}

/* A job to fill: a spare one from the cache, reset, or a new one. NULL when out of
 * memory. Any thread, no lock held. */
static eng_job *req_obtain(eng_engine *e)
{
    pthread_mutex_lock(&e->mu);
    eng_job *r = e->spare;
    if (r != NULL) {
        e->spare = r->next;
        e->nspare--;
    }
    pthread_mutex_unlock(&e->mu);
    if (r != NULL) {
        /* Keep the memory, reset everything else (the atomics are re-initialised at submit). */
        eng_job keep = *r;
        memset(r, 0, sizeof *r);
        r->eng = e;
        r->tiles = keep.tiles;
        r->tile_node = keep.tile_node;
        r->tiles_cap = keep.tiles_cap;
        r->node_tiles = keep.node_tiles;
        r->records = keep.records;
        r->seen = keep.seen;
        r->records_cap = keep.records_cap;
        r->node_off = keep.node_off;
        r->claim = keep.claim;
        r->fill = keep.fill;
        r->ch.cap = keep.ch.cap;
        r->ch.nslots = keep.ch.nslots;
        r->ch.slots = keep.ch.slots;
        eng_channel_reset(&r->ch);
        r->mu = keep.mu;
        r->cv = keep.cv;
        memset(r->node_off, 0, (e->nnodes + 1) * sizeof *r->node_off);
        return r;
    }
    r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->eng = e;
    r->node_off = calloc(e->nnodes + 1, sizeof *r->node_off);
    r->fill = calloc(e->nnodes, sizeof *r->fill);
    size_t claim_bytes = e->nnodes * sizeof *r->claim;
    claim_bytes = (claim_bytes + ENG_CACHE_LINE - 1) / ENG_CACHE_LINE * ENG_CACHE_LINE;
    r->claim = aligned_alloc(ENG_CACHE_LINE, claim_bytes);
    bool chan_ok = eng_channel_init(&r->ch, e->cfg.channel_capacity) == RK_OK;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (r->node_off == NULL || r->fill == NULL || r->claim == NULL || !chan_ok) {
        req_free_memory(r);
        return NULL;
    }
    return r;
}

/* Grows a job's tile and record arrays to hold cap tiles. Owner only (no lock). */
static bool req_grow(eng_job *r, size_t cap)
{
    if (cap > UINT32_MAX)
        return false;
    if (r->tiles_cap < cap) {
        eng_tile *v = realloc(r->tiles, cap * sizeof *v);
        if (v == NULL)
            return false;
        r->tiles = v;
        uint32_t *nd = realloc(r->tile_node, cap * sizeof *nd);
        if (nd == NULL)
            return false;
        r->tile_node = nd;
        r->tiles_cap = cap;
    }
    if (r->records_cap < cap) {
        uint32_t *nt = realloc(r->node_tiles, cap * sizeof *nt);
        if (nt == NULL)
            return false;
        r->node_tiles = nt;
        eng_record *rec = realloc(r->records, cap * sizeof *rec);
        if (rec == NULL)
            return false;
        r->records = rec;
        unsigned char *seen = realloc(r->seen, cap);
        if (seen == NULL)
            return false;
        r->seen = seen;
        r->records_cap = cap;
    }
    return true;
}

rk_status eng_reserve(eng_engine *e, size_t n, size_t tiles)
{
    if (e == NULL || n > ENG_REQUEST_CACHE)
        return RK_BAD_ARGUMENT;
    /* Take every spare out, grow them and add new ones outside the lock, put them back. A
     * submit meanwhile finds the cache short and allocates: that is the warm-up this call
     * exists to end. */
    pthread_mutex_lock(&e->mu);
    eng_job *list = e->spare;
    size_t have = e->nspare;
    e->spare = NULL;
    e->nspare = 0;
    pthread_mutex_unlock(&e->mu);
    rk_status st = RK_OK;
    for (; have < n; have++) {
        eng_job *r = req_obtain(e);
        if (r == NULL) {
            st = RK_NO_MEMORY;
            break;
        }
        r->next = list;
        list = r;
    }
    for (eng_job *r = list; r != NULL; r = r->next)
        if (!req_grow(r, tiles))
            st = RK_NO_MEMORY;
    while (list != NULL) {
        eng_job *r = list;
        list = r->next;
        req_destroy(r);
    }
    return st;
}

void eng_sched_fini(eng_engine *e)
{
    while (e->spare != NULL) {
        eng_job *r = e->spare;
        e->spare = r->next;
        req_free_memory(r);
    }
    e->nspare = 0;
}

static void req_ref(eng_job *r)
{
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}

static void req_unref(eng_job *r)
{
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
        req_destroy(r);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

/* ---- fan-in ---- */

/* Moves every published record from the ring into the table. Returns true when this call
 * delivered the last record: the caller must then call finish(). Job lock held. */
static bool drain_locked(eng_job *r)
{
    eng_record rec;
    while (eng_channel_pop(&r->ch, &rec)) {
        uint32_t idx = rec.tile.index;
        ENG_ASSERT(idx < r->ntiles);
        ENG_ASSERT(!r->seen[idx]); /* exactly once */
        r->seen[idx] = 1;
        r->records[idx] = rec;
        r->delivered++;
        if (rec.code == RK_OK)
            r->tiles_ok++;
        r->cells_ok += rec.cells_ok;
    }
    if (r->delivered == r->ntiles && !r->completing) {
#ifdef RK_DEBUG
        /* Expensive tier: every tile delivered, each record in its own slot. */
        for (size_t i = 0; i < r->ntiles; i++)
            ENG_ASSERT(r->seen[i] && r->records[i].tile.index == i);
#endif
        r->completing = true;
        r->completed_ns = eng_now_ns();
        return true;
    }
    return false;
}

/* The last record is in: statistics, unlink, callback, then `done`. Caller holds a reference
 * and no lock. Runs exactly once per job (guarded by `completing`). */
static void finish(eng_job *r)
{
    eng_engine *e = r->eng;
    if (r->deadline != ENG_NO_DEADLINE && r->completed_ns > r->deadline)
        atomic_fetch_add_explicit(&e->st_misses, 1, memory_order_relaxed);
    /* relaxed: statistics only */
    size_t occ = atomic_load_explicit(&r->ch.max_occupancy, memory_order_relaxed);
    uint64_t m = atomic_load_explicit(&e->st_channel_max, memory_order_relaxed);
    while (occ > m && !atomic_compare_exchange_weak_explicit(&e->st_channel_max, &m, occ,
                                                             memory_order_relaxed,
                                                             memory_order_relaxed)) {
    }
    pthread_mutex_lock(&e->mu);
    if (r->linked) {
        if (r->prev != NULL)
            r->prev->next = r->next;
        else
            e->head = r->next;
        if (r->next != NULL)
            r->next->prev = r->prev;
        r->prev = r->next = NULL;
        r->linked = false;
        if (e->shutdown && e->head == NULL) {
            /* eng_destroy is waiting: workers asleep with nothing left must leave. */
            for (size_t i = 0; i < e->nworkers; i++) {
                e->workers[i].woken = true;
                pthread_cond_signal(&e->workers[i].cv);
            }
        }
    }
    pthread_mutex_unlock(&e->mu);
    atomic_fetch_add_explicit(&e->st_done, 1, memory_order_relaxed);
    if (r->done_fn != NULL)
        r->done_fn(r, r->done_arg);
    pthread_mutex_lock(&r->mu);
    atomic_store_explicit(&r->done, true, memory_order_release);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void collect(eng_job *r)
{
    pthread_mutex_lock(&r->mu);
    bool fin = drain_locked(r);
    pthread_mutex_unlock(&r->mu);
    if (fin)
        finish(r);
}

/* Hands over the one record owed for a claimed tile. Never blocks on a full ring: the producer
 * drains it itself. Caller holds a reference. */
static void deliver(eng_job *r, const eng_record *rec)
{
    while (!eng_channel_push(&r->ch, rec)) {
        pthread_mutex_lock(&r->mu);
        size_t before = r->delivered;
        bool fin = drain_locked(r);
        bool moved = r->delivered != before;
        pthread_mutex_unlock(&r->mu);
        ENG_ASSERT(!fin); /* our own record is not in yet */
        if (!moved)
            sched_yield(); /* a producer claimed the head slot but has not published yet */
    }
    size_t p = atomic_fetch_add_explicit(&r->produced, 1, memory_order_acq_rel) + 1;
    if (p == r->ntiles) {
        collect(r);
        return;
    }
    /* relaxed: occupancy is a hint for waking the waiter early; a miss costs nothing. */
    size_t occ = atomic_load_explicit(&r->ch.tail, memory_order_relaxed) -
                 atomic_load_explicit(&r->ch.head, memory_order_relaxed);
    if (2 * occ >= r->ch.cap && occ > 0) {
        pthread_mutex_lock(&r->mu);
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
}

/* Claims every tile not yet started and records it `code`. The records go straight into the
 * table in one critical section (no trip through the ring: thousands of expired tiles cost one
 * lock, not thousands of pushes). Caller holds a reference and no lock. */
static void expire(eng_job *r, int code)
{
    set_stop(r, code);
    /* relaxed: the winner is what tiles report */
    int c = atomic_load_explicit(&r->stop, memory_order_relaxed);
    size_t nn = r->eng->nnodes, claimed = 0;
    size_t from[ENG_MAX_NODES_ON_STACK], *start = from;
    if (nn > ENG_MAX_NODES_ON_STACK && (start = malloc(nn * sizeof *start)) == NULL) {
        /* No memory for the batch: claim node by node through the ring instead. */
        for (size_t n = 0; n < nn; n++) {
            size_t end = r->node_off[n + 1] - r->node_off[n];
            size_t old = atomic_exchange_explicit(&r->claim[n].next, end, memory_order_relaxed);
            for (size_t i = old; i < end; i++) {
                eng_record rec;
                memset(&rec, 0, sizeof rec);
                rec.tile = r->tiles[r->node_tiles[r->node_off[n] + i]];
                rec.code = (rk_status)c;
                rec.worker = UINT32_MAX;
                deliver(r, &rec);
            }
        }
        return;
    }
    for (size_t n = 0; n < nn; n++) {
        size_t end = r->node_off[n + 1] - r->node_off[n];
        /* relaxed exchange: every number from the old index on is ours (see the header). */
        start[n] = atomic_exchange_explicit(&r->claim[n].next, end, memory_order_relaxed);
        if (start[n] < end)
            claimed += end - start[n];
    }
    if (claimed > 0) {
        pthread_mutex_lock(&r->mu);
        for (size_t n = 0; n < nn; n++) {
            size_t end = r->node_off[n + 1] - r->node_off[n];
            for (size_t i = start[n]; i < end; i++) {
                uint32_t idx = r->node_tiles[r->node_off[n] + i];
                ENG_ASSERT(!r->seen[idx]);
                eng_record *rec = &r->records[idx];
                memset(rec, 0, sizeof *rec);
                rec->tile = r->tiles[idx];
                rec->code = (rk_status)c;
                rec->worker = UINT32_MAX;
                r->seen[idx] = 1;
                r->delivered++;
            }
        }
        bool fin = drain_locked(r);
        pthread_mutex_unlock(&r->mu);
        size_t p =
            atomic_fetch_add_explicit(&r->produced, claimed, memory_order_acq_rel) + claimed;
        if (fin)
            finish(r);
        else if (p == r->ntiles)
            collect(r); /* we counted last: drain what the others pushed */
    }
    if (start != from)
        free(start);
}

/* ---- tiling ---- */

typedef struct tile_vec {
    eng_tile *v;
    uint32_t *node;
    size_t n, cap;
} tile_vec;

static bool tile_push(tile_vec *tv, uint32_t r0, uint32_t r1, uint32_t c0, uint32_t c1,
                      uint32_t node, double cost_ns)
{
    if (tv->n == tv->cap) {
        size_t cap = tv->cap ? 2 * tv->cap : 64;
        if (cap > UINT32_MAX)
            return false;
        eng_tile *v = realloc(tv->v, cap * sizeof *v);
        if (v == NULL)
            return false;
        tv->v = v;
        uint32_t *nd = realloc(tv->node, cap * sizeof *nd);
        if (nd == NULL)
            return false;
        tv->node = nd;
        tv->cap = cap;
    }
    eng_tile *t = &tv->v[tv->n];
    t->row0 = r0;
    t->row1 = r1;
    t->col0 = c0;
    t->col1 = c1;
    t->index = (uint32_t)tv->n;
    t->cost_ns = cost_ns;
    tv->node[tv->n] = node;
    tv->n++;
    return true;
}

/* Cuts the job into tiles: whole rows of one node; per row, columns so that the estimated cost
 * is about the target (at least 1, at most max_tile_cols); consecutive rows of one node whose
 * whole width fits in one tile are grouped while the group stays under the target. */
static rk_status cut_tiles(const eng_engine *e, const eng_job_desc *job, tile_vec *tv)
{
    double target_ns = e->cfg.tile_target_us * 1000.0;
    uint32_t maxc = job->ncols;
    if (job->max_tile_cols != 0 && job->max_tile_cols < maxc)
        maxc = job->max_tile_cols;
    /* Rows spread evenly over the pools that have workers, when the job does not say. */
    size_t npools = 0;
    uint32_t pools[ENG_MAX_WORKERS];
    for (size_t n = 0; n < e->nnodes && npools < ENG_MAX_WORKERS; n++)
        if (e->nodes[n].nworkers > 0)
            pools[npools++] = (uint32_t)n;
    ENG_ASSERT(npools > 0);

    uint32_t r = 0;
    while (r < job->nrows) {
        uint32_t node = job->row_node != NULL
                            ? job->row_node[r]
                            : pools[(size_t)((uint64_t)r * npools / job->nrows)];
        double cell = job->row_cost != NULL ? job->row_cost[r] : ENG_DEFAULT_CELL_NS;
        double cols = cell > 0 ? floor(target_ns / cell) : (double)maxc;
        uint32_t per = cols < 1 ? 1 : cols >= (double)maxc ? maxc : (uint32_t)cols;
        if (per < job->ncols) {
            for (uint32_t c = 0; c < job->ncols; c += per) {
                uint32_t c1 = job->ncols - c < per ? job->ncols : c + per;
                if (!tile_push(tv, r, r + 1, c, c1, node, cell * (c1 - c)))
                    return RK_NO_MEMORY;
            }
            r++;
            continue;
        }
        /* The whole row fits: group following rows of the same node that also fit. */
        double cost = cell * job->ncols;
        uint32_t r1 = r + 1;
        while (r1 < job->nrows) {
            uint32_t n1 = job->row_node != NULL
                              ? job->row_node[r1]
                              : pools[(size_t)((uint64_t)r1 * npools / job->nrows)];
            double c1 = job->row_cost != NULL ? job->row_cost[r1] : ENG_DEFAULT_CELL_NS;
            if (n1 != node || cost + c1 * job->ncols > target_ns)
                break;
            cost += c1 * job->ncols;
            r1++;
        }
        if (!tile_push(tv, r, r1, 0, job->ncols, node, cost))
            return RK_NO_MEMORY;
        r = r1;
    }
    return RK_OK;
}

/* ---- submit ---- */

static rk_status check_job(const eng_engine *e, const eng_job_desc *job)
{
    if (job->run == NULL)
        return RK_BAD_ARGUMENT;
    for (uint32_t r = 0; r < job->nrows; r++) {
        if (job->row_node != NULL && job->row_node[r] >= e->nnodes)
            return RK_BAD_ARGUMENT;
        if (job->row_cost != NULL && !(job->row_cost[r] >= 0 && isfinite(job->row_cost[r])))
            return RK_BAD_ARGUMENT;
    }
    return RK_OK;
}

/* Gives every worker scratch of at least `need` bytes, installed at its next pick. Engine
 * lock held. */
static rk_status grow_scratch_locked(eng_engine *e, size_t need)
{
    if (need <= e->scratch_bytes)
        return RK_OK;
    for (size_t i = 0; i < e->nworkers; i++) {
        eng_worker *w = &e->workers[i];
        if (w->scratch_next != NULL && w->scratch_next_bytes >= need)
            continue;
        void *p = eng_scratch_alloc(e, w->node, need);
        if (p == NULL)
            return RK_NO_MEMORY;
        eng_scratch_free(e, w->scratch_next, w->scratch_next_bytes);
        w->scratch_next = p;
        w->scratch_next_bytes = need;
    }
    e->scratch_bytes = need;
    return RK_OK;
}

/* Wakes up to `want` sleeping workers, those of the job's nodes first (stress mode:
 * shuffled). Engine lock held. */
static void wake_locked(eng_engine *e, const eng_job *r, size_t want)
{
    size_t nsleep = 0;
    unsigned order[ENG_MAX_WORKERS];
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < e->nworkers; i++) {
            eng_worker *w = &e->workers[i];
            if (!w->sleeping || w->woken)
                continue;
            bool mine = r->node_off[w->node + 1] > r->node_off[w->node];
            if (mine == (pass == 0))
                order[nsleep++] = (unsigned)i;
        }
    }
    if (e->cfg.stress) {
        for (size_t i = nsleep; i > 1; i--) {
            size_t j = (size_t)(rng_next(&e->rng) % i);
            unsigned t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
    }
    for (size_t k = 0; k < nsleep && k < want; k++) {
        eng_worker *w = &e->workers[order[k]];
        w->woken = true;
        pthread_cond_signal(&w->cv);
    }
}

rk_status eng_submit(eng_engine *e, const eng_job_desc *job, int64_t deadline, eng_done_fn done,
                     void *done_arg, eng_job **out)
{
    if (out != NULL)
        *out = NULL;
    if (e == NULL || job == NULL || out == NULL)
        return RK_BAD_ARGUMENT;
    rk_status st = check_job(e, job);
    if (st != RK_OK)
        return st;

    eng_job *r = req_obtain(e);
    if (r == NULL)
        return RK_NO_MEMORY;
    tile_vec tv = {r->tiles, r->tile_node, 0, r->tiles_cap};
    st = cut_tiles(e, job, &tv);
    r->tiles = tv.v; /* grown or not, the arrays stay with the job */
    r->tile_node = tv.node;
    r->tiles_cap = tv.cap;
    if (st == RK_OK && tv.n > r->records_cap) {
        size_t cap = tv.n;
        uint32_t *nt = realloc(r->node_tiles, cap * sizeof *nt);
        if (nt != NULL)
            r->node_tiles = nt;
        eng_record *rec = realloc(r->records, cap * sizeof *rec);
        if (rec != NULL)
            r->records = rec;
        unsigned char *seen = realloc(r->seen, cap);
        if (seen != NULL)
            r->seen = seen;
        if (nt != NULL && rec != NULL && seen != NULL)
            r->records_cap = cap;
        else
            st = RK_NO_MEMORY;
    }
    if (st != RK_OK) {
        r->ntiles = 0;
        req_destroy(r);
        return st;
    }
    r->job = *job;
    r->job.row_node = NULL; /* not needed after the cut; the caller's arrays may go */
    r->job.row_cost = NULL;
    r->deadline = deadline;
    r->done_fn = done;
    r->done_arg = done_arg;
    r->ntiles = tv.n;
    r->ncells = (uint64_t)job->nrows * job->ncols;
    if (tv.n > 0)
        memset(r->seen, 0, tv.n);
    /* Per-node lists, tile order within each node (counting sort by node). */
    for (size_t i = 0; i < tv.n; i++)
        r->node_off[tv.node[i] + 1]++;
    for (size_t n = 0; n < e->nnodes; n++)
        r->node_off[n + 1] += r->node_off[n];
    memset(r->fill, 0, e->nnodes * sizeof *r->fill);
    for (size_t i = 0; i < tv.n; i++)
        r->node_tiles[r->node_off[tv.node[i]] + r->fill[tv.node[i]]++] = (uint32_t)i;
    for (size_t n = 0; n < e->nnodes; n++)
        atomic_init(&r->claim[n].next, 0);
    atomic_init(&r->stop, 0);
    atomic_init(&r->refs, 1); /* the owner's */
    atomic_init(&r->produced, 0);
    atomic_init(&r->first_tile_ns, 0);
    atomic_init(&r->steals, 0);
    atomic_init(&r->done, false);
    r->submitted_ns = eng_now_ns();

    pthread_mutex_lock(&e->mu);
    st = grow_scratch_locked(e, job->scratch_bytes);
    if (st != RK_OK || e->shutdown) {
        pthread_mutex_unlock(&e->mu);
        req_destroy(r);
        return st != RK_OK ? st : RK_BAD_ARGUMENT;
    }
    r->seq = e->next_seq++;
    atomic_fetch_add_explicit(&e->st_submitted, 1, memory_order_relaxed);
    if (r->ntiles > 0) {
        /* EDF insert: after every job with an earlier or equal deadline (FIFO). */
        eng_job *prev = NULL, *cur = e->head;
        while (cur != NULL && cur->deadline <= deadline) {
            prev = cur;
            cur = cur->next;
        }
        r->prev = prev;
        r->next = cur;
        if (prev != NULL)
            prev->next = r;
        else
            e->head = r;
        if (cur != NULL)
            cur->prev = r;
        r->linked = true;
        /* relaxed: read as a hint outside the lock; the lock orders the list itself. */
        atomic_fetch_add_explicit(&e->gen, 1, memory_order_relaxed);
        wake_locked(e, r, r->ntiles);
    }
    pthread_mutex_unlock(&e->mu);

    if (r->ntiles == 0) { /* nothing to do: complete at once, on this thread */
        pthread_mutex_lock(&r->mu);
        bool fin = drain_locked(r);
        pthread_mutex_unlock(&r->mu);
        if (fin)
            finish(r);
    }
    *out = r;
    return RK_OK;
}

/* ---- the worker ---- */

/* How long a tile estimated at cost_ns may run before it counts as a stall. */
static int64_t stall_budget_ns(double cost_ns)
{
    double b = ENG_STALL_FACTOR * cost_ns;
    if (!(b >= ENG_STALL_MIN_NS)) /* also NaN */
        return ENG_STALL_MIN_NS;
    return b >= 0x1p62 ? INT64_C(1) << 62 : (int64_t)b;
}

/* The tile is claimed: run it (or record why not) and deliver its record. */
static void run_tile(eng_worker *w, eng_job *r, uint32_t t, bool steal)
{
    int64_t t0 = eng_now_ns();
    atomic_store_explicit(&w->st_heartbeat, t0, memory_order_relaxed);
    int64_t zero = 0;
    atomic_compare_exchange_strong_explicit(&r->first_tile_ns, &zero, t0, memory_order_relaxed,
                                            memory_order_relaxed);
    eng_record rec;
    memset(&rec, 0, sizeof rec);
    rec.tile = r->tiles[t];
    if (past_deadline(r, t0))
        set_stop(r, RK_DEADLINE);
    int stop = atomic_load_explicit(&r->stop, memory_order_relaxed);
    if (stop != 0) {
        rec.code = (rk_status)stop;
        rec.worker = UINT32_MAX;
    } else {
        eng_tile_result res;
        memset(&res, 0, sizeof res);
        res.code = RK_OK;
        int64_t budget = stall_budget_ns(rec.tile.cost_ns);
        /* release: a reader that sees this start sees this tile's limit (engine_internal.h) */
        atomic_store_explicit(&w->st_stall_at, t0 + budget, memory_order_release);
        atomic_store_explicit(&w->st_tile_t0, t0, memory_order_release);
        w->running = r;
        r->job.run(r->job.arg, &rec.tile, w, &res);
        w->running = NULL;
        int64_t t1 = eng_now_ns();
        atomic_store_explicit(&w->st_tile_t0, 0, memory_order_release);
        atomic_store_explicit(&w->st_stall_at, INT64_MAX, memory_order_release);
        if (t1 - t0 > budget)
            atomic_fetch_add_explicit(&w->eng->st_stalls, 1, memory_order_relaxed);
        rec.code = res.code;
        rec.cells_ok = res.cells_ok;
        rec.worker = w->id;
        memcpy(rec.message, res.message, sizeof rec.message);
        rec.message[sizeof rec.message - 1] = '\0';
        atomic_fetch_add_explicit(&w->st_busy_ns, (uint64_t)(t1 - t0), memory_order_relaxed);
        atomic_fetch_add_explicit(&w->st_tiles, 1, memory_order_relaxed);
        atomic_store_explicit(&w->st_heartbeat, t1, memory_order_relaxed);
        if (steal) {
            atomic_fetch_add_explicit(&w->st_steals, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&r->steals, 1, memory_order_relaxed);
        }
    }
    atomic_fetch_add_explicit(&w->eng->st_tiles, 1, memory_order_relaxed);
    deliver(r, &rec);
    /* Stopped (deadline or cancel) and nobody has expired the rest yet: claim every tile not
     * started in one batch, as eng_wait would, rather than letting the workers record them one
     * by one through the ring. This is what bounds the overshoot when nobody waits (jobs
     * completed by callbacks). relaxed: `stop` only says a stop happened; `expired` decides,
     * under the job lock, which one thread expires. */
    int code = atomic_load_explicit(&r->stop, memory_order_relaxed);
    if (code != 0) {
        pthread_mutex_lock(&r->mu);
        bool mine = !r->expired && !r->completing;
        r->expired = r->expired || mine;
        pthread_mutex_unlock(&r->mu);
        if (mine)
            expire(r, code);
    }
}

/* Claims and runs tiles of node `node`'s list until it is exhausted or a submit happened. */
static void serve(eng_worker *w, eng_job *r, size_t node)
{
    eng_engine *e = w->eng;
    bool steal = node != w->node;
    size_t base = r->node_off[node], end = r->node_off[node + 1] - base;
    for (;;) {
        if (atomic_load_explicit(&e->gen, memory_order_relaxed) != w->seen_gen)
            return; /* a new job may come first (EDF) */
        if (e->cfg.stress && (rng_next(&w->rng) & 3) == 0)
            sched_yield();
        size_t i = atomic_fetch_add_explicit(&r->claim[node].next, 1, memory_order_relaxed);
        if (i >= end)
            return;
        run_tile(w, r, r->node_tiles[base + i], steal);
    }
}

static bool has_work(const eng_job *r, size_t node)
{
    size_t end = r->node_off[node + 1] - r->node_off[node];
    return atomic_load_explicit(&r->claim[node].next, memory_order_relaxed) < end;
}

/* EDF pick: own node first, then a steal. Engine lock held. */
static eng_job *pick_locked(eng_worker *w, size_t *node)
{
    eng_engine *e = w->eng;
    for (eng_job *r = e->head; r != NULL; r = r->next) {
        if (has_work(r, w->node)) {
            *node = w->node;
            return r;
        }
    }
    for (eng_job *r = e->head; r != NULL; r = r->next) {
        for (size_t k = 1; k < e->nnodes; k++) {
            size_t n = (w->node + k) % e->nnodes;
            if (has_work(r, n)) {
                *node = n;
                return r;
            }
        }
    }
    return NULL;
}

void *eng_worker_main(void *arg)
{
    eng_worker *w = arg;
    eng_engine *e = w->eng;
    eng_worker_bind(w);
    atomic_store_explicit(&w->st_heartbeat, eng_now_ns(), memory_order_relaxed);
    bool spun = false;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        void *old_scratch = NULL;
        size_t old_bytes = 0;
        if (w->scratch_next != NULL) {
            old_scratch = w->scratch;
            old_bytes = w->scratch_bytes;
            w->scratch = w->scratch_next;
            w->scratch_bytes = w->scratch_next_bytes;
            w->scratch_next = NULL;
            w->scratch_next_bytes = 0;
        }
        size_t node = 0;
        w->seen_gen = atomic_load_explicit(&e->gen, memory_order_relaxed);
        eng_job *r = pick_locked(w, &node);
        if (r != NULL)
            req_ref(r);
        if (r != NULL || old_scratch != NULL) {
            pthread_mutex_unlock(&e->mu);
            eng_scratch_free(e, old_scratch, old_bytes);
            if (r != NULL) {
                serve(w, r, node);
                req_unref(r);
                spun = false;
            }
            pthread_mutex_lock(&e->mu);
            continue;
        }
        if (e->shutdown && e->head == NULL)
            break;
        if (!spun && !e->cfg.stress && !e->shutdown) {
            /* Bounded spin: a submit right behind the last one is served without a sleep. */
            uint64_t g = w->seen_gen;
            pthread_mutex_unlock(&e->mu);
            for (int i = 0; i < ENG_SPIN_ROUNDS; i++)
                if (atomic_load_explicit(&e->gen, memory_order_relaxed) != g)
                    break;
            spun = true;
            pthread_mutex_lock(&e->mu);
            continue;
        }
        w->sleeping = true;
        w->woken = false;
        while (!w->woken)
            pthread_cond_wait(&w->cv, &e->mu);
        w->sleeping = false;
        spun = false;
        atomic_store_explicit(&w->st_heartbeat, eng_now_ns(), memory_order_relaxed);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* ---- the tile's view ---- */

bool eng_should_stop(eng_worker *w)
{
    eng_job *r = w->running;
    if (r == NULL)
        return false;
    /* Every poll is a heartbeat: a worker inside a long tile is seen to be alive, and one that
     * stops polling is seen to stall (eng_worker_stats_get). One clock read per poll. */
    int64_t now = eng_now_ns();
    atomic_store_explicit(&w->st_heartbeat, now, memory_order_relaxed);
    if (atomic_load_explicit(&r->stop, memory_order_relaxed) != 0)
        return true;
    if (r->deadline != ENG_NO_DEADLINE && now >= r->deadline) {
        set_stop(r, RK_DEADLINE);
        return true;
    }
    return false;
}

rk_status eng_stop_code(eng_worker *w)
{
    eng_job *r = w->running;
    if (r == NULL)
        return RK_OK;
    int s = atomic_load_explicit(&r->stop, memory_order_relaxed);
    if (s != 0)
        return (rk_status)s;
    return past_deadline(r, eng_now_ns()) ? RK_DEADLINE : RK_OK;
}

/* ---- the caller's side ---- */

rk_status eng_wait(eng_job *r, int64_t until)
{
    if (r == NULL)
        return RK_BAD_ARGUMENT;
    req_ref(r);
    rk_status st = RK_OK;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        if (drain_locked(r)) {
            pthread_mutex_unlock(&r->mu);
            finish(r);
            pthread_mutex_lock(&r->mu);
            continue;
        }
        if (atomic_load_explicit(&r->done, memory_order_relaxed))
            break;
        int64_t now = eng_now_ns();
        if (!r->expired && !r->completing && past_deadline(r, now)) {
            r->expired = true;
            pthread_mutex_unlock(&r->mu);
            expire(r, RK_DEADLINE);
            pthread_mutex_lock(&r->mu);
            continue;
        }
        if (until != ENG_NO_DEADLINE && now >= until) {
            st = RK_TIMEOUT;
            break;
        }
        int64_t wake = until;
        if (!r->expired && r->deadline < wake)
            wake = r->deadline;
        if (wake == ENG_NO_DEADLINE) {
            pthread_cond_wait(&r->cv, &r->mu);
        } else {
            struct timespec ts = eng_timespec(wake);
            pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        }
    }
    pthread_mutex_unlock(&r->mu);
    req_unref(r);
    return st;
}

void eng_cancel(eng_job *r)
{
    if (r == NULL || atomic_load_explicit(&r->done, memory_order_acquire))
        return;
    req_ref(r);
    int expected = 0;
    if (atomic_compare_exchange_strong_explicit(&r->stop, &expected, RK_CANCELLED,
                                                memory_order_relaxed, memory_order_relaxed))
        atomic_fetch_add_explicit(&r->eng->st_cancels, 1, memory_order_relaxed);
    expire(r, RK_CANCELLED);
    req_unref(r);
}

bool eng_job_done(const eng_job *r)
{
    return r != NULL && atomic_load_explicit(&((eng_job *)r)->done, memory_order_acquire);
}

const eng_record *eng_job_records(const eng_job *r, size_t *n)
{
    if (n != NULL)
        *n = r != NULL ? r->ntiles : 0;
    return r != NULL ? r->records : NULL;
}

void eng_job_stats_get(const eng_job *r, eng_job_stats *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof *out);
    if (r == NULL)
        return;
    eng_job *m = (eng_job *)r; /* the lock and the atomics */
    pthread_mutex_lock(&m->mu);
    out->tiles = r->ntiles;
    out->tiles_ok = r->tiles_ok;
    out->cells = r->ncells;
    out->cells_ok = r->cells_ok;
    out->submitted_ns = r->submitted_ns;
    out->first_tile_ns = atomic_load_explicit(&m->first_tile_ns, memory_order_relaxed);
    out->completed_ns = r->completing ? r->completed_ns : 0;
    out->deadline_ns = r->deadline;
    out->overshoot_ns = r->completing && r->deadline != ENG_NO_DEADLINE &&
                                r->completed_ns > r->deadline
                            ? r->completed_ns - r->deadline
                            : 0;
    out->steals = atomic_load_explicit(&m->steals, memory_order_relaxed);
    out->channel_max = atomic_load_explicit(&m->ch.max_occupancy, memory_order_relaxed);
    pthread_mutex_unlock(&m->mu);
}

void eng_job_free(eng_job *r)
{
    if (r == NULL)
        return;
    eng_cancel(r);
    eng_wait(r, ENG_NO_DEADLINE);
    req_unref(r);
}

rk_status eng_run(eng_engine *e, const eng_job_desc *job, int64_t deadline, eng_job **out_req)
{
    if (out_req != NULL)
        *out_req = NULL;
    if (out_req == NULL)
        return RK_BAD_ARGUMENT;
    eng_job *r;
    rk_status st = eng_submit(e, job, deadline, NULL, NULL, &r);
    if (st != RK_OK)
        return st;
    st = eng_wait(r, ENG_NO_DEADLINE);
    *out_req = r;
    return st;
}
