#!/usr/bin/env bash
# Builds the five images of the Dockerfile for each architecture and checks them
# (make images).
#
#   scripts/images.sh
#
# Starts a Docker engine when none answers (Debian's dockerd in the background) and,
# when no registry can give the base image, makes it locally (mmdebstrap). Tags
# craftista/<target>:$CRAFTISTA_TAG (default dev) for this machine's architecture and
# craftista/<target>:$CRAFTISTA_TAG-<arch> for the others (cross-compiled: the engine
# keeps one architecture per tag). Prints each image's size and fails when one is over
# 15 MB; starts the other architectures' binaries under qemu-user emulation
# (scripts/images-emulated.sh). Build logs: var/images/<target>[-<arch>].log.
#
# Environment: CRAFTISTA_TAG; DEBIAN_IMAGE (the base image, default debian:12-slim);
# IMAGE_ARCHES (default "amd64 arm64").
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"
cd "$CRAFT_REPO"

TAG=${CRAFTISTA_TAG:-dev}
BASE=${DEBIAN_IMAGE:-debian:12-slim}
LOGS=var/images
read -r -a ARCHES <<<"${IMAGE_ARCHES:-amd64 arm64}"
NATIVE=$(dpkg --print-architecture 2>/dev/null || echo amd64)

# image_ref TARGET ARCH: the tag of TARGET built for ARCH.
image_ref() {
	if [[ $2 == "$NATIVE" ]]; then
		printf 'craftista/%s:%s\n' "$1" "$TAG"
	else
		printf 'craftista/%s:%s-%s\n' "$1" "$TAG" "$2"
	fi
}

build_all() {
	local target arch ref log
	mkdir -p "$LOGS"
	for arch in "${ARCHES[@]}"; do
		for target in "${CRAFT_IMAGE_TARGETS[@]}"; do
			ref=$(image_ref "$target" "$arch")
			log=$LOGS/${ref#craftista/}.log
			say "building $ref (linux/$arch)"
			if ! docker_build --progress=plain --platform "linux/$arch" \
				--build-arg "DEBIAN_IMAGE=$BASE" --target "$target" -t "$ref" . >"$log" 2>&1; then
				tail -n 40 "$log" >&2
				die "building $ref failed (log: $log)"
			fi
		done
	done
}

# Sizes as `docker images` shows them (MB of 10^6 bytes); false when one is too big
# or not of its architecture.
check_sizes() {
	local target arch ref bytes got rc=0
	printf '%-34s %-6s %8s\n' IMAGE ARCH SIZE
	for arch in "${ARCHES[@]}"; do
		for target in "${CRAFT_IMAGE_TARGETS[@]}"; do
			ref=$(image_ref "$target" "$arch")
			read -r bytes got < <(docker image inspect -f '{{.Size}} {{.Architecture}}' "$ref")
			printf '%-34s %-6s %5s MB\n' "$ref" "$got" "$(awk -v b="$bytes" 'BEGIN{printf "%.2f", b/1e6}')"
			if ((bytes > CRAFT_IMAGE_MAX_BYTES)); then
				printf 'not ok - %s is %s bytes, over %s\n' "$ref" "$bytes" "$CRAFT_IMAGE_MAX_BYTES"
				rc=1
			fi
			if [[ $got != "$arch" ]]; then
				printf 'not ok - %s is built for %s\n' "$ref" "$got"
				rc=1
			fi
		done
	done
	return "$rc"
}

main() {
	local arch
	docker_engine_up
	docker_base_image "$BASE"
	build_all
	check_sizes || die "an image is over 15 MB or of the wrong architecture"
	for arch in "${ARCHES[@]}"; do
		[[ $arch == "$NATIVE" ]] && continue
		scripts/images-emulated.sh "$arch" || die "the $arch images do not run under emulation"
	done
	say "images: all built (${ARCHES[*]}), each within 15 MB"
}

main "$@"
