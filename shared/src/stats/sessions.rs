//! Per-day session state: for every session seen that day, its first and last event time
//! and how many events it had. A day's sessions are spread over [`BUCKETS`] items by hash
//! so one item stays small; each bucket also knows its own totals.

/// Session buckets per site and day.
pub const BUCKETS: u64 = 4;

/// One session within one day. Times are milliseconds since the start of the site's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub hash: u64,
    pub first: u32,
    pub last: u32,
    pub events: u32,
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

const ENTRY: usize = 20;

/// The sessions of one bucket, sorted by hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sessions(Vec<Session>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed session bucket")]
pub struct SessionsError;

/// Which bucket a session hash belongs to.
pub fn bucket_of(hash: u64) -> u64 {
    hash % BUCKETS
}

impl Sessions {
    /// Records one event of a session at `at` (ms into the day).
    pub fn record(&mut self, hash: u64, at: u32) {
        match self.0.binary_search_by_key(&hash, |s| s.hash) {
            Ok(i) => {
                let s = &mut self.0[i];
                s.first = s.first.min(at);
                s.last = s.last.max(at);
                s.events += 1;
            }
            Err(i) => self.0.insert(
                i,
                Session {
                    hash,
                    first: at,
                    last: at,
                    events: 1,
                },
            ),
        }
    }

    /// Like [`Sessions::record`], but a new session is dropped once `max` are tracked.
    /// Returns whether the event was recorded.
    pub fn record_capped(&mut self, hash: u64, at: u32, max: usize) -> bool {
        if self.0.len() < max || self.0.binary_search_by_key(&hash, |s| s.hash).is_ok() {
            self.record(hash, at);
            true
        } else {
            false
        }
    }

    pub fn totals(&self) -> SessionTotals {
        let mut t = SessionTotals::default();
        for s in &self.0 {
            t.sessions += 1;
            t.bounces += u64::from(s.events == 1);
            t.duration_ms += u64::from(s.last - s.first);
        }
        t
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(ENTRY * self.0.len());
        for s in &self.0 {
            out.extend_from_slice(&s.hash.to_le_bytes());
            out.extend_from_slice(&s.first.to_le_bytes());
            out.extend_from_slice(&s.last.to_le_bytes());
            out.extend_from_slice(&s.events.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Sessions, SessionsError> {
        if !bytes.len().is_multiple_of(ENTRY) {
            return Err(SessionsError);
        }
        let mut out = Vec::with_capacity(bytes.len() / ENTRY);
        for c in bytes.chunks_exact(ENTRY) {
            let u32_at = |i: usize| u32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
            let hash = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            let s = Session {
                hash,
                first: u32_at(8),
                last: u32_at(12),
                events: u32_at(16),
            };
            if s.first > s.last || s.events == 0 {
                return Err(SessionsError);
            }
            if out.last().is_some_and(|p: &Session| p.hash >= hash) {
                return Err(SessionsError);
            }
            out.push(s);
        }
        Ok(Sessions(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounces_and_durations() {
        let mut s = Sessions::default();
        s.record(7, 1_000);
        s.record(9, 5_000);
        s.record(9, 2_000); // out of order: first/last still right
        s.record(9, 9_000);
        assert_eq!(
            s.totals(),
            SessionTotals {
                sessions: 2,
                bounces: 1,
                duration_ms: 7_000
            }
        );
        assert_eq!(Sessions::from_bytes(&s.to_bytes()), Ok(s));
    }

    #[test]
    fn a_full_bucket_still_updates_known_sessions() {
        let mut s = Sessions::default();
        assert!(s.record_capped(1, 10, 2));
        assert!(s.record_capped(2, 10, 2));
        assert!(!s.record_capped(3, 10, 2));
        assert!(s.record_capped(1, 50, 2));
        let t = s.totals();
        assert_eq!((t.sessions, t.bounces, t.duration_ms), (2, 1, 40));
    }

    #[test]
    fn rejects_garbage() {
        assert!(Sessions::from_bytes(&[1, 2, 3]).is_err());
        assert!(Sessions::from_bytes(&[0; 20]).is_err()); // zero events
    }
}
