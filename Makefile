# leakyrelu — build, run, test, install.
#   make            build build/leakyrelu-server
#   make run        install missing packages, build, serve on 127.0.0.1:8080
#   make test       install missing packages, build, run unit + integration tests
#   make test-container  the Dockerfile built and run with podman, and
#                   docker/compose.yaml's replicas behind nginx (as root)
#   make test-deploy  docker/k8s validated against the Kubernetes schemas,
#                   and every deployment file checked against the binary
#   make test-hard  the long suites (full-size load, slow clients, SIGTERM, valgrind)
#   make install    PREFIX=/usr/local DESTDIR=
#   make bench      codec, kernel and HTTP benchmarks against baselines
#   make openapi    regenerate src/openapi.json (tools/gen_openapi.py)
#   make errors-doc regenerate docs/errors.md from src/errors.h
#   make fuzz       libFuzzer on the request decoder and codec, then on the whole
#                   HTTP path through libmicrohttpd (FUZZ_SECONDS=60 each)
#   make fuzz-check replay both fuzz targets' seeds (CI)
# Options: V=1 (show commands), WERROR=1, SANITIZE=address,undefined (with
#          CC=clang for clang's sanitizers; builds into build/sanitize-$(CC)),
#          CFLAGS=..., PORT=8080 for make run.

VERSION := 0.1.0
PREFIX ?= /usr/local
PORT ?= 8080
BUILD := build
ifneq ($(SANITIZE),)
BUILD := build/sanitize-$(notdir $(CC))
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

CC ?= cc
# Functions start on 64-byte lines: the codec's hot loops then run at the
# same speed wherever unrelated code moves them (unaligned, one refactor
# moved 17-digit encoding from 657 to 614 MB/s with identical object code).
CFLAGS ?= -O2 -g -falign-functions=64
WARN := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wformat=2 \
        -Wvla -Wpointer-arith -Wcast-qual -Wundef
ifeq ($(WERROR),1)
WARN += -Werror
endif
ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -DLEAKYRELU_VERSION='"$(VERSION)"' \
              $(WARN) $(CFLAGS) $(SAN_FLAGS) -MMD -MP
LDFLAGS_ALL := $(LDFLAGS) $(SAN_FLAGS)
LIBS := -lmicrohttpd -lnghttp2 -ljansson -lz -lm -lpthread

