//! The one place that decides when a batch is shared between threads, and how.
//!
//! Every batch path asks [`threads_for`] how many threads a batch of `n` items gets (one rule: each
//! thread gets at least `min_per_thread` items, and no more threads than [`max_threads`]), and runs
//! its work through [`join`], [`for_each_share`] or [`pipeline`]. `SKETCHY_NUM_THREADS` caps the
//! threads (read once per process; `1` keeps everything on the calling thread). A panic on a worker
//! thread is resumed on the calling thread: it is a bug and surfaces as one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::OnceLock;

/// The environment variable that caps the number of threads a batch may use.
pub const NUM_THREADS_VAR: &str = "SKETCHY_NUM_THREADS";

/// The most threads any batch uses: `SKETCHY_NUM_THREADS` if set to a positive integer, else the
/// number of cores (at most 8: beyond that, merging the threads' shares costs more than it saves).
pub fn max_threads() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |p| p.get());
        parse_threads(std::env::var(NUM_THREADS_VAR).ok().as_deref(), cores)
    })
}

/// The thread cap from the variable's value (`None`: not set). An unusable value falls back to
/// the cores rather than failing every batch.
fn parse_threads(value: Option<&str>, cores: usize) -> usize {
    match value.map(str::trim).and_then(|v| v.parse::<usize>().ok()) {
        Some(n) if n >= 1 => n,
        _ => cores.min(8),
    }
}

/// How many threads share a batch of `n` items when each must get at least `min_per_thread`.
pub fn threads_for(n: usize, min_per_thread: usize) -> usize {
    threads_within(n, min_per_thread, max_threads())
}

/// Threads that batches of this process are running on right now (see [`Plan`]).
static BUSY: AtomicUsize = AtomicUsize::new(0);

/// The threads one batch runs on, counted as busy while the plan lives: batches running at the
/// same time (from several Python threads) share the cores instead of each taking all of them, so
/// that two threads updating two sketches run side by side, one core each, rather than four
/// threads on two cores.
#[must_use]
pub struct Plan {
    /// The threads the batch runs on (1: this one alone).
    pub threads: usize,
    /// The threads this plan counts as busy (none for a batch too small to share).
    counted: usize,
}

impl Drop for Plan {
    fn drop(&mut self) {
        if self.counted > 0 {
            BUSY.fetch_sub(self.counted, Ordering::Relaxed);
        }
    }
}

/// [`threads_for`] out of the cores that other batches leave free (at least one: this thread). A
/// batch too small to share in any case is not counted: it is over in a moment, and the small
/// chunks of a long list come at a high rate.
#[inline]
pub fn plan(n: usize, min_per_thread: usize) -> Plan {
    if n < 2 * min_per_thread.max(1) {
        return Plan {
            threads: 1,
            counted: 0,
        };
    }
    let free = max_threads().saturating_sub(BUSY.load(Ordering::Relaxed));
    let threads = threads_within(n, min_per_thread, free);
    BUSY.fetch_add(threads, Ordering::Relaxed);
    Plan {
        threads,
        counted: threads,
    }
}

fn threads_within(n: usize, min_per_thread: usize, max: usize) -> usize {
    (n / min_per_thread.max(1)).clamp(1, max.max(1))
}

/// Whether a second thread may be used at all (for pipelines that overlap two stages).
pub fn pipelining() -> bool {
    max_threads() >= 2
}

/// What adding one item to a sketch costs next to reading it out of a Python list, in percent
/// (reading a short str, about 13 ns here, is 100). It decides how a long list is shared between
/// the thread that reads it and the thread that adds what was read ([`Cost::list_split`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cost(pub usize);

impl Cost {
    /// Hashing an item (`hash_many`).
    pub const HASH: Cost = Cost(35);

    /// Where a list of `len` items is split when both threads read it, for batches handed over in
    /// chunks of `chunk` items: the calling thread reads items `..split` while the other reads the
    /// rest, then adds everything. With adding at `c`, the calling thread reads `(100 + c) / 200`
    /// of the list, which gives both threads the same work. `None`: the calling thread reads it all
    /// (a short list, adding that costs as much as reading, or a single core).
    pub fn list_split(self, len: usize, chunk: usize) -> Option<usize> {
        (len >= 3 * chunk && self.0 < 100 && pipelining()).then(|| len / 200 * (100 + self.0))
    }
}

