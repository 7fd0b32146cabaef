#!/bin/sh
# benchmarks/summary.sh - the Markdown summary of one run, generated from its results.json
# (and targets.md, machine.txt): the tables RESULTS.md quotes.
#
#   summary.sh OUT_DIR COMMAND DURATION_S > OUT_DIR/summary.md
set -eu
out=$1 cmd=$2 dur=$3
r="$out/results.json"
echo "# Benchmark run: \`$cmd\`"
echo
jq -r '"Mode \(.run.mode); \(.machine.nproc) CPUs online, \(.machine.allowed_cores) allowed; \(.machine.kernel) \(.machine.arch); W1 data \(.run.data) (\(.run.loadings) loadings: \(.run.spot_loading_density*1000|round/10)% of the spot-factor loadings non-zero)."' "$r"
jq -r '"Instruction-set level of the kernels: **\(.machine.isa)** (this CPU supports: \(.machine.isa_supported|join(", ")))."' "$r"
echo "Run duration: ${dur} s. Load average at start: $(sed -n 's/^load average at start: //p' "$out/machine.txt")."
echo "Model: $(sed -n 's/^Model name: *//p' "$out/machine.txt" | head -1)"
echo
echo "## Targets"
echo
cat "$out/targets.md"
echo
echo "## W1 latency ($(jq -r '.latency.workers' "$r") workers; request path: $(jq -r '.latency.layer' "$r"))"
echo
echo "Open loop: fixed arrival rate = $(jq -r '.latency.load' "$r") x the closed-loop throughput with the same callers; latency counted from the scheduled arrival. Miss = latency above the W1 target."
echo
echo "| loop | callers | requests | rate/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | miss rate | throughput/s |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
jq -r '.latency.runs[] | "| \(.mode) | \(.callers) | \(.requests) | \(.rate_per_s*100|round/100) | \(.p50_ms) | \(.p90_ms) | \(.p99_ms) | \(.p999_ms) | \(.max_ms) | \(.miss_rate*100)% | \(.throughput_per_s*100|round/100) |"' "$r"
echo
jq -r '"Result check: \(.latency.result_mismatches) request(s) whose TOTAL VaR differed bitwise from the first."' "$r"
if jq -e '.latency_reuse_unmoved' "$r" >/dev/null 2>&1; then
    echo
    echo "### The same requests with the grid's fast path (\`rk_request_set_reuse_unmoved\`, not the default)"
    echo
    echo "| mode | callers | requests | rate/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | miss | throughput/s |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    jq -r '.latency_reuse_unmoved.runs[] | "| \(.mode) | \(.callers) | \(.requests) | \(.rate_per_s*100|round/100) | \(.p50_ms) | \(.p90_ms) | \(.p99_ms) | \(.p999_ms) | \(.max_ms) | \(.miss_rate*100)% | \(.throughput_per_s*100|round/100) |"' "$r"
    echo
    jq -r '"Result check: \(.latency_reuse_unmoved.result_mismatches) request(s) whose TOTAL VaR differed bitwise from the full-revaluation result."' "$r"
fi
sp="$out/sparse/results.json"
if [ -f "$sp" ]; then
    echo
    echo "### The same W1 with sparse loadings (the generator's default), for comparison"
    echo
    jq -r '"Data \(.run.data): \(.run.spot_loading_density*1000|round/10)% of the spot-factor loadings non-zero; \(.run.requests) requests per configuration; no targets checked."' "$sp"
    echo
    echo "| path | loop | callers | requests | p50 ms | p99 ms | throughput/s |"
    echo "|---|---|---|---|---|---|---|"
    jq -r '(.latency.runs[] | select(.mode == "closed") | "| full revaluation | \(.mode) | \(.callers) | \(.requests) | \(.p50_ms) | \(.p99_ms) | \(.throughput_per_s*100|round/100) |"), (.latency_reuse_unmoved.runs // [] | .[] | select(.mode == "closed") | "| reuse unmoved | \(.mode) | \(.callers) | \(.requests) | \(.p50_ms) | \(.p99_ms) | \(.throughput_per_s*100|round/100) |")' "$sp"
