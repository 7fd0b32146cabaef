/*
 * test_vmath.c - the vector math functions of models/vmath.h, as scalar calls: their largest
 * error in ulps over dense grids of the whole domain against libm's long double functions
 * (exp, log, expm1) and against long double or 50-digit values (N), and their special values.
 * This copy is compiled for the baseline; the copies the kernels inline at every level are
 * tested through the kernels against the scalar references (test_batch.c).
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "harness.h"
#include "vmath.h"

/* Largest errors allowed, in ulps of the exact result (a correctly rounded function would
 * reach 0.5). The worst cases measured on these grids, without FMA and with it, are in
 * parentheses. */
#define TOL_EXP_ULP 1.0       /* (0.75, 0.76) */
#define TOL_LOG_ULP 1.0       /* (0.72, 0.72) */
#define TOL_EXPM1_ULP 1.5     /* (1.36, 1.31: 2^n p + (2^n - 1) rounds twice) */
#define TOL_NCDF_TAIL_ULP 8.0 /* x <= 0, relative, where the result is normal (7.1, 6.4) */
#define TOL_NCDF_ABS 4e-16    /* every x, absolute (2.7e-16, 2.7e-16) */
/* Where the result is subnormal, errors are counted in units of the smallest subnormal. */
#define TOL_SUBNORMAL_ULP 1.0

/* ulps of the double nearest v: the spacing of doubles at v (2^-1074 below DBL_MIN). */
static long double ulp_at(long double v)
{
    double d = fabs((double)v);
    if (d < DBL_MIN)
        return 0x1p-1074L;
    int e;
    frexp(d, &e);
    return ldexpl(1.0L, e - 53);
}

static double ulp_err(double got, long double want)
{
    if (isinf(got) || isinf((double)want))
        return got == (double)want ? 0.0 : INFINITY;
    return (double)(fabsl((long double)got - want) / ulp_at(want));
}

typedef struct worst {
    double err, x;
} worst;

static void note(worst *w, double err, double x)
{
    if (!(err <= w->err)) { /* NaN errors count as the worst */
        w->err = err;
        w->x = x;
    }
}

#define GRID 2000000

/* x over [lo, hi], evenly, or log-evenly when both are positive and logscale is set. */
static double grid(double lo, double hi, int i, int n, bool logscale)
{
    double u = (i + 0.5) / n;
    return logscale ? exp(log(lo) + (log(hi) - log(lo)) * u) : lo + (hi - lo) * u;
}

START_TEST(exp_accuracy)
{
    static const double rng[][3] = {{-746, 710, 0},     {-1, 1, 0},     {1e-300, 1e-3, 1},
                                    {-745.2, -708, 0}, {700, 709.78, 0}};
    for (size_t g = 0; g < sizeof rng / sizeof rng[0]; g++) {
        worst w = {0, 0};
        for (int i = 0; i < GRID; i++) {
            double x = grid(rng[g][0], rng[g][1], i, GRID, rng[g][2] != 0);
            note(&w, ulp_err(vm_exp(x), expl(x)), x);
            if (rng[g][2] != 0)
                note(&w, ulp_err(vm_exp(-x), expl(-x)), -x);
        }
        ck_assert_msg(w.err <= TOL_EXP_ULP, "vm_exp: %.3f ulp at %.17g", w.err, w.x);
    }
}
END_TEST

START_TEST(exp_special)
{
    ck_assert(isnan(vm_exp(NAN)));
    ck_assert(vm_exp(INFINITY) == INFINITY);
    ck_assert(vm_exp(-INFINITY) == 0.0);
    ck_assert(vm_exp(0.0) == 1.0);
    ck_assert(vm_exp(-0.0) == 1.0);
    ck_assert(vm_exp(709.78) == exp(709.78));
    ck_assert(vm_exp(709.79) == INFINITY);
    ck_assert(vm_exp(1e300) == INFINITY);
    ck_assert(vm_exp(-745.2) == 0.0);
    ck_assert(vm_exp(-1e300) == 0.0);
    ck_assert(vm_exp(-745.1) == 0x1p-1074); /* the smallest subnormal */
    /* ln(DBL_MAX) and the last x whose e^x rounds to the smallest subnormal */
    ck_assert(vm_exp(709.782712893384) == exp(709.782712893384));
    ck_assert(vm_exp(nextafter(709.782712893384, 800)) == INFINITY);
    ck_assert(vm_exp(-745.13321910194111) == 0x1p-1074);
    /* subnormal results: within one unit of the smallest subnormal of the exact value */
    worst w = {0, 0};
    for (int i = 0; i < GRID / 10; i++) {
        double x = grid(-745.2, -708.4, i, GRID / 10, false);
        double got = vm_exp(x);
        long double want = expl(x);
        if (want < DBL_MIN)
            note(&w, (double)(fabsl(got - want) / 0x1p-1074L), x);
    }
    ck_assert_msg(w.err <= TOL_SUBNORMAL_ULP, "vm_exp subnormal: %.3f at %.17g", w.err, w.x);
}
END_TEST

