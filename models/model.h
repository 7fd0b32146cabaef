/*
 * model.h - the pricing models: one table, a plain scalar reference for every instrument, and
 * batch entries registered over it.
 *
 * A model prices one unit of an instrument from plain numbers (spot, strike, expiry, rate, vol,
 * dividend, coupon, frequency, steps). It knows nothing about underlyings, books or scenarios:
 * the evaluator resolves those into numbers first.
 *
 * Layering (reference first, fast variants over it): every instrument has a scalar reference
 * function that is written for clarity and tested against published values. The batch entry of
 * the table starts as a loop over the reference; a faster variant (vectorised, hoisted) may
 * replace it through mdl_register_batch() and is tested against the reference on random inputs
 * with a named tolerance (tests/models/). Callers always go through mdl_table().
 *
 * Threading: all functions here are pure apart from the table itself, which is filled once by
 * mdl_init() (idempotent, thread-safe) and read-only afterwards.
 */
#ifndef MDL_MODEL_H
#define MDL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Instrument kinds, in the order used everywhere (tables, grouping, reports). */
#define MDL_KIND_MAP(X)                                                                            \
    X(SPOT, "spot")                                                                                \
    X(FORWARD, "forward")                                                                          \
    X(EURO_CALL, "european_call")                                                                  \
    X(EURO_PUT, "european_put")                                                                    \
    X(AMER_CALL, "american_call")                                                                  \
    X(AMER_PUT, "american_put")                                                                    \
    X(BOND, "bond")

typedef enum mdl_kind {
#define MDL_KIND_ENUM_(id, name) MDL_##id,
    MDL_KIND_MAP(MDL_KIND_ENUM_)
#undef MDL_KIND_ENUM_
    MDL_KIND_COUNT
} mdl_kind;

/* The instrument's name as in positions.csv ("european_call"); NULL outside the table. */
const char *mdl_kind_name(mdl_kind k);
/* Parses an instrument name; false when unknown. */
bool mdl_kind_parse(const char *name, mdl_kind *out);

/* Default number of CRR steps used when Bjerksund-Stensland 2002 is undefined (contract §2). */
#define MDL_FALLBACK_STEPS 200u

/* Per-price flags reported by a model (bit set). */
enum {
    MDL_FLAG_FALLBACK = 1u << 0, /* BS2002 undefined here; priced with the 200-step CRR tree */
    MDL_FLAG_STOPPED = 1u << 1,  /* the poll asked to stop; price not computed (NaN) */
};

/* The inputs of one unit price. Fields an instrument does not use are ignored.
 * S spot, K strike, T expiry (years), r rate, sigma vol, q dividend yield (all continuously
 * compounded), coupon (annual rate), freq (payments per year), steps (CRR; 0 = BS2002). For a
 * bond the yield is r. */
typedef struct mdl_in {
    double S, K, T, r, sigma, q, coupon, freq;
    uint32_t steps;
} mdl_in;

/* Stop poll for long computations (CRR trees): called now and then; returns true to abandon.
 * A model calls it at least every ~20 µs of work. NULL means never stop. */
typedef struct mdl_poll {
    bool (*should_stop)(void *arg);
    void *arg;
} mdl_poll;

/* Caller-provided scratch for models that need memory (CRR trees: size it with
 * mdl_work_needed). Models never allocate. */
typedef struct mdl_work {
    double *buf;
    size_t len; /* doubles available in buf */
} mdl_work;

/* Number of doubles of scratch mdl_price / batch need for the given steps (tree or fallback). */
size_t mdl_work_needed(uint32_t steps);

/*
 * The scalar reference: unit price of one instrument. Writes flags (MDL_FLAG_*) to *flags when
 * flags is not NULL. Returns NaN when the price cannot be computed (insufficient scratch, stop
 * requested, or a numerical failure); the caller turns non-finite prices into NUMERIC records.
 * Inputs are assumed validated (S>0, K>0, T>0, sigma>0, freq>0 where used).
 */
double mdl_price_ref(mdl_kind k, const mdl_in *in, const mdl_work *w, const mdl_poll *poll,
                     unsigned *flags);

/*
 * A batch: n prices of one instrument kind, inputs as structure of arrays (an array the kind
 * does not use may be NULL), outputs in price[] and flags[] (flags may be NULL). The batch entry
 * returns the number of prices computed, in order; fewer than n only when the poll asked to stop.
 * No allocation.
 */
typedef struct mdl_batch {
    size_t n;
    const double *S, *K, *T, *r, *sigma, *q, *coupon, *freq;
    const uint32_t *steps;
    double *price;
    uint8_t *flags;
} mdl_batch;

