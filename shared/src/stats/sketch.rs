//! Distinct counts that merge: exact up to [`EXACT_LIMIT`] values, HyperLogLog above.
//!
//! A sketch holds 64-bit xxh3 hashes of the values. Up to [`EXACT_LIMIT`] distinct hashes
//! it keeps them all (a sorted list), so small counts are exact (two of 1,000 values share
//! a 64-bit hash with probability ~3·10⁻¹⁴). Above that it folds them into a dense
//! HyperLogLog with 2¹⁶ registers (standard error 1.04/√65536 ≈ 0.41%), estimated with
//! Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog
//! sketches", 2017), which needs no empirical bias tables and is unbiased from small to
//! very large counts. Inserting is idempotent and merging takes the union (registers by
//! maximum), so replaying a record can never inflate a count.
//!
//! Why not a crate: the HLL++ crates give a sparse mode that is approximate from the first
//! value (we promise exact counts up to 1,000) and serialize through serde structs whose
//! layout is theirs to change; these bytes are stored for months. The format here is
//! versioned by its first byte.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

/// Most distinct values counted exactly.
pub const EXACT_LIMIT: usize = 1000;
const P: u32 = 16;
const M: usize = 1 << P;
/// Largest register value: leading zeros of the 48 remaining bits, plus one.
const Q: usize = 64 - P as usize;

const TAG_EXACT: u8 = 1;
const TAG_DENSE: u8 = 2;

