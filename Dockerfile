# leakyrelu container: build on Debian 12, run on bookworm-slim with only the
# runtime libraries, as a non-root user, listening on 0.0.0.0:8080.
#   docker build -t leakyrelu .          (podman: podman build --format docker,
#                                          or the HEALTHCHECK is dropped)
#   docker run --rm -p 8080:8080 leakyrelu
# Configure it with LEAKYRELU_* environment variables rather than flags: the
# HEALTHCHECK (leakyrelu-server --check) reads the port from the environment.
FROM debian:bookworm AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc make libc6-dev libmicrohttpd-dev libjansson-dev zlib1g-dev \
        libnghttp2-dev protobuf-compiler \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
WORKDIR /src
COPY Makefile ./
COPY src ./src
COPY proto ./proto
RUN make WERROR=1 && make install PREFIX=/usr/local DESTDIR=/out

FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
# apt's lists and package caches (/var/cache/apt/*.bin, 77 MB on a plain
# debootstrap base) go in the same layer, or the image keeps them.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmicrohttpd12 libnghttp2-14 libjansson4 zlib1g \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
 && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin leakyrelu
COPY --from=build /out/usr/local/bin/leakyrelu-server /usr/local/bin/leakyrelu-server
USER 10001:10001
# A grace period under docker stop's 10 s, so requests in flight finish
# before SIGKILL.
ENV LEAKYRELU_BIND=0.0.0.0 \
    LEAKYRELU_PORT=8080 \
    LEAKYRELU_GRPC_PORT=8001 \
    LEAKYRELU_GRACE=8
EXPOSE 8080 8001
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/leakyrelu-server", "--check"]
ENTRYPOINT ["/usr/local/bin/leakyrelu-server"]
