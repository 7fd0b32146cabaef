/*
 * covariance.c - the one rule a covariance matrix must meet, however it comes in: read from
 * covariance.csv (load.c) or handed to rk_dataset_set_covariance / rk_portfolio_set_covariance.
 * A file that loads is therefore a matrix the API accepts, and the reverse.
 */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"

rk_status dat_cov_check(double *cov, size_t F, double *work, dat_cov_problem *why)
{
    dat_cov_problem p = {DAT_COV_OK, 0, 0};
    rk_status st = RK_INVALID_INPUT;
    double *own = NULL;
    for (size_t i = 0; i < F && p.what == DAT_COV_OK; i++)
        for (size_t j = 0; j < F; j++)
            if (!isfinite(cov[i * F + j])) {
                p = (dat_cov_problem){DAT_COV_NOT_FINITE, i, j};
                break;
            }
    for (size_t i = 0; i < F && p.what == DAT_COV_OK; i++)
        if (!(cov[i * F + i] > 0))
            p = (dat_cov_problem){DAT_COV_VARIANCE, i, i};
    /* Symmetric up to rounding in whoever wrote the matrix: a relative tolerance on the scale of
     * the pair's standard deviations, then both entries are their average, so that what is
     * stored (and factored) is exactly symmetric. Checked pair by pair on the entries as given:
     * the average of one pair never feeds another pair's test. */
    for (size_t i = 0; i < F && p.what == DAT_COV_OK; i++)
        for (size_t j = i + 1; j < F; j++) {
            double a = cov[i * F + j], b = cov[j * F + i];
            if (fabs(a - b) > DAT_COV_SYM_RTOL * sqrt(cov[i * F + i] * cov[j * F + j])) {
                p = (dat_cov_problem){DAT_COV_ASYMMETRIC, i, j};
                break;
            }
            cov[i * F + j] = cov[j * F + i] = 0.5 * (a + b);
        }
    if (p.what == DAT_COV_OK && F > 0) {
        if (work == NULL && (work = own = malloc(F * F * sizeof *work)) == NULL) {
            st = RK_NO_MEMORY;
            goto out;
        }
        memcpy(work, cov, F * F * sizeof *work);
        /* The row-major lower triangle is the column-major upper one: LAPACK works in place,
         * where the row-major interface would allocate a transposed copy (and print to stdout
         * when that allocation fails). */
        lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)F, work, (lapack_int)F);
        if (info > 0)
            p = (dat_cov_problem){DAT_COV_NOT_PD, (size_t)info - 1, (size_t)info - 1};
        else if (info < 0) {
            st = RK_INTERNAL;
            goto out;
        }
    }
    st = p.what == DAT_COV_OK ? RK_OK : RK_INVALID_INPUT;
out:
    free(own);
    if (why != NULL)
        *why = p;
    return st;
}
