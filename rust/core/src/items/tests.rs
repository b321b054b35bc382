#![allow(clippy::unwrap_used)]
use super::*;
use crate::error::SketchError;

fn collect(keys: &Keys) -> Vec<(ItemKind, Vec<u8>)> {
    let mut out = Vec::new();
    keys.for_each(|k, b| out.push((k, b.to_vec())));
    out
}

#[test]
fn ints_of_any_width_encode_alike() {
    let a = collect(&Keys::I8(&[-1, 5]));
    let b = collect(&Keys::I64(&[-1, 5]));
    assert_eq!(a, b);
    assert_eq!(collect(&Keys::U32(&[5]))[0], b[1]);
    assert_eq!(
        collect(&Keys::U64(&[u64::MAX]))[0],
        (ItemKind::UInt, vec![0xff; 8])
    );
}

#[test]
fn floats_are_canonical() {
    assert_eq!(encode_f64(-0.0), encode_f64(0.0));
    assert_eq!(encode_f64(f64::NAN), encode_f64(-f64::NAN));
    assert_eq!(
        encode_f64(f64::from_bits(0x7ff0_0000_0000_0001)),
        CANONICAL_NAN_BITS.to_le_bytes()
    );
    assert_eq!(collect(&Keys::F32(&[1.5]))[0].1, encode_f64(1.5));
}

#[test]
fn int_range() {
    assert!(encode_int(-(1 << 63)).is_ok());
    assert!(encode_int((1 << 64) - 1).is_ok());
    assert!(matches!(
        encode_int(1 << 64),
        Err(SketchError::Overflow { .. })
    ));
    assert!(matches!(
        encode_int(-(1 << 63) - 1),
        Err(SketchError::Overflow { .. })
    ));
    assert_eq!(encode_int(-1).unwrap(), ([0xff; 8], ItemKind::Int));
}

#[test]
fn fixed_width_strip_trailing_nuls() {
    let s = Keys::fixed_bytes(b"ab\0\0a\0b\0", 4).unwrap();
    assert_eq!(
        collect(&s),
        vec![
            (ItemKind::Bytes, b"ab".to_vec()),
            (ItemKind::Bytes, b"a\0b".to_vec())
        ]
    );
    let u = Keys::fixed_ucs4(&[0xe9, 0, 0x1F600, 0x41], 2).unwrap();
    assert_eq!(collect(&u)[0].1, "é".as_bytes());
    assert_eq!(collect(&u)[1].1, "😀A".as_bytes());
    assert!(matches!(
        Keys::fixed_ucs4(&[0x41, 0xD800], 1),
        Err(SketchError::InvalidUnicode {
            position: 1,
            code_point: 0xD800
        })
    ));
}

#[test]
fn var_offsets_are_checked() {
    let data = b"hello";
    assert!(Keys::var(
        data,
        Offsets::I32(&[0, 2, 5]),
        Kinds::Uniform(ItemKind::Bytes)
    )
    .is_ok());
    assert!(Keys::var(data, Offsets::I32(&[0, 6]), Kinds::Uniform(ItemKind::Bytes)).is_err());
    assert!(Keys::var(data, Offsets::I32(&[3, 2]), Kinds::Uniform(ItemKind::Bytes)).is_err());
    assert!(Keys::var(
        data,
        Offsets::I64(&[-1, 2]),
        Kinds::Uniform(ItemKind::Bytes)
    )
    .is_err());
    assert!(Keys::var(data, Offsets::I64(&[]), Kinds::Uniform(ItemKind::Bytes)).is_err());
    // Arrow strings: only the offsets are checked, anywhere in the array.
    for (bad, at) in [
        (&[0, 3, 2, 5][..], "offset 2"),
        (&[0, 2, 6], "offset 2"),
        (&[0, -1, 3], "offset 1"),
    ] {
        let err = Keys::utf8(data, Offsets::I32(bad)).unwrap_err().to_string();
        assert!(err.contains(at), "{err}");
    }
    assert!(Keys::utf8(data, Offsets::I32(&[1, 1, 5])).is_ok());
    assert!(Keys::var(
        &[0xff],
        Offsets::I32(&[0, 1]),
        Kinds::Uniform(ItemKind::Str)
    )
    .is_err());
    let k = Keys::var(
        data,
        Offsets::I32(&[1, 3, 5]),
        Kinds::Uniform(ItemKind::Bytes),
    )
    .unwrap();
    assert_eq!(
        collect(&k),
        vec![
            (ItemKind::Bytes, b"el".to_vec()),
            (ItemKind::Bytes, b"lo".to_vec())
        ]
    );
}

#[test]
fn arrow_strings_are_utf8_item_by_item() {
    let str_keys = |data: &'static [u8], offsets: &'static [i32]| {
        Keys::var(data, Offsets::I32(offsets), Kinds::Uniform(ItemKind::Str))
    };
    let data = "aé€b".as_bytes(); // 1 + 2 + 3 + 1 bytes
    assert_eq!(collect(&str_keys(data, &[0, 1, 3, 6, 7]).unwrap()).len(), 4);
    assert!(str_keys(data, &[2, 3]).is_err()); // starts inside 'é'
    let err = str_keys(data, &[0, 1, 4, 7]).unwrap_err().to_string(); // splits '€'
    assert!(err.contains("position 1"), "{err}");
    let err = str_keys(b"ok\xffno", &[0, 2, 5]).unwrap_err().to_string();
    assert!(err.contains("position 1"), "{err}");
    // Bytes after the last offset are not part of the batch.
    assert!(str_keys(b"ab\xff", &[0, 1, 2]).is_ok());
}

