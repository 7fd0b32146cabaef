"""installed_check.py - run by `make install-check` from outside the tree: the installed
package imports from PYDIR and loads the installed library from LIBDIR (not a build folder's),
and computes on DATA.
Usage: installed_check.py PYDIR LIBDIR DATA"""
import os
import sys

pydir, libdir, data = sys.argv[1:4]
import riskengine as rk  # noqa: E402  (PYTHONPATH is the installed copy's folder)

assert os.path.dirname(os.path.dirname(os.path.abspath(rk.__file__))) == os.path.abspath(pydir), \
    rk.__file__
assert rk.LIBRARY_PATH == os.path.join(libdir, "libriskengine.so.0"), rk.LIBRARY_PATH
with open("/proc/self/maps") as f:
    mapped = {line.split()[-1] for line in f if "libriskengine" in line}
assert mapped == {os.path.realpath(os.path.join(libdir, "libriskengine.so.0.1.0"))}, mapped
with rk.Engine(threads=1) as eng, rk.Dataset.load(data) as ds, eng.portfolio(ds) as pf:
    res = pf.run(measures=("values",))
    assert res.status == "OK" and len(res.values) == len(ds.positions)
print("install-check: the installed Python package %s loads %s (%d values)"
      % (rk.version(), rk.LIBRARY_PATH, len(res.values)))
