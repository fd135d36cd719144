#!/usr/bin/env bash
# clang-tidy over lib/, services/ and tools/ with the checks of .clang-tidy; any
# finding fails. Uses the build folder's compile_commands.json (configuring the build
# when it has none) and runs one clang-tidy per core.
#   BUILD_DIR   build folder (default build)
#   LINT_JOBS   parallel clang-tidy processes (default: the number of cores)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build_dir=$(abs_path "${BUILD_DIR:-build}")
jobs=${LINT_JOBS:-$(nproc)}
tidy=$(command -v clang-tidy || command -v clang-tidy-14 || true)
[[ -n $tidy ]] || die "clang-tidy is missing (scripts/deps.sh installs it)"

if [[ ! -f $build_dir/compile_commands.json ]]; then
	cmake -S "$CRAFT_REPO" -B "$build_dir" >/dev/null
fi

cd "$CRAFT_REPO"
mapfile -t files < <(git ls-files -- 'lib/*.c' 'services/*.c' 'tools/*.c')
((${#files[@]} > 0)) || die "no sources to lint"
say "clang-tidy: ${#files[@]} files, $jobs at a time"
if ! printf '%s\0' "${files[@]}" |
	xargs -0 -n 1 -P "$jobs" "$tidy" -p "$build_dir" --quiet 2> >(grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' >&2); then
	die "clang-tidy found problems (see above; .clang-tidy lists the checks)"
fi
say "clang-tidy: clean"
