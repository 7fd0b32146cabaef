/*
 * test_load.c - loading a data set folder: every file-level error stops the load with the right
 * "file:line:col:", every contract §2 validation case makes that one position INVALID_INPUT with
 * file, line and column while the others load, rate/vol literals versus references, unused
 * columns ignored, and a share of the rows (first/count) equal to the same rows of a full load.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "harness.h"
#include "model.h"

static char *dir;

static const char *FACTORS = "factor,description\nM,market\nR,rates\nV,vol\n";
static const char *COV = "factor,M,R,V\n"
                         "M,1e-4,1e-7,-2e-5\n"
                         "R,1e-7,2.5e-7,0\n"
                         "V,-2e-5,0,9e-4\n";
static const char *UNDS = "underlying,kind,value,M,R,V\n"
                          "S1,spot,100,1.1,0,0\n"
                          "S2,spot,50,0.9,,\n"
                          "R1,rate,0.03,0,1,0\n"
                          "V1,vol,0.2,0,0,1\n"
                          "SBAD,spot,-1,1,0,0\n"
                          "VBAD,vol,0,0,0,1\n";
static const char *HEADER = "position,book,instrument,quantity,underlying,strike,expiry,rate,vol,"
                            "dividend,coupon,frequency,steps\n";
static const char *ROWS_BEFORE = "P1,B1,spot,10,S1,,,,,,,,\n"
                                 "P2,B1,european_call,5,S1,100,1,R1,V1,0.01,,,\n"
                                 "P3,B2,bond,1000,R1,,5,,,,0.04,2,\n";
static const char *ROW_AFTER = "P9,B2,american_put,3,S2,50,0.5,0.03,0.25,,,,200\n";
static const char *SCEN = "scenario,V,M\nCRASH,0.5,-0.2\nCALM,,0.01\n";

static void setup(void)
{
    dir = rk_test_tmpdir();
    ck_assert_ptr_nonnull(dir);
}

static void teardown(void)
{
    rk_test_rmtree(dir);
    free(dir);
}

static void put(const char *name, const char *text)
{
    ck_assert_int_eq(rk_test_write_file(dir, name, text), 0);
}

static void write_base(void)
{
    put("factors.csv", FACTORS);
    put("covariance.csv", COV);
    put("underlyings.csv", UNDS);
    char pos[2048];
    snprintf(pos, sizeof pos, "%s%s%s", HEADER, ROWS_BEFORE, ROW_AFTER);
    put("positions.csv", pos);
    put("scenarios.csv", SCEN);
}

/* positions.csv with one extra row between the third and the last (it is on line 5). */
static void write_positions_with(const char *row)
{
    char pos[4096];
    snprintf(pos, sizeof pos, "%s%s%s\n%s", HEADER, ROWS_BEFORE, row, ROW_AFTER);
    put("positions.csv", pos);
}

static size_t position_errors(const dat_dataset *ds)
{
    size_t n = 0;
    for (size_t i = 0; i < ds->nerrors; i++)
        n += ds->errors[i].position != SIZE_MAX;
    return n;
}

static const dat_error *error_of(const dat_dataset *ds, size_t pos)
{
    for (size_t i = 0; i < ds->nerrors; i++)
        if (ds->errors[i].position == pos)
            return &ds->errors[i];
    return NULL;
}

