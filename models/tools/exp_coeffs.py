#!/usr/bin/env python3
"""exp_coeffs.py - the coefficients of vm_exp_q_ (models/vmath.h), shared by vm_exp and vm_expm1.

With x = n ln 2 + r, |r| <= ln(2)/2 (plus a rounding margin: R below), both functions need

    Q(r) = (e^r - 1 - r) / r^2 = sum_{k >= 0} r^k / (k + 2)!,

e^r = 1 + r + r^2 Q(r) and e^r - 1 = r + r^2 Q(r). An error dQ in Q costs r^2 dQ absolutely,
that is at most r dQ relative to e^r - 1, so Q is fitted for its ABSOLUTE error (a fit of e^r
alone, which leaves Q(0) off by ~1e-15, costs expm1 most of an ulp near r = 0.06). The fit is the
Chebyshev interpolant of degree DEG on [-R, R] (within a few percent of the minimax polynomial),
turned into monomial coefficients in r, computed with mpmath at 50 digits.

    python3 models/tools/exp_coeffs.py [degree]        (default 10, as vmath.h uses)

Prints the coefficients q_0 .. q_DEG (of r^0 .. r^DEG) and the fit's maximum error.
Requires mpmath.
"""
import sys

import mpmath as mp

mp.mp.dps = 50
R = mp.mpf("0.3466")  # ln(2)/2 = 0.34657..., plus the rounding of n


def Q(r):
    # The series itself: e^r - 1 - r cancels near a node at r ~ 0.
    return mp.fsum(r ** k / mp.factorial(k + 2) for k in range(60))


def main():
    deg = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    m = deg + 1
    nodes = [R * mp.cos(mp.pi * (j + mp.mpf(1) / 2) / m) for j in range(m)]
    # Interpolating polynomial through the Chebyshev nodes, in monomial form.
    A = mp.matrix([[x ** k for k in range(m)] for x in nodes])
    b = mp.matrix([Q(x) for x in nodes])
    q = mp.lu_solve(A, b)
    err = max(abs(sum(q[k] * x ** k for k in range(m)) - Q(x))
              for x in mp.linspace(-R, R, 2001))
    print("/* q_0 .. q_%d; max |error| of Q on [-%s, %s]: %.2e */" % (deg, R, R, float(err)))
    for k in range(m):
        print("    %r," % float(q[k]))


if __name__ == "__main__":
    main()
