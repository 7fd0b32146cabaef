# riskengine - build, test, sanitizers, install.
#
#   make            library (static + shared) and the riskengine program
#   make sample     the nightly job on the bundled sample data (out/sample/)
#   make test       every Check suite, then a one-line total
#   make asan|tsan  the suites under AddressSanitizer+UBSan / ThreadSanitizer
#   make debug      unoptimised build with the expensive invariant checks on
#   make stress     the engine and API suites with 1-slot channels and shuffled wake order
#   make install    PREFIX=/usr/local DESTDIR= : header, libraries, riskengine.pc, program,
#                   the Python package (python/riskengine) for PYTHON
#   make mpi-test   the commands under mpirun -np 1, 2, 3: outputs identical to one process
#   make bench-quick / bench   benchmarks (benchmarks/README.md)
#   make docs       API reference from api/riskengine.h (Doxygen) -> build/docs/html
#   make install-check  install into a temporary prefix, build the example client there with
#                   pkg-config, run it briefly on a W1 data set; check-syms too
#   make check-hardening  the hardening flags, checked on the built files (readelf)
#   make soak SOAK_SECONDS=N   64 callers, deadlines, cancels, market updates (soak-tsan: TSan)
#   make oom-test   every command with each of its allocations failing in turn
#   make fuzz FUZZ_SECONDS=N   every libFuzzer harness N s (clang); fuzz-regress replays findings
#
# Dependencies are found with pkg-config; scripts/setup-deps installs what is missing.
# WERROR=1 turns warnings into errors (CI does).

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
OPT     ?= -O2
WERROR  ?= 0
SAN     ?=
MPI     ?= auto
# The Python that runs the binding's tests (tests/python) and whose path install targets: the
# system's, which Debian's python3-numpy and python3-pytest serve (scripts/setup-deps).
PYTHON  ?= $(firstword $(wildcard /usr/bin/python3) python3)

VERSION     := 0.1.0
SOVERSION   := 0
PKGS        := openblas lapacke hwloc
TEST_PKGS   := check