START_TEST(base_loads)
{
    write_base();
    dat_dataset ds;
    char msg[512];
    ck_assert_int_eq(dat_load(dir, NULL, &ds, msg, sizeof msg), RK_OK);
    ck_assert_uint_eq(ds.mkt.nfactors, 3);
    ck_assert_str_eq(ds.mkt.factor[1], "R");
    ck_assert_str_eq(ds.mkt.factor_desc[2], "vol");
    ck_assert(ds.mkt.cov[0 * 3 + 2] == -2e-5 && ds.mkt.cov[2 * 3 + 0] == -2e-5);
    ck_assert_uint_eq(ds.mkt.nund, 6);
    ck_assert_uint_eq(ds.mkt.und_kind[2], DAT_UND_RATE);
    ck_assert(ds.mkt.beta[1 * 3 + 0] == 0.9 && ds.mkt.beta[1 * 3 + 1] == 0);
    ck_assert(ds.mkt.und_ok[0] && !ds.mkt.und_ok[4] && !ds.mkt.und_ok[5]);
    ck_assert_ptr_nonnull(strstr(ds.mkt.und_err[4], "underlyings.csv:6:3:"));
    ck_assert_ptr_nonnull(strstr(ds.mkt.und_err[5], "underlyings.csv:7:3:"));
    ck_assert_uint_eq(ds.nerrors, 2); /* the two unusable underlyings */
    ck_assert_uint_eq(ds.pos.n, 4);
    ck_assert_uint_eq(dat_valid_count(&ds.pos), 4);
    ck_assert_uint_eq(ds.pos.nbooks, 2);
    ck_assert_str_eq(ds.pos.books[ds.pos.book[3]], "B2");
    ck_assert_uint_eq(ds.pos.kind[2], MDL_BOND);
    ck_assert(ds.pos.coupon[2] == 0.04 && ds.pos.frequency[2] == 2);
    ck_assert(ds.pos.dividend[0] == 0 && ds.pos.coupon[0] == 0); /* empty = 0 */
    ck_assert(isnan(ds.pos.strike[0]));
    ck_assert_uint_eq(ds.pos.steps[3], 200);
    ck_assert_uint_eq(ds.pos.line[3], 5);
    ck_assert_uint_eq(ds.pos.cols.steps, 13);
    ck_assert(ds.has_scenarios);
    ck_assert_uint_eq(ds.scen.n, 2);
    ck_assert(ds.scen.shock[0 * 3 + 0] == -0.2 && ds.scen.shock[0 * 3 + 1] == 0 &&
              ds.scen.shock[0 * 3 + 2] == 0.5);
    ck_assert(ds.scen.shock[1 * 3 + 2] == 0);
    ck_assert_uint_eq(dat_factor_index(&ds.mkt, "V"), 2);
    ck_assert_uint_eq(dat_und_index(&ds.mkt, "V1"), 3);
    ck_assert_uint_eq(dat_und_index(&ds.mkt, "nope"), DAT_NONE);
    dat_free(&ds);
    dat_free(&ds); /* harmless twice */

    /* Without scenarios.csv, or told to skip it. */
    dat_load_opts o = {.first = 0, .count = SIZE_MAX, .skip_scenarios = true};
    ck_assert_int_eq(dat_load(dir, &o, &ds, msg, sizeof msg), RK_OK);
    ck_assert(!ds.has_scenarios);
    dat_free(&ds);
    char path[4096];
    snprintf(path, sizeof path, "%s/scenarios.csv", dir);
    remove(path);
    ck_assert_int_eq(dat_load(dir, NULL, &ds, msg, sizeof msg), RK_OK);
    ck_assert(!ds.has_scenarios);
    dat_free(&ds);
}
END_TEST

/* ---- file-level errors ---- */

typedef struct file_case {
    const char *file, *text; /* replaces the base file; text NULL = remove the file */
    rk_status code;
    const char *want; /* message prefix "file:line:col: reason" */
} file_case;

