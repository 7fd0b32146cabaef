/*
 * whatif.c - the public what-if: the portfolio's warm cache (rk_portfolio_warm) and rk_whatif,
 * a set of candidate positions validated by the loader's checks and evaluated against the
 * cache by risk/whatif.h.
 *
 * Sharing. A cache is immutable once made and reference counted under pf->wc_mu: the portfolio
 * holds one reference to its current cache, and each rk_whatif one to the cache of its last
 * run, so that its "before" figures and answers stay readable after the cache is replaced. A
 * what-if takes its reference with one lock and computes without any, in its own scratch:
 * concurrent what-ifs share nothing writable, and a warm one allocates nothing.
 *
 * Pinning. A result lets go of its market snapshot when it completes; a cache is made only
 * from a result whose snapshot is still the portfolio's current one (pinned for the time it
 * takes to copy what the cache needs), and is otherwise refused as stale.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "whatif.h"

typedef struct api_wcache {
    rsk_wcache c;     /* [imm] */
    uint64_t version; /* [imm] the market version it is pinned to */
    size_t refs;      /* [pf->wc_mu] the portfolio's (while current) + one per rk_whatif */
} api_wcache;

struct rk_whatif {
    rk_portfolio *pf; /* [imm] */
    /* Candidates: a data set whose market is the portfolio's (borrowed, never freed here) and
     * whose positions are the candidates, so that the loader's validation runs on them as it
     * runs on rows of positions.csv; its error records are the candidates'. [owner] */
    dat_dataset cand;
    size_t cap;  /* [owner] rows the candidate arrays hold */
    char *arena; /* [owner] candidate ids and new book names, NUL-terminated */
    size_t arena_len, arena_cap;
    size_t *id_off;        /* [owner] per candidate: offset of its id in arena */
    size_t *new_off;       /* [owner] per new book: offset of its name in arena */
    const char **new_name; /* [owner] the same as pointers (refreshed when arena moves) */
    size_t nnew, new_cap;
    const char **msg; /* [owner] per candidate: its message, or NULL */
    uint32_t *idtab;  /* [imm] hash table of the portfolio's position ids: row + 1, 0 empty */
    size_t idmask;    /* [imm] table size - 1 (a power of two) */
    rsk_wscratch ws;  /* [owner] */
    api_wcache *used; /* [owner] the cache of the last successful run (a reference), or NULL */
    rk_request *req;  /* [owner] RK_WHATIF_REFRESH's request, made on first use */
};

/* ---- caches ---- */

static void wcache_unref(rk_portfolio *pf, api_wcache *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&pf->wc_mu);
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&pf->wc_mu);
    if (last) {
        rsk_wcache_free(&c->c);
        free(c);
    }
}

void wcache_drop(rk_portfolio *pf)
{
    api_wcache *c = pf->wc;
    pf->wc = NULL;
    wcache_unref(pf, c);
}

rk_status rk_portfolio_warm(rk_portfolio *pf, const rk_result *res)
{
    /* a result the caller holds is complete (taken, or seen by the completion callback) */
    if (pf == NULL || res == NULL || res->pf != pf || res->run.status != RK_OK)
        return RK_BAD_ARGUMENT;
    api_snap *s = snap_pin(pf);
    if (s->version != res->version) {
        snap_unpin(pf, s);
        return RK_STALE;
    }
    api_wcache *c = calloc(1, sizeof *c);
    rk_status rc = c != NULL ? rsk_wcache_build(&c->c, &res->run) : RK_NO_MEMORY;
    snap_unpin(pf, s);
    if (rc != RK_OK) {
        free(c);
        return rc;
    }
    c->version = res->version;
    c->refs = 1;
    pthread_mutex_lock(&pf->wc_mu);
    api_wcache *old = pf->wc;
    pf->wc = c;
    pthread_mutex_unlock(&pf->wc_mu);
    wcache_unref(pf, old);
    return RK_OK;
}

uint64_t rk_portfolio_warm_version(const rk_portfolio *pf)
{
    if (pf == NULL)
        return 0;
    rk_portfolio *p = (rk_portfolio *)pf; /* the lock only */
    pthread_mutex_lock(&p->wc_mu);
    uint64_t v = p->wc != NULL ? p->wc->version : 0;
    pthread_mutex_unlock(&p->wc_mu);
    return v;
}

/* ---- ids ---- */

static size_t hash_str(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return (size_t)(h ^ (h >> 29));
}

/* The table of the portfolio's ids: duplicate ids are refused in O(1), as the loader refuses
 * them in positions.csv. */
