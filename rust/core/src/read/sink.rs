//! What a read feeds: any sketches of the registry, and the numbers themselves.
//!
//! Each thread fills its own empty copies: one copy of each order-free sketch (HyperLogLog,
//! count-min, DDSketch, the values) for all its chunks, and a fresh copy of each order-dependent
//! sketch (top-k, KLL) per chunk, merged in file order ([`Ordered`]), so that the result does not
//! depend on the number of threads.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::error::{Result, SketchError};
use crate::items::Keys;
use crate::registry::AnySketch;
use crate::sketch::{Sketch, Takes};

/// One destination of a read's records.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // a few per read
pub enum Sink {
    /// A sketch: each record is an item, added once.
    Sketch(AnySketch),
    /// Every number read (NaN skipped), in no particular order: the exact answer a quantile
    /// sketch is compared with (`sketchy quantiles --exact`). 8 bytes a value.
    Values(Vec<f64>),
}

impl Sink {
    /// Whether its records must be numbers (a record that is not one is then a problem for all).
    pub fn takes_numbers(&self) -> bool {
        match self {
            Sink::Sketch(s) => s.takes() == Takes::Numbers,
            Sink::Values(_) => true,
        }
    }

    /// Whether its parts are merged in file order.
    fn is_ordered(&self) -> bool {
        match self {
            Sink::Sketch(s) => s.merge_is_ordered(),
            Sink::Values(_) => false,
        }
    }

    /// An empty sink like this one.
    pub fn empty_like(&self) -> Sink {
        match self {
            Sink::Sketch(s) => Sink::Sketch(s.empty_like()),
            Sink::Values(_) => Sink::Values(Vec::new()),
        }
    }

    fn add(&mut self, keys: &Keys) -> Result<()> {
        match self {
            Sink::Sketch(s) => s.update_records(keys),
            Sink::Values(values) => keys.for_each_number(true, |v| {
                if !v.is_nan() {
                    values.push(v);
                }
            }),
        }
    }

    /// Adds `other`'s records (a sink of the same kind and parameters).
    pub fn merge(&mut self, other: &Sink) -> Result<()> {
        match (self, other) {
            (Sink::Sketch(a), Sink::Sketch(b)) => a.merge(b),
            (Sink::Values(a), Sink::Values(b)) => {
                a.extend_from_slice(b);
                Ok(())
            }
            _ => Err(SketchError::input("a sketch and the values do not merge")),
        }
    }
}

/// Some of a read's sinks (the order-dependent ones, or the others), by position.
#[derive(Clone, Debug, Default)]
pub(super) struct Part {
    sinks: Vec<(usize, Sink)>,
}

impl Part {
    /// Empty copies of the `ordered` (or the other) sinks of `all`.
    pub(super) fn of(all: &[Sink], ordered: bool) -> Part {
        Part {
            sinks: all
                .iter()
                .enumerate()
                .filter(|(_, s)| s.is_ordered() == ordered)
                .map(|(i, s)| (i, s.empty_like()))
                .collect(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }

    /// Adds a chunk's records to every sink.
    pub(super) fn add(&mut self, keys: &Keys) -> Result<()> {
        self.sinks.iter_mut().try_for_each(|(_, s)| s.add(keys))
    }

    /// Adds `other`'s records, sink by sink (the same sinks).
    pub(super) fn merge(&mut self, other: &Part) -> Result<()> {
        self.sinks
            .iter_mut()
            .zip(&other.sinks)
            .try_for_each(|((_, a), (_, b))| a.merge(b))
    }

    /// The sinks of both parts, back in the order of the read's sinks.
    pub(super) fn join(a: Part, b: Part) -> Vec<Sink> {
        let mut all: Vec<(usize, Sink)> = a.sinks.into_iter().chain(b.sinks).collect();
        all.sort_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, s)| s).collect()
    }
}

/// The chunks' parts of the order-dependent sinks, merged in chunk order as they come.
pub(super) struct Ordered {
    next: usize,
    pending: BTreeMap<usize, Part>,
    acc: Part,
    error: Option<SketchError>,
}

impl Ordered {
    pub(super) fn new(sinks: &[Sink]) -> Mutex<Self> {
        Mutex::new(Ordered {
            next: 0,
            pending: BTreeMap::new(),
            acc: Part::of(sinks, true),
            error: None,
        })
    }

    /// Chunk `index`'s part: merged now if every chunk before it has been, else kept until then.
    pub(super) fn offer(this: &Mutex<Self>, index: usize, part: Part) {
        let mut o = this.lock().unwrap_or_else(|p| p.into_inner());
        o.pending.insert(index, part);
        loop {
            let next = o.next;
            let Some(part) = o.pending.remove(&next) else {
                break;
            };
            o.merge(&part);
            o.next += 1;
        }
    }

    fn merge(&mut self, part: &Part) {
        if let Err(err) = self.acc.merge(part) {
            self.error.get_or_insert(err);
        }
    }

    /// The merged parts, with chunks after a gap (an interrupted read) merged in order too.
    pub(super) fn finish(this: Mutex<Self>) -> Result<Part> {
        let mut o = this.into_inner().unwrap_or_else(|p| p.into_inner());
        let pending = std::mem::take(&mut o.pending);
        for part in pending.values() {
            o.merge(part);
        }
        match o.error {
            Some(err) => Err(err),
            None => Ok(o.acc),
        }
    }
}