#[test]
fn sub_batches() {
    let all = Keys::var(
        b"abcdef",
        Offsets::I32(&[0, 1, 3, 6]),
        Kinds::Uniform(ItemKind::Bytes),
    )
    .unwrap();
    assert_eq!(
        collect(&all.sub(1..3)),
        vec![
            (ItemKind::Bytes, b"bc".to_vec()),
            (ItemKind::Bytes, b"def".to_vec())
        ]
    );
    assert!(all.sub(2..2).is_empty());
    let u = Keys::fixed_ucs4(&[0x41, 0, 0x42, 0x43], 2).unwrap();
    assert_eq!(collect(&u.sub(1..2)), vec![(ItemKind::Str, b"BC".to_vec())]);
    assert_eq!(
        collect(&Keys::I8(&[1, 2, 3]).sub(2..3)),
        collect(&Keys::I64(&[3]))
    );
}

#[test]
fn key_buffer() {
    let mut buf = KeyBuffer::with_capacity(2);
    buf.push(ItemKind::Str, b"ab");
    buf.push(ItemKind::Int, &encode_i64(7));
    assert_eq!(buf.len(), 2);
    assert_eq!(
        collect(&buf.keys()),
        vec![
            (ItemKind::Str, b"ab".to_vec()),
            (ItemKind::Int, encode_i64(7).to_vec())
        ]
    );
    assert!(KeyBuffer::default().keys().is_empty());
}

/// An Arrow view: `len` bytes inline, or at `offset` of buffer `index` (prefix left zero).
fn view(item: &[u8], index: u32, offset: u32) -> [u8; 16] {
    let mut v = [0u8; 16];
    v[..4].copy_from_slice(&(item.len() as u32).to_le_bytes());
    if item.len() <= 12 {
        v[4..4 + item.len()].copy_from_slice(item);
    } else {
        v[4..8].copy_from_slice(&item[..4]);
        v[8..12].copy_from_slice(&index.to_le_bytes());
        v[12..].copy_from_slice(&offset.to_le_bytes());
    }
    v
}

#[test]
fn arrow_views_read_short_items_inline_and_long_ones_from_their_buffer() {
    let (long, other) = (b"a string of 21 bytes.", b"twelve bytes");
    let buffers: [&[u8]; 2] = [b"xx", &[b"..".as_slice(), long].concat()];
    let views = [
        view(b"", 0, 0),
        view(other, 0, 0),
        view(long, 1, 2),
        view(b"ab", 0, 0),
    ];
    let flat = views.concat();
    let keys = Keys::views(&flat, &buffers, ItemKind::Str).unwrap();
    assert_eq!(keys.len(), 4);
    let want: Vec<_> = [b"".as_slice(), other, long, b"ab"]
        .iter()
        .map(|b| (ItemKind::Str, b.to_vec()))
        .collect();
    assert_eq!(collect(&keys), want);
    assert_eq!(collect(&keys.sub(2..4)), want[2..]);
    let mut hashes = Vec::new();
    let hash = crate::hash::xxh3::Xxh3x64::new(0);
    keys.for_each_hash(&hash, |h| hashes.push(h));
    let buffer = {
        let mut b = KeyBuffer::default();
        want.iter().for_each(|(k, item)| b.push(*k, item));
        b
    };
    let mut same = Vec::new();
    buffer.keys().for_each_hash(&hash, |h| same.push(h));
    assert_eq!(hashes, same);

    // A long item past its buffer's end, or in a buffer that is not there, is refused up front.
    for bad in [view(long, 1, 3), view(long, 2, 0), view(long, 0, u32::MAX)] {
        let flat = [view(b"ok", 0, 0), bad].concat();
        let err = Keys::views(&flat, &buffers, ItemKind::Str).unwrap_err();
        assert!(err.to_string().contains("view 1 "), "{err}");
    }
    assert!(Keys::views(&flat[..15], &buffers, ItemKind::Bytes).is_err());
    assert!(Keys::views(&[], &[], ItemKind::Bytes).unwrap().is_empty());
}

#[test]
fn ucs4_items_become_utf8_ascii_or_not() {
    let text = ["abc", "ünï", "😀x", ""];
    let width = 3;
    let data: Vec<u32> = text
        .iter()
        .flat_map(|s| {
            let mut cps: Vec<u32> = s.chars().map(u32::from).collect();
            cps.resize(width, 0);
            cps
        })
        .collect();
    let keys = Keys::fixed_ucs4(&data, width).unwrap();
    let want: Vec<_> = text
        .iter()
        .map(|s| (ItemKind::Str, s.as_bytes().to_vec()))
        .collect();
    assert_eq!(collect(&keys), want);
    let err = Keys::fixed_ucs4(&[0x41, 0xD800, 0x42, 0x43], 2).unwrap_err();
    assert!(matches!(
        err,
        SketchError::InvalidUnicode {
            position: 0,
            code_point: 0xD800
        }
    ));
}
