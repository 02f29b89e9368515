//! The stats table's storage guarantees, against DynamoDB Local's real stream: one schema
//! that recount's rebuild covers family by family, no batch lost to one bad item, ranking
//! items that never outgrow DynamoDB's 400 KB, and summaries that are never torn.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use pingoo::events::Event;
use pingoo::model::Site;
use pingoo::stats::aggregate::{Aggregator, StreamedEvent};
use pingoo::stats::facts::StatType;
use pingoo::stats::query;
use pingoo::stats::recount::{self, Mode};
use pingoo::stats::schema::{self, BucketItem, CounterItem, Family, Kind, PartItem, items::Item};
use pingoo::stats::sessions::Session;
use pingoo::stats::sketch::Parts;
use pingoo::store::Db;
use support::*;

/// Every stats item of a partition, by sort key.
async fn items_of(db: &Db, pk: &str) -> BTreeMap<String, Item> {
    db.stats_range(pk, "#", "~")
        .await
        .unwrap()
        .into_iter()
        .map(|item| (schema::items::sk_of(&item).unwrap().to_owned(), item))
        .collect()
}

fn version_of(family: Family, pk: &str, sk: &str, item: &Item) -> u64 {
    match family.kind() {
        Kind::Counter => 0,
        Kind::Sessions => BucketItem::decode(pk, sk, item).unwrap().version,
        Kind::Sketch => PartItem::decode(pk, sk, item).unwrap().version,
    }
}

/// The item with valid but wrong content (its markers and version kept).
fn corrupt(family: Family, pk: &str, sk: &str, item: &Item) -> Item {
    match family.kind() {
        Kind::Counter => {
            let mut c = CounterItem::decode(pk, sk, item).unwrap();
            for v in c.numbers.values_mut() {
                *v += 5;
            }
            c.numbers.insert("url:/never-visited".into(), 9);
            for copy in c.copies.values_mut() {
                for f in copy.fields.values_mut() {
                    *f += 3;
                }
            }
            c.encode(pk, sk)
        }
        Kind::Sessions => {
            let mut b = BucketItem::decode(pk, sk, item).unwrap();
            for s in b.sessions.values_mut() {
                *s = Session {
                    first: 0,
                    last: 1,
                    events: 7,
                };
            }
            b.encode(pk, sk)
        }
        Kind::Sketch => PartItem {
            part: Default::default(),
            ..PartItem::decode(pk, sk, item).unwrap()
        }
        .encode(pk, sk),
    }
}

/// What a partition's items count, without markers and versions: counter items one by
/// one; sessions and sketches as a whole per day or sketch, whichever of their tier items
/// hold them (a rebuild may place values in other items of their paths than the
/// aggregator did, see `schema::tiers`).
fn contents(pk: &str, items: &BTreeMap<String, Item>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut sessions: BTreeMap<String, BTreeMap<u64, Session>> = BTreeMap::new();
    let mut sketches: BTreeMap<String, Parts> = BTreeMap::new();
    for (sk, item) in items {
        match Family::of(sk).unwrap().kind() {
            Kind::Counter => {
                let c = CounterItem::decode(pk, sk, item).unwrap();
                let copies: BTreeMap<_, _> = c.copies.iter().map(|(k, v)| (k, &v.fields)).collect();
                out.insert(sk.clone(), format!("{:?} {:?}", c.numbers, copies));
            }
            // Pending deltas are left out: a rebuild settles them.
            Kind::Sessions => {
                let day = sk.get(..10).unwrap().to_owned();
                let b = BucketItem::decode(pk, sk, item).unwrap();
                sessions.entry(day).or_default().extend(b.sessions);
            }
            Kind::Sketch => {
                let key = schema::part_of_key(sk).unwrap();
                let base = sk.get(..sk.len() - key.tier).unwrap().to_owned();
                let part = PartItem::decode(pk, sk, item).unwrap().part;
                let parts = sketches.entry(base).or_default();
                match key.index {
                    Some(i) => parts.merge_part(i, &part),
                    None => parts.merge_hashes(part.hashes()),
                }
            }
        }
    }
    for (day, s) in sessions {
        out.insert(day, format!("{s:?}"));
    }
    for (base, parts) in sketches {
        out.insert(base, format!("{parts:?}"));
    }
    out
}

