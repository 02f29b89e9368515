//! One request of `GET /api/events/{site_id}` reads a bounded amount whatever the site
//! holds: on a site of 20,000 events, the first page, the deepest offset page, a filtered
//! page that matches nothing, and cursor paging (docs/architecture.md, Listing cost).

mod support;

use futures::StreamExt;
use pingoo::events::service::{self, ListEvents, MAX_COUNTED_EVENTS, MAX_FILTERED_SCAN};
use pingoo::stats::recount::{self, Mode};
use pingoo::store::{EventFilter, EventRange, ReadCost};
use support::{day, mixed, world};

const EVENTS: usize = 20_000;

fn query(page: Option<usize>, page_size: Option<usize>) -> ListEvents {
    ListEvents {
        page,
        page_size,
        ..ListEvents::default()
    }
}

#[tokio::test]
async fn a_list_request_on_a_site_of_20000_events_reads_a_bounded_amount() {
    let w = world().await;
    let db = &w.app.state.db;
    let events = mixed(&w.site, EVENTS, 7);
    futures::stream::iter(&events)
        .for_each_concurrent(16, |e| async move {
            assert!(db.put_event(e).await.unwrap(), "id collision");
        })
        .await;
    // The daily counters, as the aggregator would have them.
    recount::recount(
        db,
        w.site.id,
        day(2025, 9, 28),
        day(2025, 10, 1),
        Mode::Rebuild,
    )
    .await
    .unwrap();
    let owner = db.get_user(w.site.user_id).await.unwrap().unwrap();
    let list = |q: ListEvents| service::list_with_cost(&w.app.state, &owner, w.site.id, q);

    // What reading every event would cost: the unbounded count this replaces.
    let everything = EventRange {
        site_id: w.site.id,
        generation: w.site.generation,
        first_id: 0,
        last_id: pingoo::events::id::MAX_ID,
        filter: EventFilter::default(),
    };
    let full = db
        .count_events_up_to(&everything, usize::MAX)
        .await
        .unwrap();
    assert_eq!((full.counted, full.complete), (EVENTS as u64, true));

    // First page: the count stops at 10,000 and the total comes from the counters, exact
    // here (the range is open, the counters are settled).
    let (first, cost) = list(query(None, None)).await.unwrap();
    println!("first page: {cost:?}; counting all: {:?}", full.cost);
    assert_eq!((first.total, first.total_exact), (EVENTS as u64, false));
    assert_eq!(first.list.len(), 10);
    assert!(first.next_cursor.is_some());
    assert_bounded(cost, MAX_COUNTED_EVENTS + 8 * 11, full.cost);

    // The deepest offset page reads the count and about 1.25 × its 10,000 events (an even
    // share of each shard, and a quarter more); one deeper is a 400.
    let (deep, cost) = list(query(Some(100), Some(100))).await.unwrap();
    println!("page 100 × 100: {cost:?}");
    let mut newest: Vec<u64> = events.iter().map(|e| e.id).collect();
    newest.sort_unstable_by(|a, b| b.cmp(a));
    let shown: Vec<u64> = deep.list.iter().map(|e| e.event.id).collect();
    assert_eq!(shown, newest[9_900..10_000]);
    let unbounded = ReadCost {
        requests: 0,
        units: f64::MAX,
    };
    assert_bounded(cost, MAX_COUNTED_EVENTS + 12_600, unbounded);
    let err = list(query(Some(101), Some(100))).await.unwrap_err();
    assert!(err.to_string().contains("follow next_cursor"), "{err}");

    // A filter that matches nothing: each request evaluates at most its budget, says the
    // total is a lower bound, and hands out a cursor below where it stopped.
    let mut q = ListEvents {
        session_id: Some("nobody".into()),
        ..ListEvents::default()
    };
    let mut requests = 0;
    loop {
        requests += 1;
        let (page, cost) = list(q).await.unwrap();
        println!("filtered request {requests}: {cost:?}");
        assert!(page.list.is_empty());
        assert_eq!(page.total, 0);
        // On this site that is as much as reading everything; on a bigger one, no more.
        assert_bounded(cost, MAX_COUNTED_EVENTS + MAX_FILTERED_SCAN, unbounded);
        match page.next_cursor {
            Some(cursor) => {
                assert!(!page.total_exact);
                q = ListEvents {
                    session_id: Some("nobody".into()),
                    cursor: Some(cursor),
                    ..ListEvents::default()
                };
            }
            None => break,
        }
        assert!(requests < 10, "cursor paging must end");
    }
    assert!(
        requests >= 2,
        "20,000 events need more than one filtered read"
    );

    // Cursor paging of a filter that matches some events sees each exactly once.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let q = ListEvents {
            event_type: Some("custom".into()),
            page_size: Some(100),
            cursor,
            ..ListEvents::default()
        };
        let (page, _) = list(q).await.unwrap();
        seen.extend(page.list.iter().map(|e| e.event.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<u64> = events
        .iter()
        .filter(|e| e.event_type == "custom")
        .map(|e| e.id)
        .collect();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(seen, expected);
}

/// Read units stay within what `items` events cost at the largest item size the test
/// data has, and below reading every event.
#[track_caller]
fn assert_bounded(cost: ReadCost, items: usize, everything: ReadCost) {
    // Eventually consistent reads: half a unit per 4 KB; the test's events are < 0.5 KB.
    let bound = (items as f64) * 0.5 / 4096.0 * 512.0 + f64::from(cost.requests);
    assert!(
        cost.units <= bound,
        "{cost:?} over the bound of {bound:.0} units"
    );
    assert!(
        cost.units < everything.units,
        "{cost:?} is not below reading everything"
    );
}
