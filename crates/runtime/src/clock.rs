//! Time as a dependency: production reads the system clock, tests pin it.

use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until a test moves it.
#[derive(Clone, Debug)]
pub struct FixedClock(Arc<Mutex<OffsetDateTime>>);

impl FixedClock {
    pub fn new(at: OffsetDateTime) -> Self {
        FixedClock(Arc::new(Mutex::new(at)))
    }

    pub fn advance(&self, by: Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t = t.saturating_add(by);
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|_| OffsetDateTime::now_utc())
    }
}

pub type SharedClock = Arc<dyn Clock>;

pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// "Now" as the database keeps it: whole microseconds (PostgreSQL's precision), so
/// that what a service answers after a change equals what it reads back later.
pub fn now_at_db_precision(clock: &dyn Clock) -> OffsetDateTime {
    to_micros(clock.now())
}

/// `at` cut (not rounded) to whole microseconds, the precision PostgreSQL keeps, so
/// that what a change answers equals what a later read of the stored row shows.
pub fn to_micros(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_micros_cuts_the_nanoseconds_and_keeps_the_rest() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_712_220_972_026_311_999).unwrap();
        let cut = to_micros(at);
        assert_eq!(cut.unix_timestamp_nanos(), 1_712_220_972_026_311_000);
        assert_eq!(to_micros(cut), cut);
        // Before 1970 the cut goes towards the earlier instant, as it did before.
        let early = OffsetDateTime::from_unix_timestamp_nanos(-1_999).unwrap();
        assert_eq!(to_micros(early).unix_timestamp_nanos(), -2_000);
    }

    #[test]
    fn a_fixed_clock_stands_still_until_advanced() {
        let at = OffsetDateTime::from_unix_timestamp(1_712_220_972).unwrap();
        let clock = FixedClock::new(at);
        assert_eq!(clock.now(), at);
        clock.advance(Duration::days(8));
        assert_eq!(clock.now(), at + Duration::days(8));
    }
}
