/*
 * bsm.c - Black-Scholes-Merton european options with a continuous dividend yield q:
 *   call = S e^{-qT} N(d1) - K e^{-rT} N(d2),  put = K e^{-rT} N(-d2) - S e^{-qT} N(-d1),
 *   d1 = (ln(S/K) + (r - q + sigma^2/2) T) / (sigma sqrt(T)),  d2 = d1 - sigma sqrt(T).
 * The put is computed directly (not by parity) so that deep in-the-money puts and far
 * out-of-the-money calls keep their relative accuracy.
 */
#include <math.h>

#include "model.h"

double mdl_bsm(bool call, double S, double K, double T, double r, double sigma, double q)
{
    double sd = sigma * sqrt(T);
    double d1 = (log(S / K) + (r - q + 0.5 * sigma * sigma) * T) / sd;
    double d2 = d1 - sd;
    double fs = S * exp(-q * T); /* discounted forward of the asset */
    double fk = K * exp(-r * T); /* discounted strike */
    if (call)
        return fs * mdl_norm_cdf(d1) - fk * mdl_norm_cdf(d2);
    return fk * mdl_norm_cdf(-d2) - fs * mdl_norm_cdf(-d1);
}