/// Joins a scoped thread, resuming its panic here.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Runs `a` on another thread and `b` on this one, and returns both results.
pub fn join<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|scope| {
        let other = scope.spawn(a);
        let mine = b();
        (joined(other), mine)
    })
}

/// Splits `0..n` into `threads` consecutive shares: `mine(range)` takes share 0 on this thread while
/// `other(t, range)` takes share `t` ≥ 1 on a thread of its own. Returns `mine`'s result and the
/// others' in order.
pub fn for_each_share<A, R: Send>(
    n: usize,
    threads: usize,
    mine: impl FnOnce(std::ops::Range<usize>) -> A,
    other: impl Fn(usize, std::ops::Range<usize>) -> R + Sync,
) -> (A, Vec<R>) {
    let share = n.div_ceil(threads.max(1)).max(1);
    let range = |t: usize| (t * share).min(n)..((t + 1) * share).min(n);
    if threads <= 1 {
        return (mine(0..n), Vec::new());
    }
    std::thread::scope(|scope| {
        let other = &other;
        let others: Vec<_> = (1..threads)
            .map(|t| scope.spawn(move || other(t, range(t))))
            .collect();
        let first = mine(range(0));
        (first, others.into_iter().map(joined).collect())
    })
}

/// [`for_each_share`] over an output with one slot per item: `f(range, slots)` gets each share's
/// items and its own part of `out` (share 0 on this thread), and the results come back in order.
pub fn for_each_share_of<T: Send, R: Send>(
    out: &mut [T],
    threads: usize,
    f: impl Fn(std::ops::Range<usize>, &mut [T]) -> R + Sync,
) -> Vec<R> {
    let n = out.len();
    let share = n.div_ceil(threads.max(1)).max(1);
    if threads <= 1 || n <= share {
        return vec![f(0..n, out)];
    }
    std::thread::scope(|scope| {
        let f = &f;
        let mut parts = out.chunks_mut(share).enumerate();
        let first = parts.next();
        let others: Vec<_> = parts
            .map(|(t, part)| scope.spawn(move || f(t * share..t * share + part.len(), part)))
            .collect();
        let mut results = Vec::with_capacity(others.len() + 1);
        if let Some((_, part)) = first {
            results.push(f(0..part.len(), part));
        }
        results.extend(others.into_iter().map(joined));
        results
    })
}

/// Why a [`pipeline`] stopped early: the producer's error or the consumer's.
#[derive(Debug, PartialEq, Eq)]
pub enum Stopped<P, C> {
    /// The producer failed.
    Producer(P),
    /// The consumer failed.
    Consumer(C),
}

