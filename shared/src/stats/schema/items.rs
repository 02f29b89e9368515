//! Typed stats items: the one codec between DynamoDB attribute maps and what the
//! aggregator, recount and the queries work with. Decoding is strict: an attribute of the
//! wrong type, a number that does not parse, a broken sketch or session table is a
//! [`SchemaError`] naming the item's pk and sk, never read as 0 or as absent.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;

use super::{attr, field};
use crate::stats::sessions::{Session, SessionTotals};
use crate::stats::sketch::{Distinct, Part};

pub type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stats item {pk}/{sk} is malformed: {what}")]
pub struct SchemaError {
    pub pk: String,
    pub sk: String,
    pub what: String,
}

fn err(pk: &str, sk: &str, what: impl Into<String>) -> SchemaError {
    SchemaError {
        pk: pk.to_owned(),
        sk: sk.to_owned(),
        what: what.into(),
    }
}

/// The last stream sequence number (padded) applied per events write shard.
pub type Markers = BTreeMap<u64, String>;

/// A copy of a read-modify-write item's figures, kept in a counter item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyFields {
    pub version: u64,
    pub fields: BTreeMap<String, u64>,
}

impl CopyFields {
    pub fn get(&self, name: &str) -> u64 {
        self.fields.get(name).copied().unwrap_or(0)
    }
}

/// A counter item (day, week, month, ranking).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterItem {
    pub markers: Markers,
    /// Counters by attribute (`pv`, `h07`, `url:/pricing`, …).
    pub numbers: BTreeMap<String, i64>,
    /// Copies by attribute (`b0`, `dx`, …).
    pub copies: BTreeMap<String, CopyFields>,
    /// A ranking item marked full ([`attr::FULL`]).
    pub full: bool,
    /// Number sets by attribute (a realtime minute's session hashes).
    pub sets: BTreeMap<String, std::collections::BTreeSet<u64>>,
}

/// Per events write shard, what a session or sketch part item added to its counter item
/// with the records up to its marker (`attr → by`): pending until the counter item's
/// marker for that shard has reached the item's.
pub type Deltas = BTreeMap<u64, BTreeMap<String, i64>>;

/// One bucket of one day's sessions (a tier item, see [`super::tiers`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketItem {
    /// 0 when the item does not exist yet.
    pub version: u64,
    pub markers: Markers,
    pub deltas: Deltas,
    /// By session hash.
    pub sessions: BTreeMap<u64, Session>,
}

/// One part of one window's sessions or addresses sketch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartItem {
    /// 0 when the item does not exist yet.
    pub version: u64,
    pub markers: Markers,
    pub deltas: Deltas,
    pub part: Part,
}

/// A format-1 sketch item (read, never written): both whole sketches of one window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SketchItem {
    /// 0 when the item does not exist yet.
    pub version: u64,
    pub sessions: Distinct,
    pub addresses: Distinct,
}

fn number<T: std::str::FromStr>(
    pk: &str,
    sk: &str,
    name: &str,
    v: &AttributeValue,
) -> Result<T, SchemaError> {
    match v {
        AttributeValue::N(raw) => raw
            .parse()
            .map_err(|_| err(pk, sk, format!("{name} = {raw:?} is not a whole number"))),
        other => Err(err(pk, sk, format!("{name} is not a number: {other:?}"))),
    }
}

fn is_key(name: &str) -> bool {
    name == "pk" || name == "sk"
}

fn markers_of(pk: &str, sk: &str, item: &Item) -> Result<Markers, SchemaError> {
    let mut markers = Markers::new();
    for (name, value) in item {
        if let Some(shard) = attr::marker_shard(name) {
            match value {
                AttributeValue::S(seq) => {
                    markers.insert(shard, seq.clone());
                }
                other => {
                    return Err(err(
                        pk,
                        sk,
                        format!("marker {name} is not a string: {other:?}"),
                    ));
                }
            }
        }
    }
    Ok(markers)
}

fn put_markers(item: &mut Item, markers: &Markers) {
    for (shard, seq) in markers {
        item.insert(attr::marker(*shard), AttributeValue::S(seq.clone()));
    }
}

