//! What a read tells its caller: records read, records skipped and why, the first skipped record's
//! line, and a warning when the skipped records are more than [`WARN_FRACTION`] of the input.

use super::{Column, Format, Options};

/// The part of the records that may be skipped before a read warns that its input may not be what
/// the caller thinks it is (another format, a stray quote, another delimiter).
pub const WARN_FRACTION: f64 = 0.01;

/// Why a record gave no item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Problem {
    Undecodable,
    MalformedJson,
    MissingField,
    NotScalar,
    IntRange,
    NoColumn,
    TooLong,
    NotANumber,
    Unterminated,
}

const PROBLEMS: usize = 9;

impl Problem {
    const ALL: [Problem; PROBLEMS] = [
        Problem::Undecodable,
        Problem::MalformedJson,
        Problem::MissingField,
        Problem::NotScalar,
        Problem::IntRange,
        Problem::NoColumn,
        Problem::TooLong,
        Problem::NotANumber,
        Problem::Unterminated,
    ];

    fn describe(self, options: &Options) -> String {
        let what = match &options.format {
            Format::Csv {
                column: Column::Name(n),
                ..
            } => n.clone(),
            Format::Csv {
                column: Column::Index(i),
                ..
            } => i.to_string(),
            Format::JsonLines { path } => path.join("."),
            Format::Lines => String::new(),
        };
        match self {
            Problem::Undecodable => "undecodable bytes (not UTF-8)".into(),
            Problem::MalformedJson => "malformed JSON".into(),
            Problem::MissingField => format!("missing field '{what}'"),
            Problem::NotScalar => format!("field '{what}' is not a string or a number"),
            Problem::IntRange => format!("field '{what}' is an integer outside the 64-bit range"),
            Problem::NoColumn => format!("row has no column '{what}'"),
            Problem::TooLong => format!("line longer than {} bytes", options.max_record),
            Problem::NotANumber => "not a number".into(),
            Problem::Unterminated => format!(
                "unterminated quoted field (no closing quote within {} bytes)",
                options.max_record
            ),
        }
    }
}

/// What a chunk read: lines, items, and the records skipped (the first with its line in the chunk).
#[derive(Clone, Debug, Default)]
pub(super) struct Tally {
    pub(super) lines: u64,
    pub(super) items: u64,
    skipped: [u64; PROBLEMS],
    pub(super) first: Option<(u64, Problem)>,
}

impl Tally {
    pub(super) fn problem(&mut self, line: u64, problem: Problem) {
        self.skipped[problem as usize] += 1;
        if self.first.is_none() {
            self.first = Some((line, problem));
        }
    }

    pub(super) fn add(&mut self, other: &Tally) {
        self.lines += other.lines;
        self.items += other.items;
        for (a, b) in self.skipped.iter_mut().zip(other.skipped) {
            *a += b;
        }
    }

    fn skipped(&self) -> u64 {
        self.skipped.iter().sum()
    }
}

/// What a read did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Input bytes read (compressed bytes for gzip).
    pub bytes: u64,
    /// Lines read (a header row included).
    pub lines: u64,
    /// Records that gave an item.
    pub items: u64,
    /// How many records were skipped, by reason.
    pub skipped: Vec<(String, u64)>,
    /// The first skipped record: `source:line: reason`.
    pub first_problem: Option<String>,
    /// Set when more than [`WARN_FRACTION`] of the records were skipped: says how many.
    pub warning: Option<String>,
    /// Stopped by [`super::Control::stop`]: the sinks hold the chunks read until then.
    pub interrupted: bool,
}

impl Report {
    /// The report of a read's chunks (in file order), whose header took `header_lines` lines.
    pub(super) fn of<'t>(
        tallies: impl Iterator<Item = &'t Tally>,
        header_lines: u64,
        bytes: u64,
        name: &str,
        options: &Options,
    ) -> (Report, Option<String>) {
        let mut total = Tally {
            lines: header_lines,
            ..Tally::default()
        };
        let mut first = None;
        for t in tallies {
            if first.is_none() {
                if let Some((line, problem)) = t.first {
                    first = Some((total.lines + line, problem));
                }
            }
            total.add(t);
        }
        let first_problem =
            first.map(|(line, p)| format!("{name}:{line}: {}", p.describe(options)));
        let (skipped, records) = (total.skipped(), total.skipped() + total.items);
        let warning = (skipped as f64 > WARN_FRACTION * records as f64).then(|| {
            format!(
                "{skipped} of {records} records ({:.1}%) were skipped, more than {}%: \
                 is this the format and the delimiter of the input?",
                100.0 * skipped as f64 / records as f64,
                100.0 * WARN_FRACTION
            )
        });
        let report = Report {
            bytes,
            lines: total.lines,
            items: total.items,
            skipped: Problem::ALL
                .iter()
                .filter(|p| total.skipped[**p as usize] > 0)
                .map(|p| (p.describe(options), total.skipped[*p as usize]))
                .collect(),
            first_problem: first_problem.clone(),
            warning,
            interrupted: false,
        };
        (report, first_problem)
    }
}
