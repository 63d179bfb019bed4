# askdocs - the two commands of README.md:
#   make run    set up everything, build, index the sample corpus, answer
#   make test   set up everything, build, run every test (ctest)
BUILD ?= build
DEMO_DATA ?= $(BUILD)/demo-index
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")

.PHONY: all setup build run test bench clean

all: build

setup:
	scripts/setup.sh

build: setup
	cmake -S . -B $(BUILD) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j2

run: build
	scripts/demo.sh $(BUILD)/askdocs $(DEMO_DATA)

test: build
	cd $(BUILD) && ctest --output-on-failure -j2 --timeout 1800

bench: build
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
