/*
 * engine.c - rk_engine and the clock behind the public header: the engine's workers and pools
 * (engine/), its configuration, and its statistics with the request counters the API keeps.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

/* ---- time ---- */

int64_t rk_now_ns(void)
{
    return eng_now_ns();
}

int64_t rk_deadline_in(int64_t budget_ns)
{
    int64_t now = eng_now_ns();
    if (budget_ns <= 0)
        return now;
    if (budget_ns >= RK_DEADLINE_NONE - now)
        return RK_DEADLINE_NONE;
    return now + budget_ns;
}

/* ---- engine ---- */

void rk_engine_config_init(rk_engine_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof *cfg);
}

rk_status rk_engine_create(const rk_engine_config *cfg, rk_engine **out, char *msg,
                           size_t msglen)
{
    if (msg != NULL && msglen > 0)
        msg[0] = '\0';
    if (out == NULL)
        return RK_BAD_ARGUMENT;
    *out = NULL;
    rk_engine_config def;
    rk_engine_config_init(&def);
    if (cfg == NULL)
        cfg = &def;
    if (!(cfg->tile_target_us >= 0) || !isfinite(cfg->tile_target_us))
        return RK_BAD_ARGUMENT;
    mdl_isa isa = mdl_isa_auto();
    if (cfg->isa != RK_ISA_AUTO) {
        const char *name = rk_isa_name(cfg->isa);
        if (!rk_isa_supported(cfg->isa)) {
            if (msg != NULL && msglen > 0)
                snprintf(msg, msglen, "instruction-set level %s: %s", name ? name : "(unknown)",
                         name ? "not supported by this CPU" : "no such level");
            return RK_BAD_ARGUMENT;
        }
        isa = (mdl_isa)(cfg->isa - RK_ISA_BASELINE);
    }
    rk_engine *e = calloc(1, sizeof *e);
    if (e == NULL)
        return RK_NO_MEMORY;
    e->isa = isa;
    eng_config ec = {
        .threads = cfg->threads,
        .no_pin = cfg->no_pin != 0,
        .topology = cfg->topology,
        .tile_target_us = cfg->tile_target_us,
    };
    rk_status rc = eng_create(&ec, &e->eng, msg, msglen);
    if (rc != RK_OK) {
        free(e);
        return rc;
    }
    atomic_init(&e->submitted, 0);
    atomic_init(&e->completed, 0);
    atomic_init(&e->misses, 0);
    atomic_init(&e->cancels, 0);
    rsk_blas_init();
    *out = e;
    return RK_OK;
}

/* The public levels are the models' levels shifted by one (0 is "auto"). */
_Static_assert(RK_ISA_BASELINE - 1 == (int)MDL_ISA_BASELINE &&
                   RK_ISA_AVX2 - 1 == (int)MDL_ISA_AVX2 &&
                   RK_ISA_AVX512 - 1 == (int)MDL_ISA_AVX512 && MDL_ISA_COUNT == 3,
               "rk_isa and mdl_isa list the same levels in the same order");

static bool is_level(rk_isa isa)
{
    return isa >= RK_ISA_BASELINE && isa <= RK_ISA_AVX512;
}

rk_isa rk_engine_isa(const rk_engine *e)
{
    return e != NULL ? (rk_isa)(e->isa + RK_ISA_BASELINE) : RK_ISA_AUTO;
}

const char *rk_isa_name(rk_isa isa)
{
    if (isa == RK_ISA_AUTO)
        return "auto";
    return is_level(isa) ? mdl_isa_name((mdl_isa)(isa - RK_ISA_BASELINE)) : NULL;
}

bool rk_isa_supported(rk_isa isa)
{
    if (isa == RK_ISA_AUTO)
        return true;
    return is_level(isa) && mdl_isa_supported((mdl_isa)(isa - RK_ISA_BASELINE));
}

void rk_engine_destroy(rk_engine *e)
{
    if (e == NULL)
        return;
    eng_destroy(e->eng);
    free(e);
}

size_t rk_engine_workers(const rk_engine *e)
{
    return e != NULL ? eng_worker_count(e->eng) : 0;
}

rk_status rk_engine_stats_get(const rk_engine *e, rk_engine_stats *out)
{
    if (e == NULL || out == NULL)
        return RK_BAD_ARGUMENT;
    rk_engine *m = (rk_engine *)e;
    eng_stats es;
    eng_stats_get(e->eng, &es);
    memset(out, 0, sizeof *out);
    /* relaxed: statistics, see api_internal.h */
    out->requests_submitted = atomic_load_explicit(&m->submitted, memory_order_relaxed);
    out->requests_completed = atomic_load_explicit(&m->completed, memory_order_relaxed);
    out->requests_in_flight = out->requests_submitted > out->requests_completed
                                  ? out->requests_submitted - out->requests_completed
                                  : 0;
    out->deadline_misses = atomic_load_explicit(&m->misses, memory_order_relaxed);
    out->cancels = atomic_load_explicit(&m->cancels, memory_order_relaxed);
    out->tiles_done = es.tiles_done;
    out->channel_max = es.channel_max;
    out->workers = es.nworkers;
    out->stalls = es.stalls;
    out->workers_stalled = es.workers_stalled;
    return RK_OK;
}

rk_status rk_engine_worker_stats_get(const rk_engine *e, size_t worker, rk_worker_stats *out)
{
    if (e == NULL || out == NULL)
        return RK_BAD_ARGUMENT;
    if (worker >= eng_worker_count(e->eng))
        return RK_NOT_FOUND;
    /* eng_worker_stats_get fills a prefix: take the first worker+1 on the stack in batches */
    eng_worker_stats ws[64];
    size_t base = worker - worker % 64;
    size_t n = eng_worker_count(e->eng) - base;
    if (n > 64)
        n = 64;
    if (base == 0) {
        eng_worker_stats_get(e->eng, ws, n);
    } else {
        eng_worker_stats *all = malloc((base + n) * sizeof *all);
        if (all == NULL)
            return RK_NO_MEMORY;
        eng_worker_stats_get(e->eng, all, base + n);
        memcpy(ws, all + base, n * sizeof *ws);
        free(all);
    }
    const eng_worker_stats *w = &ws[worker - base];
    out->node = w->node;
    out->bound = w->bound;
    out->tiles = w->tiles;
    out->steals = w->steals;
    out->busy_ns = w->busy_ns;
    out->heartbeat_ns = w->heartbeat_ns;
    out->tile_ns = w->tile_ns;
    out->tile_budget_ns = w->tile_budget_ns;
    out->stalled = w->stalled;
    return RK_OK;
}
