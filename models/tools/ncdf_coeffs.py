#!/usr/bin/env python3
"""ncdf_coeffs.py - the coefficients of vm_ncdf (models/vmath.h).

vm_ncdf writes, for z >= 0 and t = 2 / (2 + z) in (0, 1],

    erfc(z) = t exp(-z^2 + P(t)),

where P(t) = ln(erfc(z) / t) + z^2 is smooth on [0, 1] (it tends to ln(1 / (2 sqrt(pi))) as
z -> inf). This script expands P in Chebyshev polynomials of u = 2t - 1 (the expansion of
Numerical Recipes' erfccheb, recomputed here),

    P = c_0 / 2 + sum_{k >= 1} c_k T_k(u),

from the values of P at NODES Chebyshev nodes of the first kind (the discrete Chebyshev
transform; its aliasing error is below the first dropped coefficient), all in 50-digit
arithmetic with mpmath, keeps TERMS of them, and converts the truncated series exactly (still in
50 digits) to the monomial form

    P = a_0 + a_1 u + ... + a_{TERMS-1} u^{TERMS-1},

which vmath.h evaluates by Estrin's scheme: half the operations of Clenshaw's recurrence on the
c_k, and a tree instead of one long dependency chain. The conversion is harmless here because
the c_k decay fast: sum |a_m| = 1.46 against max |P| = 1.27, so rounding the a_m to double and
evaluating in double cost no more than the c_k did.

    python3 models/tools/ncdf_coeffs.py [terms]        (default 28, as vmath.h uses)

Prints the size of the first dropped c_k (the truncation error), sum |a_m|, and the a_m as the
doubles nearest the 50-digit values. Requires mpmath.
"""
import sys

import mpmath as mp

mp.mp.dps = 50
NODES = 120  # transform size; far more than the terms kept


def P(t):
    z = 2 / t - 2
    return mp.log(mp.erfc(z) / t) + z * z


def chebyshev():
    vals = [P((mp.cos(mp.pi * (j + mp.mpf(1) / 2) / NODES) + 1) / 2) for j in range(NODES)]
    return [2 * mp.fsum(v * mp.cos(mp.pi * k * (j + mp.mpf(1) / 2) / NODES)
                        for j, v in enumerate(vals)) / NODES
            for k in range(NODES)]


def to_monomial(c):
    """sum c_k T_k(u), with c_0 already halved, as coefficients of u^m."""
    n = len(c)
    polys = [[mp.mpf(1)], [mp.mpf(0), mp.mpf(1)]]
    for k in range(2, n):
        nxt = [mp.mpf(0)] * (k + 1)
        for i, x in enumerate(polys[k - 1]):
            nxt[i + 1] += 2 * x
        for i, x in enumerate(polys[k - 2]):
            nxt[i] -= x
        polys.append(nxt)
    a = [mp.mpf(0)] * n
    for k in range(n):
        for i, x in enumerate(polys[k]):
            a[i] += c[k] * x
    return a


def main():
    terms = int(sys.argv[1]) if len(sys.argv) > 1 else 28
    c = chebyshev()
    kept = [c[0] / 2] + c[1:terms]
    a = to_monomial(kept)
    print("/* a_0 .. a_%d; first dropped Chebyshev coefficients |c_%d| = %.2e, |c_%d| = %.2e;"
          " sum |a_m| = %.3f */"
          % (terms - 1, terms, float(abs(c[terms])), terms + 1, float(abs(c[terms + 1])),
             float(mp.fsum(abs(x) for x in a))))
    for x in a:
        print("    %r," % float(x))  # the double nearest the 50-digit value


if __name__ == "__main__":
    main()
