//! Tiers: how a day's sessions, and each sketch, are spread over items that stay small.
//!
//! A value (a session, or a hashed value of a sketch) has a path of items: tier `t` is the
//! item named by the first `t` hex digits of its 64-bit hash (tier 0: one item for the
//! whole day; tier 1: sixteen; …). It lives in the first item of its path that had room
//! when it was first seen: an item of a shallower tier admits new values until it holds
//! its tier's cap ([`Layout::cap`]), then it is full for good (values are never removed within a
//! generation), and new values go one tier down; the deepest tier always admits.
//!
//! So a quiet day keeps everything in one item per family (as big as format 1's, written
//! once per batch), and once that is full a busy day's batch rewrites only the items of
//! its own values, each about 1 KB, however many visitors the day already has: write cost
//! follows the batch, not the day. (The first tier is big because a quiet day's batch
//! touches most of its sessions anyway: one 8 KB write costs less than forty 1 KB ones.)
//!
//! Finding a value: walk its path from tier 0 and stop at the item that holds it, or at
//! the first that is not full (nothing of that prefix was ever placed deeper, since that
//! item was never full). Writers apply a value where they find it or where it is
//! admitted, under the item's version; one that finds the item full on a retry sends the
//! value on down (see `apply`), so a value is never placed twice.

/// One family's tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The deepest tier (its items are named by this many hex digits).
    pub deepest: usize,
    /// Values an item of each shallower tier holds before it is full.
    pub caps: &'static [usize],
}

/// Session buckets (20 bytes a session): the day's first 400 sessions share one item
/// (8 KB, what a quiet day rewrites per batch, as format 1 did), the next 16 × 28 share
/// sixteen ~1 KB items, then 256 and 4,096 items of 20, then 65,536 items that always
/// admit: ~88,000 sessions fit above the deepest tier, and a busy day's batch rewrites
/// only the ~1 KB buckets of its own sessions.
///
/// The first tier's size is a trade: bigger makes a quiet day's big batches cheaper (one
/// write for most of their sessions) and a single event on a day near the tier's fill
/// dearer (it rewrites the whole item). At 400 sessions and 600 hashes a batch of 100 on
/// the bench's ordinary day costs about 0.27 WCU an event and no single event more than
/// ~18, against 0.25 and ~28 at twice the size.
pub const SESSIONS: Layout = Layout {
    deepest: 4,
    caps: &[400, 28, 20, 20],
};

/// Sketch parts (8 bytes a hash): the first 600 values in one item (4.8 KB), the next
/// 16 × 70 in sixteen, then the 256 deepest parts, which are the sketch's register slices
/// once dense (see `sketch::PARTS`).
pub const SKETCH: Layout = Layout {
    deepest: 2,
    caps: &[600, 70],
};

impl Layout {
    /// How many values an item of `tier` holds before it is full (`None`: never full).
    pub fn cap(&self, tier: usize) -> Option<usize> {
        if tier >= self.deepest {
            return None;
        }
        self.caps.get(tier).copied()
    }

    /// Whether an item of `tier` holding `held` values takes one more.
    pub fn admits(&self, tier: usize, held: usize) -> bool {
        self.cap(tier).is_none_or(|cap| held < cap)
    }
}

/// The first `tier` hex digits of a hash.
pub fn prefix(hash: u64, tier: usize) -> String {
    let hex = format!("{hash:016x}");
    hex[..tier.min(16)].to_owned()
}

/// The item of tier `tier` on the path of `hash`, under a family's base key.
pub fn item_key(base: &str, hash: u64, tier: usize) -> String {
    format!("{base}{}", prefix(hash, tier))
}

/// The tier of an item key whose base is `base`: the length of its suffix, if that is 0
/// to `deepest` lowercase hex digits.
pub fn tier_of(sk: &str, base_len: usize, layout: &Layout) -> Option<usize> {
    let suffix = sk.get(base_len..)?;
    (suffix.len() <= layout.deepest
        && suffix
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(suffix.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_runs_from_the_day_item_to_the_deepest() {
        let h = 0x3af0_0000_0000_0001;
        let path: Vec<String> = (0..=SESSIONS.deepest)
            .map(|t| item_key("S#20261202#s", h, t))
            .collect();
        assert_eq!(
            path,
            [
                "S#20261202#s",
                "S#20261202#s3",
                "S#20261202#s3a",
                "S#20261202#s3af",
                "S#20261202#s3af0"
            ]
        );
        for (t, sk) in path.iter().enumerate() {
            assert_eq!(tier_of(sk, "S#20261202#s".len(), &SESSIONS), Some(t));
        }
        assert_eq!(tier_of("S#20261202#s3af01", 12, &SESSIONS), None);
        assert_eq!(tier_of("S#20261202#sX", 12, &SESSIONS), None);
    }

    #[test]
    fn shallow_tiers_fill_the_deepest_never_does() {
        assert!(SESSIONS.admits(0, 399));
        assert!(!SESSIONS.admits(0, 400));
        assert!(SESSIONS.admits(1, 27));
        assert!(!SESSIONS.admits(1, 28));
        assert!(!SESSIONS.admits(3, 20));
        assert!(SESSIONS.admits(4, 1_000));
        assert!(SKETCH.admits(2, 10_000));
        assert!(!SKETCH.admits(1, 70));
        for layout in [SESSIONS, SKETCH] {
            assert_eq!(
                layout.caps.len(),
                layout.deepest,
                "a cap per shallower tier"
            );
        }
    }
}
