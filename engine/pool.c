/*
 * pool.c - the engine handle: one pool of workers per NUMA node, one worker per core, each
 * worker pinned to its core by the worker thread itself; node-local memory; the description of
 * what was asked for and what was obtained; statistics. The scheduling itself is sched.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine_internal.h"

/* ---- node-local memory ---- */

/* Every block carries a 64-byte header saying how it was obtained, so that eng_node_free
 * matches eng_node_alloc whatever path the allocation took (bound, or plain after a refusal). */
enum { ENG_MEM_MAGIC = 0x4e4f4445u, ENG_MEM_HWLOC = 1, ENG_MEM_PLAIN = 2 };
typedef struct mem_header {
    uint32_t magic, kind;
    void *base;   /* what the allocator returned */
    size_t total; /* bytes asked of it */
} mem_header;
_Static_assert(sizeof(mem_header) <= ENG_CACHE_LINE, "header fits in one line");

static void *node_alloc(eng_engine *e, size_t node, size_t bytes)
{
    if (e == NULL || bytes > SIZE_MAX - 3 * ENG_CACHE_LINE)
        return NULL;
    /* Room for the header and for aligning whatever the allocator returned to a line. */
    size_t body = ((bytes + ENG_CACHE_LINE - 1) / ENG_CACHE_LINE) * ENG_CACHE_LINE;
    size_t total = body + 2 * ENG_CACHE_LINE;
    void *base = NULL;
    uint32_t kind = ENG_MEM_PLAIN;
    if (e->pin && e->topo.this_system && node < e->nnodes && e->nodes[node].nodeset != NULL) {
        /* Pages bound to the node; first touch (the memset) places them. */
        base = hwloc_alloc_membind(e->topo.topo, total, e->nodes[node].nodeset,
                                   HWLOC_MEMBIND_BIND, HWLOC_MEMBIND_BYNODESET);
        if (base != NULL)
            kind = ENG_MEM_HWLOC;
    }
    if (base == NULL) {
        base = aligned_alloc(ENG_CACHE_LINE, total);
        if (base == NULL)
            return NULL;
    }
    memset(base, 0, total);
    uintptr_t p = ((uintptr_t)base + ENG_CACHE_LINE + ENG_CACHE_LINE - 1) &
                  ~(uintptr_t)(ENG_CACHE_LINE - 1);
    mem_header *h = (mem_header *)(p - ENG_CACHE_LINE);
    h->magic = ENG_MEM_MAGIC;
    h->kind = kind;
    h->base = base;
    h->total = total;
    return (void *)p;
}

static void node_free(eng_engine *e, void *ptr)
{
    if (ptr == NULL)
        return;
    mem_header *h = (mem_header *)((uintptr_t)ptr - ENG_CACHE_LINE);
    ENG_ASSERT(h->magic == ENG_MEM_MAGIC);
    h->magic = 0;
    if (h->kind == ENG_MEM_HWLOC)
        hwloc_free(e->topo.topo, h->base, h->total);
    else
        free(h->base);
}

void *eng_node_alloc(eng_engine *e, size_t node, size_t bytes)
{
    return node_alloc(e, node, bytes);
}

void eng_node_free(eng_engine *e, void *ptr, size_t bytes)
{
    (void)bytes; /* the header knows; kept in the signature so callers state the size */
    node_free(e, ptr);
}

void *eng_scratch_alloc(eng_engine *e, unsigned node, size_t bytes)
{
    return node_alloc(e, node, bytes);
}

void eng_scratch_free(eng_engine *e, void *p, size_t bytes)
{
    (void)bytes;
    node_free(e, p);
}

/* ---- binding ---- */

/* Called by the worker thread itself, first thing. Never fails: a refusal is recorded. */
void eng_worker_bind(eng_worker *w)
{
    eng_engine *e = w->eng;
    if (!e->pin) {
        w->bound = 0;
        snprintf(w->bind_msg, sizeof w->bind_msg, "not bound: pinning disabled");
    } else if (!e->topo.this_system) {
        w->bound = 0;
        snprintf(w->bind_msg, sizeof w->bind_msg,
                 "not bound: the topology is not this system");
    } else {
        hwloc_const_cpuset_t set = e->topo.cores[w->core]->cpuset;
        if (hwloc_set_cpubind(e->topo.topo, set, HWLOC_CPUBIND_THREAD) == 0) {
            w->bound = 1;
            snprintf(w->bind_msg, sizeof w->bind_msg, "bound");
        } else {
            w->bound = 0;
            snprintf(w->bind_msg, sizeof w->bind_msg, "not bound: %s", strerror(errno));
        }
    }
    pthread_mutex_lock(&e->start_mu);
    e->started++;
    pthread_cond_broadcast(&e->start_cv);
    pthread_mutex_unlock(&e->start_mu);
}

