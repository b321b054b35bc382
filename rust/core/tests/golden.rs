//! The golden sketches of `tests/golden` (written by `tests/golden/generate.py`, read by pytest too):
//! every file must read back to the contents its manifest lists and write back byte for byte. A
//! failure here is a change of the serialized form: BREAKING, never an accident.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use sketchy_core::count_min::CountMinSketch;
use sketchy_core::hll::HyperLogLog;
use sketchy_core::items::{encode_f64, encode_int};
use sketchy_core::quantiles::DDSketch;
use sketchy_core::quantiles::Kll;
use sketchy_core::top_k::TopK;
use sketchy_core::{AnySketch, Family, ItemKind, Sketch};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/golden");

/// `file -> [(field, value)]`, in the manifest's order.
fn manifest() -> BTreeMap<String, Vec<(String, String)>> {
    let text = std::fs::read_to_string(format!("{DIR}/manifest.tsv")).expect("manifest.tsv");
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, '\t');
        let (file, field, value) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        out.entry(file.to_owned())
            .or_default()
            .push((field.to_owned(), value.to_owned()));
    }
    out
}

/// An item spec (`str:`, `bytes:`, `int:`, `float:`) as its kind and canonical bytes.
fn item(spec: &str) -> (ItemKind, Vec<u8>) {
    let (kind, text) = spec.split_once(':').unwrap();
    match kind {
        "str" => (ItemKind::Str, text.as_bytes().to_vec()),
        "bytes" => (
            ItemKind::Bytes,
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
                .collect(),
        ),
        "int" => {
            let (bytes, kind) = encode_int(text.parse().unwrap()).unwrap();
            (kind, bytes.to_vec())
        }
        "float" => (ItemKind::Float, encode_f64(text.parse().unwrap()).to_vec()),
        other => panic!("unknown item kind {other}"),
    }
}

