/*
 * test_channel.c - the fan-in ring (engine/channel.c) on its own: order, capacity (the 1-slot
 * case of stress mode included), reuse after reset, and exactly-once delivery with several
 * producers racing one consumer.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "harness.h"

static eng_record rec_of(unsigned producer, uint32_t k)
{
    eng_record r;
    memset(&r, 0, sizeof r);
    r.worker = producer;
    r.tile.index = k;
    r.cells_ok = (uint64_t)producer << 32 | k;
    return r;
}

START_TEST(order_and_capacity)
{
    eng_channel ch;
    ck_assert_int_eq(eng_channel_init(&ch, 4), RK_OK);
    eng_record r, out;
    /* several laps: positions wrap around the slots */
    for (uint32_t lap = 0; lap < 5; lap++) {
        for (uint32_t k = 0; k < 4; k++) {
            r = rec_of(0, lap * 4 + k);
            ck_assert(eng_channel_push(&ch, &r));
        }
        r = rec_of(0, 99);
        ck_assert(!eng_channel_push(&ch, &r)); /* full */
        for (uint32_t k = 0; k < 4; k++) {
            ck_assert(eng_channel_pop(&ch, &out));
            ck_assert_uint_eq(out.tile.index, lap * 4 + k); /* first in, first out */
        }
        ck_assert(!eng_channel_pop(&ch, &out)); /* empty */
    }
    ck_assert_uint_eq(atomic_load(&ch.max_occupancy), 4);
    eng_channel_fini(&ch);
}
END_TEST

START_TEST(one_slot)
{
    eng_channel ch;
    ck_assert_int_eq(eng_channel_init(&ch, 1), RK_OK);
    ck_assert_uint_eq(ch.cap, 1);
    ck_assert_uint_eq(ch.nslots, 2); /* the turn scheme needs two; the capacity stays one */
    eng_record r = rec_of(0, 1), out;
    for (int i = 0; i < 3; i++) {
        ck_assert(eng_channel_push(&ch, &r));
        ck_assert(!eng_channel_push(&ch, &r));
        ck_assert(eng_channel_pop(&ch, &out));
        ck_assert(!eng_channel_pop(&ch, &out));
    }
    eng_channel_fini(&ch);
}
END_TEST

START_TEST(reset_reuses)
{
    eng_channel ch;
    ck_assert_int_eq(eng_channel_init(&ch, 3), RK_OK);
    eng_record r = rec_of(0, 7), out;
    ck_assert(eng_channel_push(&ch, &r));
    ck_assert(eng_channel_push(&ch, &r));
    eng_channel_reset(&ch);
    ck_assert(!eng_channel_pop(&ch, &out)); /* what was left is gone */
    ck_assert_uint_eq(atomic_load(&ch.max_occupancy), 0);
    for (uint32_t k = 0; k < 3; k++) {
        r = rec_of(0, k);
        ck_assert(eng_channel_push(&ch, &r));
    }
    for (uint32_t k = 0; k < 3; k++) {
        ck_assert(eng_channel_pop(&ch, &out));
        ck_assert_uint_eq(out.tile.index, k);
    }
    eng_channel_fini(&ch);
}
END_TEST

/* ---- several producers, one consumer ---- */

#define PRODUCERS 4u
#define PER_PRODUCER 20000u

typedef struct race {
    eng_channel ch;
    pthread_mutex_t mu; /* the consumer's lock, as the job lock is in sched.c */
    unsigned *seen;     /* [mu] per record: times received */
    uint32_t *next;     /* [mu] per producer: the next index expected */
    _Atomic unsigned bad_order;
} race;

typedef struct producer_arg {
    race *r;
    unsigned id;
} producer_arg;

/* Pops everything available; the caller holds r->mu. */
static void drain_locked(race *r)
{
    eng_record out;
    while (eng_channel_pop(&r->ch, &out)) {
        unsigned p = out.worker;
        uint32_t k = out.tile.index;
        r->seen[p * PER_PRODUCER + k]++;
        if (r->next[p] != k)
            atomic_fetch_add(&r->bad_order, 1u);
        r->next[p] = k + 1;
    }
}

/* A producer that finds the ring full drains it itself, as sched.c's producers do. */
static void *producer(void *arg)
{
    producer_arg *a = arg;
    for (uint32_t k = 0; k < PER_PRODUCER; k++) {
        eng_record rec = rec_of(a->id, k);
        while (!eng_channel_push(&a->r->ch, &rec)) {
            pthread_mutex_lock(&a->r->mu);
            drain_locked(a->r);
            pthread_mutex_unlock(&a->r->mu);
        }
    }
    return NULL;
}

START_TEST(producers_race_exactly_once)
{
    static race r;
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(eng_channel_init(&r.ch, 8), RK_OK);
    pthread_mutex_init(&r.mu, NULL);
    r.seen = calloc(PRODUCERS * PER_PRODUCER, sizeof *r.seen);
    r.next = calloc(PRODUCERS, sizeof *r.next);
    pthread_t th[PRODUCERS];
    producer_arg args[PRODUCERS];
    for (unsigned p = 0; p < PRODUCERS; p++) {
        args[p] = (producer_arg){&r, p};
        ck_assert_int_eq(pthread_create(&th[p], NULL, producer, &args[p]), 0);
    }
    for (unsigned p = 0; p < PRODUCERS; p++)
        pthread_join(th[p], NULL);
    pthread_mutex_lock(&r.mu);
    drain_locked(&r);
    pthread_mutex_unlock(&r.mu);
    for (size_t i = 0; i < PRODUCERS * PER_PRODUCER; i++)
        ck_assert_msg(r.seen[i] == 1, "record %zu received %u times", i, r.seen[i]);
    /* one producer's records keep their order: its tickets are taken in sequence */
    ck_assert_uint_eq(atomic_load(&r.bad_order), 0);
    ck_assert_uint_le(atomic_load(&r.ch.max_occupancy), 8);
    free(r.seen);
    free(r.next);
    pthread_mutex_destroy(&r.mu);
    eng_channel_fini(&r.ch);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("engine-channel");
    TCase *tc = tcase_create("channel");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, order_and_capacity);
    tcase_add_test(tc, one_slot);
    tcase_add_test(tc, reset_reuses);
    tcase_add_test(tc, producers_race_exactly_once);
    suite_add_tcase(s, tc);
    return s;
}
