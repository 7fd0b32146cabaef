#!/bin/sh
# benchmarks/throughput.sh - W2 and W3 throughput through the riskengine program (contract §6).
#
#   throughput.sh PROGRAM DATA_DIR OUT_DIR THREADS "w3" | "w2 w3"
#
# W3: `riskengine var --method historical` on the w3 preset (100,000 positions, 500 scenarios
# from scenarios.csv). W2: `riskengine batch --scenarios 1000` on the w2 preset (1,000,000
# positions): the nightly job, which runs base values, the grid with parametric VaR, 1,000
# Monte Carlo scenarios with VaR/ES per book, historical and stress. Data sets are generated
# once into DATA_DIR (seed 1) and reused. Each run's summary.json is kept in OUT_DIR; the
# figures (wall seconds, revaluations per second, phases, peak memory) are appended to
# OUT_DIR/throughput.env as key=value lines for bench.c and the report. The data sets have
# dense loadings (every spot underlying loads on every factor), as the targets are stated.
set -eu
prog=$1 data=$2 out=$3 threads=$4 which=$5
mkdir -p "$data" "$out"
env="$out/throughput.env"
: > "$env"
for w in $which; do
    dir=$data/$w-dense
    if [ ! -f "$dir/.complete" ]; then
        echo "throughput: generating $w into $dir" >&2
        "$prog" generate --preset "$w" --seed 1 --loadings dense --out "$dir" --quiet
        touch "$dir/.complete"
    fi
    run="$out/run-$w"
    rm -rf "$run"
    case $w in
    w3) set -- var --method historical ;;
    w2) set -- batch --scenarios 1000 ;;
    esac
    echo "throughput: $w: $prog $* --data $dir --threads $threads" >&2
    "$prog" "$@" --data "$dir" --out "$run" --threads "$threads" --quiet
    cp "$run/summary.json" "$out/summary-$w.json"
    python3 - "$w" "$run/summary.json" >> "$env" <<'PY'
import json, sys
w, path = sys.argv[1], sys.argv[2]
s = json.load(open(path))
print(f"{w}_seconds={s['wall_seconds']}")
print(f"{w}_peak_memory_mib={s['peak_memory_mib']}")
print(f"{w}_revaluations={s['revaluations_requested']}")
print(f"{w}_revals_per_s={s['revaluations_requested'] / s['wall_seconds']}")
for p in s["phases"]:
    print(f"{w}_phase_{p['name']}_s={p['seconds']}")
PY
    rm -rf "$run"
done
cat "$env" >&2
