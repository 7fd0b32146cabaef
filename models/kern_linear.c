/*
 * kern_linear.c - the batch kernels of the closed forms without early exercise: spot, forward,
 * european call and put, bond; compiled once per level (kern.h).
 */
#include <stdbool.h>

#include "kern.h"

/* Items between two polls: a block of closed forms takes well under a µs. */
#define POLL_BLOCKS 64u

static void clear_flags(const mdl_batch *b, size_t i0, size_t n)
{
    if (b->flags != NULL)
        for (size_t j = 0; j < n; j++)
            b->flags[i0 + j] = 0;
}

static size_t spot(const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)
{
    (void)w;
    (void)poll;
    for (size_t i = 0; i < b->n; i++)
        b->price[i] = b->S[i];
    clear_flags(b, 0, b->n);
    return b->n;
}

/* S e^{-qT} - K e^{-rT}. */
static size_t forward(const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)
{
    (void)w;
    for (size_t i0 = 0, blocks = 0; i0 < b->n; i0 += MDL_VB, blocks++) {
        if (blocks > 0 && blocks % POLL_BLOCKS == 0 && mdl_poll_stop(poll))
            return i0;
        size_t n = b->n - i0 < MDL_VB ? b->n - i0 : MDL_VB;
        double S[MDL_VB], K[MDL_VB], T[MDL_VB], r[MDL_VB], q[MDL_VB], out[MDL_VB];
        mdl_block_load(S, b->S, i0, n);
        mdl_block_load(K, b->K, i0, n);
        mdl_block_load(T, b->T, i0, n);
        mdl_block_load(r, b->r, i0, n);
        mdl_block_load(q, b->q, i0, n);
        MDL_SIMD
        for (size_t j = 0; j < MDL_VB; j++)
            out[j] = S[j] * vm_exp(-q[j] * T[j]) - K[j] * vm_exp(-r[j] * T[j]);
        for (size_t j = 0; j < n; j++)
            b->price[i0 + j] = out[j];
        clear_flags(b, i0, n);
    }
    return b->n;
}

void MDL_KERN(mdl_kern_fill_linear)(mdl_entry *table)
{
    table[MDL_SPOT].variant = "vector";
    table[MDL_SPOT].batch = spot;
    table[MDL_FORWARD].variant = "vector";
    table[MDL_FORWARD].batch = forward;
}
