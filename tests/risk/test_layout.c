/*
 * test_layout.c - the layout (risk/layout.c) on its own, on the sample and on a generated W1:
 * every row in exactly one chunk in file order, every valid row in exactly one slot with its
 * own inputs, slots grouped by kind (american closed forms before trees), chunks spread over
 * the engine's nodes, and the "which factors move this slot" masks against the loadings.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "layout.h"

/* Everything the layout promises about ds, built with engine e (NULL: plain memory). */
static void check_layout(const dat_dataset *ds, eng_engine *e)
{
    rsk_layout layout;
    ck_assert_int_eq(rsk_layout_build(ds, e, &layout), RK_OK);
    const dat_positions *p = &ds->pos;
    const dat_market *m = &ds->mkt;
    size_t F = m->nfactors, nodes = e != NULL ? eng_node_count(e) : 1;
    ck_assert_uint_eq(layout.nvalid, dat_valid_count(p));
    size_t next_row = 0, valid = 0;
    for (size_t ci = 0; ci < layout.nchunks; ci++) {
        const rsk_chunk *c = &layout.chunks[ci];
        ck_assert_uint_eq(c->row0, next_row); /* contiguous, in file order */
        ck_assert_uint_ge(c->nrows, 1);
        ck_assert_uint_le(c->nrows, RSK_CHUNK);
        next_row += c->nrows;
        ck_assert_uint_lt(c->node, nodes);
        ck_assert_uint_eq(layout.chunk_node[ci], c->node);
        ck_assert(layout.chunk_cost[ci] >= 0);
        /* rows -> slots: valid rows have one, invalid rows none */
        uint32_t slots = 0;
        for (uint32_t r = 0; r < c->nrows; r++) {
            size_t i = (size_t)c->row0 + r;
            uint16_t s = c->slot_of_row[r];
            if (p->status[i] != RK_OK) {
                ck_assert_uint_eq(s, UINT16_MAX);
                continue;
            }
            slots++;
            ck_assert_uint_lt(s, c->nslots);
            ck_assert_uint_eq(c->row[s], r);
            /* the slot holds this row's own inputs */
            ck_assert_uint_eq(c->book[s], p->book[i]);
            ck_assert_uint_eq(c->und[s], p->und[i]);
            ck_assert_uint_eq(c->rate[s], p->rate[i]);
            ck_assert_uint_eq(c->vol[s], p->vol[i]);
            ck_assert_uint_eq(c->steps[s], p->steps[i]);
            ck_assert(rk_test_same_bits(c->qty[s], p->quantity[i]));
            /* its kind's segment */
            unsigned k = p->kind[i];
            ck_assert_uint_ge(s, c->seg[k]);
            ck_assert_uint_lt(s, c->seg[k + 1]);
        }
        ck_assert_uint_eq(slots, c->nslots);
        valid += slots;
        /* within a kind, file order; american closed forms before trees */
        for (unsigned k = 0; k < MDL_KIND_COUNT; k++)
            for (uint32_t s = c->seg[k] + 1; s < c->seg[k + 1]; s++) {
                bool tree_prev = c->steps[s - 1] > 0, tree = c->steps[s] > 0;
                bool amer = k == MDL_AMER_CALL || k == MDL_AMER_PUT;
                if (amer && tree_prev != tree)
                    ck_assert(!tree_prev && tree);
                else
                    ck_assert_uint_lt(c->row[s - 1], c->row[s]);
            }
        /* a factor moves a slot exactly when one of its underlyings loads on it */
        for (uint32_t s = 0; s < c->nslots; s++)
            for (size_t j = 0; j < F; j++) {
                bool loads = false;
                const uint32_t und[3] = {c->und[s], c->rate[s], c->vol[s]};
                for (int q = 0; q < 3; q++)
                    if (und[q] != DAT_NONE && und[q] < m->nund && m->beta[und[q] * F + j] != 0.0)
                        loads = true;
                ck_assert_msg(rsk_slot_moves(&layout, c, s, j) == loads,
                              "chunk %zu slot %u factor %zu", ci, s, j);
            }
    }
    ck_assert_uint_eq(next_row, p->n); /* every row, once */
    ck_assert_uint_eq(valid, layout.nvalid);
    rsk_layout_free(&layout);
}

START_TEST(sample_plain_and_on_nodes)
{
    dat_dataset ds;
    char msg[256] = "";
    ck_assert_msg(dat_load("data/sample", NULL, &ds, msg, sizeof msg) == RK_OK, "%s", msg);
    ck_assert_uint_lt(dat_valid_count(&ds.pos), ds.pos.n); /* the sample has invalid rows */
    check_layout(&ds, NULL);
    eng_config cfg = {.topology = "node:2 core:2 pu:1"};
    eng_engine *e = NULL;
    ck_assert_int_eq(eng_create(&cfg, &e, msg, sizeof msg), RK_OK);
    check_layout(&ds, e);
    eng_destroy(e);
    dat_free(&ds);
}
END_TEST

START_TEST(generated_w1_several_chunks)
{
    char *dir = rk_test_tmpdir();
    dat_preset pr = *dat_preset_find("w1");
    pr.npositions = 3000; /* a dozen chunks, several per node */
    char msg[256] = "";
    ck_assert_int_eq(dat_generate(&pr, 1, dir, msg, sizeof msg), RK_OK);
    dat_dataset ds;
    ck_assert_msg(dat_load(dir, NULL, &ds, msg, sizeof msg) == RK_OK, "%s", msg);
    eng_config cfg = {.topology = "node:3 core:1 pu:1"};
    eng_engine *e = NULL;
    ck_assert_int_eq(eng_create(&cfg, &e, msg, sizeof msg), RK_OK);
    check_layout(&ds, e);
    rsk_layout layout;
    ck_assert_int_eq(rsk_layout_build(&ds, e, &layout), RK_OK);
    ck_assert_uint_eq(layout.nchunks, (ds.pos.n + RSK_CHUNK - 1) / RSK_CHUNK);
    size_t per_node[3] = {0, 0, 0};
    for (size_t ci = 0; ci < layout.nchunks; ci++)
        per_node[layout.chunks[ci].node]++;
    for (size_t n = 0; n < 3; n++)
        ck_assert_uint_ge(per_node[n], 1); /* spread over every node */
    rsk_layout_free(&layout);
    eng_destroy(e);
    dat_free(&ds);
    rk_test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("risk-layout");
    TCase *tc = tcase_create("layout");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sample_plain_and_on_nodes);
    tcase_add_test(tc, generated_w1_several_chunks);
    suite_add_tcase(s, tc);
    return s;
}
