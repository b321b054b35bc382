//! What the fuzz targets check, one function per parser of untrusted bytes.
//!
//! Each takes arbitrary bytes. A parser must return an error or a sketch (never panic, never
//! allocate much beyond its input), and a sketch it returns must be a valid one: every query and
//! merge works on it, and it serializes to bytes that read back to the same bytes. The functions
//! panic when a property fails, which is what libFuzzer (`fuzz_targets/`) and the corpus replay
//! on stable (`tests/replay.rs`) report.

use sketchy_core::count_min::CountMinSketch;
use sketchy_core::hll::datasketches::DsHll;
use sketchy_core::hll::ds_image::Target;
use sketchy_core::hll::{Hashing, HyperLogLog};
use sketchy_core::items::{ItemKind, KeyBuffer};
use sketchy_core::quantiles::{DDSketch, Kll};
use sketchy_core::read::{self, Column, Control, Format, Options, Sink};
use sketchy_core::sketch::Counts;
use sketchy_core::top_k::{DsItems, TopK};
use sketchy_core::{AnySketch, Sketch};

/// A few items of every kind, to update and query an accepted sketch with.
fn probe_items() -> KeyBuffer {
    let mut keys = KeyBuffer::with_capacity(8);
    keys.push(ItemKind::Str, b"apple");
    keys.push(ItemKind::Str, b"");
    keys.push(ItemKind::Bytes, &[0xff, 0x00]);
    keys.push(ItemKind::Int, &(-3i64).to_le_bytes());
    keys.push(ItemKind::Float, &2.5f64.to_le_bytes());
    keys.push(ItemKind::Float, &f64::NAN.to_le_bytes());
    keys.push(ItemKind::Int, &i64::MAX.to_le_bytes());
    keys
}

/// `to_bytes` of what `from_bytes` accepted reads back, to the same bytes.
fn round_trip<S>(
    s: &S,
    to_bytes: impl Fn(&S) -> Vec<u8>,
    from_bytes: impl Fn(&[u8]) -> sketchy_core::Result<S>,
) {
    let bytes = to_bytes(s);
    let again = match from_bytes(&bytes) {
        Ok(again) => again,
        Err(e) => panic!("the bytes of an accepted sketch are refused: {e}"),
    };
    assert_eq!(
        to_bytes(&again),
        bytes,
        "serialization is not a fixed point"
    );
}

/// Any serialized sketch, through the registry: whatever family its kind byte names.
pub fn from_bytes(data: &[u8]) {
    let Ok(s) = AnySketch::from_bytes(data) else {
        return;
    };
    round_trip(&s, AnySketch::to_bytes, AnySketch::from_bytes);
    let _ = (
        s.memory_size(),
        s.takes(),
        s.merge_is_ordered(),
        s.item_cost(),
    );
    let mut empty = s.empty_like();
    empty
        .merge(&s)
        .expect("a sketch merges into an empty one like it");
    // The checks of its family, where it has some (a family added later gets the generic ones).
    let s = match CountMinSketch::try_from(s) {
        Ok(s) => return exercise_cms(s),
        Err(s) => s,
    };
    let s = match TopK::try_from(s) {
        Ok(s) => return exercise_topk(s),
        Err(s) => s,
    };
    let s = match HyperLogLog::try_from(s) {
        Ok(s) => return exercise_distinct(s),
        Err(s) => s,
    };
    let s = match DDSketch::try_from(s) {
        Ok(s) => return exercise_ddsketch(s),
        Err(s) => s,
    };
    if let Ok(s) = Kll::try_from(s) {
        exercise_kll(s);
    }
}

fn exercise_cms(mut s: CountMinSketch) {
    let probe = probe_items();
    let keys = probe.keys();
    let mut out = vec![0; keys.len()];
    s.estimate_many(&keys, &mut out)
        .expect("estimate_many of a valid batch");
    let _ = (s.error_bound(), s.epsilon(), s.delta(), s.memory_size());
    let copy = s.clone();
    // An error (a counter overflow) must leave the sketch as it was.
    if s.merge(&copy).is_err() {
        assert_eq!(
            s.to_bytes(),
            copy.to_bytes(),
            "a failed merge changed the sketch"
        );
    }
    let before = s.to_bytes();
    if s.update(&keys, Counts::Each(u64::MAX / 4)).is_err() {
        assert_eq!(s.to_bytes(), before, "a failed update changed the sketch");
    }
}

