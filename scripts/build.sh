#!/usr/bin/env bash
# Configures and builds everything with CMake.
#   BUILD_DIR         build folder (default build; relative paths are from the repo root)
#   CMAKE_BUILD_TYPE  RelWithDebInfo (default), Debug, Release or Sanitize
#   CMAKE_ARGS        extra arguments for the configure step (word-split)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build_dir=$(abs_path "${BUILD_DIR:-build}")
build_type=${CMAKE_BUILD_TYPE:-RelWithDebInfo}
read -r -a extra <<<"${CMAKE_ARGS:-}"

cmake -S "$CRAFT_REPO" -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" "${extra[@]}"
cmake --build "$build_dir" -j"$(nproc)"
