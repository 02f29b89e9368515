//! How long raw events are kept (`RETENTION_DAYS`, the template's `RetentionDays`).
//!
//! With a retention of *n* days every stored event carries a DynamoDB TTL attribute
//! (`expires_at`, Unix seconds) *n* days after it happened, and every read of raw events
//! (list, export, recount) starts at the retention's cutoff and skips items whose TTL has
//! passed: DynamoDB deletes expired items only up to a few days later. Counters, rankings
//! and sketches are not raw events: they are kept whatever the retention, so dashboards
//! keep their history.

use chrono::{DateTime, Duration, Utc};

/// The name of the TTL attribute of the events table (the template's
/// `TimeToLiveSpecification`).
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// The longest retention accepted: a hundred years is "forever" in all but name.
pub const MAX_DAYS: u32 = 36_500;

/// Raw events kept forever (`None`) or for a number of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention(Option<u32>);

impl Retention {
    /// Events are kept until their site or its statistics are deleted (the default).
    pub const FOREVER: Retention = Retention(None);

    /// Kept `days` days; 0 means forever, as `RetentionDays=0` does.
    pub fn days(days: u32) -> Retention {
        Retention((days > 0).then_some(days.min(MAX_DAYS)))
    }

    /// The number of days, `None` for forever.
    pub fn kept_days(self) -> Option<u32> {
        self.0
    }

    /// The TTL of an event that happened at `at`: Unix seconds, `None` when kept forever.
    pub fn expires_at(self, at: DateTime<Utc>) -> Option<i64> {
        self.0
            .map(|days| (at + Duration::days(i64::from(days))).timestamp())
    }

    /// The oldest instant whose events are still kept at `now` (`None`: all of them).
    pub fn cutoff(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.0.map(|days| now - Duration::days(i64::from(days)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn zero_days_is_forever() {
        assert_eq!(Retention::days(0), Retention::FOREVER);
        assert_eq!(
            Retention::FOREVER.expires_at(at("2026-01-01T00:00:00Z")),
            None
        );
        assert_eq!(Retention::FOREVER.cutoff(at("2026-01-01T00:00:00Z")), None);
    }

    #[test]
    fn an_event_expires_when_it_leaves_the_window() {
        let r = Retention::days(400);
        let happened = at("2026-01-01T12:00:00Z");
        let expires = r.expires_at(happened).unwrap();
        assert_eq!(expires, at("2027-02-05T12:00:00Z").timestamp());
        // The instant it expires is the instant the cutoff passes it.
        let then = DateTime::from_timestamp(expires, 0).unwrap();
        assert_eq!(r.cutoff(then), Some(happened));
    }

    #[test]
    fn absurd_retentions_are_capped() {
        assert_eq!(Retention::days(u32::MAX).kept_days(), Some(MAX_DAYS));
    }
}