static const file_case file_cases[] = {
    {"factors.csv", NULL, RK_IO, "factors.csv:0:0: cannot open"},
    {"covariance.csv", NULL, RK_IO, "covariance.csv:0:0: cannot open"},
    {"underlyings.csv", NULL, RK_IO, "underlyings.csv:0:0: cannot open"},
    {"positions.csv", NULL, RK_IO, "positions.csv:0:0: cannot open"},
    {"factors.csv", "", RK_INVALID_INPUT, "factors.csv:1:1: empty file"},
    {"factors.csv", "name\nM\n", RK_INVALID_INPUT, "factors.csv:1:1: missing required column"},
    {"factors.csv", "factor\nM\nR\nM\n", RK_INVALID_INPUT, "factors.csv:4:1: duplicate factor 'M'"},
    {"factors.csv", "factor\nM\n\"\"\nV\n", RK_INVALID_INPUT, "factors.csv:3:1: factor name is empty"},
    {"factors.csv", "factor,description\nM,a\nR\nV,c\n", RK_INVALID_INPUT,
     "factors.csv:3:2: expected 2 fields, found 1"},
    {"covariance.csv", "factor,M,V,R\nM,1,0,0\nR,0,1,0\nV,0,0,1\n", RK_INVALID_INPUT,
     "covariance.csv:1:3: column 'V' where factor 'R'"},
    {"covariance.csv", "factor,M,R\nM,1,0\nR,0,1\n", RK_INVALID_INPUT,
     "covariance.csv:1:4: header has 2 factor columns"},
    {"covariance.csv", "factor,M,R,V\nM,1,0,0\nV,0,1,0\nR,0,0,1\n", RK_INVALID_INPUT,
     "covariance.csv:3:1: row for 'V'"},
    {"covariance.csv", "factor,M,R,V\nM,1,0,0\nR,0,1,0\n", RK_INVALID_INPUT,
     "covariance.csv:4:1: 2 rows"},
    {"covariance.csv", "factor,M,R,V\nM,1,0,0\nR,0,1,0\nV,0,0,1\nW,0,0,0\n", RK_INVALID_INPUT,
     "covariance.csv:5:1: more than 3 rows"},
    {"covariance.csv", "factor,M,R,V\nM,1,0,0\nR,0,1,abc\nV,0,0,1\n", RK_INVALID_INPUT,
     "covariance.csv:3:4: not a number"},
    {"covariance.csv", "factor,M,R,V\nM,1,0,0\nR,0,1\nV,0,0,1\n", RK_INVALID_INPUT,
     "covariance.csv:3:4: expected 4 fields, found 3"},
    {"covariance.csv", "factor,M,R,V\nM,1,0.5,0\nR,0.5000001,1,0\nV,0,0,1\n", RK_INVALID_INPUT,
     "covariance.csv:3:2: not symmetric"},
    {"covariance.csv", "factor,M,R,V\nM,1,0,0\nR,0,0,0\nV,0,0,1\n", RK_INVALID_INPUT,
     "covariance.csv:3:3: variance of factor 'R' must be > 0"},
    {"covariance.csv", "factor,M,R,V\nM,1,0.9,0\nR,0.9,1,0.9\nV,0,0.9,1\n", RK_INVALID_INPUT,
     "covariance.csv:4:4: not positive definite"},
    {"covariance.csv", "factor,M,R,V\nM,1,0,0\nR,0,nan,0\nV,0,0,1\n", RK_INVALID_INPUT,
     "covariance.csv:3:3: not a finite number"},
    {"underlyings.csv", "underlying,kind,value,M,X\nS1,spot,1,0,0\n", RK_INVALID_INPUT,
     "underlyings.csv:1:5: unknown factor 'X'"},
    {"underlyings.csv", "underlying,kind,M\nS1,spot,1\n", RK_INVALID_INPUT,
     "underlyings.csv:1:4: missing required column 'value'"},
    {"underlyings.csv", "underlying,kind,value,M,M\nS1,spot,1,0,0\n", RK_INVALID_INPUT,
     "underlyings.csv:1:5: duplicate column 'M'"},
    {"underlyings.csv", "underlying,kind,value\nS1,spot,1\nS2,spot,2\nS1,spot,3\n",
     RK_INVALID_INPUT, "underlyings.csv:4:1: duplicate underlying 'S1' (first on line 2)"},
    {"underlyings.csv", "underlying,kind,value\nS1,spot,1\nS2,spot\n", RK_INVALID_INPUT,
     "underlyings.csv:3:3: expected 3 fields, found 2"},
    {"scenarios.csv", "scenario,M,Q\nA,1,2\n", RK_INVALID_INPUT,
     "scenarios.csv:1:3: unknown factor 'Q'"},
    {"scenarios.csv", "scenario,M\nA,0.1\nB,1e999\n", RK_INVALID_INPUT,
     "scenarios.csv:3:2: out of range (overflow)"},
    {"scenarios.csv", "scenario,M\nA,0.1\nA,0.2\n", RK_INVALID_INPUT,
     "scenarios.csv:3:1: duplicate scenario 'A'"},
    {"scenarios.csv", "name,M\nA,0.1\n", RK_INVALID_INPUT,
     "scenarios.csv:1:1: first column must be 'scenario'"},
    {"positions.csv", "position,book,instrument,underlying\nP1,B,spot,S1\n", RK_INVALID_INPUT,
     "positions.csv:1:5: missing required column 'quantity'"},
    {"positions.csv", "position,book,instrument,quantity,underlying,book\n", RK_INVALID_INPUT,
     "positions.csv:1:6: duplicate column 'book'"},
    {"positions.csv",
     "position,book,instrument,quantity,underlying\nP1,B,spot,1,S1\nP2,B,spot,1,S1\n"
     "# a comment\nP1,B,spot,2,S1\n",
     RK_INVALID_INPUT, "positions.csv:5:1: duplicate position id 'P1' (first on line 2)"},
    {"positions.csv", "position,book,instrument,quantity,underlying\nP1,B,spot,1,S1\nP2,B,spot,1\n",
     RK_INVALID_INPUT, "positions.csv:3:5: expected 5 fields, found 4"},
    {"positions.csv",
     "position,book,instrument,quantity,underlying\nP1,B,spot,1,S1\nP2,B,spot,1,S1,x\n",
     RK_INVALID_INPUT, "positions.csv:3:6: expected 5 fields, found 6"},
    {"positions.csv", "position,book,instrument,quantity,underlying\n,B,spot,1,S1\n",
     RK_INVALID_INPUT, "positions.csv:2:1: position id is empty"},
    {"positions.csv", "position,book,instrument,quantity,underlying\nP1,\"B,spot,1,S1\n",
     RK_INVALID_INPUT, "positions.csv:2:2: unterminated quoted field"},
};