SRC := $(filter-out src/main.c,$(wildcard src/*.c))
OBJ := $(SRC:src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/openapi_doc.o $(BUILD)/obj/playground_doc.o \
       $(BUILD)/obj/descriptors_doc.o
TEST_OBJ := $(patsubst tests/%.c,$(BUILD)/tests/%.o,$(filter-out tests/fuzz_%.c,$(wildcard tests/*.c)))
SERVER := $(BUILD)/leakyrelu-server
TESTBIN := $(BUILD)/leakyrelu-test

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

# Debian/Ubuntu packages each target needs; `deps-*` installs the missing ones.
PKGS_BUILD := gcc make libc6-dev libmicrohttpd-dev libjansson-dev zlib1g-dev libnghttp2-dev \
              protobuf-compiler
PKGS_TEST := $(PKGS_BUILD) libcurl4-openssl-dev curl prometheus python3 libxml2-utils w3c-sgml-lib \
             python3-grpcio python3-protobuf protobuf-compiler-grpc python3-h2

.PHONY: check-layers openapi errors-doc all run test test-deploy test-container test-hard install clean deps-build deps-test valgrind tables bench fuzz fuzz-check

all: $(SERVER)

$(BUILD)/obj/%.o: src/%.c
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -c -o $@ $<

# Files the binary serves as they are, embedded as C strings: each line
# quoted; backslashes, quotes and '?' (no trigraphs) escaped.
# $(call embed,FILE,HEADER,SYMBOL) writes SYMBOL and SYMBOL_len.
embed = { echo '/* Generated from $(1) by the Makefile. */'; echo '\#include "$(2)"'; \
	  echo 'const char $(3)[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/    "/' -e 's/$$/\\n"/' $(1); \
	  echo ';'; echo 'const size_t $(3)_len = sizeof $(3) - 1;'; }

# GET /openapi.json's document, src/openapi.json (from tools/gen_openapi.py,
# `make openapi`), and GET /'s page, src/playground.html.
$(BUILD)/gen/openapi_doc.c: src/openapi.json
	$(call say,GEN,$@)mkdir -p $(@D) && $(call embed,$<,openapi.h,openapi_json) > $@

$(BUILD)/gen/playground_doc.c: src/playground.html
	$(call say,GEN,$@)mkdir -p $(@D) && $(call embed,$<,playground.h,playground_html) > $@

# The gRPC services' descriptors, served by reflection (src/rpc_reflect.c):
# proto/*.proto compiled by protoc into a FileDescriptorSet, embedded as
# bytes.
PROTOS := proto/inference.proto proto/health.proto proto/reflection.proto
$(BUILD)/gen/descriptors.pb: $(PROTOS)
	$(call say,PROTOC,$@)mkdir -p $(@D) && protoc -Iproto --descriptor_set_out=$@ $(notdir $^)

$(BUILD)/gen/descriptors_doc.c: $(BUILD)/gen/descriptors.pb
	$(call say,GEN,$@){ echo '/* Generated from $(PROTOS) by the Makefile. */'; \
	  echo '#include <stddef.h>'; \
	  echo 'extern const unsigned char rpc_descriptors[]; extern const size_t rpc_descriptors_len;'; \
	  echo 'const unsigned char rpc_descriptors[] = {'; \
	  od -An -v -tx1 $< | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; echo 'const size_t rpc_descriptors_len = sizeof rpc_descriptors;'; } > $@

$(BUILD)/obj/%_doc.o: $(BUILD)/gen/%_doc.c
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -Isrc -c -o $@ $<

# One file per instruction set, each compiled for its own ISA; lrelu.c
# picks the best one the CPU runs at start-up.
ifeq ($(shell $(CC) -dumpmachine | cut -d- -f1),x86_64)
$(BUILD)/obj/lrelu_avx2.o: ALL_CFLAGS += -mavx2
$(BUILD)/obj/lrelu_avx512f.o: ALL_CFLAGS += -mavx512f
endif

$(SERVER): $(BUILD)/obj/main.o $(OBJ)
	$(call say,LINK,$@)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(TESTBIN): $(TEST_OBJ) $(OBJ)
	$(call say,LINK,$@)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS) -lcurl

BENCH_BIN := $(BUILD)/bench_codec $(BUILD)/bench_jansson_server $(BUILD)/bench_ok_server \
             $(BUILD)/bench_echo_server \
             $(BUILD)/bench_one_request $(BUILD)/bench_binary $(BUILD)/bench_anchors

# The codec beside std::to_chars, Dragonbox (fmt), fast_float, strtod and
# simdjson, Debian's packages (C++17).
CXX ?= g++
$(BUILD)/bench_anchors: bench/anchors.cpp $(BUILD)/obj/numfmt.o $(BUILD)/obj/numparse.o \
                        $(BUILD)/obj/numtables.o
	$(call say,CXX,$@)$(CXX) -std=c++17 -O2 -Wall -Wextra $(SAN_FLAGS) -o $@ $^ -lfmt -lsimdjson

$(BUILD)/bench_codec: $(BUILD)/bench/bench_codec.o $(OBJ)
	$(call say,LINK,$@)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/bench_one_request: $(BUILD)/bench/one_request.o $(BUILD)/bench/client.o
	$(call say,LINK,$@)$(CC) $(LDFLAGS_ALL) -o $@ $^

$(BUILD)/bench_binary: $(BUILD)/bench/binary.o $(BUILD)/bench/client.o
	$(call say,LINK,$@)$(CC) $(LDFLAGS_ALL) -o $@ $^

$(BUILD)/bench_%_server: $(BUILD)/bench/%_server.o $(BUILD)/bench/baseline.o
	$(call say,LINK,$@)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/bench/%.o: bench/%.c
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -c -o $@ $<

# Every #include and every symbol between src/ objects goes down the
# table of layers in tools/check-layers.py, and no cycle (make test runs it).
CHECK_LAYERS = python3 tools/check-layers.py $(BUILD)/obj src
check-layers: $(SERVER)
	$(CHECK_LAYERS)

