//! The stats table's schema: every family of counter items, its sort-key format, the
//! sort-key ranges that cover a span of days, its attributes and what it copies where.
//! No other file spells a stats key or attribute name: the aggregator, recount, the
//! queries and the janitor all go through here, and [`items`] decodes what is stored into
//! typed items (a malformed attribute is an error naming the item, never a zero).
//!
//! `pk = "<site_id>#<generation>"`. Sort keys:
//!
//! | family | sort key | attributes |
//! |---|---|---|
//! | [`Family::Day`] | `D#<yyyymmdd>` | `pv`, `ev`, `bot`, `h00`…`h23`, `uv`, `ip`, sessions `ss`, bounces `sb`, duration `sd`; markers `q<shard>` |
//! | [`Family::Week`] | `W#<monday yyyymmdd>` | `pv`, `uv`, `ip`; markers |
//! | [`Family::Month`] | `M#<yyyymm>` | `pv`, `uv`, `ip`; markers |
//! | [`Family::Ranking`] | `R#<yyyymmdd>#<url\|referrer\|city\|isp\|misc>` | `<stat_type>:<key>` counts; markers; `f` once full |
//! | [`Family::Sessions`] | `S#<yyyymmdd>#s<0–4 hex digits>` (a tier bucket) | `v`; `t` the sessions table (hash, first and last event in ms into the day, events: 20 bytes each); markers; pending deltas `d<shard>`; `expires_at` |
//! | [`Family::DaySketch`] | `X#D#<yyyymmdd>#<u\|i><0–2 hex digits>` (a tier part) | `v`, `p` one part of the sessions (`u`) or addresses (`i`) sketch; markers; pending deltas |
//! | [`Family::WeekSketch`] | `X#W#<monday yyyymmdd>#<u\|i><0–2 hex>` | as above |
//! | [`Family::MonthSketch`] | `X#M#<yyyymm>#<u\|i><0–2 hex>` | as above |
//! | [`Family::Realtime`] | `T#<yyyymmddHHMM>` (UTC minute) | `pv`; `u` session hashes (number set); markers; `expires_at` (TTL) |
//!
//! Stored format 2 (since issue 14 §3): a day's sessions and each sketch are spread over
//! tier items ([`tiers`]): one item while the day is quiet, more and deeper ones, each
//! about 1 KB at most, as it fills, so a batch rewrites only the items of its own values.
//! What readers need of them (sessions, bounces, duration, distinct counts) reaches the
//! day, week and month items as `ADD`ed deltas, applied exactly once (see
//! [`apply`](super::super::apply)). Format 1 items are still read: session buckets
//! `S#<day>#<0–3>` (copied into the day as `b<bucket>` `{v,s,b,d}` maps) and whole
//! sketches `X#D#<day>` etc. (`u`, `i`, copied as `dx`/`wx`/`mx` `{v,u,i}`); readers add
//! those copies to the new counters, and range reads merge the old whole sketches with
//! the parts.

pub mod items;
pub mod tiers;

use chrono::{Datelike, Days, NaiveDate};

use super::facts::StatType;

pub use items::{
    BucketItem, CopyFields, CounterItem, Deltas, Markers, PartItem, SchemaError, SketchItem,
};

/// The partition of a site generation's counters.
pub fn partition(site_id: u64, generation: u64) -> String {
    format!("{site_id}#{generation}")
}

fn ymd(day: NaiveDate) -> String {
    day.format("%Y%m%d").to_string()
}

fn ym(day: NaiveDate) -> String {
    day.format("%Y%m").to_string()
}

pub fn monday_of(day: NaiveDate) -> NaiveDate {
    day.checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
        .unwrap_or(day)
}

/// Every family of items the aggregator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Day,
    Week,
    Month,
    Ranking,
    Sessions,
    DaySketch,
    WeekSketch,
    MonthSketch,
    /// Page views and sessions of one UTC minute, for the realtime figures; expires an
    /// hour later (table TTL), never rebuilt.
    Realtime,
}

