//! What time it is: the system's clock in production, a hand-moved one in tests, so that a
//! test of a time window steps over it instead of sleeping through it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// The clock an [`crate::AppState`] reads. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(millis) => DateTime::from_timestamp_millis(millis.load(Ordering::SeqCst))
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
        }
    }
}

/// A clock that stands still until it is moved: give [`ManualClock::clock`] to the state,
/// keep the `ManualClock` to move it.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn starting_at(start: DateTime<Utc>) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(start.timestamp_millis())))
    }

    pub fn clock(&self) -> Clock {
        Clock(Some(self.0.clone()))
    }

    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let manual = ManualClock::starting_at(start);
        let clock = manual.clock();
        assert_eq!(clock.now(), start);
        manual.advance(Duration::seconds(90));
        assert_eq!(clock.clone().now(), start + Duration::seconds(90));
        let drift = (Clock::system().now() - Utc::now()).num_seconds().abs();
        assert!(drift < 5);
    }
}
