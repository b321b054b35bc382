#![allow(clippy::unwrap_used)]
use super::*;
use crate::items::{encode_f64, ItemKind};
use crate::registry::AnySketch;
use crate::top_k::TopK;
use std::io::Write;

fn items(format: Format, text: &[u8]) -> (Vec<(u8, Vec<u8>)>, Report) {
    let dir = std::env::temp_dir().join(format!(
        "sketchy-read-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("input");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text)
        .unwrap();
    // A top-k summary large enough to be exact gives back every item with its count.
    let sinks = [Sink::Sketch(
        TopK::new(1 << 16, Some(1 << 16), 0).unwrap().into(),
    )];
    let (got, report) = read(
        &Source::Path(path),
        &Options::new(format),
        &sinks,
        &Control::default(),
    )
    .unwrap();
    let Sink::Sketch(AnySketch::TopK(top)) = &got[0] else {
        panic!("a top-k summary comes back as one");
    };
    let mut out = Vec::new();
    for e in top.most_common(None) {
        for _ in 0..e.count {
            out.push((e.kind as u8, e.item.to_vec()));
        }
    }
    out.sort();
    (out, report)
}

fn strs(v: &[&str]) -> Vec<(u8, Vec<u8>)> {
    let mut v: Vec<_> = v
        .iter()
        .map(|s| (ItemKind::Str as u8, s.as_bytes().to_vec()))
        .collect();
    v.sort();
    v
}

#[test]
fn lines_lf_crlf_and_a_last_line_without_newline() {
    let (got, report) = items(Format::Lines, b"a\r\nbb\n\nc");
    assert_eq!(got, strs(&["a", "bb", "", "c"]));
    assert_eq!((report.lines, report.items), (4, 4));
}

#[test]
fn csv_quoting() {
    let column = Column::Name("b".into());
    let text = b"a,b\n1,\"x,y\"\n2,\"he said \"\"hi\"\"\"\n3,\"two\nlines\"\n\n4\n5,z\r\n";
    let (got, report) = items(
        Format::Csv {
            column,
            delimiter: b',',
        },
        text,
    );
    assert_eq!(got, strs(&["x,y", "he said \"hi\"", "two\nlines", "z"]));
    assert_eq!(report.skipped, vec![("row has no column 'b'".into(), 2)]);
    assert_eq!(report.lines, 8);
}

#[test]
fn json_paths() {
    let path = vec!["a".to_string(), "1".to_string()];
    let text = b"{\"a\": [0, \"x\"]}\n{\"a\": [0, 7], \"a\": [0, 2.5]}\n  \n{\"a\": {\"1\": true}}\n[1]\n{bad\n";
    let (got, report) = items(Format::JsonLines { path }, text);
    let mut want = strs(&["x", "true"]);
    want.push((ItemKind::Float as u8, encode_f64(2.5).to_vec()));
    want.sort();
    assert_eq!(got, want);
    assert_eq!(report.items, 3);
    assert_eq!(
        report
            .first_problem
            .as_deref()
            .map(|p| p.ends_with(":5: missing field 'a.1'")),
        Some(true)
    );
}

#[test]
fn csv_chunks_split_inside_quoted_fields_are_read_again() {
    // Quoted fields with newlines across every chunk boundary.
    let mut text = b"k\n".to_vec();
    let mut want = Vec::new();
    let mut i = 0;
    while text.len() < 3 * CHUNK {
        let field = format!("v{i}\n{}", "x".repeat(i % 5000));
        text.extend_from_slice(format!("\"{field}\"\n").as_bytes());
        want.push(field);
        i += 1;
    }
    let column = Column::Index(0);
    let (got, _) = items(
        Format::Csv {
            column,
            delimiter: b',',
        },
        &text,
    );
    let want: Vec<&str> = want.iter().map(String::as_str).collect();
    assert_eq!(got, strs(&want));
}