START_TEST(file_level_errors)
{
    const file_case *fc = &file_cases[_i];
    write_base();
    if (fc->text == NULL) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, fc->file);
        ck_assert_int_eq(remove(path), 0);
    } else {
        put(fc->file, fc->text);
    }
    dat_dataset ds;
    char msg[512];
    rk_status st = dat_load(dir, NULL, &ds, msg, sizeof msg);
    ck_assert_msg(st == fc->code, "case %d: status %s, want %s (%s)", _i, rk_status_name(st),
                  rk_status_name(fc->code), msg);
    ck_assert_msg(strncmp(msg, fc->want, strlen(fc->want)) == 0, "case %d: got '%s', want '%s'",
                  _i, msg, fc->want);
    ck_assert_ptr_null(strchr(msg, '\n')); /* one line */
    /* Nothing is left allocated or half-filled. */
    ck_assert_uint_eq(ds.pos.n, 0);
    ck_assert_ptr_null(ds.mkt.factor);
    ck_assert_uint_eq(ds.nerrors, 0);
}
END_TEST

/* ---- position-level validation ---- */

typedef struct pos_case {
    const char *row; /* the row on line 5 */
    unsigned col;    /* column the message must name */
    const char *want;
} pos_case;

static const pos_case pos_cases[] = {
    /* unknown underlying, missing underlying */
    {"PX,B1,spot,10,NOPE,,,,,,,,", 5, "unknown underlying 'NOPE'"},
    {"PX,B1,forward,10,,100,1,0.03,,,,,", 5, "underlying is missing"},
    /* wrong kind: a rate as spot, a spot as a bond's yield, a vol as rate, a rate as vol */
    {"PX,B1,european_call,1,R1,100,1,0.03,0.2,,,,", 5, "of kind rate, spot needed"},
    {"PX,B1,bond,100,S1,,5,,,,0.04,2,", 5, "of kind spot, rate needed"},
    {"PX,B1,forward,1,S1,100,1,V1,,,,,", 8, "of kind vol, rate needed"},
    {"PX,B1,european_put,1,S1,100,1,R1,R1,,,,", 9, "of kind rate, vol needed"},
    /* S <= 0 through the spot underlying's value */
    {"PX,B1,spot,10,SBAD,,,,,,,,", 5, "underlying 'SBAD' is unusable"},
    {"PX,B1,forward,10,SBAD,100,1,0.03,,,,,", 5, "spot value must be > 0"},
    /* K <= 0, T <= 0 */
    {"PX,B1,european_put,1,S1,-10,1,0.03,0.2,,,,", 6, "strike must be > 0"},
    {"PX,B1,forward,1,S1,0,1,0.03,,,,,", 6, "strike must be > 0"},
    {"PX,B1,forward,1,S1,100,0,0.03,,,,,", 7, "expiry must be > 0"},
    {"PX,B1,bond,100,R1,,-1,,,,0.04,2,", 7, "expiry must be > 0"},
    {"PX,B1,forward,1,S1,,1,0.03,,,,,", 6, "strike is missing"},
    /* sigma <= 0: literal and through a vol underlying */
    {"PX,B1,european_call,1,S1,100,1,0.03,-0.2,,,,", 9, "vol sigma must be > 0"},
    {"PX,B1,american_call,1,S1,100,1,0.03,0,,,,", 9, "vol sigma must be > 0"},
    {"PX,B1,european_call,1,S1,100,1,0.03,VBAD,,,,", 9, "vol value must be > 0"},
    {"PX,B1,european_call,1,S1,100,1,0.03,,,,,", 9, "vol is missing"},
    /* f <= 0 or missing for a bond */
    {"PX,B1,bond,100,R1,,5,,,,0.04,0,", 12, "frequency must be > 0"},
    {"PX,B1,bond,100,R1,,5,,,,0.04,-2,", 12, "frequency must be > 0"},
    {"PX,B1,bond,100,R1,,5,,,,0.04,,", 12, "frequency is missing"},
    /* more coupon dates than a bond can have (the first just over: 100 x 10000.01) */
    {"PX,B1,bond,100,R1,,100,,,,0.04,10000.01,", 12, "at most 1000000 coupon dates"},
    {"PX,B1,bond,100,R1,,5,,,,0.04,1e300,", 12, "at most 1000000 coupon dates"},
    /* non-finite and malformed numbers in used cells */
    {"PX,B1,european_call,1,S1,nan,1,0.03,0.2,,,,", 6, "strike: not a finite number"},
    {"PX,B1,european_call,1,S1,100,inf,0.03,0.2,,,,", 7, "expiry: not a finite number"},
    {"PX,B1,european_call,1,S1,100,1e999,0.03,0.2,,,,", 7, "out of range (overflow)"},
    {"PX,B1,european_call,1,S1,100,1,-inf,0.2,,,,", 8, "rate: not a finite number"},
    {"PX,B1,european_call,1,S1,100,1,0.03,NaN,,,,", 9, "vol: not a finite number"},
    {"PX,B1,european_call,1,S1,100,1,0.03,0.2,x,,,", 10, "dividend: not a number"},
    {"PX,B1,bond,100,R1,,5,,,,4%,2,", 11, "coupon: trailing characters"},
    {"PX,B1,forward,1,S1,\"1,5\",1,0.03,,,,,", 6, "strike: decimal comma"},
    {"PX,B1,forward,1,S1,0x10,1,0.03,,,,,", 6, "strike: hexadecimal"},
    /* rate/vol names that are not underlyings, or missing */
    {"PX,B1,forward,1,S1,100,1,LIBOR,,,,,", 8, "'LIBOR' is neither a number nor a rate"},
    {"PX,B1,forward,1,S1,100,1,,,,,,", 8, "rate is missing"},
    {"PX,B1,american_put,1,S1,100,1,R1,VOLX,,,,", 9, "'VOLX' is neither a number nor a vol"},
    /* unknown or missing instrument */
    {"PX,B1,swaption,1,S1,100,1,0.03,0.2,,,,", 3, "unknown instrument 'swaption'"},
    {"PX,B1,European_Call,1,S1,100,1,0.03,0.2,,,,", 3, "unknown instrument"},
    {"PX,B1,,1,S1,,,,,,,,", 3, "instrument is missing"},
    /* empty book */
    {"PX,,spot,1,S1,,,,,,,,", 2, "book is empty"},
    /* bad quantity */
    {"PX,B1,spot,abc,S1,,,,,,,,", 4, "quantity: not a number"},
    {"PX,B1,spot,,S1,,,,,,,,", 4, "quantity is missing"},
    {"PX,B1,spot,nan,S1,,,,,,,,", 4, "quantity: not a finite number"},
    /* steps not a non-negative integer */
    {"PX,B1,american_call,1,S1,100,1,0.03,0.2,,,,2.5", 13, "steps: not a non-negative integer"},
    {"PX,B1,american_put,1,S1,100,1,0.03,0.2,,,,-1", 13, "steps: not a non-negative integer"},
    {"PX,B1,american_put,1,S1,100,1,0.03,0.2,,,,99999999", 13, "steps: integer too large"},
};

