"""test_package.py - the package around the numbers: which library it loads (the build's, or
RISKENGINE_LIBRARY's), to_frame with and without pandas, the example script, context
managers."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT, SAMPLE, rk


def python(code, env_extra=None, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"), **(env_extra or {}))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=cwd)


def test_loads_the_named_library():
    lib = os.environ.get("RISKENGINE_LIBRARY")
    if lib:
        assert rk.LIBRARY_PATH == lib
    else:
        assert rk.LIBRARY_PATH == os.path.join(ROOT, "build", "libriskengine.so")
    assert rk.version() == "0.1.0"


def test_library_override_is_obeyed(tmp_path):
    """RISKENGINE_LIBRARY wins, and a wrong one fails the import instead of falling back."""
    proc = python("import riskengine", {"RISKENGINE_LIBRARY": str(tmp_path / "nope.so")})
    assert proc.returncode != 0 and "RISKENGINE_LIBRARY" in proc.stderr


def test_to_frame_without_pandas(portfolio, monkeypatch):
    res = portfolio.run(measures=("values",))
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(ImportError, match="needs pandas"):
        res.to_frame("values")


def test_to_frame_with_pandas(portfolio):
    pytest.importorskip("pandas")
    res = portfolio.run(measures=("values", "grid", "parametric_var"))
    df = res.to_frame("values")
    assert list(df["position"]) == res.positions
    assert df["value"].to_numpy().tobytes() == res.values.tobytes()
    assert len(res.to_frame("sensitivities")) == res.delta.size
    assert list(res.to_frame("parametric_var")["book"])[-1] == "TOTAL"


def test_example_script(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    script = os.path.join(ROOT, "python", "examples", "mc_pnl.py")
    proc = subprocess.run([sys.executable, script, SAMPLE, str(tmp_path / "p.png")],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("MACRO_LDN") and "TOTAL" in proc.stdout


def test_context_managers_free_in_order(sample):
    with rk.Engine(threads=1) as eng, eng.portfolio(sample) as pf:
        assert eng.workers == 1 and eng.isa in ("baseline", "avx2", "avx512")
        res = pf.run(measures=("values",))
        assert res.status == "OK"
    with pytest.raises(rk.RiskError):
        res.values  # freed with its portfolio
