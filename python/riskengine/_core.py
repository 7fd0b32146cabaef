"""_core.py - the Python objects over the C handles: Engine, Dataset, Portfolio, Request, Result,
WhatIf (and WhatIfAnswer, a copy of a what-if's answers).

Each object owns one C handle and frees it in close() (also on garbage collection, and when used
as a context manager). The C rule "destroy children first" is kept by references and by
cascading: a portfolio holds its engine and data set, a request and a result hold their
portfolio, and closing a parent first closes what still lives on it, so no sequence of Python
calls can free a handle that another still uses. A closed object raises RiskError(BAD_ARGUMENT).
"""
import ctypes
import enum
import math
import re
import threading
import time
import weakref

import numpy as np

from . import _lib

_LIB, LIBRARY_PATH = _lib.load()

NONE_INDEX = ctypes.c_size_t(-1).value  # RK_NONE
DEADLINE_NONE = 2**63 - 1               # RK_DEADLINE_NONE
_MSGLEN = 1024


def _status_table():
    names = []
    while True:
        name = _LIB.rk_status_name(len(names)).decode()
        if name == "UNKNOWN":
            return names
        names.append(name)


# The codes of rk_status.h, read from the library itself so that they cannot drift.
Status = enum.IntEnum("Status", [(n, i) for i, n in enumerate(_status_table())])

MEASURES = {"values": 1 << 0, "grid": 1 << 1, "parametric_var": 1 << 2,
            "scenario_var": 1 << 3, "stress": 1 << 4}
ISAS = {"auto": 0, "baseline": 1, "avx2": 2, "avx512": 3}


def status_name(code):
    return _LIB.rk_status_name(int(code)).decode()


class RiskError(Exception):
    """A call of the library failed: code is the rk_status (a Status, an int equal to the C
    code), message the library's one-line reason (file:line:col for file problems) or, when it
    gives none, the code's description; call names what was being done."""

    def __init__(self, code, message=None, call=None):
        self.code = Status(code)
        self.message = message or _LIB.rk_strerror(int(code)).decode()
        self.call = call
        super().__init__(self.code, self.message)

    def __str__(self):
        where = "%s: " % self.call if self.call else ""
        return "%s%s (%s)" % (where, self.message, self.code.name)


def _check(code, call, msg=None):
    if code != Status.OK:
        text = msg.value.decode(errors="replace") if msg is not None and msg.value else None
        raise RiskError(code, text, call)


def _measure_bits(measures):
    if isinstance(measures, str):
        measures = (measures,)
    bits = 0
    for m in measures:
        if m not in MEASURES:
            raise RiskError(Status.BAD_ARGUMENT, "unknown measure %r (known: %s)"
                            % (m, ", ".join(MEASURES)))
        bits |= MEASURES[m]
    return bits


def _deadline(deadline_ms):
    if deadline_ms is None:
        return DEADLINE_NONE
    return _LIB.rk_deadline_in(int(round(deadline_ms * 1e6)))


