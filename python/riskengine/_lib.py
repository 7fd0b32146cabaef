"""_lib.py - finds and loads libriskengine and declares the C API's signatures for ctypes.

Every function is called through a ctypes.CDLL, which releases the GIL for the duration of each
call: a Python thread waiting in rk_request_wait or computing in rk_request_run does not stop the
other Python threads. Nothing here computes; the numbers all come from the library.
"""
import ctypes
import os

# The library's soname: the ABI this binding was written against.
SONAME = "libriskengine.so.0"


class EngineConfig(ctypes.Structure):
    _fields_ = [("threads", ctypes.c_size_t), ("topology", ctypes.c_char_p),
                ("no_pin", ctypes.c_int), ("tile_target_us", ctypes.c_double),
                ("isa", ctypes.c_int)]


class ErrorInfo(ctypes.Structure):
    _fields_ = [("position", ctypes.c_size_t), ("factor", ctypes.c_size_t),
                ("scenario", ctypes.c_size_t), ("code", ctypes.c_int),
                ("message", ctypes.c_char_p), ("measure", ctypes.c_uint)]


class Coverage(ctypes.Structure):
    _fields_ = [("cells_requested", ctypes.c_uint64), ("cells_ok", ctypes.c_uint64),
                ("coverage", ctypes.c_double)]


class Timings(ctypes.Structure):
    _fields_ = [("submitted_ns", ctypes.c_int64), ("completed_ns", ctypes.c_int64),
                ("deadline_ns", ctypes.c_int64), ("overshoot_ns", ctypes.c_int64),
                ("values_ns", ctypes.c_int64), ("grid_ns", ctypes.c_int64),
                ("var_ns", ctypes.c_int64), ("tiles", ctypes.c_uint64),
                ("tiles_ok", ctypes.c_uint64), ("channel_max", ctypes.c_uint64),
                ("scenarios_ns", ctypes.c_int64)]


class EngineStats(ctypes.Structure):
    _fields_ = [("requests_submitted", ctypes.c_uint64), ("requests_completed", ctypes.c_uint64),
                ("requests_in_flight", ctypes.c_uint64), ("deadline_misses", ctypes.c_uint64),
                ("cancels", ctypes.c_uint64), ("tiles_done", ctypes.c_uint64),
                ("channel_max", ctypes.c_uint64), ("workers", ctypes.c_size_t),
                ("stalls", ctypes.c_uint64), ("workers_stalled", ctypes.c_uint64)]


class WorkerStats(ctypes.Structure):
    _fields_ = [("node", ctypes.c_uint), ("bound", ctypes.c_int), ("tiles", ctypes.c_uint64),
                ("steals", ctypes.c_uint64), ("busy_ns", ctypes.c_uint64),
                ("heartbeat_ns", ctypes.c_int64), ("tile_ns", ctypes.c_int64),
                ("tile_budget_ns", ctypes.c_int64), ("stalled", ctypes.c_bool)]


class Position(ctypes.Structure):
    _fields_ = [("id", ctypes.c_char_p), ("book", ctypes.c_char_p),
                ("instrument", ctypes.c_char_p), ("quantity", ctypes.c_double),
                ("underlying", ctypes.c_char_p), ("strike", ctypes.c_double),
                ("expiry", ctypes.c_double), ("rate", ctypes.c_char_p),
                ("rate_literal", ctypes.c_double), ("vol", ctypes.c_char_p),
                ("vol_literal", ctypes.c_double), ("dividend", ctypes.c_double),
                ("coupon", ctypes.c_double), ("frequency", ctypes.c_double),
                ("steps", ctypes.c_uint)]


_p = ctypes.c_void_p
_sz = ctypes.c_size_t
_st = ctypes.c_int
_d = ctypes.c_double
_pd = ctypes.POINTER(ctypes.c_double)
_psz = ctypes.POINTER(ctypes.c_size_t)
_s = ctypes.c_char_p

