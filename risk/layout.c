/*
 * layout.c - builds the chunked, kind-grouped, node-local layout of the valid positions
 * (see layout.h).
 */
#include <stdlib.h>
#include <string.h>

#include "layout.h"

/* Per-price costs (ns, one core) of the vector kernels at AVX-512, as `bench --only kernels`
 * reported them on W1 (benchmarks/RESULTS.md), rounded: they decide how many columns a tile
 * gets, so that tiles take about the same time, and how often a running tile polls for a stop
 * (eval.c). Only their ratios matter for the tiles; at the lower levels the ratios differ by
 * up to 2x (american against european), which only makes tiles less even, and the kernels
 * poll by themselves between blocks. A CRR tree of n steps has about
 * n^2/2 nodes at about 0.35 ns each (7 µs at 200 steps). */
double rsk_price_cost_ns(mdl_kind k, uint32_t steps)
{
    switch (k) {
    case MDL_SPOT:
        return 1.0;
    case MDL_FORWARD:
        return 3.0;
    case MDL_EURO_CALL:
    case MDL_EURO_PUT:
        return 12.0;
    case MDL_AMER_CALL:
    case MDL_AMER_PUT:
        if (steps == 0)
            return 340.0;
        return 60.0 + 0.18 * (double)steps * (double)steps;
    case MDL_BOND:
        return 12.0;
    default:
        return 10.0;
    }
}

/* Byte layout of one chunk's slot arrays, all in a single allocation: doubles first (8-byte
 * aligned), then 32-bit, then 16-bit arrays. */
enum { CHUNK_DOUBLES = 8, CHUNK_U32 = 5 };

static size_t chunk_bytes(void)
{
    return (size_t)RSK_CHUNK *
           (CHUNK_DOUBLES * sizeof(double) + CHUNK_U32 * sizeof(uint32_t) + 2 * sizeof(uint16_t));
}

static void chunk_bind_arrays(rsk_chunk *c, unsigned char *base)
{
    double *d = (double *)(void *)base;
    c->qty = d + 0 * RSK_CHUNK;
    c->K = d + 1 * RSK_CHUNK;
    c->T = d + 2 * RSK_CHUNK;
    c->rate_lit = d + 3 * RSK_CHUNK;
    c->vol_lit = d + 4 * RSK_CHUNK;
    c->q = d + 5 * RSK_CHUNK;
    c->coupon = d + 6 * RSK_CHUNK;
    c->freq = d + 7 * RSK_CHUNK;
    uint32_t *u = (uint32_t *)(void *)(d + CHUNK_DOUBLES * RSK_CHUNK);
    c->book = u + 0 * RSK_CHUNK;
    c->und = u + 1 * RSK_CHUNK;
    c->rate = u + 2 * RSK_CHUNK;
    c->vol = u + 3 * RSK_CHUNK;
    c->steps = u + 4 * RSK_CHUNK;
    uint16_t *h = (uint16_t *)(void *)(u + CHUNK_U32 * RSK_CHUNK);
    c->row = h;
    c->slot_of_row = h + RSK_CHUNK;
}

static void chunk_fill(rsk_chunk *c, const dat_positions *p)
{
    uint32_t count[MDL_KIND_COUNT] = {0};
    uint32_t closed[MDL_KIND_COUNT] = {0}; /* american slots priced in closed form */
    for (uint32_t r = 0; r < c->nrows; r++) {
        size_t i = (size_t)c->row0 + r;
        if (p->status[i] == RK_OK) {
            count[p->kind[i]]++;
            closed[p->kind[i]] += p->steps[i] == 0;
        }
    }
    c->seg[0] = 0;
    for (unsigned k = 0; k < MDL_KIND_COUNT; k++)
        c->seg[k + 1] = c->seg[k] + count[k];
    c->nslots = c->seg[MDL_KIND_COUNT];

    /* Within an american segment, closed forms come first and trees after them, so that the
     * closed forms are priced in runs and each tree alone. */
    uint32_t next[MDL_KIND_COUNT], next_tree[MDL_KIND_COUNT];
    memcpy(next, c->seg, sizeof next);
    for (unsigned k = 0; k < MDL_KIND_COUNT; k++)
        next_tree[k] = c->seg[k] + closed[k];
    c->cost_ns = 0.0;
    c->max_steps = 0;
    for (uint32_t r = 0; r < RSK_CHUNK; r++)
        c->slot_of_row[r] = UINT16_MAX;
    for (uint32_t r = 0; r < c->nrows; r++) {
        size_t i = (size_t)c->row0 + r;
        if (p->status[i] != RK_OK)
            continue;
        mdl_kind k = (mdl_kind)p->kind[i];
        bool tree = (k == MDL_AMER_CALL || k == MDL_AMER_PUT) && p->steps[i] > 0;
        uint32_t s = tree ? next_tree[k]++ : next[k]++;
        c->row[s] = (uint16_t)r;
        c->slot_of_row[r] = (uint16_t)s;
        c->book[s] = p->book[i];
        c->und[s] = p->und[i];
        c->rate[s] = p->rate[i];
        c->vol[s] = p->vol[i];
        c->steps[s] = p->steps[i];
        c->qty[s] = p->quantity[i];
        c->K[s] = p->strike[i];
        c->T[s] = p->expiry[i];
        c->rate_lit[s] = p->rate_lit[i];
        c->vol_lit[s] = p->vol_lit[i];
        c->q[s] = p->dividend[i];
        c->coupon[s] = p->coupon[i];
        c->freq[s] = p->frequency[i];
        c->cost_ns += rsk_price_cost_ns(k, p->steps[i]);
        if (k == MDL_AMER_CALL || k == MDL_AMER_PUT) {
            uint32_t need = p->steps[i] > 0 ? p->steps[i] : MDL_FALLBACK_STEPS;
            if (need > c->max_steps)
                c->max_steps = need;
        }
    }
}