/// How a family's items are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `ADD` counters with per-shard markers ([`CounterItem`]).
    Counter,
    /// Read, changed, put back under a version ([`BucketItem`]).
    Sessions,
    /// Read, changed, put back under a version ([`SketchItem`]).
    Sketch,
}

impl Family {
    pub const ALL: [Family; 9] = [
        Family::Day,
        Family::Week,
        Family::Month,
        Family::Ranking,
        Family::Sessions,
        Family::DaySketch,
        Family::WeekSketch,
        Family::MonthSketch,
        Family::Realtime,
    ];

    /// Whether recount rebuilds this family from raw events (realtime minutes are
    /// short-lived and fed by the stream alone).
    pub fn rebuilt(self) -> bool {
        self != Family::Realtime
    }

    pub fn kind(self) -> Kind {
        match self {
            Family::Day | Family::Week | Family::Month | Family::Ranking | Family::Realtime => {
                Kind::Counter
            }
            Family::Sessions => Kind::Sessions,
            Family::DaySketch | Family::WeekSketch | Family::MonthSketch => Kind::Sketch,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Family::Day => "D#",
            Family::Week => "W#",
            Family::Month => "M#",
            Family::Ranking => "R#",
            Family::Sessions => "S#",
            Family::DaySketch => "X#D#",
            Family::WeekSketch => "X#W#",
            Family::MonthSketch => "X#M#",
            Family::Realtime => "T#",
        }
    }

    /// The family of a stored sort key.
    pub fn of(sk: &str) -> Option<Family> {
        // Longest prefixes first: `X#D#` before any one-letter prefix.
        let mut all = Family::ALL;
        all.sort_by_key(|f| std::cmp::Reverse(f.prefix().len()));
        all.into_iter().find(|f| sk.starts_with(f.prefix()))
    }

    /// The inclusive sort-key range holding every item of this family that the days
    /// `from..=to` touch (their weeks and months included).
    pub fn range(self, from: NaiveDate, to: NaiveDate) -> (String, String) {
        let p = self.prefix();
        match self {
            Family::Day => (format!("{p}{}", ymd(from)), format!("{p}{}", ymd(to))),
            Family::Week => (
                format!("{p}{}", ymd(monday_of(from))),
                format!("{p}{}", ymd(monday_of(to))),
            ),
            Family::Month => (format!("{p}{}", ym(from)), format!("{p}{}", ym(to))),
            Family::WeekSketch => (
                format!("{p}{}", ymd(monday_of(from))),
                format!("{p}{}~", ymd(monday_of(to))),
            ),
            Family::MonthSketch => (format!("{p}{}", ym(from)), format!("{p}{}~", ym(to))),
            // `~` sorts after every suffix (`#url`, `#u07`, the minutes of a day).
            Family::DaySketch | Family::Ranking | Family::Sessions | Family::Realtime => {
                (format!("{p}{}", ymd(from)), format!("{p}{}~", ymd(to)))
            }
        }
    }
}

pub fn day_key(day: NaiveDate) -> String {
    format!("{}{}", Family::Day.prefix(), ymd(day))
}
pub fn week_key(day: NaiveDate) -> String {
    format!("{}{}", Family::Week.prefix(), ymd(monday_of(day)))
}
pub fn month_key(day: NaiveDate) -> String {
    format!("{}{}", Family::Month.prefix(), ym(day))
}

/// The ranking item a stat type lives in: the big ones (url, referrer, city, isp) each
/// have their own, the small ones share `misc` so a batch writes fewer items.
pub fn rank_key(day: NaiveDate, stat: StatType) -> String {
    let item = match stat {
        StatType::Url | StatType::Referrer | StatType::City | StatType::Isp => stat.as_str(),
        _ => "misc",
    };
    format!("{}{}#{item}", Family::Ranking.prefix(), ymd(day))
}