START_TEST(position_level_errors)
{
    const pos_case *pc = &pos_cases[_i];
    write_base();
    write_positions_with(pc->row);
    dat_dataset ds;
    char msg[512];
    ck_assert_msg(dat_load(dir, NULL, &ds, msg, sizeof msg) == RK_OK, "case %d: %s", _i, msg);
    ck_assert_uint_eq(ds.pos.n, 5);
    for (size_t i = 0; i < 5; i++) {
        rk_status want = i == 3 ? RK_INVALID_INPUT : RK_OK;
        ck_assert_msg(ds.pos.status[i] == want, "case %d: row %zu status %s", _i, i,
                      rk_status_name((rk_status)ds.pos.status[i]));
    }
    ck_assert_uint_eq(position_errors(&ds), 1);
    const dat_error *e = error_of(&ds, 3);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->code, RK_INVALID_INPUT);
    char where[64];
    snprintf(where, sizeof where, "positions.csv:5:%u: ", pc->col);
    ck_assert_msg(strncmp(e->message, where, strlen(where)) == 0, "case %d: '%s', want '%s'", _i,
                  e->message, where);
    ck_assert_msg(strstr(e->message, pc->want) != NULL, "case %d: '%s' lacks '%s'", _i,
                  e->message, pc->want);
    ck_assert_str_eq(ds.pos.id[3], "PX");
    dat_free(&ds);
}
END_TEST

