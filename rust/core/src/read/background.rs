//! A read on a thread of its own, so that the caller's thread stays free to answer Ctrl-C and show
//! progress (the Python bindings poll it with the GIL released in between).

use std::sync::Arc;
use std::time::Duration;

use super::{Control, Report, Sink};
use crate::error::Result;
use crate::parallel::Background;

/// A read under way: poll it with [`Reading::wait`], stop it through [`Reading::control`], and
/// take its result with [`Reading::finish`].
pub struct Reading {
    control: Arc<Control>,
    task: Background<Result<(Vec<Sink>, Report)>>,
}

impl Reading {
    /// Starts `read` with a fresh [`Control`] on its own thread.
    pub(super) fn start(
        read: impl FnOnce(&Control) -> Result<(Vec<Sink>, Report)> + Send + 'static,
    ) -> Self {
        let control = Arc::new(Control::default());
        let shared = Arc::clone(&control);
        Reading {
            control,
            task: Background::spawn(move || read(&shared)),
        }
    }

    /// The read's progress and stop flag.
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Waits up to `timeout` for the read to end; whether it has.
    pub fn wait(&self, timeout: Duration) -> bool {
        self.task.wait(timeout)
    }

    /// The read's result, once it has ended (waiting for it otherwise).
    pub fn finish(self) -> Result<(Vec<Sink>, Report)> {
        self.task.join()
    }
}
