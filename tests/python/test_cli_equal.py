"""test_cli_equal.py - every number the binding returns equals, bit for bit, what the riskengine
program writes for the same data set and settings: values, the grid, exposures, parametric VaR,
Monte Carlo and historical VaR/ES, stress, coverage and error messages; and a live-market update
equals a data set whose file holds the new value."""
import math
import shutil

import pytest

from conftest import SAMPLE, assert_same, run_cli

ALL = ("values", "grid", "parametric_var", "scenario_var", "stress")


def test_values_and_grid(tmp_path, portfolio, sample):
    cli = run_cli(tmp_path, "grid", "--data", SAMPLE)
    res = portfolio.run(measures=("values", "grid", "parametric_var"))
    assert res.status == "OK"
    assert res.positions == [r["position"] for r in cli["values"]]
    messages = {e["position"]: e["message"] for e in res.errors() if e["factor"] is None}
    for i, row in enumerate(cli["values"]):
        assert_same(row["value"], res.values[i], row["position"])
        assert res.value_codes[i] == row["status"]
        assert messages.get(row["position"], "") == row["message"]
    nf = len(res.factors)
    assert len(cli["sensitivities"]) == len(res.positions) * nf
    for k, row in enumerate(cli["sensitivities"]):
        i, j = divmod(k, nf)
        assert (res.positions[i], res.factors[j]) == (row["position"], row["factor"])
        assert_same(row["delta"], res.delta[i, j], "delta %d,%d" % (i, j))
        assert_same(row["gamma"], res.gamma[i, j], "gamma %d,%d" % (i, j))
        assert res.sensitivity_codes[i, j] == row["status"]
    coverage = {c["book"]: c["coverage"] for c in res.coverage("grid")}
    for row in cli["exposures"]:
        b, j = res.books.index(row["book"]), res.factors.index(row["factor"])
        assert_same(row["exposure"], res.exposures[b, j], "exposure")
        assert_same(row["coverage"], coverage[row["book"]], "coverage")
    pv = res.parametric_var()
    assert [r["book"] for r in pv] == [r["book"] for r in cli["var"]] and pv[-1]["book"] == "TOTAL"
    for mine, row in zip(pv, cli["var"]):
        assert row["method"] == "parametric"
        for key in ("var", "contribution", "coverage"):
            assert_same(row[key], mine[key], "%s %s" % (row["book"], key))


def check_scenario_var(cli_rows, res, method, scenarios):
    rows = res.scenario_var()
    assert [r["book"] for r in rows] == [r["book"] for r in cli_rows]
    for mine, row in zip(rows, cli_rows):
        assert row["method"] == method and int(row["scenarios"]) == scenarios == mine["scenarios"]
        for key in ("var", "es", "coverage"):
            assert_same(row[key], mine[key], "%s %s" % (row["book"], key))


@pytest.mark.parametrize("cli_args,options", [
    ((), {}),
    (("--scenarios", "300", "--seed", "7", "--confidence", "0.95", "--es-confidence", "0.9",
      "--horizon", "10"),
     dict(scenarios=300, seed=7, confidence=0.95, es_confidence=0.9, horizon=10)),
])
def test_monte_carlo(tmp_path, portfolio, cli_args, options):
    cli = run_cli(tmp_path, "var", "--method", "mc", "--data", SAMPLE, *cli_args)
    res = portfolio.run(measures=("scenario_var",), **options)
    assert res.status == "OK"
    n = options.get("scenarios", 1000)
    check_scenario_var(cli["var"], res, "mc", n)
    # The P&L the VaR is taken from: the k-th largest TOTAL loss, k = ceil(S (1 - alpha))
    # (contract §3), is the VaR the program printed.
    alpha = options.get("confidence", 0.99)
    k = max(1, math.ceil(round(n * (1 - alpha), 9)))
    losses = sorted((-res.scenario_pnl[-1]).tolist(), reverse=True)
    assert_same(cli["var"][-1]["var"], losses[k - 1], "TOTAL VaR from the P&L")


def test_historical(tmp_path, portfolio, sample):
    cli = run_cli(tmp_path, "var", "--method", "historical", "--data", SAMPLE)
    res = portfolio.run(measures=("scenario_var",), method="historical")
    check_scenario_var(cli["var"], res, "historical", len(sample.scenarios))


def test_stress(tmp_path, portfolio):
    cli = run_cli(tmp_path, "stress", "--data", SAMPLE)
    rows = portfolio.run(measures=("stress",)).stress()
    assert [(r["scenario"], r["book"]) for r in rows] == \
        [(r["scenario"], r["book"]) for r in cli["stress"]]
    for mine, row in zip(rows, cli["stress"]):
        assert_same(row["pnl"], mine["pnl"], "%s %s" % (row["scenario"], row["book"]))
        assert_same(row["coverage"], mine["coverage"], "coverage")


def test_every_measure_at_once_and_error_records(tmp_path, portfolio, sample):
    """One request with every measure gives the numbers of the separate commands, and the
    position-level records are errors.csv's."""
    cli = run_cli(tmp_path, "grid", "--data", SAMPLE)
    res = portfolio.run(measures=ALL)
    assert set(res.measures) == set(ALL)
    for i, row in enumerate(cli["values"]):
        assert_same(row["value"], res.values[i], row["position"])
    records = sample.errors() + [e for e in res.errors() if e["factor"] is None]
    mine = {(e["position"] or "", e["code"], e["message"]) for e in records}
    theirs = {(r["position"], r["code"], r["message"]) for r in cli["errors"]
              if r["factor"] == "" and r["scenario"] == ""}
    assert mine == theirs
    # data/sample/README.md: 21 records, 2 underlyings and 19 positions.
    assert len(sample.errors()) == 21
    assert sum(1 for e in sample.errors() if e["position"] is None) == 2


def test_live_market_equals_edited_file(tmp_path, portfolio):
    """set_value on the live market gives the bits of a data set whose underlyings.csv holds
    the new value (written as Python's shortest repr, which reads back to the same double)."""
    name, value = "EQ_TECHNOLOGY_00002", 61.37
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    path = data / "underlyings.csv"
    lines = path.read_text().split("\n")
    for k, line in enumerate(lines):
        cells = line.split(",")
        if cells[0] == name:
            cells[2] = repr(value)
            lines[k] = ",".join(cells)
    path.write_text("\n".join(lines))
    cli = run_cli(tmp_path / "out", "grid", "--data", str(data))
    assert portfolio.market_version == 1
    before = portfolio.run(measures=("values",)).values
    portfolio.set_value(name, value)
    assert portfolio.market_version == 2
    res = portfolio.run()
    assert res.market_version == 2
    # The update moved something (the test would otherwise prove nothing).
    assert (before != res.values).sum() > 0
    for i, row in enumerate(cli["values"]):
        assert_same(row["value"], res.values[i], row["position"])
    for mine, row in zip(res.parametric_var(), cli["var"]):
        assert_same(row["var"], mine["var"], row["book"])