/* Cells an instrument does not use are ignored, whatever they hold. */
static const char *const valid_rows[] = {
    "PX,B1,spot,10,S1,abc,-1,LIBOR,-0.5,x,y,0,2.5",
    "PX,B1,forward,1,S1,100,1,R1,junk,,zz,-1,nope",
    "PX,B1,european_call,1,S1,100,1,R1,V1,,bad,0,-3",
    "PX,B1,bond,100,R1,-5,5,nan,VOLX,x,,4,1.5",
    "PX,B1,american_call,1,S1,100,1,0.05,0.3,0.02,x,x,0",
    "PX,B1,american_put,-1,S2,55.5,2.5,R1,V1,-0.01,,,",
    "PX,B1,bond,100,R1,,0.5,,,,-0.01,0.5,",
    "PX,B1,spot,0,S1,,,,,,,,",
    "\"PX\",\"B1\",\"spot\",\"-1e3\",\"S1\",,,,,,,,",
};

START_TEST(unused_columns_ignored)
{
    write_base();
    write_positions_with(valid_rows[_i]);
    dat_dataset ds;
    char msg[512];
    ck_assert_int_eq(dat_load(dir, NULL, &ds, msg, sizeof msg), RK_OK);
    ck_assert_msg(ds.pos.status[3] == RK_OK, "row '%s': %s", valid_rows[_i],
                  error_of(&ds, 3) ? error_of(&ds, 3)->message : "?");
    ck_assert_uint_eq(position_errors(&ds), 0);
    dat_free(&ds);
}
END_TEST

START_TEST(rate_vol_literal_or_reference)
{
    write_base();
    write_positions_with("PX,B1,european_call,1,S1,100,1,0.05,V1,,,,");
    dat_dataset ds;
    char msg[512];
    ck_assert_int_eq(dat_load(dir, NULL, &ds, msg, sizeof msg), RK_OK);
    /* P2: both references; PX: literal rate, vol reference; P9: both literals. */
    ck_assert_uint_eq(ds.pos.rate[1], dat_und_index(&ds.mkt, "R1"));
    ck_assert_uint_eq(ds.pos.vol[1], dat_und_index(&ds.mkt, "V1"));
    ck_assert_uint_eq(ds.pos.rate[3], DAT_NONE);
    ck_assert(ds.pos.rate_lit[3] == 0.05);
    ck_assert_uint_eq(ds.pos.vol[3], dat_und_index(&ds.mkt, "V1"));
    ck_assert_uint_eq(ds.pos.rate[4], DAT_NONE);
    ck_assert(ds.pos.rate_lit[4] == 0.03);
    ck_assert_uint_eq(ds.pos.vol[4], DAT_NONE);
    ck_assert(ds.pos.vol_lit[4] == 0.25);
    ck_assert_uint_eq(ds.pos.und[3], dat_und_index(&ds.mkt, "S1"));
    /* A negative rate literal is a valid rate. */
    dat_free(&ds);
    write_positions_with("PX,B1,european_call,1,S1,100,1,-0.005,0.2,,,,");
    ck_assert_int_eq(dat_load(dir, NULL, &ds, msg, sizeof msg), RK_OK);
    ck_assert_int_eq(ds.pos.status[3], RK_OK);
    ck_assert(ds.pos.rate_lit[3] == -0.005);
    dat_free(&ds);
}
END_TEST

START_TEST(underlying_problems)
{
    write_base();
    put("underlyings.csv", "underlying,kind,value,M,R,V\n"
                             "S1,spot,100,1.1,0,0\n"
                             "S2,spot,50,0.9,,\n"
                             "R1,rate,-0.01,0,1,0\n"
                             "V1,vol,0.2,0,0,1\n"
                             "K1,stock,10,0,0,0\n"
                             "K2,spot,abc,0,0,0\n"
                             "K3,spot,10,x,0,0\n");
    dat_dataset ds;
    char msg[512];
    ck_assert_int_eq(dat_load(dir, NULL, &ds, msg, sizeof msg), RK_OK);
    ck_assert(ds.mkt.und_ok[2]); /* a negative rate is fine */
    ck_assert(!ds.mkt.und_ok[4] && !ds.mkt.und_ok[5] && !ds.mkt.und_ok[6]);
    ck_assert_ptr_nonnull(strstr(ds.mkt.und_err[4], "underlyings.csv:6:2: kind must be"));
    ck_assert_ptr_nonnull(strstr(ds.mkt.und_err[5], "underlyings.csv:7:3: value: not a number"));
    ck_assert_ptr_nonnull(strstr(ds.mkt.und_err[6], "underlyings.csv:8:4: loading on 'M'"));
    ck_assert_uint_eq(ds.nerrors, 3);
    for (size_t i = 0; i < ds.nerrors; i++)
        ck_assert_uint_eq(ds.errors[i].position, SIZE_MAX);
    ck_assert_uint_eq(dat_valid_count(&ds.pos), 4);
    dat_free(&ds);
}
END_TEST

