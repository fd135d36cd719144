# Craftista images: one Dockerfile, one target per image (see deploy/README.md).
#
#   docker build --target auth           -t craftista/auth .
#   docker build --target product        -t craftista/product .
#   docker build --target recommendation -t craftista/recommendation .
#   docker build --target frontend       -t craftista/frontend .
#   docker build --target migrate        -t craftista/migrate .
#
# Needs BuildKit (Docker 23 and later use it by default). `--platform linux/arm64` (or
# amd64) cross-compiles for that architecture with Debian's cross toolchain, with no
# emulation. `make images` builds all five for amd64 and arm64, checks their sizes and
# starts the other architecture's binaries under qemu-user. Each image is FROM scratch:
# its binary, the health probe, exactly the shared libraries they load, the dynamic
# loader, CA certificates and the passwd/group entries of the service user. No shell.
#
#   deps    Debian 12 with libcurl, libmicrohttpd and libpq rebuilt from Debian's own
#           sources without the features the services never use (LDAP, Kerberos,
#           RTMP, SSH, HTTP/2, IDN, PSL, brotli, zstd; no TLS server in microhttpd):
#           Debian's builds of these three load about 25 more libraries (GnuTLS,
#           p11-kit, libunistring, Kerberos, OpenLDAP, ...), 11 MB that would not fit.
#   build   the whole tree compiled once (Release, hardened); then one root
#           filesystem per image laid out by scripts/image-rootfs.sh.
#   runtime FROM scratch: user, environment and stop signal shared by the targets.

ARG DEBIAN_IMAGE=debian:12-slim

# ---------------------------------------------------------------- deps
# Runs on the builder's own platform and compiles for the target's (BuildKit's
# TARGETARCH): natively, or with Debian's cross toolchain and the target's multiarch
# -dev packages (`--platform linux/arm64` on an x86_64 machine), so no emulation is
# needed to build. /etc/craft-env (sourced by the later steps) names the target's
# triplet, its compiler and where pkg-config finds its libraries (those built here
# first, then Debian's).
FROM --platform=$BUILDPLATFORM ${DEBIAN_IMAGE} AS deps
ARG TARGETARCH
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Hardened like the services' own code (CMakeLists.txt).
ENV CFLAGS="-O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIC" \
    LDFLAGS="-Wl,-z,relro,-z,now"