START_TEST(log_accuracy)
{
    static const double rng[][3] = {{0x1p-1074, DBL_MAX, 1}, {0.5, 2, 0},     {0.999, 1.001, 0},
                                    {1 - 1e-9, 1 + 1e-9, 0}, {0x1p-1074, DBL_MIN, 1}};
    for (size_t g = 0; g < sizeof rng / sizeof rng[0]; g++) {
        worst w = {0, 0};
        for (int i = 0; i < GRID; i++) {
            double x = grid(rng[g][0], rng[g][1], i, GRID, rng[g][2] != 0);
            note(&w, ulp_err(vm_log(x), logl(x)), x);
        }
        ck_assert_msg(w.err <= TOL_LOG_ULP, "vm_log: %.3f ulp at %.17g", w.err, w.x);
    }
    /* every binade's edges */
    for (int e = -1074; e < 1024; e++) {
        double x = ldexp(1.0, e);
        ck_assert(ulp_err(vm_log(x), logl(x)) <= TOL_LOG_ULP);
        double y = nextafter(x, 0);
        if (y > 0)
            ck_assert(ulp_err(vm_log(y), logl(y)) <= TOL_LOG_ULP);
    }
}
END_TEST

START_TEST(log_special)
{
    ck_assert(vm_log(0.0) == -INFINITY);
    ck_assert(vm_log(-0.0) == -INFINITY);
    ck_assert(isnan(vm_log(-1.0)));
    ck_assert(isnan(vm_log(-0x1p-1074)));
    ck_assert(isnan(vm_log(-INFINITY)));
    ck_assert(isnan(vm_log(NAN)));
    ck_assert(vm_log(INFINITY) == INFINITY);
    ck_assert(vm_log(1.0) == 0.0);
    ck_assert(vm_log(0x1p-1074) == log(0x1p-1074));
    ck_assert(vm_log(DBL_MAX) == log(DBL_MAX));
}
END_TEST

START_TEST(expm1_accuracy)
{
    static const double rng[][3] = {{-40, 710, 0}, {-1, 1, 0}, {1e-300, 1, 1}, {700, 709.78, 0}};
    for (size_t g = 0; g < sizeof rng / sizeof rng[0]; g++) {
        worst w = {0, 0};
        for (int i = 0; i < GRID; i++) {
            double x = grid(rng[g][0], rng[g][1], i, GRID, rng[g][2] != 0);
            note(&w, ulp_err(vm_expm1(x), expm1l(x)), x);
            if (rng[g][2] != 0) /* small |x| of both signs: relative accuracy */
                note(&w, ulp_err(vm_expm1(-x), expm1l(-x)), -x);
        }
        ck_assert_msg(w.err <= TOL_EXPM1_ULP, "vm_expm1: %.3f ulp at %.17g", w.err, w.x);
    }
}
END_TEST

START_TEST(expm1_special)
{
    ck_assert(isnan(vm_expm1(NAN)));
    ck_assert(vm_expm1(INFINITY) == INFINITY);
    ck_assert(vm_expm1(-INFINITY) == -1.0);
    ck_assert(vm_expm1(-1e300) == -1.0);
    ck_assert(vm_expm1(-40.0) == -1.0);
    ck_assert(vm_expm1(1e300) == INFINITY);
    ck_assert(vm_expm1(709.79) == INFINITY);
    ck_assert(vm_expm1(709.78) == expm1(709.78));
    ck_assert(rk_test_same_bits(vm_expm1(0.0), 0.0));
    ck_assert(rk_test_same_bits(vm_expm1(-0.0), -0.0));
    ck_assert(vm_expm1(1e-310) == 1e-310);
    ck_assert(vm_expm1(-1e-310) == -1e-310);
    ck_assert(vm_expm1(0x1p-60) == 0x1p-60);
}
END_TEST