class _Handle:
    """One C handle, its destroy function, and the objects that must be closed before it."""

    _destroy = None

    def __init__(self, handle, parents=()):
        self._h = handle
        self._lock = threading.Lock()
        self._children = weakref.WeakSet()
        self._parents = parents
        for p in parents:
            with p._lock:  # several Python threads may open requests on one portfolio
                p._children.add(self)

    def _handle(self):
        h = self._h
        if h is None:
            raise RiskError(Status.BAD_ARGUMENT, "%s is closed" % type(self).__name__)
        return h

    def close(self):
        """Frees the C object (and first everything still open on it). Idempotent."""
        with self._lock:
            h, self._h = self._h, None
            children = list(self._children)
        if h is None:
            return
        for child in children:
            child.close()
        getattr(_LIB, self._destroy)(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class Engine(_Handle):
    """Worker threads pinned to the machine's cores (rk_engine)."""

    _destroy = "rk_engine_destroy"

    def __init__(self, threads=0, topology=None, no_pin=False, isa="auto", tile_target_us=0.0):
        if isa not in ISAS:
            raise RiskError(Status.BAD_ARGUMENT, "unknown isa %r (known: %s)"
                            % (isa, ", ".join(ISAS)))
        cfg = _lib.EngineConfig()
        _LIB.rk_engine_config_init(ctypes.byref(cfg))
        cfg.threads = int(threads)
        cfg.topology = topology.encode() if topology is not None else None
        cfg.no_pin = 1 if no_pin else 0
        cfg.tile_target_us = float(tile_target_us)
        cfg.isa = ISAS[isa]
        h = ctypes.c_void_p()
        msg = ctypes.create_string_buffer(_MSGLEN)
        _check(_LIB.rk_engine_create(ctypes.byref(cfg), ctypes.byref(h), msg, _MSGLEN),
               "engine", msg)
        super().__init__(h.value)

    @property
    def workers(self):
        return _LIB.rk_engine_workers(self._handle())

    @property
    def isa(self):
        return _LIB.rk_isa_name(_LIB.rk_engine_isa(self._handle())).decode()

    def stats(self):
        """The engine's counters (rk_engine_stats), stalls included, as a dict."""
        s = _lib.EngineStats()
        _check(_LIB.rk_engine_stats_get(self._handle(), ctypes.byref(s)), "engine stats")
        return {name: getattr(s, name) for name, _ in s._fields_}

    def worker_stats(self):
        """One dict per worker (rk_worker_stats): node, bound, tiles, steals, busy_ns,
        heartbeat_ns, tile_ns, tile_budget_ns, stalled. bound and stalled are bools."""
        h = self._handle()
        s = _lib.WorkerStats()
        out = []
        for k in range(_LIB.rk_engine_workers(h)):
            _check(_LIB.rk_engine_worker_stats_get(h, k, ctypes.byref(s)), "worker stats")
            d = {name: getattr(s, name) for name, _ in s._fields_}
            d["bound"] = bool(d["bound"])
            out.append(d)
        return out

    def portfolio(self, dataset):
        return Portfolio(self, dataset)


def _error_dict(info, ds):
    """An rk_error_info as a dict; indices become ids and names, RK_NONE becomes None."""
    pos = None if info.position == NONE_INDEX else _str(
        _LIB.rk_dataset_position_id(ds, info.position))
    fac = None if info.factor == NONE_INDEX else _str(_LIB.rk_dataset_factor_name(ds, info.factor))
    scen = None if info.scenario == NONE_INDEX else info.scenario
    measure = next((n for n, b in MEASURES.items() if b == info.measure), None)
    return {"position": pos, "factor": fac, "scenario": scen, "code": status_name(info.code),
            "message": _str(info.message), "measure": measure}


def _str(b):
    return None if b is None else b.decode()


class Dataset(_Handle):
    """Factors, covariance, underlyings and positions (rk_dataset)."""

    _destroy = "rk_dataset_destroy"

    @classmethod
    def load(cls, path):
        """Loads a folder of CSV files; RiskError (IO, INVALID_INPUT) with file:line:col."""
        h = ctypes.c_void_p()
        msg = ctypes.create_string_buffer(_MSGLEN)
        _check(_LIB.rk_dataset_load(str(path).encode(), ctypes.byref(h), msg, _MSGLEN),
               "load %s" % path, msg)
        return cls(h.value)

    def _names(count, name, doc):
        def get(self):
            h = self._handle()
            return [_str(getattr(_LIB, name)(h, i)) for i in range(getattr(_LIB, count)(h))]
        return property(get, doc=doc)

    factors = _names("rk_dataset_factors", "rk_dataset_factor_name", "Factor names, in order.")
    underlyings = _names("rk_dataset_underlyings", "rk_dataset_underlying_name",
                         "Underlying names, in order.")
    positions = _names("rk_dataset_positions", "rk_dataset_position_id", "Position ids, rows.")
    books = _names("rk_dataset_books", "rk_dataset_book_name", "Book names (no TOTAL).")
    scenarios = _names("rk_dataset_scenarios", "rk_dataset_scenario_name",
                       "Names of scenarios.csv's rows (historical and stress); [] without it.")
    del _names

    def underlying_index(self, name):
        """Index of an underlying given by name (or an index, returned as it is)."""
        if isinstance(name, (int, np.integer)):
            return int(name)
        idx = ctypes.c_size_t()
        code = _LIB.rk_dataset_find_underlying(self._handle(), name.encode(), ctypes.byref(idx))
        _check(code, "underlying %r" % name)
        return idx.value

    def underlying(self, name):
        """(kind, base value) of an underlying, kind "spot", "rate" or "vol"."""
        kind, value = ctypes.c_int(), ctypes.c_double()
        idx = self.underlying_index(name)
        _check(_LIB.rk_dataset_underlying(self._handle(), idx, ctypes.byref(kind),
                                          ctypes.byref(value)), "underlying %r" % name)
        return ("spot", "rate", "vol")[kind.value], value.value

    def errors(self):
        """Load and validation records, in file order."""
        h = self._handle()
        info = _lib.ErrorInfo()
        out = []
        for k in range(_LIB.rk_dataset_error_count(h)):
            _check(_LIB.rk_dataset_error(h, k, ctypes.byref(info)), "dataset error")
            out.append(_error_dict(info, h))
        return out


class Portfolio(_Handle):
    """A data set laid out for an engine, with its live market (rk_portfolio)."""

    _destroy = "rk_portfolio_destroy"

    def __init__(self, engine, dataset):
        h = ctypes.c_void_p()
        _check(_LIB.rk_portfolio_create(engine._handle(), dataset._handle(), ctypes.byref(h)),
               "portfolio")
        self.engine = engine
        self.dataset = dataset
        self._warm_lock = threading.Lock()
        self._warm_method = None
        super().__init__(h.value, (engine, dataset))

    @property
    def market_version(self):
        return _LIB.rk_portfolio_market_version(self._handle())

    def set_value(self, underlying, value):
        """Sets an underlying's live value (by name or index): a new market snapshot."""
        idx = self.dataset.underlying_index(underlying)
        _check(_LIB.rk_portfolio_set_value(self._handle(), idx, float(value)),
               "set_value %r" % (underlying,))

    def set_values(self, first, values):
        """Sets underlyings first, first+1, ... in one snapshot (all or nothing)."""
        a = np.ascontiguousarray(values, dtype=np.float64)
        idx = self.dataset.underlying_index(first)
        _check(_LIB.rk_portfolio_set_values(self._handle(), idx, a.size,
                                            a.ctypes.data_as(_lib._pd)), "set_values")

    def set_covariance(self, cov):
        a = np.ascontiguousarray(cov, dtype=np.float64)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise RiskError(Status.BAD_ARGUMENT, "covariance must be a square matrix")
        _check(_LIB.rk_portfolio_set_covariance(self._handle(), a.ctypes.data_as(_lib._pd),
                                                a.shape[0]), "set_covariance")

    def request(self, **options):
        """A reusable request with the given options (see Request)."""
        return Request(self, **options)

    def run(self, deadline_ms=None, **options):
        """Computes synchronously and returns the Result."""
        with Request(self, **options) as req:
            return req.run(deadline_ms)

    def submit(self, deadline_ms=None, **options):
        """Submits a new request and returns it at once; req.wait() gives the Result."""
        req = Request(self, **options)
        req.submit(deadline_ms)
        return req

    def warm(self, result):
        """Makes the what-if cache from a complete result of this portfolio (status OK) that
        computed parametric_var and/or scenario_var, on the market snapshot still current
        (RiskError(STALE) otherwise). The result stays usable."""
        if not isinstance(result, Result) or result.portfolio is not self:
            raise RiskError(Status.BAD_ARGUMENT, "warm: a result of this portfolio is needed")
        with self._warm_lock:
            _check(_LIB.rk_portfolio_warm(self._handle(), result._handle()), "warm")
            # The C cache does not say where its scenarios came from; the rows of a what-if
            # name the method as the program's whatif.csv does.
            self._warm_method = result.method

    @property
    def warm_version(self):
        """Market version of the what-if cache; 0 when there is none."""
        return _LIB.rk_portfolio_warm_version(self._handle())

    def whatif(self, positions=()):
        """A new what-if on this portfolio (a context manager), with `positions` added."""
        w = WhatIf(self)
        try:
            for p in positions:
                w.add(p)
        except BaseException:
            w.close()
            raise
        return w


class Request(_Handle):
    """What to compute (rk_request). Options, all optional:

    measures        names among values, grid, parametric_var, scenario_var, stress
                    (default values, grid, parametric_var, as the C API)
    bump, confidence, es_confidence, horizon      as rk_request_set_*
    method          "mc" (default) or "historical": the scenarios of scenario_var
    scenarios, seed Monte Carlo count (1000) and seed (1)
    reuse_unmoved   the grid's fast path (off)
    """

    _destroy = "rk_request_destroy"

    def __init__(self, portfolio, measures=("values", "grid", "parametric_var"), bump=None,
                 confidence=None, es_confidence=None, horizon=None, method="mc",
                 scenarios=1000, seed=1, reuse_unmoved=False):
        h = ctypes.c_void_p()
        _check(_LIB.rk_request_create(portfolio._handle(), ctypes.byref(h)), "request")
        super().__init__(h.value, (portfolio,))
        self.portfolio = portfolio
        self.method = method
        try:
            if method == "mc":
                _check(_LIB.rk_request_set_scenarios(h, int(scenarios), int(seed)), "scenarios")
            elif method == "historical":
                _check(_LIB.rk_request_set_historical(h), "historical scenarios")
            else:
                raise RiskError(Status.BAD_ARGUMENT,
                                "method %r: must be 'mc' or 'historical'" % (method,))
            _check(_LIB.rk_request_set_measures(h, _measure_bits(measures)), "measures")
            for name, v in (("bump", bump), ("confidence", confidence),
                            ("es_confidence", es_confidence), ("horizon", horizon)):
                if v is not None:
                    _check(getattr(_LIB, "rk_request_set_" + name)(h, float(v)), name)
            _check(_LIB.rk_request_set_reuse_unmoved(h, bool(reuse_unmoved)), "reuse_unmoved")
        except BaseException:
            self.close()
            raise

    def submit(self, deadline_ms=None):
        """Starts computing on the current market snapshot and returns at once."""
        _check(_LIB.rk_request_submit(self._handle(), _deadline(deadline_ms)), "submit")
        return self

    def cancel(self):
        """Stops a running request: what is not done is marked CANCELLED. Any thread."""
        _check(_LIB.rk_request_cancel(self._handle()), "cancel")

    @property
    def done(self):
        return bool(_LIB.rk_request_done(self._handle()))

    def wait(self, timeout=None):
        """Waits until the request is complete and returns its Result (RiskError(TIMEOUT) when
        `timeout` seconds pass first). The GIL is released while waiting; the wait is cut into
        slices so that Ctrl-C reaches Python, and then cancels the request."""
        h = self._handle()
        end = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                slice_s = 0.1 if end is None else max(0.0, min(0.1, end - time.monotonic()))
                code = _LIB.rk_request_wait(h, _LIB.rk_deadline_in(int(slice_s * 1e9)))
                if code == Status.OK:
                    break
                if code != Status.TIMEOUT or (end is not None and time.monotonic() >= end):
                    _check(code, "wait")
        except KeyboardInterrupt:
            _LIB.rk_request_cancel(h)
            _LIB.rk_request_wait(h, DEADLINE_NONE)
            raise
        return self.take_result()

    def take_result(self):
        r = ctypes.c_void_p()
        _check(_LIB.rk_request_take_result(self._handle(), ctypes.byref(r)), "take_result")
        return Result(r.value, self.portfolio, self.method)

    def run(self, deadline_ms=None):
        """Submit, wait and take the result."""
        self.submit(deadline_ms)
        return self.wait()


class Result(_Handle):
    """The numbers of one submission (rk_result). Arrays are read from the library on first
    use and kept; a cell that is not OK is NaN in the arrays and has its code in *_codes."""

    _destroy = "rk_result_destroy"

    def __init__(self, handle, portfolio, method="mc"):
        super().__init__(handle, (portfolio,))
        self.portfolio = portfolio
        self.method = method  # the scenario source of scenario_var: "mc" or "historical"
        self._ds = portfolio.dataset
        self._cache = {}

    def _cached(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    @property
    def status(self):
        """How the request ended: "OK", "DEADLINE", "CANCELLED", ..."""
        return status_name(_LIB.rk_result_status(self._handle()))

    @property
    def market_version(self):
        return _LIB.rk_result_market_version(self._handle())

    @property
    def measures(self):
        bits = _LIB.rk_result_measures(self._handle())
        return tuple(n for n, b in MEASURES.items() if bits & b)

    @property
    def positions(self):
        return self._cached("positions", lambda: self._ds.positions)

    @property
    def factors(self):
        return self._cached("factors", lambda: self._ds.factors)

    @property
    def books(self):
        """Book names, with "TOTAL" last (the index rk_result_books)."""
        return self._cached("books", lambda: self._ds.books + ["TOTAL"])

    def _values(self):
        h = self._handle()
        n = _LIB.rk_result_positions(h)
        vals = np.empty(n)
        codes = []
        v = ctypes.c_double()
        ref = ctypes.byref(v)
        for i in range(n):
            code = _LIB.rk_result_value(h, i, ref)
            if code == Status.NOT_FOUND:
                _check(code, "values")
            vals[i] = v.value
            codes.append(status_name(code))
        return vals, np.array(codes)

    def _part(reader, k, doc):
        """Part k of what the method `reader` reads, read once per result."""
        return property(lambda self: self._cached(reader, getattr(self, reader))[k], doc=doc)

    values = _part("_values", 0, "Base value per position, (positions,); NaN where not OK.")
    value_codes = _part("_values", 1, "Status name per position.")

    def _grid(self):
        h = self._handle()
        n, nf = _LIB.rk_result_positions(h), _LIB.rk_result_factors(h)
        delta, gamma = np.empty((n, nf)), np.empty((n, nf))
        codes = np.empty((n, nf), dtype=object)
        d, g = ctypes.c_double(), ctypes.c_double()
        rd, rg = ctypes.byref(d), ctypes.byref(g)
        names = {}
        for i in range(n):
            for j in range(nf):
                code = _LIB.rk_result_sensitivity(h, i, j, rd, rg)
                if code == Status.NOT_FOUND:
                    _check(code, "grid")
                delta[i, j], gamma[i, j] = d.value, g.value
                codes[i, j] = names.get(code) or names.setdefault(code, status_name(code))
        return delta, gamma, codes.astype(str)

    delta = _part("_grid", 0, "(positions, factors); NaN where not OK.")
    gamma = _part("_grid", 1, "(positions, factors); NaN where not OK.")
    sensitivity_codes = _part("_grid", 2, "(positions, factors) status names.")
    del _part

    @property
    def exposures(self):
        """(books + 1, factors): sums of OK deltas per book, TOTAL last."""
        def read():
            h = self._handle()
            nb, nf = _LIB.rk_result_books(h) + 1, _LIB.rk_result_factors(h)
            out = np.empty((nb, nf))
            e = ctypes.c_double()
            for b in range(nb):
                for j in range(nf):
                    _check(_LIB.rk_result_exposure(h, b, j, ctypes.byref(e)), "exposures")
                    out[b, j] = e.value
            return out
        return self._cached("exposures", read)

    def coverage(self, measure):
        """Per book (TOTAL last): dicts book, cells_requested, cells_ok, coverage."""
        h = self._handle()
        bit = _measure_bits(measure)
        c = _lib.Coverage()
        out = []
        for b, book in enumerate(self.books):
            _check(_LIB.rk_result_coverage(h, bit, b, ctypes.byref(c)), "coverage %s" % measure)
            out.append({"book": book, "cells_requested": c.cells_requested,
                        "cells_ok": c.cells_ok, "coverage": c.coverage})
        return out

    def parametric_var(self):
        """Per book (TOTAL last): dicts book, var, contribution, coverage (of the grid)."""
        h = self._handle()
        v, c = ctypes.c_double(), ctypes.c_double()
        cov = self.coverage("grid")
        out = []
        for b, book in enumerate(self.books):
            _check(_LIB.rk_result_parametric_var(h, b, ctypes.byref(v), ctypes.byref(c)),
                   "parametric_var")
            out.append({"book": book, "var": v.value, "contribution": c.value,
                        "coverage": cov[b]["coverage"]})
        return out

    def scenario_count(self, measure="scenario_var"):
        return _LIB.rk_result_scenarios(self._handle(), _measure_bits(measure))

    def scenario_var(self):
        """Per book (TOTAL last): dicts book, scenarios, var, es, coverage (positive losses) and
        contribution, the book's Euler contribution to the TOTAL's VaR (var.csv's columns)."""
        h = self._handle()
        v, e = ctypes.c_double(), ctypes.c_double()
        cov = self.coverage("scenario_var")
        contrib = self.scenario_contributions()
        s = self.scenario_count()
        out = []
        for b, book in enumerate(self.books):
            _check(_LIB.rk_result_scenario_var(h, b, ctypes.byref(v), ctypes.byref(e)),
                   "scenario_var")
            out.append({"book": book, "scenarios": s, "var": v.value, "es": e.value,
                        "coverage": cov[b]["coverage"],
                        "contribution": contrib[b]["var_contribution"]})
        return out

    def scenario_contributions(self):
        """Per book (TOTAL last), of the scenario VaR set: dicts book, var_contribution (the
        book's loss in the TOTAL's VaR scenario), es_contribution (its mean loss over the
        TOTAL's ES tail), incremental_var (the TOTAL's VaR minus the TOTAL's without the
        book)."""
        h = self._handle()
        v, e, i = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        out = []
        for b, book in enumerate(self.books):
            _check(_LIB.rk_result_scenario_contribution(h, b, ctypes.byref(v), ctypes.byref(e),
                                                        ctypes.byref(i)), "scenario_contribution")
            out.append({"book": book, "var_contribution": v.value, "es_contribution": e.value,
                        "incremental_var": i.value})
        return out

    def position_contributions(self):
        """Per position, the Euler contributions to the TOTAL's scenario VaR and ES: a dict of
        two float64 arrays (positions,), var_contribution and es_contribution; NaN where the
        base value is not OK. The library revalues every position in the tail scenarios for
        this (with the GIL released), so it is computed once per result and kept."""
        def read():
            h = self._handle()
            n = _LIB.rk_result_positions(h)
            var, es = np.empty(n), np.empty(n)
            _check(_LIB.rk_result_position_contributions(h, var.ctypes.data_as(_lib._pd),
                                                         es.ctypes.data_as(_lib._pd), n),
                   "position_contributions")
            var.flags.writeable = es.flags.writeable = False
            return {"var_contribution": var, "es_contribution": es}
        return self._cached("position_contributions", read)

    def pnl(self, book="TOTAL", first=0, count=None):
        """P&L of one book (name or index) in scenarios [first, first + count) of the scenario
        VaR set (count None: to the end): one library call per scenario, so a slice of a large
        set costs only its length."""
        h = self._handle()
        b = self.books.index(book) if isinstance(book, str) else int(book)
        ns = self.scenario_count()
        if not ns:
            _check(Status.NOT_FOUND, "scenario_pnl")
        last = ns if count is None else min(ns, first + count)
        out = np.empty(max(0, last - first))
        p = ctypes.c_double()
        rp = ctypes.byref(p)
        for k, s in enumerate(range(first, last)):
            _check(_LIB.rk_result_scenario_pnl(h, b, s, rp), "scenario_pnl")
            out[k] = p.value
        return out

    @property
    def scenario_pnl(self):
        """(books + 1, scenarios): P&L per book and scenario of the scenario VaR set."""
        return self._cached("scenario_pnl",
                            lambda: np.stack([self.pnl(b) for b in range(len(self.books))]))

    def stress(self):
        """Per scenario of scenarios.csv and book (TOTAL last): dicts scenario, book, pnl,
        coverage."""
        h = self._handle()
        ns = self.scenario_count("stress")
        if not ns:
            _check(Status.NOT_FOUND, "stress")
        names = self._ds.scenarios
        p, c = ctypes.c_double(), _lib.Coverage()
        out = []
        for s in range(ns):
            for b, book in enumerate(self.books):
                _check(_LIB.rk_result_stress(h, s, b, ctypes.byref(p), ctypes.byref(c)),
                       "stress")
                out.append({"scenario": names[s], "book": book, "pnl": p.value,
                            "coverage": c.coverage})
        return out

    def errors(self):
        """The result's error records (rk_result_next_error): dicts position, factor,
        scenario, code, message, measure."""
        h = self._handle()
        ds = self._ds._handle()
        cursor = ctypes.c_size_t(0)
        info = _lib.ErrorInfo()
        out = []
        while _LIB.rk_result_next_error(h, ctypes.byref(cursor), ctypes.byref(info)):
            out.append(_error_dict(info, ds))
        return out

    def timings(self):
        t = _lib.Timings()
        _check(_LIB.rk_result_timings(self._handle(), ctypes.byref(t)), "timings")
        return {name: getattr(t, name) for name, _ in t._fields_}

    def to_frame(self, what="values"):
        """A pandas DataFrame of "values", "sensitivities", "exposures", "parametric_var",
        "scenario_var", "scenario_contributions", "stress" or "errors". pandas is optional:
        without it this raises ImportError and the arrays and lists above are the way in."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Result.to_frame needs pandas, which is not installed (Debian: "
                              "apt-get install python3-pandas); the same numbers are in the "
                              "result's numpy arrays and lists") from e
        if what == "values":
            return pd.DataFrame({"position": self.positions, "value": self.values,
                                 "status": self.value_codes})
        if what == "sensitivities":
            n, nf = self.delta.shape
            return pd.DataFrame({"position": np.repeat(self.positions, nf),
                                 "factor": np.tile(self.factors, n),
                                 "delta": self.delta.ravel(), "gamma": self.gamma.ravel(),
                                 "status": self.sensitivity_codes.ravel()})
        if what == "exposures":
            return pd.DataFrame(self.exposures, index=self.books, columns=self.factors)
        rows = {"parametric_var": self.parametric_var, "scenario_var": self.scenario_var,
                "scenario_contributions": self.scenario_contributions,
                "stress": self.stress, "errors": self.errors}.get(what)
        if rows is None:
            raise ValueError("to_frame: unknown table %r" % (what,))
        return pd.DataFrame(rows())


# ---- pre-trade what-if ----

# positions.csv's columns: text, numbers, the references that may be a name or a literal.
_TEXT = ("position", "book", "instrument", "underlying")
_NUMBERS = ("quantity", "strike", "expiry", "dividend", "coupon", "frequency")
_REFS = ("rate", "vol")
COLUMNS = _TEXT[:3] + ("quantity", "underlying", "strike", "expiry", "rate", "vol", "dividend",
                       "coupon", "frequency", "steps")
# The loader's number grammar (data/csv.c): no nan, inf, hex, blanks or digit separators, which
# Python's float() would accept.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")


def _empty(v):
    return v is None or (isinstance(v, str) and v == "")


def _number(column, v):
    """A cell as positions.csv's loader reads it: a Python number as it is, or text in the
    loader's grammar; None or "" for an empty cell."""
    if isinstance(v, str):
        if _NUMBER.match(v) and math.isfinite(float(v)):
            return float(v)
        raise RiskError(Status.BAD_ARGUMENT, "column %s: %r is not a finite number" % (column, v))
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise RiskError(Status.BAD_ARGUMENT, "column %s: %r is not a number" % (column, v))
    return float(v)


def _position(fields, keep):
    """An rk_position from a dict of positions.csv columns (values as text or numbers); the
    encoded strings go into `keep`, which must outlive the call that reads the structure."""
    unknown = set(fields) - set(COLUMNS)
    if unknown:
        raise RiskError(Status.BAD_ARGUMENT, "unknown column(s) %s (positions.csv's: %s)"
                        % (", ".join(sorted(unknown)), ", ".join(COLUMNS)))
    if _empty(fields.get("position")):
        raise RiskError(Status.BAD_ARGUMENT, "a candidate needs a position id")
    p = _lib.Position()
    _LIB.rk_position_init(ctypes.byref(p))  # NaN numbers, 0 dividend and coupon, NULL names

    def text(v):
        b = str(v).encode()
        keep.append(b)
        return b

    for c in _TEXT:
        if not _empty(fields.get(c)):
            setattr(p, "id" if c == "position" else c, text(fields[c]))
    for c in _NUMBERS:
        if not _empty(fields.get(c)):
            setattr(p, c, _number(c, fields[c]))
    for c in _REFS:
        v = fields.get(c)
        if _empty(v):
            continue
        if isinstance(v, str) and not _NUMBER.match(v):
            setattr(p, c, text(v))  # an underlying's name
        else:
            setattr(p, c + "_literal", _number(c, v))
    steps = fields.get("steps")
    if not _empty(steps):
        n = _number("steps", steps)
        if n != int(n) or not 0 <= n < 2**32 or (isinstance(steps, str) and not steps.isdigit()):
            raise RiskError(Status.BAD_ARGUMENT, "column steps: %r is not a count" % (steps,))
        p.steps = int(n)
    return p


class WhatIf(_Handle):
    """Candidate positions and their effect on each book's VaR/ES, against the portfolio's warm
    cache (rk_whatif). Calls on one WhatIf are serialised (the C object has one owner); use
    one WhatIf per thread to run what-ifs concurrently."""

    _destroy = "rk_whatif_destroy"

    def __init__(self, portfolio):
        self._op = threading.Lock()
        h = ctypes.c_void_p()
        _check(_LIB.rk_whatif_create(portfolio._handle(), ctypes.byref(h)), "whatif")
        super().__init__(h.value, (portfolio,))
        self.portfolio = portfolio
        self._added = []  # (position, book) per stored candidate: the C API keeps no getter

    def close(self):
        with self._op:  # not while another thread is inside run or add
            super().close()

    def add(self, row=None, /, **columns):
        """Adds a candidate given as positions.csv's columns (position, book, instrument,
        quantity, underlying, strike, expiry, rate, vol, dividend, coupon, frequency, steps):
        a dict such as a csv.DictReader row, and/or keyword arguments; text or numbers; rate
        and vol a name or a number. The library validates it as the loader validates a row:
        returns "OK" or "INVALID_INPUT" (it is then left out, and trades() gives the message).
        RiskError(BAD_ARGUMENT) when it is not stored: no id, an id the portfolio or another
        candidate holds, an unknown column, text that is not a number where one is needed."""
        fields = dict(row or {}, **columns)
        keep = []
        p = _position(fields, keep)
        with self._op:
            code = _LIB.rk_whatif_add(self._handle(), ctypes.byref(p), None)
            if code in (Status.OK, Status.INVALID_INPUT):
                book = fields.get("book")
                self._added.append((str(fields["position"]), "" if _empty(book) else str(book)))
        if code == Status.BAD_ARGUMENT:
            raise RiskError(code, "position id %r is the portfolio's or another candidate's"
                            % (fields["position"],), "whatif add")
        if code not in (Status.OK, Status.INVALID_INPUT):
            _check(code, "whatif add %s" % fields["position"])
        return status_name(code)

    def clear(self):
        """Removes every candidate."""
        with self._op:
            _check(_LIB.rk_whatif_clear(self._handle()), "whatif clear")
            self._added = []

    def __len__(self):
        """Candidates added since the last clear."""
        return _LIB.rk_whatif_trades(self._handle())

    def run(self, refresh=False):
        """Evaluates the candidates against the warm cache and returns a WhatIfAnswer.
        RiskError(NOT_FOUND) without a cache (Portfolio.warm); RiskError(STALE) when the market
        moved since the cache's snapshot, unless refresh=True, which first recomputes the
        cache with its settings on the current market. The GIL is released while the library
        computes."""
        with self._op:
            h = self._handle()
            _check(_LIB.rk_whatif_run(h, _lib.WHATIF_REFRESH if refresh else 0), "whatif run")
            return WhatIfAnswer(h, self.portfolio._warm_method, self._added)


class WhatIfAnswer:
    """The answers of one what-if run, copied out of the library (they stay valid whatever the
    what-if does next). Per book, TOTAL last (the portfolio's books, then new ones):

    books                       names
    market_version              of the cache the run used
    parametric                  None, or a dict of float64 arrays var_before, var_after,
                                var_change, contribution_after (Euler, to the TOTAL after)
    scenario                    None, or a dict of float64 arrays var_before, var_after,
                                var_change, es_before, es_after, es_change
    method                      the scenario source, "mc" or "historical" (None: unknown)
    rows()                      whatif.csv's rows; trades() trades.csv's rows
    """

    def __init__(self, h, method, added):
        self.market_version = _LIB.rk_whatif_market_version(h)
        nb = _LIB.rk_whatif_books(h)
        self.books = [_str(_LIB.rk_whatif_book_name(h, b)) for b in range(nb + 1)]
        self.method = method
        d = [ctypes.c_double() for _ in range(4)]
        refs = [ctypes.byref(x) for x in d]

        def table(fn, names):
            out = {n: np.empty(nb + 1) for n in names}
            for b in range(nb + 1):
                code = fn(h, b, *refs[:len(names)])
                if code == Status.NOT_FOUND:
                    return None  # the cache has no such measure
                _check(code, "whatif answers")
                for n, x in zip(names, d):
                    out[n][b] = x.value
            return out

        pv = table(_LIB.rk_whatif_parametric_var, ("var_before", "var_after", "contribution_after"))
        if pv is not None:
            pv["var_change"] = pv["var_after"] - pv["var_before"]
        sv = table(_LIB.rk_whatif_scenario_var, ("var_before", "var_after", "es_before",
                                                 "es_after"))
        if sv is not None:
            sv["var_change"] = sv["var_after"] - sv["var_before"]
            sv["es_change"] = sv["es_after"] - sv["es_before"]
        self.parametric, self.scenario = pv, sv
        v, m = ctypes.c_double(), ctypes.c_char_p()
        self._trades = []
        for k in range(_LIB.rk_whatif_trades(h)):
            code = _LIB.rk_whatif_trade(h, k, ctypes.byref(v), ctypes.byref(m))
            if code in (Status.BAD_ARGUMENT, Status.NOT_FOUND):
                _check(code, "whatif trade")
            self._trades.append({"position": added[k][0], "book": added[k][1],
                                 "value": v.value, "status": status_name(code),
                                 "message": _str(m.value)})

    def rows(self):
        """whatif.csv's rows: dicts book, method, var_before, var_after, var_change, es_before,
        es_after, es_change (es_* None for parametric); parametric rows first when the cache has
        both measures."""
        out = []
        for method, t in (("parametric", self.parametric), (self.method, self.scenario)):
            if t is None:
                continue
            for b, book in enumerate(self.books):
                row = {"book": book, "method": method}
                for k in ("var_before", "var_after", "var_change", "es_before", "es_after",
                          "es_change"):
                    row[k] = float(t[k][b]) if k in t else None
                out.append(row)
        return out

    def trades(self):
        """trades.csv's rows, one per candidate in the order added: dicts position, book,
        value (its base value in the cache's market; NaN unless OK), status ("OK",
        "INVALID_INPUT", "NUMERIC"), message (None when OK)."""
        return [dict(t) for t in self._trades]

    def to_frame(self, what="rows"):
        """rows() or trades() as a pandas DataFrame (pandas is optional, as for Result)."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("WhatIfAnswer.to_frame needs pandas, which is not installed") from e
        if what not in ("rows", "trades"):
            raise ValueError("to_frame: unknown table %r" % (what,))
        return pd.DataFrame(self.rows() if what == "rows" else self.trades())
