# Docker helpers for scripts/images.sh, images-emulated.sh, compose-test.sh and
# deploy-check.sh (sourced after lib.sh, never run). Callers set `set -euo pipefail`
# themselves.

# apt_install PACKAGE...: install Debian packages (as root, or through sudo).
apt_install() {
	local sudo=
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null 2>&1 || die "missing $*: install the Debian packages $*"
		sudo=sudo
	fi
	say "installing $*"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q >&2
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install \
		-y -q --no-install-recommends "$@" >&2
}

# docker_engine_up: make sure a Docker engine answers, starting Debian's dockerd in the
# background (as root, cgroupfs, overlay2) when none does. Its log goes to
# DOCKERD_LOG (default /var/log/dockerd.log).
docker_engine_up() {
	command -v docker >/dev/null 2>&1 || apt_install docker.io
	docker info >/dev/null 2>&1 && return 0
	command -v dockerd >/dev/null 2>&1 || apt_install docker.io
	[[ $(id -u) == 0 ]] || die "no Docker engine answers; start one (dockerd runs as root)"
	local log=${DOCKERD_LOG:-/var/log/dockerd.log} i
	say "starting dockerd (log: $log)"
	setsid nohup dockerd --exec-opt native.cgroupdriver=cgroupfs --storage-driver=overlay2 \
		</dev/null >>"$log" 2>&1 &
	for ((i = 0; i < 600; i++)); do
		docker info >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	tail -n 20 "$log" >&2 || true
	die "dockerd did not answer within 60 s"
}

# docker_base_image IMAGE: make IMAGE (a Debian 12 image such as debian:12-slim) when
# the engine lacks it and no registry can be asked: a minimal bookworm made by
# mmdebstrap from Debian's mirror, imported under that name.
docker_base_image() {
	local image=$1 tmp
	docker image inspect "$image" >/dev/null 2>&1 && return 0
	command -v mmdebstrap >/dev/null 2>&1 || apt_install mmdebstrap
	tmp=$(mktemp -d)
	say "making $image locally: mmdebstrap --variant=minbase bookworm"
	if ! mmdebstrap --quiet --variant=minbase bookworm "$tmp/base.tar" >&2; then
		rm -rf "$tmp"
		die "mmdebstrap failed"
	fi
	docker import "$tmp/base.tar" "$image" >/dev/null
	rm -rf "$tmp"
}

# compose_cmd: the compose command that works here (the plugin, else Debian's
# docker-compose, installed when missing).
compose_cmd() {
	if docker compose version >/dev/null 2>&1; then
		echo "docker compose"
		return
	fi
	command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose
	echo docker-compose
}

# docker_build ARG...: `docker build` through BuildKit: buildx where it is installed,
# else the engine's own BuildKit through Debian's docker client (which needs no plugin).
docker_build() {
	if docker buildx version >/dev/null 2>&1; then
		docker buildx build --load "$@"
	elif [[ -x /usr/bin/docker ]]; then
		DOCKER_BUILDKIT=1 /usr/bin/docker build "$@"
	else
		DOCKER_BUILDKIT=1 docker build "$@"
	fi
}

# The images of the Dockerfile's targets, and the size each must stay within
# (bytes, as `docker images` counts its MB).
CRAFT_IMAGE_TARGETS=(auth product recommendation frontend migrate)
CRAFT_IMAGE_MAX_BYTES=15000000
