"""conftest.py - shared fixtures of the Python binding's tests: the package from the source tree
(python/), the library that `make test` names in RISKENGINE_LIBRARY (build/ otherwise), the
riskengine program ($RK_PROGRAM, as for the Check suites) and its CSV outputs read back."""
import csv
import os
import struct
import subprocess
import sys
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
SAMPLE = os.path.join(ROOT, "data", "sample")

import riskengine as rk  # noqa: E402  (after the path above)


def program():
    return os.path.join(ROOT, os.environ.get("RK_PROGRAM", "build/riskengine"))


def run_cli(out, *args):
    """Runs `riskengine ARGS --out OUT --quiet` and returns OUT's CSV files as lists of dicts."""
    cmd = [program(), *args, "--out", str(out), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, "%s: %s" % (" ".join(cmd), proc.stderr)
    files = {}
    for name in os.listdir(out):
        if name.endswith(".csv"):
            with open(os.path.join(out, name), newline="") as f:
                files[name[:-4]] = list(csv.DictReader(f))
    return files


def bits(x):
    return struct.pack("<d", x)


def assert_same(cli_field, value, what):
    """The CLI writes the shortest decimal that reads back to the same double (contract §5) and
    an empty field for a missing number: equal means the same 64 bits, NaN for empty."""
    if cli_field == "":
        assert value != value, "%s: CLI empty, binding %r" % (what, value)
    else:
        assert bits(float(cli_field)) == bits(value), \
            "%s: CLI %s, binding %s" % (what, cli_field, float.hex(value))


def in_threads(n, body, meanwhile=None):
    """Runs body() on n threads at once, and meanwhile() on this one, and returns the threads'
    results (a list each); an exception in a thread fails the test instead of being lost."""
    out, failures = [], []

    def run():
        try:
            out.extend(body())
        except Exception as e:
            failures.append(e)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    mine = meanwhile() if meanwhile is not None else None
    for t in threads:
        t.join()
    assert not failures, failures
    return out, mine


@pytest.fixture(scope="session")
def engine():
    with rk.Engine(threads=2, no_pin=True) as e:
        yield e


@pytest.fixture(scope="session")
def sample():
    with rk.Dataset.load(SAMPLE) as ds:
        yield ds


@pytest.fixture
def portfolio(engine, sample):
    with engine.portfolio(sample) as pf:
        yield pf
