# Thin entry points; the work is done by the scripts in scripts/.
#   make run | test | stop | build | unit | system | browser | status | logs
#   make format | format-check | lint | sanitize | bench | soak | fuzz | deploy-check | clean | distclean
#   make images | compose-test
.DEFAULT_GOAL := build
SHELL := /bin/bash

FORMAT_DIRS := lib services tools tests/unit fuzz
FORMAT_FILES = find $(FORMAT_DIRS) -type f \( -name '*.c' -o -name '*.h' \) -print0 2>/dev/null

.PHONY: build run test stop status logs unit system browser format format-check lint sanitize \
	bench soak fuzz deploy-check images compose-test clean distclean

build:
	scripts/deps.sh
	scripts/build.sh

run:
	scripts/run.sh

# Every test: unit, system and browser (scripts/test.sh), clang-tidy over the
# sources it built (scripts/lint.sh), the hardening of the built binaries, what
# each binary links, the offline deployment checks, and a bounded libFuzzer run
# (TEST_FUZZ_SECONDS per target).
TEST_FUZZ_SECONDS ?= 10
test:
	scripts/check-banned.sh
	scripts/test.sh
	scripts/lint.sh
	scripts/check-hardening.sh
	scripts/check-links.sh
	scripts/deploy-check.sh
	fuzz/run.sh $(TEST_FUZZ_SECONDS)

unit:
	scripts/test.sh unit

system:
	scripts/test.sh system

browser:
	scripts/test.sh browser

stop:
	scripts/stack.sh down

status:
	-scripts/stack.sh status

logs:
	scripts/stack.sh logs

format:
	$(FORMAT_FILES) | xargs -0 -r clang-format -i

format-check:
	$(FORMAT_FILES) | xargs -0 -r clang-format --dry-run --Werror
	scripts/check-banned.sh

# clang-tidy over lib/, services/ and tools/ (.clang-tidy names the checks).
lint:
	scripts/lint.sh

sanitize:
	BUILD_DIR=build-sanitize CMAKE_BUILD_TYPE=Sanitize scripts/test.sh

bench:
	@if [ -x bench/run.sh ]; then bench/run.sh; \
	else echo "no benchmarks yet: bench/run.sh is missing" >&2; exit 1; fi

# Chaos under load (soak/run.sh): SOAK_SECONDS (default 300), SOAK_SANITIZE=1 for the
# ASan+UBSan build. Not part of test; .ci/run runs its 60-second variant.
soak:
	soak/run.sh

# libFuzzer targets (clang) in build-fuzz/, FUZZ_SECONDS per target (default 60).
fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

# Offline checks of the Dockerfile, docker-compose.yml and deploy/k8s, with their
# mutation test (also part of test).
deploy-check:
	scripts/deploy-check.sh

# The five images (Docker engine started and base image made when missing); fails when
# one is over 15 MB.
images:
	scripts/images.sh

# docker-compose.yml brought up end to end, the third-party images swapped for stand-ins
# built here (tests/compose/); needs `make images` first.
compose-test:
	scripts/compose-test.sh

clean:
	rm -rf build build-sanitize build-fuzz build-bench

# Also stops the development stack and removes its data (var/).
distclean: clean
	scripts/stack.sh down
	rm -rf var
