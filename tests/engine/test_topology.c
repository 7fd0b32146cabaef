/*
 * test_topology.c - topologies, pools and placement without a NUMA machine: synthetic
 * descriptions give the node and core counts, workers are dealt to nodes round-robin, tiles run
 * on workers of their node unless counted as stolen, binding is recorded (and refused on a
 * described machine), node memory is aligned and zeroed, lifecycles are harmless on NULL.
 */
#include <stdio.h>

#include "harness.h"
#include "toyjob.h"

static eng_engine *create(const char *topo, size_t threads)
{
    eng_config cfg = {0};
    cfg.topology = topo;
    cfg.threads = threads;
    eng_engine *e = NULL;
    char msg[200];
    rk_status st = eng_create(&cfg, &e, msg, sizeof msg);
    ck_assert_msg(st == RK_OK, "eng_create(%s): %s", topo ? topo : "this machine", msg);
    return e;
}

/* Runs a toy job with rows dealt round-robin to the nodes; every tile that ran was run by a
 * worker of its node or counted as a steal. */
static void check_placement(eng_engine *e)
{
    unsigned nn = (unsigned)eng_node_count(e);
    toy *j = toy_new(24, 64, 2000, nn);
    j->cell_ns = 200;
    eng_job *r;
    ck_assert_int_eq(eng_run(e, &j->job, ENG_NO_DEADLINE, &r), RK_OK);
    ck_assert_ptr_null(toy_check(j, r, RK_OK, RK_OK));
    size_t n;
    const eng_record *rec = eng_job_records(r, &n);
    size_t nw = eng_worker_count(e);
    eng_worker_stats *ws = calloc(nw, sizeof *ws);
    ck_assert_uint_eq(eng_worker_stats_get(e, ws, nw), nw);
    uint64_t foreign = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_lt(rec[i].worker, nw);
        uint32_t owner = j->row_node[rec[i].tile.row0];
        for (uint32_t row = rec[i].tile.row0; row < rec[i].tile.row1; row++)
            ck_assert_uint_eq(j->row_node[row], owner); /* tiles never cross nodes */
        if (ws[rec[i].worker].node != owner)
            foreign++;
    }
    eng_job_stats st;
    eng_job_stats_get(r, &st);
    ck_assert_uint_eq(st.steals, foreign);
    if (nn == 1)
        ck_assert_uint_eq(foreign, 0);
    uint64_t tiles = 0;
    for (size_t w = 0; w < nw; w++)
        tiles += ws[w].tiles;
    ck_assert_uint_eq(tiles, n);
    free(ws);
    eng_job_free(r);
    toy_free(j);
}

START_TEST(synthetic_topologies)
{
    struct {
        const char *topo;
        size_t nodes, cores;
    } t[] = {{"node:1 core:2 pu:1", 1, 2}, {"node:2 core:4 pu:1", 2, 8},
             {"node:4 core:4 pu:1", 4, 16}};
    for (size_t k = 0; k < 3; k++) {
        eng_engine *e = create(t[k].topo, 0);
        ck_assert_uint_eq(eng_node_count(e), t[k].nodes);
        ck_assert_uint_eq(eng_worker_count(e), t[k].cores); /* no quota on a described machine */
        for (size_t n = 0; n < t[k].nodes; n++)
            ck_assert_uint_eq(eng_node_workers(e, n), t[k].cores / t[k].nodes);
        /* Binding "succeeds" trivially on a synthetic topology: the engine must not try. */
        size_t nw = eng_worker_count(e);
        eng_worker_stats *ws = calloc(nw, sizeof *ws);
        eng_worker_stats_get(e, ws, nw);
        for (size_t w = 0; w < nw; w++) {
            ck_assert_int_eq(ws[w].bound, 0);
            ck_assert_str_eq(ws[w].binding, "not bound: the topology is not this system");
            ck_assert_uint_eq(ws[w].node, (unsigned)(w % t[k].nodes)); /* round-robin */
        }
        free(ws);
        check_placement(e);
        eng_destroy(e);
    }
}
END_TEST

START_TEST(fewer_threads_than_cores)
{
    /* Round-robin over nodes by core order. */
    eng_engine *e = create("node:2 core:4 pu:1", 3);
    ck_assert_uint_eq(eng_worker_count(e), 3);
    ck_assert_uint_eq(eng_node_workers(e, 0), 2);
    ck_assert_uint_eq(eng_node_workers(e, 1), 1);
    eng_worker_stats ws[3];
    eng_worker_stats_get(e, ws, 3);
    ck_assert_uint_eq(ws[0].node, 0);
    ck_assert_uint_eq(ws[1].node, 1);
    ck_assert_uint_eq(ws[2].node, 0);
    check_placement(e);
    eng_destroy(e);

    /* A node without workers: its tiles are all stolen, and still complete. */
    e = create("node:4 core:4 pu:1", 2);
    ck_assert_uint_eq(eng_node_workers(e, 2), 0);
    check_placement(e);
    eng_destroy(e);

    /* More threads than cores: cores are shared. */
    e = create("node:1 core:2 pu:1", 5);
    ck_assert_uint_eq(eng_worker_count(e), 5);
    check_placement(e);
    eng_destroy(e);
}
END_TEST

