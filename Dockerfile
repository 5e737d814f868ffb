# The app's container image. Build: docker build -t pcsupport .
# Base images are pinned to exact tags. Distroless publishes no version tags, only the Debian
# release track and digests: where a registry is reachable, pin the digest as well
# (gcr.io/distroless/static-debian12:nonroot@sha256:...).
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# scripts/build-binary runs this very command (a test in cmd/web keeps the two identical).
# -tags nodev leaves the development stand-ins (emulator, dev sign-in provider) and the
# profiling listener out of the binary: `web --dev` is refused.
RUN CGO_ENABLED=0 go build -trimpath -tags nodev -ldflags="-s -w" -o bin/web ./cmd/web
# The data directory, owned by the image's non-root user (65532), so that a fresh volume is writable.
RUN mkdir -p /rootfs/data

# Distroless static, non-root: no shell, no package manager; CA certificates and time zones only.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build --chown=65532:65532 /rootfs/ /
COPY --from=build /src/bin/web /web
ENV PCS_LISTEN=:8080 PCS_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
# No shell in the image: the binary checks itself (GET http://127.0.0.1:8080<prefix>healthz).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/web", "healthcheck"]
ENTRYPOINT ["/web"]
