//! End-to-end tests of the `heron` binary over real HTTP on loopback.
//!
//! Each test starts its own `heron serve` process on a free port with a
//! fresh data directory (see `support`), so tests run in parallel and can
//! kill and restart servers. Modules:
//! - `backup`: `heron backup` under load, `heron restore` elsewhere,
//!   corrupt and unfinished backups refused.
//! - `classify`: the shared samples under opaque names, misleading names,
//!   corrupt files in a batch.
//! - `decisions`: out-of-distribution, multi-label, explanations, target
//!   error rate.
//! - `jobs`: asynchronous batches, restart in the middle of a job.
//! - `errors`: every documented error status and its envelope.
//! - `hardening`: attacks found by a review: key guessing that locked
//!   valid clients out, forwarded addresses, oversized bodies.
//! - `oidc`: bearer JWTs from an OpenID Connect issuer on loopback: valid,
//!   expired, early, wrong audience or issuer, unknown key, forged, key
//!   rotation.
//! - `operations`: health, readiness, version, metrics, docs, shutdown.
//! - `real_documents`: the OCR engines in readiness and their fallback,
//!   the shipped default model, its accuracy gate on the real `dev` split.
//! - `scale_out`: API and `heron worker` processes on PostgreSQL, killed
//!   mid-batch and mid-upload.
//! - `robustness`: the robust-pdf corpus of broken PDFs through the API.
//! - `cli`: the local `heron classify` and `heron extract` commands.
//! - `webhooks`: signed deliveries, retries after a 500, refused URLs.
//! - `traces`: one OpenTelemetry trace from the request through the queue
//!   to the worker's pipeline stages, received by an OTLP/HTTP collector.
//! - `security`: the authorization matrix (every route × role × own or
//!   other tenant), cross-tenant isolation, rate limits, the audit log and
//!   its tamper check, erasure and retention, `heron keys`.
//! - `learning`: the review queue, a correction training a tenant's own
//!   model (`heron train --from-reviews`), `heron dataset export`,
//!   rollback.
//! - `tls`: HTTPS with HTTP/2, HSTS, a certificate reloaded on SIGHUP.
//! - `taxonomy`: a new industry added by a taxonomy file and examples only.
//! - `ui`: the web UI in headless Chromium: review, retrain, promote, a new
//!   type from examples, the dashboard (screenshots in `target/`).

mod backup;
mod classify;
mod cli;
mod decisions;
mod errors;
mod hardening;
mod jobs;
mod learning;
mod oidc;
mod operations;
mod real_documents;
mod robustness;
mod scale_out;
mod security;
mod semantic;
mod support;
mod taxonomy;
mod tls;
mod traces;
mod ui;
mod understanding;
mod uploads;
mod webhooks;