START_TEST(this_machine)
{
    eng_engine *e = create(NULL, 0);
    ck_assert_uint_ge(eng_worker_count(e), 1);
    ck_assert_uint_ge(eng_node_count(e), 1);
    size_t nw = eng_worker_count(e);
    eng_worker_stats *ws = calloc(nw, sizeof *ws);
    eng_worker_stats_get(e, ws, nw);
    for (size_t w = 0; w < nw; w++) {
        if (ws[w].bound)
            ck_assert_str_eq(ws[w].binding, "bound");
        else
            ck_assert(strncmp(ws[w].binding, "not bound: ", 11) == 0);
    }
    free(ws);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    eng_describe(e, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "topology: this machine"));
    free(buf);
    eng_topology_info topo;
    ck_assert_int_eq(eng_topology_get(e, &topo), RK_OK);
    ck_assert_str_eq(topo.source, "this machine");
    ck_assert(topo.this_system);
    ck_assert_uint_eq(topo.workers, eng_worker_count(e));
    ck_assert_uint_eq(topo.nodes, eng_node_count(e));
    size_t pooled = 0;
    for (size_t n = 0; n < topo.nodes; n++)
        pooled += topo.pools[n].workers;
    ck_assert_uint_eq(pooled, topo.workers);
    for (size_t w = 0; w < topo.workers; w++) {
        ck_assert_uint_eq(topo.worker[w].id, w);
        ck_assert(topo.worker[w].bound ? strcmp(topo.worker[w].binding, "bound") == 0
                                       : strncmp(topo.worker[w].binding, "not bound: ", 11) == 0);
    }
    eng_topology_info_free(&topo);
    for (size_t n = 0; n < eng_node_count(e); n++) {
        unsigned char *p = eng_node_alloc(e, n, 1000);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % 64, 0);
        for (size_t i = 0; i < 1000; i++)
            ck_assert_uint_eq(p[i], 0);
        memset(p, 1, 1000);
        eng_node_free(e, p, 1000);
    }
    eng_node_free(e, NULL, 0);
    check_placement(e);
    eng_destroy(e);

    /* Pinning disabled is recorded as such. */
    eng_config cfg = {0};
    cfg.no_pin = true;
    cfg.threads = 2;
    ck_assert_int_eq(eng_create(&cfg, &e, NULL, 0), RK_OK);
    eng_worker_stats w2[2];
    eng_worker_stats_get(e, w2, 2);
    ck_assert_str_eq(w2[0].binding, "not bound: pinning disabled");
    void *p = eng_node_alloc(e, 0, 64);
    ck_assert_uint_eq((uintptr_t)p % 64, 0);
    eng_node_free(e, p, 64);
    eng_destroy(e);
}
END_TEST

START_TEST(xml_topology)
{
    /* Export a synthetic topology to XML with hwloc's tool if present; else skip quietly. */
    char *dir = rk_test_tmpdir();
    ck_assert_ptr_nonnull(dir);
    char path[512], cmd[1100];
    snprintf(path, sizeof path, "%s/topo.xml", dir);
    snprintf(cmd, sizeof cmd,
             "lstopo-no-graphics --if synthetic --input 'node:2 core:2 pu:1' --of xml '%s' "
             ">/dev/null 2>&1",
             path);
    if (system(cmd) == 0) {
        eng_engine *e = create(path, 0);
        ck_assert_uint_eq(eng_node_count(e), 2);
        ck_assert_uint_eq(eng_worker_count(e), 4);
        check_placement(e);
        eng_destroy(e);
    }
    rk_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(bad_topology_and_null)
{
    eng_config cfg = {0};
    cfg.topology = "this is not a topology";
    eng_engine *e = (eng_engine *)&cfg; /* must be reset to NULL */
    char msg[200];
    ck_assert_int_eq(eng_create(&cfg, &e, msg, sizeof msg), RK_BAD_ARGUMENT);
    ck_assert_ptr_null(e);
    ck_assert(strlen(msg) > 0);
    ck_assert_int_eq(eng_create(NULL, NULL, NULL, 0), RK_BAD_ARGUMENT);
    eng_destroy(NULL);
    eng_job_free(NULL);
    eng_cancel(NULL);
    ck_assert_int_eq(eng_wait(NULL, 0), RK_BAD_ARGUMENT);
    ck_assert(!eng_job_done(NULL));
    ck_assert_uint_eq(eng_node_count(NULL), 0);
}
END_TEST

START_TEST(destroy_idle)
{
    /* Right after create, and after the workers went to sleep. */
    eng_engine *e = create("node:2 core:2 pu:1", 0);
    eng_destroy(e);
    e = create(NULL, 0);
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    eng_stats st;
    eng_stats_get(e, &st);
    ck_assert_uint_eq(st.jobs_in_flight, 0);
    eng_destroy(e);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("engine-topology");
    TCase *tc = tcase_create("topology");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, synthetic_topologies);
    tcase_add_test(tc, fewer_threads_than_cores);
    tcase_add_test(tc, this_machine);
    tcase_add_test(tc, xml_topology);
    tcase_add_test(tc, bad_topology_and_null);
    tcase_add_test(tc, destroy_idle);
    suite_add_tcase(s, tc);
    return s;
}
