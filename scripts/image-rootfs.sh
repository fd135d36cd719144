#!/usr/bin/env bash
# Lays out the root filesystem of a FROM-scratch image (run in the Dockerfile's build
# stage):
#
#   scripts/image-rootfs.sh DEST BINARY...
#
# DEST gets each BINARY in usr/local/bin, exactly the shared libraries they load (the
# closure of their DT_NEEDED entries, resolved in the library folders as the dynamic
# loader does, stripped) flat in usr/lib/<multiarch>, the dynamic loader at the path the
# binaries name (PT_INTERP), the CA certificates, passwd/group/nsswitch.conf with the
# service user craft (UID/GID 10001), /tmp, and /var/lib/craftista/keys owned by craft.
# Nothing else: no shell, no package manager, no libc tools.
#
# Environment: READELF and STRIP (default readelf and strip; a cross toolchain's for
# another architecture), MULTIARCH (default: gcc -print-multiarch), LIB_DIRS (the
# folders searched, colon-separated; default /usr/local/lib and the multiarch folders).
set -euo pipefail

die() {
	printf 'image-rootfs: %s\n' "$*" >&2
	exit 1
}

(($# >= 2)) || die "usage: image-rootfs.sh DEST BINARY..."
DEST=$1
shift
READELF=${READELF:-readelf}
STRIP=${STRIP:-strip}
MULTIARCH=${MULTIARCH:-$(gcc -print-multiarch)}
LIB_DIRS=${LIB_DIRS:-/usr/local/lib/$MULTIARCH:/usr/local/lib:/lib/$MULTIARCH:/usr/lib/$MULTIARCH}
LIBDIR=usr/lib/$MULTIARCH

# needed FILE: the sonames FILE names in DT_NEEDED, one a line.
needed() {
	"$READELF" -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'
}

# resolve SONAME: the first file of that name in LIB_DIRS.
resolve() {
	local dir
	local -a dirs
	IFS=: read -r -a dirs <<<"$LIB_DIRS"
	for dir in "${dirs[@]}"; do
		if [[ -e $dir/$1 ]]; then
			printf '%s\n' "$dir/$1"
			return 0
		fi
	done
	die "$1 not found in $LIB_DIRS"
}

# copy_libs LOADER FILE...: every library FILE... loads, directly or not, into
# DEST/LIBDIR; LOADER (the dynamic loader's soname) is not copied again.
copy_libs() {
	local -a queue=("${@:2}")
	local file soname path
	declare -A seen=(["$1"]=1)
	while ((${#queue[@]})); do
		file=${queue[0]}
		queue=("${queue[@]:1}")
		while read -r soname; do
			[[ -n $soname && -z ${seen[$soname]:-} ]] || continue
			seen[$soname]=1
			path=$(resolve "$soname")
			install -m 0755 "$(readlink -f "$path")" "$DEST/$LIBDIR/$soname"
			"$STRIP" --strip-unneeded "$DEST/$LIBDIR/$soname"
			queue+=("$path")
		done < <(needed "$file")
	done
}

interpreter() {
	"$READELF" -l "$1" | sed -n 's/.*Requesting program interpreter: \(.*\)\]$/\1/p'
}

# The user the images run as, and the name lookups glibc does from files.
write_etc() {
	install -d -m 0755 "$DEST/etc/ssl/certs"
	install -m 0644 /etc/ssl/certs/ca-certificates.crt "$DEST/etc/ssl/certs/"
	printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
		'craft:x:10001:10001:Craftista:/app:/sbin/nologin' >"$DEST/etc/passwd"
	printf '%s\n' 'root:x:0:' 'craft:x:10001:' >"$DEST/etc/group"
	printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$DEST/etc/nsswitch.conf"
	chmod 0644 "$DEST/etc/passwd" "$DEST/etc/group" "$DEST/etc/nsswitch.conf"
}

main() {
	local bin interp
	install -d -m 0755 "$DEST/usr/local/bin" "$DEST/$LIBDIR" "$DEST/app"
	install -d -m 1777 "$DEST/tmp"
	install -d -m 0700 -o 10001 -g 10001 "$DEST/var/lib/craftista" "$DEST/var/lib/craftista/keys"
	for bin in "$@"; do
		install -m 0755 "$bin" "$DEST/usr/local/bin/"
		"$STRIP" "$DEST/usr/local/bin/${bin##*/}"
	done
	interp=$(interpreter "$1")
	[[ -n $interp ]] || die "$1 names no dynamic loader"
	copy_libs "${interp##*/}" "$@"
	install -D -m 0755 "$(readlink -f "$interp")" "$DEST$interp"
	write_etc
}

main "$@"