fn bytes<'a>(pk: &str, sk: &str, item: &'a Item, name: &str) -> Result<&'a [u8], SchemaError> {
    match item.get(name) {
        None => Ok(&[]),
        Some(AttributeValue::B(b)) => Ok(b.as_ref()),
        Some(other) => Err(err(pk, sk, format!("{name} is not binary: {other:?}"))),
    }
}

fn version(pk: &str, sk: &str, item: &Item) -> Result<u64, SchemaError> {
    item.get(attr::VERSION)
        .map(|v| number(pk, sk, attr::VERSION, v))
        .transpose()
        .map(|v| v.unwrap_or(0))
}

/// The key attributes of an item.
pub fn key_of(pk: &str, sk: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
        ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

/// The sort key of a stored item.
pub fn sk_of(item: &Item) -> Option<&str> {
    match item.get("sk")? {
        AttributeValue::S(sk) => Some(sk),
        _ => None,
    }
}

/// The partition key of a stored item.
pub fn pk_of(item: &Item) -> Option<&str> {
    match item.get("pk")? {
        AttributeValue::S(pk) => Some(pk),
        _ => None,
    }
}

impl CounterItem {
    pub fn decode(pk: &str, sk: &str, item: &Item) -> Result<CounterItem, SchemaError> {
        let mut out = CounterItem {
            markers: markers_of(pk, sk, item)?,
            ..CounterItem::default()
        };
        for (name, value) in item {
            if is_key(name) || attr::marker_shard(name).is_some() {
                continue;
            }
            if name == attr::FULL {
                out.full = true;
                continue;
            }
            match value {
                AttributeValue::M(map) => {
                    let mut copy = CopyFields::default();
                    for (f, v) in map {
                        let v: u64 = number(pk, sk, &format!("{name}.{f}"), v)?;
                        if f == field::VERSION {
                            copy.version = v;
                        } else {
                            copy.fields.insert(f.clone(), v);
                        }
                    }
                    out.copies.insert(name.clone(), copy);
                }
                AttributeValue::Ns(values) => {
                    let mut set = std::collections::BTreeSet::new();
                    for v in values {
                        set.insert(v.parse().map_err(|_| {
                            err(pk, sk, format!("{name} holds {v:?}, not a whole number"))
                        })?);
                    }
                    out.sets.insert(name.clone(), set);
                }
                v => {
                    out.numbers.insert(name.clone(), number(pk, sk, name, v)?);
                }
            }
        }
        Ok(out)
    }

    /// A counter (0 when absent).
    pub fn count(&self, name: &str) -> u64 {
        self.numbers
            .get(name)
            .map_or(0, |v| u64::try_from(*v).unwrap_or(0))
    }

    pub fn copy(&self, name: &str) -> Option<&CopyFields> {
        self.copies.get(name)
    }

    pub fn encode(&self, pk: &str, sk: &str) -> Item {
        let mut item = key_of(pk, sk);
        put_markers(&mut item, &self.markers);
        for (name, v) in &self.numbers {
            item.insert(name.clone(), AttributeValue::N(v.to_string()));
        }
        for (name, copy) in &self.copies {
            item.insert(name.clone(), AttributeValue::M(copy_map(copy)));
        }
        if self.full {
            item.insert(attr::FULL.into(), AttributeValue::Bool(true));
        }
        for (name, set) in &self.sets {
            if !set.is_empty() {
                item.insert(
                    name.clone(),
                    AttributeValue::Ns(set.iter().map(u64::to_string).collect()),
                );
            }
        }
        item
    }
}

/// A copy as the map attribute stored.
pub fn copy_map(copy: &CopyFields) -> HashMap<String, AttributeValue> {
    let mut map: HashMap<String, AttributeValue> = copy
        .fields
        .iter()
        .map(|(f, v)| (f.clone(), AttributeValue::N(v.to_string())))
        .collect();
    map.insert(
        field::VERSION.to_owned(),
        AttributeValue::N(copy.version.to_string()),
    );
    map
}

fn deltas_of(pk: &str, sk: &str, item: &Item) -> Result<Deltas, SchemaError> {
    let mut deltas = Deltas::new();
    for (name, value) in item {
        let Some(shard) = attr::delta_shard(name) else {
            continue;
        };
        let AttributeValue::M(map) = value else {
            return Err(err(pk, sk, format!("delta {name} is not a map: {value:?}")));
        };
        let mut adds = BTreeMap::new();
        for (a, v) in map {
            adds.insert(a.clone(), number(pk, sk, &format!("{name}.{a}"), v)?);
        }
        deltas.insert(shard, adds);
    }
    Ok(deltas)
}

fn put_deltas(item: &mut Item, deltas: &Deltas) {
    for (shard, adds) in deltas {
        if adds.values().all(|v| *v == 0) {
            continue;
        }
        item.insert(
            attr::delta(*shard),
            AttributeValue::M(
                adds.iter()
                    .map(|(a, v)| (a.clone(), AttributeValue::N(v.to_string())))
                    .collect(),
            ),
        );
    }
}

fn put_version(item: &mut Item, version: u64) {
    item.insert(attr::VERSION.into(), AttributeValue::N(version.to_string()));
}

/// Bytes of one session in a bucket's table: hash, first, last, events (little-endian).
const SESSION_BYTES: usize = 20;

impl BucketItem {
    pub fn decode(pk: &str, sk: &str, item: &Item) -> Result<BucketItem, SchemaError> {
        let table = bytes(pk, sk, item, attr::BUCKET)?;
        if !table.len().is_multiple_of(SESSION_BYTES) {
            return Err(err(pk, sk, "session table is not whole sessions"));
        }
        let mut sessions = BTreeMap::new();
        let mut last: Option<u64> = None;
        for row in table.chunks_exact(SESSION_BYTES) {
            let u64_at = |i: usize| {
                row.get(i..i + 8)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_le_bytes)
                    .unwrap_or_default()
            };
            let u32_at = |i: usize| {
                row.get(i..i + 4)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_le_bytes)
                    .unwrap_or_default()
            };
            let hash = u64_at(0);
            if last.is_some_and(|l| l >= hash) {
                return Err(err(pk, sk, "session table is not sorted"));
            }
            last = Some(hash);
            let s = Session {
                first: u32_at(8),
                last: u32_at(12),
                events: u32_at(16),
            };
            if !s.is_valid() {
                return Err(err(pk, sk, format!("impossible session {s:?}")));
            }
            sessions.insert(hash, s);
        }
        Ok(BucketItem {
            version: version(pk, sk, item)?,
            markers: markers_of(pk, sk, item)?,
            deltas: deltas_of(pk, sk, item)?,
            sessions,
        })
    }

    pub fn encode(&self, pk: &str, sk: &str) -> Item {
        let mut item = key_of(pk, sk);
        put_markers(&mut item, &self.markers);
        put_deltas(&mut item, &self.deltas);
        put_version(&mut item, self.version);
        let mut table = Vec::with_capacity(SESSION_BYTES * self.sessions.len());
        for (hash, s) in &self.sessions {
            table.extend_from_slice(&hash.to_le_bytes());
            for v in [s.first, s.last, s.events] {
                table.extend_from_slice(&v.to_le_bytes());
            }
        }
        item.insert(attr::BUCKET.into(), AttributeValue::B(table.into()));
        if let Some(expires) = super::session_expiry(sk, chrono::Utc::now().timestamp()) {
            item.insert(attr::EXPIRES.into(), AttributeValue::N(expires.to_string()));
        }
        item
    }

    pub fn totals(&self) -> SessionTotals {
        let mut t = SessionTotals::default();
        for s in self.sessions.values() {
            t += s.totals();
        }
        t
    }
}