/// The stable hash every sketch uses.
pub fn hash(value: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(value.as_bytes())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Distinct {
    /// Sorted, distinct hashes.
    Exact(Vec<u64>),
    /// `M` registers.
    Dense(Vec<u8>),
}

impl Default for Distinct {
    fn default() -> Self {
        Distinct::Exact(Vec::new())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed distinct-count sketch: {0}")]
pub struct SketchError(&'static str);

impl Distinct {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one hashed value; returns whether the sketch changed.
    pub fn insert(&mut self, hash: u64) -> bool {
        match self {
            Distinct::Exact(hashes) => match hashes.binary_search(&hash) {
                Ok(_) => false,
                Err(at) => {
                    hashes.insert(at, hash);
                    if hashes.len() > EXACT_LIMIT {
                        *self = Distinct::Dense(registers_of(hashes));
                    }
                    true
                }
            },
            Distinct::Dense(registers) => raise(registers, hash),
        }
    }

    /// The union of both; returns whether `self` changed.
    pub fn merge(&mut self, other: &Distinct) -> bool {
        match other {
            Distinct::Exact(hashes) => {
                let mut changed = false;
                for &h in hashes {
                    changed |= self.insert(h);
                }
                changed
            }
            Distinct::Dense(theirs) => {
                if let Distinct::Exact(hashes) = self {
                    *self = Distinct::Dense(registers_of(hashes));
                }
                let Distinct::Dense(mine) = self else {
                    unreachable!("converted above")
                };
                let mut changed = false;
                for (m, t) in mine.iter_mut().zip(theirs) {
                    if *t > *m {
                        *m = *t;
                        changed = true;
                    }
                }
                changed
            }
        }
    }

    /// How many distinct values: exact up to [`EXACT_LIMIT`], estimated above.
    pub fn count(&self) -> u64 {
        match self {
            Distinct::Exact(hashes) => hashes.len() as u64,
            Distinct::Dense(registers) => estimate(registers).round() as u64,
        }
    }

    /// The stored form: a tag byte, then the little-endian hashes (exact) or the deflated
    /// registers (dense).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Distinct::Exact(hashes) => {
                let mut out = Vec::with_capacity(1 + 8 * hashes.len());
                out.push(TAG_EXACT);
                for h in hashes {
                    out.extend_from_slice(&h.to_le_bytes());
                }
                out
            }
            Distinct::Dense(registers) => {
                let mut encoder = DeflateEncoder::new(vec![TAG_DENSE], Compression::fast());
                // Writing to a Vec cannot fail.
                let _ = encoder.write_all(registers);
                encoder.finish().unwrap_or_default()
            }
        }
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Distinct, SketchError> {
        Distinct::decode(bytes, M)
    }

    /// Decodes a sketch of `registers` registers when dense.
    fn decode(bytes: &[u8], registers_len: usize) -> Result<Distinct, SketchError> {
        match bytes.split_first() {
            None => Ok(Distinct::default()),
            Some((&TAG_EXACT, rest)) => {
                if !rest.len().is_multiple_of(8) {
                    return Err(SketchError("exact list is not whole hashes"));
                }
                let hashes: Vec<u64> = rest
                    .chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
                    .collect();
                if hashes.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(SketchError("exact list is not sorted"));
                }
                Ok(Distinct::Exact(hashes))
            }
            Some((&TAG_DENSE, rest)) => {
                let mut registers = Vec::with_capacity(registers_len);
                DeflateDecoder::new(rest)
                    .take(registers_len as u64 + 1)
                    .read_to_end(&mut registers)
                    .map_err(|_| SketchError("dense registers do not inflate"))?;
                if registers.len() != registers_len
                    || registers.iter().any(|&r| usize::from(r) > Q + 1)
                {
                    return Err(SketchError("dense registers have the wrong shape"));
                }
                Ok(Distinct::Dense(registers))
            }
            Some(_) => Err(SketchError("unknown format")),
        }
    }
}

fn registers_of(hashes: &[u64]) -> Vec<u8> {
    let mut registers = vec![0u8; M];
    for &h in hashes {
        raise(&mut registers, h);
    }
    registers
}

/// Register index: the top `P` bits; value: position of the first 1 in the rest.
fn raise(registers: &mut [u8], hash: u64) -> bool {
    let index = (hash >> (64 - P)) as usize;
    let rest = hash << P;
    let rank = (rest.leading_zeros().min(Q as u32) + 1) as u8;
    if rank > registers[index] {
        registers[index] = rank;
        true
    } else {
        false
    }
}

/// Ertl's improved raw estimator (Algorithm 6 of the paper), for any number of
/// registers holding ranks of up to `Q + 1`.
fn estimate(registers: &[u8]) -> f64 {
    let mut histogram = [0u32; Q + 2];
    for &r in registers {
        histogram[usize::from(r).min(Q + 1)] += 1;
    }
    let m = registers.len() as f64;
    let mut z = m * tau((m - f64::from(histogram[Q + 1])) / m);
    for k in (1..=Q).rev() {
        z = 0.5 * (z + f64::from(histogram[k]));
    }
    z += m * sigma(f64::from(histogram[0]) / m);
    let alpha_inf = 1.0 / (2.0 * std::f64::consts::LN_2);
    alpha_inf * m * m / z
}

/// Parts of the deepest tier a sketch is stored in (see `schema::tiers`), by the top 8
/// bits of the hash: a part holds the hashes (or the registers) of 1/256 of the hash
/// space, so a change rewrites well under 1 KB, not the whole sketch. The registers of
/// part `j` are registers `j·256 … j·256+255` of the whole sketch, so parts and whole
/// sketches merge.
pub const PARTS: usize = 256;
const PART_BITS: u32 = 8;
/// Registers per part.
pub const PART_M: usize = M / PARTS;
/// Most hashes a part lists exactly (8 bytes each: with its markers the item stays under
/// 1 KB); a deepest-tier part with more keeps registers, a part of a shallower tier is
/// full and sends new hashes one tier down. A sketch is exact while no deepest part has
/// gone dense: in practice up to ~15,000 distinct values, and always (by many standard
/// deviations) up to [`EXACT_LIMIT`].
pub const PART_EXACT: usize = 56;

/// The part a hash belongs to.
pub fn part_of(hash: u64) -> u8 {
    (hash >> (64 - PART_BITS)) as u8
}

fn local_register(hash: u64) -> usize {
    ((hash >> (64 - P)) as usize) % PART_M
}

/// One part of a sketch: its hashes (sorted, distinct) while few, else its registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Exact(Vec<u64>),
    Dense(Vec<u8>),
}

impl Default for Part {
    fn default() -> Self {
        Part::Exact(Vec::new())
    }
}

fn part_raise(registers: &mut [u8], hash: u64) -> bool {
    let rank = ((hash << P).leading_zeros().min(Q as u32) + 1) as u8;
    let slot = &mut registers[local_register(hash)];
    if rank > *slot {
        *slot = rank;
        true
    } else {
        false
    }
}

impl Part {
    /// Adds one hash (of this part); returns whether the part changed.
    pub fn insert(&mut self, hash: u64) -> bool {
        match self {
            Part::Exact(hashes) => match hashes.binary_search(&hash) {
                Ok(_) => false,
                Err(at) => {
                    hashes.insert(at, hash);
                    if hashes.len() > PART_EXACT {
                        let mut registers = vec![0u8; PART_M];
                        for &h in hashes.iter() {
                            part_raise(&mut registers, h);
                        }
                        *self = Part::Dense(registers);
                    }
                    true
                }
            },
            Part::Dense(registers) => part_raise(registers, hash),
        }
    }

