# The two commands: `make demo` and `make test`. Both install what they need
# (apt-get, as root), build, and run. Everything else is a building block.

BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CTEST = cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600

# Debian bookworm packages the build, the tests and the demo need.
PACKAGES = build-essential cmake pkg-config libcpp-httplib-dev libhttp-parser-dev nlohmann-json3-dev \
           libspdlog-dev libmount-dev catch2 e2fsprogs xfsprogs curl util-linux \
           systemd binutils python3 docker.io busybox-static iproute2 docker-registry \
           clang libclang-rt-14-dev fio libssl-dev

.PHONY: all deps build test test-unit test-system demo bench format clean plugins test-packaging \
        test-e2e install uninstall publish fuzz

all: build

# Installs only what is missing, so it is quick on a machine that has it all.
deps:
	@missing=$$(for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install packages" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	cmake -S . -B $(BUILD_DIR) -DHELIX_WERROR=ON >/dev/null
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: plugins
	$(CTEST)

test-unit: build
	$(CTEST) -L unit

test-system: build
	$(CTEST) -L system

test-packaging: plugins
	$(CTEST) -L packaging

test-e2e: plugins
	$(CTEST) -L e2e

demo: plugins
	HELIXVOL_BUNDLE=$(CURDIR)/$(BUILD_DIR)/plugins/helixvol HELIXVOL_BINARY=$(CURDIR)/$(BUILD_DIR)/helixvol \
	  demo/desktop-demo.sh

# Benchmarks against baselines measured in the same run (bench/run.sh): prints the table
# and writes it into docs/BENCHMARKS.md. BENCH_QUICK=1: fewer runs, smaller data.
bench: plugins
	HELIXVOL_BUNDLE=$(CURDIR)/$(BUILD_DIR)/plugins/helixvol HELIXVOL_BINARY=$(CURDIR)/$(BUILD_DIR)/helixvol \
	  HELIXAUTHZ_BINARY=$(CURDIR)/$(BUILD_DIR)/helixauthz bench/run.sh

# The managed plugin bundle, assembled offline (see rootfs/README.md).
HELIXVOL_TOOLS = mkfs.ext4 e2fsck tune2fs resize2fs mkfs.xfs
plugins: build
	rootfs/build.sh $(BUILD_DIR)/plugins/helixvol config.json $(BUILD_DIR)/helixvol $(HELIXVOL_TOOLS)
	rootfs/build.sh $(BUILD_DIR)/plugins/helixauthz authz-plugin/config.json $(BUILD_DIR)/helixauthz

# Creates and enables a plugin in the engine DOCKER_HOST points at: PLUGIN
# is helixvol (the default) or helixauthz; PLUGIN_NAME is the name the engine
# knows it by. helixauthz starts with the shipped policy when
# /etc/helixauthz/policy.json is missing, and is in force only once the
# engine's daemon.json names it (docs/helixauthz.md).
PLUGIN ?= helixvol
PLUGIN_NAME ?= $(PLUGIN)
PLUGIN_STATE_helixvol = mkdir -p /var/lib/helixvol
PLUGIN_STATE_helixauthz = mkdir -p /etc/helixauthz && \
  { [ -f /etc/helixauthz/policy.json ] || cp authz-plugin/policy.json /etc/helixauthz/policy.json; }
PLUGIN_CONFIG_helixvol = config.json
PLUGIN_CONFIG_helixauthz = authz-plugin/config.json
install: plugins
	@[ -n "$(PLUGIN_CONFIG_$(PLUGIN))" ] || { echo "make install: PLUGIN is helixvol or helixauthz" >&2; exit 1; }
	$(PLUGIN_STATE_$(PLUGIN))
	docker plugin create $(PLUGIN_NAME) $(BUILD_DIR)/plugins/$(PLUGIN)
	docker plugin enable $(PLUGIN_NAME)

uninstall:
	-docker plugin disable $(PLUGIN_NAME)
	docker plugin rm $(PLUGIN_NAME)

# Pushes PLUGIN to REGISTRY (host:port) as REGISTRY/PLUGIN:VERSION.
# PLUGIN_SETTINGS ("DEFAULT_SIZE=50G LOG_LEVEL=debug") become the pushed
# manifest's defaults, so `docker plugin install` starts with them.
VERSION ?= latest
PUBLISH_DIR = $(BUILD_DIR)/plugins/$(PLUGIN)-publish
publish: plugins
	@[ -n "$(REGISTRY)" ] || { echo "make publish: set REGISTRY=host:port" >&2; exit 1; }
	@[ -n "$(PLUGIN_CONFIG_$(PLUGIN))" ] || { echo "make publish: PLUGIN is helixvol or helixauthz" >&2; exit 1; }
	rm -rf $(PUBLISH_DIR) && cp -a $(BUILD_DIR)/plugins/$(PLUGIN) $(PUBLISH_DIR)
	rootfs/set-defaults $(PLUGIN_CONFIG_$(PLUGIN)) $(PUBLISH_DIR)/config.json $(PLUGIN_SETTINGS)
	-docker plugin rm -f $(REGISTRY)/$(PLUGIN):$(VERSION) 2>/dev/null
	docker plugin create $(REGISTRY)/$(PLUGIN):$(VERSION) $(PUBLISH_DIR)
	docker plugin push $(REGISTRY)/$(PLUGIN):$(VERSION)
	docker plugin rm -f $(REGISTRY)/$(PLUGIN):$(VERSION)
	rm -rf $(PUBLISH_DIR)

# libFuzzer over helixauthz's request layer, in its own clang build directory
# (tests/fuzz/run_fuzz.sh; `make test` runs the same for 20 seconds). New
# corpus entries go to $(FUZZ_DIR)/corpus, crashes to $(FUZZ_DIR)/artifacts.
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 300
fuzz: deps
	FUZZ_BUILD_DIR=$(CURDIR)/$(FUZZ_DIR) tests/fuzz/run_fuzz.sh $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR)
