/*
 * test_pool.c - the engine handle (engine/pool.c) on its own: pools and workers per node on a
 * synthetic topology, the placement description, node-local memory, and the statistics the
 * workers keep, checked against a job whose tile count is known.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "toyjob.h"

static eng_engine *make(const char *topo, size_t threads, bool no_pin)
{
    eng_config cfg = {.threads = threads, .topology = topo, .no_pin = no_pin};
    eng_engine *e = NULL;
    char msg[200] = "";
    ck_assert_msg(eng_create(&cfg, &e, msg, sizeof msg) == RK_OK, "eng_create: %s", msg);
    return e;
}

START_TEST(pools_and_placement)
{
    eng_engine *e = make("node:2 core:3 pu:1", 0, false);
    ck_assert_uint_eq(eng_node_count(e), 2);
    ck_assert_uint_eq(eng_worker_count(e), 6); /* one per core */
    ck_assert_uint_eq(eng_node_workers(e, 0) + eng_node_workers(e, 1), 6);
    eng_topology_info t;
    ck_assert_int_eq(eng_topology_get(e, &t), RK_OK);
    ck_assert(!t.this_system);
    ck_assert_uint_eq(t.cores, 6);
    ck_assert_uint_eq(t.nodes, 2);
    ck_assert_uint_eq(t.workers, 6);
    for (size_t n = 0; n < t.nodes; n++)
        ck_assert_uint_eq(t.pools[n].workers, eng_node_workers(e, n));
    size_t per_node[2] = {0, 0};
    for (size_t w = 0; w < t.workers; w++) {
        ck_assert_uint_eq(t.worker[w].id, w);
        ck_assert_uint_lt(t.worker[w].node, 2);
        per_node[t.worker[w].node]++;
        /* binding on a described machine would "succeed" doing nothing: it is not tried */
        ck_assert(!t.worker[w].bound);
        ck_assert_str_eq(t.worker[w].binding, "not bound: the topology is not this system");
    }
    ck_assert_uint_eq(per_node[0], t.pools[0].workers);
    ck_assert_uint_eq(per_node[1], t.pools[1].workers);
    eng_topology_info_free(&t);
    eng_topology_info_free(&t); /* harmless twice */
    eng_destroy(e);

    e = make(NULL, 2, true);
    ck_assert_int_eq(eng_topology_get(e, &t), RK_OK);
    ck_assert(!t.pinning);
    for (size_t w = 0; w < t.workers; w++)
        ck_assert_str_eq(t.worker[w].binding, "not bound: pinning disabled");
    eng_topology_info_free(&t);
    eng_destroy(e);
    ck_assert_int_eq(eng_topology_get(NULL, &t), RK_BAD_ARGUMENT);
    eng_destroy(NULL);
}
END_TEST

START_TEST(node_memory)
{
    eng_engine *e = make("node:2 core:2 pu:1", 0, false);
    for (size_t n = 0; n < eng_node_count(e); n++) {
        for (size_t bytes = 1; bytes <= 1 << 20; bytes *= 32) {
            unsigned char *p = eng_node_alloc(e, n, bytes);
            ck_assert_ptr_nonnull(p);
            ck_assert_uint_eq((uintptr_t)p % 64, 0);
            for (size_t i = 0; i < bytes; i++)
                ck_assert_uint_eq(p[i], 0);
            memset(p, 0x5A, bytes);
            eng_node_free(e, p, bytes);
        }
    }
    eng_node_free(e, NULL, 0);
    eng_destroy(e);
}
END_TEST

START_TEST(statistics_count_the_work)
{
    eng_engine *e = make("node:2 core:2 pu:1", 0, false);
    eng_stats st;
    eng_stats_get(e, &st);
    ck_assert_uint_eq(st.jobs_submitted, 0);
    ck_assert_uint_eq(st.tiles_done, 0);
    ck_assert_uint_eq(st.nworkers, 4);
    toy *j = toy_new(16, 200, 1000, 2);
    eng_job *r;
    ck_assert_int_eq(eng_run(e, &j->job, ENG_NO_DEADLINE, &r), RK_OK);
    ck_assert_ptr_null(toy_check(j, r, RK_OK, RK_OK));
    size_t nrec = 0;
    eng_job_records(r, &nrec);
    eng_job_free(r);
    eng_stats_get(e, &st);
    ck_assert_uint_eq(st.jobs_submitted, 1);
    ck_assert_uint_eq(st.jobs_done, 1);
    ck_assert_uint_eq(st.jobs_in_flight, 0);
    ck_assert_uint_eq(st.tiles_done, nrec);
    /* per worker: the tiles add up to the engine's count; a prefix may be asked for */
    eng_worker_stats ws[4];
    ck_assert_uint_eq(eng_worker_stats_get(e, ws, 4), 4);
    uint64_t tiles = 0;
    for (size_t w = 0; w < 4; w++) {
        tiles += ws[w].tiles;
        ck_assert_uint_lt(ws[w].node, 2);
    }
    ck_assert_uint_eq(tiles, nrec);
    eng_worker_stats one;
    ck_assert_uint_eq(eng_worker_stats_get(e, &one, 1), 4);
    ck_assert_uint_eq(one.tiles, ws[0].tiles);
    toy_free(j);
    eng_destroy(e);
    eng_stats_get(NULL, &st);
    ck_assert_uint_eq(st.nworkers, 0);
    ck_assert_uint_eq(eng_worker_stats_get(NULL, ws, 4), 0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("engine-pool");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, pools_and_placement);
    tcase_add_test(tc, node_memory);
    tcase_add_test(tc, statistics_count_the_work);
    suite_add_tcase(s, tc);
    return s;
}
