"""test_layout.py - the ctypes structures mirror the C structs of api/riskengine.h field by field:
the same members in the same order (read from the header), and the offset, size and kind
(integer signed or unsigned, floating, pointer, bool) of each as the C compiler lays them out;
then the engine's counters and per-worker figures as the library fills them, against what is
known of them (counts of requests and tiles, the nodes of a synthetic topology, a worker inside a
tile with its stall budget)."""
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import ROOT, rk
from riskengine import _lib

HEADER = os.path.join(ROOT, "api", "riskengine.h")
STRUCTS = {
    "rk_engine_config": _lib.EngineConfig,
    "rk_engine_stats": _lib.EngineStats,
    "rk_worker_stats": _lib.WorkerStats,
    "rk_position": _lib.Position,
    "rk_error_info": _lib.ErrorInfo,
    "rk_coverage": _lib.Coverage,
    "rk_timings": _lib.Timings,
}


def header_members(name, types=False):
    """Member names of `typedef struct name { ... } name;`, in order (with types: (type,
    name) pairs)."""
    text = open(HEADER).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    body = re.search(r"typedef struct %s \{(.*?)\} %s;" % (name, name), text, re.S)
    assert body, name
    names = []
    for decl in body.group(1).split(";"):
        if decl.strip():
            # "uint64_t tiles, tiles_ok": every declarator's name, the type before the first
            parts = decl.split(",")
            ctype = re.sub(r"\w+\s*$", "", parts[0]).strip()
            names += [(ctype, re.search(r"(\w+)\s*$", p).group(1)) for p in parts]
    return names if types else [n for _, n in names]


def ctypes_kind(ctype):
    if ctype is _lib.ctypes.c_bool:
        return "b"
    if ctype in (_lib.ctypes.c_char_p, _lib.ctypes.c_void_p):
        return "p"
    if ctype in (_lib.ctypes.c_double, _lib.ctypes.c_float):
        return "f"
    return "s" if ctype(-1).value < 0 else "u"


def compiler():
    cc = os.environ.get("CC", "cc")
    return shutil.which(cc)


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_members_follow_the_header(name):
    assert [f for f, _ in STRUCTS[name]._fields_] == header_members(name)


def test_offsets_sizes_and_kinds_are_the_compilers(tmp_path):
    cc = compiler()
    if cc is None:
        pytest.skip("no C compiler")
    lines = []
    for name, cls in STRUCTS.items():
        lines.append('printf("%s - %%zu - -\\n", sizeof(%s));' % (name, name))
        for field, _ in cls._fields_:
            lines.append('printf("%s %s %%zu %%zu %%c\\n", offsetof(%s, %s), '
                         'sizeof(((%s *)0)->%s), KIND(((%s *)0)->%s));'
                         % (name, field, name, field, name, field, name, field))
    src = tmp_path / "layout.c"
    src.write_text(
        "#include <stddef.h>\n#include <stdio.h>\n#include \"riskengine.h\"\n"
        "#define KIND(x) _Generic((x), const char *: 'p', char *: 'p', double: 'f', "
        "float: 'f', _Bool: 'b', default: (__typeof__(x))-1 < 0 ? 's' : 'u')\n"
        "int main(void) {\n" + "\n".join(lines) + "\nreturn 0;\n}\n")
    exe = tmp_path / "layout"
    # The sanitizer run preloads its run time into this interpreter; not into the compiler.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    proc = subprocess.run([cc, "-std=gnu11", "-I", os.path.join(ROOT, "api"), "-o", str(exe),
                           str(src)], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, env=env, check=True).stdout
    c = {}
    for line in out.splitlines():
        name, field, off, size, kind = line.split()
        c[(name, field)] = (off, size, kind)
    for name, cls in STRUCTS.items():
        assert int(c[(name, "-")][0]) == _lib.ctypes.sizeof(cls), name
        enums = {f for t, f in header_members(name, True) if t in ("rk_status", "rk_isa")}
        for field, ctype in cls._fields_:
            got = (str(getattr(cls, field).offset), str(_lib.ctypes.sizeof(ctype)),
                   ctypes_kind(ctype))
            want = c[(name, field)]
            if field in enums:
                # an enum's signedness is the compiler's choice; ctypes reads it as c_int
                want, got = want[:2] + ("i",), got[:2] + ("i",)
            assert want == got, (name, field)


def test_engine_and_worker_stats_as_filled():
    """Two workers on a synthetic two-node machine, one request: the counters say so, and the
    workers' tiles add up to the engine's."""
    with rk.Engine(threads=2, topology="node:2 core:1 pu:1", no_pin=True) as eng, \
            rk.Dataset.load(os.path.join(ROOT, "data", "sample")) as ds, \
            eng.portfolio(ds) as pf:
        before = rk._core._LIB.rk_now_ns()
        res = pf.run(measures=("values", "grid", "parametric_var"))
        assert res.status == "OK"
        stats = eng.stats()
        assert stats["workers"] == 2
        assert stats["requests_submitted"] == stats["requests_completed"] == 1
        assert stats["requests_in_flight"] == stats["cancels"] == stats["deadline_misses"] == 0
        assert stats["stalls"] == stats["workers_stalled"] == 0
        ws = eng.worker_stats()
        assert [w["node"] for w in ws] == [0, 1]
        assert sum(w["tiles"] for w in ws) == stats["tiles_done"] > 0
        for w in ws:
            assert w["bound"] is False and w["stalled"] is False  # no_pin: nothing bound
            assert 0 <= w["steals"] <= w["tiles"]
            assert (w["busy_ns"] > 0) == (w["tiles"] > 0)
            assert w["tile_ns"] == w["tile_budget_ns"] == 0  # idle
            # a worker that ran tiles of the request beat since it was submitted
            since = before if w["tiles"] > 0 else 1
            assert since <= w["heartbeat_ns"] <= rk._core._LIB.rk_now_ns()
        s = _lib.WorkerStats()
        code = rk._core._LIB.rk_engine_worker_stats_get(eng._handle(), 2, _lib.ctypes.byref(s))
        assert code == rk.Status.NOT_FOUND  # workers 0 and 1 only


def test_worker_inside_a_tile():
    """While a long request runs, a worker is seen inside a tile: tile_ns > 0 with a stall
    budget of at least 1 ms (api/riskengine.h), and a heartbeat no later than now."""
    with rk.Engine(threads=2, no_pin=True) as eng, \
            rk.Dataset.load(os.path.join(ROOT, "data", "sample")) as ds, \
            eng.portfolio(ds) as pf:
        req = pf.submit(measures=("scenario_var",), scenarios=1_000_000)
        seen, end = None, time.monotonic() + 10
        try:
            while seen is None and time.monotonic() < end:
                for w in eng.worker_stats():
                    if w["tile_ns"] > 0:
                        seen = w
                        break
        finally:
            req.cancel()
            req.wait()
            req.close()
        assert seen is not None, "no worker seen inside a tile"
        assert seen["tile_budget_ns"] >= 1_000_000
        assert seen["stalled"] == (seen["tile_ns"] > seen["tile_budget_ns"])
        assert 0 < seen["heartbeat_ns"] <= rk._core._LIB.rk_now_ns()
