/*
 * kern_crr.c - the Cox-Ross-Rubinstein tree, vectorised across the nodes of a step; compiled
 * once per level (kern.h).
 */
#include "kern.h"

double MDL_KERN(mdl_crr_vec)(bool call, bool american, double S, double K, double T, double r,
                             double sigma, double q, uint32_t steps, const mdl_work *w,
                             const mdl_poll *poll, bool *stopped)
{
    return mdl_crr(call, american, S, K, T, r, sigma, q, steps, w, poll, stopped);
}