/// What the day item counts of some session totals (its counters' deltas).
pub fn session_adds(delta: [i64; 3]) -> BTreeMap<String, i64> {
    BTreeMap::from([
        (attr::SESSION_COUNT.to_owned(), delta[0]),
        (attr::BOUNCES.to_owned(), delta[1]),
        (attr::DURATION.to_owned(), delta[2]),
    ])
}

impl PartItem {
    pub fn decode(pk: &str, sk: &str, item: &Item) -> Result<PartItem, SchemaError> {
        let part = Part::from_bytes(bytes(pk, sk, item, attr::PART)?)
            .map_err(|e| err(pk, sk, e.to_string()))?;
        if let Some(cap) = super::part_of_key(sk).and_then(|k| super::tiers::SKETCH.cap(k.tier))
            && part.listed().is_none_or(|n| n > cap)
        {
            return Err(err(
                pk,
                sk,
                "a shallow tier's part must list at most its cap",
            ));
        }
        Ok(PartItem {
            version: version(pk, sk, item)?,
            markers: markers_of(pk, sk, item)?,
            deltas: deltas_of(pk, sk, item)?,
            part,
        })
    }

    pub fn encode(&self, pk: &str, sk: &str) -> Item {
        let mut item = key_of(pk, sk);
        put_markers(&mut item, &self.markers);
        put_deltas(&mut item, &self.deltas);
        put_version(&mut item, self.version);
        item.insert(
            attr::PART.into(),
            AttributeValue::B(self.part.to_bytes().into()),
        );
        item
    }
}

