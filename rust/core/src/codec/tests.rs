#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn round_trip_and_errors() {
    let mut w = Writer::new(Kind::TopK, 16);
    w.u32(7);
    w.u64(u64::MAX);
    w.f64(1.5);
    let bytes = w.finish();
    let mut r = Reader::new(&bytes, Kind::TopK).unwrap();
    assert_eq!(r.u32("a").unwrap(), 7);
    assert_eq!(r.u64("b").unwrap(), u64::MAX);
    assert_eq!(r.f64("c").unwrap(), 1.5);
    r.finish().unwrap();
    assert!(Reader::new(&bytes, Kind::CountMin)
        .unwrap_err()
        .to_string()
        .contains("found TopK"));
    assert!(Reader::new(&bytes[..3], Kind::TopK).is_err());
    let mut bad = bytes.clone();
    bad[4] = 9;
    assert!(Reader::new(&bad, Kind::TopK)
        .unwrap_err()
        .to_string()
        .contains("version 9"));
    let mut r = Reader::new(&bytes[..8], Kind::TopK).unwrap();
    assert!(r
        .u32("width")
        .unwrap_err()
        .to_string()
        .contains("truncated: width"));
    let r = Reader::new(&bytes, Kind::TopK).unwrap();
    assert!(r.finish().is_err());
}