#[tokio::test]
async fn a_rebuild_reads_resets_and_rewrites_every_family() {
    let w = world().await;
    let db = &w.app.state.db;
    let events = mixed(&w.site, 300, 11);
    put(db, &events).await;
    Aggregator::new(db.clone())
        .apply(&stream_events(&w).await)
        .await
        .unwrap();
    let (from, to) = (day(2025, 9, 28), day(2025, 10, 1));
    assert_matches_recount(&w, from, to).await;
    let pk = schema::partition(w.site.id, w.site.generation);

    // The aggregator wrote every family recount rebuilds (realtime minutes only come from
    // recent events), and nothing outside them.
    let stored = items_of(db, &pk).await;
    let families: BTreeSet<Family> = stored
        .keys()
        .map(|sk| Family::of(sk).unwrap_or_else(|| panic!("{sk} is in no family")))
        .collect();
    let rebuilt: BTreeSet<Family> = Family::ALL.into_iter().filter(|f| f.rebuilt()).collect();
    assert_eq!(families, rebuilt);

    for family in rebuilt {
        let before = items_of(db, &pk).await;
        let mut damaged = Vec::new();
        for (sk, item) in before
            .iter()
            .filter(|(sk, _)| Family::of(sk) == Some(family))
        {
            damaged.push(corrupt(family, &pk, sk, item));
        }
        assert!(!damaged.is_empty(), "{family:?}");
        db.put_stats_items(damaged).await.unwrap();
        if family.kind() == Kind::Counter {
            let check = recount::recount(db, w.site.id, from, to, Mode::Compare)
                .await
                .unwrap();
            assert!(!check.differences.is_empty(), "{family:?}: damage not seen");
        }

        recount::recount(db, w.site.id, from, to, Mode::Rebuild)
            .await
            .unwrap();
        let after = items_of(db, &pk).await;
        for sk in before.keys() {
            assert!(after.contains_key(sk), "{family:?}: {sk} gone");
        }
        assert_eq!(
            contents(&pk, &before),
            contents(&pk, &after),
            "{family:?} damaged, not restored"
        );
        for (sk, old) in &before {
            let f = Family::of(sk).unwrap();
            if f.kind() != Kind::Counter {
                assert_eq!(
                    version_of(f, &pk, sk, &after[sk]),
                    version_of(f, &pk, sk, old) + 1,
                    "{sk}: the version continues"
                );
            }
        }
        assert_matches_recount(&w, from, to).await;
    }
    // And by hand: what the first day of October holds.
    let october = day(2025, 10, 1);
    let s = query::summary(db, w.site.id, w.site.generation, october, october)
        .await
        .unwrap()
        .0;
    assert_eq!(s.pv, page_views(&events, october));
}

fn page_view(site: &Site, d: NaiveDate, secs: i64, session: &str, url: &str) -> Event {
    event(site, at(d, secs), session, "198.51.100.7", url, "page_view")
}