static bool ids_build(rk_whatif *w)
{
    const dat_positions *p = &w->pf->ds->ds.pos;
    size_t size = 16;
    while (size < 2 * p->n)
        size *= 2;
    w->idtab = calloc(size, sizeof *w->idtab);
    if (w->idtab == NULL)
        return false;
    w->idmask = size - 1;
    for (size_t i = 0; i < p->n; i++) {
        size_t k = hash_str(p->id[i]) & w->idmask;
        while (w->idtab[k] != 0)
            k = (k + 1) & w->idmask;
        w->idtab[k] = (uint32_t)(i + 1);
    }
    return true;
}

static bool id_taken(const rk_whatif *w, const char *id)
{
    const dat_positions *p = &w->pf->ds->ds.pos;
    for (size_t k = hash_str(id) & w->idmask; w->idtab[k] != 0; k = (k + 1) & w->idmask)
        if (strcmp(p->id[w->idtab[k] - 1], id) == 0)
            return true;
    for (size_t i = 0; i < w->cand.pos.n; i++)
        if (strcmp(w->cand.pos.id[i], id) == 0)
            return true;
    return false;
}

/* ---- the what-if object ---- */

/* Grows the candidate arrays to cap rows. */
static bool grow_rows(rk_whatif *w, size_t cap)
{
    if (!positions_grow(&w->cand.pos, cap))
        return false;
    size_t *off = realloc(w->id_off, cap * sizeof *off);
    if (off == NULL)
        return false;
    w->id_off = off;
    const char **msg = realloc(w->msg, cap * sizeof *msg);
    if (msg == NULL)
        return false;
    w->msg = msg;
    w->cap = cap;
    return true;
}

/* Points the candidates' ids and the new books' names into the arena (after it moved). */
static void repoint(rk_whatif *w)
{
    for (size_t i = 0; i < w->cand.pos.n; i++)
        w->cand.pos.id[i] = w->arena + w->id_off[i];
    for (size_t b = 0; b < w->nnew; b++)
        w->new_name[b] = w->arena + w->new_off[b];
}

/* Copies s into the arena; *off receives its offset. */
static bool arena_put(rk_whatif *w, const char *s, size_t *off)
{
    size_t n = strlen(s) + 1;
    if (w->arena_cap - w->arena_len < n) {
        size_t cap = w->arena_cap ? w->arena_cap : 1024;
        while (cap - w->arena_len < n)
            cap *= 2;
        char *a = realloc(w->arena, cap);
        if (a == NULL)
            return false;
        w->arena = a;
        w->arena_cap = cap;
        repoint(w);
    }
    memcpy(w->arena + w->arena_len, s, n);
    *off = w->arena_len;
    w->arena_len += n;
    return true;
}

rk_status rk_whatif_create(rk_portfolio *pf, rk_whatif **out)
{
    if (pf == NULL || out == NULL)
        return RK_BAD_ARGUMENT;
    *out = NULL;
    rk_whatif *w = calloc(1, sizeof *w);
    if (w == NULL)
        return RK_NO_MEMORY;
    w->pf = pf;
    w->cand.mkt = pf->ds->ds.mkt; /* shallow: validation reads it, nobody frees it here */
    if (!ids_build(w) || !grow_rows(w, 4)) {
        rk_whatif_destroy(w);
        return RK_NO_MEMORY;
    }
    *out = w;
    return RK_OK;
}

/* Frees the candidates' error records (their messages). */
static void clear_errors(rk_whatif *w)
{
    for (size_t k = 0; k < w->cand.nerrors; k++)
        free(w->cand.errors[k].message);
    w->cand.nerrors = 0;
}

static void forget_run(rk_whatif *w)
{
    wcache_unref(w->pf, w->used);
    w->used = NULL;
}

void rk_whatif_destroy(rk_whatif *w)
{
    if (w == NULL)
        return;
    forget_run(w);
    rk_request_destroy(w->req);
    clear_errors(w);
    free(w->cand.errors);
    dat_positions *p = &w->cand.pos;
    void *arrs[] = {p->id,       p->line,     p->kind,      p->book,     p->quantity, p->und,
                    p->rate,     p->rate_lit, p->vol,       p->vol_lit,  p->strike,   p->expiry,
                    p->dividend, p->coupon,   p->frequency, p->steps,    p->status,   w->id_off,
                    w->msg,      w->arena,    w->new_off,   w->new_name, w->idtab};
    for (size_t k = 0; k < sizeof arrs / sizeof arrs[0]; k++)
        free(arrs[k]);
    rsk_wscratch_free(&w->ws);
    free(w);
}

rk_status rk_whatif_clear(rk_whatif *w)
{
    if (w == NULL)
        return RK_BAD_ARGUMENT;
    forget_run(w);
    clear_errors(w);
    w->cand.pos.n = 0;
    w->cand.pos.nbooks = 0;
    w->nnew = 0;
    w->arena_len = 0;
    return RK_OK;
}