# name: (restype, argtypes); the order of the header.
_SIGNATURES = {
    "rk_version": (_s, []),
    "rk_status_name": (_s, [_st]),
    "rk_strerror": (_s, [_st]),
    "rk_now_ns": (ctypes.c_int64, []),
    "rk_deadline_in": (ctypes.c_int64, [ctypes.c_int64]),
    "rk_isa_name": (_s, [ctypes.c_int]),
    "rk_engine_config_init": (None, [ctypes.POINTER(EngineConfig)]),
    "rk_engine_create": (_st, [ctypes.POINTER(EngineConfig), ctypes.POINTER(_p), _s, _sz]),
    "rk_engine_destroy": (None, [_p]),
    "rk_engine_workers": (_sz, [_p]),
    "rk_engine_isa": (ctypes.c_int, [_p]),
    "rk_engine_stats_get": (_st, [_p, ctypes.POINTER(EngineStats)]),
    "rk_engine_worker_stats_get": (_st, [_p, _sz, ctypes.POINTER(WorkerStats)]),
    "rk_dataset_load": (_st, [_s, ctypes.POINTER(_p), _s, _sz]),
    "rk_dataset_destroy": (None, [_p]),
    "rk_dataset_factors": (_sz, [_p]),
    "rk_dataset_underlyings": (_sz, [_p]),
    "rk_dataset_positions": (_sz, [_p]),
    "rk_dataset_books": (_sz, [_p]),
    "rk_dataset_factor_name": (_s, [_p, _sz]),
    "rk_dataset_underlying_name": (_s, [_p, _sz]),
    "rk_dataset_position_id": (_s, [_p, _sz]),
    "rk_dataset_book_name": (_s, [_p, _sz]),
    "rk_dataset_underlying": (_st, [_p, _sz, ctypes.POINTER(ctypes.c_int), _pd]),
    "rk_dataset_find_underlying": (_st, [_p, _s, _psz]),
    "rk_dataset_error_count": (_sz, [_p]),
    "rk_dataset_error": (_st, [_p, _sz, ctypes.POINTER(ErrorInfo)]),
    "rk_dataset_scenarios": (_sz, [_p]),
    "rk_dataset_scenario_name": (_s, [_p, _sz]),
    "rk_portfolio_create": (_st, [_p, _p, ctypes.POINTER(_p)]),
    "rk_portfolio_destroy": (None, [_p]),
    "rk_portfolio_set_value": (_st, [_p, _sz, _d]),
    "rk_portfolio_set_values": (_st, [_p, _sz, _sz, _pd]),
    "rk_portfolio_set_covariance": (_st, [_p, _pd, _sz]),
    "rk_portfolio_market_version": (ctypes.c_uint64, [_p]),
    "rk_request_create": (_st, [_p, ctypes.POINTER(_p)]),
    "rk_request_destroy": (None, [_p]),
    "rk_request_set_measures": (_st, [_p, ctypes.c_uint]),
    "rk_request_set_bump": (_st, [_p, _d]),
    "rk_request_set_confidence": (_st, [_p, _d]),
    "rk_request_set_es_confidence": (_st, [_p, _d]),
    "rk_request_set_horizon": (_st, [_p, _d]),
    "rk_request_set_scenarios": (_st, [_p, _sz, ctypes.c_uint64]),
    "rk_request_set_historical": (_st, [_p]),
    "rk_request_set_reuse_unmoved": (_st, [_p, ctypes.c_bool]),
    "rk_request_submit": (_st, [_p, ctypes.c_int64]),
    "rk_request_wait": (_st, [_p, ctypes.c_int64]),
    "rk_request_cancel": (_st, [_p]),
    "rk_request_done": (ctypes.c_bool, [_p]),
    "rk_request_take_result": (_st, [_p, ctypes.POINTER(_p)]),
    "rk_result_destroy": (None, [_p]),
    "rk_result_status": (_st, [_p]),
    "rk_result_market_version": (ctypes.c_uint64, [_p]),
    "rk_result_measures": (ctypes.c_uint, [_p]),
    "rk_result_positions": (_sz, [_p]),
    "rk_result_factors": (_sz, [_p]),
    "rk_result_books": (_sz, [_p]),
    "rk_result_value": (_st, [_p, _sz, _pd]),
    "rk_result_sensitivity": (_st, [_p, _sz, _sz, _pd, _pd]),
    "rk_result_exposure": (_st, [_p, _sz, _sz, _pd]),
    "rk_result_parametric_var": (_st, [_p, _sz, _pd, _pd]),
    "rk_result_coverage": (_st, [_p, ctypes.c_uint, _sz, ctypes.POINTER(Coverage)]),
    "rk_result_scenarios": (_sz, [_p, ctypes.c_uint]),
    "rk_result_scenario_pnl": (_st, [_p, _sz, _sz, _pd]),
    "rk_result_scenario_var": (_st, [_p, _sz, _pd, _pd]),
    "rk_result_stress": (_st, [_p, _sz, _sz, _pd, ctypes.POINTER(Coverage)]),
    "rk_result_next_error": (ctypes.c_bool, [_p, _psz, ctypes.POINTER(ErrorInfo)]),
    "rk_result_scenario_contribution": (_st, [_p, _sz, _pd, _pd, _pd]),
    "rk_result_position_contributions": (_st, [_p, _pd, _pd, _sz]),
    "rk_result_timings": (_st, [_p, ctypes.POINTER(Timings)]),
    "rk_position_init": (None, [ctypes.POINTER(Position)]),
    "rk_portfolio_warm": (_st, [_p, _p]),
    "rk_portfolio_warm_version": (ctypes.c_uint64, [_p]),
    "rk_whatif_create": (_st, [_p, ctypes.POINTER(_p)]),
    "rk_whatif_destroy": (None, [_p]),
    "rk_whatif_clear": (_st, [_p]),
    "rk_whatif_add": (_st, [_p, ctypes.POINTER(Position), _psz]),
    "rk_whatif_run": (_st, [_p, ctypes.c_uint]),
    "rk_whatif_market_version": (ctypes.c_uint64, [_p]),
    "rk_whatif_books": (_sz, [_p]),
    "rk_whatif_book_name": (_s, [_p, _sz]),
    "rk_whatif_trades": (_sz, [_p]),
    "rk_whatif_trade": (_st, [_p, _sz, _pd, ctypes.POINTER(_s)]),
    "rk_whatif_parametric_var": (_st, [_p, _sz, _pd, _pd, _pd]),
    "rk_whatif_scenario_var": (_st, [_p, _sz, _pd, _pd, _pd, _pd]),
}