/// Produces chunks on this thread and consumes them, in order, on another, so that the two stages
/// overlap on two cores (without a second thread, they alternate on this one).
///
/// `produce(chunk)` fills an empty chunk and returns whether more may follow; a chunk that comes
/// back empty ends the stream. `consume(chunk)` uses it up; it is cleared with `clear` and
/// recycled. Whenever this thread waits for the other (handing over a chunk, joining), it does so
/// through `wait`, which the Python bindings use to release the GIL. The producer stops at the
/// consumer's first error; the first error in stream order is returned.
pub fn pipeline<T: Default + Send, P: Send, C: Send>(
    mut produce: impl FnMut(&mut T) -> Result<bool, P>,
    mut consume: impl FnMut(&mut T) -> Result<(), C> + Send,
    clear: impl Fn(&mut T) + Send + Sync,
    mut wait: impl FnMut(&mut (dyn FnMut() + Send)),
) -> Result<(), Stopped<P, C>> {
    let mut chunk = T::default();
    let mut more = produce(&mut chunk).map_err(Stopped::Producer)?;
    if !more || !pipelining() {
        loop {
            let mut consumed = Ok(());
            wait(&mut || consumed = consume(&mut chunk));
            consumed.map_err(Stopped::Consumer)?;
            if !more {
                return Ok(());
            }
            clear(&mut chunk);
            more = produce(&mut chunk).map_err(Stopped::Producer)?;
        }
    }
    std::thread::scope(|scope| {
        let (to_worker, chunks) = mpsc::sync_channel::<T>(1);
        let (recycle, spare) = mpsc::channel::<T>();
        let clear = &clear;
        let worker = scope.spawn(move || -> Result<(), C> {
            for mut chunk in chunks {
                consume(&mut chunk)?;
                clear(&mut chunk);
                let _ = recycle.send(chunk); // the producer may be done: fine
            }
            Ok(())
        });
        let mut produced = Ok(());
        loop {
            let next = spare.try_recv().unwrap_or_default();
            let mut full = Some(std::mem::replace(&mut chunk, next));
            let mut sent = Ok(());
            wait(&mut || {
                if let Some(full) = full.take() {
                    sent = to_worker.send(full).map_err(drop);
                }
            });
            if sent.is_err() || !more {
                break; // the worker stopped on an error (reported below), or this was the last chunk
            }
            match produce(&mut chunk) {
                Ok(m) => more = m,
                Err(err) => {
                    produced = Err(err);
                    break;
                }
            }
        }
        drop(to_worker); // ends the worker's loop
        let (mut worker, mut consumed) = (Some(worker), None);
        wait(&mut || consumed = worker.take().map(|w| w.join()));
        let consumed = consumed
            .map(|joined| joined.unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .unwrap_or(Ok(()));
        // In stream order: a consumer's error stopped the producer, so it came first.
        consumed.map_err(Stopped::Consumer)?;
        produced.map_err(Stopped::Producer)
    })
}

/// Work running on a thread of its own, whose end can be waited for with a timeout (the one thread
/// of sketchy that outlives the call that starts it: a file read, polled by the caller).
pub struct Background<T> {
    handle: std::thread::JoinHandle<T>,
    done: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
}

impl<T: Send + 'static> Background<T> {
    /// Runs `work` on a new thread.
    pub fn spawn(work: impl FnOnce() -> T + Send + 'static) -> Self {
        let done = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let signal = std::sync::Arc::clone(&done);
        let handle = std::thread::spawn(move || {
            /// Says "done" when dropped: after the work, or after its panic.
            struct Done(std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);
            impl Drop for Done {
                fn drop(&mut self) {
                    let (flag, ended) = &*self.0;
                    *flag.lock().unwrap_or_else(|p| p.into_inner()) = true;
                    ended.notify_all();
                }
            }
            let _done = Done(signal);
            work()
        });
        Background { handle, done }
    }

    /// Waits up to `timeout` for the work to end; whether it has.
    pub fn wait(&self, timeout: std::time::Duration) -> bool {
        let (flag, ended) = &*self.done;
        let flag = flag.lock().unwrap_or_else(|p| p.into_inner());
        let (flag, _) = ended
            .wait_timeout_while(flag, timeout, |done| !*done)
            .unwrap_or_else(|p| p.into_inner());
        *flag
    }

    /// The work's result (waiting for it), its panic resumed here.
    pub fn join(self) -> T {
        self.handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_caps_threads_and_bad_values_fall_back_to_the_cores() {
        assert_eq!(parse_threads(Some("1"), 4), 1);
        assert_eq!(parse_threads(Some(" 3 "), 4), 3);
        assert_eq!(parse_threads(Some("0"), 4), 4);
        assert_eq!(parse_threads(Some("lots"), 4), 4);
        assert_eq!(parse_threads(None, 16), 8);
    }

    #[test]
    fn one_rule_for_how_many_threads() {
        assert_eq!(threads_within(10, 100, 4), 1);
        assert_eq!(threads_within(199, 100, 4), 1);
        assert_eq!(threads_within(200, 100, 4), 2);
        assert_eq!(threads_within(10_000, 100, 4), 4);
        assert_eq!(threads_within(10_000, 100, 1), 1);
        assert_eq!(threads_within(10_000, 0, 3), 3);
    }

    #[test]
    fn a_list_is_split_so_that_both_threads_work_alike() {
        let chunk = 1 << 15;
        assert_eq!(Cost(50).list_split(3 * chunk - 1, chunk), None);
        assert_eq!(Cost(100).list_split(1 << 20, chunk), None);
        if pipelining() {
            assert_eq!(Cost(0).list_split(200_000, chunk), Some(100_000));
            assert_eq!(Cost(50).list_split(200_000, chunk), Some(150_000));
        }
    }

    #[test]
    fn concurrent_plans_share_the_cores() {
        // Other tests may hold plans meanwhile: only what holds whatever they do is asserted.
        let max = max_threads();
        let first = plan(1 << 30, 1);
        assert!((1..=max).contains(&first.threads));
        let second = plan(1 << 30, 1);
        assert!(second.threads <= max.saturating_sub(first.threads).max(1));
        let small = plan(10, 100);
        assert_eq!(small.threads, 1);
    }

    #[test]
    fn shares_cover_the_range_in_order() {
        for n in [0, 1, 7, 100, 101] {
            for threads in 1..5 {
                let (first, rest) = for_each_share(n, threads, |r| r, |_, r| r);
                assert_eq!(rest.len(), threads - 1);
                let flat: Vec<usize> = std::iter::once(first).chain(rest).flatten().collect();
                assert_eq!(flat, (0..n).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn each_share_gets_its_own_slots() {
        for (n, threads) in [(0, 3), (1, 2), (10, 3), (1000, 4), (7, 1)] {
            let mut out = vec![usize::MAX; n];
            let lens = for_each_share_of(&mut out, threads, |range, slots| {
                assert_eq!(range.len(), slots.len());
                for (slot, i) in slots.iter_mut().zip(range) {
                    *slot = i;
                }
                slots.len()
            });
            assert_eq!(out, (0..n).collect::<Vec<_>>());
            assert_eq!(lens.iter().sum::<usize>(), n);
        }
    }

    fn run(
        chunks: usize,
        fail_producer_at: Option<usize>,
        fail_consumer_at: Option<usize>,
    ) -> (Result<(), Stopped<usize, usize>>, Vec<usize>) {
        let mut next = 0;
        let mut seen = Vec::new();
        let out = pipeline(
            |chunk: &mut Vec<usize>| {
                if fail_producer_at == Some(next) {
                    return Err(next);
                }
                chunk.push(next);
                next += 1;
                Ok(next < chunks)
            },
            |chunk: &mut Vec<usize>| {
                if fail_consumer_at == Some(chunk[0]) {
                    return Err(chunk[0]);
                }
                seen.extend_from_slice(chunk);
                Ok(())
            },
            Vec::clear,
            |f| f(),
        );
        (out, seen)
    }

    #[test]
    fn a_pipeline_consumes_every_chunk_in_order() {
        for chunks in [1, 2, 3, 50] {
            let (out, seen) = run(chunks, None, None);
            assert_eq!(out, Ok(()));
            assert_eq!(seen, (0..chunks).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_pipeline_stops_at_the_first_error() {
        let (out, seen) = run(50, Some(10), None);
        assert_eq!(out, Err(Stopped::Producer(10)));
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        let (out, seen) = run(50, None, Some(7));
        assert_eq!(out, Err(Stopped::Consumer(7)));
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
        let (out, _) = run(50, Some(0), None);
        assert_eq!(out, Err(Stopped::Producer(0)));
    }

    #[test]
    #[should_panic(expected = "consumer bug")]
    fn a_worker_panic_is_resumed_on_the_caller() {
        let mut n = 0;
        let _ = pipeline(
            |chunk: &mut Vec<u8>| {
                chunk.push(0);
                n += 1;
                Ok::<_, ()>(n < 10)
            },
            |_: &mut Vec<u8>| -> Result<(), ()> { panic!("consumer bug") },
            Vec::clear,
            |f| f(),
        );
    }
}
