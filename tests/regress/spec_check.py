#!/usr/bin/env python3
"""spec_check.py - an independent implementation of contract §1-§3 (values and the sensitivity
grid), written from the formulas with nothing shared with the C code, used to check what
`riskengine values` and `riskengine grid` wrote.

Usage: spec_check.py DATA_DIR OUT_DIR [--bump H] [--every N] [--historical VAR_DIR]
  DATA_DIR  the data set (factors.csv, underlyings.csv, positions.csv)
  OUT_DIR   where `riskengine grid --data DATA_DIR --out OUT_DIR` wrote values.csv and
            sensitivities.csv
  --every N check every N-th position only (large data sets)
  --historical VAR_DIR  also check the `historical` rows of VAR_DIR/var.csv (written by
            `riskengine var --method historical`): VaR 0.99 and ES 0.975 per book and TOTAL
            from DATA_DIR/scenarios.csv, every position repriced in every scenario

Every position the engine reports OK is repriced here: spot, forward, Black-Scholes-Merton,
Bjerksund-Stensland 2002 (bivariate normal by adaptive Gauss-Kronrod quadrature of its
one-dimensional integral), the textbook CRR tree, and bonds by summing cash flows. Tolerances:
  values  TOL_VALUE_REL relative (closed forms, trees), TOL_BS2002_REL for BS2002 (quadrature)
  delta   what that tolerance on the two bumped values allows a central difference: tol |V| / h
  gamma   and a second difference: 4 tol |V| / h^2 (the rounding noise of a gamma by bumping)
Prints one line per mismatch and, last, "spec_check: N passed, M failed".
"""
import csv
import math
import sys

TOL_VALUE_REL = 1e-12
TOL_BS2002_REL = 1e-10
EPS = 2.220446049250313e-16


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        lines = [ln for ln in f if not ln.lstrip().startswith("#") and ln.strip()]
    return list(csv.DictReader(lines))


def ncdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def npdf(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


# ---- bivariate normal: M(a, b; rho) = int_{-inf}^{a} phi(x) N((b - rho x)/sqrt(1-rho^2)) dx

_GK_X = [0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
         0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
         0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
         0.207784955007898467600689403773245, 0.0]
_GK_WK = [0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
          0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
          0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
          0.204432940075298892414161999234649, 0.209482141084727828012999174891714]
_GK_WG = [0.0, 0.129484966168869693270611432679082, 0.0, 0.279705391489276667901467771423780,
          0.0, 0.381830050505118944950369775488975, 0.0, 0.417959183673469387755102040816327]


def _gk(f, lo, hi):
    c, h = 0.5 * (lo + hi), 0.5 * (hi - lo)
    k = g = 0.0
    for x, wk, wg in zip(_GK_X, _GK_WK, _GK_WG):
        if x == 0.0:
            v = f(c)
            k += wk * v
            g += wg * v
        else:
            v = f(c - h * x) + f(c + h * x)
            k += wk * v
            g += wg * v
    return k * h, abs((k - g) * h)


def _adaptive(f, lo, hi, tol, depth=0):
    val, err = _gk(f, lo, hi)
    if err <= tol or depth > 40:
        return val
    mid = 0.5 * (lo + hi)
    return _adaptive(f, lo, mid, tol / 2, depth + 1) + _adaptive(f, mid, hi, tol / 2, depth + 1)


def bvn(a, b, rho):
    if rho == 0.0:
        return ncdf(a) * ncdf(b)
    s = math.sqrt(1.0 - rho * rho)
    lo = -38.0
    hi = min(a, 38.0)
    if hi <= lo:
        return 0.0
    return _adaptive(lambda x: npdf(x) * ncdf((b - rho * x) / s), lo, hi, 1e-14)


# ---- models, from contract §2

def bsm(call, S, K, T, r, v, q):
    d1 = (math.log(S / K) + (r - q + 0.5 * v * v) * T) / (v * math.sqrt(T))
    d2 = d1 - v * math.sqrt(T)
    if call:
        return S * math.exp(-q * T) * ncdf(d1) - K * math.exp(-r * T) * ncdf(d2)
    return K * math.exp(-r * T) * ncdf(-d2) - S * math.exp(-q * T) * ncdf(-d1)


def _phi(S, T, g, H, I, r, b, v):
    lam = (-r + g * b + 0.5 * g * (g - 1) * v * v) * T
    d = -(math.log(S / H) + (b + (g - 0.5) * v * v) * T) / (v * math.sqrt(T))
    kap = 2 * b / (v * v) + 2 * g - 1
    return math.exp(lam) * S ** g * (ncdf(d) - (I / S) ** kap * ncdf(d - 2 * math.log(I / S) / (v * math.sqrt(T))))


def _psi(S, T2, g, H, I2, I1, t1, r, b, v):
    c = b + (g - 0.5) * v * v
    s1, s2 = v * math.sqrt(t1), v * math.sqrt(T2)
    e1 = (math.log(S / I1) + c * t1) / s1
    e2 = (math.log(I2 * I2 / (S * I1)) + c * t1) / s1
    e3 = (math.log(S / I1) - c * t1) / s1
    e4 = (math.log(I2 * I2 / (S * I1)) - c * t1) / s1
    f1 = (math.log(S / H) + c * T2) / s2
    f2 = (math.log(I2 * I2 / (S * H)) + c * T2) / s2
    f3 = (math.log(I1 * I1 / (S * H)) + c * T2) / s2
    f4 = (math.log(S * I1 * I1 / (H * I2 * I2)) + c * T2) / s2
    rho = math.sqrt(t1 / T2)
    lam = -r + g * b + 0.5 * g * (g - 1) * v * v
    kap = 2 * b / (v * v) + 2 * g - 1
    return math.exp(lam * T2) * S ** g * (
        bvn(-e1, -f1, rho) - (I2 / S) ** kap * bvn(-e2, -f2, rho)
        - (I1 / S) ** kap * bvn(-e3, -f3, -rho) + (I1 / I2) ** kap * bvn(-e4, -f4, -rho))


def bs2002_call(S, X, T, r, q, v):
    """None where the approximation is undefined (the engine then uses a 200-step tree)."""
    b = r - q
    if b >= r:
        return bsm(True, S, X, T, r, v, q)
    rad = (b / (v * v) - 0.5) ** 2 + 2 * r / (v * v)
    if rad < 0:
        return None
    beta = (0.5 - b / (v * v)) + math.sqrt(rad)
    if beta <= 1:
        return None
    binf = beta / (beta - 1) * X
    b0 = max(X, r / (r - b) * X)
    if binf - b0 <= 0:
        return None
    t1 = 0.5 * (math.sqrt(5) - 1) * T
    h1 = -(b * t1 + 2 * v * math.sqrt(t1)) * X * X / ((binf - b0) * b0)
    h2 = -(b * T + 2 * v * math.sqrt(T)) * X * X / ((binf - b0) * b0)
    I1 = b0 + (binf - b0) * (1 - math.exp(h1))
    I2 = b0 + (binf - b0) * (1 - math.exp(h2))
    if I1 <= 0 or I2 <= 0:
        return None
    if S >= I2:
        return S - X
    a1 = (I1 - X) * I1 ** (-beta)
    a2 = (I2 - X) * I2 ** (-beta)
    return (a2 * S ** beta - a2 * _phi(S, t1, beta, I2, I2, r, b, v)
            + _phi(S, t1, 1, I2, I2, r, b, v) - _phi(S, t1, 1, I1, I2, r, b, v)
            - X * _phi(S, t1, 0, I2, I2, r, b, v) + X * _phi(S, t1, 0, I1, I2, r, b, v)
            + a1 * _phi(S, t1, beta, I1, I2, r, b, v) - a1 * _psi(S, T, beta, I1, I2, I1, t1, r, b, v)
            + _psi(S, T, 1, I1, I2, I1, t1, r, b, v) - _psi(S, T, 1, X, I2, I1, t1, r, b, v)
            - X * _psi(S, T, 0, I1, I2, I1, t1, r, b, v) + X * _psi(S, T, 0, X, I2, I1, t1, r, b, v))


def crr(call, S, K, T, r, v, q, n):
    dt = T / n
    u = math.exp(v * math.sqrt(dt))
    d = 1 / u
    p = (math.exp((r - q) * dt) - d) / (u - d)
    disc = math.exp(-r * dt)
    pay = (lambda s: max(s - K, 0.0)) if call else (lambda s: max(K - s, 0.0))
    vals = [pay(S * u ** j * d ** (n - j)) for j in range(n + 1)]
    for i in range(n - 1, -1, -1):
        vals = [max(disc * (p * vals[j + 1] + (1 - p) * vals[j]), pay(S * u ** j * d ** (i - j)))
                for j in range(i + 1)]
    return vals[0]


def bond(y, T, c, f):
    total, k = 0.0, 0
    while T - k / f > 0:
        total += c / f * math.exp(-y * (T - k / f))
        k += 1
    return total + math.exp(-y * T)


def unit_price(kind, S, K, T, r, v, q, c, f, steps):
    """(price, is_bs2002)"""
    if kind == "spot":
        return S, False
    if kind == "forward":
        return S * math.exp(-q * T) - K * math.exp(-r * T), False
    if kind in ("european_call", "european_put"):
        return bsm(kind == "european_call", S, K, T, r, v, q), False
    if kind in ("american_call", "american_put"):
        call = kind == "american_call"
        if steps > 0:
            return crr(call, S, K, T, r, v, q, steps), False
        p = bs2002_call(S, K, T, r, q, v) if call else bs2002_call(K, S, T, q, r, v)
        if p is None:
            return crr(call, S, K, T, r, v, q, 200), False
        return p, True
    if kind == "bond":
        return bond(r, T, c, f), False
    raise ValueError(kind)


def num(cell, default=None):
    """A number cell; columns an instrument does not use may hold anything (contract §2)."""
    try:
        return default if cell is None or cell.strip() == "" else float(cell)
    except ValueError:
        return default


def position_value(p, x_of):
    """quantity x unit price of position row p when underlying `name` is worth x_of(name);
    (value, priced_by_bs2002)."""
    kind = p["instrument"]
    qty = float(p["quantity"])
    if kind == "bond":
        price, closed = unit_price(kind, 0, 0, float(p["expiry"]), x_of(p["underlying"]), 0, 0,
                                   num(p.get("coupon"), 0.0), float(p["frequency"]), 0)
        return qty * price, closed

    def literal_or(cell):
        try:
            return float(cell)
        except (TypeError, ValueError):
            return x_of(cell) if cell else 0.0

    price, closed = unit_price(kind, x_of(p["underlying"]), num(p.get("strike"), 0.0),
                               num(p.get("expiry"), 0.0), literal_or(p.get("rate", "")),
                               literal_or(p.get("vol", "")), num(p.get("dividend"), 0.0), 0, 0,
                               int(num(p.get("steps"), 0)))
    return qty * price, closed


def var_es(pnl, alpha_var, alpha_es):
    """contract §3: losses sorted descending, k = max(1, ceil(S (1 - alpha))) without the rounding
    that would make 1000 x (1 - 0.99) eleven."""
    losses = sorted((-x for x in pnl), reverse=True)

    def k_of(alpha):
        x = len(losses) * (1 - alpha)
        r = round(x)
        k = r if abs(x - r) <= 1e-9 * max(r, 1) else math.ceil(x)
        return min(max(1, k), len(losses))

    kv, ke = k_of(alpha_var), k_of(alpha_es)
    return losses[kv - 1], sum(losses[:ke]) / ke


def check_historical(data, out, var_dir, factors, und, alpha_var=0.99, alpha_es=0.975):
    """VaR and ES per book from data/scenarios.csv (used as given), against the `historical`
    rows of var_dir/var.csv (positions OK per out/values.csv). Tolerance: what TOL_VALUE_REL / TOL_BS2002_REL on every value allows a
    sum of P&L: the tolerance times the gross value of the book, on each scenario."""
    engine_values = {r["position"]: r for r in rows(f"{out}/values.csv")}
    scen = rows(f"{data}/scenarios.csv")
    shocks = [[num(s.get(f), 0.0) for f in factors] for s in scen]
    books, pnl, gross = [], {}, {}
    for p in rows(f"{data}/positions.csv"):
        ev = engine_values.get(p["position"])
        if ev is None or ev["status"] != "OK":
            continue
        book = p["book"]
        if book not in pnl:
            books.append(book)
            pnl[book] = [0.0] * len(scen)
            gross[book] = 0.0
        base, closed = position_value(p, lambda n: und[n][1])
        tol = TOL_BS2002_REL if closed else TOL_VALUE_REL
        for s, df in enumerate(shocks):
            def x_of(name, df=df):
                kind, x, beta = und[name]
                move = sum(b * d for b, d in zip(beta, df))
                return x + move if kind == "rate" else x * math.exp(move)
            v, closed_s = position_value(p, x_of)
            pnl[book][s] += v - base
            tol = max(tol, TOL_BS2002_REL if closed_s else tol)
        gross[book] += tol * abs(base) * 4
    pnl["TOTAL"] = [sum(pnl[b][s] for b in books) for s in range(len(scen))]
    gross["TOTAL"] = sum(gross[b] for b in books)
    engine = {r["book"]: r for r in rows(f"{var_dir}/var.csv") if r["method"] == "historical"}
    passed = failed = 0
    for book in books + ["TOTAL"]:
        var, es = var_es(pnl[book], alpha_var, alpha_es)
        row = engine.get(book)
        if row is None:
            failed += 1
            print(f"historical {book}: no row in var.csv")
            continue
        tol = gross[book] + 1e-9
        if abs(float(row["var"]) - var) <= tol and abs(float(row["es"]) - es) <= tol:
            passed += 1
        else:
            failed += 1
            print(f"historical {book}: engine var {row['var']} es {row['es']}, spec var {var!r} "
                  f"es {es!r} (tolerance {tol:.3g})")
    return passed, failed


def main():
    args = sys.argv[1:]
    bump, every = 1e-4, 1
    if "--bump" in args:
        i = args.index("--bump")
        bump = float(args[i + 1])
        del args[i:i + 2]
    if "--every" in args:
        i = args.index("--every")
        every = int(args[i + 1])
        del args[i:i + 2]
    historical = None
    if "--historical" in args:
        i = args.index("--historical")
        historical = args[i + 1]
        del args[i:i + 2]
    data, out = args
    factors = [r["factor"] for r in rows(f"{data}/factors.csv")]
    und = {}
    for r in rows(f"{data}/underlyings.csv"):
        und[r["underlying"]] = (r["kind"], float(r["value"]),
                                [num(r.get(fct), 0.0) for fct in factors])
    engine_values = {r["position"]: r for r in rows(f"{out}/values.csv")}
    sens = {}
    for r in rows(f"{out}/sensitivities.csv"):
        sens[(r["position"], r["factor"])] = r
    passed = failed = 0

    def shocked(name, j, sign):
        kind, x, beta = und[name]
        move = 0.0 if j is None else beta[j] * (sign * bump)
        return x + move if kind == "rate" else x * math.exp(move)

    for index, p in enumerate(rows(f"{data}/positions.csv")):
        if index % every != 0:
            continue
        pid = p["position"]
        ev = engine_values.get(pid)
        if ev is None or ev["status"] != "OK":
            continue
        kind = p["instrument"]
        qty = float(p["quantity"])

        def value(j, sign):
            if kind == "bond":
                r = shocked(p["underlying"], j, sign)
                return qty * unit_price(kind, 0, 0, float(p["expiry"]), r, 0, 0,
                                        num(p.get("coupon"), 0.0), float(p["frequency"]), 0)[0]
            S = shocked(p["underlying"], j, sign)
            rate = p.get("rate", "")
            try:
                r = float(rate)
            except (TypeError, ValueError):
                r = shocked(rate, j, sign) if rate else 0.0
            vol = p.get("vol", "")
            try:
                v = float(vol)
            except (TypeError, ValueError):
                v = shocked(vol, j, sign) if vol else 0.0
            price, closed = unit_price(kind, S, num(p.get("strike"), 0.0), num(p.get("expiry"), 0.0),
                                       r, v, num(p.get("dividend"), 0.0), 0, 0,
                                       int(num(p.get("steps"), 0)))
            value.bs2002 = closed
            return qty * price

        value.bs2002 = False
        v0 = value(None, 0)
        tol = TOL_BS2002_REL if value.bs2002 else TOL_VALUE_REL
        got = float(ev["value"])
        if abs(got - v0) <= tol * max(abs(v0), 1e-300) + 1e-14:
            passed += 1
        else:
            failed += 1
            print(f"value {pid} ({kind}): engine {got!r}, spec {v0!r}")
        for j, fct in enumerate(factors):
            cell = sens.get((pid, fct))
            if cell is None or cell["status"] != "OK":
                continue
            vp, vm = value(j, +1), value(j, -1)
            delta = (vp - vm) / (2 * bump)
            gamma = (vp - 2 * v0 + vm) / (bump * bump)
            # two values each within tol of the spec move a central difference by at most
            # 2 tol |V| / 2h and a second difference by 4 tol |V| / h^2
            dv = tol * (abs(v0) + abs(vp) + abs(vm) + 1e-12)
            tol_d = dv / bump
            tol_g = 4 * dv / (bump * bump)
            d_ok = abs(float(cell["delta"]) - delta) <= tol_d
            g_ok = abs(float(cell["gamma"]) - gamma) <= tol_g
            if d_ok and g_ok:
                passed += 1
            else:
                failed += 1
                print(f"grid {pid} {fct} ({kind}): engine delta {cell['delta']} gamma "
                      f"{cell['gamma']}, spec delta {delta!r} gamma {gamma!r}")
    if historical is not None:
        hp, hf = check_historical(data, out, historical, factors, und)
        passed += hp
        failed += hf
    print(f"spec_check: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