fn exercise_topk(mut s: TopK) {
    for e in s.most_common(None) {
        let (lo, hi) = s.bounds(e.item);
        assert!(lo <= hi, "bounds out of order");
    }
    let _ = (s.len(), s.total(), s.offset(), s.memory_size());
    let _ = s.to_datasketches(DsItems::Strings);
    let _ = s.to_datasketches(DsItems::Longs);
    let copy = s.clone();
    let _ = s.merge(&copy);
    let probe = probe_items();
    let _ = s.update(&probe.keys(), Counts::Each(3));
    round_trip(&s, TopK::to_bytes, TopK::from_bytes);
}

fn exercise_distinct(mut s: HyperLogLog) {
    let e = s.estimate();
    assert!(e.is_finite() && e >= 0.0, "estimate {e}");
    for k in 1..=3 {
        let (lo, hi) = s.estimate_bounds(k).expect("bounds of 1 to 3 deviations");
        assert!(lo <= hi, "bounds out of order");
    }
    let copy = s.clone();
    s.merge(&copy).expect("a sketch merges with itself");
    s.update(&probe_items().keys());
    round_trip(&s, HyperLogLog::to_bytes, HyperLogLog::from_bytes);
}

fn exercise_ddsketch(mut s: DDSketch) {
    for q in [0.0, 0.01, 0.5, 0.99, 1.0] {
        s.quantile(q).expect("a quantile of a valid q");
    }
    let _ = (
        s.rank(0.0),
        s.rank(f64::INFINITY),
        s.min(),
        s.max(),
        s.sum(),
        s.num_bins(),
    );
    let copy = s.clone();
    let _ = s.merge(&copy);
    let _ = s.add(1.5, 2);
    let _ = s.add(-1e300, 1);
    round_trip(&s, DDSketch::to_bytes, DDSketch::from_bytes);
}

fn exercise_kll(mut s: Kll) {
    s.quantiles(&[0.0, 0.25, 0.5, 1.0])
        .expect("quantiles of valid qs");
    let _ = s.ranks(&[f64::NEG_INFINITY, 0.0, 1.0, f64::NAN]);
    let image = s.to_datasketches();
    let back = match Kll::from_datasketches(&image, s.seed()) {
        Ok(back) => back,
        Err(e) => panic!("our DataSketches image is refused: {e}"),
    };
    assert_eq!(
        back.to_datasketches(),
        image,
        "DataSketches image is not a fixed point"
    );
    let copy = s.clone();
    let _ = s.merge(&copy);
    for v in 0..40 {
        let _ = s.add(f64::from(v) * 0.5, 1);
    }
    round_trip(&s, Kll::to_bytes, Kll::from_bytes);
}

pub fn hll_from_datasketches(data: &[u8]) {
    let Ok(s) = DsHll::from_datasketches(data) else {
        return;
    };
    for target in [Target::Hll4, Target::Hll6, Target::Hll8] {
        for compact in [false, true] {
            let image = s.to_datasketches(target, compact);
            let back = match DsHll::from_datasketches(&image) {
                Ok(back) => back,
                Err(e) => panic!("our {target:?} image is refused: {e}"),
            };
            // A compact SET image lists its coupons in table order, which a reader's table need
            // not repeat (DataSketches' neither): the same coupons, and so the same estimate.
            assert_eq!(
                back.estimate().to_bits(),
                s.estimate().to_bits(),
                "{target:?} image changed the estimate"
            );
            if !compact {
                assert_eq!(
                    back.to_datasketches(target, compact),
                    image,
                    "{target:?} image is not a fixed point"
                );
            }
        }
    }
    exercise_distinct(HyperLogLog::DataSketches(s));
}

pub fn kll_from_datasketches(data: &[u8]) {
    let Ok(s) = Kll::from_datasketches(data, 7) else {
        return;
    };
    round_trip(&s, Kll::to_bytes, Kll::from_bytes);
    exercise_kll(s);
}

pub fn topk_from_datasketches(data: &[u8]) {
    for items in [DsItems::Strings, DsItems::Longs] {
        for k in [None, Some(3)] {
            let Ok(s) = TopK::from_datasketches(data, items, k, 0) else {
                continue;
            };
            round_trip(&s, TopK::to_bytes, TopK::from_bytes);
            if let Ok(image) = s.to_datasketches(items) {
                if let Err(e) = TopK::from_datasketches(&image, items, k, 0) {
                    panic!("our frequent-items image is refused: {e}");
                }
            }
            exercise_topk(s);
        }
    }
}

