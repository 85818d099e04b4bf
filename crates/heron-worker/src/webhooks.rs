//! Delivering webhooks: a finished job's summary POSTed to its callback
//! URL and to every registered endpoint, signed, retried with backoff.
//!
//! Deliveries are queued in the database when the job finishes (in the
//! same transaction) and claimed here under a lease, so a delivery
//! survives any process dying; it is sent at least once (a receiver
//! de-duplicates on `Heron-Delivery`). Each attempt resolves the host,
//! checks the address against the policy of `heron_core::webhook`, and
//! connects to that very address, with redirects off.
//!
//! Each target (host and port) has a circuit breaker: after repeated
//! failures its deliveries are postponed without an attempt (and without
//! using one up) until the circuit lets a probe through, so a dead
//! receiver costs no connection timeouts and no other target waits.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use heron_core::breaker::CircuitBreaker;
use heron_core::settings::Secret;
use heron_core::webhook::{NetworkPolicy, derived_callback_secret, signature};
use heron_store::{AttemptOutcome, DueDelivery, JobRecord, Store};
use serde::Serialize;
use tokio::sync::watch;

use crate::WorkerError;

/// How often an idle delivery loop looks for due deliveries.
const IDLE_POLL: Duration = Duration::from_millis(250);
/// Consecutive failed attempts that open a target's circuit.
const TARGET_THRESHOLD: u32 = 5;
/// How long an open target circuit postpones deliveries.
const TARGET_COOLDOWN: Duration = Duration::from_secs(30);

/// Delivery settings.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// The deployment's secret, from which each tenant's callback secret
    /// is derived until it sets its own.
    pub secret: Option<Secret>,
    pub max_attempts: u32,
    pub timeout: Duration,
    /// Where deliveries may connect (checked again on the resolved address).
    pub networks: NetworkPolicy,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub lease: Duration,
}

/// The delivery loop of one process.
#[derive(Debug, Clone)]
pub struct Webhooks {
    store: Store,
    config: WebhookConfig,
    /// Circuit breakers by target (`host:port`).
    targets: Arc<Mutex<HashMap<String, Arc<CircuitBreaker>>>>,
}

/// The body of a delivery.
#[derive(Debug, Serialize)]
struct Payload<'a> {
    event: &'a str,
    delivery_id: &'a str,
    job_id: &'a str,
    status: String,
    total_files: u64,
    completed_files: u64,
    results: Vec<ResultSummary<'a>>,
}

#[derive(Debug, Serialize)]
struct ResultSummary<'a> {
    document_id: Option<&'a str>,
    filename: &'a str,
    label: &'a str,
    confidence: f64,
    has_errors: bool,
}

