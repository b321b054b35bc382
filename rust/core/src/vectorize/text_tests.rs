#![allow(clippy::unwrap_used)]
use super::*;

fn ascii_classes() -> (CharSet, CharSet) {
    let word = CharSet::from_ranges(&[(48, 58), (65, 91), (95, 96), (97, 123)]);
    let space = CharSet::from_ranges(&[(9, 14), (32, 33)]);
    (word, space)
}

fn hasher(analyzer: Analyzer, range: (usize, usize)) -> TextHasher {
    let (word, space) = ascii_classes();
    let h = FeatureHasher::new(1 << 20, true, 0).unwrap();
    TextHasher::new(
        h,
        analyzer,
        range,
        None,
        false,
        None,
        Dtype::F64,
        word,
        space,
    )
    .unwrap()
}

/// The tokens, as the counts of their buckets: compared with the tokens hashed one by one.
fn same(t: &TextHasher, doc: &str, tokens: &[&str]) {
    let mut s = Scratch::default();
    let got = t.row(doc, &mut s).to_vec();
    let mut want = Vec::new();
    for tok in tokens {
        let (i, negate) = t.hasher.bucket(tok.as_bytes());
        want.push((i, if negate { -1 } else { 1 }));
    }
    want.sort_unstable_by_key(|&(i, _)| i);
    let mut merged: Vec<(u32, i64)> = Vec::new();
    for (i, c) in want {
        match merged.last_mut() {
            Some(last) if last.0 == i => last.1 += c,
            _ => merged.push((i, c)),
        }
    }
    assert_eq!(got, merged, "{doc:?}");
}

#[test]
fn ascii_runs_across_blocks_equal_the_unicode_scan() {
    let t = hasher(Analyzer::Word, (1, 1));
    let mut x = 7u64;
    for len in [0usize, 1, 2, 63, 64, 65, 127, 128, 129, 300] {
        for _ in 0..50 {
            let doc: String = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    [b'a', b'b', b' ', b'_', b'9', b'.'][(x >> 60) as usize % 6] as char
                })
                .collect();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            t.ascii_words(doc.as_bytes(), &mut |f, e| a.push((f, e)));
            t.unicode_words(&doc, &mut |f, e| b.push((f, e)));
            assert_eq!(a, b, "{doc:?}");
        }
    }
}

#[test]
fn words_and_word_ngrams() {
    let t = hasher(Analyzer::Word, (1, 2));
    same(
        &t,
        "a bb, ccc d ee",
        &["bb", "ccc", "ee", "bb ccc", "ccc ee"],
    );
    let t = hasher(Analyzer::Word, (2, 3));
    same(&t, "xx yy zz", &["xx yy", "yy zz", "xx yy zz"]);
    same(&t, "xx", &[]);
}

#[test]
fn char_ngrams_collapse_runs_of_spaces() {
    let t = hasher(Analyzer::Char, (1, 2));
    same(
        &t,
        "a  b\tc",
        &["a", " ", "b", "\t", "c", "a ", " b", "b\t", "\tc"],
    );
}

#[test]
fn char_wb_ngrams_count_short_words_once() {
    let t = hasher(Analyzer::CharWb, (2, 4));
    same(&t, "ab", &[" a", "ab", "b ", " ab", "ab ", " ab "]);
    same(&t, "a", &[" a", "a ", " a "]);
    let t = hasher(Analyzer::CharWb, (3, 5));
    same(&t, "a", &[" a "]);
}

#[test]
fn char_wb_rows_do_not_depend_on_the_word_cache() {
    let t = hasher(Analyzer::CharWb, (2, 4));
    let words: Vec<String> = (0..CACHED_WORDS + 5000)
        .map(|i| format!("w{}é{}", i % 977, i / 3))
        .collect();
    let docs: Vec<String> = words.chunks(40).map(|c| c.join(" the ")).collect();
    let mut shared = Scratch::default();
    for doc in &docs {
        let fresh = t.row(doc, &mut Scratch::default()).to_vec();
        assert_eq!(t.row(doc, &mut shared), fresh, "{doc:?}");
    }
    assert!(
        shared.words_seen.entries.len() < CACHED_WORDS,
        "the cache was never reset"
    );
    // A word repeated past MAX_WORD_COUNT is written out in parts that add up.
    let doc = "ab ".repeat(MAX_WORD_COUNT as usize + 3);
    let times = i64::from(MAX_WORD_COUNT) + 3;
    let once: Vec<(u32, i64)> = t.row("ab", &mut Scratch::default()).to_vec();
    let want: Vec<(u32, i64)> = once.iter().map(|&(i, c)| (i, c * times)).collect();
    assert_eq!(t.row(&doc, &mut shared), want);
}

#[test]
fn radix_sort_groups_columns() {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for n_features in [1u32, 7, 300, 1 << 20, i32::MAX as u32] {
        for len in [130usize, 1000, 70_000] {
            let mut keys: Vec<u64> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    key(
                        (x % u64::from(n_features)) as u32,
                        (x >> 40) as i64 - (1 << 23),
                    )
                })
                .collect();
            let mut want = keys.clone();
            want.sort_unstable_by_key(|k| k >> 32);
            sort_keys(&mut keys, &mut Vec::new(), &mut Vec::new(), n_features);
            let columns = |v: &[u64]| v.iter().map(|k| k >> 32).collect::<Vec<_>>();
            assert_eq!(columns(&keys), columns(&want));
            let mut a = keys.clone();
            a.sort_unstable();
            want.sort_unstable();
            assert_eq!(a, want);
        }
    }
}
