/*
 * channel.c - the fan-in channel: a bounded multi-producer single-consumer ring of eng_record.
 *
 * Each slot carries a sequence number saying whose turn it is (the bounded-queue scheme with
 * per-slot turns): slot i starts at seq = i; a producer that claimed position pos (by CAS on
 * tail) may write slot pos % cap when seq == pos and publishes with seq = pos + 1; the consumer
 * reads position pos when seq == pos + 1 and frees the slot for the next lap with
 * seq = pos + cap. The scheme needs two slots at least (with one, "full for this lap" and "free
 * for the next" would read the same), so a 1-slot channel (stress mode) has two slots and a
 * logical capacity of one, enforced against head.
 *
 * The consumer is whoever holds the owning job's lock (sched.c): the waiter, or a producer
 * that found the ring full and drains it itself, or the producer of the last record. Nobody ever
 * blocks on the ring: push fails when full and the caller helps drain.
 */
#include <string.h>

#include "engine_internal.h"

rk_status eng_channel_init(eng_channel *ch, size_t cap)
{
    memset(ch, 0, sizeof *ch);
    if (cap == 0)
        cap = 1;
    size_t nslots = cap < 2 ? 2 : cap;
    ch->slots = calloc(nslots, sizeof *ch->slots);
    if (ch->slots == NULL)
        return RK_NO_MEMORY;
    ch->cap = cap;
    ch->nslots = nslots;
    for (size_t i = 0; i < nslots; i++)
        atomic_init(&ch->slots[i].seq, i);
    atomic_init(&ch->tail, 0);
    atomic_init(&ch->head, 0);
    atomic_init(&ch->max_occupancy, 0);
    return RK_OK;
}

void eng_channel_reset(eng_channel *ch)
{
    for (size_t i = 0; i < ch->nslots; i++)
        atomic_init(&ch->slots[i].seq, i);
    atomic_init(&ch->tail, 0);
    atomic_init(&ch->head, 0);
    atomic_init(&ch->max_occupancy, 0);
}

void eng_channel_fini(eng_channel *ch)
{
    free(ch->slots);
    ch->slots = NULL;
}

bool eng_channel_push(eng_channel *ch, const eng_record *rec)
{
    /* relaxed: tail is only a ticket; the slot's seq carries the ordering. */
    size_t pos = atomic_load_explicit(&ch->tail, memory_order_relaxed);
    for (;;) {
        /* relaxed: a stale head only makes the ring look fuller; the caller then drains. */
        if (pos - atomic_load_explicit(&ch->head, memory_order_relaxed) >= ch->cap)
            return false;
        eng_slot *s = &ch->slots[pos % ch->nslots];
        /* acquire: pairs with the consumer's release of seq, so its read of the old record
         * happened before we overwrite it. */
        size_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (seq == pos) {
            /* relaxed CAS: winning the ticket is all we need; publication is the seq store. */
            if (atomic_compare_exchange_weak_explicit(&ch->tail, &pos, pos + 1,
                                                      memory_order_relaxed,
                                                      memory_order_relaxed)) {
                s->rec = *rec;
                /* release: the record is visible to a consumer that acquires seq. */
                atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
                /* relaxed: statistics only. */
                size_t occ = pos + 1 - atomic_load_explicit(&ch->head, memory_order_relaxed);
                size_t m = atomic_load_explicit(&ch->max_occupancy, memory_order_relaxed);
                while (occ > m && occ <= ch->cap &&
                       !atomic_compare_exchange_weak_explicit(&ch->max_occupancy, &m, occ,
                                                              memory_order_relaxed,
                                                              memory_order_relaxed)) {
                }
                return true;
            }
            /* pos was reloaded by the failed CAS */
        } else if (seq < pos) {
            return false; /* the slot still holds last lap's record: full */
        } else {
            pos = atomic_load_explicit(&ch->tail, memory_order_relaxed);
        }
    }
}

bool eng_channel_pop(eng_channel *ch, eng_record *out)
{
    /* relaxed: head is written only by the consumer, and the consumer is serialised by the
     * job lock, whose acquire orders this load after the previous consumer's store. */
    size_t pos = atomic_load_explicit(&ch->head, memory_order_relaxed);
    eng_slot *s = &ch->slots[pos % ch->nslots];
    /* acquire: pairs with the producer's release; the record is complete. */
    size_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
    if (seq != pos + 1)
        return false; /* empty, or the producer of this slot has not published yet */
    *out = s->rec;
    atomic_store_explicit(&ch->head, pos + 1, memory_order_relaxed);
    /* release: our read of the record happens before the next lap's producer writes it. */
    atomic_store_explicit(&s->seq, pos + ch->nslots, memory_order_release);
    return true;
}
