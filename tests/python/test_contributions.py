"""test_contributions.py - component risk of the scenario VaR set from Python: each book's Euler
contribution equals var.csv's contribution column bit for bit, its incremental VaR is the TOTAL's
VaR minus `riskengine var` on the data set without the book, and each position's contributions
are minus its own P&L in the VaR scenario and over the ES tail, as `riskengine stress` prices the
same scenarios with every position in a book of its own."""
import math
import shutil
from fractions import Fraction

import numpy as np
import pytest

from conftest import SAMPLE, assert_same, bits, rk, run_cli


def tail_count(n, alpha):
    """contract §3: k = max(1, ceil(S (1 - alpha)))."""
    return max(1, math.ceil(round(n * (1 - alpha), 9)))


def exact(xs):
    """Sum of doubles without rounding (the library's sums are exact, rounded once)."""
    return sum((Fraction(x) for x in xs), Fraction(0))


@pytest.mark.parametrize("cli_args,options", [
    (("--method", "mc", "--scenarios", "700", "--seed", "11"),
     dict(scenarios=700, seed=11)),
    (("--method", "historical", "--confidence", "0.95"),
     dict(method="historical", confidence=0.95)),
])
def test_book_contributions_equal_cli(tmp_path, portfolio, cli_args, options):
    cli = run_cli(tmp_path, "var", "--data", SAMPLE, *cli_args)
    res = portfolio.run(measures=("scenario_var",), **options)
    rows, contrib = res.scenario_var(), res.scenario_contributions()
    assert [r["book"] for r in contrib] == [r["book"] for r in cli["var"]]
    for mine, c, row in zip(rows, contrib, cli["var"]):
        assert_same(row["contribution"], mine["contribution"], row["book"])
        assert_same(row["contribution"], c["var_contribution"], row["book"])
    total = contrib[-1]
    # For the TOTAL: its loss in its own VaR scenario is its VaR, and its incremental VaR too.
    assert bits(total["var_contribution"]) == bits(rows[-1]["var"])
    assert bits(total["incremental_var"]) == bits(rows[-1]["var"])
    # The books' contributions add up to the TOTAL's, up to one rounding each.
    for key in ("var_contribution", "es_contribution"):
        parts = float(exact(c[key] for c in contrib[:-1]))
        assert parts == pytest.approx(total[key], rel=1e-13), key


def test_incremental_var_equals_cli_without_the_book(tmp_path, portfolio):
    book = "RATES_NY"
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    lines = (data / "positions.csv").read_text().splitlines(True)
    kept = [line for line in lines if line.split(",")[1] != book]
    assert len(kept) < len(lines)
    (data / "positions.csv").write_text("".join(kept))
    full = run_cli(tmp_path / "full", "var", "--data", SAMPLE, "--method", "historical")
    without = run_cli(tmp_path / "without", "var", "--data", str(data), "--method", "historical")
    res = portfolio.run(measures=("scenario_var",), method="historical")
    incr = {c["book"]: c["incremental_var"] for c in res.scenario_contributions()}
    expected = float(full["var"][-1]["var"]) - float(without["var"][-1]["var"])
    assert bits(incr[book]) == bits(expected)


def test_position_contributions(tmp_path, portfolio, sample):
    """Historical VaR at the defaults (0.99 and 0.975 over the file's scenarios). The reference
    P&L of each position in each scenario comes from `riskengine stress` on a copy of the sample
    in which every position is a book of its own; the VaR scenario and the ES tail are ranked
    from that run's TOTAL."""
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    lines = (data / "positions.csv").read_text().splitlines(True)
    for k in range(1, len(lines)):
        cells = lines[k].split(",")
        cells[1] = cells[0]
        lines[k] = ",".join(cells)
    (data / "positions.csv").write_text("".join(lines))
    stress = run_cli(tmp_path / "stress", "stress", "--data", str(data))["stress"]
    values = run_cli(tmp_path / "values", "values", "--data", SAMPLE)["values"]
    names = sample.scenarios
    pnl = {}
    for row in stress:
        pnl.setdefault(row["book"], {})[names.index(row["scenario"])] = float(row["pnl"])
    n = len(names)
    total = pnl["TOTAL"]
    # Largest loss first, ties by scenario index (api/riskengine.h).
    rank = sorted(range(n), key=lambda s: (total[s], s))
    kv, ke = tail_count(n, 0.99), tail_count(n, 0.975)
    sv, tail = rank[kv - 1], rank[:ke]

    res = portfolio.run(measures=("scenario_var",), method="historical")
    pc = res.position_contributions()
    var_c, es_c = pc["var_contribution"], pc["es_contribution"]
    assert var_c.shape == es_c.shape == (len(sample.positions),)
    assert pc is res.position_contributions()  # computed once
    checked = 0
    for i, row in enumerate(values):
        pid = row["position"]
        if row["status"] != "OK":
            assert np.isnan(var_c[i]) and np.isnan(es_c[i]), pid
            continue
        mine = pnl[pid]
        assert bits(var_c[i]) == bits(-mine[sv]), pid
        assert bits(es_c[i]) == bits(-float(exact(mine[s] for s in tail)) / ke), pid
        checked += 1
    assert checked == sum(1 for r in values if r["status"] == "OK") > 150
    # A book's positions add up to the book: the terms of its exact sums.
    books = {c["book"]: c for c in res.scenario_contributions()}
    book_of = {r["position"]: r["book"] for r in values}
    for book in sample.books:
        ids = [i for i, r in enumerate(values) if book_of[r["position"]] == book
               and r["status"] == "OK"]
        assert bits(float(exact(var_c[i] for i in ids))) == \
            bits(books[book]["var_contribution"]), book
        es_sum = exact(pnl[values[i]["position"]][s] for i in ids for s in tail)
        assert bits(-float(es_sum) / ke) == bits(books[book]["es_contribution"]), book


def test_contributions_need_scenario_var(portfolio):
    res = portfolio.run(measures=("parametric_var",))
    for fn in (res.scenario_contributions, res.position_contributions):
        with pytest.raises(rk.RiskError) as info:
            fn()
        assert info.value.code == rk.Status.NOT_FOUND