/* N(x) to 50 digits (mpmath), as the nearest double and the rest, in the far lower tail where
 * long double erfcl loses digits to the rounding of x / sqrt(2). */
static const double ncdf_tail[][3] = {
    {-0x1.3400000000000p+5, 0x0.0p+0, 0x0.0p+0},
    {-0x1.3200000000000p+5, 0x0.0000000001071p-1022, 0x0.0p+0},
    {-0x1.30ccccccccccdp+5, 0x0.000000013c8b8p-1022, 0x0.0p+0},
    {-0x1.3000000000000p+5, 0x0.00000037b23b8p-1022, 0x0.0p+0},
    {-0x1.2e00000000000p+5, 0x0.000b13ca9ea51p-1022, 0x0.0p+0},
    {-0x1.2d6480f2a2ad1p+5, 0x0.00c275f90085ep-1022, 0x0.0p+0},
    {-0x1.2c00000000000p+5, 0x1.08eda98086fd1p-1021, -0x0.0000000000001p-1022},
    {-0x1.2a00000000000p+5, 0x1.7407c86b70752p-1008, -0x0.0000000000176p-1022},
    {-0x1.294b3841a9b26p+5, 0x1.3702f6dfee0adp-1003, 0x0.0000000005352p-1022},
    {-0x1.2800000000000p+5, 0x1.eaccc6bfeb0afp-995, -0x0.0000003679c0cp-1022},
    {-0x1.2600000000000p+5, 0x1.30246f0e0f87fp-981, 0x0.000fa2839b611p-1022},
    {-0x1.2531ef90b0b7ap+5, 0x1.7ea665dfcd7f6p-976, 0x0.0059286a022f3p-1022},
    {-0x1.2400000000000p+5, 0x1.621fd7ce0bf53p-968, -0x1.d3ef7ac99b727p-1022},
    {-0x1.2200000000000p+5, 0x1.835b751a809f0p-955, -0x1.22c27431f1a9bp-1009},
    {-0x1.2118a6dfb7bcfp+5, 0x1.6a2af7f38739dp-949, -0x1.7409e607ea160p-1003},
    {-0x1.2000000000000p+5, 0x1.8e0e76581e5aep-942, 0x1.ea51ed0963192p-996},
    {-0x1.1e00000000000p+5, 0x1.80495ab1decacp-929, 0x1.36e729e7a799cp-984},
    {-0x1.1cff5e2ebec24p+5, 0x1.07b22b9d8d55fp-922, -0x1.6bb2c4e72c00dp-976},
    {-0x1.1c00000000000p+5, 0x1.5c88567adc006p-916, 0x1.ee6d789e6cfacp-971},
    {-0x1.1a00000000000p+5, 0x1.28f7cc2eefae1p-903, -0x1.336a6815d9882p-957},
    {-0x1.18e6157dc5c78p+5, 0x1.276731f8e3021p-896, 0x1.eaae506d7b20ap-950},
    {-0x1.1800000000000p+5, 0x1.db6d661d5b3eep-891, 0x1.e415fc15a5fc7p-950},
    {-0x1.1600000000000p+5, 0x1.6586995763dc0p-878, 0x1.c76bf037eecf1p-932},
    {-0x1.14ccccccccccdp+5, 0x1.fd26d30578554p-871, 0x1.c3d399026a476p-926},
    {-0x1.1400000000000p+5, 0x1.f92c1b8ba4028p-866, 0x1.23614e4770842p-921},
    {-0x1.1200000000000p+5, 0x1.4f4a50aa0b258p-853, -0x1.648147d89e68dp-909},
    {-0x1.116480f2a2ad1p+5, 0x1.1a157227b5c7cp-849, 0x1.0d456382d76c4p-904},
    {-0x1.1000000000000p+5, 0x1.a22175280770ep-841, -0x1.46f93660481dcp-898},
    {-0x1.0e00000000000p+5, 0x1.e9df5d13d6477p-829, 0x1.4d753baf33d73p-886},
    {-0x1.0d4b3841a9b26p+5, 0x1.2cc126e9ff8cap-824, 0x1.863ff6a1e1b3cp-878},
    {-0x1.0c00000000000p+5, 0x1.0d97238b948c2p-816, 0x1.fd9f880cf424cp-876},
    {-0x1.0a00000000000p+5, 0x1.16c3887f2aff7p-804, -0x1.c74871bed6010p-858},
    {-0x1.0931ef90b0b7ap+5, 0x1.ed5f502b4783dp-800, 0x1.9ac6f2769f3c7p-856},
    {-0x1.0800000000000p+5, 0x1.0ecce9daf5033p-792, 0x1.d0a84e0629f50p-847},
    {-0x1.0600000000000p+5, 0x1.ee47e2b76118ep-781, 0x1.1e7438089c5d6p-835},
    {-0x1.0518a6dfb7bcfp+5, 0x1.37524f40c3983p-775, 0x1.34a72a7eaf303p-832},
    {-0x1.0400000000000p+5, 0x1.a7ca08e3a10cbp-769, 0x1.97c689dbe467bp-823},
    {-0x1.0200000000000p+5, 0x1.555b4343ce71fp-757, 0x1.6bd93c922f61ap-811},
    {-0x1.00ff5e2ebec24p+5, 0x1.2e422ad50bc45p-751, 0x1.671592126d3fbp-805},
    {-0x1.0000000000000p+5, 0x1.02508b8e2624cp-745, 0x1.ba13f159bc2f1p-799},
    {-0x1.fc00000000000p+4, 0x1.6f48dee2f5b80p-734, -0x1.3d11df58f3fe1p-791},
    {-0x1.f9cc2afb8b8f1p+4, 0x1.c3878ff950b7fp-728, 0x1.bdb26bec107f9p-783},
    {-0x1.f800000000000p+4, 0x1.ea9d2dc531c77p-723, -0x1.75f80dd1f65e7p-777},
    {-0x1.f400000000000p+4, 0x1.33d817a76ebe3p-711, 0x1.a2cadf8c044e6p-765},
    {-0x1.f19999999999ap+4, 0x1.037695abfb1d5p-704, -0x1.3c11b1e7483b8p-758},
    {-0x1.f000000000000p+4, 0x1.6af0e389373a7p-700, -0x1.5fe706089fa59p-754},
    {-0x1.ec00000000000p+4, 0x1.91fff15c3e96cp-689, 0x1.be2df55a6d890p-743},
    {-0x1.eac901e5455a2p+4, 0x1.035903413cf0ap-685, 0x1.74d692146742ap-740},
    {-0x1.e800000000000p+4, 0x1.a24ff9fa77826p-678, 0x1.75094bfb03018p-732},
    {-0x1.e400000000000p+4, 0x1.98f10b5aa062bp-667, 0x1.0f8994e32f643p-722},
    {-0x1.e29670835364cp+4, 0x1.70c983660addep-663, 0x1.ab21b346b59d8p-719},
    {-0x1.e000000000000p+4, 0x1.7795ad05ea397p-656, -0x1.44d5d4c718834p-711},
    {-0x1.dc00000000000p+4, 0x1.441255e59efeap-645, 0x1.b262515a46983p-704},
    {-0x1.da63df21616f5p+4, 0x1.9373cb0f0f1b5p-641, 0x1.bd420d32ad45ep-695},
    {-0x1.d800000000000p+4, 0x1.06b3603285095p-634, -0x1.5e4c99108bc15p-688},
    {-0x1.d400000000000p+4, 0x1.9020c6d7d037ep-624, 0x1.dbd741a75a6b7p-678},
    {-0x1.d2314dbf6f79ep+4, 0x1.53934150e0d43p-619, 0x1.d36c84899391ap-673},
    {-0x1.d000000000000p+4, 0x1.1e485467b3945p-613, -0x1.49bd647ff1a67p-669},
    {-0x1.cc00000000000p+4, 0x1.80dda8477c6b9p-603, 0x1.b0d9ed1b98e81p-657},
    {-0x1.c9febc5d7d847p+4, 0x1.b7c9473be7b35p-598, 0x1.090273cc38166p-652},
    {-0x1.c800000000000p+4, 0x1.e616028d3d3c8p-593, 0x1.7208d62f59ab5p-648},
    {-0x1.c400000000000p+4, 0x1.206339b470c98p-582, -0x1.14bc2f66e0443p-636},
    {-0x1.c1cc2afb8b8f1p+4, 0x1.b63631dfa32aap-577, -0x1.79e989a6a2b86p-633},
    {-0x1.c000000000000p+4, 0x1.417c1ac70680dp-572, -0x1.de8dfe22c4028p-626},
    {-0x1.bc00000000000p+4, 0x1.50b1a1e2d4d1ap-562, 0x1.97d84aa913483p-616},
    {-0x1.b99999999999ap+4, 0x1.4ff1e2d2d884cp-556, 0x1.7376e846429b2p-610},
    {-0x1.b800000000000p+4, 0x1.4b48ec7af6477p-552, 0x1.031024ea41baap-607},
    {-0x1.b400000000000p+4, 0x1.323d1f9698a93p-542, -0x1.f90ed5291f289p-596},
    {-0x1.b2c901e5455a2p+4, 0x1.2f05a036674bep-539, -0x1.84d952bf87ac2p-593},
    {-0x1.b000000000000p+4, 0x1.09f504c96d386p-532, -0x1.fcb61bd56defap-588},
    {-0x1.ac00000000000p+4, 0x1.b1ff2fe98649cp-523, 0x1.6daadc454f82cp-578},
    {-0x1.aa9670835364cp+4, 0x1.1f77ff746426fp-519, -0x1.3e40f7448a15fp-576},
    {-0x1.a800000000000p+4, 0x1.4cade40b0496ap-513, -0x1.46d2246e2edf8p-567},
    {-0x1.a400000000000p+4, 0x1.df2b93b70f3c1p-504, -0x1.6e140919db5a5p-560},
    {-0x1.a263df21616f5p+4, 0x1.a3a840a93b7f9p-500, -0x1.a9de2b97a5183p-556},
    {-0x1.a000000000000p+4, 0x1.443474117911fp-494, 0x1.a62565f3db699p-550},
    {-0x1.9c00000000000p+4, 0x1.9c2b5b8d692f7p-485, -0x1.ff42a1ebbd015p-540},
    {-0x1.9a314dbf6f79ep+4, 0x1.d75ee9faae531p-481, -0x1.fc4547071d3f6p-535},
    {-0x1.9800000000000p+4, 0x1.ec4c900ce5ab9p-476, -0x1.156f3b8b6e8bdp-531},
    {-0x1.9400000000000p+4, 0x1.1437888ea7247p-466, -0x1.80d9d7eff7e5cp-521},
    {-0x1.91febc5d7d847p+4, 0x1.976197900d4afp-462, 0x1.0544a3c3bd920p-519},
    {-0x1.9000000000000p+4, 0x1.2334bd061877ep-457, -0x1.635504f7cafcbp-512},
    {-0x1.8c00000000000p+4, 0x1.206fb49aa09fap-448, -0x1.98f556ebcae12p-504},
    {-0x1.89cc2afb8b8f1p+4, 0x1.0ee7a674347edp-443, 0x1.42f3515b3eeaap-500},
    {-0x1.8800000000000p+4, 0x1.0c692fef0bac0p-439, -0x1.8b98d3c3dca2ap-493},
    {-0x1.8400000000000p+4, 0x1.d55565d996febp-431, 0x1.95ca0fa690119p-485},
    {-0x1.819999999999ap+4, 0x1.153c15030d22cp-425, 0x1.71506de4a08aap-479},
    {-0x1.8000000000000p+4, 0x1.818282d7ca7a3p-422, 0x1.9b773b3d14b17p-476},
    {-0x1.7c00000000000p+4, 0x1.2980f6e6eb907p-413, -0x1.d9b11491b04d7p-467},
    {-0x1.7ac901e5455a2p+4, 0x1.c38c48101fa2ep-411, 0x1.f3db7d29ebc7fp-465},
    {-0x1.7800000000000p+4, 0x1.af674f3061110p-405, -0x1.7dbec68d31189p-463},
    {-0x1.7400000000000p+4, 0x1.25ddd7cc4e6fbp-396, -0x1.692197e908f93p-451},
    {-0x1.729670835364cp+4, 0x1.1df8c4c52df46p-393, 0x1.c4b847dfbb554p-447},
    {-0x1.7000000000000p+4, 0x1.78249810921d5p-388, -0x1.989cd2715aad1p-446},
    {-0x1.6c00000000000p+4, 0x1.c456814c28bc2p-380, 0x1.fa5e3c1ffa757p-434},
    {-0x1.6a63df21616f5p+4, 0x1.16ba73c2b12eep-376, 0x1.e6155af7900efp-431},
    {-0x1.6800000000000p+4, 0x1.ff12411c9c474p-372, 0x1.608849f725c05p-427},
    {-0x1.6400000000000p+4, 0x1.0f41936f122a1p-363, -0x1.48394a9d0651ap-420},
    {-0x1.62314dbf6f79ep+4, 0x1.a21b5d9250b17p-360, -0x1.db8efe38b4604p-414},
    {-0x1.6000000000000p+4, 0x1.0e882a5423636p-355, 0x1.240f58eaea7b6p-410},
    {-0x1.5c00000000000p+4, 0x1.fafd6ca7150efp-348, 0x1.aa1c3768fa58dp-402},
    {-0x1.59febc5d7d847p+4, 0x1.e2a3753c730eep-344, -0x1.060ed37fee246p-401},
    {-0x1.5800000000000p+4, 0x1.be566cd3c1a85p-340, 0x1.61af6397f39a3p-394},
    {-0x1.5400000000000p+4, 0x1.712ef3bc6a78fp-332, -0x1.bdb5b68a218bbp-387},
    {-0x1.51cc2afb8b8f1p+4, 0x1.acbdec2ae5179p-328, 0x1.be57c0f53301dp-385},
    {-0x1.5000000000000p+4, 0x1.1ee774feb43cdp-324, -0x1.a7e47fe464f03p-379},
    {-0x1.4c00000000000p+4, 0x1.a2f7499e13f8fp-317, -0x1.aab972136b2c2p-373},
    {-0x1.499999999999ap+4, 0x1.251a779642319p-312, -0x1.50cd9580c7c0ap-366},
    {-0x1.4800000000000p+4, 0x1.1f6a3f82871ecp-309, -0x1.91941f9a327c7p-363},
    {-0x1.4400000000000p+4, 0x1.72807f4327171p-302, 0x1.17f0a164f6032p-356},
    {-0x1.42c901e5455a2p+4, 0x1.af59a6325fef9p-300, -0x1.22955f4e54577p-354},
    {-0x1.4000000000000p+4, 0x1.c0bd0f1880783p-295, -0x1.ede1acbcb844fp-351},
    {-0x1.3c00000000000p+4, 0x1.fea54b087e2a3p-288, 0x1.4d54d7582c2f4p-342},
    {-0x1.3a9670835364cp+4, 0x1.6d187c78ad32fp-285, 0x1.d2394f2aa09e5p-339},
    {-0x1.3800000000000p+4, 0x1.10fc891f9c590p-280, -0x1.bf715a4f7c219p-334},
    {-0x1.3400000000000p+4, 0x1.123b9b222e6ccp-273, 0x1.823dcb330ddb2p-327},
    {-0x1.3263df21616f5p+4, 0x1.dbaa903c5533fp-271, 0x1.9837c431f2fb7p-327},
    {-0x1.3000000000000p+4, 0x1.02d64a74714f3p-266, -0x1.857745983c21cp-320},
    {-0x1.2c00000000000p+4, 0x1.cb1605adc1ce6p-260, -0x1.ac5f675835e4bp-315},
    {-0x1.2a314dbf6f79ep+4, 0x1.dcfb8f35353dbp-257, 0x1.2ad2e26c2fff6p-312},
    {-0x1.2800000000000p+4, 0x1.7e87625f04303p-253, 0x1.18e57608ea25fp-307},
    {-0x1.2400000000000p+4, 0x1.2b7b100784439p-246, 0x1.bd6a9053a4571p-301},
    {-0x1.21febc5d7d847p+4, 0x1.7026418015a55p-243, -0x1.cf159bc993fb7p-297},
    {-0x1.2000000000000p+4, 0x1.b8987b8ecde7ap-240, -0x1.d2e0f47d9a43ep-295},
    {-0x1.1c00000000000p+4, 0x1.3085f0c7c1821p-233, -0x1.99ce33bc5a227p-287},
    {-0x1.19cc2afb8b8f1p+4, 0x1.b56fca49832e4p-230, 0x1.9602e236094bep-285},
    {-0x1.1800000000000p+4, 0x1.8b85e385a96a4p-227, 0x1.fa731197626bep-281},
    {-0x1.1400000000000p+4, 0x1.e2b02b27c8edcp-221, -0x1.5063a8ca94e3cp-275},
    {-0x1.119999999999ap+4, 0x1.9018e2704ee76p-217, -0x1.e0201fe8b0fe0p-272},
    {-0x1.1000000000000p+4, 0x1.14be5c581bcb8p-214, -0x1.230d3b2ddc366p-268},
    {-0x1.0c00000000000p+4, 0x1.2a2c14ffcfac9p-208, 0x1.2ed3ceae60771p-263},
    {-0x1.0ac901e5455a2p+4, 0x1.0a56713c53248p-206, 0x1.5d9d128c8d9c5p-263},
    {-0x1.0800000000000p+4, 0x1.2ddc99e42a754p-202, 0x1.61587b478b2f7p-257},
    {-0x1.0400000000000p+4, 0x1.1f256f91068aep-196, 0x1.fbf5b6057b6d2p-251},
    {-0x1.029670835364cp+4, 0x1.2dc1b7b7c66f3p-194, 0x1.ec42bf901e7edp-248},
    {-0x1.0000000000000p+4, 0x1.00a8872bb365ap-190, 0x1.59b7392708cffp-244},
    {-0x1.f800000000000p+3, 0x1.af1e9e33ed4ffp-185, 0x1.33e45208ae9cbp-239},
    {-0x1.f4c7be42c2de9p+3, 0x1.07366fb56d910p-182, 0x1.c97d42455ce1bp-238},
    {-0x1.f000000000000p+3, 0x1.543b1842c894ep-179, -0x1.63f7192f28192p-233},
    {-0x1.e800000000000p+3, 0x1.f8995c26bb651p-174, 0x1.aa44e5834e152p-228},
    {-0x1.e4629b7edef3bp+3, 0x1.618a7e1e5a131p-171, -0x1.a3b6fcdef4d19p-231},
    {-0x1.e000000000000p+3, 0x1.5f9bd44cdd4f4p-168, 0x1.87418d9881b2ep-224},
    {-0x1.d800000000000p+3, 0x1.cc71b2e2b102cp-163, -0x1.b75f4928370d7p-217},
    {-0x1.d3fd78bafb08ep+3, 0x1.6da4743a29b08p-160, -0x1.f2f54c85e27fdp-215},
    {-0x1.d000000000000p+3, 0x1.1b4c176e39cf0p-157, -0x1.b2545a1fea77fp-211},
    {-0x1.c800000000000p+3, 0x1.4794f69afec6fp-152, -0x1.a6eb0a17c101fp-206},
    {-0x1.c39855f7171e0p+3, 0x1.233318bfb29acp-149, 0x1.4ce49ab33e327p-207},
    {-0x1.c000000000000p+3, 0x1.63f222737e58fp-147, 0x1.6438b853e4eb5p-202},
    {-0x1.b800000000000p+3, 0x1.6b71fb8dac463p-142, -0x1.2c0d9865caeb5p-197},
    {-0x1.b333333333333p+3, 0x1.6532d567abde8p-139, 0x1.699adb72332aep-193},
    {-0x1.b000000000000p+3, 0x1.5cbaff5bbf4b5p-137, -0x1.5a2ad89f8b1aep-192},
    {-0x1.a800000000000p+3, 0x1.3a715a56dfa9ap-132, -0x1.d43a7f1632046p-188},
    {-0x1.a59203ca8ab44p+3, 0x1.af285c237d7c5p-131, 0x1.26bc90035614bp-185},
    {-0x1.a000000000000p+3, 0x1.0a70a98ce1d9dp-127, -0x1.c31a4db652744p-181},
    {-0x1.9800000000000p+3, 0x1.a8535e3df879cp-123, 0x1.c9b0acd39a4d1p-177},
    {-0x1.952ce106a6c96p+3, 0x1.47e0714b90421p-121, 0x1.079ad2cde0f0cp-176},
    {-0x1.9000000000000p+3, 0x1.3d880d577329bp-118, 0x1.b38053d20a104p-172},
    {-0x1.8800000000000p+3, 0x1.be9c1975636c8p-114, 0x1.8d4532ee54743p-168},
    {-0x1.84c7be42c2de9p+3, 0x1.8026301a75998p-112, -0x1.c496ceaca4defp-166},
    {-0x1.8000000000000p+3, 0x1.272b313666239p-109, -0x1.e0bbf65391f77p-165},
    {-0x1.7800000000000p+3, 0x1.6eac8cb7fadb0p-105, 0x1.c73b72a8364cfp-159},
    {-0x1.74629b7edef3bp+3, 0x1.5ac2f4ac84450p-103, 0x1.f3fd4b8c1daddp-160},
    {-0x1.7000000000000p+3, 0x1.ac170cfdee0fcp-101, 0x1.f16c6aef1cc39p-157},
    {-0x1.6800000000000p+3, 0x1.d5b979780fac9p-97, 0x1.475b6d70d4ae1p-152},
    {-0x1.63fd78bafb08ep+3, 0x1.e263b73f8c727p-95, 0x1.6c034c8c799b0p-150},
    {-0x1.6000000000000p+3, 0x1.e468e575e1ccdp-93, 0x1.4b363b0c06b32p-148},
    {-0x1.5800000000000p+3, 0x1.d584d711e03e0p-89, -0x1.0d47c44b034bfp-143},
    {-0x1.539855f7171e0p+3, 0x1.02974cf68acf2p-86, -0x1.00646e5d0882ap-140},
    {-0x1.5000000000000p+3, 0x1.abbbd1ab8143dp-85, -0x1.5af4e9f1f87eep-140},
    {-0x1.4800000000000p+3, 0x1.6e416925807a3p-81, 0x1.cd45a7c86e679p-135},
    {-0x1.4333333333333p+3, 0x1.ab6a6dd6960a7p-79, -0x1.bc2c6ac1b25dep-133},
    {-0x1.4000000000000p+3, 0x1.26c75e84fb10dp-77, 0x1.ace508f1cc541p-131},
};

