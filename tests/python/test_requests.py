"""test_requests.py - requests from Python: a deadline and a cancel give partial results with
the rest marked, four Python threads compute at once on one portfolio with the bits of a
sequential run, and the GIL is released while the engine computes."""
import threading
import time

import numpy as np

from conftest import bits, in_threads, rk

# Far more Monte Carlo work than any deadline below allows (200 positions x 1e6 scenarios).
LONG = dict(measures=("scenario_var",), scenarios=1_000_000)
# Slack for returning after a deadline or a cancel on a shared, noisy 2-core machine.
SLACK_S = 2.0


def total_coverage(res, measure):
    return res.coverage(measure)[-1]["coverage"]


def test_deadline(portfolio):
    t0 = time.monotonic()
    res = portfolio.run(deadline_ms=200, **LONG)
    elapsed = time.monotonic() - t0
    assert res.status == "DEADLINE"
    assert elapsed < 0.2 + SLACK_S
    cov = total_coverage(res, "scenario_var")
    assert 0 < cov < 1
    records = [e for e in res.errors() if e["code"] == "DEADLINE"]
    assert records and all(e["measure"] == "scenario_var" for e in records)
    # The scenarios that were computed have the numbers of an unhurried run (the deadline
    # decides which cells are present, never their values): the first block of 64.
    full = portfolio.run(measures=("scenario_var",), scenarios=64)
    assert res.pnl("TOTAL", 0, 64).tobytes() == full.pnl("TOTAL").tobytes()


def test_expired_deadline_marks_values(portfolio):
    res = portfolio.run(measures=("values",), deadline_ms=0)
    assert res.status == "DEADLINE"
    codes = set(res.value_codes.tolist())
    assert "DEADLINE" in codes and codes <= {"OK", "DEADLINE", "INVALID_INPUT"}
    assert np.isnan(res.values[res.value_codes == "DEADLINE"]).all()


def test_cancel_from_another_thread(portfolio):
    req = portfolio.submit(**LONG)
    canceller = threading.Timer(0.2, req.cancel)
    t0 = time.monotonic()
    canceller.start()
    res = req.wait()  # blocks in C, GIL released: the timer thread gets to cancel
    elapsed = time.monotonic() - t0
    canceller.join()
    assert res.status == "CANCELLED"
    assert elapsed < 0.2 + SLACK_S
    assert total_coverage(res, "scenario_var") < 1
    assert any(e["code"] == "CANCELLED" for e in res.errors())
    req.close()


def test_cancel_right_after_submit(portfolio):
    req = portfolio.submit(measures=("values",), deadline_ms=20)
    req.cancel()
    res = req.wait()
    assert res.status in ("OK", "CANCELLED")  # it may have finished before the cancel
    req.close()


def test_wait_timeout(portfolio):
    req = portfolio.submit(**LONG)
    try:
        err = None
        try:
            req.wait(timeout=0.05)
        except rk.RiskError as e:
            err = e
        assert err is not None and err.code == rk.Status.TIMEOUT
        assert not req.done
    finally:
        req.cancel()
        req.wait()
        req.close()


def snapshot(res):
    return [res.values.tobytes(), res.delta.tobytes(), res.gamma.tobytes(),
            res.scenario_pnl.tobytes(), [bits(r["var"]) + bits(r["es"]) for r in res.scenario_var()],
            [bits(r["var"]) for r in res.parametric_var()]]


def test_four_threads(portfolio):
    opts = dict(measures=("values", "grid", "parametric_var", "scenario_var"), scenarios=2000)
    reference = snapshot(portfolio.run(**opts))

    def worker():
        with portfolio.request(**opts) as req:
            return [snapshot(req.run()) for _ in range(3)]

    out, _ = in_threads(4, worker)
    assert len(out) == 12 and all(s == reference for s in out)
    stats = portfolio.engine.stats()
    assert stats["requests_in_flight"] == 0


def test_gil_released_while_computing(engine, sample):
    """A Python thread keeps running while another is inside a one-second computation: the
    longest pause between its loop's iterations stays far below the computation."""
    with engine.portfolio(sample) as pf:
        started, done = threading.Event(), threading.Event()
        result = {}

        def compute():
            started.set()
            result["res"] = pf.run(deadline_ms=1000, **LONG)
            done.set()

        t = threading.Thread(target=compute)
        t.start()
        started.wait()
        last, worst, t0 = time.monotonic(), 0.0, time.monotonic()
        while not done.is_set():
            now = time.monotonic()
            worst, last = max(worst, now - last), now
            time.sleep(0.001)
        t.join()
        assert time.monotonic() - t0 > 0.9  # it did compute for the deadline's length
        assert worst < 0.3, "the main thread was held for %.3f s" % worst
        assert result["res"].status == "DEADLINE"
        result["res"].close()
