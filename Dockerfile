# Heron in a container: a multi-stage build, a slim non-root runtime with
# Tesseract (and its language data), Poppler and catdoc.
#
#   docker build -t heron .
#   docker run -p 8000:8000 -v heron-data:/data heron            # embedded defaults
#   docker run heron worker --database-url postgres://... --blob-store s3://...
#
# Only Debian's and crates.io's registries are used; the default model is
# trained from the built-in generator at image build time, so nothing is
# fetched or trained at run time.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p heron \
 && cp target/release/heron /usr/local/bin/heron

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra \
        tesseract-ocr-spa tesseract-ocr-ita tesseract-ocr-por poppler-utils catdoc qpdf tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --create-home heron
COPY --from=build /usr/local/bin/heron /usr/local/bin/heron
# The default model, trained once here into a directory every container
# shares read-only (HERON_MODELS_DIR).
ENV HERON_MODELS_DIR=/opt/heron/models \
    HERON_DATA_DIR=/data \
    HERON_BIND=0.0.0.0:8000 \
    HERON_LOG_FORMAT=json
RUN mkdir -p /opt/heron/models \
 && echo "Invoice INV-1 total due" > /tmp/warm-up.txt \
 && heron --data-dir /tmp/heron-build classify /tmp/warm-up.txt >/dev/null \
 && rm -rf /tmp/heron-build /tmp/warm-up.txt
USER heron
WORKDIR /data
VOLUME /data
EXPOSE 8000 9100
ENTRYPOINT ["/usr/bin/tini", "--", "heron"]
CMD ["serve"]
