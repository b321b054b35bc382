#![allow(clippy::unwrap_used)]
use super::*;

fn add_str(t: &mut TopK, s: &str, c: u64) {
    t.add(ItemKind::Str, s.as_bytes(), c).unwrap();
}

#[test]
fn exact_while_under_capacity() {
    let mut t = TopK::new(2, Some(4), 0).unwrap();
    for s in ["a", "b", "a", "c", "b", "a"] {
        add_str(&mut t, s, 1);
    }
    let top: Vec<(&[u8], u64)> = t
        .most_common(None)
        .iter()
        .map(|e| (e.item, e.count))
        .collect();
    assert_eq!(top, vec![(&b"a"[..], 3), (&b"b"[..], 2), (&b"c"[..], 1)]);
    assert_eq!(t.offset(), 0);
    assert_eq!(TopK::from_bytes(&t.to_bytes()).unwrap(), t);
}

#[test]
fn bounds_hold_after_purges_and_merges() {
    let mut parts = [
        TopK::new(4, Some(8), 3).unwrap(),
        TopK::new(4, Some(8), 3).unwrap(),
    ];
    let mut truth = std::collections::HashMap::new();
    let mut x = 12345u64;
    for i in 0..5000u64 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let item = ((x >> 33) % 100).min((x >> 40) % 7 + (i % 3)); // skewed
        *truth.entry(item).or_insert(0u64) += 1;
        parts[(i % 2) as usize]
            .add(ItemKind::Int, &item.to_le_bytes(), 1)
            .unwrap();
    }
    let [mut a, b] = parts;
    a.merge(&b).unwrap();
    assert_eq!(a.total(), 5000);
    assert!(a.offset() <= 2 * 5000 / 9);
    for (&item, &t) in &truth {
        let lower = a.lower(&item.to_le_bytes());
        assert!(
            lower <= t && t <= lower + a.offset(),
            "item {item}: {lower} {t} {}",
            a.offset()
        );
        if t > a.offset() {
            assert!(lower > 0);
        }
    }
    let copy = TopK::from_bytes(&a.to_bytes()).unwrap();
    assert_eq!(copy, a);
}

#[test]
fn items_of_every_length_keep_their_bytes() {
    // Short items live in two zero-padded words read with overlapping loads: every length
    // class must give the bytes back and tell apart items that differ in any byte or in length.
    let mut t = TopK::new(1, Some(4096), 7).unwrap();
    let mut items: Vec<Vec<u8>> = Vec::new();
    for len in 0..=40usize {
        let base: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
        items.push(base.clone());
        for i in 0..len {
            let mut other = base.clone();
            other[i] ^= 0x80;
            items.push(other);
        }
        items.push([base.as_slice(), &[0]].concat()); // a trailing zero byte
    }
    items.sort();
    items.dedup();
    for (n, item) in items.iter().enumerate() {
        t.add(ItemKind::Bytes, item, n as u64 + 1).unwrap();
    }
    assert_eq!(t.len(), items.len());
    for (n, item) in items.iter().enumerate() {
        assert_eq!(t.lower(item), n as u64 + 1, "{item:?}");
    }
    let mut back: Vec<Vec<u8>> = t
        .most_common(None)
        .iter()
        .map(|e| e.item.to_vec())
        .collect();
    back.sort();
    assert_eq!(back, items);
}

#[test]
fn from_bytes_rejects_bad_input() {
    let mut t = TopK::new(2, Some(4), 0).unwrap();
    add_str(&mut t, "a", 2);
    add_str(&mut t, "b", 1);
    let bytes = t.to_bytes();
    for cut in 0..bytes.len() {
        assert!(TopK::from_bytes(&bytes[..cut]).is_err());
    }
    let mut dup = bytes.clone();
    let b_at = dup.len() - 8 - 1;
    dup[b_at] = b'a';
    assert!(TopK::from_bytes(&dup)
        .unwrap_err()
        .to_string()
        .contains("twice"));
    let mut big = bytes.clone();
    big[6 + 16..6 + 24].copy_from_slice(&1u64.to_le_bytes()); // total = 1 < counts
    assert!(TopK::from_bytes(&big).is_err());
}