impl SketchItem {
    pub fn decode(pk: &str, sk: &str, item: &Item) -> Result<SketchItem, SchemaError> {
        let sketch = |of: super::Of| {
            Distinct::from_bytes(bytes(pk, sk, item, of.attr())?)
                .map_err(|e| err(pk, sk, e.to_string()))
        };
        Ok(SketchItem {
            version: version(pk, sk, item)?,
            sessions: sketch(super::Of::Sessions)?,
            addresses: sketch(super::Of::Addresses)?,
        })
    }

    pub fn encode(&self, pk: &str, sk: &str) -> Item {
        let mut item = key_of(pk, sk);
        item.insert(
            attr::VERSION.into(),
            AttributeValue::N(self.version.to_string()),
        );
        for (of, sketch) in [
            (super::Of::Sessions, &self.sessions),
            (super::Of::Addresses, &self.addresses),
        ] {
            item.insert(
                of.attr().into(),
                AttributeValue::B(sketch.to_bytes().into()),
            );
        }
        item
    }

    pub fn sketch(&self, of: super::Of) -> &Distinct {
        match of {
            super::Of::Sessions => &self.sessions,
            super::Of::Addresses => &self.addresses,
        }
    }

    /// What the day, week or month item keeps of this sketch item.
    pub fn copy(&self) -> CopyFields {
        CopyFields {
            version: self.version,
            fields: BTreeMap::from([
                (field::VISITORS.to_owned(), self.sessions.count()),
                (field::ADDRESSES.to_owned(), self.addresses.count()),
            ]),
        }
    }
}

/// The markers and version of a stored item of any family, read leniently (attributes
/// that do not parse are skipped): what a rebuild keeps of an item it rewrites, however
/// damaged the rest of it is.
pub fn markers_and_version(item: &Item) -> (Markers, u64) {
    let mut markers = Markers::new();
    for (name, value) in item {
        if let (Some(shard), AttributeValue::S(seq)) = (attr::marker_shard(name), value) {
            markers.insert(shard, seq.clone());
        }
    }
    let version = match item.get(attr::VERSION) {
        Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
        _ => 0,
    };
    (markers, version)
}

