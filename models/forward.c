/*
 * forward.c - linear instruments: a forward contract S e^{-qT} - K e^{-rT} (contract §2) and the
 * spot position, whose unit price is the spot itself (priced in table.c).
 */
#include <math.h>

#include "model.h"

double mdl_forward(double S, double K, double T, double r, double q)
{
    return S * exp(-q * T) - K * exp(-r * T);
}
