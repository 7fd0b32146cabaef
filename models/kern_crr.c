/*
 * kern_crr.c - the Cox-Ross-Rubinstein tree (crr.c is the reference: same grid, same
 * probabilities, same edge cases), vectorised across the nodes of a step; compiled once per
 * level (kern.h).
 *
 * Node prices without exp or pow per node. Node j of step i is S u^{2j-i}. Writing
 * 2j - i = 2(j - c) + e with c = ceil(i/2) and e = i mod 2 (0 or 1), it is
 * B_i * U[j - c + h] with B_i = S (i even) or S u (i odd), h = ceil(n/2) and the one table
 * U[m] = e^{2 (m - h) a}, m = 0..n, a = sigma sqrt(dt): stride 1 in j at every step, and every
 * node price is one vm_exp and one or two multiplications away from exact (the reference's
 * repeated multiplications drift by up to n ulps; the difference is within the tests'
 * tolerance). The table is filled once per tree in one vector loop.
 *
 * Backward induction in place, v[j] <- max(pu v[j+1] + pd v[j], omega (B_i U[..] - K)): the
 * read of v[j+1] is ahead of the write of v[j], an anti-dependence the vectoriser handles (each
 * vector loads v[j..j+w] before it stores v[j..j+w-1]; gcc's dependence analysis accepts it
 * without the pragma too), so the loop is vectorised without a second buffer. Scratch: v
 * (n + 1 doubles) then U (n + 1), i.e. mdl_work_needed.
 *
 * At levels with FMA the sums are fused (fma is then one instruction): results differ from the
 * baseline's by rounding only. A node computed in a loop's scalar peel or remainder goes through
 * the same operations as in its vector body, so where the scratch sits and where a step is cut
 * for the poll change no bit: one level gives the same bits every time.
 */
#include <math.h>

#include "kern.h"

/* Node updates between two polls: under 10 µs at the slowest level (baseline: 0.8-1.0 ns per
 * node update measured on american trees of 200 and 1000 steps, so 7-8 µs); the vector levels
 * take 2-4 times less between two polls. */
#define POLL_NODES 8192u

#ifdef __FMA__
#define MUL_ADD(a, b, c) fma((a), (b), (c))
#else
#define MUL_ADD(a, b, c) ((a) * (b) + (c))
#endif

/* One step's nodes [j0, end): american. */
static inline void step_american(double *restrict v, const double *restrict U, uint32_t j0,
                                 uint32_t end, double pu, double pd, double B, double K)
{
    MDL_SIMD
    for (uint32_t j = j0; j < end; j++) {
        double hold = MUL_ADD(pu, v[j + 1], pd * v[j]);
        double ex = MUL_ADD(B, U[j], -K);
        v[j] = hold > ex ? hold : ex; /* not fmax: a libm call at baseline */
    }
}

/* One step's nodes [j0, end): european. */
static inline void step_european(double *restrict v, uint32_t j0, uint32_t end, double pu,
                                 double pd)
{
    MDL_SIMD
    for (uint32_t j = j0; j < end; j++)
        v[j] = MUL_ADD(pu, v[j + 1], pd * v[j]);
}

double MDL_KERN(mdl_crr_vec)(bool call, bool american, double S, double K, double T, double r,
                             double sigma, double q, uint32_t steps, const mdl_work *w,
                             const mdl_poll *poll, bool *stopped)
{
    if (stopped != NULL)
        *stopped = false;
    if (steps == 0 || w == NULL || w->buf == NULL || w->len / 2 < (size_t)steps + 1)
        return NAN;
    double dt = T / steps;
    double a = sigma * sqrt(dt);
    double u = vm_exp(a);
    double d = 1.0 / u;
    double p = (vm_exp((r - q) * dt) - d) / (u - d);
    if (!(p >= 0.0 && p <= 1.0))
        return NAN; /* no risk-neutral measure on this grid: the tree is invalid */
    double disc = vm_exp(-r * dt);
    double pu = disc * p, pd = disc * (1.0 - p);
    double omega = call ? 1.0 : -1.0; /* payoff = max(omega (S - K), 0) */
    /* omega (B U - K) = (omega B) U - omega K exactly: omega is +-1. */
    double oK = omega * K, oS[2] = {omega * S, omega * S * u};
    uint32_t h = (steps + 1) / 2;
    double *restrict v = w->buf;
    double *restrict U = w->buf + (size_t)steps + 1;

    MDL_SIMD
    for (uint32_t m = 0; m <= steps; m++)
        U[m] = vm_exp(2.0 * ((double)m - (double)h) * a);

    /* Terminal nodes: step n, offset h - ceil(n/2) = 0. */
    {
        double B = oS[steps & 1u];
        MDL_SIMD
        for (uint32_t j = 0; j <= steps; j++) {
            double ex = MUL_ADD(B, U[j], -oK);
            v[j] = ex > 0.0 ? ex : 0.0;
        }
    }

    /* Every POLL_NODES node updates the poll is consulted, a long step being cut where the
     * count falls due (the in-place update is correct for any cut in j). */
    uint32_t work = 0;
    for (uint32_t i = steps; i-- > 0;) {
        double B = oS[i & 1u];
        const double *Ui = U + (h - (i + 1) / 2); /* Ui[j] = U[j - ceil(i/2) + h] */
        for (uint32_t j0 = 0; j0 <= i;) {
            uint32_t room = POLL_NODES - work;
            uint32_t end = i + 1 - j0 > room ? j0 + room : i + 1;
            if (american)
                step_american(v, Ui, j0, end, pu, pd, B, oK);
            else
                step_european(v, j0, end, pu, pd);
            work += end - j0;
            j0 = end;
            if (work == POLL_NODES) {
                work = 0;
                if (mdl_poll_stop(poll)) {
                    if (stopped != NULL)
                        *stopped = true;
                    return NAN;
                }
            }
        }
    }
    return v[0];
}
