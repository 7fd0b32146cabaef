#!/usr/bin/env python3
"""ncdf_piece_coeffs.py - the coefficient tables of the AVX-512 normal CDF of the american and
european kernels (models/vm512.h, ncdf_neg8).

vm_ncdf (models/vmath.h) writes, for z >= 0 and t = 2 / (2 + z) in (0, 1],
erfc(z) = t exp(-z^2 + P(t)), with P one polynomial of degree 27 over the whole of [0, 1]
(ncdf_coeffs.py). At AVX-512 the kernel evaluates P piecewise instead: on each of the 16
intervals [i/16, (i+1)/16) of t (t = 1 joins the last), in w = 2 (16 t - i) - 1 in [-1, 1), a
polynomial of degree DEGREE whose coefficients the kernel selects per lane from 16-entry tables
(vpermt2pd): fewer instructions than the 27 multiply-adds and 4 squarings of the single
polynomial. The kernel takes the exponent in base 2, so the tables hold P log2(e).

Each piece is P's Chebyshev expansion on its interval, from P's values at NODES Chebyshev
nodes (50 digits, mpmath), truncated after degree DEGREE and converted exactly to powers of w.
Prints the largest first-dropped coefficient over the pieces (the truncation error, absolute in
P and so relative in erfc), and the tables as C initialisers: coefficient k of piece i, times
log2(e), at [k][i], the doubles nearest the 50-digit values.

    python3 models/tools/ncdf_piece_coeffs.py [degree]      (default 9, as the kernel uses)

Requires mpmath.
"""
import sys

import mpmath as mp

from ncdf_coeffs import P, to_monomial  # the same P, and the same exact conversion

mp.mp.dps = 50
PIECES = 16
NODES = 40


def chebyshev(a, b):
    """Chebyshev coefficients of P on [a, b], c_0 halved."""
    xs = [(a + b) / 2 + (b - a) / 2 * mp.cos(mp.pi * (j + mp.mpf(1) / 2) / NODES)
          for j in range(NODES)]
    vals = [P(x) for x in xs]
    c = [2 * mp.fsum(v * mp.cos(mp.pi * k * (j + mp.mpf(1) / 2) / NODES)
                     for j, v in enumerate(vals)) / NODES
         for k in range(NODES)]
    c[0] /= 2
    return c


def main():
    degree = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    tables = [[None] * PIECES for _ in range(degree + 1)]
    worst = mp.mpf(0)
    for i in range(PIECES):
        a, b = mp.mpf(i) / PIECES, mp.mpf(i + 1) / PIECES
        if i == 0:
            a = mp.mpf(1) / 1024  # z = 2046: far beyond any argument (|x| <= 38.6)
        c = chebyshev(a, b)
        worst = max(worst, mp.fsum(abs(x) for x in c[degree + 1:]))
        m = to_monomial(c[:degree + 1])
        for k in range(degree + 1):
            tables[k][i] = m[k] / mp.log(2)
    print(f"/* degree {degree}, {PIECES} pieces: truncation error below "
          f"{mp.nstr(worst, 3)} */")
    print(f"static const double ncdf_piece[{degree + 1}][{PIECES}] = {{")
    for k in range(degree + 1):
        vals = ", ".join(repr(float(x)) for x in tables[k])
        print(f"    {{{vals}}},")
    print("};")


if __name__ == "__main__":
    main()