    /// The union of both (parts of the same index); returns whether `self` changed.
    pub fn merge(&mut self, other: &Part) -> bool {
        match other {
            Part::Exact(hashes) => {
                let mut changed = false;
                for &h in hashes {
                    changed |= self.insert(h);
                }
                changed
            }
            Part::Dense(theirs) => {
                if let Part::Exact(hashes) = self {
                    let mut registers = vec![0u8; PART_M];
                    for &h in hashes.iter() {
                        part_raise(&mut registers, h);
                    }
                    *self = Part::Dense(registers);
                }
                let Part::Dense(mine) = self else {
                    unreachable!("converted above")
                };
                let mut changed = false;
                for (m, t) in mine.iter_mut().zip(theirs) {
                    if *t > *m {
                        *m = *t;
                        changed = true;
                    }
                }
                changed
            }
        }
    }

    /// Distinct values of this part: exact while listed, estimated from the registers
    /// after. Parts cover disjoint slices of the hash space, so a sketch's count is the
    /// sum of its parts' (the 64 estimates' errors average out: standard error 0.41%, as
    /// for one sketch of 2¹⁶ registers).
    pub fn count(&self) -> u64 {
        match self {
            Part::Exact(hashes) => hashes.len() as u64,
            Part::Dense(registers) => estimate(registers).round() as u64,
        }
    }

    /// Adds a hash to an exact part and keeps it exact however long (a shallow tier's
    /// part, whose length its tier bounds); returns whether it changed.
    pub fn list(&mut self, hash: u64) -> bool {
        match self {
            Part::Exact(hashes) => match hashes.binary_search(&hash) {
                Ok(_) => false,
                Err(at) => {
                    hashes.insert(at, hash);
                    true
                }
            },
            Part::Dense(registers) => part_raise(registers, hash),
        }
    }

    /// Whether an exact part lists `hash` (a dense part cannot say).
    pub fn lists(&self, hash: u64) -> bool {
        matches!(self, Part::Exact(hashes) if hashes.binary_search(&hash).is_ok())
    }

    /// How many hashes an exact part lists (`None` once dense).
    pub fn listed(&self) -> Option<usize> {
        match self {
            Part::Exact(hashes) => Some(hashes.len()),
            Part::Dense(_) => None,
        }
    }

    /// The hashes of an exact part.
    pub fn hashes(&self) -> &[u64] {
        match self {
            Part::Exact(hashes) => hashes,
            Part::Dense(_) => &[],
        }
    }

    /// Stored as a [`Distinct`] is: a tag byte, then the hashes or the deflated registers.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Part::Exact(hashes) => Distinct::Exact(hashes.clone()).to_bytes(),
            Part::Dense(registers) => Distinct::Dense(registers.clone()).to_bytes(),
        }
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Part, SketchError> {
        match Distinct::decode(bytes, PART_M)? {
            Distinct::Exact(hashes) => Ok(Part::Exact(hashes)),
            Distinct::Dense(registers) => Ok(Part::Dense(registers)),
        }
    }
}

/// A whole sketch as its parts: what a range read merges (stored parts and the whole
/// sketches older items hold) and counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parts(pub std::collections::BTreeMap<u8, Part>);

impl Parts {
    pub fn merge_part(&mut self, index: u8, part: &Part) {
        self.0.entry(index).or_default().merge(part);
    }

    /// Adds listed hashes (of any parts).
    pub fn merge_hashes(&mut self, hashes: &[u64]) {
        for &h in hashes {
            self.0.entry(part_of(h)).or_default().insert(h);
        }
    }

