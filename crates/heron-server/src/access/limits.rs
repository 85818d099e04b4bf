//! Request-rate limits: token buckets per key, per tenant, and per client
//! address for failed authentications.
//!
//! A bucket holds up to `burst` tokens and refills at `rate` per second;
//! each request takes one. Buckets live in this process: with N API
//! replicas a caller gets up to N times the rate (the byte quota, which
//! must hold across replicas, is counted in the database instead).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Buckets kept before idle, refilled ones are forgotten.
const MAX_BUCKETS: usize = 10_000;

/// What taking a token said.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    /// Whole tokens left.
    pub remaining: u32,
    /// Seconds until a token is available (0 when one is).
    pub retry_after_secs: u64,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets by key.
#[derive(Debug)]
pub struct Limiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    /// `rate` tokens per second, up to `burst`.
    pub fn new(rate: f64, burst: f64) -> Limiter {
        Limiter {
            rate,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take a token from `key`'s bucket if one is there.
    pub fn take(&self, key: &str) -> Decision {
        self.with_bucket(key, |bucket| {
            let allowed = bucket.tokens >= 1.0;
            if allowed {
                bucket.tokens -= 1.0;
            }
            allowed
        })
    }

    fn with_bucket(&self, key: &str, act: impl FnOnce(&mut Bucket) -> bool) -> Decision {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.updated = now;
        let allowed = act(bucket);
        let missing = (1.0 - bucket.tokens).max(0.0);
        Decision {
            allowed,
            limit: self.burst as u32,
            remaining: bucket.tokens.floor().max(0.0) as u32,
            retry_after_secs: if allowed {
                0
            } else {
                (missing / self.rate).ceil() as u64
            },
            reset_secs: ((self.burst - bucket.tokens) / self.rate).ceil() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_with_a_wait() {
        let limiter = Limiter::new(1.0, 3.0);
        for left in [2, 1, 0] {
            let decision = limiter.take("k");
            assert!(decision.allowed);
            assert_eq!(decision.remaining, left);
        }
        let refused = limiter.take("k");
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_secs, 1);
        assert!(limiter.take("other").allowed, "buckets are per key");
    }
}
