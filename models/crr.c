/*
 * crr.c - the Cox-Ross-Rubinstein binomial tree (contract §2): n steps of dt = T/n, up factor
 * u = e^{sigma sqrt(dt)}, d = 1/u, risk-neutral up probability p = (e^{(r-q) dt} - d)/(u - d),
 * discount e^{-r dt} per step; american trees compare with immediate exercise at every node.
 *
 * The tree lives in the caller's scratch (steps + 1 doubles); nothing is allocated. The poll is
 * consulted after every POLL_NODES node updates (about 10 µs of work at 1-2 ns per node), so a
 * cancelled request leaves a long tree promptly.
 */
#include <math.h>

#include "internal.h"
#include "model.h"

/* Node updates between two polls. */
#define POLL_NODES 8192u

double mdl_crr(bool call, bool american, double S, double K, double T, double r, double sigma,
               double q, uint32_t steps, const mdl_work *w, const mdl_poll *poll, bool *stopped)
{
    if (stopped != NULL)
        *stopped = false;
    if (steps == 0 || w == NULL || w->buf == NULL || w->len < (size_t)steps + 1)
        return NAN;
    double dt = T / steps;
    double u = exp(sigma * sqrt(dt));
    double d = 1.0 / u;
    double p = (exp((r - q) * dt) - d) / (u - d);
    if (!(p >= 0.0 && p <= 1.0))
        return NAN; /* no risk-neutral measure on this grid: the tree is invalid */
    double disc = exp(-r * dt);
    double pu = disc * p, pd = disc * (1.0 - p);
    double omega = call ? 1.0 : -1.0; /* payoff = max(omega (S - K), 0) */
    double u2 = u * u;
    double *v = w->buf;

    /* Terminal nodes j = 0..n: S u^{2j - n}. */
    double base = S * pow(d, (double)steps);
    double s = base;
    for (uint32_t j = 0; j <= steps; j++) {
        double ex = omega * (s - K);
        v[j] = ex > 0.0 ? ex : 0.0;
        s *= u2;
    }

    /* Backward induction in place: v[j] <- disc (p v[j+1] + (1-p) v[j]) reads v[j+1] before
     * it is overwritten. Long steps are cut into chunks so that the poll stays regular. */
    size_t work = 0;
    for (uint32_t i = steps; i-- > 0;) {
        base *= u; /* S d^i: the lowest node of step i */
        double si = base;
        for (uint32_t j0 = 0; j0 <= i; j0 += POLL_NODES) {
            uint32_t end = i + 1 - j0 > POLL_NODES ? j0 + POLL_NODES : i + 1;
            if (american) {
                for (uint32_t j = j0; j < end; j++) {
                    double hold = pu * v[j + 1] + pd * v[j];
                    double ex = omega * (si - K);
                    v[j] = hold > ex ? hold : ex; /* not fmax: a libm call at -O2 */
                    si *= u2;
                }
            } else {
                for (uint32_t j = j0; j < end; j++)
                    v[j] = pu * v[j + 1] + pd * v[j];
            }
            work += end - j0;
            if (work >= POLL_NODES) {
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