/// The attribute of one ranking key: `<stat_type>:<key>`.
pub fn rank_attr(stat: StatType, key: &str) -> String {
    format!("{}:{key}", stat.as_str())
}

/// The key of a ranking attribute of `stat`, if it is one.
pub fn rank_key_of(attr: &str, stat: StatType) -> Option<&str> {
    attr.strip_prefix(stat.as_str())?.strip_prefix(':')
}

/// Where a ranking's keys go once its item is full.
pub const OTHER: &str = "(other)";

/// The `(other)` attribute of the stat type a ranking attribute belongs to.
pub fn other_attr(attr: &str) -> Option<String> {
    attr.split_once(':')
        .map(|(stat, _)| format!("{stat}:{OTHER}"))
}

/// The item of one session of one day.
pub fn session_base(day: NaiveDate) -> String {
    format!("{}{}#s", Family::Sessions.prefix(), ymd(day))
}

/// The tier of a session bucket key (`None` for a format-1 bucket `S#<day>#<0-3>` or
/// any other key).
pub fn bucket_tier(sk: &str) -> Option<usize> {
    let rest = sk.strip_prefix(Family::Sessions.prefix())?;
    let base = rest.get(..10)?;
    if !base.ends_with("#s") || !base[..8].bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    tiers::tier_of(sk, Family::Sessions.prefix().len() + 10, &tiers::SESSIONS)
}

/// When a session bucket may be deleted (epoch seconds, the table's TTL attribute): four
/// days after its day (its day's events have long arrived), or four days after it was
/// written (`now`), whichever is later: a backfill of an old day keeps its buckets while
/// it runs. (A bucket deleted under a day's still-arriving events would make the day's
/// sessions look new again.)
pub fn session_expiry(sk: &str, now: i64) -> Option<i64> {
    let rest = sk.strip_prefix(Family::Sessions.prefix())?;
    let day = NaiveDate::parse_from_str(rest.get(..8)?, "%Y%m%d").ok()?;
    let after_day = day.and_hms_opt(0, 0, 0)?.and_utc().timestamp() + 4 * 86_400;
    Some(after_day.max(now.saturating_add(4 * 86_400)))
}

/// What a distinct-count sketch counts: its attribute in the sketch item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Of {
    /// `u`: session ids (visitors, as the original product counts them).
    Sessions,
    /// `i`: stored (anonymized) addresses.
    Addresses,
}

impl Of {
    pub fn attr(self) -> &'static str {
        match self {
            Of::Sessions => "u",
            Of::Addresses => "i",
        }
    }
}

/// Over which window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Window {
    Day,
    Week,
    Month,
}

/// The format-1 item holding both whole sketches (sessions and addresses) of one
/// window: read, never written.
pub fn sketch_key(window: Window, day: NaiveDate) -> String {
    match window {
        Window::Day => format!("{}{}", Family::DaySketch.prefix(), ymd(day)),
        Window::Week => format!("{}{}", Family::WeekSketch.prefix(), ymd(monday_of(day))),
        Window::Month => format!("{}{}", Family::MonthSketch.prefix(), ym(day)),
    }
}

/// The base key of the tiered parts of the `of` sketch of one window (a part's key adds
/// its tier's hex digits, see [`tiers`]).
pub fn part_base(window: Window, day: NaiveDate, of: Of) -> String {
    format!("{}#{}", sketch_key(window, day), of.attr())
}

/// Where a sketch part item sits: which sketch, which tier, and (in the deepest tier)
/// which of the 256 register slices it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartKey {
    pub of: Of,
    pub tier: usize,
    /// The part's index among [`crate::stats::sketch::PARTS`] when `tier` is the deepest.
    pub index: Option<u8>,
}

