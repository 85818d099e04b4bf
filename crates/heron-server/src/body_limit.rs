//! Request body limits per route, enforced before the body is read.
//!
//! Only the routes that stream files ([`STREAMED`]) may receive large
//! bodies; they check sizes while streaming, against the file and batch
//! limits. Every other route (JSON, forms, the sign-in page, anything
//! public) takes at most `HERON_MAX_BODY_KB`: its body is read here, up to
//! that size, before the handler runs, so a client cannot make the server
//! buffer more than that, authenticated or not. A declared
//! `Content-Length` over the limit is answered `413` without reading a
//! byte; a chunked body is cut off at the limit.

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use heron_core::Settings;

use crate::AppState;
use crate::error::ApiError;

/// The routes whose handlers stream file bodies (method, path as routed).
#[rustfmt::skip]
pub const STREAMED: &[(&str, &str)] = &[
    ("POST",  "/v1/files"),
    ("POST",  "/v1/compare"),
    ("PATCH", "/v1/uploads/{upload_id}"),
];

/// The largest body `method path` may carry.
pub fn allowance(settings: &Settings, method: &Method, path: &str) -> u64 {
    let streamed = STREAMED
        .iter()
        .any(|(m, p)| *m == method.as_str() && *p == path);
    if streamed {
        streamed_limit(settings)
    } else {
        settings.max_body_bytes
    }
}

/// A whole batch of files at the size limit, with room for the multipart
/// framing: the bound of any streamed body.
pub fn streamed_limit(settings: &Settings) -> u64 {
    settings
        .max_file_size_bytes
        .saturating_mul(settings.max_batch_size as u64)
        .saturating_add(1024 * 1024)
}

/// The middleware of every routed request (inside the access policy).
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let limit = allowance(&state.settings, request.method(), &path);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return too_large(limit);
    }
    if STREAMED
        .iter()
        .any(|(m, p)| *m == request.method().as_str() && *p == path)
    {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
    match axum::body::to_bytes(body, limit_usize).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(error) if is_length_limit(&error) => too_large(limit),
        Err(error) => ApiError::InvalidBody(format!("the request body could not be read: {error}"))
            .into_response(),
    }
}

fn too_large(limit: u64) -> Response {
    metrics::counter!("heron_body_too_large_total").increment(1);
    let mut response = ApiError::BodyTooLarge { limit_bytes: limit }.into_response();
    // The rest of the body is not read: the connection cannot be reused.
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

/// Whether reading stopped at the limit (rather than on a broken body).
fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = current.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_file_routes_get_the_large_allowance() {
        let settings = Settings::from_sources(
            &heron_core::SettingsOverrides::default(),
            &std::collections::BTreeMap::new(),
        )
        .expect("the defaults are valid");
        let upload = allowance(&settings, &Method::POST, "/v1/files");
        assert!(upload > 10 * 1024 * 1024, "{upload}");
        assert_eq!(allowance(&settings, &Method::POST, "/ui/login"), 64 * 1024);
        assert_eq!(allowance(&settings, &Method::POST, "/v1/types"), 64 * 1024);
        assert_eq!(
            allowance(&settings, &Method::PATCH, "/v1/uploads/{upload_id}"),
            upload
        );
    }
}