#[tokio::test]
async fn one_poison_record_is_the_only_one_reported_and_the_rest_is_applied() {
    let w = world().await;
    let db = &w.app.state.db;
    let (token, _) = w.app.user("other@example.com").await;
    let other = w.app.site(&token, "https://other.example").await;
    let d = day(2025, 9, 17);
    // The other site's day item is damaged: its page-view counter is not a number, so
    // DynamoDB refuses every ADD to it (a permanent error, not a throttle).
    let mut broken = schema::items::key_of(
        &schema::partition(other.id, other.generation),
        &schema::day_key(d),
    );
    broken.insert("pv".into(), AttributeValue::S("not a number".into()));
    db.put_stats_items(vec![broken]).await.unwrap();

    let mut events: Vec<Event> = (0..10)
        .map(|i| page_view(&w.site, d, 100 + i, &format!("s{}", i % 3), "/a"))
        .collect();
    events.push(page_view(&other, d, 200, "x", "/poison"));
    events.extend((10..20).map(|i| page_view(&w.site, d, 300 + i, &format!("s{}", i % 4), "/b")));
    put(db, &events).await;
    let records: Vec<StreamedEvent> = stream_events(&w).await;
    let poison = records
        .iter()
        .position(|r| r.event.site_id == other.id)
        .unwrap();

    let aggregator = Aggregator::new(db.clone());
    let partial = aggregator.apply(&records).await.unwrap_err();
    assert_eq!(
        partial.first_not_applied, poison,
        "only the poison record is reported"
    );
    assert_eq!(partial.report.items_set_aside, 1);

    // The healthy site counted everything, before and after the poison record.
    let s = query::summary(db, w.site.id, w.site.generation, d, d)
        .await
        .unwrap()
        .0;
    assert_eq!((s.pv, s.uv, s.week_pv, s.month_pv), (20, 4, 20, 20));
    assert_matches_recount(&w, d, d).await;

    // Lambda retries from the reported record (bisecting the rest away): the poison is
    // reported again each time, and nothing is counted twice.
    for _ in 0..3 {
        let again = aggregator.apply(&records[poison..]).await.unwrap_err();
        assert_eq!(again.first_not_applied, 0);
        let alone = aggregator
            .apply(&records[poison..=poison])
            .await
            .unwrap_err();
        assert_eq!(alone.first_not_applied, 0);
    }
    aggregator.apply(&records[poison + 1..]).await.unwrap();
    let s = query::summary(db, w.site.id, w.site.generation, d, d)
        .await
        .unwrap()
        .0;
    assert_eq!((s.pv, s.uv), (20, 4));
    assert_matches_recount(&w, d, d).await;
}

#[tokio::test]
async fn a_ranking_item_near_400_kb_takes_new_keys_as_other_and_fails_nothing() {
    let w = world().await;
    let db = &w.app.state.db;
    let (token, _) = w.app.user("other@example.com").await;
    let other = w.app.site(&token, "https://other.example").await;
    let d = day(2025, 9, 17);
    // A url ranking item as an older aggregator could leave it: ~399 KB of keys, not
    // marked full.
    let pk = schema::partition(w.site.id, w.site.generation);
    let sk = schema::rank_key(d, StatType::Url);
    let mut big = schema::items::key_of(&pk, &sk);
    let mut size = pk.len() + sk.len() + 4;
    let mut i = 0;
    while size < 399 * 1024 {
        let name = format!("url:/legacy/{i:05}/{}", "x".repeat(180));
        size += name.len() + 2;
        big.insert(name, AttributeValue::N("1".into()));
        i += 1;
    }
    db.put_stats_items(vec![big]).await.unwrap();

    let long = "y".repeat(190);
    let mut events: Vec<Event> = (0..100)
        .map(|i| {
            page_view(
                &w.site,
                d,
                100 + i,
                &format!("s{}", i % 5),
                &format!("/new/{i}/{long}"),
            )
        })
        .collect();
    events.extend((0..30).map(|i| page_view(&other, d, 500 + i, &format!("o{}", i % 6), "/o")));
    put(db, &events).await;
    let records = stream_events(&w).await;
    let report = Aggregator::new(db.clone())
        .apply(&records)
        .await
        .expect("no record in the failure path");
    assert_eq!(report.items_set_aside, 0);

    let (urls, _) = query::ranking(db, w.site.id, w.site.generation, d, StatType::Url, 1)
        .await
        .unwrap();
    assert_eq!(urls.list[0].key, "(other)");
    assert_eq!(urls.list[0].count, 100, "every new key counted as (other)");
    assert!(!urls.list.iter().any(|r| r.key.starts_with("/new/")));
    let s = query::summary(db, w.site.id, w.site.generation, d, d)
        .await
        .unwrap()
        .0;
    assert_eq!((s.pv, s.uv, s.ip_count), (100, 5, 1));
    let (referrers, _) = query::ranking(db, w.site.id, w.site.generation, d, StatType::Referrer, 1)
        .await
        .unwrap();
    assert_eq!(referrers.list[0].count, 100);

    // The other site is exact.
    let o = query::summary(db, other.id, other.generation, d, d)
        .await
        .unwrap()
        .0;
    assert_eq!((o.pv, o.uv), (30, 6));
    let check = recount::recount(db, other.id, d, d, Mode::Compare)
        .await
        .unwrap();
    assert!(check.differences.is_empty(), "{:?}", check.differences);
    // The full item stays under DynamoDB's limit and says it is full.
    let stored = items_of(db, &pk).await;
    let item = CounterItem::decode(&pk, &sk, &stored[&sk]).unwrap();
    assert!(item.full);
}