/* ---- lifecycle ---- */

static uint64_t seed_from(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return (x ^ (x >> 31)) | 1;
}

rk_status eng_create(const eng_config *cfg, eng_engine **out, char *msg, size_t msglen)
{
    if (msg != NULL && msglen > 0)
        msg[0] = '\0';
    if (out == NULL) {
        if (msg != NULL && msglen > 0)
            snprintf(msg, msglen, "eng_create: out is NULL");
        return RK_BAD_ARGUMENT;
    }
    *out = NULL;
    eng_config c = {0};
    if (cfg != NULL)
        c = *cfg;
    if (c.tile_target_us < 0 || c.threads > ENG_MAX_WORKERS) {
        if (msg != NULL && msglen > 0)
            snprintf(msg, msglen, "eng_create: threads above %d or negative tile target",
                     ENG_MAX_WORKERS);
        return RK_BAD_ARGUMENT;
    }
    const char *env = getenv("RK_STRESS");
    if (env != NULL && strcmp(env, "1") == 0)
        c.stress = 1;
    if (c.tile_target_us == 0)
        c.tile_target_us = ENG_DEFAULT_TILE_US;
    if (c.channel_capacity == 0)
        c.channel_capacity = ENG_DEFAULT_CHANNEL;
    if (c.stress)
        c.channel_capacity = 1;

    eng_engine *e = calloc(1, sizeof *e);
    if (e == NULL)
        return RK_NO_MEMORY;
    rk_status st = eng_topo_load(&e->topo, c.topology, msg, msglen);
    if (st != RK_OK) {
        free(e);
        return st;
    }
    c.topology = NULL; /* the caller's string need not outlive eng_create */
    if (c.threads == 0)
        c.threads = eng_topo_default_threads(&e->topo);
    e->cfg = c;
    e->pin = !c.no_pin;
    e->nnodes = e->topo.nnodes;
    e->nworkers = c.threads;
    e->rng = seed_from((uint64_t)eng_now_ns());
    e->nodes = calloc(e->nnodes, sizeof *e->nodes);
    e->workers = calloc(e->nworkers, sizeof *e->workers);
    size_t *core_of = calloc(e->nworkers, sizeof *core_of);
    if (e->nodes == NULL || e->workers == NULL || core_of == NULL) {
        free(core_of);
        free(e->nodes);
        free(e->workers);
        eng_topo_fini(&e->topo);
        free(e);
        return RK_NO_MEMORY;
    }
    for (size_t n = 0; n < e->nnodes; n++) {
        hwloc_obj_t o = e->topo.node_objs[n];
        e->nodes[n].nodeset = o != NULL ? o->nodeset : NULL;
        e->nodes[n].os_index = o != NULL ? o->os_index : 0;
    }
    eng_topo_assign(&e->topo, e->nworkers, core_of);
    pthread_mutex_init(&e->mu, NULL);
    pthread_mutex_init(&e->start_mu, NULL);
    pthread_cond_init(&e->start_cv, NULL);
    for (size_t i = 0; i < e->nworkers; i++) {
        eng_worker *w = &e->workers[i];
        w->eng = e;
        w->id = (unsigned)i;
        w->core = core_of[i];
        w->node = e->topo.core_node[core_of[i]];
        w->rng = seed_from(i + (uint64_t)eng_now_ns());
        pthread_cond_init(&w->cv, NULL);
        e->nodes[w->node].nworkers++;
    }
    free(core_of);

    size_t nstarted = 0;
    for (; nstarted < e->nworkers; nstarted++) {
        eng_worker *w = &e->workers[nstarted];
        if (pthread_create(&w->thread, NULL, eng_worker_main, w) != 0)
            break;
        w->started = true;
    }
    if (nstarted < e->nworkers) {
        if (msg != NULL && msglen > 0)
            snprintf(msg, msglen, "cannot start worker thread %zu of %zu", nstarted,
                     e->nworkers);
        eng_destroy(e);
        return RK_NO_MEMORY;
    }
    /* Wait until every worker has reported its binding, so eng_describe is complete. */
    pthread_mutex_lock(&e->start_mu);
    while (e->started < e->nworkers)
        pthread_cond_wait(&e->start_cv, &e->start_mu);
    pthread_mutex_unlock(&e->start_mu);
    *out = e;
    return RK_OK;
}