/// The first byte picks the format and options; the rest is the input, read as a stream.
pub fn reader(data: &[u8]) {
    let Some((&pick, input)) = data.split_first() else {
        return;
    };
    let format = match pick % 6 {
        0 => Format::Lines,
        1 => Format::Csv {
            column: Column::Index(0),
            delimiter: b',',
        },
        2 => Format::Csv {
            column: Column::Name("b".into()),
            delimiter: b';',
        },
        3 => Format::Csv {
            column: Column::Index(2),
            delimiter: b'\t',
        },
        4 => Format::JsonLines {
            path: vec!["a".into()],
        },
        _ => Format::JsonLines {
            path: vec!["a".into(), "1".into()],
        },
    };
    let mut options = Options::new(format);
    options.strict = pick & 0x40 != 0;
    if pick & 0x80 != 0 {
        // Records longer than this are skipped: small enough for the fuzzer to reach.
        options.max_record = 24;
    }
    let sinks: Vec<Sink> = [
        AnySketch::from(HyperLogLog::new(8, 1, Hashing::Xxh3).expect("valid")),
        AnySketch::from(HyperLogLog::new(8, 0, Hashing::DataSketches).expect("valid")),
        AnySketch::from(CountMinSketch::new(64, 2, 1, false).expect("valid")),
        AnySketch::from(TopK::new(3, Some(8), 1).expect("valid")),
        AnySketch::from(DDSketch::new(0.02, 64).expect("valid")),
        AnySketch::from(Kll::new(8, 1).expect("valid")),
    ]
    .into_iter()
    .map(Sink::Sketch)
    .chain([Sink::Values(Vec::new())])
    .collect();
    let control = Control::default();
    let stream = read::read_slice(input, &options, &sinks, &control);
    // The same bytes as a regular file take the chunked reader, which must agree with the stream.
    let path = std::env::temp_dir().join(format!("sketchy-fuzz-{}.txt", std::process::id()));
    std::fs::write(&path, input).expect("write the input to a file");
    let file = read::read(
        &read::Source::Path(path.clone()),
        &options,
        &sinks,
        &Control::default(),
    );
    let _ = std::fs::remove_file(&path);
    match (&stream, &file) {
        (Ok((a, ra)), Ok((b, rb))) => {
            assert_eq!(
                (ra.lines, ra.items, &ra.skipped),
                (rb.lines, rb.items, &rb.skipped),
                "stream and file reports differ"
            );
            assert_eq!(
                fingerprint(a),
                fingerprint(b),
                "stream and file sketches differ"
            );
        }
        (Err(_), Err(_)) => {}
        (a, b) => panic!(
            "stream and file disagree: {:?} / {:?}",
            a.as_ref().err(),
            b.as_ref().err()
        ),
    }
    let Ok((got, report)) = stream else { return };
    let skipped: u64 = report.skipped.iter().map(|(_, n)| n).sum();
    if options.strict {
        assert_eq!(skipped, 0, "a strict read skipped records");
    }
    assert_eq!(
        report.first_problem.is_some(),
        skipped > 0,
        "first problem without a skip, or the reverse"
    );
    for sink in &got {
        match sink {
            Sink::Sketch(AnySketch::TopK(t)) => assert!(
                t.total() <= report.items,
                "top-k counted more than the items read"
            ),
            Sink::Sketch(AnySketch::CountMin(c)) => assert_eq!(
                c.total(),
                report.items,
                "count-min total is not the items read"
            ),
            Sink::Values(v) => assert!(
                v.len() as u64 <= report.items,
                "more values than the items read"
            ),
            _ => {}
        }
    }
    if let Some(warning) = &report.warning {
        assert!(skipped > 0, "a warning without a skip: {warning}");
    }
}

/// Every sink of a read, serialized (the values sorted: their order is the threads').
fn fingerprint(sinks: &[Sink]) -> Vec<Vec<u8>> {
    sinks
        .iter()
        .map(|sink| match sink {
            Sink::Sketch(s) => s.to_bytes(),
            Sink::Values(v) => {
                let mut v = v.clone();
                v.sort_by(f64::total_cmp);
                v.iter().flat_map(|x| x.to_le_bytes()).collect()
            }
        })
        .collect()
}
