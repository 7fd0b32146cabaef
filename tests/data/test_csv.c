/*
 * test_csv.c - the CSV reader (quotes, comments, blank lines, CRLF, byte-order mark, limits,
 * line and column in messages) and the C-locale number parsers.
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "harness.h"

static char *dir;

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

/* Opens a reader on a file holding text. */
static void open_text(dat_csv *c, const char *text)
{
    ck_assert_int_eq(rk_test_write_file(dir, "t.csv", text), 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/t.csv", dir);
    ck_assert_int_eq(dat_csv_open(c, path, "t.csv"), 0);
}

/* Reads every record and checks the last error, or reads n records successfully. */
static void expect_error(const char *text, size_t max_field, size_t max_fields, const char *want)
{
    dat_csv c;
    open_text(&c, text);
    if (max_field)
        c.max_field = max_field;
    if (max_fields)
        c.max_fields = max_fields;
    int r;
    while ((r = dat_csv_next(&c)) == 1)
        ;
    ck_assert_int_eq(r, -1);
    ck_assert_msg(strncmp(c.err, want, strlen(want)) == 0, "got '%s', want prefix '%s'", c.err,
                  want);
    dat_csv_close(&c);
}

START_TEST(quotes_and_lines)
{
    dat_csv c;
    open_text(&c, "a,\"b,c\",\"d \"\"q\"\"\"\nx,\"multi\nline\",y\nlast,\"\",end");
    ck_assert_int_eq(dat_csv_next(&c), 1);
    ck_assert_uint_eq(c.nfields, 3);
    ck_assert_str_eq(dat_csv_field(&c, 0), "a");
    ck_assert_str_eq(dat_csv_field(&c, 1), "b,c");
    ck_assert_str_eq(dat_csv_field(&c, 2), "d \"q\"");
    ck_assert_uint_eq(c.line, 1);
    ck_assert_int_eq(dat_csv_next(&c), 1);
    ck_assert_str_eq(dat_csv_field(&c, 1), "multi\nline");
    ck_assert_uint_eq(dat_csv_field_line(&c, 1), 2);
    ck_assert_uint_eq(dat_csv_field_line(&c, 2), 3);
    ck_assert_int_eq(dat_csv_next(&c), 1);
    ck_assert_uint_eq(c.line, 4);
    ck_assert_str_eq(dat_csv_field(&c, 1), "");
    ck_assert_str_eq(dat_csv_field(&c, 2), "end"); /* no newline at the end of the file */
    ck_assert_int_eq(dat_csv_next(&c), 0);
    dat_csv_close(&c);
}
END_TEST

START_TEST(comments_blank_crlf_bom)
{
    dat_csv c;
    open_text(&c, "\xEF\xBB\xBFh1,h2\r\n# a comment, with a comma\r\n\r\n  \t \nx , y\r\n#\n"
                  "\"p\" ,q\r\n,,\n");
    ck_assert_int_eq(dat_csv_next(&c), 1);
    ck_assert_str_eq(dat_csv_field(&c, 0), "h1");
    ck_assert_str_eq(dat_csv_field(&c, 1), "h2");
    ck_assert_int_eq(dat_csv_next(&c), 1);
    ck_assert_uint_eq(c.line, 5);
    ck_assert_str_eq(dat_csv_field(&c, 0), "x"); /* unquoted fields are trimmed */
    ck_assert_str_eq(dat_csv_field(&c, 1), "y");
    ck_assert_int_eq(dat_csv_next(&c), 1);
    ck_assert_uint_eq(c.line, 7);
    ck_assert_str_eq(dat_csv_field(&c, 0), "p");
    ck_assert_str_eq(dat_csv_field(&c, 1), "q");
    ck_assert_int_eq(dat_csv_next(&c), 1);
    ck_assert_uint_eq(c.nfields, 3);
    ck_assert_str_eq(dat_csv_field(&c, 2), "");
    ck_assert_int_eq(dat_csv_next(&c), 0);
    dat_csv_close(&c);
}
END_TEST

START_TEST(utf8)
{
    dat_csv c;
    open_text(&c, "caf\xC3\xA9,\xE2\x82\xAC\n");
    ck_assert_int_eq(dat_csv_next(&c), 1);
    ck_assert_str_eq(dat_csv_field(&c, 0), "caf\xC3\xA9");
    dat_csv_close(&c);
    expect_error("a,b\nok,\xFF\n", 0, 0, "t.csv:2:2: invalid UTF-8");
    expect_error("a,b\nok,\xC0\x80\n", 0, 0, "t.csv:2:2: invalid UTF-8"); /* overlong */
}
END_TEST

START_TEST(format_errors)
{
    expect_error("a,b\nx,\"open\n\n", 0, 0, "t.csv:2:2: unterminated quoted field");
    expect_error("a,b\nx,\"q\"z\n", 0, 0, "t.csv:2:2: unexpected text after a closing quote");
    expect_error("a,b\nx,ab\"c\n", 0, 0, "t.csv:2:2: quote inside an unquoted field");
    expect_error("a,b\nx,y\rz\n", 0, 0, "t.csv:2:2: carriage return not followed");
    expect_error("a,b\nabcd,abcde\n", 4, 0, "t.csv:2:2: field longer than 4 bytes");
    expect_error("a,b\n1,2,3,4\n", 0, 3, "t.csv:2:4: more than 3 fields");
    /* A quoted field counts against the limit too, and the line is where it starts. */
    expect_error("a\n\"ab\ncdef\"\n", 5, 0, "t.csv:2:1: field longer than 5 bytes");
}
END_TEST

START_TEST(open_missing)
{
    dat_csv c;
    ck_assert_int_eq(dat_csv_open(&c, "/nonexistent/dir/x.csv", "x.csv"), -1);
    ck_assert_msg(strncmp(c.err, "x.csv:0:0: cannot open", 22) == 0, "%s", c.err);
    dat_csv_close(&c); /* harmless after a failed open */
}
END_TEST

START_TEST(numbers_accepted)
{
    const struct {
        const char *s;
        double v;
    } ok[] = {
        {"1e-4", 1e-4}, {"-0.5", -0.5}, {"+3", 3},   {".5", 0.5},   {"5.", 5},
        {"1E+2", 100},  {"0", 0},       {"-0", -0.0}, {"123.456", 123.456},
        {"1e-400", 0}, /* underflow is accepted */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double v = -1;
        const char *why = NULL;
        ck_assert_msg(dat_parse_double(ok[i].s, &v, &why), "'%s' rejected: %s", ok[i].s, why);
        ck_assert_msg(v == ok[i].v, "'%s' -> %.17g", ok[i].s, v);
    }
}
END_TEST

START_TEST(numbers_rejected)
{
    const struct {
        const char *s, *why;
    } bad[] = {
        {"nan", "not a finite"},   {"NaN", "not a finite"},        {"inf", "not a finite"},
        {"-inf", "not a finite"},  {"Infinity", "not a finite"},   {"0x1p3", "hexadecimal"},
        {"1,5", "decimal comma"},  {"", "empty"},                  {"1e999", "overflow"},
        {"-1e999", "overflow"},    {" 1", "not a number"},         {"1 ", "trailing"},
        {"1e", "malformed exponent"}, {"abc", "not a number"},     {"--1", "not a number"},
        {".", "not a number"},     {"e5", "not a number"},         {"1.2.3", "trailing"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 42;
        const char *why = NULL;
        ck_assert_msg(!dat_parse_double(bad[i].s, &v, &why), "'%s' accepted", bad[i].s);
        ck_assert_ptr_nonnull(why);
        ck_assert_msg(strstr(why, bad[i].why) != NULL, "'%s': reason '%s', want '%s'", bad[i].s,
                      why, bad[i].why);
        ck_assert(v == 42); /* untouched */
    }
}
END_TEST

START_TEST(numbers_ignore_locale)
{
    /* With a decimal-comma locale installed on this thread, "1.5" is still 1.5. */
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
    locale_t loc = (locale_t)0;
    for (size_t i = 0; i < 4 && loc == (locale_t)0; i++)
        loc = newlocale(LC_ALL_MASK, names[i], (locale_t)0);
    locale_t old = (locale_t)0;
    if (loc != (locale_t)0)
        old = uselocale(loc);
    double v = 0;
    const char *why;
    ck_assert(dat_parse_double("1.5", &v, &why));
    ck_assert(v == 1.5);
    ck_assert(!dat_parse_double("1,5", &v, &why));
    if (loc != (locale_t)0) {
        uselocale(old);
        freelocale(loc);
    }
}
END_TEST

START_TEST(integers)
{
    uint64_t v;
    const char *why;
    ck_assert(dat_parse_uint("200", 1000, &v, &why));
    ck_assert_uint_eq(v, 200);
    ck_assert(dat_parse_uint("0", 1000, &v, &why));
    ck_assert_uint_eq(v, 0);
    ck_assert(!dat_parse_uint("2.5", 1000, &v, &why));
    ck_assert(!dat_parse_uint("-1", 1000, &v, &why));
    ck_assert(!dat_parse_uint("", 1000, &v, &why));
    ck_assert(!dat_parse_uint("1001", 1000, &v, &why));
    ck_assert(!dat_parse_uint("99999999999999999999999", UINT64_MAX, &v, &why));
}
END_TEST

START_TEST(size_arithmetic)
{
    size_t r;
    ck_assert(dat_size_mul(1000, 1000, &r) && r == 1000000);
    ck_assert(!dat_size_mul(SIZE_MAX / 2 + 1, 2, &r));
    ck_assert(!dat_size_add(SIZE_MAX, 1, &r));
    void *p = NULL;
    size_t cap = 0;
    ck_assert(!dat_grow(&p, &cap, SIZE_MAX / 4, 8));
    ck_assert_ptr_null(p);
    ck_assert(dat_grow(&p, &cap, 10, 8) && cap >= 10);
    free(p);
}
END_TEST

START_TEST(string_table)
{
    dat_strtab t = {0};
    char names[2000][16];
    for (unsigned i = 0; i < 2000; i++) {
        snprintf(names[i], sizeof names[i], "n%u", i);
        ck_assert_int_eq(dat_strtab_put(&t, names[i], i, NULL), 1);
    }
    uint32_t old = 0;
    ck_assert_int_eq(dat_strtab_put(&t, "n17", 5, &old), 0);
    ck_assert_uint_eq(old, 17);
    for (unsigned i = 0; i < 2000; i++)
        ck_assert_uint_eq(dat_strtab_get(&t, names[i]), i);
    ck_assert_uint_eq(dat_strtab_get(&t, "nope"), UINT32_MAX);
    dat_strtab_free(&t);
}
END_TEST

/* With resync, an error confined to a record skips to the next line and reports the record as
 * bad, with the fields read before the error; what is not confined still ends the read. */
START_TEST(resync_after_bad_record)
{
    dat_csv c;
    open_text(&c, "h1,h2,h3\na,b\"x,c\nd,e,f\ng,\"h\"z,i\nj,k,l\nm,\"open\n");
    c.resync = true;
    ck_assert_int_eq(dat_csv_next(&c), 1);
    ck_assert_int_eq(dat_csv_next(&c), DAT_CSV_BAD);
    ck_assert_str_eq(c.err, "t.csv:2:2: quote inside an unquoted field (quote the whole field)");
    ck_assert_uint_eq(c.line, 2);
    ck_assert_uint_eq(c.nfields, 1);
    ck_assert_str_eq(dat_csv_field(&c, 0), "a");
    ck_assert_int_eq(dat_csv_next(&c), 1);
    ck_assert_str_eq(dat_csv_field(&c, 2), "f");
    ck_assert_uint_eq(c.line, 3);
    ck_assert_int_eq(dat_csv_next(&c), DAT_CSV_BAD);
    ck_assert_str_eq(c.err, "t.csv:4:2: unexpected text after a closing quote");
    ck_assert_int_eq(dat_csv_next(&c), 1);
    ck_assert_str_eq(dat_csv_field(&c, 0), "j");
    ck_assert_uint_eq(c.line, 5);
    /* a quote still open at the end of the file is not confined to a record */
    ck_assert_int_eq(dat_csv_next(&c), -1);
    ck_assert_str_eq(c.err, "t.csv:6:2: unterminated quoted field");
    dat_csv_close(&c);
}
END_TEST

/* Only regular files are read: a folder (like a FIFO or a device) is refused at open. */
START_TEST(open_not_regular)
{
    dat_csv c;
    ck_assert_int_eq(dat_csv_open(&c, dir, "t.csv"), -1);
    ck_assert_str_eq(c.err, "t.csv:0:0: cannot open: not a regular file");
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("data_csv");
    TCase *tc = tcase_create("reader");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, quotes_and_lines);
    tcase_add_test(tc, comments_blank_crlf_bom);
    tcase_add_test(tc, utf8);
    tcase_add_test(tc, format_errors);
    tcase_add_test(tc, open_missing);
    tcase_add_test(tc, resync_after_bad_record);
    tcase_add_test(tc, open_not_regular);
    suite_add_tcase(s, tc);
    TCase *tn = tcase_create("numbers");
    tcase_add_test(tn, numbers_accepted);
    tcase_add_test(tn, numbers_rejected);
    tcase_add_test(tn, numbers_ignore_locale);
    tcase_add_test(tn, integers);
    tcase_add_test(tn, size_arithmetic);
    tcase_add_test(tn, string_table);
    suite_add_tcase(s, tn);
    return s;
}