fi
echo
echo "## Deadlines and cancellation"
echo
jq -r '.deadline | "Deadline \(.budget_ms) ms (half the W1 median \(.w1_ms) ms), \(.requests) requests.\n\n| | p50 | p90 | p99 | max |\n|---|---|---|---|---|\n| overshoot (ms) | \(.overshoot_ms.p50) | \(.overshoot_ms.p90) | \(.overshoot_ms.p99) | \(.overshoot_ms.max) |\n| cancel-to-return (ms, \(.cancel_to_return_ms.n) cancels) | \(.cancel_to_return_ms.p50) | | \(.cancel_to_return_ms.p99) | \(.cancel_to_return_ms.max) |\n\nEngine-reported overshoot of the grid request, p99: \(.engine_overshoot_ms_p99) ms. Coverage reached: min \(.coverage.min), median \(.coverage.p50), max \(.coverage.max)."' "$r"
echo
echo "## Dispatch and fan-in"
echo
jq -r '.dispatch | "\(.method): \(.tiles) tiles, \(.empty_ms) ms empty vs \(.w1_ms) ms W1 = **\(.share_pct)%** (\(.us_per_tile) µs per tile)."' "$r"
echo
echo "## Scaling (W1, 1 caller)"
echo
echo "| workers | median ms | speedup | efficiency |"
echo "|---|---|---|---|"
jq -r '.scaling.points[] | "| \(.workers) | \(.median_ms) | \(.speedup) | \(.efficiency) |"' "$r"
echo
echo "## Engine and baselines, same data, same run (interleaved)"
echo
jq -r '.baselines | "\(.threads) workers/threads, \(.rounds) rounds; check: \(.check); thread per job: \(.tpj_block) positions per thread.\n\n| design | runs | median ms | engine / baseline | TOTAL VaR | check |\n|---|---|---|---|---|---|", (.rows[] | "| \(.name) | \(.runs) | \(.median_ms) | \(.engine_over_baseline) | \(.var_total) | \(if .check then "OK" else "MISMATCH" end) |")' "$r"
echo
jq -r '.baselines.rows[] | select(.name == "openmp") | "Engine speedup over the naive OpenMP baseline: **\(1 / .engine_over_baseline * 100 | round / 100)x**."' "$r"
echo
echo "## Model kernels (ns per revaluation) and the floors they imply"
echo
jq -r '"Every instruction-set level this CPU supports; the targets and the floors are those of the best, **\(.kernels.isa)**."' "$r"
echo
echo "| level | kind | variant | W1 positions | fast ns | reference ns |"
echo "|---|---|---|---|---|---|"
jq -r '.kernels.levels[] | .isa as $isa | .rows[] | "| \($isa) | \(.kind) | \(.variant) | \(.w1_count) | \(.fast_ns) | \(.ref_ns) |"' "$r"
echo
jq -r '.kernels | "Compute floor (every revaluation at the fast kernel cost, perfectly parallel): W1 \(.w1_floor_ms_2cores) ms on 2 cores (\(.w1_floor_ms_all_cores) ms on \(.cores)); W2 (same mix scaled to 1,000,000 positions, 1% of americans on 200-step trees, base + 1,000 scenarios) \(.w2_floor_s_2cores) s on 2 cores (\(.w2_floor_s_all_cores) s on \(.cores))."' "$r"
echo
echo "## Throughput (riskengine program, 2 threads)"
echo
echo "| key | value |"
echo "|---|---|"
jq -r '.throughput // {} | to_entries[] | "| \(.key) | \(.value) |"' "$r"
echo
echo "Plots: latency_cdf.png, overshoot.png, scaling.png, kernels.png."