fn read<S: Sketch>(file: &str) -> (Vec<u8>, S) {
    let bytes = std::fs::read(format!("{DIR}/{file}")).unwrap();
    // Any serialized sketch reads back through the registry too, as its family.
    let any = AnySketch::from_bytes(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
    if let Some(family) = family_of(file) {
        assert_eq!(any.family(), family, "{file}");
    }
    assert_eq!(any.to_bytes(), bytes, "{file} through AnySketch");
    let sketch = S::from_bytes(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(
        sketch.to_bytes(),
        bytes,
        "{file} does not write back the same"
    );
    (bytes, sketch)
}

/// The family a golden file's name says it holds (`None`: a family checked by pytest alone).
fn family_of(file: &str) -> Option<Family> {
    match file.split('-').next().unwrap() {
        "hll" | "dshll" => Some(Family::HyperLogLog),
        "cms" => Some(Family::CountMin),
        "topk" => Some(Family::TopK),
        "dd" => Some(Family::DDSketch),
        "kll" => Some(Family::Kll),
        _ => None,
    }
}

fn facts_of(file: &str, facts: &[(String, String)]) -> BTreeMap<String, String> {
    let sketch: Box<dyn Fn(&str) -> String> = match file.split('-').next().unwrap() {
        "hll" | "dshll" => {
            let (_, s) = read::<HyperLogLog>(file);
            Box::new(move |field| match field {
                "hash" => s.hashing().name().to_string(),
                "precision" => s.precision().to_string(),
                "seed" => s.seed().to_string(),
                "sparse" => u8::from(s.is_sparse()).to_string(),
                "estimate" => s.estimate().to_string(),
                other => panic!("{other}"),
            })
        }
        "cms" => {
            let (_, s) = read::<CountMinSketch>(file);
            Box::new(move |field| match field {
                "width" => s.width().to_string(),
                "depth" => s.depth().to_string(),
                "seed" => s.seed().to_string(),
                "conservative" => u8::from(s.conservative()).to_string(),
                "total" => s.total().to_string(),
                probe => s
                    .estimate(&item(probe.strip_prefix("estimate ").unwrap()).1)
                    .to_string(),
            })
        }
        "topk" => {
            let (_, s) = read::<TopK>(file);
            Box::new(move |field| match field {
                "k" => s.k().to_string(),
                "capacity" => s.capacity().to_string(),
                "seed" => s.seed().to_string(),
                "total" => s.total().to_string(),
                "error_bound" => s.offset().to_string(),
                entries => {
                    assert_eq!(entries, "entries");
                    s.most_common(None)
                        .iter()
                        .map(|e| format!("{:?}:{:?}={}", e.kind, e.item, e.count))
                        .collect::<Vec<_>>()
                        .join(",")
                }
            })
        }
        "dd" => {
            let (_, s) = read::<DDSketch>(file);
            Box::new(move |field| match field {
                "relative_accuracy" => s.relative_accuracy().to_string(),
                "max_bins" => s.max_bins().to_string(),
                "sum" => s.sum().to_string(),
                "count" => s.count().to_string(),
                "nan_count" => s.nan_count().to_string(),
                "min" => s.min().to_string(),
                "max" => s.max().to_string(),
                q => s
                    .quantile(q.strip_prefix("quantile ").unwrap().parse().unwrap())
                    .unwrap()
                    .to_string(),
            })
        }
        "kll" => {
            let (_, s) = read::<Kll>(file);
            Box::new(move |field| match field {
                "k" => s.k().to_string(),
                "min_k" => s.min_k().to_string(),
                "seed" => s.seed().to_string(),
                "num_retained" => s.num_retained().to_string(),
                "count" => s.count().to_string(),
                "nan_count" => s.nan_count().to_string(),
                "min" => s.min().to_string(),
                "max" => s.max().to_string(),
                q => s
                    .quantile(q.strip_prefix("quantile ").unwrap().parse().unwrap())
                    .unwrap()
                    .to_string(),
            })
        }
        other => panic!("unknown sketch {other}"),
    };
    let mut out = BTreeMap::new();
    let mut entries = Vec::new();
    for (field, value) in facts {
        if let Some(spec) = field.strip_prefix("entry ") {
            let (kind, bytes) = item(spec);
            entries.push(format!("{kind:?}:{bytes:?}={value}"));
            continue;
        }
        let got = sketch(field);
        let same = match field.as_str() {
            // Python's repr and Rust's Display of a float differ in form, not in value.
            "estimate" | "min" | "max" | "sum" | "relative_accuracy" => same_float(&got, value),
            f if f.starts_with("quantile ") => same_float(&got, value),
            _ => got == *value,
        };
        assert!(same, "{file}: {field} is {got}, the manifest says {value}");
        out.insert(field.clone(), got);
    }
    if file.starts_with("topk") {
        assert_eq!(sketch("entries"), entries.join(","), "{file}: entries");
    }
    out
}

/// Python's repr and Rust's Display of a float differ in form ("nan", "inf"), not in value.
fn same_float(a: &str, b: &str) -> bool {
    let (a, b) = (a.parse::<f64>().unwrap(), b.parse::<f64>().unwrap());
    a == b || (a.is_nan() && b.is_nan())
}

#[test]
fn every_golden_sketch_reads_back_its_contents_and_writes_the_same_bytes() {
    let manifest = manifest();
    assert!(manifest.len() >= 30, "{} golden files", manifest.len());
    for (file, facts) in &manifest {
        if family_of(file).is_some() {
            facts_of(file, facts);
        } else {
            // A family whose facts pytest checks: here, the registry reads it back byte for byte.
            let bytes = std::fs::read(format!("{DIR}/{file}")).unwrap();
            let any = AnySketch::from_bytes(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(any.to_bytes(), bytes, "{file} through AnySketch");
        }
    }
    // Every file is in the manifest.
    let files = std::fs::read_dir(DIR)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".bin"))
        .count();
    assert_eq!(files, manifest.len());
}
