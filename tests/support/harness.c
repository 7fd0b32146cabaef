/*
 * harness.c - the main() shared by every Check program under tests/.
 *
 * Each tests/<area>/test_<name>.c defines test_suite(); this runs it with Check's normal
 * output (one summary line "NN%: Checks: N, Failures: F, Errors: E") and exits non-zero when
 * anything failed. CK_FORK, CK_RUN_CASE and CK_VERBOSITY work as Check documents.
 */
#include <stdlib.h>

#include "harness.h"

int main(void)
{
    SRunner *runner = srunner_create(test_suite());
    srunner_run_all(runner, CK_ENV);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
