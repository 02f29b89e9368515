//! Per-day session state: for every session seen that day, its first and last event time
//! and how many events it had. Sessions live in small tier buckets (see
//! [`schema::tiers`](super::schema::tiers)), so one event rewrites about 1 KB at most
//! whatever the day's traffic; what it changes in the day's totals travels to the day
//! item as a delta.

/// One session within one day. Times are milliseconds since the start of the site's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub first: u32,
    pub last: u32,
    pub events: u32,
}

impl Session {
    pub fn new(at: u32) -> Session {
        Session {
            first: at,
            last: at,
            events: 1,
        }
    }

    /// Records one more event at `at` (in any order).
    pub fn record(&mut self, at: u32) {
        self.first = self.first.min(at);
        self.last = self.last.max(at);
        self.events = self.events.saturating_add(1);
    }

    /// Whether the stored fields are possible.
    pub fn is_valid(&self) -> bool {
        self.first <= self.last && self.events > 0
    }

    pub fn totals(&self) -> SessionTotals {
        SessionTotals {
            sessions: 1,
            bounces: u64::from(self.events == 1),
            duration_ms: u64::from(self.last - self.first),
        }
    }
}

/// Records an event of a session that may not exist yet.
pub fn record(session: &mut Option<Session>, at: u32) {
    match session {
        Some(s) => s.record(at),
        None => *session = Some(Session::new(at)),
    }
}

/// What a set of sessions adds up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionTotals {
    pub sessions: u64,
    /// Sessions with exactly one event.
    pub bounces: u64,
    /// Sum of (last − first) over the sessions, in milliseconds.
    pub duration_ms: u64,
}

impl std::ops::AddAssign for SessionTotals {
    fn add_assign(&mut self, other: SessionTotals) {
        self.sessions += other.sessions;
        self.bounces += other.bounces;
        self.duration_ms += other.duration_ms;
    }
}

impl SessionTotals {
    pub fn of(session: Option<&Session>) -> SessionTotals {
        session.map(Session::totals).unwrap_or_default()
    }

    /// `(sessions, bounces, duration)` of `after` minus those of `self`.
    pub fn delta_to(&self, after: &SessionTotals) -> [i64; 3] {
        let d = |a: u64, b: u64| {
            i64::try_from(b).unwrap_or(i64::MAX) - i64::try_from(a).unwrap_or(i64::MAX)
        };
        [
            d(self.sessions, after.sessions),
            d(self.bounces, after.bounces),
            d(self.duration_ms, after.duration_ms),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounces_and_durations() {
        let mut s = None;
        record(&mut s, 5_000);
        assert_eq!(
            SessionTotals::of(s.as_ref()),
            SessionTotals {
                sessions: 1,
                bounces: 1,
                duration_ms: 0
            }
        );
        let before = SessionTotals::of(s.as_ref());
        record(&mut s, 2_000); // out of order: first/last still right
        record(&mut s, 9_000);
        let after = SessionTotals::of(s.as_ref());
        assert_eq!(after.duration_ms, 7_000);
        assert_eq!(before.delta_to(&after), [0, -1, 7_000]);
        assert_eq!(SessionTotals::default().delta_to(&before), [1, 1, 0]);
    }

    #[test]
    fn impossible_sessions_are_invalid() {
        assert!(Session::new(3).is_valid());
        assert!(
            !Session {
                first: 5,
                last: 4,
                events: 1
            }
            .is_valid()
        );
        assert!(
            !Session {
                first: 1,
                last: 4,
                events: 0
            }
            .is_valid()
        );
    }
}