/* The book index of `name` after the candidates: the portfolio's, or a new one (appended in
 * order of first appearance). DAT_NONE when it cannot be stored. */
static uint32_t book_of(rk_whatif *w, const char *name)
{
    const dat_positions *p = &w->pf->ds->ds.pos;
    for (size_t b = 0; b < p->nbooks; b++)
        if (strcmp(p->books[b], name) == 0)
            return (uint32_t)b;
    for (size_t b = 0; b < w->nnew; b++)
        if (strcmp(w->new_name[b], name) == 0)
            return (uint32_t)(p->nbooks + b);
    if (w->nnew == w->new_cap) {
        size_t cap = w->new_cap ? 2 * w->new_cap : 4;
        size_t *o = realloc(w->new_off, cap * sizeof *o);
        if (o == NULL)
            return DAT_NONE;
        w->new_off = o;
        const char **nm = realloc(w->new_name, cap * sizeof *nm);
        if (nm == NULL)
            return DAT_NONE;
        w->new_name = nm;
        w->new_cap = cap;
    }
    size_t off;
    if (!arena_put(w, name, &off))
        return DAT_NONE;
    w->new_off[w->nnew] = off;
    w->new_name[w->nnew] = w->arena + off;
    return (uint32_t)(p->nbooks + w->nnew++);
}

rk_status rk_whatif_add(rk_whatif *w, const rk_position *in, size_t *index)
{
    if (w == NULL || in == NULL || in->id == NULL || in->id[0] == '\0')
        return RK_BAD_ARGUMENT;
    if (id_taken(w, in->id))
        return RK_BAD_ARGUMENT;
    forget_run(w); /* the answers are of the candidates before this one */
    dat_positions *p = &w->cand.pos;
    if (p->n == w->cap && !grow_rows(w, 2 * w->cap))
        return RK_NO_MEMORY;
    size_t i = p->n, off;
    if (!arena_put(w, in->id, &off))
        return RK_NO_MEMORY;
    uint32_t book = DAT_NONE;
    if (in->book != NULL && in->book[0] != '\0' && (book = book_of(w, in->book)) == DAT_NONE)
        return RK_NO_MEMORY;
    w->id_off[i] = off;
    w->msg[i] = NULL;
    p->id[i] = w->arena + off;
    p->nbooks = w->pf->ds->ds.pos.nbooks + w->nnew;
    if (index != NULL)
        *index = i;
    size_t before = w->cand.nerrors;
    rk_status rc = position_store(&w->cand, i, in, book);
    if (w->cand.nerrors > before)
        w->msg[i] = w->cand.errors[before].message;
    return rc;
}

/* A request with the cache's settings (RK_WHATIF_REFRESH), made on first use. */
static rk_status refresh(rk_whatif *w, const api_wcache *c)
{
    rk_status rc = RK_OK;
    if (w->req == NULL && (rc = rk_request_create(w->pf, &w->req)) != RK_OK)
        return rc;
    const rsk_wcache *k = &c->c;
    unsigned measures =
        (k->has_pv ? RK_MEASURE_PARAMETRIC_VAR : 0u) | (k->has_scen ? RK_MEASURE_SCENARIO_VAR : 0u);
    rk_request *q = w->req;
    if ((rc = rk_request_set_bump(q, k->bump)) != RK_OK ||
        (rc = rk_request_set_confidence(q, k->confidence)) != RK_OK ||
        (rc = rk_request_set_es_confidence(q, k->es_confidence)) != RK_OK ||
        (rc = rk_request_set_horizon(q, k->horizon)) != RK_OK)
        return rc;
    if (k->has_scen)
        rc = k->mc ? rk_request_set_scenarios(q, k->nscen, k->seed) : rk_request_set_historical(q);
    if (rc == RK_OK)
        rc = rk_request_set_measures(q, measures);
    rk_result *res = NULL;
    if (rc == RK_OK)
        rc = rk_request_run(q, RK_DEADLINE_NONE, &res);
    if (rc == RK_OK)
        rc = res->run.status == RK_OK ? rk_portfolio_warm(w->pf, res) : res->run.status;
    rk_result_destroy(res);
    return rc;
}

/* Takes a reference on the portfolio's current cache, or NULL. */
static api_wcache *wcache_take(rk_portfolio *pf)
{
    pthread_mutex_lock(&pf->wc_mu);
    api_wcache *c = pf->wc;
    if (c != NULL)
        c->refs++;
    pthread_mutex_unlock(&pf->wc_mu);
    return c;
}