# Regenerates src/openapi.json (committed; the build embeds it).
openapi:
	python3 tools/gen_openapi.py $(VERSION) > src/openapi.json

# Regenerates docs/errors.md, the table of src/errors.h (committed).
errors-doc:
	python3 tools/gen_errors_md.py > docs/errors.md

# Codec, kernel and end-to-end benchmarks with baselines, in one run.
bench: deps-build
	$(Q)./tools/ensure-packages wrk nghttp2-client python3-grpcio python3-protobuf \
	    protobuf-compiler-grpc g++ libfmt-dev libsimdjson-dev libfast-float-dev
	$(Q)$(MAKE) --no-print-directory $(SERVER) $(BENCH_BIN)
	./bench/run.sh $(BUILD)

# Coverage-guided fuzzing with libFuzzer + ASan/UBSan (clang), FUZZ_SECONDS=60
# for each target: the request decoder, the API and the number codec
# (tests/fuzz_request.c); then raw bytes on a connection to the real server,
# libmicrohttpd and all (tests/fuzz_http.c, seeds in tests/fuzz_corpus_http/
# from tools/gen_fuzz_http_seeds.py).
FUZZ_SECONDS ?= 60
FUZZ_DIR := build/fuzz
FUZZ_FLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fsanitize=address,undefined \
              -fno-sanitize-recover=all \
              -DREQUEST__PARALLEL_RUN_BYTES=48 -DREQUEST__AHEAD_RUN_BYTES=24 -DREADER_BATCH=16 -DREADER_FIRST_BYTES=32