/// What a sketch part item holds (`None` for a format-1 whole sketch item or any other
/// key).
pub fn part_of_key(sk: &str) -> Option<PartKey> {
    let (head, tail) = sk.rsplit_once('#')?;
    if !matches!(
        Family::of(head),
        Some(Family::DaySketch | Family::WeekSketch | Family::MonthSketch)
    ) || head.split('#').count() != 3
    {
        return None;
    }
    let of = match tail.get(..1)? {
        "u" => Of::Sessions,
        "i" => Of::Addresses,
        _ => return None,
    };
    let tier = tiers::tier_of(tail, 1, &tiers::SKETCH)?;
    let index = if tier == tiers::SKETCH.deepest {
        Some(u8::from_str_radix(&tail[1..], 16).ok()?)
    } else {
        None
    };
    Some(PartKey { of, tier, index })
}

/// The counter item a session or sketch part item sends its deltas to: its day, week or
/// month.
pub fn delta_target(sk: &str) -> Option<String> {
    let parts: Vec<&str> = sk.split('#').collect();
    match parts.as_slice() {
        ["S", day, _] => Some(format!("D#{day}")),
        ["X", "D", day, _] => Some(format!("D#{day}")),
        ["X", "W", w, _] => Some(format!("W#{w}")),
        ["X", "M", m, _] => Some(format!("M#{m}")),
        _ => None,
    }
}

/// The realtime item of the UTC minute `minute` falls in.
pub fn minute_key(minute: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "{}{}",
        Family::Realtime.prefix(),
        minute.format("%Y%m%d%H%M")
    )
}

/// When a realtime item may be deleted (epoch seconds, the table's TTL attribute): an
/// hour after its minute.
pub fn realtime_expiry(sk: &str) -> Option<i64> {
    let minute = sk.strip_prefix(Family::Realtime.prefix())?;
    let at = chrono::NaiveDateTime::parse_from_str(minute, "%Y%m%d%H%M").ok()?;
    Some(at.and_utc().timestamp() + 3600)
}

/// Counter attributes.
pub mod attr {
    /// Page views (day, week, month items).
    pub const PV: &str = "pv";
    /// Other (custom) events of humans.
    pub const EV: &str = "ev";
    /// Events of bots.
    pub const BOT: &str = "bot";
    /// Set on a ranking item once it is full: new keys count as `(other)`.
    pub const FULL: &str = "f";
    /// Version of a read-modify-write item, and of each copy.
    pub const VERSION: &str = "v";
    /// Session table of a format-1 session bucket.
    pub const SESSIONS: &str = "s";
    /// Distinct sessions and addresses (day, week, month items).
    pub const UV: &str = "uv";
    pub const IP: &str = "ip";
    /// Sessions, bounces and summed duration in ms (day items).
    pub const SESSION_COUNT: &str = "ss";
    pub const BOUNCES: &str = "sb";
    pub const DURATION: &str = "sd";
    /// A session bucket's table: per session its hash, first and last event (ms into the
    /// day) and event count, 20 bytes each, sorted by hash.
    pub const BUCKET: &str = "t";
    /// A sketch part item's part.
    pub const PART: &str = "p";
    /// Session hashes of a realtime minute (a number set).
    pub const MINUTE_SESSIONS: &str = "u";
    /// The table's TTL attribute (epoch seconds).
    pub const EXPIRES: &str = "expires_at";

    /// Page views in hour `h` (0–23) of the site's day.
    pub fn hour(h: u32) -> String {
        format!("h{h:02}")
    }

    /// The last stream sequence number applied from events write shard `shard`.
    pub fn marker(shard: u64) -> String {
        format!("q{shard}")
    }

    /// What a session or sketch part item last added (or has still to add) to its
    /// counter item for records of write shard `shard`, up to its marker.
    pub fn delta(shard: u64) -> String {
        format!("d{shard}")
    }