RUN build=$(dpkg --print-architecture) && target=${TARGETARCH:-$build} \
 && case $target in \
      amd64) triplet=x86_64-linux-gnu ;; \
      arm64) triplet=aarch64-linux-gnu ;; \
      *) echo "unsupported architecture $target" >&2; exit 1 ;; \
    esac \
 && printf '%s\n' "triplet=$triplet" "export CC=$triplet-gcc" \
      "export PKG_CONFIG_LIBDIR=/usr/local/lib/pkgconfig:/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig" \
      >/etc/craft-env \
 && compiler=gcc \
 && if [[ $target != "$build" ]]; then \
      dpkg --add-architecture "$target" && compiler=gcc-${triplet//_/-}; \
    fi \
 && if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then \
      sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources; \
    fi \
 && if [[ -f /etc/apt/sources.list ]]; then \
      sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >/etc/apt/sources.list.d/src.list; \
    fi \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      "$compiler" make pkg-config cmake dpkg-dev xz-utils bzip2 ca-certificates \
      "libc6-dev:$target" "libssl-dev:$target" "zlib1g-dev:$target" \
      "libjansson-dev:$target" "libhiredis-dev:$target" "libcrypt-dev:$target" \
 && mkdir /deps && cd /deps \
 && for src in curl libmicrohttpd postgresql-15; do \
      apt-get source -q "$src" >/dev/null || apt-get source -q "$src/bookworm" >/dev/null; \
    done \
 && rm -rf /var/lib/apt/lists/*
# libcurl: HTTP and HTTPS (OpenSSL), zlib, the threaded resolver; nothing else.
RUN cd /deps/curl-*/ && . /etc/craft-env \
 && ./configure -q --host="$triplet" --prefix=/usr/local --disable-static --with-openssl --with-zlib \
      --enable-threaded-resolver --disable-manual --disable-docs \
      --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
      --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp \
      --disable-gopher --disable-mqtt --disable-ftp --disable-file \
      --without-libpsl --without-libidn2 --without-nghttp2 --without-brotli \
      --without-zstd --without-librtmp --without-libssh2 --without-gssapi \
 && make -s -C lib -j"$(nproc)" && make -s -C lib install && make -s -C include install \
 && make -s install-pkgconfigDATA
# libmicrohttpd: plain HTTP (TLS ends before the service: ingress or proxy).
RUN cd /deps/libmicrohttpd-*/ && . /etc/craft-env \
 && ./configure -q --host="$triplet" --prefix=/usr/local --disable-static --disable-https --disable-doc \
      --disable-examples --disable-curl \
 && make -s -C src/microhttpd -j"$(nproc)" && make -s -C src/microhttpd install \
 && make -s -C src/include install && make -s install-pkgconfigDATA
# libpq: OpenSSL only (no GSSAPI, no LDAP service lookup).
RUN cd /deps/postgresql-15-*/ && . /etc/craft-env \
 && ./configure -q --host="$triplet" --prefix=/usr/local --with-ssl=openssl --without-readline \
      --without-icu --without-zlib --without-ldap --without-gssapi --without-llvm \
 && make -s -C src/interfaces/libpq -j"$(nproc)" && make -s -C src/interfaces/libpq install \
 && make -s -C src/include install \
 && rm -f /usr/local/lib/libpq.a

# ---------------------------------------------------------------- build
FROM deps AS build
WORKDIR /src
COPY CMakeLists.txt ./
COPY lib lib
COPY tools tools
COPY services services
RUN . /etc/craft-env && cross=() \
 && if [[ $triplet != "$(dpkg-architecture -qDEB_BUILD_MULTIARCH)" ]]; then \
      cross=(-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR="${triplet%%-*}"); \
    fi \
 && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCRAFT_TESTS=OFF \
      -DCMAKE_C_COMPILER="$triplet-gcc" "${cross[@]}" \
 && cmake --build build -j"$(nproc)"
COPY scripts/image-rootfs.sh /usr/local/bin/
RUN . /etc/craft-env && probe=build/tools/craft-healthcheck \
 && export MULTIARCH=$triplet READELF=$triplet-readelf STRIP=$triplet-strip \
 && for svc in auth product recommendation frontend; do \
      image-rootfs.sh "/rootfs/$svc" "build/services/$svc/craft-$svc" "$probe"; \
    done \
 && image-rootfs.sh /rootfs/migrate build/tools/craft-migrate

# ---------------------------------------------------------------- runtime base
FROM scratch AS runtime
WORKDIR /app
# Production unless told otherwise (the services also default to it): default
# secrets are refused and keys must be given. docker-compose.yml says development.
ENV HOST=0.0.0.0 \
    LOG_LEVEL=info \
    DEPLOYMENT_ENVIRONMENT=production
LABEL org.opencontainers.image.vendor="Craftista"
USER 10001:10001
STOPSIGNAL SIGTERM

# ---------------------------------------------------------------- migrate (one-shot)
FROM runtime AS migrate
COPY --from=build /rootfs/migrate/ /
COPY db/migrations /app/db/migrations
LABEL org.opencontainers.image.title="craftista-migrate" \
      org.opencontainers.image.description="Applies the Craftista database migrations"
ENTRYPOINT ["/usr/local/bin/craft-migrate"]
CMD ["/app/db/migrations"]

# ---------------------------------------------------------------- auth
FROM runtime AS auth
COPY --from=build /rootfs/auth/ /
# In development auth generates its key pair here (give it a volume); elsewhere
# mount the keys and point these two at them.
ENV PORT=8082 \
    RSA_PRIVATE_KEY_PATH=/var/lib/craftista/keys/private.pem \
    RSA_PUBLIC_KEY_PATH=/var/lib/craftista/keys/public.pem
LABEL org.opencontainers.image.title="craftista-auth" \
      org.opencontainers.image.description="Craftista auth: users, passwords, RS256 tokens, JWKS"
EXPOSE 8082
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/craft-healthcheck", "/health"]
ENTRYPOINT ["/usr/local/bin/craft-auth"]

# ---------------------------------------------------------------- product
FROM runtime AS product
COPY --from=build /rootfs/product/ /
ENV PORT=8000
LABEL org.opencontainers.image.title="craftista-product" \
      org.opencontainers.image.description="Craftista product: catalogue and votes"
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/craft-healthcheck", "/health"]
ENTRYPOINT ["/usr/local/bin/craft-product"]

# ---------------------------------------------------------------- recommendation
FROM runtime AS recommendation
COPY --from=build /rootfs/recommendation/ /
ENV PORT=8080
LABEL org.opencontainers.image.title="craftista-recommendation" \
      org.opencontainers.image.description="Craftista recommendation: origami of the day"
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/craft-healthcheck", "/health"]
ENTRYPOINT ["/usr/local/bin/craft-recommendation"]

# ---------------------------------------------------------------- frontend
FROM runtime AS frontend
COPY --from=build /rootfs/frontend/ /
# Owned by root and read-only for the service user.
COPY services/frontend/templates /app/templates
COPY services/frontend/static /app/static
ENV PORT=3000 \
    STATIC_DIR=/app/static \
    TEMPLATE_DIR=/app/templates
LABEL org.opencontainers.image.title="craftista-frontend" \
      org.opencontainers.image.description="Craftista frontend: the shop's web UI"
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/craft-healthcheck", "/health"]
ENTRYPOINT ["/usr/local/bin/craft-frontend"]
