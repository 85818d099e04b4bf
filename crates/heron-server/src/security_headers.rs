//! Headers every response carries: no sniffing, no framing, no referrer,
//! no caching (answers hold document data), and a content security policy
//! that allows nothing on API answers (the Swagger UI page under `/docs`
//! keeps its own scripts); the web UI's pages may load their own script,
//! style sheet and images and call the API of their own origin, nothing
//! else (no inline script, no other origin).

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// `hsts`: the service is served over HTTPS (`Strict-Transport-Security`
/// for a year, subdomains included).
pub async fn layer(request: Request, next: Next, hsts: bool) -> Response {
    let docs = request.uri().path().starts_with("/docs");
    let ui = request.uri().path().starts_with("/ui");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if ui {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            ),
        );
    } else if !docs {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    response
}
