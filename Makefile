# Thin wrapper over CMake. `make help` lists the targets.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 60
CMAKE      ?= cmake
CTEST_ARGS ?= --output-on-failure

# Debian 12 packages for building, testing, fuzzing and the integration peers.
# --no-install-recommends: wireguard-tools would otherwise pull in a kernel image.
DEPS := build-essential cmake pkg-config clang libclang-rt-14-dev \
        libsodium-dev libb2-dev libboost-dev libyaml-cpp-dev libspdlog-dev \
        libgtest-dev libgmock-dev libbenchmark-dev \
        libmnl-dev libnftables-dev libqrencode-dev nlohmann-json3-dev libcli11-dev libsystemd-dev zlib1g-dev \
        wireguard-go wireguard-tools iproute2 nftables iperf3 iputils-ping procps zbar-tools python3

PREFIX     ?= /usr/local
SYSTEMD_DIR ?= /etc/systemd/system

.PHONY: all build deps test unit asan fuzz bench demo install clean help

all: build

help:
	@echo "make deps   install build and test dependencies (apt, idempotent)"
	@echo "make        build Release into $(BUILD)/"
	@echo "make test   build and run the whole suite with CTest"
	@echo "make unit   build and run only the unit tests"
	@echo "make asan   build and run the unit tests under ASan+UBSan"
	@echo "make fuzz   build the libFuzzer targets with clang, run each FUZZ_SECONDS (default 60)"
	@echo "make bench  build Release, then bench/run.sh (root): wgate vs wireguard-go in namespaces + micro-benchmarks"
	@echo "make demo   the lab demo: a laptop reaches a lab VM through wgate, in namespaces (root)"
	@echo "make install  binaries to PREFIX/bin, wgated@.service, example config to /etc/wgate"

deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(BUILD)/CMakeCache.txt:
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: $(BUILD)/CMakeCache.txt
	$(CMAKE) --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest $(CTEST_ARGS)

unit: build
	cd $(BUILD) && ctest $(CTEST_ARGS) -L unit

asan:
	$(CMAKE) -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWGATE_SANITIZE=ON -DWGATE_BENCH=OFF
	$(CMAKE) --build $(ASAN_BUILD) -j $(JOBS) --target wgate_unit_tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(ASAN_BUILD)/tests/wgate_unit_tests --gtest_brief=1

fuzz:
	CC=clang CXX=clang++ $(CMAKE) -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DWGATE_FUZZ=ON -DWGATE_TESTS=OFF -DWGATE_BENCH=OFF
	$(CMAKE) --build $(FUZZ_BUILD) -j $(JOBS)
	@for t in $(FUZZ_BUILD)/fuzz/fuzz_*; do \
		name=$$(basename $$t); corpus=$(FUZZ_BUILD)/corpus/$$name; mkdir -p $$corpus; \
		echo "== $$name for $(FUZZ_SECONDS)s"; \
		log=$(FUZZ_BUILD)/$$name.log; \
		$$t -max_total_time=$(FUZZ_SECONDS) $$corpus fuzz/seeds/$$name > $$log 2>&1 || { tail -n 60 $$log; exit 1; }; \
		grep -E '(DONE|Done) ' $$log; \
	done

# Release build, then the namespace benchmark against wireguard-go and the
# micro-benchmarks; writes bench/results/latest.{md,json}. BENCH_QUICK=1: smoke run.
bench:
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DWGATE_BENCH=ON
	$(MAKE) build
	BUILD_DIR=$(abspath $(BUILD)) bash bench/run.sh

# The lab story in network namespaces, narrated (tests/integration/demo.sh is
# also the CTest integration_demo). Needs root.
demo: deps $(BUILD)/CMakeCache.txt
	$(CMAKE) --build $(BUILD) -j $(JOBS) --target wgated wgate
	WGATED=$(CURDIR)/$(BUILD)/bin/wgated WGATE=$(CURDIR)/$(BUILD)/bin/wgate DEMO_NARRATE=1 \
		bash tests/integration/demo.sh

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSTEMD_DIR) $(DESTDIR)/etc/wgate $(DESTDIR)$(PREFIX)/share/doc/wgate
	install -d -m 0700 $(DESTDIR)/etc/wgate/keys
	install -m 0755 $(BUILD)/bin/wgated $(DESTDIR)$(PREFIX)/bin/wgated
	if [ -x $(BUILD)/bin/wgate ]; then install -m 0755 $(BUILD)/bin/wgate $(DESTDIR)$(PREFIX)/bin/wgate; fi
	install -m 0644 systemd/wgated@.service $(DESTDIR)$(SYSTEMD_DIR)/wgated@.service
	install -m 0644 config/gateway.yaml $(DESTDIR)$(PREFIX)/share/doc/wgate/gateway.yaml.example
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/wgate/README.md
	@# Never overwrite a config in use: it holds the peers.
	if [ ! -e $(DESTDIR)/etc/wgate/wg0.yaml ]; then \
		sed 's|^  private_key_file: ../keys/gateway.key|  private_key_file: keys/gateway.key|' config/gateway.yaml > $(DESTDIR)/etc/wgate/wg0.yaml; \
		chmod 0600 $(DESTDIR)/etc/wgate/wg0.yaml; fi
	@echo "installed; edit /etc/wgate/wg0.yaml, then: systemctl daemon-reload && systemctl enable --now wgated@wg0"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
