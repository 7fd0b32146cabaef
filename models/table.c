/*
 * table.c - the model tables: which function prices each instrument kind, one at a time (the
 * scalar reference, mdl_price_ref) and in batches (the entry a caller uses, and the reference
 * loop kept beside it for tests), one table per instruction-set level (model.h).
 *
 * mdl_init fills the tables once (pthread_once): every level starts from the reference loops,
 * then the level's kernels (kern_*.c, compiled for that level) register over them. A level
 * this build has no kernels for keeps no table (mdl_table_isa returns NULL).
 */
#include <pthread.h>
#include <stddef.h>

#include "internal.h"
#include "model.h"

/* Items between two polls: the cheap closed forms take well under 100 ns each. */
#define CHUNK 256u
/* Bjerksund-Stensland takes a few µs. */
#define CHUNK_AMERICAN 4u

/* Written once under pthread_once, then read-only (mdl_register_batch aside). */
static mdl_entry tables[MDL_ISA_COUNT][MDL_KIND_COUNT];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

/* The vectorised tree (kern_crr.c) keeps its values and its table of powers of u: 2 (n + 1). */
size_t mdl_work_needed(uint32_t steps)
{
    size_t n = steps > MDL_FALLBACK_STEPS ? (size_t)steps : (size_t)MDL_FALLBACK_STEPS;
    return 2 * (n + 1);
}

/* The american price by the tree; adds MDL_FLAG_STOPPED when the poll stopped it. */
static double american_tree(bool call, const mdl_in *in, uint32_t steps, const mdl_work *w,
                            const mdl_poll *poll, unsigned *fl)
{
    bool stopped = false;
    double p = mdl_crr(call, true, in->S, in->K, in->T, in->r, in->sigma, in->q, steps, w, poll,
                       &stopped);
    if (stopped)
        *fl |= MDL_FLAG_STOPPED;
    return p;
}

static double american(bool call, const mdl_in *in, const mdl_work *w, const mdl_poll *poll,
                       unsigned *fl)
{
    if (in->steps > 0)
        return american_tree(call, in, in->steps, w, poll, fl);
    bool defined;
    double p = call ? mdl_bs2002_call(in->S, in->K, in->T, in->r, in->sigma, in->q, &defined)
                    /* P(S,K,T,r,q,s) = C(K,S,T,q,r,s) */
                    : mdl_bs2002_call(in->K, in->S, in->T, in->q, in->sigma, in->r, &defined);
    if (defined)
        return p;
    *fl |= MDL_FLAG_FALLBACK;
    return american_tree(call, in, MDL_FALLBACK_STEPS, w, poll, fl);
}

double mdl_price_ref(mdl_kind k, const mdl_in *in, const mdl_work *w, const mdl_poll *poll,
                     unsigned *flags)
{
    unsigned fl = 0;
    double p;
    switch (k) {
    case MDL_SPOT:
        p = in->S;
        break;
    case MDL_FORWARD:
        p = mdl_forward(in->S, in->K, in->T, in->r, in->q);
        break;
    case MDL_EURO_CALL:
    case MDL_EURO_PUT:
        p = mdl_bsm(k == MDL_EURO_CALL, in->S, in->K, in->T, in->r, in->sigma, in->q);
        break;
    case MDL_AMER_CALL:
    case MDL_AMER_PUT:
        p = american(k == MDL_AMER_CALL, in, w, poll, &fl);
        break;
    case MDL_BOND:
        p = mdl_bond(in->r, in->T, in->coupon, in->freq);
        break;
    default:
        p = NAN;
        break;
    }
    if (flags != NULL)
        *flags = fl;
    return p;
}

/* ---- reference batches: loops over mdl_price_ref ---- */

static double at(const double *a, size_t i)
{
    return a != NULL ? a[i] : 0.0;
}

static size_t ref_batch(mdl_kind k, const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)
{
    size_t every = (k == MDL_AMER_CALL || k == MDL_AMER_PUT) ? CHUNK_AMERICAN : CHUNK;
    for (size_t i = 0; i < b->n; i++) {
        if (i > 0 && i % every == 0 && mdl_poll_stop(poll))
            return i;
        mdl_in in = {at(b->S, i),     at(b->K, i),      at(b->T, i),
                     at(b->r, i),     at(b->sigma, i),  at(b->q, i),
                     at(b->coupon, i), at(b->freq, i),  b->steps != NULL ? b->steps[i] : 0};
        unsigned fl;
        b->price[i] = mdl_price_ref(k, &in, w, poll, &fl);
        if (b->flags != NULL)
            b->flags[i] = (uint8_t)fl;
        if (fl & MDL_FLAG_STOPPED)
            return i;
    }
    return b->n;
}

#define REF_BATCH_(id, name)                                                                       \
    static size_t ref_batch_##id(const mdl_batch *b, const mdl_work *w, const mdl_poll *poll)      \
    {                                                                                              \
        return ref_batch(MDL_##id, b, w, poll);                                                    \
    }
MDL_KIND_MAP(REF_BATCH_)
#undef REF_BATCH_

/* ---- the tables ---- */

static void table_fill(void)
{
    for (int l = 0; l < (int)MDL_ISA_COUNT; l++) {
        mdl_entry *table = tables[l];
#define REF_ENTRY_(id, name)                                                                       \
    table[MDL_##id] = (mdl_entry){name, "reference", ref_batch_##id, ref_batch_##id};
        MDL_KIND_MAP(REF_ENTRY_)
#undef REF_ENTRY_
    }
    mdl_kern_fill_linear_baseline(tables[MDL_ISA_BASELINE]);
    mdl_kern_fill_american_baseline(tables[MDL_ISA_BASELINE]);
#ifdef MDL_HAVE_X86_KERNELS
    mdl_kern_fill_linear_avx2(tables[MDL_ISA_AVX2]);
    mdl_kern_fill_american_avx2(tables[MDL_ISA_AVX2]);
    mdl_kern_fill_linear_avx512(tables[MDL_ISA_AVX512]);
    mdl_kern_fill_american_avx512(tables[MDL_ISA_AVX512]);
#endif
}

void mdl_init(void)
{
    pthread_once(&table_once, table_fill);
}

const mdl_entry *mdl_table_isa(mdl_isa isa)
{
    mdl_init();
    if (!mdl_isa_supported(isa))
        return NULL;
    return tables[isa];
}

mdl_crr_fn mdl_crr_for(mdl_isa isa)
{
    switch (isa) {
    case MDL_ISA_BASELINE:
        return mdl_crr_vec_baseline;
#ifdef MDL_HAVE_X86_KERNELS
    case MDL_ISA_AVX2:
        return mdl_crr_vec_avx2;
    case MDL_ISA_AVX512:
        return mdl_crr_vec_avx512;
#endif
    default:
        return NULL;
    }
}

const mdl_entry *mdl_table(void)
{
    return mdl_table_isa(mdl_isa_best());
}

void mdl_register_batch(mdl_kind k, const char *variant, mdl_batch_fn fn)
{
    if ((unsigned)k >= (unsigned)MDL_KIND_COUNT || fn == NULL)
        return;
    mdl_init();
    for (int l = 0; l < (int)MDL_ISA_COUNT; l++) {
        tables[l][k].variant = variant;
        tables[l][k].batch = fn;
    }
}
