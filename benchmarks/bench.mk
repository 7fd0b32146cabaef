# benchmarks/bench.mk - the benchmark programs and targets (included by the top Makefile).
#
#   make bench-quick   the routine run: W1 latency, deadlines, dispatch, scaling, kernels (every
#                      ISA level) and baselines with small counts, W1 latency on sparse loadings
#                      for comparison, W3 throughput; about 3 minutes on 2 cores
#   make bench         the full run (1000 requests per latency configuration, W2 and W3,
#                      perf profile); its duration is in benchmarks/RESULTS.md
#
# Results go to BENCH_OUT (default benchmarks/results/ for `bench`, build/bench/quick for
# `bench-quick`); generated data sets are cached in build/bench-data and never committed.
# Only baseline_omp.c is built with OpenMP; the library never is.

BENCH_BIN   := $(BUILD)/benchmarks/bench
BENCH_OBJ   := $(BUILD)/benchmarks/bench.o $(BUILD)/benchmarks/w1_request.o \
               $(BUILD)/benchmarks/baselines.o $(BUILD)/benchmarks/baseline_omp.o \
               $(BUILD)/benchmarks/whatif_bench.o
BENCH_DATA  ?= $(BUILD)/bench-data

$(BUILD)/benchmarks/baseline_omp.o: FILE_CFLAGS += -fopenmp

$(BENCH_BIN): $(BENCH_OBJ) $(STATIC_LIB)
	$(CC) $(LDFLAGS) -fopenmp -o $@ $(BENCH_OBJ) $(STATIC_LIB) $(LDLIBS)

# The kernels' vector math (models/vmath.h) against glibc's libmvec and scalar libm: speed,
# accuracy and result bits at the AVX2 level, with the kernels' avx2 flags (models/README.md).
#   make BUILD=... vmath-bench     builds and runs it
VMATH_BENCH := $(BUILD)/benchmarks/vmath_bench

$(VMATH_BENCH): benchmarks/vmath_bench.c models/vmath.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O3 -march=x86-64-v3 -fopenmp-simd -fno-math-errno -fno-trapping-math \
	      $(WARN) -Imodels $(LDFLAGS) -o $@ $< -lmvec -lm

vmath-bench: $(VMATH_BENCH)
	$(VMATH_BENCH)

.PHONY: vmath-bench

# One kernel at one level on grid-sized batches, best of many calls (benchmarks/kern_bench.c):
# for comparing two builds of a kernel side by side.
KERN_BENCH := $(BUILD)/benchmarks/kern_bench

$(KERN_BENCH): $(BUILD)/benchmarks/kern_bench.o $(STATIC_LIB)
	$(CC) $(LDFLAGS) -o $@ $< $(STATIC_LIB) $(LDLIBS)

kern-bench: $(KERN_BENCH)

.PHONY: kern-bench

bench-quick: $(BENCH_BIN) $(PROGRAM)
	BUILD=$(BUILD) benchmarks/run.sh quick $(or $(BENCH_OUT),$(BUILD)/bench/quick)

bench: $(BENCH_BIN) $(PROGRAM)
	BUILD=$(BUILD) benchmarks/run.sh full $(or $(BENCH_OUT),benchmarks/results)

-include $(BENCH_OBJ:.o=.d) $(BUILD)/benchmarks/kern_bench.d
