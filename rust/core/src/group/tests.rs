#![allow(clippy::unwrap_used)]

use super::*;
use crate::count_min::CountMinSketch;
use crate::hll::{Hashing, HyperLogLog};
use crate::items::Offsets;
use crate::quantiles::{DDSketch, Kll};
use crate::top_k::TopK;
use crate::AnySketch;

/// A Zipf-ish key of row `i` and its value, deterministic.
fn rows(n: usize) -> (Vec<i64>, Vec<u64>) {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let r = next();
            (((r % 1000) * (r % 1000) / 1000) as i64, next() % 5000)
        })
        .unzip()
}

/// The sketch of group `key`'s values alone, in row order.
fn alone<S: Sketch>(keys: &[i64], values: &[u64], key: i64, template: &S) -> S {
    let mine: Vec<u64> = keys
        .iter()
        .zip(values)
        .filter(|(k, _)| **k == key)
        .map(|(_, v)| *v)
        .collect();
    let mut sketch = template.clone();
    sketch.update(&Keys::U64(&mine), Counts::Each(1)).unwrap();
    sketch
}

#[test]
fn groups_are_numbered_in_first_seen_order() {
    let keys = [5i64, 3, 5, 9, 3, 5];
    let groups = Groups::of(&Keys::I64(&keys)).unwrap();
    assert_eq!(groups.ids, [0, 1, 0, 2, 1, 0]);
    assert_eq!(groups.len(), 3);
    let firsts: Vec<_> = (0..3).map(|g| groups.keys.item(g).1.to_vec()).collect();
    assert_eq!(firsts, [5i64, 3, 9].map(|k| k.to_le_bytes().to_vec()));

    // A kind is part of a group's key: the int 1 and the float 1.0 differ, so do "ab" and b"ab".
    let data = b"abab";
    let text = Keys::var(
        data,
        Offsets::Usize(&[0, 2, 4]),
        crate::items::Kinds::PerItem(&[ItemKind::Str, ItemKind::Bytes]),
    )
    .unwrap();
    assert_eq!(Groups::of(&text).unwrap().ids, [0, 1]);
}

#[test]
fn each_groups_sketch_is_the_sketch_of_its_rows_alone() {
    // 200,000 rows: the groups are shared between both threads.
    let (keys, values) = rows(200_000);
    let groups = Groups::of(&Keys::I64(&keys)).unwrap();
    let templates: Vec<AnySketch> = vec![
        HyperLogLog::new(12, 0, Hashing::Xxh3).unwrap().into(),
        HyperLogLog::new(10, 0, Hashing::DataSketches)
            .unwrap()
            .into(),
        CountMinSketch::new(64, 3, 7, false).unwrap().into(),
        TopK::new(5, Some(20), 1).unwrap().into(),
        DDSketch::new(0.01, 2048).unwrap().into(),
        Kll::new(50, 3).unwrap().into(),
    ];
    for template in &templates {
        let sketches = group_sketches(&groups, &Keys::U64(&values), template).unwrap();
        assert_eq!(sketches.len(), groups.len());
        for g in (0..groups.len()).step_by(37) {
            let key = i64::from_le_bytes(groups.keys.item(g).1.try_into().unwrap());
            assert_eq!(
                sketches[g],
                alone(&keys, &values, key, template),
                "{:?} group {key}",
                template.family()
            );
        }
    }
}

#[test]
fn text_values_scatter_to_their_groups_runs() {
    let keys = [1i64, 2, 1, 3, 2, 1];
    let data = "a|bb|ccc|dddd|e|ffffff".replace('|', "");
    let offsets = [0usize, 1, 3, 6, 10, 11, 17];
    let values = Keys::var(
        data.as_bytes(),
        Offsets::Usize(&offsets),
        crate::items::Kinds::Uniform(ItemKind::Str),
    )
    .unwrap();
    let groups = Groups::of(&Keys::I64(&keys)).unwrap();
    let sorted = values.scatter(&groups.ids, &[0, 3, 5, 6]);
    let mut items = Vec::new();
    sorted
        .keys()
        .for_each(|kind, item| items.push((kind, String::from_utf8(item.to_vec()).unwrap())));
    let want = ["a", "ccc", "ffffff", "bb", "e", "dddd"].map(|s| (ItemKind::Str, s.to_string()));
    assert_eq!(items, want);
}

#[test]
fn a_template_with_items_or_values_of_another_length_are_refused() {
    let keys = [1i64, 2, 1];
    let groups = Groups::of(&Keys::I64(&keys)).unwrap();
    let mut used = HyperLogLog::new(8, 0, Hashing::Xxh3).unwrap();
    used.update(&Keys::I64(&[1]));
    let err = group_sketches(&groups, &Keys::I64(&keys), &used).unwrap_err();
    assert!(err.to_string().contains("template"), "{err}");
    let empty = used.empty_like();
    let err = group_sketches(&groups, &Keys::I64(&keys[..2]), &empty).unwrap_err();
    assert!(err.to_string().contains("values"), "{err}");
    // A value the sketch does not take fails the call; no row gives no group.
    let mut text = KeyBuffer::default();
    for item in ["x", "y", "z"] {
        text.push(ItemKind::Str, item.as_bytes());
    }
    let dd = DDSketch::new(0.01, 100).unwrap();
    assert!(group_sketches(&groups, &text.keys(), &dd).is_err());
    let none = Groups::of(&Keys::I64(&[])).unwrap();
    assert!(none.is_empty());
    assert!(group_sketches(&none, &Keys::I64(&[]), &dd)
        .unwrap()
        .is_empty());
}

#[test]
fn keys_of_every_length_compare_by_all_their_bytes() {
    for n in 0..70usize {
        let a: Vec<u8> = (0..n as u8).collect();
        assert!(same_bytes(&a, &a.clone()), "{n}");
        for i in 0..n {
            let mut b = a.clone();
            b[i] ^= 1;
            assert!(!same_bytes(&a, &b), "{n} {i}");
        }
        assert!(!same_bytes(&a, &[a.as_slice(), &[0]].concat()));
    }
}
