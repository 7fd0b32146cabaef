/*
 * vm512.h - the AVX-512 level's exponential and normal CDF, for the kernels bound by their
 * instruction count (kern_american.c; kern_linear.c's european): exp2_8 (2^y), exp8 (e^x) and
 * ncdf_neg8 (N(-x)), eight lanes an instruction. They trade a few ulp against vm_exp and vm_ncdf
 * for about half their instructions; each comment says how much, and models/README.md how it
 * was measured. The same bits on every AVX-512 CPU: no approximate instruction.
 */
#ifndef MDL_VM512_H
#define MDL_VM512_H

/* ncdf_neg8 takes arguments beyond +-VM8_CDF_MAX as +-VM8_CDF_MAX: N(-a) is then below 1e-299
 * and normal, where the full argument would give, or form on the way, a subnormal, whose
 * arithmetic costs about a hundred cycles an operation on x86. */
#define VM8_CDF_MAX 37.0

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>

#include "vmath.h"

#define V8(c) _mm512_set1_pd(c)
#define FMA8(a, b, c) _mm512_fmadd_pd((a), (b), (c))

/* exp2_8: 2^y in fewer instructions than vm_exp (the american kernel's 400 quadrature
 * exponentials a price are bound by their number): with m = floor(16 y), f = y - m/16 in [0, 1/16)
 * (exact: vreducepd) and j = m mod 16, 2^y = 2^floor(y) 2^(j/16) 2^f, where 2^(j/16) comes from a
 * table of 16 held in two registers (vpermt2pd, indexed by the low bits of y + 1.5 * 2^48 rounded
 * down, which hold m), 2^f = 1 + f R(f), R the degree 5 Chebyshev interpolant of (2^f - 1) / f on
 * [0, 1/16] (error of f R below 2.9e-17), and 2^floor(y) is applied by vscalefpd, which floors y
 * itself. Within about 1 ulp (the table's rounding, the last two roundings), for |y| < 2^47 (the
 * rounding of y + 1.5 * 2^48 to sixteenths); the same bits on every AVX-512 CPU (no
 * approximate instruction). */
static const double vm8_exp2_r[6] = {
    0.6931471805599448,   0.24022650695962044,   0.0555041085678426,
    0.009618135722740813, 0.0013331520045529266, 0.00015692444190046448,
};
static const double vm8_exp2_tab[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0,
};

