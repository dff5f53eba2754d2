//! A token bucket per client IP (the token endpoint's limit and `rate_limits`),
//! on `governor`'s keyed GCRA limiter: `rate` requests per second refill a bucket
//! of `burst`.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::Quota;

/// Buckets are forgotten once this many are tracked and they are full again.
const MAX_TRACKED: usize = 100_000;
/// How often (in checks) the number of tracked buckets is looked at: counting
/// them visits every shard of the map, too dear for every request.
const SIZE_CHECK_EVERY: u64 = 1024;

type Keyed<C> = governor::RateLimiter<
    IpAddr,
    DashMapStateStore<IpAddr>,
    C,
    NoOpMiddleware<<C as Clock>::Instant>,
>;

pub struct RateLimiter<C: Clock = DefaultClock> {
    limiter: Keyed<C>,
    checks: std::sync::atomic::AtomicU64,
}

impl RateLimiter {
    /// `rate` tokens per second, up to `burst`; `None` when `rate` is 0 (disabled).
    pub fn new(rate: u32, burst: u32) -> Option<RateLimiter> {
        RateLimiter::with_clock(rate, burst, DefaultClock::default())
    }
}

impl<C: Clock> RateLimiter<C> {
    fn with_clock(rate: u32, burst: u32, clock: C) -> Option<RateLimiter<C>> {
        let rate = NonZeroU32::new(rate)?;
        let burst = NonZeroU32::new(burst.max(1))?;
        let quota = Quota::per_second(rate).allow_burst(burst);
        Some(RateLimiter {
            limiter: governor::RateLimiter::dashmap_with_clock(quota, clock),
            checks: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Takes one token for `ip`; `false` when its bucket is empty.
    pub fn allow(&self, ip: IpAddr) -> bool {
        let n = self
            .checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % SIZE_CHECK_EVERY == 0 && self.limiter.len() >= MAX_TRACKED {
            // Forget the buckets that are full again (indistinguishable from new).
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(&ip).is_ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use governor::clock::FakeRelativeClock;
    use std::time::Duration;

    #[test]
    fn burst_then_refill_per_ip() {
        let clock = FakeRelativeClock::default();
        let l = RateLimiter::with_clock(2, 3, clock.clone()).unwrap();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!((0..3).all(|_| l.allow(a)));
        assert!(!l.allow(a));
        assert!(l.allow(b), "another client has its own bucket");
        clock.advance(Duration::from_millis(500));
        assert!(l.allow(a), "one token back after 1/rate seconds");
        assert!(!l.allow(a));
        clock.advance(Duration::from_millis(250));
        assert!(!l.allow(a), "not yet a whole token");
        // A long pause refills the bucket up to the burst, never beyond it.
        clock.advance(Duration::from_secs(60));
        assert!((0..3).all(|_| l.allow(a)));
        assert!(!l.allow(a));
        assert!(RateLimiter::new(0, 10).is_none());
        assert!(RateLimiter::new(1, 0).is_some(), "burst at least 1");
    }

    #[test]
    fn full_buckets_are_forgotten() {
        let clock = FakeRelativeClock::default();
        let l = RateLimiter::with_clock(1000, 1, clock.clone()).unwrap();
        for i in 0..10u8 {
            assert!(l.allow(IpAddr::from([10, 0, 0, i])));
        }
        assert_eq!(l.limiter.len(), 10);
        clock.advance(Duration::from_secs(1));
        l.limiter.retain_recent();
        assert_eq!(l.limiter.len(), 0);
    }
}