typedef size_t (*mdl_batch_fn)(const mdl_batch *b, const mdl_work *w, const mdl_poll *poll);

typedef struct mdl_entry {
    const char *name;      /* instrument name */
    const char *variant;   /* name of the batch variant in use ("reference", "hoisted", ...) */
    mdl_batch_fn batch;    /* current batch entry */
    mdl_batch_fn ref_batch; /* the reference loop, always available for tests */
} mdl_entry;

/*
 * Instruction-set levels. The batch kernels (kern_*.c) are compiled once per level, from one
 * source, with that level's flags only (the rest of the library is built for the baseline), and
 * each level has its own table. A level is chosen once per engine: the best the CPU supports,
 * or a lower one asked for (every process of a distributed run takes the lowest any has, so
 * that all compute the same bits). At one level every price is bitwise reproducible whatever
 * the batch it is priced in; between levels prices may differ in the last bits (fused
 * multiply-adds, vector widths), within the tolerances of tests/models/.
 * On other architectures only the baseline level exists: the same kernels, built portably.
 */
#define MDL_ISA_MAP(X)                                                                             \
    X(BASELINE, "baseline")                                                                        \
    X(AVX2, "avx2")                                                                                \
    X(AVX512, "avx512")

typedef enum mdl_isa {
#define MDL_ISA_ENUM_(id, name) MDL_ISA_##id,
    MDL_ISA_MAP(MDL_ISA_ENUM_)
#undef MDL_ISA_ENUM_
    MDL_ISA_COUNT
} mdl_isa;

/* The level's name ("avx2"); NULL outside the enum. */
const char *mdl_isa_name(mdl_isa isa);
/* Parses a level name; false when unknown ("auto" is not a level: the caller resolves it). */
bool mdl_isa_parse(const char *name, mdl_isa *out);
/* True when this build has kernels for the level and this CPU (and its OS) can run them. */
bool mdl_isa_supported(mdl_isa isa);
/* The highest supported level. */
mdl_isa mdl_isa_best(void);
/* What "auto" means: the best level, or the level the environment variable RK_ISA names when
 * that is lower and supported (CI runs the suites at the baseline that way). Read once. */
mdl_isa mdl_isa_auto(void);

/* Fills the tables (idempotent, thread-safe). */
void mdl_init(void);
/* The table of one level, indexed by mdl_kind; NULL when the level is not supported. */
const mdl_entry *mdl_table_isa(mdl_isa isa);
/* The table of the best level (mdl_table_isa(mdl_isa_best())). */
const mdl_entry *mdl_table(void);
/* Replaces the batch entry of one kind in every level's table (tests and benchmarks use it to
 * compare variants). Not thread-safe: call before any pricing starts. */
void mdl_register_batch(mdl_kind k, const char *variant, mdl_batch_fn fn);

/* ---- building blocks, exposed for tests and for other models ---- */

/* Standard normal CDF, accurate in both tails (erfc-based). */
double mdl_norm_cdf(double x);
/* Standard normal density. */
double mdl_norm_pdf(double x);
/* Bivariate standard normal CDF P(X<=a, Y<=b) with correlation rho, |rho|<=1, absolute error
 * about 1e-15 (Genz 2004 / Drezner-Wesolowsky with Gauss-Legendre quadrature). */
double mdl_bvn_cdf(double a, double b, double rho);

/* Closed forms and trees, scalar. All return the unit price. */
double mdl_bsm(bool call, double S, double K, double T, double r, double sigma, double q);
/* Bjerksund-Stensland (2002) american call, the approximation's own value (deep in the money
 * it can be slightly below the european price); *defined=false (and NaN) where the approximation is undefined for
 * these inputs (e.g. a trigger price that is not positive). */
double mdl_bs2002_call(double S, double K, double T, double r, double sigma, double q,
                       bool *defined);
/* Cox-Ross-Rubinstein tree with early exercise at every node (american=true) or not. Needs
 * steps+1 doubles of scratch. Returns NaN if scratch is short or the poll stops it (then
 * *stopped=true when stopped is not NULL). */
double mdl_crr(bool call, bool american, double S, double K, double T, double r, double sigma,
               double q, uint32_t steps, const mdl_work *w, const mdl_poll *poll, bool *stopped);
/* Most cash flows (T f) a bond is priced with; NaN beyond (a bounded loop that needs no poll). */
#define MDL_BOND_MAX_FLOWS 1e6
double mdl_bond(double y, double T, double coupon, double freq);
double mdl_forward(double S, double K, double T, double r, double q);

#endif /* MDL_MODEL_H */