/// Bytes DynamoDB counts for an attribute name and a number of up to 12 digits (its
/// value may still grow to that): the budget a ranking item's keys are held to.
pub fn counter_budget(name: &str) -> usize {
    name.len() + 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_items_round_trip() {
        let mut c = CounterItem::default();
        c.markers.insert(3, "0042".into());
        c.numbers.insert("pv".into(), 7);
        c.numbers.insert("url:/a".into(), 2);
        c.copies.insert(
            "dx".into(),
            CopyFields {
                version: 4,
                fields: BTreeMap::from([("u".into(), 3), ("i".into(), 2)]),
            },
        );
        let item = c.encode("1#0", "D#20250915");
        assert_eq!(CounterItem::decode("1#0", "D#20250915", &item), Ok(c));
    }

    #[test]
    fn a_counter_that_is_not_a_number_is_an_error_naming_the_item() {
        let mut item = key_of("1#0", "D#20250915");
        item.insert("pv".into(), AttributeValue::S("seven".into()));
        let e = CounterItem::decode("1#0", "D#20250915", &item).unwrap_err();
        assert_eq!((e.pk.as_str(), e.sk.as_str()), ("1#0", "D#20250915"));
        item.insert("pv".into(), AttributeValue::N("1.5".into()));
        assert!(CounterItem::decode("1#0", "D#20250915", &item).is_err());
    }

    #[test]
    fn broken_sketches_and_session_tables_are_errors() {
        let mut item = key_of("1#0", "X#D#20250915");
        item.insert("u".into(), AttributeValue::B(vec![9, 9, 9].into()));
        assert!(SketchItem::decode("1#0", "X#D#20250915", &item).is_err());
        let sk = "X#D#20250915#u03";
        let mut item = key_of("1#0", sk);
        item.insert("p".into(), AttributeValue::B(vec![9, 9, 9].into()));
        assert!(PartItem::decode("1#0", sk, &item).is_err());
        let sk = "S#20250915#s0a";
        let row = |hash: u64, first: u32, last: u32, events: u32| {
            let mut r = hash.to_le_bytes().to_vec();
            for v in [first, last, events] {
                r.extend_from_slice(&v.to_le_bytes());
            }
            r
        };
        let table = |rows: Vec<Vec<u8>>| {
            let mut item = key_of("1#0", sk);
            item.insert("t".into(), AttributeValue::B(rows.concat().into()));
            item
        };
        let bad = [
            table(vec![row(1, 5, 9, 2)[..19].to_vec()]), // not whole sessions
            table(vec![row(1, 5, 4, 1)]),                // last before first
            table(vec![row(1, 5, 5, 0)]),                // no events
            table(vec![row(2, 1, 1, 1), row(1, 1, 1, 1)]), // not sorted
        ];
        for item in &bad {
            assert!(BucketItem::decode("1#0", sk, item).is_err(), "{item:?}");
        }
        let mut item = table(vec![row(1, 5, 9, 2)]);
        assert!(BucketItem::decode("1#0", sk, &item).is_ok());
        item.insert("t".into(), AttributeValue::S("x".into()));
        assert!(BucketItem::decode("1#0", sk, &item).is_err());
        let mut item = key_of("1#0", sk);
        item.insert("d3".into(), AttributeValue::N("1".into()));
        assert!(BucketItem::decode("1#0", sk, &item).is_err()); // delta not a map
    }

    #[test]
    fn session_and_part_items_round_trip() {
        let sk = "S#20250915#s0a";
        let s = BucketItem {
            version: 3,
            markers: Markers::from([(2, "0009".into())]),
            deltas: Deltas::from([(2, session_adds([1, 0, 700]))]),
            sessions: BTreeMap::from([
                (
                    0x0a00_0000_0000_0001,
                    Session {
                        first: 100,
                        last: 800,
                        events: 2,
                    },
                ),
                (0x0aff_0000_0000_0000, Session::new(5)),
            ]),
        };
        let item = s.encode("1#0", sk);
        assert!(item.contains_key(attr::EXPIRES));
        assert_eq!(BucketItem::decode("1#0", sk, &item), Ok(s));
        let sk = "X#W#20250915#i10";
        let mut p = PartItem {
            version: 1,
            ..PartItem::default()
        };
        p.part.insert(0x2800_0000_0000_0001);
        p.deltas.insert(0, BTreeMap::from([("ip".to_owned(), 1)]));
        assert_eq!(PartItem::decode("1#0", sk, &p.encode("1#0", sk)), Ok(p));
    }

    #[test]
    fn absent_items_decode_empty() {
        let item = key_of("1#0", "X#D#20250915");
        let s = SketchItem::decode("1#0", "X#D#20250915", &item).unwrap_or_default();
        assert_eq!((s.version, s.sessions.count()), (0, 0));
    }
}