static inline __m512d exp2_8(__m512d y)
{
    const __m512d r0 = _mm512_set1_pd(vm8_exp2_r[0]), r1 = _mm512_set1_pd(vm8_exp2_r[1]);
    const __m512d r2 = _mm512_set1_pd(vm8_exp2_r[2]), r3 = _mm512_set1_pd(vm8_exp2_r[3]);
    const __m512d r4 = _mm512_set1_pd(vm8_exp2_r[4]), r5 = _mm512_set1_pd(vm8_exp2_r[5]);
    __m512d k =
        _mm512_add_round_pd(y, _mm512_set1_pd(0x1.8p48), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    __m512d f = _mm512_reduce_pd(y, (4 << 4) | _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    __m512d t = _mm512_permutex2var_pd(_mm512_loadu_pd(vm8_exp2_tab), _mm512_castpd_si512(k),
                                       _mm512_loadu_pd(vm8_exp2_tab + 8));
    __m512d p = _mm512_fmadd_pd(r5, f, r4);
    p = _mm512_fmadd_pd(p, f, r3);
    p = _mm512_fmadd_pd(p, f, r2);
    p = _mm512_fmadd_pd(p, f, r1);
    p = _mm512_fmadd_pd(p, f, r0);
    p = _mm512_mul_pd(p, f);
    return _mm512_scalef_pd(_mm512_fmadd_pd(t, p, t), y);
}

/* The exponent polynomial of the CDF, P(t), in 16 pieces of degree NCDF_DEGREE, times log2 e
 * (tools/ncdf_piece_coeffs.py; truncation error below 8.4e-19): coefficient k of piece i
 * at [k][i]. */
#define NCDF_DEGREE 9
static const double vm8_ncdf_piece[NCDF_DEGREE + 1][16] __attribute__((aligned(64))) = {
    {-1.7794107227139846, -1.6856525314510207, -1.5867550429566117, -1.4834119433602204,
     -1.3757119392701753, -1.2638856096099993, -1.148320766023748, -1.0295620909987988,
     -0.9082927214878443, -0.7852997284049258, -0.6614291350920971, -0.5375378867375452,
     -0.41444972754014947, -0.2929199005946065, -0.17361097788482863, -0.05707981907156318},
    {0.04544683779466074, 0.048337823230580154, 0.050562213859283396, 0.052773714960869064,
     0.05490720923745489, 0.056886802798762265, 0.05863249465362404, 0.060068957477921577,
     0.061134438641781724, 0.06178764363108275, 0.06201116393707162, 0.061811142229327945,
     0.06121387879244436, 0.06026062716946322, 0.05900186451435122, 0.05749202251400655},
    {0.0005220079195622931, 0.0005531581589854847, 0.0005569175397741522, 0.0005461053232489658,
     0.0005174511243549023, 0.0004689744215232562, 0.00040069441324518964, 0.00031493439082455913,
     0.00021607113717112317, 0.00010980786980446627, 2.2231645823651053e-06,
     -0.00010111568917194736, -0.0001957726608711281, -0.00027872764945297473,
     -0.000348367919461827, -0.0004042844904012359},
    {2.9782564732757837e-06, 1.6334266761865445e-06, -4.860166599114079e-07, -3.211301136667733e-06,
     -6.397213775839339e-06, -9.76206511314502e-06, -1.2932670034814e-05, -1.5530296473007977e-05,
     -1.7262933522526172e-05, -1.798676012773621e-05, -1.771841405399399e-05,
     -1.660387747844422e-05, -1.4864620985123405e-05, -1.2742852465177823e-05,
     -1.0460061033959653e-05, -8.19355626768846e-06},
    {-1.4222574445770698e-07, -2.2529524860326402e-07, -3.043432204923599e-07,
     -3.739722121752984e-07, -4.165404024584663e-07, -4.167070715284022e-07, -3.678494219976243e-07,
     -2.7533984277746437e-07, -1.5479990513668066e-07, -2.657509674852005e-08,
     9.050116315425262e-08, 1.8340066155478533e-07, 2.4627986616623233e-07, 2.7949986307945917e-07,
     2.8748994478465506e-07, 2.7652867750628077e-07},
    {-6.3723855793086275e-09, -7.856720367433447e-09, -7.713465163632831e-09,
     -5.907873182819027e-09, -2.3383609958636226e-09, 2.4213764464635575e-09, 7.257338976074478e-09,
     1.0974172695826998e-08, 1.2783645647210612e-08, 1.2540052557304573e-08, 1.0655936787926986e-08,
     7.828523721371338e-09, 4.757164046219535e-09, 1.9644966016820326e-09, -2.5898112954171013e-10,
     -1.8244150150364506e-09},
    {-9.921530246668471e-11, -4.365849559977437e-11, 7.569077703391118e-11, 2.2703026977480872e-10,
     3.597231321825678e-10, 4.1738485183794084e-10, 3.7126213173523234e-10, 2.369227700963284e-10,
     6.278174241966742e-11, -9.72295674101374e-11, -2.066893734349543e-10, -2.545813819002115e-10,
     -2.499848850698686e-10, -2.114782358779349e-10, -1.5796746046475802e-10,
     -1.0367513079374894e-10},
    {2.5404948503261727e-12, 6.671360444594822e-12, 1.0124438208107547e-11, 1.086219602383019e-11,
     7.377343133771231e-12, 4.956928912977054e-13, -6.882957835432885e-12, -1.1695496411597979e-11,
     -1.2510459336022789e-11, -9.905893478603953e-12, -5.6079671754099075e-12,
     -1.3556520306669854e-12, 1.7797879321312346e-12, 3.4902553523995955e-12, 3.983669111560019e-12,
     3.6748706608639204e-12},
    {1.9087835431426214e-13, 2.4969601513337114e-13, 1.5400702609530044e-13, -8.071163957062683e-14,
     -3.45275139321365e-13, -4.799036658959348e-13, -4.057874515251342e-13, -1.7928550244022442e-13,
     6.98305976160185e-14, 2.3497135942061523e-13, 2.8192960249263346e-13, 2.3746622967147423e-13,
     1.5128744929102692e-13, 6.520920585513438e-14, 1.3764782474902074e-15,
     -3.5319203279207447e-14},
    {3.5472214955697455e-15, -1.1446974033961783e-15, -9.641080807604008e-15,
     -1.5363416953454446e-14, -1.2418983649564766e-14, -1.7609104769775384e-15,
     9.406966160645275e-15, 1.4466379424235567e-14, 1.2188039501608214e-14, 5.86318908931916e-15,
     -3.5975178847960846e-16, -4.094311786369503e-15, -5.087214855349681e-15,
     -4.277294512141339e-15, -2.7781059341460202e-15, -1.349771026957147e-15},
};

/* Coefficient k of each lane's piece: the low 4 bits of i's lanes index a table of 16 held in two
 * registers. */
#define PIECE_COEF(k, i)                                                                           \
    _mm512_permutex2var_pd(_mm512_load_pd(vm8_ncdf_piece[k]), (i),                                 \
                           _mm512_load_pd(vm8_ncdf_piece[k] + 8))

/* N(-x), x clamped to [-VM8_CDF_MAX, VM8_CDF_MAX] (NaN passes): vm_ncdf's form, erfc(z) =
 * t exp(-z^2 + P(t)), t = 2 / (2 + z), z = |x| / sqrt 2, taken another way in fewer instructions
 * (the american kernel's 38 CDFs a price are bound by their number):
 *  - P(t) in 16 pieces of degree 9 (ncdf_piece) instead of vm_ncdf's one of degree 27: 10 table
 *    lookups and 9 multiply-adds instead of 27 multiply-adds and 4 squarings;
 *  - the exponential in base 2 by exp2_8, of y = -x^2 log2(e) / 2 + P(t) log2(e) (the tables
 *    hold P log2 e), without vm_ncdf's low part of x^2: y carries about 2.5 |y| u of rounding,
 *    so the result about 1.25 x^2 u relative (measured against erfcl: within 4.7 + 0.63 x^2
 *    ulp; the american kernel's cdf_err adds CDF_EXP_ARG x^2);
 *  - 1 / (2 + z) by vdivpd: the loop is bound by its instruction count, and the divider works
 *    beside the two FMA ports. (A quotient from vrcp14pd's estimate and Newton steps takes
 *    seven more instructions; it made the american kernel 4% slower: models/README.md.)
 * The results are normal for |x| <= VM8_CDF_MAX (y >= -990). */
static inline __m512d ncdf_neg8(__m512d x)
{
    /* operands in this order: NaN passes */
    __m512d a = _mm512_min_pd(V8(VM8_CDF_MAX), _mm512_abs_pd(x));
    __m512d d = FMA8(a, V8(0.70710678118654752440), V8(2.0));
    __m512d th = _mm512_div_pd(V8(1.0), d); /* t / 2 */
    /* P(t) piecewise: piece i = floor(16 t) (t = 1 joins the last), w = 2 (16 t - i) - 1 */
    __m512d s = _mm512_min_pd(_mm512_mul_pd(th, V8(32.0)), V8(0x1.fffffffffffffp3));
    __m512i i = _mm512_castpd_si512(
        _mm512_add_round_pd(s, V8(0x1.8p52), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
    __m512d w =
        FMA8(V8(2.0), _mm512_reduce_pd(s, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC), V8(-1.0));
    __m512d p = PIECE_COEF(NCDF_DEGREE, i);
    for (int k = NCDF_DEGREE - 1; k >= 0; k--)
        p = FMA8(p, w, PIECE_COEF(k, i));
    __m512d y = FMA8(_mm512_mul_pd(a, V8(-0.5 * VM_LOG2E)), a, p);
    __m512d v = _mm512_mul_pd(th, exp2_8(y)); /* N(-|x|) = erfc(z) / 2 */
    __mmask8 neg = _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_LT_OQ);
    return _mm512_mask_sub_pd(v, neg, V8(1.0), v);
}

/* e^x by exp2_8, of y = x log2(e): about |x| u of rounding in y, so the result within about
 * |x| u relative plus exp2_8's ulp (measured against expl: within 1.9 + 0.64 |x| ulp; the
 * american kernel's factor bounds carry FAC_EXP_ARG |x|). The clamps are vm_exp's, and keep
 * NaN. */
static inline __m512d exp8(__m512d x)
{
    x = _mm512_min_pd(V8(VM_EXP_HI), x);
    x = _mm512_max_pd(V8(VM_EXP_LO), x);
    return exp2_8(_mm512_mul_pd(x, V8(VM_LOG2E)));
}

#endif /* AVX-512 */
#endif /* MDL_VM512_H */
