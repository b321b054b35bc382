//! Known-answer tests: digests computed by the reference packages `mmh3` and `xxhash`
//! (`tests/vectors/generate.py`), shared with the Python test suite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sketchy_core::hash::{hash_many_128, hash_many_32, hash_many_64, Width};
use sketchy_core::{Algorithm, ItemKind, KeyBuffer};

fn seq_key(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((31 * i + 7) % 256) as u8).collect()
}

fn parse_key(spec: &str) -> Vec<u8> {
    if let Some(n) = spec.strip_prefix("seq:") {
        return seq_key(n.parse().unwrap());
    }
    (0..spec.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&spec[i..i + 2], 16).unwrap())
        .collect()
}

struct Row {
    key: Vec<u8>,
    seed: u64,
    digests: Vec<(Algorithm, Option<u128>)>,
}

fn rows() -> Vec<Row> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/hashes.tsv"
    );
    let text = std::fs::read_to_string(path).expect("tests/vectors/hashes.tsv");
    let mut header: Vec<Algorithm> = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("# key\tseed\t") {
            header = h
                .split('\t')
                .map(|n| n.parse::<Algorithm>().unwrap())
                .collect();
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        rows.push(Row {
            key: parse_key(fields[0]),
            seed: fields[1].parse().unwrap(),
            digests: header
                .iter()
                .zip(&fields[2..])
                .map(|(&a, d)| (a, d.parse().ok()))
                .collect(),
        });
    }
    assert!(rows.len() > 600, "expected the full vector file");
    rows
}

#[test]
fn single_key_digests_match_the_reference_packages() {
    let mut checked = 0;
    for row in rows() {
        for &(algorithm, expected) in &row.digests {
            match expected {
                Some(digest) => {
                    assert_eq!(
                        algorithm.hash(&row.key, row.seed),
                        digest,
                        "{} seed {}",
                        algorithm.name(),
                        row.seed
                    );
                    checked += 1;
                }
                None => assert!(algorithm.check_seed(row.seed).is_err()),
            }
        }
    }
    assert!(checked > 3000);
}

#[test]
fn batch_digests_match_the_reference_packages() {
    let rows = rows();
    for &algorithm in Algorithm::ALL {
        // Batch by seed: all rows hashed with seed 0 in one call, and so on.
        for seed in [0u64, u64::from(u32::MAX)] {
            let selected: Vec<(&[u8], u128)> = rows
                .iter()
                .filter(|r| r.seed == seed)
                .filter_map(|r| {
                    r.digests
                        .iter()
                        .find(|d| d.0 == algorithm)
                        .and_then(|d| d.1)
                        .map(|d| (&r.key[..], d))
                })
                .collect();
            let mut buf = KeyBuffer::default();
            selected
                .iter()
                .for_each(|(k, _)| buf.push(ItemKind::Bytes, k));
            let expected: Vec<u128> = selected.iter().map(|s| s.1).collect();
            let got: Vec<u128> = match algorithm.width() {
                Width::W32 => {
                    let mut out = Vec::new();
                    hash_many_32(algorithm, &buf.keys(), seed, &mut out).unwrap();
                    out.into_iter().map(u128::from).collect()
                }
                Width::W64 => {
                    let mut out = Vec::new();
                    hash_many_64(algorithm, &buf.keys(), seed, &mut out).unwrap();
                    out.into_iter().map(u128::from).collect()
                }
                Width::W128 => {
                    let mut out = Vec::new();
                    hash_many_128(algorithm, &buf.keys(), seed, &mut out).unwrap();
                    out.into_iter()
                        .map(|[lo, hi]| (u128::from(hi) << 64) | u128::from(lo))
                        .collect()
                }
            };
            assert_eq!(got, expected, "{}", algorithm.name());
        }
    }
}
