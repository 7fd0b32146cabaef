/*
 * isa.c - instruction-set levels: names, and which of them this build and this CPU can run.
 *
 * A level is supported when the build compiled its kernels (MDL_HAVE_X86_KERNELS: the Makefile
 * builds the avx2 and avx512 copies on x86-64 only) and the CPU reports the features the
 * level's compiler flags assume, with the OS saving the wider registers (GCC's
 * __builtin_cpu_supports checks XCR0 for the AVX and AVX-512 state). The flags are those of the
 * x86-64 micro-architecture levels: v3 (AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE) for avx2 and v4
 * (v3 plus AVX-512 F, BW, CD, DQ, VL) for avx512.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static const char *const isa_names[] = {
#define MDL_ISA_NAME_(id, name) name,
    MDL_ISA_MAP(MDL_ISA_NAME_)
#undef MDL_ISA_NAME_
};

const char *mdl_isa_name(mdl_isa isa)
{
    if ((unsigned)isa >= (unsigned)MDL_ISA_COUNT)
        return NULL;
    return isa_names[isa];
}

bool mdl_isa_parse(const char *name, mdl_isa *out)
{
    for (unsigned i = 0; i < (unsigned)MDL_ISA_COUNT; i++) {
        if (strcmp(name, isa_names[i]) == 0) {
            *out = (mdl_isa)i;
            return true;
        }
    }
    return false;
}

#if defined(MDL_HAVE_X86_KERNELS) && (defined(__x86_64__) || defined(__i386__))
static bool cpu_has_v3(void)
{
    __builtin_cpu_init(); /* idempotent; needed before constructors have run */
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
}

static bool cpu_has_v4(void)
{
    return cpu_has_v3() && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512cd") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}
#else
static bool cpu_has_v3(void)
{
    return false;
}

static bool cpu_has_v4(void)
{
    return false;
}
#endif

bool mdl_isa_supported(mdl_isa isa)
{
    switch (isa) {
    case MDL_ISA_BASELINE:
        return true;
    case MDL_ISA_AVX2:
        return cpu_has_v3();
    case MDL_ISA_AVX512:
        return cpu_has_v4();
    default:
        return false;
    }
}

mdl_isa mdl_isa_best(void)
{
    for (int i = (int)MDL_ISA_COUNT - 1; i > 0; i--)
        if (mdl_isa_supported((mdl_isa)i))
            return (mdl_isa)i;
    return MDL_ISA_BASELINE;
}

static mdl_isa auto_level; /* written once under auto_once */
static pthread_once_t auto_once = PTHREAD_ONCE_INIT;

static void auto_init(void)
{
    auto_level = mdl_isa_best();
    const char *env = getenv("RK_ISA");
    mdl_isa cap;
    if (env != NULL && mdl_isa_parse(env, &cap) && cap < auto_level)
        auto_level = cap;
}

mdl_isa mdl_isa_auto(void)
{
    pthread_once(&auto_once, auto_init);
    return auto_level;
}