#[tokio::test]
async fn summaries_never_show_a_week_or_a_month_below_a_day() {
    let w = world().await;
    let db = &w.app.state.db;
    // A Wednesday mid-month: its week lies inside its month.
    let d = day(2025, 9, 17);
    let events: Vec<Event> = (0..240)
        .map(|i| {
            event(
                &w.site,
                at(d, 1000 + i),
                &format!("s{i}"),
                &format!("203.0.113.{}", i % 200),
                &format!("/p{}", i % 9),
                "page_view",
            )
        })
        .collect();
    put(db, &events).await;
    let records = stream_events(&w).await;
    let done = AtomicBool::new(false);
    let aggregator = Aggregator::new(db.clone());
    let writer = async {
        for batch in records.chunks(4) {
            aggregator.apply(batch).await.unwrap();
        }
        done.store(true, Ordering::SeqCst);
    };
    let pk = schema::partition(w.site.id, w.site.generation);
    let reader = async {
        let mut samples = 0;
        while !done.load(Ordering::SeqCst) {
            let s = query::summary(db, w.site.id, w.site.generation, d, d)
                .await
                .unwrap()
                .0;
            let shown = format!("{s:?}");
            assert!(s.week_pv >= s.pv && s.month_pv >= s.week_pv, "{shown}");
            assert!(s.week_uv >= s.uv && s.month_uv >= s.week_uv, "{shown}");
            assert!(
                s.week_ip >= s.ip_count && s.month_ip >= s.week_ip,
                "{shown}"
            );
            // The stored items themselves, read day first, then week, then month.
            let mut pv = Vec::new();
            for sk in [
                schema::day_key(d),
                schema::week_key(d),
                schema::month_key(d),
            ] {
                let mut cost = Default::default();
                let got = db
                    .stats_items(&pk, std::slice::from_ref(&sk), &mut cost)
                    .await
                    .unwrap();
                let item = got
                    .get(&sk)
                    .map(|i| CounterItem::decode(&pk, &sk, i).unwrap())
                    .unwrap_or_default();
                pv.push(item.count("pv"));
            }
            assert!(
                pv[1] >= pv[0] && pv[2] >= pv[1],
                "stored day/week/month pv {pv:?}"
            );
            samples += 1;
        }
        samples
    };
    let ((), samples) = tokio::join!(writer, reader);
    assert!(samples >= 10, "only {samples} reads raced the batches");
    let s = query::summary(db, w.site.id, w.site.generation, d, d)
        .await
        .unwrap()
        .0;
    assert_eq!((s.pv, s.week_pv, s.month_pv, s.uv), (240, 240, 240, 240));
}