    /// The write shard of a pending-delta attribute.
    pub fn delta_shard(attr: &str) -> Option<u64> {
        let digits = attr.strip_prefix('d')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    /// The write shard of a marker attribute.
    pub fn marker_shard(attr: &str) -> Option<u64> {
        let digits = attr.strip_prefix('q')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

/// The fields of a copy map.
pub mod field {
    pub const VERSION: &str = "v";
    /// Session bucket copies: sessions, bounces, summed duration (ms).
    pub const SESSIONS: &str = "s";
    pub const BOUNCES: &str = "b";
    pub const DURATION: &str = "d";
    /// Sketch copies: distinct sessions and addresses.
    pub const VISITORS: &str = "u";
    pub const ADDRESSES: &str = "i";
}

/// Where the figures of a read-modify-write item are copied, so readers never read the
/// big items: `(counter item, attribute)`. Session buckets copy their totals to the day
/// (`b<bucket>`), sketch items their two counts to the day (`dx`), week (`wx`) or month
/// (`mx`).
pub fn copy_target(sk: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = sk.split('#').collect();
    match parts.as_slice() {
        ["S", day, bucket] => Some((format!("D#{day}"), format!("b{bucket}"))),
        ["X", "D", day] => Some((format!("D#{day}"), DAY_SKETCH_COPY.into())),
        ["X", "W", w] => Some((format!("W#{w}"), WEEK_SKETCH_COPY.into())),
        ["X", "M", m] => Some((format!("M#{m}"), MONTH_SKETCH_COPY.into())),
        _ => None,
    }
}

/// The copy attribute of session bucket `bucket` in its day item.
pub fn bucket_copy(bucket: u64) -> String {
    format!("b{bucket}")
}
pub const DAY_SKETCH_COPY: &str = "dx";
pub const WEEK_SKETCH_COPY: &str = "wx";
pub const MONTH_SKETCH_COPY: &str = "mx";

/// The order in which a batch's counter items are written, so that at every instant the
/// stored month ≥ week ≥ day (each only grows): months first, then weeks, then days and
/// rankings.
pub fn write_phase(sk: &str) -> u8 {
    match Family::of(sk) {
        Some(Family::Month) => 0,
        Some(Family::Week) => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn every_key_belongs_to_its_family_and_lies_in_its_range() {
        let day = d(2025, 9, 17);
        let keys = [
            (
                Family::Realtime,
                minute_key(day.and_hms_opt(10, 41, 0).unwrap_or_default().and_utc()),
            ),
            (Family::Day, day_key(day)),
            (Family::Week, week_key(day)),
            (Family::Month, month_key(day)),
            (Family::Ranking, rank_key(day, StatType::Url)),
            (Family::Ranking, rank_key(day, StatType::Screen)),
            (Family::Sessions, session_base(day)),
            (
                Family::Sessions,
                tiers::item_key(&session_base(day), u64::MAX, tiers::SESSIONS.deepest),
            ),
            (Family::DaySketch, sketch_key(Window::Day, day)),
            (Family::WeekSketch, sketch_key(Window::Week, day)),
            (Family::MonthSketch, sketch_key(Window::Month, day)),
            (
                Family::DaySketch,
                tiers::item_key(&part_base(Window::Day, day, Of::Sessions), u64::MAX, 2),
            ),
            (
                Family::WeekSketch,
                part_base(Window::Week, day, Of::Addresses),
            ),
            (
                Family::MonthSketch,
                tiers::item_key(&part_base(Window::Month, day, Of::Sessions), 7, 1),
            ),
        ];
        for (family, sk) in &keys {
            assert_eq!(Family::of(sk), Some(*family), "{sk}");
            let (lo, hi) = family.range(day, day);
            assert!(
                lo.as_str() <= sk.as_str() && sk.as_str() <= hi.as_str(),
                "{sk} in {lo}..{hi}"
            );
            // No other family's range holds it.
            for other in Family::ALL.into_iter().filter(|f| f != family) {
                let (lo, hi) = other.range(d(2020, 1, 1), d(2030, 1, 1));
                assert!(
                    !(lo.as_str() <= sk.as_str() && sk.as_str() <= hi.as_str()),
                    "{sk} also in {other:?}"
                );
            }
        }
    }

    #[test]
    fn copy_targets() {
        assert_eq!(
            copy_target("S#20250915#3"),
            Some(("D#20250915".into(), "b3".into()))
        );
        assert_eq!(
            copy_target("X#W#20250915"),
            Some(("W#20250915".into(), "wx".into()))
        );
        assert_eq!(
            copy_target("X#D#20250915"),
            Some(("D#20250915".into(), "dx".into()))
        );
        assert_eq!(copy_target("R#20250915#url"), None);
        assert_eq!(copy_target("D#20250915"), None);
    }

    #[test]
    fn deltas_go_to_their_day_week_or_month() {
        let day = d(2025, 9, 17);
        assert_eq!(
            delta_target(&tiers::item_key(&session_base(day), 0xabc, 3)),
            Some(day_key(day))
        );
        assert_eq!(
            delta_target(&part_base(Window::Day, day, Of::Sessions)),
            Some(day_key(day))
        );
        assert_eq!(
            delta_target(&tiers::item_key(
                &part_base(Window::Week, day, Of::Addresses),
                5,
                1
            )),
            Some(week_key(day))
        );
        assert_eq!(
            delta_target(&tiers::item_key(
                &part_base(Window::Month, day, Of::Sessions),
                5,
                2
            )),
            Some(month_key(day))
        );
        assert_eq!(delta_target(&day_key(day)), None);
        assert_eq!(delta_target(&sketch_key(Window::Day, day)), None);
        assert_eq!(
            part_of_key(&format!(
                "{}2a",
                part_base(Window::Week, day, Of::Addresses)
            )),
            Some(PartKey {
                of: Of::Addresses,
                tier: 2,
                index: Some(42)
            })
        );
        assert_eq!(
            part_of_key(&part_base(Window::Day, day, Of::Sessions)),
            Some(PartKey {
                of: Of::Sessions,
                tier: 0,
                index: None
            })
        );
        assert_eq!(bucket_tier(&session_base(day)), Some(0));
        assert_eq!(bucket_tier("S#20250917#3"), None);
        assert_eq!(bucket_tier("S#20250917#s0a1b"), Some(4));
        assert_eq!(part_of_key(&sketch_key(Window::Week, day)), None);
        assert_eq!(part_of_key("X#D#20250917#u0a1"), None);
        assert_eq!(part_of_key("R#20250917#u01"), None);
        assert_eq!(
            session_expiry(&session_base(day), 0),
            Some(
                d(2025, 9, 21)
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default()
                    .and_utc()
                    .timestamp()
            )
        );
        // Written long after its day (a backfill): kept four days from the write.
        assert_eq!(
            session_expiry(&session_base(day), 1_800_000_000),
            Some(1_800_000_000 + 4 * 86_400)
        );
    }

    #[test]
    fn weeks_start_on_monday() {
        assert_eq!(week_key(d(2025, 9, 21)), "W#20250915");
        assert_eq!(week_key(d(2025, 9, 15)), "W#20250915");
    }

    #[test]
    fn realtime_minutes_expire_an_hour_later() {
        let at = d(2026, 12, 2)
            .and_hms_opt(10, 41, 0)
            .unwrap_or_default()
            .and_utc();
        let sk = minute_key(at);
        assert_eq!(sk, "T#202612021041");
        assert_eq!(realtime_expiry(&sk), Some(at.timestamp() + 3600));
        assert_eq!(realtime_expiry("D#20261202"), None);
    }

    #[test]
    fn markers_parse_back() {
        assert_eq!(attr::marker_shard(&attr::marker(7)), Some(7));
        assert_eq!(attr::marker_shard("q"), None);
        assert_eq!(attr::marker_shard("qx"), None);
    }

    #[test]
    fn months_are_written_before_weeks_before_days() {
        let day = d(2025, 9, 17);
        assert!(write_phase(&month_key(day)) < write_phase(&week_key(day)));
        assert!(write_phase(&week_key(day)) < write_phase(&day_key(day)));
        assert_eq!(
            write_phase(&rank_key(day, StatType::Url)),
            write_phase(&day_key(day))
        );
    }
}
