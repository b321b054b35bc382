//! Text to hashed features, as scikit-learn's `HashingVectorizer` computes them: tokens (words of
//! two or more word characters, or character n-grams), n-grams, stop words, the signed murmur3
//! bucket of each token, duplicates summed, then `binary` and the `l1`/`l2` norm in scikit-learn's
//! order of operations.
//!
//! What a word character or a space is comes from the caller as code point ranges: the bindings
//! derive them from the running Python's `re` (`\w`, `\s`), whose Unicode tables differ from Rust's
//! and from one Python version to the next. Lowercasing and accent stripping stay in Python too.

use std::collections::HashSet;

use super::matrix::{Matrix, Norm};
use super::Dtype;
use crate::error::{Result, SketchError};
use crate::vectorize::feature_hashing::FeatureHasher;

/// One bit per code point.
#[derive(Clone, Debug)]
pub struct CharSet {
    bits: Vec<u64>,
}

impl CharSet {
    /// The set of the code points in `ranges` (half-open `[start, end)`).
    pub fn from_ranges(ranges: &[(u32, u32)]) -> Self {
        let mut bits = vec![0u64; 0x11_0000 / 64];
        for &(start, end) in ranges {
            for c in start..end.min(0x11_0000) {
                bits[(c / 64) as usize] |= 1 << (c % 64);
            }
        }
        CharSet { bits }
    }

    /// Whether `c` is in the set.
    #[inline(always)]
    pub fn contains(&self, c: char) -> bool {
        let c = c as u32;
        self.bits[(c / 64) as usize] >> (c % 64) & 1 == 1
    }
}

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Analyzer {
    /// Maximal runs of two or more word characters (`(?u)\b\w\w+\b`), then word n-grams.
    Word,
    /// Character n-grams of the text with runs of spaces made one space.
    Char,
    /// Character n-grams of each word padded with a space on both sides.
    CharWb,
}

crate::named!(Analyzer, "analyzer", { Word => "word", Char => "char", CharWb => "char_wb" });

/// The text vectorizer's parameters (see the module docs).
#[derive(Clone, Debug)]
pub struct TextHasher {
    /// The hashing trick of the tokens.
    pub hasher: FeatureHasher,
    /// What a token is.
    pub analyzer: Analyzer,
    /// The smallest and largest n of the n-grams.
    pub ngram_range: (usize, usize),
    /// Words left out (word analyzer).
    pub stop_words: Option<HashSet<String>>,
    /// Every stored value 1.
    pub binary: bool,
    /// The row norm (`None`: none).
    pub norm: Option<Norm>,
    /// The value type.
    pub dtype: Dtype,
    word: CharSet,
    space: CharSet,
    ascii_word: [bool; 128],
    ascii_space: [bool; 128],
}

/// A thread's buffers: the row's (column, count) pairs, the tokens of a document, an n-gram.
#[derive(Default)]
pub struct Scratch {
    /// The row's tokens as [`key`]s, sorted and summed into `row`.
    keys: Vec<u64>,
    spare: Vec<u64>,
    counts: Vec<u32>,
    row: Vec<(u32, i64)>,
    words: Vec<(usize, usize)>,
    gram: String,
    chars: Vec<usize>,
    text: String,
    words_seen: WordCache,
}

/// The `char_wb` n-grams of the words a thread has met: a word's n-grams depend on the word alone,
/// and words repeat (Zipf), so a repeated word costs one lookup instead of hashing each n-gram, and
/// enters its document's row once, with its count, instead of once per occurrence.
#[derive(Default)]
struct WordCache {
    /// Indices into `entries`, found by the word's XXH3.
    table: hashbrown::HashTable<u32>,
    entries: Vec<CachedWord>,
    bytes: Vec<u8>,
    /// The words' n-grams as [`key`]s of value ±1.
    keys: Vec<u64>,
    /// The entries met in the document under way.
    seen: Vec<u32>,
    document: u32,
}

struct CachedWord {
    hash: u64,
    bytes: std::ops::Range<usize>,
    keys: std::ops::Range<usize>,
    /// The document of `count`: a stale stamp means the word is new to the document under way.
    document: u32,
    count: u32,
}