START_TEST(validate_in_memory)
{
    write_base();
    dat_dataset ds;
    char msg[512];
    ck_assert_int_eq(dat_load(dir, NULL, &ds, msg, sizeof msg), RK_OK);
    size_t before = ds.nerrors;
    ds.pos.strike[1] = INFINITY;
    ck_assert_int_eq(dat_validate_position(&ds, 1), RK_INVALID_INPUT);
    ck_assert_int_eq(ds.pos.status[1], RK_INVALID_INPUT);
    ck_assert_uint_eq(ds.nerrors, before + 1);
    ck_assert_ptr_nonnull(strstr(ds.errors[before].message, "positions.csv:3:6: strike must be a "
                                                            "finite number"));
    ds.pos.strike[1] = 90;
    ck_assert_int_eq(dat_validate_position(&ds, 1), RK_OK);
    ck_assert_int_eq(ds.pos.status[1], RK_OK);
    ds.mkt.und_value[0] = 0; /* spot S <= 0 changed in memory */
    ck_assert_int_eq(dat_validate_position(&ds, 0), RK_INVALID_INPUT);
    ck_assert_ptr_nonnull(strstr(ds.errors[before + 1].message, "spot S of underlying 'S1'"));
    ds.pos.vol_lit[3] = NAN;
    ck_assert_int_eq(dat_validate_position(&ds, 3), RK_INVALID_INPUT);
    ck_assert_int_eq(dat_validate_position(&ds, 99), RK_BAD_ARGUMENT);
    dat_free(&ds);
}
END_TEST

/* A share of the rows equals the same rows of a full load; books agree in every share. */
START_TEST(share_loading)
{
    const dat_preset *p = dat_preset_find("sample");
    char msg[512];
    ck_assert_int_eq(dat_generate(p, 3, dir, msg, sizeof msg), RK_OK);
    dat_dataset full;
    ck_assert_int_eq(dat_load(dir, NULL, &full, msg, sizeof msg), RK_OK);
    ck_assert_uint_eq(full.pos.n, p->npositions);
    size_t cuts[] = {0, 1, 57, 120, 199, 200};
    for (size_t c = 0; c + 1 < sizeof cuts / sizeof cuts[0]; c++) {
        dat_load_opts o = {.first = cuts[c], .count = cuts[c + 1] - cuts[c]};
        if (c + 2 == sizeof cuts / sizeof cuts[0])
            o.count = SIZE_MAX;
        dat_dataset s;
        ck_assert_int_eq(dat_load(dir, &o, &s, msg, sizeof msg), RK_OK);
        ck_assert_uint_eq(s.pos.first, cuts[c]);
        ck_assert_uint_eq(s.pos.n, cuts[c + 1] - cuts[c]);
        ck_assert_uint_eq(s.pos.nbooks, full.pos.nbooks);
        for (size_t b = 0; b < s.pos.nbooks; b++)
            ck_assert_str_eq(s.pos.books[b], full.pos.books[b]);
        for (size_t i = 0; i < s.pos.n; i++) {
            size_t g = cuts[c] + i;
            ck_assert_str_eq(s.pos.id[i], full.pos.id[g]);
            ck_assert_uint_eq(s.pos.line[i], full.pos.line[g]);
            ck_assert_uint_eq(s.pos.kind[i], full.pos.kind[g]);
            ck_assert_uint_eq(s.pos.book[i], full.pos.book[g]);
            ck_assert_uint_eq(s.pos.und[i], full.pos.und[g]);
            ck_assert_uint_eq(s.pos.rate[i], full.pos.rate[g]);
            ck_assert_uint_eq(s.pos.vol[i], full.pos.vol[g]);
            ck_assert_uint_eq(s.pos.steps[i], full.pos.steps[g]);
            ck_assert_uint_eq(s.pos.status[i], full.pos.status[g]);
            ck_assert(rk_test_same_bits(s.pos.quantity[i], full.pos.quantity[g]));
            ck_assert(rk_test_same_bits(s.pos.strike[i], full.pos.strike[g]));
            ck_assert(rk_test_same_bits(s.pos.expiry[i], full.pos.expiry[g]));
            ck_assert(rk_test_same_bits(s.pos.rate_lit[i], full.pos.rate_lit[g]));
            ck_assert(rk_test_same_bits(s.pos.vol_lit[i], full.pos.vol_lit[g]));
            ck_assert(rk_test_same_bits(s.pos.dividend[i], full.pos.dividend[g]));
            ck_assert(rk_test_same_bits(s.pos.coupon[i], full.pos.coupon[g]));
            ck_assert(rk_test_same_bits(s.pos.frequency[i], full.pos.frequency[g]));
            const dat_error *a = error_of(&s, i), *b = error_of(&full, g);
            ck_assert((a == NULL) == (b == NULL));
            if (a != NULL)
                ck_assert_str_eq(a->message, b->message);
        }
        dat_free(&s);
    }
    /* A share past the end is empty, not an error. */
    dat_load_opts o = {.first = 1000, .count = 10};
    dat_dataset s;
    ck_assert_int_eq(dat_load(dir, &o, &s, msg, sizeof msg), RK_OK);
    ck_assert_uint_eq(s.pos.n, 0);
    ck_assert_uint_eq(s.pos.nbooks, full.pos.nbooks);
    dat_free(&s);
    dat_free(&full);
}
END_TEST

