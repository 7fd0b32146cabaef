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
               $(BUILD)/benchmarks/baselines.o $(BUILD)/benchmarks/baseline_omp.o
BENCH_DATA  ?= $(BUILD)/bench-data

$(BUILD)/benchmarks/baseline_omp.o: FILE_CFLAGS += -fopenmp

$(BENCH_BIN): $(BENCH_OBJ) $(STATIC_LIB)
	$(CC) $(LDFLAGS) -fopenmp -o $@ $(BENCH_OBJ) $(STATIC_LIB) $(LDLIBS)

bench-quick: $(BENCH_BIN) $(PROGRAM)
	BUILD=$(BUILD) benchmarks/run.sh quick $(or $(BENCH_OUT),$(BUILD)/bench/quick)

bench: $(BENCH_BIN) $(PROGRAM)
	BUILD=$(BUILD) benchmarks/run.sh full $(or $(BENCH_OUT),benchmarks/results)

-include $(BENCH_OBJ:.o=.d)
