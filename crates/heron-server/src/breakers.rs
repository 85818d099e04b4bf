//! Circuit breakers in front of the database and the blob store.
//!
//! Every protected route passes the database breaker (`layer`): while it
//! is open, requests are answered `503 dependency_unavailable` with
//! `Retry-After` at once, instead of each waiting for a connection that
//! will not come. A response caused by a failing dependency (marked with
//! [`DependencyFailed`] by `ApiError`) counts as a failure of that
//! dependency; any other response as a success of the database. Uploads
//! also pass the blob-store breaker (`Breakers::check_blob_store`).
//! Readiness reports both.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use heron_core::breaker::{BreakerState, CircuitBreaker};

use crate::AppState;
use crate::error::{ApiError, BLOB_STORE, DATABASE, DependencyFailed};

/// Consecutive failures that open a circuit.
const THRESHOLD: u32 = 3;
/// How long an open circuit fails fast before letting a probe through.
const COOLDOWN: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct Breakers {
    pub database: Arc<CircuitBreaker>,
    pub blob_store: Arc<CircuitBreaker>,
}

impl Breakers {
    pub fn new() -> Breakers {
        Breakers {
            database: Arc::new(CircuitBreaker::new(DATABASE, THRESHOLD, COOLDOWN)),
            blob_store: Arc::new(CircuitBreaker::new(BLOB_STORE, THRESHOLD, COOLDOWN)),
        }
    }

    fn of(&self, dependency: &str) -> Option<&CircuitBreaker> {
        match dependency {
            DATABASE => Some(&self.database),
            BLOB_STORE => Some(&self.blob_store),
            _ => None,
        }
    }

    /// Refuse an upload at once while the blob store's circuit is open.
    pub fn check_blob_store(&self) -> Result<(), ApiError> {
        check(&self.blob_store)
    }
}

fn check(breaker: &CircuitBreaker) -> Result<(), ApiError> {
    breaker
        .check()
        .map_err(|open| ApiError::DependencyUnavailable {
            dependency: breaker.name(),
            retry_after: Some(open.retry_in),
        })
}

/// A breaker's state as readiness shows it, or `None` when closed.
pub fn describe(breaker: &CircuitBreaker) -> Option<String> {
    match breaker.state() {
        BreakerState::Closed => None,
        BreakerState::Open { retry_in } => Some(format!(
            "down: circuit open after repeated failures, next probe in {} s",
            retry_in.as_secs().max(1)
        )),
        BreakerState::HalfOpen => Some("probing: circuit half-open".to_owned()),
    }
}

/// Middleware of the protected routes.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Err(refused) = check(&state.breakers.database) {
        return refused.into_response();
    }
    let response = next.run(request).await;
    match response.extensions().get::<DependencyFailed>() {
        Some(DependencyFailed(dependency)) => {
            if let Some(breaker) = state.breakers.of(dependency) {
                breaker.failure();
            }
            // The blob store failed, so the database answered.
            if *dependency != DATABASE {
                state.breakers.database.success();
            }
        }
        None => state.breakers.database.success(),
    }
    response
}