void eng_destroy(eng_engine *e)
{
    if (e == NULL)
        return;
    /* Workers leave once shutdown is set and no job is in flight (sched.c). */
    pthread_mutex_lock(&e->mu);
    e->shutdown = true;
    for (size_t i = 0; i < e->nworkers; i++) {
        e->workers[i].woken = true;
        pthread_cond_signal(&e->workers[i].cv);
    }
    pthread_mutex_unlock(&e->mu);
    for (size_t i = 0; i < e->nworkers; i++) {
        eng_worker *w = &e->workers[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        eng_scratch_free(e, w->scratch, w->scratch_bytes);
        eng_scratch_free(e, w->scratch_next, w->scratch_next_bytes);
        pthread_cond_destroy(&w->cv);
    }
    ENG_ASSERT(e->head == NULL);
    eng_sched_fini(e);
    pthread_mutex_destroy(&e->mu);
    pthread_mutex_destroy(&e->start_mu);
    pthread_cond_destroy(&e->start_cv);
    free(e->workers);
    free(e->nodes);
    eng_topo_fini(&e->topo);
    free(e);
}

/* ---- queries ---- */

size_t eng_node_count(const eng_engine *e)
{
    return e != NULL ? e->nnodes : 0;
}

size_t eng_worker_count(const eng_engine *e)
{
    return e != NULL ? e->nworkers : 0;
}

size_t eng_node_workers(const eng_engine *e, size_t node)
{
    return e != NULL && node < e->nnodes ? e->nodes[node].nworkers : 0;
}

unsigned eng_worker_id(const eng_worker *w)
{
    return w->id;
}

void *eng_worker_scratch(eng_worker *w)
{
    return w->scratch;
}

static void cpuset_str(hwloc_const_bitmap_t set, char *buf, size_t len)
{
    if (set == NULL || hwloc_bitmap_list_snprintf(buf, len, set) < 0)
        snprintf(buf, len, "-");
}

rk_status eng_topology_get(const eng_engine *e, eng_topology_info *out)
{
    if (out == NULL)
        return RK_BAD_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (e == NULL)
        return RK_BAD_ARGUMENT;
    snprintf(out->source, sizeof out->source, "%s", e->topo.source);
    out->this_system = e->topo.this_system;
    out->cores = e->topo.ncores;
    out->nodes = e->nnodes;
    out->workers = e->nworkers;
    out->pinning = e->pin;
    out->quota_cpus = e->topo.quota_cpus;
    out->pools = calloc(e->nnodes ? e->nnodes : 1, sizeof *out->pools);
    out->worker = calloc(e->nworkers ? e->nworkers : 1, sizeof *out->worker);
    if (out->pools == NULL || out->worker == NULL) {
        eng_topology_info_free(out);
        return RK_NO_MEMORY;
    }
    for (size_t n = 0; n < e->nnodes; n++) {
        eng_pool_info *p = &out->pools[n];
        p->os_index = e->nodes[n].os_index;
        p->workers = e->nodes[n].nworkers;
        cpuset_str(e->nodes[n].nodeset, p->nodeset, sizeof p->nodeset);
    }
    for (size_t i = 0; i < e->nworkers; i++) {
        const eng_worker *w = &e->workers[i];
        eng_worker_info *wi = &out->worker[i];
        wi->id = w->id;
        wi->node = w->node;
        wi->core = e->topo.cores[w->core]->logical_index;
        cpuset_str(e->topo.cores[w->core]->cpuset, wi->cpuset, sizeof wi->cpuset);
        wi->bound = w->bound;
        snprintf(wi->binding, sizeof wi->binding, "%s", w->bind_msg);
    }
    return RK_OK;
}

void eng_topology_info_free(eng_topology_info *t)
{
    if (t == NULL)
        return;
    free(t->pools);
    free(t->worker);
    t->pools = NULL;
    t->worker = NULL;
}

void eng_describe(const eng_engine *e, FILE *out)
{
    eng_topology_info t;
    if (out == NULL || eng_topology_get(e, &t) != RK_OK)
        return;
    fprintf(out, "topology: %s%s\n", t.source,
            t.this_system ? "" : " (not this system: no binding)");
    fprintf(out, "cores: %zu, NUMA nodes: %zu, workers: %zu, pinning: %s\n", t.cores, t.nodes,
            t.workers, t.pinning ? "on" : "off");
    if (t.quota_cpus > 0)
        fprintf(out, "cgroup CPU quota: %.2f CPUs\n", t.quota_cpus);
    for (size_t n = 0; n < t.nodes; n++)
        fprintf(out, "pool %zu: NUMA node P#%u (nodeset %s), %zu workers\n", n,
                t.pools[n].os_index, t.pools[n].nodeset, t.pools[n].workers);
    for (size_t i = 0; i < t.workers; i++) {
        const eng_worker_info *w = &t.worker[i];
        fprintf(out, "worker %u: node %u, core L#%u, cpuset %s, %s\n", w->id, w->node, w->core,
                w->cpuset, w->binding);
    }
    eng_topology_info_free(&t);
}

/* ---- statistics ---- */

/* Whether w is inside a tile past its stall budget at `now`; *in_ns and *budget_ns (optional)
 * get the time inside the tile and its budget, 0 when it runs none. Any thread. */
static bool worker_tile(eng_worker *w, int64_t now, int64_t *in_ns, int64_t *budget_ns)
{
    /* acquire, in the reverse order of the owner's stores (engine_internal.h) */
    int64_t t0 = atomic_load_explicit(&w->st_tile_t0, memory_order_acquire);
    int64_t at = atomic_load_explicit(&w->st_stall_at, memory_order_acquire);
    bool in = t0 != 0 && at != INT64_MAX && at >= t0;
    if (in_ns != NULL)
        *in_ns = in && now > t0 ? now - t0 : 0;
    if (budget_ns != NULL)
        *budget_ns = in ? at - t0 : 0;
    return in && now > at;
}

void eng_stats_get(const eng_engine *e, eng_stats *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof *out);
    if (e == NULL)
        return;
    eng_engine *m = (eng_engine *)e; /* atomics are read with relaxed loads only */
    out->jobs_submitted = atomic_load_explicit(&m->st_submitted, memory_order_relaxed);
    out->jobs_done = atomic_load_explicit(&m->st_done, memory_order_relaxed);
    out->jobs_in_flight =
        out->jobs_submitted > out->jobs_done ? out->jobs_submitted - out->jobs_done
                                                     : 0;
    out->tiles_done = atomic_load_explicit(&m->st_tiles, memory_order_relaxed);
    out->deadline_misses = atomic_load_explicit(&m->st_misses, memory_order_relaxed);
    out->cancels = atomic_load_explicit(&m->st_cancels, memory_order_relaxed);
    out->channel_max = atomic_load_explicit(&m->st_channel_max, memory_order_relaxed);
    out->stalls = atomic_load_explicit(&m->st_stalls, memory_order_relaxed);
    int64_t now = eng_now_ns();
    for (size_t i = 0; i < e->nworkers; i++)
        out->workers_stalled += worker_tile(&m->workers[i], now, NULL, NULL);
    out->nworkers = e->nworkers;
}

size_t eng_worker_stats_get(const eng_engine *e, eng_worker_stats *out, size_t n)
{
    if (e == NULL)
        return 0;
    int64_t now = eng_now_ns();
    for (size_t i = 0; i < n && i < e->nworkers && out != NULL; i++) {
        eng_worker *w = &((eng_engine *)e)->workers[i];
        out[i].node = w->node;
        out[i].bound = w->bound;
        out[i].tiles = atomic_load_explicit(&w->st_tiles, memory_order_relaxed);
        out[i].steals = atomic_load_explicit(&w->st_steals, memory_order_relaxed);
        out[i].busy_ns = atomic_load_explicit(&w->st_busy_ns, memory_order_relaxed);
        out[i].heartbeat_ns = atomic_load_explicit(&w->st_heartbeat, memory_order_relaxed);
        out[i].stalled = worker_tile(w, now, &out[i].tile_ns, &out[i].tile_budget_ns);
        memcpy(out[i].binding, w->bind_msg, sizeof out[i].binding);
    }
    return e->nworkers;
}
