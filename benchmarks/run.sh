#!/bin/sh
# benchmarks/run.sh - one benchmark run, start to finish: data sets, machine description,
# W2/W3 throughput, the bench program, plots and a generated Markdown summary.
#
#   benchmarks/run.sh quick|full OUT_DIR      (make bench-quick / make bench call it)
#
# quick: 30 requests per latency configuration, 3 interleaved rounds, W3 only; about 3 minutes
# on 2 cores. full: 1000 requests per configuration, 10 rounds, W2 and W3, and a perf profile
# of closed-loop W1 requests (perf-w1.txt). OUT_DIR gets results.json, summary.md, the PNG
# plots, machine.txt and the data behind the plots.
#
# Every data set is generated with dense loadings (every spot underlying loads on every factor,
# as in a statistical factor model), which is what the targets are stated on. The W1 latency
# (with and without the grid's fast path) is also measured on W1 with the generator's default
# sparse loadings, for comparison: OUT_DIR/sparse/ (no targets checked there).
set -eu
mode=$1 out=$2
build=${BUILD:-build}
prog=$build/riskengine
bench=$build/benchmarks/bench
data=$build/bench-data
threads=2 # the targets are stated on 2 cores
start=$(date +%s)
mkdir -p "$out" "$data"

for loadings in dense sparse; do
    if [ ! -f "$data/w1-$loadings/.complete" ]; then
        "$prog" generate --preset w1 --seed 1 --loadings "$loadings" --out "$data/w1-$loadings" \
            --quiet
        touch "$data/w1-$loadings/.complete"
    fi
done

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "nproc: $(nproc)"
    echo "kernel: $(uname -srm)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "compiler: $(${CC:-cc} --version | head -1)"
    echo
    lscpu
} > "$out/machine.txt"

case $mode in
quick)
    args="--requests 30 --reps 3 --ref-reps 1 --deadline-reqs 20"; which=w3
    sparse_args="--requests 10" ;;
full)
    args="--requests 1000 --reps 10 --ref-reps 3 --deadline-reqs 200"; which="w2 w3"
    sparse_args="--requests 200" ;;
*) echo "usage: run.sh quick|full OUT_DIR" >&2; exit 2 ;;
esac

benchmarks/throughput.sh "$prog" "$data" "$out" "$threads" "$which"

case $mode in
quick) cmd="make bench-quick" ;;
*) cmd="make bench" ;;
esac
# shellcheck disable=SC2086
"$bench" --data "$data/w1-dense" --out "$out" --throughput "$out/throughput.env" \
    --latency-threads "$threads" --mode "$mode" --command "$cmd" $args
# The comparison: W1 latency, full revaluation and the fast path, on sparse loadings.
mkdir -p "$out/sparse"
# shellcheck disable=SC2086
"$bench" --data "$data/w1-sparse" --out "$out/sparse" --targets none --only reuse \
    --latency-threads "$threads" --mode "$mode" --command "$cmd (sparse loadings)" $sparse_args

gnuplot -e "dir='$out'" benchmarks/plots.gp

if [ "$mode" = full ] && command -v perf >/dev/null 2>&1; then
    # Where the time of a W1 request goes: closed loop, 1 caller, 2 workers.
    mkdir -p "$build/bench/perf-run"
    if perf record -g -o "$build/bench/perf-w1.data" "$bench" --data "$data/w1-dense" \
        --out "$build/bench/perf-run" --requests 100 --only latency >/dev/null 2>&1; then
        perf report -i "$build/bench/perf-w1.data" --stdio --no-children --sort symbol -g none \
            --percent-limit 0.5 2>/dev/null | grep -v '^$' | head -80 > "$out/perf-w1.txt" || true
    fi
fi

end=$(date +%s)
echo "duration_s=$((end - start))" > "$out/duration.env"
benchmarks/summary.sh "$out" "$cmd" "$((end - start))" > "$out/summary.md"
echo "bench: $mode run took $((end - start)) s; summary in $out/summary.md" >&2
