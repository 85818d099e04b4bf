# An S3-compatible server for local trials of the scaled-out deployment
# (deploy/compose.yaml): s3s-fs from crates.io, serving a directory.
FROM rust:1-slim-bookworm AS build
RUN cargo install --locked s3s-fs --version 0.14.1 --features binary --root /opt/s3s

FROM debian:bookworm-slim
COPY --from=build /opt/s3s/bin/s3s-fs /usr/local/bin/s3s-fs
RUN mkdir -p /data/heron
ENTRYPOINT ["s3s-fs"]
