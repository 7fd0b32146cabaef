/*
 * malloc_hook.h - the malloc family replaced, for the test programs that must see every
 * allocation of every thread (the library's, and those of the libraries below it: LAPACKE's
 * work arrays, the C library's FILE buffers): test_alloc.c counts allocations in a window,
 * test_oom.c makes the N-th one fail. Each replacement forwards to glibc's own
 * (__libc_malloc...). Include it in one program only: it defines malloc.
 *
 * Sanitizer builds interpose the malloc family themselves: there MALLOC_HOOKED is 0, nothing is
 * replaced, and the counters stay 0 (the programs then run their workload unchecked).
 *
 *   mh_counting    when non-zero, every allocation adds 1 to mh_allocs and every free of a
 *                  non-NULL pointer to mh_frees;
 *   mh_live        allocations minus frees since the program started (always kept);
 *   mh_fail_in     when > 0, counts allocations down: the one that brings it to 0 fails
 *                  (NULL, errno ENOMEM) and sets mh_failed.
 *
 * An includer may define MH_EXEMPT(caller) before including: allocations whose caller (the
 * return address of malloc) it accepts are neither counted nor failed.
 *
 * relaxed throughout: a test reads the counters after the threads that bump them have handed
 * their work back through the library's own synchronisation (a request's completion, a join).
 */
#ifndef RK_TEST_MALLOC_HOOK_H
#define RK_TEST_MALLOC_HOOK_H

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MALLOC_HOOKED 0
#else
#define MALLOC_HOOKED 1
#endif

/* (unused in a program that needs only some of them, and in sanitizer builds) */
#define MH_STATE static __attribute__((unused))
MH_STATE _Atomic int mh_counting;
MH_STATE _Atomic unsigned long mh_allocs, mh_frees;
MH_STATE _Atomic long mh_live;
MH_STATE _Atomic long mh_fail_in;
MH_STATE _Atomic int mh_failed;

#if MALLOC_HOOKED
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);
void *malloc(size_t n);
void *calloc(size_t a, size_t b);
void *realloc(void *p, size_t n);
void free(void *p);
void *aligned_alloc(size_t al, size_t n);
int posix_memalign(void **out, size_t al, size_t n);

#ifndef MH_EXEMPT
#define MH_EXEMPT(caller) ((void)(caller), 0)
#endif

/* Counts an allocation attempt from `caller`; true when it is the one to fail. */
static int mh_attempt(const void *caller)
{
    if (MH_EXEMPT(caller))
        return 0;
    if (atomic_load_explicit(&mh_counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&mh_allocs, 1, memory_order_relaxed);
    long c = atomic_load_explicit(&mh_fail_in, memory_order_relaxed);
    while (c > 0) {
        if (atomic_compare_exchange_weak_explicit(&mh_fail_in, &c, c - 1, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            if (c != 1)
                return 0;
            atomic_store_explicit(&mh_failed, 1, memory_order_relaxed);
            errno = ENOMEM;
            return 1;
        }
    }
    return 0;
}

static void *mh_made(void *p)
{
    if (p != NULL)
        atomic_fetch_add_explicit(&mh_live, 1, memory_order_relaxed);
    return p;
}

void *malloc(size_t n)
{
    return mh_attempt(__builtin_return_address(0)) ? NULL : mh_made(__libc_malloc(n));
}

void *calloc(size_t a, size_t b)
{
    return mh_attempt(__builtin_return_address(0)) ? NULL : mh_made(__libc_calloc(a, b));
}

void *realloc(void *p, size_t n)
{
    const void *caller = __builtin_return_address(0);
    if (p == NULL)
        return mh_attempt(caller) ? NULL : mh_made(__libc_malloc(n));
    if (n == 0) {
        free(p);
        return NULL;
    }
    return mh_attempt(caller) ? NULL : __libc_realloc(p, n); /* still one allocation */
}

void free(void *p)
{
    if (p != NULL) {
        if (atomic_load_explicit(&mh_counting, memory_order_relaxed))
            atomic_fetch_add_explicit(&mh_frees, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&mh_live, 1, memory_order_relaxed);
    }
    __libc_free(p);
}

void *aligned_alloc(size_t al, size_t n)
{
    return mh_attempt(__builtin_return_address(0)) ? NULL : mh_made(__libc_memalign(al, n));
}

int posix_memalign(void **out, size_t al, size_t n)
{
    if (mh_attempt(__builtin_return_address(0)))
        return ENOMEM;
    void *p = __libc_memalign(al, n);
    if (p == NULL)
        return ENOMEM;
    *out = mh_made(p);
    return 0;
}
#endif

#endif /* RK_TEST_MALLOC_HOOK_H */