START_TEST(ncdf_accuracy)
{
    /* Against long double where x^2 is small enough that erfcl(-x / sqrt 2) is exact to
     * ~1e-19 relative. */
    worst wt = {0, 0}, wa = {0, 0};
    for (int i = 0; i < GRID; i++) {
        double x = grid(-10, 10, i, GRID, false);
        long double want = 0.5L * erfcl(-(long double)x * 0.707106781186547524400844362104849L);
        double got = vm_ncdf(x);
        note(&wa, fabs((double)(got - want)), x);
        if (x <= 0)
            note(&wt, ulp_err(got, want), x);
    }
    ck_assert_msg(wt.err <= TOL_NCDF_TAIL_ULP, "vm_ncdf: %.3f ulp at %.17g", wt.err, wt.x);
    ck_assert_msg(wa.err <= TOL_NCDF_ABS, "vm_ncdf: %.3g absolute at %.17g", wa.err, wa.x);
    for (size_t i = 0; i < sizeof ncdf_tail / sizeof ncdf_tail[0]; i++) {
        double x = ncdf_tail[i][0];
        long double want = (long double)ncdf_tail[i][1] + ncdf_tail[i][2];
        double got = vm_ncdf(x);
        if (want >= DBL_MIN)
            ck_assert_msg(ulp_err(got, want) <= TOL_NCDF_TAIL_ULP, "vm_ncdf(%.17g) = %.17g, %.3f ulp",
                          x, got, ulp_err(got, want));
        else
            ck_assert_msg(fabsl(got - want) / 0x1p-1074L <= TOL_SUBNORMAL_ULP,
                          "vm_ncdf(%.17g) = %.17g", x, got);
        /* the upper tail by symmetry: 1 - N(-x), absolutely */
        ck_assert_close(vm_ncdf(-x), 1.0 - (double)want, TOL_NCDF_ABS, 0);
    }
}
END_TEST

