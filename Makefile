# husk — the two set-up commands are `make demo` and `make check`; both install what
# they need from Debian first (scripts/install-deps.sh), so each works alone on a fresh
# Debian 12 machine as root.
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all build deps demo check unit integration vm-check vm-v2 vm-v1 vm-criu asan asan-check install bench load-check clean valgrind-check fuzz fuzz-build

all: build

deps:
	@sh scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) >/dev/null

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dtest_hooks=true >/dev/null

asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

demo: deps build
	sh scripts/demo.sh $(BUILD)/husk

unit: build
	meson test -C $(BUILD) --print-errorlogs

integration: build
	HUSK=$(CURDIR)/$(BUILD)/husk tests/run-integration.sh

# cgroup v2 for real: boot Debian's kernel under qemu with cgroup_no_v1=all and run
# tests/vm/v2.sh inside it; then the same harness on a pure v1 layout (tests/vm/v1.sh);
# then checkpoint/restore (tests/vm/criu.sh), which this host's kernel is too new for.
vm-check: vm-v2 vm-v1 vm-criu

vm-v2: build
	sh tests/vm/run-vm.sh $(BUILD)/husk v2

vm-v1: build
	sh tests/vm/run-vm.sh $(BUILD)/husk v1

vm-criu: build
	sh tests/vm/run-vm.sh $(BUILD)/husk hybrid criu

# Every stage (unit, integration, VM v2 and v1, unit + integration again under
# ASan+UBSan, the fuzzers), each run even when one before it failed; one summary
# line per stage at the end (scripts/check.sh).
check: deps build
	@MAKE="$(MAKE)" bash scripts/check.sh

# libFuzzer targets for the config and state.json parsers (tests/fuzz/), clang with
# ASan+UBSan in their own build dir; the gcc builds above are unaffected.
FUZZ_BUILD ?= build-fuzz
FUZZ_TIME ?= 3600
$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

fuzz-build: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD) fuzz_config fuzz_state

# Long run: FUZZ_TIME seconds per target (default one hour each).
fuzz: fuzz-build
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TIME)

asan-check: asan
	meson test -C $(ASAN_BUILD) --print-errorlogs
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  HUSK=$(CURDIR)/$(ASAN_BUILD)/husk tests/run-integration.sh

# The integration suite with every husk process under valgrind's memcheck (leaks
# and memory errors in husk's own processes, not in the container's programs):
# slow (see docs/testing.md), so not part of check. tests/valgrind/run.sh.
VG_BUILD ?= build-valgrind
valgrind-check: deps
	[ -f $(VG_BUILD)/build.ninja ] || meson setup $(VG_BUILD) -Dtest_hooks=true >/dev/null
	meson configure $(VG_BUILD) -Dstatic=disabled   # memcheck replaces malloc only in a shared libc
	ninja -C $(VG_BUILD)
	sh tests/valgrind/run.sh $(VG_BUILD)/husk

install: build
	install -D -m 0755 $(BUILD)/husk $(DESTDIR)$(PREFIX)/bin/husk
	install -D -m 0755 $(BUILD)/husk-engine $(DESTDIR)$(PREFIX)/libexec/husk/husk-engine
	install -D -m 0755 $(BUILD)/husk-engine-lean $(DESTDIR)$(PREFIX)/libexec/husk/husk-engine-lean
	install -D -m 0755 $(BUILD)/husk-monitor $(DESTDIR)$(PREFIX)/libexec/husk/husk-monitor

bench: deps build
	bash bench/bench.sh $(CURDIR)/$(BUILD)/husk
	bash bench/engine.sh $(CURDIR)/$(BUILD)/husk
	bash bench/image.sh $(CURDIR)/$(BUILD)/husk

# Long load tests (minutes, not in check): 500 lifecycles 8 at a time with contested
# ids, then 200 containers running at once; each prints a "load:" summary line.
load-check: deps build
	HUSK=$(CURDIR)/$(BUILD)/husk bash tests/load/lifecycles.sh 500 8
	HUSK=$(CURDIR)/$(BUILD)/husk bash tests/load/many.sh 200 8

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