# rk_whatif_run's flag
WHATIF_REFRESH = 1


def _candidates():
    """Where the library is looked for, first match wins."""
    env = os.environ.get("RISKENGINE_LIBRARY")
    if env:
        # An explicit choice: no fallback that would hide a wrong path.
        return [env], True
    out = []
    try:
        from . import _installed  # written by `make install`: the installed library's path
        out.append(_installed.LIBRARY)
    except ImportError:
        # In the source tree: python/riskengine/ -> build/ at the repository root.
        here = os.path.dirname(os.path.abspath(__file__))
        out.append(os.path.join(os.path.dirname(os.path.dirname(here)), "build",
                                "libriskengine.so"))
    out.append(SONAME)  # the system's loader path (ldconfig, LD_LIBRARY_PATH)
    return out, False


def load():
    """Loads the library and declares its functions; returns (CDLL, path)."""
    paths, explicit = _candidates()
    errors = []
    for path in paths:
        if os.sep in path and not os.path.exists(path) and not explicit:
            errors.append("%s: not found" % path)
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            errors.append(str(e))
            continue
        for name, (res, args) in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.restype = res
            fn.argtypes = args
        return lib, path
    raise ImportError("riskengine: cannot load the library (set RISKENGINE_LIBRARY to its path, "
                      "or build it with `make`): " + "; ".join(errors))