START_TEST(ncdf_special)
{
    ck_assert(isnan(vm_ncdf(NAN)));
    ck_assert(vm_ncdf(-INFINITY) == 0.0);
    ck_assert(vm_ncdf(INFINITY) == 1.0);
    ck_assert(vm_ncdf(-39.0) == 0.0);
    ck_assert(vm_ncdf(-1e300) == 0.0);
    ck_assert(vm_ncdf(39.0) == 1.0);
    ck_assert(vm_ncdf(9.0) == 1.0);
    ck_assert_close(vm_ncdf(0.0), 0.5, TOL_NCDF_ABS, 0);
    ck_assert_close(vm_ncdf(-0.0), 0.5, TOL_NCDF_ABS, 0);
    /* monotone across the seam at 0 and along a fine grid of the tail */
    ck_assert(vm_ncdf(-0x1p-60) <= vm_ncdf(0x1p-60));
    double prev = 0.0;
    for (double x = -38.5; x <= 8.5; x += 1.0 / 64) {
        double v = vm_ncdf(x);
        ck_assert_msg(v >= prev, "vm_ncdf not monotone at %.17g", x);
        prev = v;
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("vmath");
    TCase *tc = tcase_create("vmath");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, exp_accuracy);
    tcase_add_test(tc, exp_special);
    tcase_add_test(tc, log_accuracy);
    tcase_add_test(tc, log_special);
    tcase_add_test(tc, expm1_accuracy);
    tcase_add_test(tc, expm1_special);
    tcase_add_test(tc, ncdf_accuracy);
    tcase_add_test(tc, ncdf_special);
    suite_add_tcase(s, tc);
    return s;
}
