# Craftista images: one Dockerfile, one target per image (see deploy/README.md).
#
#   docker build --target auth           -t craftista/auth .
#   docker build --target product        -t craftista/product .
#   docker build --target recommendation -t craftista/recommendation .
#   docker build --target frontend       -t craftista/frontend .
#   docker build --target migrate        -t craftista/migrate .
#
# Every target shares the `build` stage (the whole tree is compiled once and the
# layer cache serves the other four) and the `runtime` base (Debian 12 slim with
# the runtime libraries only, a fixed non-root user, the health probe).

ARG DEBIAN_IMAGE=debian:12-slim

# ---------------------------------------------------------------- build
FROM ${DEBIAN_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc libc6-dev make cmake pkg-config \
      libmicrohttpd-dev libjansson-dev libpq-dev libhiredis-dev libcurl4-openssl-dev \
      zlib1g-dev libssl-dev libcrypt-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY lib lib
COPY tools tools
COPY services services
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCRAFT_TESTS=OFF \
 && cmake --build build -j"$(nproc)" \
 && mkdir -p /out \
 && for svc in auth product recommendation frontend; do \
      install -m 0755 -s "build/services/$svc/craft-$svc" /out/; \
    done \
 && install -m 0755 -s build/tools/craft-migrate build/tools/craft-healthcheck /out/

# ---------------------------------------------------------------- runtime base
FROM ${DEBIAN_IMAGE} AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libmicrohttpd12 libjansson4 libpq5 libhiredis0.14 libcurl4 libssl3 libcrypt1 zlib1g \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 craft \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin craft \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/craftista /var/lib/craftista/keys
COPY --from=build /out/craft-healthcheck /usr/local/bin/
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
COPY --from=build /out/craft-migrate /usr/local/bin/
COPY db/migrations /app/db/migrations
LABEL org.opencontainers.image.title="craftista-migrate" \
      org.opencontainers.image.description="Applies the Craftista database migrations"
ENTRYPOINT ["/usr/local/bin/craft-migrate"]
CMD ["/app/db/migrations"]

# ---------------------------------------------------------------- auth
FROM runtime AS auth
COPY --from=build /out/craft-auth /usr/local/bin/
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
COPY --from=build /out/craft-product /usr/local/bin/
ENV PORT=8000
LABEL org.opencontainers.image.title="craftista-product" \
      org.opencontainers.image.description="Craftista product: catalogue and votes"
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/craft-healthcheck", "/health"]
ENTRYPOINT ["/usr/local/bin/craft-product"]

# ---------------------------------------------------------------- recommendation
FROM runtime AS recommendation
COPY --from=build /out/craft-recommendation /usr/local/bin/
ENV PORT=8080
LABEL org.opencontainers.image.title="craftista-recommendation" \
      org.opencontainers.image.description="Craftista recommendation: origami of the day"
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/craft-healthcheck", "/health"]
ENTRYPOINT ["/usr/local/bin/craft-recommendation"]

# ---------------------------------------------------------------- frontend
FROM runtime AS frontend
COPY --from=build /out/craft-frontend /usr/local/bin/
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
