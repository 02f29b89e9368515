//! The beacon's short memory of sites: a warm container looks a site up once per
//! [`SITE_CACHE_TTL`] instead of once per beacon (a read unit each, most of the beacon's
//! DynamoDB reads).
//!
//! What staleness costs: a domain change, a deletion or a cleared statistics take up to
//! the TTL to reach the beacon. Events stored meanwhile under a deleted or cleared
//! generation are still purged, since the janitor keeps purging a job for the
//! aggregator's site-cache lifetime plus the stream lag after it was queued
//! (`Config::purge_grace`), and this TTL is that same lifetime. Only sites that exist are
//! remembered, so a new site works from its first beacon.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::Site;

/// How long a looked-up site is used: the aggregator's own site cache lifetime, which
/// the purge grace already allows for.
pub const SITE_CACHE_TTL: Duration = crate::stats::aggregate::SITE_TTL;

/// Most sites remembered; a full cache starts over (a flood of distinct site ids cannot
/// grow the container's memory).
pub const SITE_CACHE_CAPACITY: usize = 10_000;

/// How a beacon names its site.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SiteKey {
    Id(u64),
    Tracking(String),
}

/// Sites by how beacons name them, each with when it was read.
#[derive(Debug, Default)]
pub struct SiteCache {
    entries: Mutex<HashMap<SiteKey, (Instant, Site)>>,
}

impl SiteCache {
    /// The site, if it was read less than [`SITE_CACHE_TTL`] before `now`.
    pub fn get(&self, key: &SiteKey, now: Instant) -> Option<Site> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(read_at, _)| now.saturating_duration_since(*read_at) < SITE_CACHE_TTL)
            .map(|(_, site)| site.clone())
    }

    /// Remembers a site read at `now`.
    pub fn put(&self, key: SiteKey, site: Site, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= SITE_CACHE_CAPACITY && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (now, site));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(id: u64) -> Site {
        serde_json::from_value(serde_json::json!({
            "id": id, "user_id": 1, "name": "s", "domain": "example.com",
            "tracking_id": "t", "timezone": "UTC", "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn a_site_is_used_for_the_ttl_then_read_again() {
        let cache = SiteCache::default();
        let t0 = Instant::now();
        assert!(cache.get(&SiteKey::Id(1), t0).is_none());
        cache.put(SiteKey::Id(1), site(1), t0);
        assert_eq!(
            cache
                .get(&SiteKey::Id(1), t0 + SITE_CACHE_TTL / 2)
                .unwrap()
                .id,
            1
        );
        assert!(cache.get(&SiteKey::Id(1), t0 + SITE_CACHE_TTL).is_none());
        assert!(cache.get(&SiteKey::Tracking("t".into()), t0).is_none());
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = SiteCache::default();
        let t0 = Instant::now();
        for id in 1..=SITE_CACHE_CAPACITY as u64 {
            cache.put(SiteKey::Id(id), site(id), t0);
        }
        assert!(cache.get(&SiteKey::Id(1), t0).is_some());
        cache.put(SiteKey::Id(0), site(0), t0);
        assert!(cache.get(&SiteKey::Id(1), t0).is_none());
        assert!(cache.get(&SiteKey::Id(0), t0).is_some());
    }
}
