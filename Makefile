# Thin entry points; the work is done by the scripts in scripts/.
#   make run | test | stop | build | unit | system | browser | status | logs
#   make format | format-check | sanitize | bench | clean | distclean
.DEFAULT_GOAL := build
SHELL := /bin/bash

FORMAT_DIRS := lib services tools tests/unit fuzz
FORMAT_FILES = find $(FORMAT_DIRS) -type f \( -name '*.c' -o -name '*.h' \) -print0 2>/dev/null

.PHONY: build run test stop status logs unit system browser format format-check sanitize \
	bench clean distclean

build:
	scripts/deps.sh
	scripts/build.sh

run:
	scripts/run.sh

test:
	scripts/test.sh

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

sanitize:
	BUILD_DIR=build-sanitize CMAKE_BUILD_TYPE=Sanitize scripts/test.sh

bench:
	@if [ -x bench/run.sh ]; then bench/run.sh; \
	else echo "no benchmarks yet: bench/run.sh is missing" >&2; exit 1; fi

clean:
	rm -rf build build-sanitize

# Also stops the development stack and removes its data (var/).
distclean: clean
	scripts/stack.sh down
	rm -rf var
