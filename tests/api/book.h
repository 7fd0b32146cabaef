/*
 * book.h - a small book built in memory through the public header, shared by the API suites:
 * 3 factors, 4 underlyings (two spots, a rate, a vol) and `n` positions cycling through spot,
 * forward, european options and bonds over 3 books, plus two invalid ones at the end (an
 * unknown underlying and a negative strike). Header-only so each suite stays one file.
 */
#ifndef RK_TEST_API_BOOK_H
#define RK_TEST_API_BOOK_H

#include <stdio.h>

#include <check.h>

#include "riskengine.h"

#define BOOK_F 3
#define BOOK_U 4

static const double book_cov[BOOK_F * BOOK_F] = {
    4e-4, 1e-4, 0.5e-4, 1e-4, 2.5e-4, 0.2e-4, 0.5e-4, 0.2e-4, 1e-4,
};

/* Builds the book; returns RK_OK or the first failing call's code. */
static rk_status book_build(size_t n, rk_dataset **out)
{
    rk_dataset *ds = NULL;
    rk_status rc = rk_dataset_create(&ds);
    if (rc != RK_OK)
        return rc;
    const char *factors[BOOK_F] = {"mkt", "rates", "vol"};
    for (size_t j = 0; j < BOOK_F; j++)
        if ((rc = rk_dataset_add_factor(ds, factors[j], NULL)) != RK_OK)
            goto fail;
    if ((rc = rk_dataset_set_covariance(ds, book_cov, BOOK_F)) != RK_OK)
        goto fail;
    const double l_a[BOOK_F] = {1.0, 0.1, 0.0}, l_b[BOOK_F] = {0.8, -0.2, 0.0};
    const double l_r[BOOK_F] = {0.0, 0.01, 0.0}, l_v[BOOK_F] = {0.0, 0.0, 0.5};
    if ((rc = rk_dataset_add_underlying(ds, "A", RK_UNDERLYING_SPOT, 100.0, l_a, BOOK_F, NULL)) !=
            RK_OK ||
        (rc = rk_dataset_add_underlying(ds, "B", RK_UNDERLYING_SPOT, 50.0, l_b, BOOK_F, NULL)) !=
            RK_OK ||
        (rc = rk_dataset_add_underlying(ds, "R", RK_UNDERLYING_RATE, 0.03, l_r, BOOK_F, NULL)) !=
            RK_OK ||
        (rc = rk_dataset_add_underlying(ds, "V", RK_UNDERLYING_VOL, 0.2, l_v, BOOK_F, NULL)) !=
            RK_OK)
        goto fail;
    const char *books[3] = {"desk1", "desk2", "desk3"};
    const char *kinds[5] = {"spot", "forward", "european_call", "european_put", "bond"};
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "p%zu", i);
        rk_position p;
        rk_position_init(&p);
        p.id = id;
        p.book = books[i % 3];
        p.instrument = kinds[i % 5];
        p.quantity = 1.0 + (double)(i % 7);
        p.underlying = i % 2 ? "A" : "B";
        p.strike = 40.0 + (double)(i % 60);
        p.expiry = 0.25 + 0.1 * (double)(i % 10);
        p.rate = "R";
        p.vol = "V";
        if (i % 5 == 4) { /* bond */
            p.underlying = "R";
            p.coupon = 0.04;
            p.frequency = 2;
        }
        if ((rc = rk_dataset_add_position(ds, &p, NULL)) != RK_OK)
            goto fail;
    }
    rk_position bad;
    rk_position_init(&bad);
    bad.id = "bad_und";
    bad.book = "desk1";
    bad.instrument = "spot";
    bad.quantity = 1;
    bad.underlying = "NOPE";
    if (rk_dataset_add_position(ds, &bad, NULL) != RK_INVALID_INPUT) {
        rc = RK_INTERNAL;
        goto fail;
    }
    bad.id = "bad_strike";
    bad.instrument = "european_call";
    bad.underlying = "A";
    bad.strike = -1;
    bad.expiry = 1;
    bad.rate = "R";
    bad.vol = "V";
    if (rk_dataset_add_position(ds, &bad, NULL) != RK_INVALID_INPUT) {
        rc = RK_INTERNAL;
        goto fail;
    }
    *out = ds;
    return RK_OK;
fail:
    rk_dataset_destroy(ds);
    return rc;
}

static rk_status book_engine(size_t threads, rk_engine **out)
{
    rk_engine_config cfg;
    rk_engine_config_init(&cfg);
    cfg.threads = threads;
    cfg.no_pin = 1;
    cfg.tile_target_us = 20;
    return rk_engine_create(&cfg, out, NULL, 0);
}

/* A built book of n positions on an engine of `threads` workers, and its portfolio. Test
 * programs only (Check asserts). */
typedef struct fixture {
    rk_dataset *ds;
    rk_engine *e;
    rk_portfolio *pf;
} fixture;

static inline void fx_open(fixture *f, size_t n, size_t threads)
{
    ck_assert_int_eq(book_build(n, &f->ds), RK_OK);
    ck_assert_int_eq(book_engine(threads, &f->e), RK_OK);
    ck_assert_int_eq(rk_portfolio_create(f->e, f->ds, &f->pf), RK_OK);
}

static inline void fx_close(fixture *f)
{
    rk_portfolio_destroy(f->pf);
    rk_engine_destroy(f->e);
    rk_dataset_destroy(f->ds);
}

#endif