/// Format-1 items (session bucket copies and whole sketches, before issue 14 §3) are still
/// read: a day written by an older aggregator shows its figures, and new events add to
/// them; a range merges old whole sketches with new parts as one union.
#[tokio::test]
async fn format_1_items_are_read_back_and_new_events_add_to_them() {
    use pingoo::stats::schema::{CopyFields, SketchItem, Window};
    use pingoo::stats::sketch::{Distinct, hash};
    let w = world().await;
    let db = &w.app.state.db;
    let pk = schema::partition(w.site.id, w.site.generation);
    let (d1, d2) = (day(2025, 9, 16), day(2025, 9, 17));
    // What an older aggregator left for the 16th: 3 sessions (1 bounce, 40 s in all) in
    // two buckets, 3 visitors and 2 addresses in its whole day sketch.
    let copy = |fields: &[(&str, u64)]| CopyFields {
        version: 2,
        fields: fields.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
    };
    let mut old_day = CounterItem::default();
    old_day.numbers.insert("pv".into(), 5);
    old_day
        .copies
        .insert("b0".into(), copy(&[("s", 2), ("b", 1), ("d", 30_000)]));
    old_day
        .copies
        .insert("b3".into(), copy(&[("s", 1), ("b", 0), ("d", 10_000)]));
    old_day
        .copies
        .insert("dx".into(), copy(&[("u", 3), ("i", 2)]));
    let mut sketch = SketchItem {
        version: 2,
        ..SketchItem::default()
    };
    for s in ["old-1", "old-2", "shared"] {
        sketch.sessions.insert(hash(s));
    }
    for ip in ["198.51.100.1", "198.51.100.7"] {
        sketch.addresses.insert(hash(ip));
    }
    assert!(matches!(sketch.sessions, Distinct::Exact(_)));
    let old_sketch_sk = schema::sketch_key(Window::Day, d1);
    db.put_stats_items(vec![
        old_day.encode(&pk, &schema::day_key(d1)),
        sketch.encode(&pk, &old_sketch_sk),
    ])
    .await
    .unwrap();

    // New events through the aggregator: on the 16th a new session, on the 17th a
    // session also seen on the 16th and a new one.
    let events = vec![
        page_view(&w.site, d1, 50_000, "new-1", "/a"),
        page_view(&w.site, d2, 3_600, "shared", "/a"),
        page_view(&w.site, d2, 7_200, "new-2", "/b"),
    ];
    put(db, &events).await;
    Aggregator::new(db.clone())
        .apply(&stream_events(&w).await)
        .await
        .unwrap();

    let one = query::summary(db, w.site.id, w.site.generation, d1, d1)
        .await
        .unwrap()
        .0;
    assert_eq!(one.pv, 6);
    assert_eq!(one.uv, 4, "3 old visitors + 1 new");
    // 4 sessions, 2 of them bounces.
    assert_eq!(one.bounce_rate, 50.0);
    assert_eq!(one.avg_duration, 10);
    let range = query::summary(db, w.site.id, w.site.generation, d1, d2)
        .await
        .unwrap()
        .0;
    assert_eq!(range.pv, 8);
    // old-1, old-2, shared, new-1, new-2: "shared" counts once across the formats.
    assert_eq!(range.uv, 5);
}

/// Every value of a tiered family (sessions of a day, or hashes of a sketch) sits in
/// exactly one item, and an item below tier 0 has full items above it on its path.
fn assert_tier_layout(
    pk: &str,
    items: &BTreeMap<String, Item>,
    base: &str,
    layout: &pingoo::stats::schema::tiers::Layout,
) {
    let mut held: BTreeMap<usize, BTreeMap<String, Vec<u64>>> = BTreeMap::new();
    for (sk, item) in items.range(base.to_owned()..format!("{base}~")) {
        let Some(tier) = sk.len().checked_sub(base.len()) else {
            continue;
        };
        let values: Vec<u64> = if base.starts_with("S#") {
            BucketItem::decode(pk, sk, item)
                .unwrap()
                .sessions
                .into_keys()
                .collect()
        } else {
            PartItem::decode(pk, sk, item)
                .unwrap()
                .part
                .hashes()
                .to_vec()
        };
        held.entry(tier).or_default().insert(sk.clone(), values);
    }
    assert!(
        held.len() > 1,
        "{base}: only tier 0 was used: {:?}",
        held.keys()
    );
    let mut seen = BTreeSet::new();
    for (tier, items_of_tier) in &held {
        for (sk, values) in items_of_tier {
            if *tier > 0 && !values.is_empty() {
                for t in 0..*tier {
                    let above = &sk[..base.len() + t];
                    let n = held.get(&t).and_then(|m| m.get(above)).map_or(0, Vec::len);
                    assert_eq!(
                        Some(n),
                        layout.cap(t),
                        "{sk} holds values but {above} is not full"
                    );
                }
            }
            for v in values {
                assert!(sk.ends_with(&format!("{v:016x}")[..*tier]), "{v:x} in {sk}");
                assert!(seen.insert(*v), "{v:x} is held twice ({sk})");
            }
        }
    }
}

