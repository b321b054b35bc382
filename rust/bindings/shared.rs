//! A core sketch shared between Python threads: one lock per sketch, taken with the GIL released.
//!
//! Python objects may be used from any thread, so every sketch class holds its core sketch in a
//! [`Shared`]: calls from several threads take turns (each call sees and leaves a whole sketch, so N
//! threads' updates give what some serial order gives) instead of failing with a borrow error. A
//! thread waiting for the lock releases the GIL first, so the holder can always finish. A call that
//! comes back into the same sketch while that thread holds its lock (from an item's `__index__`,
//! say) gets a `RuntimeError` instead of waiting for itself forever.

use std::cell::Cell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::MutexExt;

/// A core sketch behind a lock.
pub struct Shared<S> {
    lock: Mutex<S>,
    /// The thread that holds the lock (see [`thread_id`]), 0 when none.
    holder: AtomicUsize,
}

/// This thread's id: the address of a thread-local, never 0, unique among live threads.
fn thread_id() -> usize {
    thread_local!(static ID: Cell<u8> = const { Cell::new(0) });
    ID.with(|id| id as *const Cell<u8> as usize)
}

/// The locked sketch; unlocks when dropped.
pub struct Locked<'a, S> {
    guard: MutexGuard<'a, S>,
    /// Set when the holder may run Python code while it holds the lock (see [`Shared::lock_for_python`]).
    holder: Option<&'a AtomicUsize>,
}

impl<S> Drop for Locked<'_, S> {
    fn drop(&mut self) {
        if let Some(holder) = self.holder {
            holder.store(0, Ordering::Release);
        }
    }
}

impl<S> Deref for Locked<'_, S> {
    type Target = S;
    fn deref(&self) -> &S {
        &self.guard
    }
}

impl<S> DerefMut for Locked<'_, S> {
    fn deref_mut(&mut self) -> &mut S {
        &mut self.guard
    }
}

impl<S> Shared<S> {
    pub fn new(sketch: S) -> Self {
        Shared {
            lock: Mutex::new(sketch),
            holder: AtomicUsize::new(0),
        }
    }

    /// The sketch, once no other call uses it (waiting with the GIL released). The caller must not
    /// run Python code while it holds the lock: [`Shared::lock_for_python`] is for that.
    #[inline]
    pub fn lock(&self, py: Python<'_>) -> PyResult<Locked<'_, S>> {
        // Uncontended, the usual case for single-item calls: one atomic operation.
        let guard = match self.lock.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => self.wait(py)?,
        };
        Ok(Locked {
            guard,
            holder: None,
        })
    }

    /// [`Shared::lock`] for a call that runs Python code while it holds the lock (reading the items
    /// of a list, whose `__index__` could call this sketch again): such a call back into the sketch
    /// from this thread raises `RuntimeError` instead of waiting for itself.
    pub fn lock_for_python(&self, py: Python<'_>) -> PyResult<Locked<'_, S>> {
        let mut locked = self.lock(py)?;
        self.holder.store(thread_id(), Ordering::Release);
        locked.holder = Some(&self.holder);
        Ok(locked)
    }

    /// Waits for the lock, with the GIL released; refuses if this very thread holds it.
    #[cold]
    fn wait(&self, py: Python<'_>) -> PyResult<MutexGuard<'_, S>> {
        if self.holder.load(Ordering::Acquire) == thread_id() {
            return Err(PyRuntimeError::new_err(
                "the sketch is already in use by this thread (a call from inside one of its own calls)",
            ));
        }
        // A panic while the lock was held is a bug that has already surfaced as PanicException; the
        // sketch it left is still a valid value, so the lock stays usable.
        Ok(self
            .lock
            .lock_py_attached(py)
            .unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs `f` on this sketch and `other` locked together: in address order, so that two threads
    /// doing `a.merge(b)` and `b.merge(a)` cannot each hold one lock and wait for the other. `other`
    /// may be this sketch itself: then `f` gets a copy of it as `other`.
    pub fn with_other<R>(
        &self,
        other: &Shared<S>,
        py: Python<'_>,
        f: impl FnOnce(&mut S, &S) -> R,
    ) -> PyResult<R>
    where
        S: Clone,
    {
        if std::ptr::eq(self, other) {
            let mut me = self.lock(py)?;
            let copy = me.clone();
            return Ok(f(&mut me, &copy));
        }
        if (self as *const Self) < (other as *const Self) {
            let mut me = self.lock(py)?;
            let them = other.lock(py)?;
            Ok(f(&mut me, &them))
        } else {
            let them = other.lock(py)?;
            let mut me = self.lock(py)?;
            Ok(f(&mut me, &them))
        }
    }

    /// A copy of the sketch.
    pub fn snapshot(&self, py: Python<'_>) -> PyResult<S>
    where
        S: Clone,
    {
        Ok(self.lock(py)?.clone())
    }
}
