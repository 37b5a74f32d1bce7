# gradscope - build the library, the CLI, the tests and the benchmarks.
#   make            library (static + shared), CLI, tests
#   make test       build and run the test suite
#   make study      the vanishing-gradient study (installs Debian packages first)
#   make bench      side-by-side benchmarks against PyTorch (bench/table.sh, ~8 minutes)
#   make install PREFIX=/usr/local DESTDIR=
#   make SANITIZE=1 address + undefined-behaviour sanitizers (build-asan/)
#   make OPENMP=0 ZLIB=0   force optional parts off
PREFIX ?= /usr/local
CC ?= cc
OPENMP ?= 1
ZLIB ?= 1
SANITIZE ?= 0

BUILD ?= build
ifeq ($(SANITIZE),1)
BUILD := build-asan
endif

CSTD := -std=c11 -D_POSIX_C_SOURCE=200809L
WARN := -Wall -Wextra -Wpedantic
OPT ?= -O3
CFLAGS_ALL := $(CSTD) $(WARN) $(OPT) -g -fPIC -Iinclude -Isrc -Isrc/core $(CFLAGS)
LDLIBS_ALL := -lm

ifeq ($(SANITIZE),1)
CFLAGS_ALL += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# ---- optional parts, each detected and reported in one line ----
HASH := \#
have = $(shell printf '$(HASH)include <$(2)>\nint main(void){return 0;}\n' | $(CC) -x c - $(1) -o /dev/null 2>/dev/null && echo 1 || echo 0)
ifeq ($(OPENMP),1)
HAVE_OPENMP := $(call have,-fopenmp,omp.h)
else
HAVE_OPENMP := 0
endif
ifeq ($(ZLIB),1)
HAVE_ZLIB := $(call have,-lz,zlib.h)
else
HAVE_ZLIB := 0
endif
HAVE_NVCC := $(shell command -v nvcc >/dev/null 2>&1 || test -x /usr/local/cuda/bin/nvcc && echo 1 || echo 0)

ifeq ($(HAVE_OPENMP),1)
CFLAGS_ALL += -fopenmp
LDLIBS_ALL += -fopenmp
endif
ifeq ($(HAVE_ZLIB),1)
CFLAGS_ALL += -DGS_HAVE_ZLIB=1
LDLIBS_ALL += -lz
endif

SRC := $(sort $(wildcard src/*/*.c src/*/*/*.c))
OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(SRC))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all lib test check study bench install clean config
all: config lib $(BUILD)/gradscope $(TEST_BIN) $(BENCH_BIN)

config:
	@echo "gradscope: OpenMP threads ..... $(if $(filter 1,$(HAVE_OPENMP)),yes,no (single thread))"
	@echo "gradscope: zlib (.gz readers) .. $(if $(filter 1,$(HAVE_ZLIB)),yes,no (raw IDX only))"
	@echo "gradscope: CUDA toolkit ........ $(if $(filter 1,$(HAVE_NVCC)),found (CUDA backend not built yet),no)"
	@echo "gradscope: sanitizers .......... $(if $(filter 1,$(SANITIZE)),address+undefined,off)"

lib: $(BUILD)/libgradscope.a $(BUILD)/libgradscope.so

$(BUILD)/obj/%.o: %.c Makefile $(wildcard include/*.h src/*/*.h src/*/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libgradscope.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libgradscope.so: $(OBJ)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/gradscope: tools/gradscope.c $(BUILD)/libgradscope.a
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< $(BUILD)/libgradscope.a $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/%.c tests/harness.h $(BUILD)/libgradscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests $(LDFLAGS) -o $@ $< $(BUILD)/libgradscope.a $(LDLIBS_ALL)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libgradscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -O3 $(LDFLAGS) -o $@ $< $(BUILD)/libgradscope.a $(LDLIBS_ALL)

test: deps-test all
	@GS_BUILD=$(BUILD) sh tests/run.sh $(TEST_BIN) $(wildcard tests/test_*.sh)

# Debian packages the tests need (python3-torch only for regenerating golden files).
deps-test:
	@sh tools/ensure-deps.sh test

deps-study:
	@sh tools/ensure-deps.sh study

study: deps-study all
	@sh tools/study.sh $(BUILD)

bench: all
	@sh bench/table.sh $(BUILD)

install: lib $(BUILD)/gradscope
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(BUILD)/libgradscope.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libgradscope.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/gradscope.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(BUILD)/gradscope $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|0.1.0|' \
	    -e 's|@LIBS@|$(LDLIBS_ALL)|' gradscope.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gradscope.pc

clean:
	rm -rf build build-asan