/* The factors that move each slot's inputs: the union of the loadings of its underlyings
 * (spot or yield, rate, vol; literals move with nothing). */
static void chunk_moves(rsk_chunk *c, const dat_market *m, size_t words)
{
    size_t F = m->nfactors;
    memset(c->moves, 0, c->moves_bytes);
    for (uint32_t s = 0; s < c->nslots; s++) {
        uint64_t *mask = c->moves + (size_t)s * words;
        const uint32_t und[3] = {c->und[s], c->rate[s], c->vol[s]};
        for (int k = 0; k < 3; k++) {
            if (und[k] == DAT_NONE || und[k] >= m->nund)
                continue;
            const double *beta = m->beta + (size_t)und[k] * F;
            for (size_t j = 0; j < F; j++)
                if (beta[j] != 0.0)
                    mask[j / 64] |= UINT64_C(1) << (j % 64);
        }
    }
}

rk_status rsk_layout_build(const dat_dataset *ds, eng_engine *eng, rsk_layout *layout)
{
    memset(layout, 0, sizeof *layout);
    layout->ds = ds;
    layout->eng = eng;
    layout->isa = mdl_isa_auto();
    layout->models = mdl_table_isa(layout->isa);
    const dat_positions *p = &ds->pos;
    size_t nchunks = (p->n + RSK_CHUNK - 1) / RSK_CHUNK;
    if (p->n > UINT32_MAX - RSK_CHUNK)
        return RK_BAD_ARGUMENT;
    layout->nchunks = nchunks;
    layout->chunks = calloc(nchunks ? nchunks : 1, sizeof *layout->chunks);
    layout->chunk_node = calloc(nchunks ? nchunks : 1, sizeof *layout->chunk_node);
    layout->chunk_cost = calloc(nchunks ? nchunks : 1, sizeof *layout->chunk_cost);
    if (layout->chunks == NULL || layout->chunk_node == NULL || layout->chunk_cost == NULL)
        goto fail;

    size_t nnodes = eng != NULL ? eng_node_count(eng) : 1;
    layout->mask_words = (ds->mkt.nfactors + 63) / 64;
    if (layout->mask_words == 0)
        layout->mask_words = 1;
    size_t bytes = chunk_bytes();
    for (size_t c = 0; c < nchunks; c++) {
        rsk_chunk *ch = &layout->chunks[c];
        ch->row0 = (uint32_t)(c * RSK_CHUNK);
        ch->nrows =
            (uint32_t)((p->n - c * RSK_CHUNK) < RSK_CHUNK ? p->n - c * RSK_CHUNK : RSK_CHUNK);
        /* Contiguous ranges of chunks per node: node n gets chunks [n*C/N, (n+1)*C/N). */
        ch->node = (uint32_t)(c * nnodes / nchunks);
        void *mem = eng != NULL ? eng_node_alloc(eng, ch->node, bytes) : calloc(1, bytes);
        if (mem == NULL)
            goto fail;
        ch->bytes = bytes;
        chunk_bind_arrays(ch, mem);
        chunk_fill(ch, p);
        ch->moves_bytes = (ch->nslots ? ch->nslots : 1) * layout->mask_words * sizeof(uint64_t);
        ch->moves = eng != NULL ? eng_node_alloc(eng, ch->node, ch->moves_bytes)
                                : calloc(1, ch->moves_bytes);
        if (ch->moves == NULL)
            goto fail;
        chunk_moves(ch, &ds->mkt, layout->mask_words);
        layout->chunk_node[c] = ch->node;
        /* The cost model wants ns per cell (chunk x state); never zero so empty chunks still
         * get cut sensibly. */
        layout->chunk_cost[c] = ch->cost_ns > 1.0 ? ch->cost_ns : 1.0;
        if (ch->max_steps > layout->max_steps)
            layout->max_steps = ch->max_steps;
        layout->nvalid += ch->nslots;
    }
    return RK_OK;

fail:
    rsk_layout_free(layout);
    return RK_NO_MEMORY;
}

void rsk_layout_free(rsk_layout *layout)
{
    if (layout == NULL)
        return;
    if (layout->chunks != NULL) {
        for (size_t c = 0; c < layout->nchunks; c++) {
            rsk_chunk *ch = &layout->chunks[c];
            if (ch->moves != NULL) {
                if (layout->eng != NULL)
                    eng_node_free(layout->eng, ch->moves, ch->moves_bytes);
                else
                    free(ch->moves);
            }
            if (ch->bytes == 0)
                continue;
            void *mem = ch->qty;
            if (layout->eng != NULL)
                eng_node_free(layout->eng, mem, ch->bytes);
            else
                free(mem);
        }
    }
    free(layout->chunks);
    free(layout->chunk_node);
    free(layout->chunk_cost);
    memset(layout, 0, sizeof *layout);
}

rk_status rsk_layout_set_isa(rsk_layout *layout, mdl_isa isa)
{
    const mdl_entry *models = mdl_table_isa(isa);
    if (models == NULL)
        return RK_BAD_ARGUMENT;
    layout->isa = isa;
    layout->models = models;
    return RK_OK;
}
