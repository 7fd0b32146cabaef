"""test_errors.py - failures reach Python as RiskError carrying the C code: the Status table
against api/rk_status.h, file problems with file:line:col, bad arguments, unknown names,
missing scenarios, measures not computed, a busy request, closed objects."""
import os
import re
import shutil

import numpy as np
import pytest

from conftest import ROOT, SAMPLE, rk

S = rk.Status


def raises(code, fn, *args, **kw):
    with pytest.raises(rk.RiskError) as info:
        fn(*args, **kw)
    assert info.value.code == code, str(info.value)
    return info.value


def test_status_table_matches_header():
    """The codes, read from the header's RK_STATUS_MAP in order, are the Status values."""
    text = open(os.path.join(ROOT, "api", "rk_status.h")).read()
    names = re.findall(r"^\s*X\((\w+),", text, re.M)
    assert names and [s.name for s in S] == names
    assert [int(s) for s in S] == list(range(len(names)))


def test_load_errors(tmp_path):
    e = raises(S.IO, rk.Dataset.load, str(tmp_path / "missing"))
    assert "missing: cannot open the data folder" in e.message
    data = tmp_path / "bad"
    shutil.copytree(SAMPLE, data)
    cov = (data / "covariance.csv").read_text().split("\n")
    cells = cov[2].split(",")
    cells[3] = "x1"
    cov[2] = ",".join(cells)
    (data / "covariance.csv").write_text("\n".join(cov))
    e = raises(S.INVALID_INPUT, rk.Dataset.load, str(data))
    assert re.match(r"covariance\.csv:3:4: ", e.message), e.message


def test_engine_errors():
    raises(S.BAD_ARGUMENT, rk.Engine, tile_target_us=-1)
    raises(S.BAD_ARGUMENT, rk.Engine, isa="sse9")


def test_market_update_errors(portfolio):
    raises(S.NOT_FOUND, portfolio.set_value, "NO_SUCH_UNDERLYING", 1.0)
    raises(S.NOT_FOUND, portfolio.set_value, 10**6, 1.0)
    raises(S.BAD_ARGUMENT, portfolio.set_value, "FX_EURUSD", -1.0)
    raises(S.BAD_ARGUMENT, portfolio.set_value, "FX_EURUSD", float("nan"))
    nf = len(portfolio.dataset.factors)
    raises(S.INVALID_INPUT, portfolio.set_covariance, -np.eye(nf))
    raises(S.BAD_ARGUMENT, portfolio.set_covariance, np.eye(nf + 1))
    assert portfolio.market_version == 1  # nothing was published


def test_request_option_errors(portfolio):
    raises(S.BAD_ARGUMENT, portfolio.run, bump=-1e-4)
    raises(S.BAD_ARGUMENT, portfolio.run, confidence=1.5)
    raises(S.BAD_ARGUMENT, portfolio.run, horizon=0)
    raises(S.BAD_ARGUMENT, portfolio.run, measures=("scenario_var",), scenarios=0)
    raises(S.BAD_ARGUMENT, portfolio.run, measures=())
    raises(S.BAD_ARGUMENT, portfolio.run, measures=("greeks",))


def test_no_scenarios_file(tmp_path, engine):
    data = tmp_path / "noscen"
    shutil.copytree(SAMPLE, data)
    os.remove(data / "scenarios.csv")
    with rk.Dataset.load(str(data)) as ds, engine.portfolio(ds) as pf:
        assert ds.scenarios == []
        raises(S.NOT_FOUND, pf.run, measures=("stress",))
        raises(S.NOT_FOUND, pf.run, measures=("scenario_var",), method="historical")


def test_measure_not_computed(portfolio):
    res = portfolio.run(measures=("values",))
    raises(S.NOT_FOUND, lambda: res.delta)
    raises(S.NOT_FOUND, res.parametric_var)
    raises(S.NOT_FOUND, res.scenario_var)
    raises(S.NOT_FOUND, res.stress)
    raises(S.NOT_FOUND, lambda: res.scenario_pnl)


def test_request_state_errors(portfolio):
    req = portfolio.request(measures=("scenario_var",), scenarios=1_000_000)
    raises(S.NOT_FOUND, req.take_result)          # never submitted
    raises(S.BAD_ARGUMENT, req.wait)              # never submitted
    req.submit()
    raises(S.BUSY, req.submit)
    req.cancel()
    assert req.wait().status == "CANCELLED"
    raises(S.NOT_FOUND, req.take_result)          # already taken
    req.close()
    raises(S.BAD_ARGUMENT, req.submit)            # closed


def test_close_cascades(engine, sample):
    pf = engine.portfolio(sample)
    req = pf.request(measures=("values",))
    res = req.run()
    pf.close()
    for fn in (lambda: res.values, req.submit, pf.run):
        raises(S.BAD_ARGUMENT, fn)