impl Webhooks {
    pub fn new(store: Store, config: WebhookConfig) -> Webhooks {
        // reqwest is built without a default TLS crypto provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Webhooks {
            store,
            config,
            targets: Arc::default(),
        }
    }

    /// Deliver until `shutdown` turns true.
    pub async fn run(self, owner: String, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            match self.deliver_one(&owner).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "webhook delivery loop"),
            }
            tokio::select! {
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Claim one due delivery and attempt it. Returns whether there was one.
    pub async fn deliver_one(&self, owner: &str) -> Result<bool, WorkerError> {
        let Some(delivery) = self.store.claim_delivery(owner, self.config.lease).await? else {
            return Ok(false);
        };
        let breaker = self.breaker(&delivery.url);
        if let Err(open) = breaker.check() {
            self.store
                .postpone_delivery(&delivery, owner, open.retry_in)
                .await?;
            tracing::debug!(delivery = %delivery.id, "webhook target's circuit is open; postponed");
            return Ok(true);
        }
        let started = Instant::now();
        let attempt = self.attempt(&delivery).await;
        match &attempt {
            // A receiver that answers, even with an error, is up; a 5xx or
            // no answer counts against it.
            Ok(status) if *status < 500 => breaker.success(),
            _ => breaker.failure(),
        }
        let (status_code, error) = match attempt {
            Ok(status) if (200..300).contains(&status) => (Some(status), None),
            Ok(status) => (
                Some(status),
                Some(format!("the receiver answered {status}")),
            ),
            Err(error) => (None, Some(error)),
        };
        let delivered = error.is_none();
        let retry_after = (!delivered && delivery.attempt < self.config.max_attempts).then(|| {
            crate::backoff(
                self.config.retry_base,
                self.config.retry_max,
                delivery.attempt,
            )
        });
        let outcome = AttemptOutcome {
            status_code,
            error: error.clone(),
            duration: started.elapsed(),
            retry_after,
            delivered,
        };
        self.store
            .record_delivery_attempt(&delivery, owner, &outcome)
            .await?;
        match (&error, retry_after) {
            (None, _) => {
                metrics::counter!("heron_webhooks_delivered_total").increment(1);
                tracing::info!(delivery = %delivery.id, job_id = %delivery.job_id, "webhook delivered");
            }
            (Some(error), Some(delay)) => {
                tracing::warn!(delivery = %delivery.id, attempt = delivery.attempt, delay_ms = delay.as_millis() as u64, error = %error, "webhook attempt failed; retrying later");
            }
            (Some(error), None) => {
                metrics::counter!("heron_webhooks_failed_total").increment(1);
                tracing::error!(delivery = %delivery.id, attempts = delivery.attempt, error = %error, "webhook delivery failed for good");
            }
        }
        Ok(true)
    }

    /// The breaker of a delivery's target.
    fn breaker(&self, url: &str) -> Arc<CircuitBreaker> {
        let target = url::Url::parse(url)
            .ok()
            .map(|u| {
                format!(
                    "{}:{}",
                    u.host_str().unwrap_or_default(),
                    u.port_or_known_default().unwrap_or(0)
                )
            })
            .unwrap_or_default();
        let mut targets = self.targets.lock().unwrap_or_else(|e| e.into_inner());
        targets
            .entry(target)
            .or_insert_with(|| {
                Arc::new(CircuitBreaker::new(
                    "webhook target",
                    TARGET_THRESHOLD,
                    TARGET_COOLDOWN,
                ))
            })
            .clone()
    }

    /// One POST; the receiver's status, or why none came.
    async fn attempt(&self, delivery: &DueDelivery) -> Result<u16, String> {
        // An endpoint signs with its own secret; a job's callback with its
        // tenant's (set by the tenant, else derived): never a secret that
        // another tenant holds too.
        let secret = match (
            &delivery.endpoint_secret,
            &delivery.tenant_secret,
            &self.config.secret,
        ) {
            (Some(secret), _, _) | (None, Some(secret), _) => secret.clone(),
            (None, None, Some(deployment)) => {
                derived_callback_secret(deployment.expose(), &delivery.tenant)
            }
            (None, None, None) => {
                return Err("no HERON_WEBHOOK_SECRET to derive a callback secret from".to_owned());
            }
        };
        let job = self
            .store
            .job(&delivery.tenant, &delivery.job_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the job no longer exists")?;
        let body = payload(delivery, &job)?;
        let url = self
            .config
            .networks
            .check_url(&delivery.url)
            .map_err(|e| e.to_string())?;
        let address = self.resolve(&url).await?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let client = reqwest::Client::builder()
            .timeout(self.config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would connect where the address
            // check did not look.
            .no_proxy()
            .resolve(&host, address)
            .user_agent(concat!("heron/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let response = client
            .post(url)
            .header("content-type", "application/json")
            .header("heron-event", &delivery.event)
            .header("heron-delivery", &delivery.id)
            .header("heron-signature", signature(&secret, timestamp, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        Ok(response.status().as_u16())
    }

    /// The address to connect to: the first the host resolves to, which
    /// must pass the address policy.
    async fn resolve(&self, url: &url::Url) -> Result<SocketAddr, String> {
        let host = url.host_str().ok_or("the URL has no host")?;
        let port = url.port_or_known_default().ok_or("the URL has no port")?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let address = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .next()
            .ok_or_else(|| format!("{host} resolves to no address"))?;
        self.config
            .networks
            .check_address(address.ip())
            .map_err(|e| e.to_string())?;
        Ok(address)
    }
}

fn payload(delivery: &DueDelivery, job: &JobRecord) -> Result<Vec<u8>, String> {
    let body = Payload {
        event: &delivery.event,
        delivery_id: &delivery.id,
        job_id: &job.id,
        status: job.status.to_string(),
        total_files: job.total_files,
        completed_files: job.completed_files,
        results: job
            .results
            .iter()
            .map(|r| ResultSummary {
                document_id: r.document_id.as_deref(),
                filename: &r.filename,
                label: &r.label,
                confidence: r.confidence,
                has_errors: !r.errors.is_empty(),
            })
            .collect(),
    };
    serde_json::to_vec(&body).map_err(|e| e.to_string())
}
