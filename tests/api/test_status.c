/*
 * test_status.c - the result-code table: every code has a distinct name and message, names
 * parse back to their code, out-of-range values are handled.
 */
#include <string.h>

#include "harness.h"
#include "riskengine.h"

START_TEST(names_round_trip)
{
    for (int i = 0; i < (int)RK_STATUS_COUNT_; i++) {
        rk_status back;
        ck_assert_int_eq(rk_status_parse(rk_status_name((rk_status)i), &back), RK_OK);
        ck_assert_int_eq((int)back, i);
        ck_assert_ptr_nonnull(rk_strerror((rk_status)i));
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(rk_status_name((rk_status)i), rk_status_name((rk_status)j));
    }
}
END_TEST

START_TEST(spec_codes_present)
{
    /* contract §4 names these codes; their spelling is part of the file formats. */
    ck_assert_str_eq(rk_status_name(RK_OK), "OK");
    ck_assert_str_eq(rk_status_name(RK_INVALID_INPUT), "INVALID_INPUT");
    ck_assert_str_eq(rk_status_name(RK_NUMERIC), "NUMERIC");
    ck_assert_str_eq(rk_status_name(RK_DEADLINE), "DEADLINE");
    ck_assert_str_eq(rk_status_name(RK_CANCELLED), "CANCELLED");
    ck_assert_str_eq(rk_status_name(RK_NO_MEMORY), "NO_MEMORY");
    ck_assert_str_eq(rk_status_name(RK_INTERNAL), "INTERNAL");
}
END_TEST

START_TEST(out_of_range)
{
    ck_assert_str_eq(rk_status_name((rk_status)9999), "UNKNOWN");
    ck_assert_str_eq(rk_strerror((rk_status)-1), "unknown status code");
    rk_status s;
    ck_assert_int_eq(rk_status_parse("NOPE", &s), RK_NOT_FOUND);
    ck_assert_int_eq(rk_status_parse(NULL, &s), RK_BAD_ARGUMENT);
    ck_assert_str_eq(rk_version(), RK_VERSION_STRING);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, names_round_trip);
    tcase_add_test(tc, spec_codes_present);
    tcase_add_test(tc, out_of_range);
    suite_add_tcase(s, tc);
    return s;
}
