//! Event ids: integers below 2^53 (exact in JavaScript), ordered by time, unique per site
//! without a counter item.
//!
//! `id = (milliseconds since 2024-01-01 UTC) << 12 | 12 random bits`. 41 bits of
//! milliseconds last until 2093. The low bits also pick the write shard, so an id names
//! exactly one item: a conditional put on it makes ids unique per site (a collision, one in
//! 4,096 for two events of one site in the same millisecond, is retried with new bits).

use chrono::{DateTime, Utc};

/// 2024-01-01T00:00:00Z in Unix milliseconds.
pub const EPOCH_MS: i64 = 1_704_067_200_000;
const RANDOM_BITS: u32 = 12;
/// Write shards per site: one DynamoDB partition takes about 1,000 writes/s, so 8 give a
/// single site headroom well beyond 3,000 events/s.
pub const SHARDS: u64 = 8;
/// Largest id (2^53 - 1).
pub const MAX_ID: u64 = (1 << 53) - 1;

/// A new id for an event at `at`.
pub fn new_id(at: DateTime<Utc>) -> u64 {
    let mut random = [0u8; 2];
    crate::ids::fill_random(&mut random);
    compose(at.timestamp_millis(), u64::from(u16::from_le_bytes(random)))
}

fn compose(unix_ms: i64, random: u64) -> u64 {
    let ms = u64::try_from(unix_ms.saturating_sub(EPOCH_MS)).unwrap_or(0);
    ((ms << RANDOM_BITS) | (random & ((1 << RANDOM_BITS) - 1))).min(MAX_ID)
}

/// The write shard of an id.
pub fn shard(id: u64) -> u64 {
    id % SHARDS
}

/// The smallest id an event at or after `at` can have.
pub fn first_id_at(at: DateTime<Utc>) -> u64 {
    compose(at.timestamp_millis(), 0)
}

/// The largest id an event at or before `at` can have.
pub fn last_id_at(at: DateTime<Utc>) -> u64 {
    compose(at.timestamp_millis(), u64::MAX)
}

/// When the event with this id happened (millisecond precision).
pub fn time_of(id: u64) -> DateTime<Utc> {
    let ms = i64::try_from(id >> RANDOM_BITS).unwrap_or(0) + EPOCH_MS;
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn ids_stay_exact_in_javascript_for_decades() {
        let id = last_id_at(at("2093-01-01T00:00:00Z"));
        assert!(id <= MAX_ID);
        assert_eq!(id as f64 as u64, id);
    }

    #[test]
    fn ids_follow_time_and_round_trip() {
        let t = at("2025-09-24T06:58:37.793Z");
        let a = new_id(t);
        let b = new_id(t + chrono::Duration::milliseconds(1));
        assert!(a < b);
        assert_eq!(time_of(a), t);
        assert!(first_id_at(t) <= a && a <= last_id_at(t));
        assert!(last_id_at(t) < first_id_at(t + chrono::Duration::milliseconds(1)));
    }

    #[test]
    fn shards_spread_evenly() {
        let t = at("2025-09-24T00:00:00Z");
        let mut counts = [0u32; SHARDS as usize];
        for _ in 0..8000 {
            counts[shard(new_id(t)) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c > 800), "{counts:?}");
    }

    #[test]
    fn times_before_the_epoch_clamp() {
        assert_eq!(first_id_at(at("2000-01-01T00:00:00Z")), 0);
    }
}
