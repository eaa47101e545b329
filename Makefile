# The two commands: `make demo` and `make test`. Both install what they need
# (apt-get, as root), build, and run. Everything else is a building block.

BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CTEST = cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600

# Debian bookworm packages the build, the tests and the demo need.
PACKAGES = build-essential cmake pkg-config libcpp-httplib-dev nlohmann-json3-dev \
           libspdlog-dev libmount-dev catch2 e2fsprogs xfsprogs curl util-linux

.PHONY: all deps build test test-unit test-system demo format clean

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

test: build
	$(CTEST)

test-unit: build
	$(CTEST) -L unit

test-system: build
	$(CTEST) -L system

demo: build
	demo/volume-demo.sh $(BUILD_DIR)/helixvol

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR)