FUZZ_OBJ := $(patsubst src/%.c,$(FUZZ_DIR)/obj/%.o,$(filter-out src/main.c src/server.c src/server_reply.c src/server_head.c src/grpc.c src/grpc_call.c src/grpc_reply.c,$(wildcard src/*.c))) \
            $(FUZZ_DIR)/obj/openapi_doc.o $(FUZZ_DIR)/obj/playground_doc.o $(FUZZ_DIR)/obj/descriptors_doc.o

$(FUZZ_DIR)/obj/%_doc.o: $(BUILD)/gen/%_doc.c
	$(call say,CLANG,$<)mkdir -p $(@D) && clang $(FUZZ_FLAGS) -Isrc -c -o $@ $<

$(FUZZ_DIR)/obj/%.o: src/%.c
	$(call say,CLANG,$<)mkdir -p $(@D) && clang $(FUZZ_FLAGS) -MMD -MP -fsanitize=fuzzer-no-link $(FUZZ_ISA) -c -o $@ $<

ifeq ($(shell $(CC) -dumpmachine | cut -d- -f1),x86_64)
$(FUZZ_DIR)/obj/lrelu_avx2.o: FUZZ_ISA := -mavx2
$(FUZZ_DIR)/obj/lrelu_avx512f.o: FUZZ_ISA := -mavx512f
endif

$(FUZZ_DIR)/fuzz_request: tests/fuzz_request.c $(FUZZ_OBJ)
	$(call say,CLANG,$@)clang $(FUZZ_FLAGS) -MMD -MP -MF $@.d -fsanitize=fuzzer -o $@ $(filter %.c %.o,$^) -ljansson -lz -lm

# The whole HTTP path: the same objects with the server's three files, and
# the real libmicrohttpd. -close_fd_mask=2 drops the server's stderr
# (libmicrohttpd's warning for every unfinished request); the target's
# findings and the sanitizers' reports still show.
FUZZ_HTTP_OBJ := $(FUZZ_OBJ) $(FUZZ_DIR)/obj/server.o $(FUZZ_DIR)/obj/server_reply.o \
                 $(FUZZ_DIR)/obj/server_head.o $(FUZZ_DIR)/obj/grpc.o $(FUZZ_DIR)/obj/grpc_call.o \
                 $(FUZZ_DIR)/obj/grpc_reply.o
FUZZ_HTTP_RUN := $(FUZZ_DIR)/fuzz_http -close_fd_mask=2

$(FUZZ_DIR)/fuzz_http: tests/fuzz_http.c tests/fuzz_http_replies.c $(FUZZ_HTTP_OBJ)
	$(call say,CLANG,$@)clang $(FUZZ_FLAGS) -MMD -MP -MF $@.d -fsanitize=fuzzer -o $@ $(filter %.c %.o,$^) \
	    -lmicrohttpd -lnghttp2 -ljansson -lz -lm -lpthread

# The gRPC methods with no HTTP/2: any bytes as any method's message.
$(FUZZ_DIR)/fuzz_rpc: tests/fuzz_rpc.c $(FUZZ_OBJ)
	$(call say,CLANG,$@)clang $(FUZZ_FLAGS) -MMD -MP -MF $@.d -fsanitize=fuzzer -o $@ $(filter %.c %.o,$^) -ljansson -lz -lm

-include $(FUZZ_HTTP_OBJ:.o=.d) $(FUZZ_DIR)/fuzz_request.d $(FUZZ_DIR)/fuzz_http.d $(FUZZ_DIR)/fuzz_rpc.d

FUZZ_PKGS := clang libclang-rt-14-dev libjansson-dev zlib1g-dev libmicrohttpd-dev libnghttp2-dev \
             protobuf-compiler

fuzz:
	$(Q)./tools/ensure-packages $(FUZZ_PKGS)
	$(Q)$(MAKE) --no-print-directory $(FUZZ_DIR)/fuzz_request $(FUZZ_DIR)/fuzz_http $(FUZZ_DIR)/fuzz_rpc
	mkdir -p $(FUZZ_DIR)/corpus && cp tests/fuzz_corpus/* $(FUZZ_DIR)/corpus/
	$(FUZZ_DIR)/fuzz_request -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
	    $(FUZZ_DIR)/corpus
	mkdir -p $(FUZZ_DIR)/corpus_http && cp tests/fuzz_corpus_http/* $(FUZZ_DIR)/corpus_http/
	$(FUZZ_HTTP_RUN) -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -dict=tests/fuzz_http.dict \
	    -print_final_stats=1 $(FUZZ_DIR)/corpus_http
	mkdir -p $(FUZZ_DIR)/corpus_rpc && cp tests/fuzz_corpus_rpc/* $(FUZZ_DIR)/corpus_rpc/
	$(FUZZ_DIR)/fuzz_rpc -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
	    $(FUZZ_DIR)/corpus_rpc

# Replays the seeds and every input that once crashed (tests/fuzz_corpus/,
# tests/fuzz_corpus_http/).
fuzz-check:
	$(Q)./tools/ensure-packages $(FUZZ_PKGS)
	$(Q)$(MAKE) --no-print-directory $(FUZZ_DIR)/fuzz_request $(FUZZ_DIR)/fuzz_http $(FUZZ_DIR)/fuzz_rpc
	$(FUZZ_DIR)/fuzz_request tests/fuzz_corpus/*
	$(FUZZ_HTTP_RUN) tests/fuzz_corpus_http/*
	$(FUZZ_DIR)/fuzz_rpc tests/fuzz_corpus_rpc/*

deps-build:
	$(Q)./tools/ensure-packages $(PKGS_BUILD)

deps-test:
	$(Q)./tools/ensure-packages $(PKGS_TEST)

run: deps-build
	$(Q)$(MAKE) --no-print-directory $(SERVER)
	exec ./$(SERVER) --bind 127.0.0.1 --port $(PORT)

# The unit and integration tests are one TAP binary; the integration tests
# start $(SERVER). tests/cli.sh repeats the contract through the curl tool.
# The generated documents must be what their generators write; the links
# of the README and docs/ must resolve, and their examples print what they
# show (tests/docs_examples.py, after Node.js is there for the README's).
# tests/compile_fail/assert_eq_double.c must not compile (ASSERT_EQ on a double).
test: deps-test
	$(Q)$(MAKE) --no-print-directory $(SERVER) $(TESTBIN)
	$(Q)$(CHECK_LAYERS)
	$(Q)$(CC) -std=c11 -fsyntax-only tests/compile_fail/assert_eq_double.c 2>&1 | \
	    grep -q 'ASSERT_EQ on a floating value' || \
	    { echo "tests/compile_fail/assert_eq_double.c: ASSERT_EQ took a double" >&2; exit 1; }
	LEAKYRELU_SERVER=./$(SERVER) ./$(TESTBIN)
	./tests/cli.sh ./$(SERVER)
	./tests/prometheus.sh ./$(SERVER)
	python3 tests/plot_check.py ./$(SERVER)
	python3 tests/grpc_check.py ./$(SERVER)
	/usr/bin/python3 tests/h2_attacks.py ./$(SERVER)
	/usr/bin/python3 tests/grpc_bounds.py ./$(SERVER)
	$(Q)python3 tools/gen_openapi.py $(VERSION) | cmp -s - src/openapi.json || \
	    { echo "src/openapi.json differs from tools/gen_openapi.py's: make openapi" >&2; exit 1; }
	$(Q)python3 tools/gen_errors_md.py | cmp -s - docs/errors.md || \
	    { echo "docs/errors.md differs from tools/gen_errors_md.py's: make errors-doc" >&2; exit 1; }
	python3 tests/docs_links.py
	$(Q)command -v node > /dev/null && command -v npm > /dev/null || ./tools/ensure-packages nodejs npm
	$(Q)npm ci --prefix tests/openapi --silent --no-audit --no-fund
	node tests/openapi/check.mjs ./$(SERVER)
	$(Q)npm ci --prefix tests/grpc_node --silent --no-audit --no-fund
	node tests/grpc_node/check.mjs ./$(SERVER)
	python3 tests/docs_examples.py ./$(SERVER)
	./tests/examples.sh ./$(SERVER)
	$(Q)command -v chromium > /dev/null || command -v chromium-browser > /dev/null || \
	    ./tools/ensure-packages chromium
	$(Q)npm ci --prefix tests/browser --silent --no-audit --no-fund
	node tests/browser/check.mjs ./$(SERVER) $(BUILD)

# The manifests against Kubernetes' schemas (kubernetes-models from npm,
# pinned in tests/k8s/package-lock.json; no cluster needed), and every
# port, path, flag and variable they, the compose file and the Dockerfile
# name against the server. Node.js from Debian when there is none.
test-deploy: deps-build
	$(Q)$(MAKE) --no-print-directory $(SERVER)
	$(Q)command -v node > /dev/null && command -v npm > /dev/null || ./tools/ensure-packages nodejs npm
	$(Q)npm ci --prefix tests/k8s --silent --no-audit --no-fund
	node tests/k8s/check.mjs ./$(SERVER)

# The container as users run it, with podman and docker-compose over
# podman's socket (no Docker engine needed): the image built from a
# debootstrap base, run read-only; then three replicas behind nginx.
PKGS_CONTAINER := podman runc debootstrap docker-compose iptables netavark aardvark-dns \
                  python3 curl python3-grpcio
test-container:
	$(Q)./tools/ensure-packages $(PKGS_CONTAINER)
	timeout 900 ./tests/container/image.sh
	timeout 900 ./tests/container/compose.sh

# The long suites, run by hand (about 5 minutes): the TAP suite at full
# size, slowloris, three 30 s load runs, vanishing clients under valgrind.
test-hard: deps-test
	$(Q)./tools/ensure-packages wrk valgrind python3
	$(Q)$(MAKE) --no-print-directory $(SERVER) $(TESTBIN)
	LEAKYRELU_SERVER=./$(SERVER) ./tests/hard.sh $(BUILD)

# Runs the tests with the server and the test binary under valgrind.
valgrind: deps-test
	$(Q)$(MAKE) --no-print-directory $(SERVER) $(TESTBIN)
	$(Q)./tools/ensure-packages valgrind
	LEAKYRELU_SERVER=./$(SERVER) LEAKYRELU_WRAPPER="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99" \
	    valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 ./$(TESTBIN)

install: $(SERVER)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(SERVER) $(DESTDIR)$(PREFIX)/bin/leakyrelu-server

# Regenerates the committed power tables of the number codec.
tables:
	python3 tools/gen_numtables.py > src/numtables.c

clean:
	rm -rf build

-include $(OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/obj/main.d $(wildcard $(BUILD)/bench/*.d)
