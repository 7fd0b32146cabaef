/*
 * layout.h - the valid positions of a data set laid out for evaluation: fixed chunks of
 * RSK_CHUNK rows in file order, each chunk structure-of-arrays grouped by instrument kind and
 * placed in the memory of the NUMA node that will evaluate it.
 *
 * A chunk is the unit of placement and of scheduling: the engine's rows are chunks, each owned
 * by one NUMA node. Its size is a compromise: large enough that a model batch call amortises
 * its overhead and fills the vector kernels' blocks of 16 (a book with 10% american options has
 * about 50 of each kind per chunk, 100 per batch call when a grid prices both bumps together),
 * small enough that one chunk in one state is a few tens of microseconds (1024 rows of the W1
 * mix take about 40 µs). The results do not depend on it: sums are exact (xsum.h) and every
 * kernel prices an item the same wherever it sits in a batch.
 *
 * Within a chunk, slots are the valid rows grouped by kind (file order within a kind; american
 * closed forms before american trees), so one model batch call prices a run of one kind.
 * Invalid rows have no slot.
 *
 * Ownership: rsk_layout owns its chunks (allocated node-local through the engine, or plain
 * when built without one). Read-only after rsk_layout_build(); any thread may read it.
 */
#ifndef RSK_LAYOUT_H
#define RSK_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "engine.h"
#include "model.h"

#define RSK_CHUNK 1024u /* rows per chunk (at most 65535: slots are 16-bit) */

typedef struct rsk_chunk {
    uint32_t row0;                    /* first row (index into dat_positions) */
    uint32_t nrows;                   /* rows in this chunk, <= RSK_CHUNK */
    uint32_t nslots;                  /* valid rows */
    uint32_t node;                    /* NUMA node owning the chunk */
    uint32_t seg[MDL_KIND_COUNT + 1]; /* slots [seg[k], seg[k+1]) hold kind k */
    uint32_t max_steps;               /* largest CRR steps in the chunk (fallback included) */
    double cost_ns;                   /* estimated ns to price every slot once */
    /* per slot: */
    uint16_t *row;  /* row within the chunk */
    uint32_t *book; /* book index */
    uint32_t *und;  /* `underlying` index (spot, or rate for bonds) */
    uint32_t *rate; /* rate underlying or DAT_NONE (then rate_lit) */
    uint32_t *vol;  /* vol underlying or DAT_NONE (then vol_lit) */
    uint32_t *steps;
    double *qty, *K, *T, *rate_lit, *vol_lit, *q, *coupon, *freq;
    /* slot_of_row[r] = slot of row r, or UINT16_MAX when row r is invalid */
    uint16_t *slot_of_row;
    size_t bytes; /* size of the single allocation holding the arrays above */
    /* moves[s * mask_words + j / 64] bit j % 64: factor j moves an input of slot s (one of its
     * underlyings loads on it). Node-local, its own allocation of moves_bytes. */
    uint64_t *moves;
    size_t moves_bytes;
} rsk_chunk;

typedef struct rsk_layout {
    const dat_dataset *ds;
    eng_engine *eng; /* allocator of the chunks; NULL = plain memory */
    mdl_isa isa;                /* instruction-set level of the pricing (rsk_layout_set_isa) */
    const mdl_entry *models;    /* the model table of that level */
    size_t nchunks;
    rsk_chunk *chunks;
    uint32_t *chunk_node; /* node per chunk (for eng_job_desc.row_node) */
    double *chunk_cost;   /* cost_ns per chunk (for eng_job_desc.row_cost) */
    uint32_t max_steps;   /* over all chunks */
    size_t nvalid;
    size_t mask_words; /* 64-bit words per slot in each chunk's moves[] */
} rsk_layout;

/* Builds the layout of ds's valid positions. Chunks are spread over the engine's nodes in
 * contiguous ranges (eng may be NULL: one node, plain memory). ds must outlive the portfolio.
 * Returns RK_OK or RK_NO_MEMORY. */
rk_status rsk_layout_build(const dat_dataset *ds, eng_engine *eng, rsk_layout *layout);
void rsk_layout_free(rsk_layout *layout);
/* Prices this layout's evaluations with the kernels of `isa` (a supported level; the default
 * after rsk_layout_build is mdl_isa_auto()). Before any evaluation starts. Returns
 * RK_BAD_ARGUMENT when this CPU or build cannot run the level. */
rk_status rsk_layout_set_isa(rsk_layout *layout, mdl_isa isa);

/* True when a bump of factor j changes an input of slot s of chunk c. */
static inline bool rsk_slot_moves(const rsk_layout *layout, const rsk_chunk *c, uint32_t s,
                                  size_t j)
{
    return (c->moves[(size_t)s * layout->mask_words + j / 64] >> (j % 64)) & 1u;
}

/* Estimated ns to price one unit of kind k with the given CRR steps (the tile cost model). */
double rsk_price_cost_ns(mdl_kind k, uint32_t steps);

#endif /* RSK_LAYOUT_H */
