//! A circuit breaker: after repeated failures of a dependency, stop
//! calling it for a while and fail fast instead; then let one probe
//! through, and close again when it succeeds.
//!
//! Closed → (`threshold` consecutive failures) → Open for `cooldown` →
//! HalfOpen: one caller is let through as the probe; its success closes
//! the circuit, its failure opens it for another `cooldown`. While open
//! (or while a probe is out), [`CircuitBreaker::check`] answers at once
//! with the time left, which becomes a `503` with `Retry-After`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The state of a breaker, for readiness and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open { retry_in: Duration },
    HalfOpen,
}

/// Refused by an open circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("circuit open: the dependency failed repeatedly; retry in {retry_in:?}")]
pub struct CircuitOpen {
    pub retry_in: Duration,
}

#[derive(Debug)]
enum Inner {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probe_since: Instant },
}

/// One dependency's breaker; share it behind an `Arc`.
#[derive(Debug)]
pub struct CircuitBreaker {
    name: &'static str,
    threshold: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    pub fn new(name: &'static str, threshold: u32, cooldown: Duration) -> CircuitBreaker {
        CircuitBreaker {
            name,
            threshold: threshold.max(1),
            cooldown,
            inner: Mutex::new(Inner::Closed { failures: 0 }),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// May a call go ahead? Open: no, with the time left. Half-open: the
    /// first caller becomes the probe; others are refused until it reports
    /// (or a cooldown passes without a report).
    pub fn check(&self) -> Result<(), CircuitOpen> {
        let mut inner = self.lock();
        let now = Instant::now();
        match *inner {
            Inner::Closed { .. } => Ok(()),
            Inner::Open { until } if now < until => Err(CircuitOpen {
                retry_in: until - now,
            }),
            Inner::Open { .. } => {
                *inner = Inner::HalfOpen { probe_since: now };
                Ok(())
            }
            Inner::HalfOpen { probe_since } if now.duration_since(probe_since) < self.cooldown => {
                Err(CircuitOpen {
                    retry_in: self.cooldown - now.duration_since(probe_since),
                })
            }
            Inner::HalfOpen { .. } => {
                // The probe never reported: let another through.
                *inner = Inner::HalfOpen { probe_since: now };
                Ok(())
            }
        }
    }

    /// The call went through.
    pub fn success(&self) {
        let mut inner = self.lock();
        if !matches!(*inner, Inner::Closed { failures: 0 }) {
            if !matches!(*inner, Inner::Closed { .. }) {
                tracing::info!(
                    dependency = self.name,
                    "circuit closed: the dependency answers again"
                );
            }
            *inner = Inner::Closed { failures: 0 };
        }
    }

    /// The call failed because of the dependency.
    pub fn failure(&self) {
        let mut inner = self.lock();
        let open = match *inner {
            Inner::Closed { failures } if failures + 1 < self.threshold => {
                *inner = Inner::Closed {
                    failures: failures + 1,
                };
                false
            }
            Inner::Open { .. } => false,
            _ => true,
        };
        if open {
            tracing::warn!(
                dependency = self.name,
                cooldown_ms = self.cooldown.as_millis() as u64,
                "circuit open: failing fast"
            );
            *inner = Inner::Open {
                until: Instant::now() + self.cooldown,
            };
        }
    }

    pub fn state(&self) -> BreakerState {
        let now = Instant::now();
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if now < until => BreakerState::Open {
                retry_in: until - now,
            },
            Inner::Open { .. } | Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the state invalid.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trips_after_the_threshold_fails_fast_then_probes_and_closes() {
        let breaker = CircuitBreaker::new("db", 3, Duration::from_millis(50));
        for _ in 0..2 {
            breaker.check().unwrap();
            breaker.failure();
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
        breaker.failure();
        let refused = breaker.check().unwrap_err();
        assert!(refused.retry_in <= Duration::from_millis(50));
        std::thread::sleep(Duration::from_millis(60));
        // One probe goes through; others wait for it.
        breaker.check().unwrap();
        assert!(breaker.check().is_err());
        breaker.failure();
        assert!(matches!(breaker.state(), BreakerState::Open { .. }));
        std::thread::sleep(Duration::from_millis(60));
        breaker.check().unwrap();
        breaker.success();
        assert_eq!(breaker.state(), BreakerState::Closed);
        breaker.check().unwrap();
    }

    #[test]
    fn a_success_resets_the_count() {
        let breaker = CircuitBreaker::new("s3", 2, Duration::from_secs(60));
        breaker.failure();
        breaker.success();
        breaker.failure();
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
}