/* A duplicate id outside the loaded share still stops the load (every share agrees). */
START_TEST(share_sees_duplicates)
{
    write_base();
    put("positions.csv", "position,book,instrument,quantity,underlying\n"
                           "P1,B,spot,1,S1\nP2,B,spot,1,S1\nP3,B,spot,1,S1\nP1,B,spot,1,S1\n");
    dat_load_opts o = {.first = 1, .count = 1};
    dat_dataset ds;
    char msg[512];
    ck_assert_int_eq(dat_load(dir, &o, &ds, msg, sizeof msg), RK_INVALID_INPUT);
    ck_assert_str_eq(msg, "positions.csv:5:1: duplicate position id 'P1' (first on line 2)");
}
END_TEST

/* The covariance rule shared by the loader and the API, on each of its clauses. */
START_TEST(covariance_rule)
{
    dat_cov_problem why;
    double ok[4] = {4, 1 + 1e-13, 1, 1}; /* within 1e-12 x sqrt(4 x 1): symmetrised */
    ck_assert_int_eq(dat_cov_check(ok, 2, NULL, &why), RK_OK);
    ck_assert(ok[1] == ok[2]);
    ck_assert(ok[1] == 0.5 * ((1 + 1e-13) + 1));
    double asym[4] = {4, 1 + 1e-11, 1, 1};
    ck_assert_int_eq(dat_cov_check(asym, 2, NULL, &why), RK_INVALID_INPUT);
    ck_assert_int_eq(why.what, DAT_COV_ASYMMETRIC);
    ck_assert(asym[1] == 1 + 1e-11 && asym[2] == 1); /* left as given */
    double var[4] = {1, 0, 0, 0};
    ck_assert_int_eq(dat_cov_check(var, 2, NULL, &why), RK_INVALID_INPUT);
    ck_assert_int_eq(why.what, DAT_COV_VARIANCE);
    ck_assert_uint_eq(why.i, 1);
    double inf[4] = {1, INFINITY, INFINITY, 1};
    ck_assert_int_eq(dat_cov_check(inf, 2, NULL, &why), RK_INVALID_INPUT);
    ck_assert_int_eq(why.what, DAT_COV_NOT_FINITE);
    double notpd[4] = {1, 2, 2, 1};
    double work[4];
    ck_assert_int_eq(dat_cov_check(notpd, 2, work, &why), RK_INVALID_INPUT);
    ck_assert_int_eq(why.what, DAT_COV_NOT_PD);
    ck_assert_uint_eq(why.i, 1);
    ck_assert_int_eq(dat_cov_check(NULL, 0, NULL, &why), RK_OK);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("data_load");
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, base_loads);
    tcase_add_loop_test(tc, file_level_errors, 0, (int)(sizeof file_cases / sizeof file_cases[0]));
    tcase_add_loop_test(tc, position_level_errors, 0,
                        (int)(sizeof pos_cases / sizeof pos_cases[0]));
    tcase_add_loop_test(tc, unused_columns_ignored, 0,
                        (int)(sizeof valid_rows / sizeof valid_rows[0]));
    tcase_add_test(tc, rate_vol_literal_or_reference);
    tcase_add_test(tc, underlying_problems);
    tcase_add_test(tc, validate_in_memory);
    tcase_add_test(tc, share_loading);
    tcase_add_test(tc, share_sees_duplicates);
    tcase_add_test(tc, covariance_rule);
    suite_add_tcase(s, tc);
    return s;
}