/// Bounds on a cache's memory (about 10 MB): past them it starts again empty.
const CACHED_WORDS: usize = 1 << 16;
const CACHED_KEYS: usize = 1 << 20;

/// A row entry as one integer that sorts by column: `column << 32 | (value + 2**31)`.
#[inline(always)]
fn key(column: u32, value: i64) -> u64 {
    u64::from(column) << 32 | (value + KEY_BIAS) as u64
}

const KEY_BIAS: i64 = 1 << 31;

/// A word's count in one document before its n-grams are written out: far below 2**31 - 1 (the
/// largest value a key holds) even after multiplying by an n-gram's repeats in the word.
const MAX_WORD_COUNT: u32 = 1 << 20;

impl TextHasher {
    /// The vectorizer; `InvalidParameter` for an n-gram range out of order.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        hasher: FeatureHasher,
        analyzer: Analyzer,
        ngram_range: (usize, usize),
        stop_words: Option<HashSet<String>>,
        binary: bool,
        norm: Option<Norm>,
        dtype: Dtype,
        word: CharSet,
        space: CharSet,
    ) -> Result<Self> {
        let (min_n, max_n) = ngram_range;
        if min_n < 1 || min_n > max_n {
            return Err(SketchError::parameter(
                "ngram_range",
                format!("must be (min_n, max_n) with 1 <= min_n <= max_n, got ({min_n}, {max_n})"),
            ));
        }
        let ascii_word = std::array::from_fn(|b| word.contains(char::from(b as u8)));
        let ascii_space = std::array::from_fn(|b| space.contains(char::from(b as u8)));
        Ok(TextHasher {
            ascii_word,
            ascii_space,
            hasher,
            analyzer,
            ngram_range,
            stop_words,
            binary,
            norm,
            dtype,
            word,
            space,
        })
    }

    /// The value type of the output: a norm makes an integer matrix float64, as scikit-learn's
    /// `normalize` does.
    pub fn output_dtype(&self) -> Dtype {
        match (self.norm, self.dtype) {
            (None, d) | (_, d @ (Dtype::F64 | Dtype::F32)) => d,
            _ => Dtype::F64,
        }
    }

    #[inline(always)]
    fn count(&self, token: &str, keys: &mut Vec<u64>) {
        let (index, negate) = self.hasher.bucket(token.as_bytes());
        keys.push(key(index, 1 - 2 * i64::from(negate)));
    }

    /// The (column, count) pairs of one document, sorted by column, one per column (a column
    /// whose counts cancel keeps its explicit 0, as scipy's `sum_duplicates` does).
    pub fn row<'s>(&self, doc: &str, s: &'s mut Scratch) -> &'s [(u32, i64)] {
        s.keys.clear();
        match self.analyzer {
            Analyzer::Word => self.word_tokens(doc, s),
            Analyzer::Char => self.char_ngrams(doc, s),
            Analyzer::CharWb => self.char_wb_ngrams(doc, s),
        }
        self.end_row(s)
    }

    /// Adds a token made elsewhere (by a Python analyzer) to the row under way.
    #[inline]
    pub fn push_token(&self, token: &[u8], s: &mut Scratch) {
        let (index, negate) = self.hasher.bucket(token);
        s.keys.push(key(index, 1 - 2 * i64::from(negate)));
    }

    /// The row of the tokens pushed since the last row: (column, count) pairs sorted by column.
    pub fn end_row<'s>(&self, s: &'s mut Scratch) -> &'s [(u32, i64)] {
        // Plain integers sort faster than pairs; a column's values end up side by side.
        sort_keys(
            &mut s.keys,
            &mut s.spare,
            &mut s.counts,
            self.hasher.n_features(),
        );
        s.row.clear();
        for &key in &s.keys {
            let (index, value) = ((key >> 32) as u32, i64::from(key as u32) - KEY_BIAS);
            match s.row.last_mut() {
                Some(last) if last.0 == index => last.1 += value,
                _ => s.row.push((index, value)),
            }
        }
        s.keys.clear();
        &s.row
    }

    fn word_tokens(&self, doc: &str, s: &mut Scratch) {
        let Scratch {
            keys: row,
            words,
            gram,
            ..
        } = s;
        words.clear();
        // Maximal runs of word characters of two or more code points: what `\b\w\w+\b` finds.
        let stop = self.stop_words.as_ref();
        if stop.is_none() && self.ngram_range == (1, 1) {
            // Unigrams, the default: each word hashed as it is found.
            let mut count = |from: usize, to: usize| self.count(&doc[from..to], row);
            if doc.is_ascii() {
                self.ascii_words(doc.as_bytes(), &mut count);
            } else {
                self.unicode_words(doc, &mut count);
            }
            return;
        }
        let mut keep = |from: usize, to: usize| {
            if !stop.is_some_and(|s| s.contains(&doc[from..to])) {
                words.push((from, to));
            }
        };
        if doc.is_ascii() {
            self.ascii_words(doc.as_bytes(), &mut keep);
        } else {
            self.unicode_words(doc, &mut keep);
        }
        let (mut min_n, max_n) = self.ngram_range;
        if min_n == 1 {
            for &(a, b) in words.iter() {
                self.count(&doc[a..b], row);
            }
            min_n = 2;
        }
        for n in min_n..=max_n.min(words.len()) {
            for window in words.windows(n) {
                gram.clear();
                for (k, &(a, b)) in window.iter().enumerate() {
                    if k > 0 {
                        gram.push(' ');
                    }
                    gram.push_str(&doc[a..b]);
                }
                self.count(gram, row);
            }
        }
    }

    /// The runs of two or more word characters of an ASCII text, 64 bytes at a time: a bit mask of
    /// the word bytes (a table lookup per byte, no branch), whose run starts and ends are read off
    /// with bit operations, so that branches are per word, not per byte.
    fn ascii_words(&self, b: &[u8], keep: &mut impl FnMut(usize, usize)) {
        let mut open = 0usize;
        let mut carry = 0u64; // whether the previous block ended inside a word
        for (block, chunk) in b.chunks(64).enumerate() {
            let mut mask = 0u64;
            for (i, &c) in chunk.iter().enumerate() {
                mask |= u64::from(self.ascii_word[usize::from(c & 0x7f)]) << i;
            }
            let before = mask << 1 | carry;
            let mut starts = mask & !before;
            // A run ends where a word byte is followed by a non-word byte inside this block.
            let mut ends = !mask & before;
            if chunk.len() < 64 {
                ends &= (1u64 << chunk.len()) | ((1u64 << chunk.len()) - 1);
            }
            let base = block * 64;
            while starts | ends != 0 {
                let at = (starts | ends).trailing_zeros();
                let bit = 1u64 << at;
                if starts & bit != 0 {
                    open = base + at as usize;
                    starts &= !bit;
                } else {
                    let end = base + at as usize;
                    if end - open >= 2 {
                        keep(open, end);
                    }
                    ends &= !bit;
                }
            }
            carry = mask >> 63;
        }
        if carry == 1 && b.len() - open >= 2 {
            keep(open, b.len()); // a word running to the end of a text of whole 64-byte blocks
        }
    }

    /// [`TextHasher::ascii_words`] for any text: character by character.
    fn unicode_words(&self, doc: &str, keep: &mut impl FnMut(usize, usize)) {
        let mut start = None;
        let mut chars = 0;
        let bytes = doc.as_bytes();
        let mut at = 0;
        while at <= bytes.len() {
            let (is_word, width) = match bytes.get(at) {
                None => (false, 1),
                Some(&b) if b < 0x80 => (self.ascii_word[b as usize], 1),
                Some(_) => {
                    let c = doc[at..].chars().next().unwrap_or(' ');
                    (self.word.contains(c), c.len_utf8())
                }
            };
            match (is_word, start) {
                (true, None) => {
                    start = Some(at);
                    chars = 1;
                }
                (true, Some(_)) => chars += 1,
                (false, Some(from)) => {
                    if chars >= 2 {
                        keep(from, at);
                    }
                    start = None;
                }
                (false, None) => {}
            }
            at += width;
        }
    }

    /// Character n-grams of `doc` after `\s\s+` → `" "` (scikit-learn's `_char_ngrams`).
    fn char_ngrams(&self, doc: &str, s: &mut Scratch) {
        let Scratch {
            keys: row,
            chars,
            text,
            ..
        } = s;
        text.clear();
        let mut run: Option<(usize, usize)> = None; // (start, code points) of a run of spaces
        for (at, c) in doc.char_indices() {
            if self.space.contains(c) {
                run = Some(run.map_or((at, 1), |(a, n)| (a, n + 1)));
            } else {
                push_spaces(text, doc, run.take(), at);
                text.push(c);
            }
        }
        push_spaces(text, doc, run, doc.len());
        chars.clear();
        chars.extend(text.char_indices().map(|(at, _)| at));
        chars.push(text.len());
        let len = chars.len() - 1;
        let (mut min_n, max_n) = self.ngram_range;
        if min_n == 1 {
            for i in 0..len {
                self.count(&text[chars[i]..chars[i + 1]], row);
            }
            min_n = 2;
        }
        for n in min_n..=max_n.min(len) {
            for i in 0..=len - n {
                self.count(&text[chars[i]..chars[i + n]], row);
            }
        }
    }

    /// Character n-grams of each word padded with spaces (scikit-learn's `_char_wb_ngrams`), through
    /// the thread's [`WordCache`].
    fn char_wb_ngrams(&self, doc: &str, s: &mut Scratch) {
        let Scratch {
            keys: row,
            chars,
            text,
            words_seen: cache,
            ..
        } = s;
        if cache.entries.len() >= CACHED_WORDS || cache.keys.len() >= CACHED_KEYS {
            *cache = WordCache::default();
        }
        cache.document = cache.document.wrapping_add(1);
        if cache.document == 0 {
            // The stamps wrapped around: none may look current.
            cache.entries.iter_mut().for_each(|e| e.document = 0);
            cache.document = 1;
        }
        let mut add = |word: &str| {
            let hash = xxhash_rust::xxh3::xxh3_64(word.as_bytes());
            let found = cache.table.find(hash, |&i| {
                let e = &cache.entries[i as usize];
                e.hash == hash && cache.bytes[e.bytes.clone()] == *word.as_bytes()
            });
            let id = match found {
                Some(&id) => id,
                None => {
                    let id = cache.entries.len() as u32; // < CACHED_WORDS + 1
                    let from = cache.keys.len();
                    self.word_ngrams(word, text, chars, &mut cache.keys);
                    let at = cache.bytes.len();
                    cache.bytes.extend_from_slice(word.as_bytes());
                    cache.entries.push(CachedWord {
                        hash,
                        bytes: at..cache.bytes.len(),
                        keys: from..cache.keys.len(),
                        document: 0,
                        count: 0,
                    });
                    let entries = &cache.entries;
                    cache
                        .table
                        .insert_unique(hash, id, |&i| entries[i as usize].hash);
                    id
                }
            };
            let e = &mut cache.entries[id as usize];
            if e.document != cache.document {
                e.document = cache.document;
                e.count = 0;
                cache.seen.push(id);
            }
            e.count += 1;
            if e.count == MAX_WORD_COUNT {
                flush(e, &cache.keys, row);
            }
        };
        if doc.is_ascii() {
            // Spaces found by a table; an ASCII slice of an ASCII str is a str.
            doc.as_bytes()
                .split(|&b| self.ascii_space[usize::from(b)])
                .filter(|w| !w.is_empty())
                .for_each(|w| add(std::str::from_utf8(w).unwrap_or_default()));
        } else {
            doc.split(|c| self.space.contains(c))
                .filter(|w| !w.is_empty())
                .for_each(add);
        }
        for &id in &cache.seen {
            flush(&mut cache.entries[id as usize], &cache.keys, row);
        }
        cache.seen.clear();
    }

    /// The keys of one word's `char_wb` n-grams: a word shorter than an n-gram counts once, whole,
    /// and ends the word's n-grams.
    fn word_ngrams(
        &self,
        word: &str,
        text: &mut String,
        chars: &mut Vec<usize>,
        out: &mut Vec<u64>,
    ) {
        let (min_n, max_n) = self.ngram_range;
        text.clear();
        text.push(' ');
        text.push_str(word);
        text.push(' ');
        if word.is_ascii() {
            // Bytes are characters: no offsets to keep.
            let len = text.len();
            for n in min_n..=max_n {
                self.count(&text[..n.min(len)], out);
                let mut offset = 0;
                while offset + n < len {
                    offset += 1;
                    self.count(&text[offset..(offset + n).min(len)], out);
                }
                if offset == 0 {
                    break;
                }
            }
            return;
        }
        chars.clear();
        chars.extend(text.char_indices().map(|(at, _)| at));
        chars.push(text.len());
        let len = chars.len() - 1;
        for n in min_n..=max_n {
            let end = |i: usize| chars[(i + n).min(len)];
            self.count(&text[chars[0]..end(0)], out);
            let mut offset = 0;
            while offset + n < len {
                offset += 1;
                self.count(&text[chars[offset]..end(offset)], out);
            }
            if offset == 0 {
                break;
            }
        }
    }

    /// The matrix of a batch of documents: rows in order, then `binary` and the norm.
    pub fn matrix<'d>(&self, docs: impl Iterator<Item = &'d str>, s: &mut Scratch) -> Matrix {
        let mut indptr = vec![0i64];
        let mut indices = Vec::new();
        let mut counts = Vec::new();
        for doc in docs {
            indices.reserve(doc.len() / 4);
            counts.reserve(doc.len() / 4);
            for &(i, c) in self.row(doc, s) {
                indices.push(i as i32); // i < n_features <= i32::MAX
                counts.push(c);
            }
            indptr.push(indices.len() as i64);
        }
        let values = self.values(&indptr, &counts);
        Matrix {
            indptr,
            indices,
            values,
        }
    }
}

