# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# libFuzzer targets for weft's parsers.  Run from the repository top:
#
#   make -f selftests/fuzz/fuzz.mk              build build/fuzz/fuzz_*
#   make -f selftests/fuzz/fuzz.mk fuzz-smoke   each fuzzer, FUZZ_RUNS inputs,
#                                               seeded with the Istio samples
#                                               and selftests/data
#   build/fuzz/fuzz_mesh build/fuzz/corpus/mesh build/fuzz/seed  (open-ended)

ifeq ($(V),1)
Q =
else
Q = @
endif

.DELETE_ON_ERROR:
.SUFFIXES:

CLANG     ?= clang
FUZZ_OUT  ?= build/fuzz
FUZZ_RUNS ?= 20000
SAMPLES   ?= ../shared/istio-samples

FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -D_GNU_SOURCE \
	       -Iinclude -Iuser/lib \
	       -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
	       -fno-sanitize-recover=undefined
FUZZ_LIBS   := -lbpf -lyaml

# What each fuzzer links from user/lib.
MESH_SRCS := $(addprefix user/lib/,log.c yaml_tree.c mesh.c mesh_k8s.c \
	     mesh_istio.c lb_compile.c lb_route.c lb_cluster.c lb_workload.c \
	     addr.c vec.c)

HTTP_SRCS := user/lib/http_request.c

FUZZERS := $(FUZZ_OUT)/fuzz_mesh $(FUZZ_OUT)/fuzz_http
HEADERS := $(wildcard user/lib/*.h include/weft/*.h)

.PHONY: all fuzz-smoke clean-fuzz
all: $(FUZZERS)

$(FUZZ_OUT)/fuzz_mesh: selftests/fuzz/fuzz_mesh.c $(MESH_SRCS) $(HEADERS)
	@printf '  %-8s %s\n' FUZZ $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) selftests/fuzz/fuzz_mesh.c $(MESH_SRCS) \
		$(FUZZ_LIBS) -o $@

$(FUZZ_OUT)/fuzz_http: selftests/fuzz/fuzz_http.c $(HTTP_SRCS) $(HEADERS)
	@printf '  %-8s %s\n' FUZZ $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) selftests/fuzz/fuzz_http.c $(HTTP_SRCS) -o $@

# Seed corpus: every YAML file of the samples and of selftests/data,
# flattened into one directory (rebuilt each time: cheap, never stale).
$(FUZZ_OUT)/seed: FORCE
	$(Q)rm -rf $@ && mkdir -p $@
	$(Q)for f in $$(find $(SAMPLES) selftests/data -type f \
			\( -name '*.yaml' -o -name '*.yml' \) 2>/dev/null); do \
		cp "$$f" "$@/$$(printf '%s' "$$f" | tr '/.' '__')"; \
	done
	$(Q)printf 'GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n' > $@/http_get
	$(Q)printf 'HEAD /healthz/ready?x HTTP/1.0\n\n' > $@/http_head
	@printf '  %-8s %s (%s files)\n' SEED $@ "$$(ls $@ | wc -l)"

# Bounded run of each fuzzer; any crash, leak or UBSan report fails it.
# -close_fd_mask=2 silences the targets' diagnostics, not libFuzzer's.
fuzz-smoke: $(FUZZERS) $(FUZZ_OUT)/seed
	$(Q)for f in $(FUZZERS); do \
		name=$$(basename $$f); log=$(FUZZ_OUT)/$$name.log; \
		mkdir -p $(FUZZ_OUT)/corpus/$$name; \
		printf '  %-8s %s -runs=%s (log: %s)\n' RUN $$name $(FUZZ_RUNS) $$log; \
		if ! $$f -runs=$(FUZZ_RUNS) -max_len=65536 -timeout=25 \
		    -close_fd_mask=2 -print_final_stats=1 \
		    -artifact_prefix=$(FUZZ_OUT)/ \
		    $(FUZZ_OUT)/corpus/$$name $(FUZZ_OUT)/seed >$$log 2>&1; then \
			tail -n 60 $$log; echo "$$name: FAILED"; exit 1; \
		fi; \
		grep -E '^(Done|stat::number_of_executed_units)' $$log; \
	done

clean-fuzz:
	$(Q)rm -rf $(FUZZ_OUT)

FORCE:
