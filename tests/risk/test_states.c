/*
 * test_states.c - market states (risk/states.c) on their own: the base and the grid's bumped
 * markets against the contract's formulas (§1), scenario states against a plain dot product,
 * the same bits for a scenario whether its block is made alone or with others, and the fill
 * forms that reuse memory.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "states.h"

static dat_dataset sample;

static void setup(void)
{
    char msg[256] = "";
    ck_assert_msg(dat_load("data/sample", NULL, &sample, msg, sizeof msg) == RK_OK, "%s", msg);
}

static void teardown(void)
{
    dat_free(&sample);
}

/* x' of underlying u under the move beta_u . df = `move` (contract §1), written out here. */
static double moved(const dat_market *m, size_t u, double move)
{
    return m->und_kind[u] == DAT_UND_RATE ? m->und_value[u] + move : m->und_value[u] * exp(move);
}

START_TEST(base_and_grid)
{
    const dat_market *m = &sample.mkt;
    size_t F = m->nfactors, U = m->nund;
    const double h = 1e-4;
    rsk_states base, grid;
    ck_assert_int_eq(rsk_states_base(m, &base), RK_OK);
    ck_assert_uint_eq(base.n, 1);
    for (size_t u = 0; u < U; u++)
        ck_assert(rk_test_same_bits(base.x[u], m->und_value[u]));
    ck_assert_int_eq(rsk_states_grid(m, h, &grid), RK_OK);
    ck_assert_uint_eq(grid.n, 1 + 2 * F);
    for (size_t u = 0; u < U; u++)
        ck_assert(rk_test_same_bits(grid.x[u], m->und_value[u])); /* state 0 is the base */
    for (size_t j = 0; j < F; j++)
        for (size_t u = 0; u < U; u++) {
            double b = m->beta[u * F + j];
            /* one factor bumped: the dot product is the single product b h, exactly */
            ck_assert(rk_test_same_bits(grid.x[rsk_grid_state(j, +1) * U + u], moved(m, u, b * h)));
            ck_assert(
                rk_test_same_bits(grid.x[rsk_grid_state(j, -1) * U + u], moved(m, u, -b * h)));
        }
    /* refilled in place for another bump: the same as made afresh */
    rsk_states again;
    ck_assert_int_eq(rsk_states_grid(m, 2 * h, &again), RK_OK);
    ck_assert_int_eq(rsk_states_grid_fill(m, 2 * h, &grid), RK_OK);
    ck_assert_int_eq(memcmp(grid.x, again.x, grid.n * U * sizeof(double)), 0);
    ck_assert_int_eq(rsk_states_grid_fill(m, h, &base), RK_BAD_ARGUMENT); /* wrong shape */
    rsk_states_free(&again);
    rsk_states_free(&grid);
    rsk_states_free(&base);
    rsk_states_free(NULL);
}
END_TEST

/* Deterministic shocks: n x F, small, of both signs. */
static double *shocks(size_t n, size_t F)
{
    double *s = malloc((n * F > 0 ? n * F : 1) * sizeof *s);
    for (size_t k = 0; k < n * F; k++)
        s[k] = 0.01 * sin(0.7 * (double)k + 0.3);
    return s;
}

START_TEST(scenario_states)
{
    const dat_market *m = &sample.mkt;
    size_t F = m->nfactors, U = m->nund, n = 150; /* two full blocks and a partial one */
    double *sh = shocks(n, F);
    rsk_states st;
    ck_assert_int_eq(rsk_states_from_shocks(m, sh, n, &st), RK_OK);
    ck_assert_uint_eq(st.n, n);
    for (size_t s = 0; s < n; s++)
        for (size_t u = 0; u < U; u++) {
            double dot = 0;
            for (size_t j = 0; j < F; j++)
                dot += m->beta[u * F + j] * sh[s * F + j];
            double want = moved(m, u, dot);
            /* BLAS may sum the products in another order: a few ulps */
            ck_assert_close(st.x[s * U + u], want, 0, 1e-13);
        }
    /* Made block by block (as the flow does, blocks starting at scenario 0) or all at once:
     * the same bits, because each scenario meets the same kernel in the same place. */
    rsk_states blk = {0}; /* reserve reuses what it is given: start empty */
    ck_assert_int_eq(rsk_states_reserve(&blk, RSK_STATE_BLOCK, U), RK_OK);
    ck_assert_uint_eq(blk.n, 0);
    for (size_t s0 = 0; s0 < n; s0 += RSK_STATE_BLOCK) {
        size_t b = n - s0 < RSK_STATE_BLOCK ? n - s0 : RSK_STATE_BLOCK;
        ck_assert_int_eq(rsk_states_from_shocks_fill(m, sh + s0 * F, b, &blk), RK_OK);
        ck_assert_uint_eq(blk.n, b);
        ck_assert_int_eq(memcmp(blk.x, st.x + s0 * U, b * U * sizeof(double)), 0);
    }
    /* more states than reserved is refused */
    ck_assert_int_eq(rsk_states_from_shocks_fill(m, sh, RSK_STATE_BLOCK + 1, &blk),
                     RK_BAD_ARGUMENT);
    /* a reservation that fits is kept */
    double *keep = blk.x;
    ck_assert_int_eq(rsk_states_reserve(&blk, 8, U), RK_OK);
    ck_assert_ptr_eq(blk.x, keep);
    rsk_states_free(&blk);
    rsk_states_free(&st);
    free(sh);
}
END_TEST

START_TEST(zero_shock_is_base)
{
    const dat_market *m = &sample.mkt;
    size_t F = m->nfactors, U = m->nund;
    double *zero = calloc(3 * F, sizeof *zero);
    rsk_states st;
    ck_assert_int_eq(rsk_states_from_shocks(m, zero, 3, &st), RK_OK);
    for (size_t s = 0; s < 3; s++)
        for (size_t u = 0; u < U; u++)
            ck_assert(rk_test_same_bits(st.x[s * U + u], m->und_value[u]));
    rsk_states_free(&st);
    free(zero);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("risk-states");
    TCase *tc = tcase_create("states");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, base_and_grid);
    tcase_add_test(tc, scenario_states);
    tcase_add_test(tc, zero_shock_is_base);
    suite_add_tcase(s, tc);
    return s;
}