/// Writes a cached word's n-grams into the row, each times the word's count so far.
fn flush(word: &mut CachedWord, keys: &[u64], row: &mut Vec<u64>) {
    let count = i64::from(std::mem::take(&mut word.count));
    if count == 0 {
        return;
    }
    row.extend(keys[word.keys.clone()].iter().map(|&k| {
        let value = i64::from(k as u32) - KEY_BIAS;
        key((k >> 32) as u32, value * count)
    }));
}

/// Sorts a row's [`key`]s by column: a least-significant-digit radix sort on the column's bits for
/// long rows (character n-grams make hundreds of keys), the standard sort for short ones. Keys of
/// one column end up next to each other either way.
fn sort_keys(keys: &mut Vec<u64>, spare: &mut Vec<u64>, counts: &mut Vec<u32>, n_features: u32) {
    let len = keys.len();
    if len < 128 || len > u32::MAX as usize {
        keys.sort_unstable();
        return;
    }
    // Digits of about log2(len) bits: clearing the counts then costs no more than a pass over
    // the keys.
    let bits = 32 - (n_features.max(2) - 1).leading_zeros();
    let passes = bits.div_ceil(len.ilog2().clamp(6, 11));
    let digit = bits.div_ceil(passes);
    let (radix, mask) = (1usize << digit, (1u64 << digit) - 1);
    counts.clear();
    counts.resize(passes as usize * radix, 0);
    // Every pass's counts in one read of the keys.
    for &k in keys.iter() {
        for (p, c) in counts.chunks_exact_mut(radix).enumerate() {
            c[((k >> (32 + p as u32 * digit)) & mask) as usize] += 1;
        }
    }
    spare.clear();
    spare.resize(len, 0);
    for (p, c) in counts.chunks_exact_mut(radix).enumerate() {
        let shift = 32 + p as u32 * digit;
        let mut sum = 0;
        for n in c.iter_mut() {
            (*n, sum) = (sum, sum + *n);
        }
        for &k in keys.iter() {
            let d = ((k >> shift) & mask) as usize;
            spare[c[d] as usize] = k;
            c[d] += 1;
        }
        std::mem::swap(keys, spare);
    }
}

/// A run of spaces of the `char` analyzer: two or more become one `" "`, one stays as it is.
fn push_spaces(text: &mut String, doc: &str, run: Option<(usize, usize)>, end: usize) {
    match run {
        Some((_, n)) if n >= 2 => text.push(' '),
        Some((start, _)) => text.push_str(&doc[start..end]),
        None => {}
    }
}

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;
