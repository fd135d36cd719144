#!/usr/bin/env bash
# Builds the five images of the Dockerfile and checks their sizes (make images).
#
#   scripts/images.sh
#
# Starts a Docker engine when none answers (Debian's dockerd in the background) and,
# when no registry can give the base image, makes it locally (mmdebstrap). Tags
# craftista/<target>:$CRAFTISTA_TAG (default dev). Prints each image's size and fails
# when one is over 15 MB. Build logs: var/images/<target>.log.
#
# Environment: CRAFTISTA_TAG; DEBIAN_IMAGE (the base image, default debian:12-slim).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"
cd "$CRAFT_REPO"

TAG=${CRAFTISTA_TAG:-dev}
BASE=${DEBIAN_IMAGE:-debian:12-slim}
LOGS=var/images

build_all() {
	local target
	mkdir -p "$LOGS"
	for target in "${CRAFT_IMAGE_TARGETS[@]}"; do
		say "building craftista/$target:$TAG"
		if ! docker_build --progress=plain --build-arg "DEBIAN_IMAGE=$BASE" \
			--target "$target" -t "craftista/$target:$TAG" . >"$LOGS/$target.log" 2>&1; then
			tail -n 40 "$LOGS/$target.log" >&2
			die "building $target failed (log: $LOGS/$target.log)"
		fi
	done
}

# Sizes as `docker images` shows them (MB of 10^6 bytes); false when one is too big.
check_sizes() {
	local target bytes rc=0
	printf '%-28s %10s\n' IMAGE SIZE
	for target in "${CRAFT_IMAGE_TARGETS[@]}"; do
		bytes=$(docker image inspect -f '{{.Size}}' "craftista/$target:$TAG")
		printf '%-28s %7s MB\n' "craftista/$target:$TAG" "$(awk -v b="$bytes" 'BEGIN{printf "%.2f", b/1e6}')"
		if ((bytes > CRAFT_IMAGE_MAX_BYTES)); then
			printf 'not ok - craftista/%s is %s bytes, over %s\n' "$target" "$bytes" "$CRAFT_IMAGE_MAX_BYTES"
			rc=1
		fi
	done
	return "$rc"
}

main() {
	docker_engine_up
	docker_base_image "$BASE"
	build_all
	check_sizes || die "an image is over 15 MB"
	say "images: all built, each within 15 MB"
}

main "$@"