rk_status rk_whatif_run(rk_whatif *w, unsigned flags)
{
    if (w == NULL || (flags & ~RK_WHATIF_REFRESH) != 0)
        return RK_BAD_ARGUMENT;
    forget_run(w);
    api_wcache *c = wcache_take(w->pf);
    if (c == NULL)
        return RK_NOT_FOUND;
    if (c->version != rk_portfolio_market_version(w->pf)) {
        rk_status rc = RK_STALE;
        if (flags & RK_WHATIF_REFRESH) {
            rc = refresh(w, c);
            wcache_unref(w->pf, c);
            c = rc == RK_OK ? wcache_take(w->pf) : NULL;
        } else {
            wcache_unref(w->pf, c);
        }
        if (rc != RK_OK)
            return rc;
    }
    const dat_positions *p = &w->cand.pos;
    size_t nba = w->pf->ds->ds.pos.nbooks + w->nnew;
    rk_status rc = rsk_wscratch_reserve(&w->ws, &c->c, p->n, nba, rsk_whatif_max_steps(p, p->n));
    if (rc == RK_OK)
        rc = rsk_whatif_eval(&c->c, p, p->n, p->book, nba, &w->ws);
    if (rc != RK_OK) {
        wcache_unref(w->pf, c);
        return rc;
    }
    w->used = c;
    return RK_OK;
}

/* ---- answers ---- */

uint64_t rk_whatif_market_version(const rk_whatif *w)
{
    return w != NULL && w->used != NULL ? w->used->version : 0;
}

size_t rk_whatif_books(const rk_whatif *w)
{
    return w != NULL && w->used != NULL ? w->ws.nbooks : 0;
}

const char *rk_whatif_book_name(const rk_whatif *w, size_t book)
{
    if (w == NULL || w->used == NULL || book > w->ws.nbooks)
        return NULL;
    size_t nb = w->pf->ds->ds.pos.nbooks;
    if (book == w->ws.nbooks)
        return "TOTAL";
    return book < nb ? w->pf->ds->ds.pos.books[book] : w->new_name[book - nb];
}

size_t rk_whatif_trades(const rk_whatif *w)
{
    return w != NULL ? w->cand.pos.n : 0;
}

rk_status rk_whatif_trade(const rk_whatif *w, size_t k, double *value, const char **message)
{
    if (w == NULL || k >= w->cand.pos.n)
        return RK_BAD_ARGUMENT;
    if (w->used == NULL)
        return RK_NOT_FOUND;
    rk_status code = (rk_status)w->ws.status[k];
    if (value != NULL)
        *value = code == RK_OK ? w->ws.value[k] : NAN;
    if (message != NULL)
        *message = code == RK_NUMERIC ? "base value is not finite" : w->msg[k];
    return code;
}

/* The "before" row of after-book b: the cache's book, 0 for a new book, the cache's TOTAL. */
static bool before_row(const rk_whatif *w, size_t b, size_t *row)
{
    size_t nb = w->used->c.nbooks;
    if (b == w->ws.nbooks) {
        *row = nb;
        return true;
    }
    *row = b;
    return b < nb;
}

rk_status rk_whatif_parametric_var(const rk_whatif *w, size_t book, double *before, double *after,
                                   double *contribution_after)
{
    if (w == NULL || (w->used != NULL && book > w->ws.nbooks))
        return RK_BAD_ARGUMENT;
    if (w->used == NULL || !w->used->c.has_pv)
        return RK_NOT_FOUND;
    size_t row;
    bool existed = before_row(w, book, &row);
    if (before != NULL)
        *before = existed ? w->used->c.pv_var[row] : 0.0;
    if (after != NULL)
        *after = w->ws.pv.var[book];
    if (contribution_after != NULL)
        *contribution_after = w->ws.pv.contrib[book];
    return RK_OK;
}

rk_status rk_whatif_scenario_var(const rk_whatif *w, size_t book, double *var_before,
                                 double *var_after, double *es_before, double *es_after)
{
    if (w == NULL || (w->used != NULL && book > w->ws.nbooks))
        return RK_BAD_ARGUMENT;
    if (w->used == NULL || !w->used->c.has_scen)
        return RK_NOT_FOUND;
    size_t row;
    bool existed = before_row(w, book, &row);
    if (var_before != NULL)
        *var_before = existed ? w->used->c.s_var[row] : 0.0;
    if (es_before != NULL)
        *es_before = existed ? w->used->c.s_es[row] : 0.0;
    if (var_after != NULL)
        *var_after = w->ws.s_var[book];
    if (es_after != NULL)
        *es_after = w->ws.s_es[book];
    return RK_OK;
}