#[tokio::test]
async fn a_crowded_day_spreads_over_tiers_and_counts_exactly_under_concurrency_and_replay() {
    use pingoo::stats::schema::{Of, Window, tiers};
    let w = world().await;
    let db = &w.app.state.db;
    // 3,000 sessions over a Sunday and a Monday (two weeks, one month), from 2,800
    // addresses; every third session is a bounce, the others have two page views 60 s
    // apart. Enough for three tiers of session buckets and of the month's sketch.
    let (sunday, monday) = (day(2025, 9, 28), day(2025, 9, 29));
    let mut events = Vec::new();
    for i in 0..3_000u32 {
        let d = if i % 2 == 0 { sunday } else { monday };
        let start = 3_600 + i64::from(i) * 20;
        let ip = format!("198.51.{}.{}", (i % 2_800) / 200, (i % 2_800) % 200);
        let session = format!("crowd-{i}");
        events.push(event(
            &w.site,
            at(d, start),
            &session,
            &ip,
            "/",
            "page_view",
        ));
        if i % 3 != 0 {
            events.push(event(
                &w.site,
                at(d, start + 60),
                &session,
                &ip,
                "/b",
                "page_view",
            ));
        }
    }
    db.put_events_bulk(&events).await.unwrap();
    let records = stream_events(&w).await;
    let (even, odd): (Vec<_>, Vec<_>) = records
        .into_iter()
        .partition(|r| pingoo::events::id::shard(r.event.id).is_multiple_of(2));
    let run = |records: Vec<StreamedEvent>| async move {
        let agg = Aggregator::new(db.clone());
        for batch in records.chunks(100) {
            agg.apply(batch).await.unwrap();
        }
    };
    tokio::join!(run(even.clone()), run(odd.clone()));
    // A retry storm: everything again, at once.
    tokio::join!(run(odd), run(even));

    for d in [sunday, monday] {
        let s = query::summary(db, w.site.id, w.site.generation, d, d)
            .await
            .unwrap()
            .0;
        assert_eq!((s.pv, s.uv, s.ip_count), (2_500, 1_500, 1_400), "{d}");
        assert_eq!((s.bounce_rate, s.avg_duration), (33.3, 40), "{d}");
        assert_eq!(
            (s.week_uv, s.month_uv, s.month_ip),
            (1_500, 3_000, 2_800),
            "{d}"
        );
        assert_eq!(s.month_pv, 5_000);
    }
    let both = query::summary(db, w.site.id, w.site.generation, sunday, monday)
        .await
        .unwrap()
        .0;
    assert_eq!((both.pv, both.uv, both.ip_count), (5_000, 3_000, 2_800));

    let pk = schema::partition(w.site.id, w.site.generation);
    let items = items_of(db, &pk).await;
    assert_tier_layout(&pk, &items, &schema::session_base(sunday), &tiers::SESSIONS);
    assert_tier_layout(
        &pk,
        &items,
        &schema::part_base(Window::Month, sunday, Of::Sessions),
        &tiers::SKETCH,
    );
    assert_tier_layout(
        &pk,
        &items,
        &schema::part_base(Window::Day, monday, Of::Addresses),
        &tiers::SKETCH,
    );
    assert_matches_recount(&w, sunday, monday).await;
    // A rebuild lays the values out anew and still counts the same.
    recount::recount(db, w.site.id, sunday, monday, Mode::Rebuild)
        .await
        .unwrap();
    let items = items_of(db, &pk).await;
    assert_tier_layout(&pk, &items, &schema::session_base(monday), &tiers::SESSIONS);
    assert_matches_recount(&w, sunday, monday).await;
}