    /// Merges a whole sketch (the stored form before parts).
    pub fn merge_whole(&mut self, whole: &Distinct) {
        match whole {
            Distinct::Exact(hashes) => self.merge_hashes(hashes),
            Distinct::Dense(registers) => {
                for (index, slice) in registers.chunks_exact(PART_M).enumerate() {
                    if slice.iter().any(|&r| r > 0) {
                        self.merge_part(index as u8, &Part::Dense(slice.to_vec()));
                    }
                }
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.0.values().map(Part::count).sum()
    }
}

fn sigma(mut x: f64) -> f64 {
    if x >= 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x <= 0.0 || x >= 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if z == before {
            return z / 3.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(n: usize, salt: &str) -> Distinct {
        let mut d = Distinct::new();
        for i in 0..n {
            d.insert(hash(&format!("{salt}-{i}")));
        }
        d
    }

    fn relative_error(d: &Distinct, n: usize) -> f64 {
        (d.count() as f64 - n as f64).abs() / n as f64
    }

    #[test]
    fn exact_at_ten_and_at_the_limit() {
        assert_eq!(filled(10, "a").count(), 10);
        let full = filled(EXACT_LIMIT, "a");
        assert!(matches!(full, Distinct::Exact(_)));
        assert_eq!(full.count(), EXACT_LIMIT as u64);
    }

    #[test]
    fn within_one_percent_above_the_limit() {
        for (n, salt) in [(1_001, "b"), (5_000, "c"), (100_000, "d"), (1_000_000, "e")] {
            let d = filled(n, salt);
            assert!(matches!(d, Distinct::Dense(_)));
            let err = relative_error(&d, n);
            assert!(
                err < 0.01,
                "{n} distinct values counted as {} ({err})",
                d.count()
            );
        }
    }

    #[test]
    fn duplicates_and_replays_do_not_count() {
        let mut d = filled(100, "x");
        assert!(!d.insert(hash("x-5")));
        let mut big = filled(20_000, "y");
        let before = big.count();
        for i in 0..20_000 {
            big.insert(hash(&format!("y-{i}")));
        }
        assert_eq!(big.count(), before);
        assert!(!d.merge(&filled(100, "x")));
    }

    #[test]
    fn merge_is_a_true_union() {
        // Two days sharing half their visitors: the union, not the sum.
        let mut monday = filled(600, "v");
        let tuesday = {
            let mut t = Distinct::new();
            for i in 300..900 {
                t.insert(hash(&format!("v-{i}")));
            }
            t
        };
        monday.merge(&tuesday);
        assert_eq!(monday.count(), 900);

        let mut a = filled(60_000, "w");
        let mut b = Distinct::new();
        for i in 30_000..100_000 {
            b.insert(hash(&format!("w-{i}")));
        }
        a.merge(&b);
        assert!(relative_error(&a, 100_000) < 0.01, "{}", a.count());
    }

    fn parted(n: usize, salt: &str) -> Parts {
        let mut parts = Parts::default();
        for i in 0..n {
            let h = hash(&format!("{salt}-{i}"));
            parts.0.entry(part_of(h)).or_default().insert(h);
        }
        parts
    }

    #[test]
    fn parts_count_exactly_while_small_and_within_one_percent_above() {
        assert_eq!(parted(10, "p").count(), 10);
        assert_eq!(parted(EXACT_LIMIT, "p").count(), EXACT_LIMIT as u64);
        assert_eq!(parted(5_000, "q").count(), 5_000);
        for (n, salt) in [(60_000, "r"), (100_000, "s"), (1_000_000, "t")] {
            let parts = parted(n, salt);
            assert!(parts.0.values().any(|p| matches!(p, Part::Dense(_))));
            let err = (parts.count() as f64 - n as f64).abs() / n as f64;
            assert!(err < 0.01, "{n} counted as {} ({err})", parts.count());
        }
    }

    #[test]
    fn parts_and_whole_sketches_merge_into_the_union() {
        // Old whole sketch (dense) for values 0..40,000, parts for 20,000..60,000.
        let whole = filled(40_000, "m");
        let mut parts = Parts::default();
        for i in 20_000..60_000 {
            let h = hash(&format!("m-{i}"));
            parts.0.entry(part_of(h)).or_default().insert(h);
        }
        parts.merge_whole(&whole);
        let err = (parts.count() as f64 - 60_000.0).abs() / 60_000.0;
        assert!(err < 0.01, "{}", parts.count());
        // Exact ones merge exactly.
        let mut small = parted(300, "n");
        small.merge_whole(&filled(500, "n"));
        assert_eq!(small.count(), 500);
    }

    #[test]
    fn a_dense_part_stays_under_a_kilobyte_stored() {
        let parts = parted(2_000_000, "z");
        for part in parts.0.values() {
            let bytes = part.to_bytes();
            assert!(bytes.len() < 900, "{}", bytes.len());
            assert_eq!(Part::from_bytes(&bytes).as_ref(), Ok(part));
        }
        let exact = parted(50, "y");
        for part in exact.0.values() {
            assert!(part.to_bytes().len() <= 1 + 8 * PART_EXACT);
        }
        assert!(Part::from_bytes(&filled(50_000, "r").to_bytes()).is_err());
    }

    #[test]
    fn bytes_round_trip_and_reject_garbage() {
        for d in [Distinct::new(), filled(10, "r"), filled(50_000, "r")] {
            let bytes = d.to_bytes();
            assert_eq!(Distinct::from_bytes(&bytes), Ok(d));
        }
        assert!(filled(50_000, "r").to_bytes().len() < 48 * 1024);
        assert!(Distinct::from_bytes(&[9, 1, 2]).is_err());
        assert!(Distinct::from_bytes(&[TAG_EXACT, 1, 2, 3]).is_err());
        assert!(Distinct::from_bytes(&[TAG_DENSE, 1, 2, 3]).is_err());
        let mut unsorted = vec![TAG_EXACT];
        unsorted.extend_from_slice(&5u64.to_le_bytes());
        unsorted.extend_from_slice(&3u64.to_le_bytes());
        assert!(Distinct::from_bytes(&unsorted).is_err());
    }
}
