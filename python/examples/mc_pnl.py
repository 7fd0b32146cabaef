"""mc_pnl.py - the Monte Carlo P&L distribution of a data set's portfolio, from Python.

Usage: python3 mc_pnl.py [DATA] [PNG]   (defaults: data/sample, mc_pnl.png)
Prints VaR/ES per book and a text histogram of the TOTAL P&L; writes the histogram as PNG too
when matplotlib is installed.
"""
import sys

import numpy as np

import riskengine as rk


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else "data/sample"
    png = sys.argv[2] if len(sys.argv) > 2 else "mc_pnl.png"
    with rk.Engine() as eng, rk.Dataset.load(data) as ds, eng.portfolio(ds) as pf:
        res = pf.run(measures=("scenario_var",), scenarios=5000, seed=1)
        for row in res.scenario_var():
            print("%-20s VaR %14.2f  ES %14.2f  coverage %.3f"
                  % (row["book"], row["var"], row["es"], row["coverage"]))
        pnl = res.pnl("TOTAL")
        var = res.scenario_var()[-1]["var"]
    counts, edges = np.histogram(pnl, bins=20)
    for c, lo in zip(counts, edges):
        print("%14.0f %s" % (lo, "#" * int(60 * c / counts.max())))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot")
        return
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.hist(pnl, bins=60)
    ax.axvline(-var, color="red", label="99% VaR")
    ax.set_xlabel("TOTAL P&L, 1 day")
    ax.set_ylabel("scenarios")
    ax.legend()
    fig.savefig(png, dpi=100, bbox_inches="tight")
    print("wrote", png)


if __name__ == "__main__":
    main()