NOCONFIG_GOALS := clean distclean help format
ifneq ($(filter-out $(NOCONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
# An MPI compiler installed (or removed) since the folder was configured: drop the old
# configuration before reading it, so that make builds a new one and starts over with it
# (`make test` before `./make.sh mpi-test` on a fresh machine still ends up with MPI).
ifneq ($(MPI),0)
ifneq ($(wildcard $(BUILD)/config.mk),)
ifneq ($(shell sed -n 's/^MPI_SEEN := //p' $(BUILD)/config.mk),$(shell command -v mpicc 2>/dev/null))
$(shell rm -f $(BUILD)/config.mk)
endif
endif
endif
include $(BUILD)/config.mk
endif

# Dependencies, resolved once per build folder; make re-reads this file after creating it.
$(BUILD)/config.mk: scripts/setup-deps Makefile
	@mkdir -p $(BUILD)
	@scripts/setup-deps --with-tools $(if $(filter 1,$(MPI)),--with-mpi)
	@{ \
	  echo "DEP_CFLAGS := $$(pkg-config --cflags $(PKGS))"; \
	  echo "DEP_LIBS := $$(pkg-config --libs $(PKGS))"; \
	  echo "CHECK_CFLAGS := $$(pkg-config --cflags $(TEST_PKGS))"; \
	  echo "CHECK_LIBS := $$(pkg-config --libs $(TEST_PKGS))"; \
	  echo "MPI_SEEN := $$(command -v mpicc 2>/dev/null)"; \
	  printf '#include <string.h>\n#if __USE_FORTIFY_LEVEL < 3\n#error\n#endif\n' | \
	    $(CC) -O2 -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -x c -fsyntax-only - 2>/dev/null \
	    && echo "FORTIFY_LEVEL := 3" || echo "FORTIFY_LEVEL := 2"; \
	  if [ "$(MPI)" != 0 ] && command -v mpicc >/dev/null 2>&1; then \
	    echo "HAVE_MPI := 1"; \
	    echo "MPI_CFLAGS := $$(mpicc --showme:compile 2>/dev/null)"; \
	    echo "MPI_LIBS := $$(mpicc --showme:link 2>/dev/null)"; \
	  else echo "HAVE_MPI := 0"; fi; \
	} > $@.tmp && mv $@.tmp $@

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion \
        -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 -Wundef
ifeq ($(WERROR),1)
WARN += -Werror
endif
ifneq ($(SAN),)
SANFLAGS := -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1
endif

# Hardening, on by default (HARDEN=0 builds without, for the side-by-side cost benchmark):
# stack protector, stack-clash probes, control-flow protection (x86), full RELRO with BIND_NOW,
# a PIE program, and _FORTIFY_SOURCE (3 where the compiler and C library support it, else 2;
# it needs optimisation, and stays out of sanitizer builds, whose interceptors do that job).
# `make check-hardening` checks the built files.
HARDEN ?= 1
ifeq ($(HARDEN),1)
HARDEN_CFLAGS  := -fstack-protector-strong -fstack-clash-protection
ifneq ($(filter x86_64-%,$(shell $(CC) -dumpmachine)),)
HARDEN_CFLAGS  += -fcf-protection
endif
HARDEN_LDFLAGS := -Wl,-z,relro,-z,now
PIE_LDFLAGS    := -pie
ifeq ($(SAN)$(filter -O0,$(OPT)),)
CPPFLAGS += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=$(FORTIFY_LEVEL)
endif
endif

# Layering, enforced by the include paths: each folder of the library sees only the folders
# below it, and the layers under the API see the public result codes (rk_status.h, copied into
# a folder of its own) but not riskengine.h. A wrong include is a compile error.
#   models/   nothing else         data/   models/         engine/   nothing else
#   risk/     engine/, data/, models/                       api/      everything
STATUS_INC := $(BUILD)/status
INCLUDES := -Iapi -Iengine -Imodels -Idata -Irisk
$(BUILD)/models/%.o: INCLUDES := -Imodels
$(BUILD)/engine/%.o: INCLUDES := -Iengine -I$(STATUS_INC)
$(BUILD)/data/%.o:   INCLUDES := -Idata -Imodels -I$(STATUS_INC)
$(BUILD)/risk/%.o:   INCLUDES := -Irisk -Iengine -Idata -Imodels -I$(STATUS_INC)
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -MMD -MP $(INCLUDES)
XCFLAGS  ?=
# FILE_CFLAGS: flags one file needs (set per target below); separate from XCFLAGS so that a
# command-line XCFLAGS (make debug, make stress) does not drop them.
FILE_CFLAGS :=
CFLAGS    = -std=c11 $(OPT) -g -pthread -fPIC -fvisibility=hidden $(WARN) $(SANFLAGS) $(HARDEN_CFLAGS) \
            $(DEP_CFLAGS) $(XCFLAGS) $(FILE_CFLAGS)
LDFLAGS  += -pthread $(SANFLAGS) $(HARDEN_LDFLAGS)
LDLIBS   := $(DEP_LIBS) -lm

# The kernel files (models/kern_*.c, risk/kern_*.c) are compiled once per instruction-set
# level, each copy with that level's flags only (models/model.h); every other file is built for
# the baseline.
# x86-64 gets the baseline, AVX2+FMA (x86-64-v3) and AVX-512 (x86-64-v4) copies; other
# architectures one portable copy under the baseline's name. -fopenmp-simd honours the kernels'
# `omp simd` loops without the OpenMP run time; -fno-math-errno lets sqrt be an instruction.
KERN_SRC := $(sort $(wildcard models/kern_*.c risk/kern_*.c))
ifneq ($(filter x86_64-%,$(shell $(CC) -dumpmachine)),)
ISA_LEVELS := baseline avx2 avx512
else
ISA_LEVELS := baseline
endif
ISA_FLAGS_baseline :=
ISA_FLAGS_avx2     := -march=x86-64-v3
ISA_FLAGS_avx512   := -march=x86-64-v4 -mprefer-vector-width=512
KERN_OPT ?= -O3
KERN_CFLAGS = $(KERN_OPT) -fopenmp-simd -fno-math-errno -fno-trapping-math
KERN_OBJ := $(foreach l,$(ISA_LEVELS),$(KERN_SRC:%.c=$(BUILD)/%.$(l).o))

LIB_SRC  := $(sort $(filter-out $(KERN_SRC),$(wildcard engine/*.c models/*.c data/*.c risk/*.c api/*.c)))
# The program's transport between processes: MPI when an MPI compiler was found (HAVE_MPI in
# build/config.mk; MPI=0 turns it off, MPI=1 requires it), otherwise the single-process one.
# MPI stays out of the library: only the program links it.
ifeq ($(HAVE_MPI),1)
CLI_SRC  := $(sort $(filter-out api/cli/dist_local.c,$(wildcard api/cli/*.c)))
else
CLI_SRC  := $(sort $(filter-out api/cli/dist_mpi.c,$(wildcard api/cli/*.c)))
endif
TEST_SRC := $(sort $(wildcard tests/*/test_*.c))
TEST_SUPPORT := $(sort $(wildcard tests/support/*.c))
BENCH_SRC := $(sort $(wildcard benchmarks/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(KERN_OBJ)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_SUPPORT_OBJ := $(TEST_SUPPORT:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:%.c=$(BUILD)/%)

STATIC_LIB := $(BUILD)/libriskengine.a
SHARED_LIB := $(BUILD)/libriskengine.so.$(VERSION)
PROGRAM    := $(BUILD)/riskengine

.PHONY: all lib test asan tsan debug stress sample install uninstall clean distclean help \
        format docs bench bench-quick check-syms check-hardening soak soak-tsan oom-test mpi-test \
        install-check example fuzz fuzz-build fuzz-regress fuzz-harnesses
.DEFAULT_GOAL := all
.SECONDARY:

all: lib $(PROGRAM)
lib: $(STATIC_LIB) $(SHARED_LIB)

$(BUILD)/%.o: %.c $(BUILD)/config.mk | $(STATUS_INC)/rk_status.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

define KERN_RULE
$$(BUILD)/$(2)/%.$(1).o: $(2)/%.c $$(BUILD)/config.mk
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) $$(KERN_CFLAGS) $$(ISA_FLAGS_$(1)) -DMDL_ISA_SUFFIX=$(1) -c $$< -o $$@
endef
$(foreach l,$(ISA_LEVELS),$(foreach d,models risk,$(eval $(call KERN_RULE,$(l),$(d)))))
ifneq ($(filter avx2,$(ISA_LEVELS)),)
$(BUILD)/models/isa.o $(BUILD)/models/table.o $(BUILD)/risk/cells.o: FILE_CFLAGS += -DMDL_HAVE_X86_KERNELS
endif

$(STATUS_INC)/rk_status.h: api/rk_status.h
	@mkdir -p $(dir $@)
	cp $< $@

$(STATIC_LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SHARED_LIB): $(LIB_OBJ) api/exports.map
	$(CC) -shared -Wl,-soname,libriskengine.so.$(SOVERSION) -Wl,--version-script=api/exports.map \
	      $(LDFLAGS) -o $@ $(LIB_OBJ) $(LDLIBS)
	ln -sf libriskengine.so.$(VERSION) $(BUILD)/libriskengine.so.$(SOVERSION)
	ln -sf libriskengine.so.$(VERSION) $(BUILD)/libriskengine.so

$(PROGRAM): $(CLI_OBJ) $(STATIC_LIB)
	$(CC) $(LDFLAGS) $(PIE_LDFLAGS) -o $@ $(CLI_OBJ) $(STATIC_LIB) $(LDLIBS) $(if $(filter 1,$(HAVE_MPI)),$(MPI_LIBS))

# MPI's headers are system headers here (-isystem): the project's warnings stay as they are
# for our code without tripping over the headers' own constructs.
$(BUILD)/api/cli/dist_mpi.o: FILE_CFLAGS += -DRK_HAVE_MPI $(patsubst -I%,-isystem %,$(MPI_CFLAGS))

# Each tests/<area>/test_<name>.c is one Check program (tests/support/ holds the shared main).
$(BUILD)/tests/%: tests/%.c $(TEST_SUPPORT_OBJ) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/support $(CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS) -o $@ $< \
	      $(TEST_SUPPORT_OBJ) $(STATIC_LIB) $(CHECK_LIBS) $(LDLIBS)
$(BUILD)/tests/support/%.o: FILE_CFLAGS += $(CHECK_CFLAGS)
$(BUILD)/tests/support/%.o: CPPFLAGS += -Itests/support

# The soak (tests/soak/soak.c): many callers on one engine with deadlines, cancels and market
# updates for SOAK_SECONDS; a program of its own, not a Check suite. CI runs soak-tsan.
SOAK_BIN := $(BUILD)/soak/soak
SOAK_SECONDS ?= 60
SOAK_ARGS ?=
$(SOAK_BIN): tests/soak/soak.c $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $(PIE_LDFLAGS) -o $@ $< $(STATIC_LIB) $(LDLIBS)
soak: $(SOAK_BIN)
	$(SOAK_BIN) --seconds $(SOAK_SECONDS) --data data/sample $(SOAK_ARGS)
soak-tsan:
	OPENBLAS_NUM_THREADS=1 $(MAKE) BUILD=build/tsan SAN=thread soak

# Allocation failure over the command line (tests/oom/): each command run with its N-th
# allocation failing, N = 1, 2, ... (an LD_PRELOAD library). Plain builds only: the sanitizers
# replace the malloc family themselves. OOM_STRIDE=k tries every k-th allocation.
FAILMALLOC := $(BUILD)/tests/oom/failmalloc.so
$(FAILMALLOC): tests/oom/failmalloc.c tests/support/malloc_hook.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) -fPIC -shared $(WARN) -Itests/support -o $@ $< -ldl
oom-test: $(PROGRAM) $(FAILMALLOC)
	@if [ -n "$(SAN)" ]; then echo "oom-test: not in sanitizer builds"; exit 1; fi
	@RK_PROGRAM=$(PROGRAM) RK_FAILMALLOC=$(abspath $(FAILMALLOC)) tests/oom/run-oom-tests
# Fuzzing (tests/fuzz/README.md): libFuzzer harnesses, built by clang in build/fuzz with the
# library and program objects instrumented for coverage, AddressSanitizer and UBSan (warnings
# are gcc's job in the other builds: clang's own are not errors here). `fuzz` runs each harness
# FUZZ_SECONDS from its seed corpus (build/fuzz/corpus/<harness>, kept between runs) and the
# committed inputs of past findings (tests/fuzz/regressions/<harness>), which `fuzz-regress`
# replays alone. A crash, leak, failed check or slow input lands in build/fuzz/findings/ and
# fails the target (also with FUZZ_ARGS="-fork=K -ignore_crashes=1", which fuzzes on past it).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_ARGS    ?=
FUZZ_HARNESSES := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_DIR     := build/fuzz
# fuzz_dataset writes five files per input: on a tmpfs it runs about twice as fast as on a disk
FUZZ_TMP     := $(if $(wildcard /dev/shm/.),/dev/shm,/tmp)
FUZZ_ENV     := OPENBLAS_NUM_THREADS=1 UBSAN_OPTIONS=print_stacktrace=1 TMPDIR=$${TMPDIR:-$(FUZZ_TMP)}
FUZZ_CLI_OBJ  = $(filter-out $(BUILD)/api/cli/main.o,$(CLI_OBJ))
fuzz-build:
	@scripts/setup-deps --with-fuzz
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_DIR) CC=$(FUZZ_CC) SAN=address,undefined MPI=0 \
	    WERROR=0 XCFLAGS="-fsanitize=fuzzer-no-link -Wno-pass-failed" fuzz-harnesses
fuzz-harnesses: $(FUZZ_HARNESSES:%=$(BUILD)/bin/fuzz_%)
$(BUILD)/bin/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h tests/fuzz/fuzz_run.h $(FUZZ_CLI_OBJ) \
                     $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Iapi/cli -Itests/fuzz $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< \
	      $(FUZZ_CLI_OBJ) $(STATIC_LIB) $(LDLIBS)
fuzz: fuzz-build
	@tests/fuzz/make-corpus $(FUZZ_DIR)/corpus
	@set -e; mkdir -p $(FUZZ_DIR)/findings; for h in $(FUZZ_HARNESSES); do \
	  echo "== fuzz_$$h: $(FUZZ_SECONDS) s"; mkdir -p tests/fuzz/regressions/$$h; rc=0; \
	  rm -f $(FUZZ_DIR)/findings/$$h-*; \
	  $(FUZZ_ENV) $(FUZZ_DIR)/bin/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/findings/$$h- \
	      $(FUZZ_ARGS) $(FUZZ_DIR)/corpus/$$h tests/fuzz/regressions/$$h \
	      >$(FUZZ_DIR)/fuzz-$$h.log 2>&1 || rc=$$?; \
	  if ls $(FUZZ_DIR)/findings/$$h-* >/dev/null 2>&1; then rc=1; fi; \
	  if [ $$rc -ne 0 ]; then grep -av ' NEW \| REDUCE \| pulse ' $(FUZZ_DIR)/fuzz-$$h.log | tail -60; \
	    echo "fuzz_$$h: a finding (input in $(FUZZ_DIR)/findings/)"; exit 1; fi; \
	  grep -a '^Done \|^stat::\(average_exec\|new_units\|peak_rss\)' $(FUZZ_DIR)/fuzz-$$h.log || \
	    grep -a '^#[0-9]*: cov' $(FUZZ_DIR)/fuzz-$$h.log | tail -1; \
	done
fuzz-regress: fuzz-build
	@set -e; n=0; for h in $(FUZZ_HARNESSES); do \
	  files=$$(find tests/fuzz/regressions/$$h -type f ! -name README.md 2>/dev/null | sort); \
	  [ -n "$$files" ] || continue; \
	  $(FUZZ_ENV) $(FUZZ_DIR)/bin/fuzz_$$h -runs=1 $$files >$(FUZZ_DIR)/regress-$$h.log 2>&1 || \
	    { cat $(FUZZ_DIR)/regress-$$h.log; echo "fuzz_$$h: a past finding fails again"; exit 1; }; \
	  n=$$((n + $$(echo "$$files" | wc -l))); \
	done; echo "fuzz-regress: $$n past findings replayed, none fails"

# TEST_FILTER=engine runs only tests/engine/.
TEST_FILTER ?=
# The Python suite (area python) loads this build's shared library; under AddressSanitizer the
# interpreter, not instrumented itself, needs the run time preloaded (and leaks not reported:
# the interpreter's own allocations outlive the run).
comma := ,
ifneq ($(filter address,$(subst $(comma), ,$(SAN))),)
PY_TEST_ENV := LD_PRELOAD=$(shell $(CC) -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0
endif
test: $(TEST_BIN) $(PROGRAM) $(SHARED_LIB)
	@RK_PROGRAM=$(PROGRAM) RK_PYTHON="$(PYTHON)" RK_PY_ENV="$(PY_TEST_ENV)" \
	 RISKENGINE_LIBRARY=$(abspath $(BUILD))/libriskengine.so tests/run-tests $(BUILD)/tests $(TEST_FILTER)

asan:
	$(MAKE) BUILD=build/asan SAN=address,undefined test

# The engine and API suites under ThreadSanitizer (BLAS single-threaded: its threads are not
# instrumented).
tsan:
	OPENBLAS_NUM_THREADS=1 $(MAKE) BUILD=build/tsan SAN=thread TEST_FILTER="engine api" test

stress:
	RK_STRESS=1 $(MAKE) BUILD=build/stress XCFLAGS=-DRK_DEBUG=1 TEST_FILTER="engine api" test

debug:
	$(MAKE) BUILD=build/debug OPT=-O0 XCFLAGS=-DRK_DEBUG=1 all test

# The distributed commands under mpirun, K = 1, 2, 3, against the single-process outputs.
mpi-test: $(PROGRAM)
	@if [ "$(HAVE_MPI)" != 1 ]; then \
	  echo "mpi-test: this build has no MPI (install Open MPI, or make MPI=1)"; exit 1; fi
	@RK_PROGRAM=$(PROGRAM) tests/mpi/run-mpi-tests

SAMPLE_OUT ?= out/sample
sample: $(PROGRAM)
	$(PROGRAM) batch --data data/sample --out $(SAMPLE_OUT) \
	    --liquidity data/sample/liquidity.csv --pnl data/sample/pnl_history.csv

check-syms: $(SHARED_LIB)
	@bad=$$(nm -D --defined-only $(SHARED_LIB) | awk '{print $$3}' | grep -v '^rk_' || true); \
	if [ -n "$$bad" ]; then echo "non-rk_ symbols exported:"; echo "$$bad"; exit 1; fi; \
	echo "check-syms: only rk_ symbols exported"

check-hardening: $(SHARED_LIB) $(PROGRAM)
	@scripts/check-hardening $(PROGRAM) $(SHARED_LIB)

# Made at every install: its prefix is that install's (a file kept from an install into another
# prefix would point pkg-config at that one).
.PHONY: $(BUILD)/riskengine.pc
$(BUILD)/riskengine.pc: api/riskengine.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# The Python package goes where PYTHON looks for packages under PREFIX (Debian's python3:
# PREFIX/lib/python3.X/dist-packages), with _installed.py naming the installed library, so
# that the installed package loads the installed library, not a build folder's.
PYTHON_SITE_REL = $(or $(shell $(PYTHON) -c 'import sys; print("lib/python%d.%d/%s" % (sys.version_info[0], sys.version_info[1], "dist-packages" if any(p.endswith("dist-packages") for p in sys.path) else "site-packages"))' 2>/dev/null),lib/python3/dist-packages)
PYTHONDIR ?= $(PREFIX)/$(PYTHON_SITE_REL)
install: all $(BUILD)/riskengine.pc
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 api/riskengine.h api/rk_status.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED_LIB) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libriskengine.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libriskengine.so.$(SOVERSION)
	ln -sf libriskengine.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libriskengine.so
	install -m 644 $(BUILD)/riskengine.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(PROGRAM) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PYTHONDIR)/riskengine
	install -m 644 python/riskengine/*.py $(DESTDIR)$(PYTHONDIR)/riskengine/
	printf '# _installed.py - written by make install: the library this copy loads.\nLIBRARY = "%s"\n' \
	       '$(PREFIX)/lib/libriskengine.so.$(SOVERSION)' > $(DESTDIR)$(PYTHONDIR)/riskengine/_installed.py

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/riskengine.h $(DESTDIR)$(PREFIX)/include/rk_status.h \
	      $(DESTDIR)$(PREFIX)/lib/libriskengine.* \
	      $(DESTDIR)$(PREFIX)/lib/pkgconfig/riskengine.pc $(DESTDIR)$(PREFIX)/bin/riskengine
	rm -rf $(DESTDIR)$(PYTHONDIR)/riskengine

docs:
	@mkdir -p $(BUILD)/docs
	( cat api/Doxyfile; echo "OUTPUT_DIRECTORY = $(BUILD)/docs"; \
	  echo "PROJECT_NUMBER = $(VERSION)" ) | doxygen -

# The example client, built in-tree against the shared library (install-check builds it again
# from an installed copy, through pkg-config only).
EXAMPLE := $(BUILD)/examples/trading_client
example: $(EXAMPLE)
$(EXAMPLE): api/examples/trading_client.c $(SHARED_LIB)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L $(OPT) $(WARN) -Iapi -o $@ $< -L$(BUILD) \
	      -Wl,-rpath,$(abspath $(BUILD)) -lriskengine -pthread

# Installs into a temporary prefix, builds the example against the installed copy with
# pkg-config alone (no in-tree paths), runs it for INSTALL_CHECK_SECONDS on a generated W1 data
# set, and checks that the shared library exports only rk_ names. Then the installed Python
# package, imported from outside the tree, must load the installed library and compute.
INSTALL_CHECK_SECONDS ?= 3
install-check: check-syms
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	pydir="$$tmp/prefix/$(PYTHON_SITE_REL)"; \
	$(MAKE) --no-print-directory install PREFIX="$$tmp/prefix" PYTHONDIR="$$pydir" >/dev/null; \
	export PKG_CONFIG_PATH="$$tmp/prefix/lib/pkgconfig"; \
	echo "pkg-config: $$(pkg-config --cflags --libs riskengine)"; \
	$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L -O2 $(WARN) -o "$$tmp/trading_client" \
	      api/examples/trading_client.c $$(pkg-config --cflags --libs riskengine) \
	      -Wl,-rpath,"$$tmp/prefix/lib" -pthread; \
	readelf -d "$$tmp/trading_client" | grep -q 'libriskengine.so.$(SOVERSION)'; \
	"$$tmp/prefix/bin/riskengine" generate --preset w1 --out "$$tmp/w1" >/dev/null; \
	"$$tmp/trading_client" "$$tmp/w1" $(INSTALL_CHECK_SECONDS); \
	echo "install-check: the example built from the installed copy and ran"; \
	cd "$$tmp" && env -u RISKENGINE_LIBRARY PYTHONPATH="$$pydir" PYTHONDONTWRITEBYTECODE=1 \
	  $(PYTHON) $(abspath tests/python/installed_check.py) "$$pydir" "$$tmp/prefix/lib" "$$tmp/w1"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build out

distclean: clean

help:
	@sed -n '2,18p' Makefile | sed 's/^# \{0,1\}//'

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_SUPPORT_OBJ:.o=.d)
-include benchmarks/bench.mk
