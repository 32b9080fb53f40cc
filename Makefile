# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# weft build.  `make` builds BPF objects, skeletons and the release
# binaries into build/; `make test` builds the same userspace with
# ASan/UBSan into build/test/ and runs the suite.  `make V=1` shows commands.
#
#   make            build/weftd build/weft (+ BPF objects and skeletons)
#   make test       sanitized build + selftests (needs root for kernel/e2e)
#   make demo       install deps, build, run the sandbox mesh demo
#   make fuzz       libFuzzer targets into build/fuzz/
#   make deps       install missing Debian packages
#   make bench      benchmarks (bench/run.sh, then bench/accel.sh)
#   make clean

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
OUT     ?= build
BPF_OUT := build/bpf
SANITIZE ?=

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

WARN    := -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Iuser/lib -Iuser -I$(BPF_OUT)
LDLIBS  := -lbpf -lelf -lz -lyaml -lmnl
ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
	      -Wno-unused-function -I$(BPF_OUT) -Iinclude -Ibpf

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BPF_OUT)/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BPF_OUT)/%.skel.h,$(BPF_SRCS))

LIB_SRCS   := $(wildcard user/lib/*.c)
AGENT_SRCS := $(wildcard user/agent/*.c)
CLI_SRCS   := $(wildcard tools/weft/*.c)
# The test binary links the agent's modules (not its main) so kernel tests
# drive the real loader and apply code.
TEST_SRCS  := selftests/runner.c $(wildcard selftests/lib/*.c) \
	      $(wildcard selftests/unit/*.c) $(wildcard selftests/kernel/*.c) \
	      $(wildcard selftests/e2e/*.c) \
	      $(filter-out user/agent/main.c,$(AGENT_SRCS))
TOOL_SRCS  := $(wildcard selftests/tools/*.c)
FUZZ_SRCS  := $(wildcard selftests/fuzz/*.c)

obj = $(patsubst %.c,$(OUT)/obj/%.o,$(1))

LIB_A := $(OUT)/libweft.a
BINS  := $(OUT)/weftd $(OUT)/weft
TEST_BINS := $(OUT)/test_weft $(patsubst selftests/tools/%.c,$(OUT)/tools/%,$(TOOL_SRCS))

.PHONY: all test test-build demo fuzz deps clean bench bench-accel
all: $(BINS)

# --- BPF -------------------------------------------------------------------
$(BPF_OUT)/vmlinux.h: | $(BPF_OUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(BPF_OUT)/%.bpf.o: bpf/%.bpf.c $(BPF_OUT)/vmlinux.h $(wildcard bpf/lib/*.h include/weft/*.h) | $(BPF_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Socket acceleration (lib/accel.h) uses atomic exchange and fetch-and-add
# (BPF v3, Linux 5.12+) in both objects.
$(BPF_OUT)/sock_accel.bpf.o $(BPF_OUT)/sockops.bpf.o: BPF_CFLAGS += -mcpu=v3

$(BPF_OUT)/%.skel.h: $(BPF_OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*) > $@

$(BPF_OUT):
	$(Q)mkdir -p $@

# --- userspace ---------------------------------------------------------------
# Tests include "test.h" and the selftests/lib headers by their short names.
$(OUT)/obj/selftests/%.o: CFLAGS += -Iselftests -Iselftests/lib

# Every userspace object may include a skeleton, so skeletons come first.
$(OUT)/obj/%.o: %.c $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(call obj,$(LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/weftd: $(call obj,$(AGENT_SRCS)) $(LIB_A)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/weft: $(call obj,$(CLI_SRCS)) $(LIB_A)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/test_weft: $(call obj,$(TEST_SRCS)) $(LIB_A)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/tools/%: $(OUT)/obj/selftests/tools/%.o $(LIB_A)
	$(Q)mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)

# --- tests, demo, fuzzing ----------------------------------------------------
test-build:
	$(Q)$(MAKE) --no-print-directory OUT=build/test SANITIZE=1 \
		build/test/weftd build/test/weft $(patsubst $(OUT)/%,build/test/%,$(TEST_BINS))

# ASAN_OPTIONS: the runner forks and the agents are started by tests;
# leaks are reported (LSan) and fail the process that leaked.
# The parsers' fuzzers run a bounded smoke round first (FUZZ_RUNS inputs
# each); a crash fails `make test` before the suite runs.
test: test-build
	$(Q)$(MAKE) --no-print-directory -f selftests/fuzz/fuzz.mk fuzz-smoke \
		FUZZ_RUNS=$(or $(FUZZ_RUNS),20000)
	$(Q)ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 build/test/test_weft -B build/test -R $(CURDIR) $(TESTFLAGS)

demo: deps all
	$(Q)scripts/demo.sh

fuzz:
	$(Q)$(MAKE) --no-print-directory -f selftests/fuzz/fuzz.mk

deps:
	$(Q)scripts/install-deps.sh

# BENCH_ACCEL=0 skips the socket acceleration section.
bench: deps all $(OUT)/tools/xfer
	$(Q)bench/run.sh
	$(Q)[ "$(BENCH_ACCEL)" = 0 ] || bench/accel.sh

bench-accel: deps all $(OUT)/tools/xfer
	$(Q)bench/accel.sh

clean:
	$(call msg,CLEAN,build)
	$(Q)rm -rf build
