//! The I/O under the reader: positioned reads of a regular file, a stream that can be given up on
//! Ctrl-C, byte counting for progress, and errors worded as Python words them.

use std::fs::File;
use std::io::{self, Read};
use std::sync::atomic::Ordering;
use std::sync::mpsc;

use memchr::memchr;

use super::Control;
use crate::error::{Result, SketchError};

/// A NUL byte among the first bytes of the input marks it as binary, as in grep and git.
pub(super) const BINARY_PROBE: usize = 64 << 10;

pub(super) fn io_error(source: &str, err: &io::Error) -> SketchError {
    SketchError::io(
        err.kind(),
        format!("cannot read '{source}': {}", describe(err)),
    )
}

/// An I/O error as Python words it: the system's message without Rust's "(os error N)".
pub(super) fn describe(err: &io::Error) -> String {
    let text = err.to_string();
    match (err.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(at)) => text[..at].to_string(),
        _ => text,
    }
}

/// A pipe or a terminal, read on a thread of its own so that a read that waits for input can be
/// given up when [`Control::stop`] is set (Ctrl-C with nothing coming on stdin): the stream then
/// ends where it is. The thread is left waiting on its read, which ends with the process.
pub(super) struct Unblocking<'c> {
    blocks: mpsc::Receiver<io::Result<Vec<u8>>>,
    pending: io::Cursor<Vec<u8>>,
    control: &'c Control,
}

impl<'c> Unblocking<'c> {
    pub(super) fn new<R: Read + Send + 'static>(mut inner: R, control: &'c Control) -> Self {
        let (tx, blocks) = mpsc::sync_channel(2);
        std::thread::spawn(move || loop {
            let mut buf = vec![0u8; 256 << 10];
            let block = match inner.read(&mut buf) {
                Ok(n) => {
                    buf.truncate(n);
                    Ok(buf)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e),
            };
            let last = !matches!(&block, Ok(b) if !b.is_empty());
            if tx.send(block).is_err() || last {
                return;
            }
        });
        Unblocking {
            blocks,
            pending: io::Cursor::new(Vec::new()),
            control,
        }
    }
}

impl Read for Unblocking<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.pending.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            if self.control.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            match self
                .blocks
                .recv_timeout(std::time::Duration::from_millis(50))
            {
                Ok(block) => self.pending = io::Cursor::new(block?),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
    }
}

/// A reader that counts the bytes it gives, for progress.
pub(super) struct Counting<'c, R> {
    pub(super) inner: R,
    pub(super) control: &'c Control,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.control.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads at `offset` until `buf` is full or the file ends; returns how many bytes it read.
pub(super) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    let read = |buf: &mut [u8], at: u64| std::os::unix::fs::FileExt::read_at(file, buf, at);
    #[cfg(windows)]
    let read = |buf: &mut [u8], at: u64| std::os::windows::fs::FileExt::seek_read(file, buf, at);
    let mut got = 0;
    while got < buf.len() {
        match read(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads `len` bytes at `offset` (fewer at the end of the file) into `buf`.
pub(super) fn fill_at(file: &File, buf: &mut Vec<u8>, offset: u64, len: usize) -> io::Result<()> {
    // The read overwrites the bytes kept from the last chunk: only a longer buffer's tail is zeroed.
    buf.resize(len, 0);
    let n = read_at(file, buf, offset)?;
    buf.truncate(n);
    Ok(())
}

pub(super) fn binary_check(data: &[u8], source: &str) -> Result<()> {
    match memchr(0, &data[..data.len().min(BINARY_PROBE)]) {
        Some(at) => Err(SketchError::input(format!(
            "{source}: binary data (a NUL byte at offset {at}), not text"
        ))),
        None => Ok(()),
    }
}

/// Reads until `buf` holds `want` bytes or the input ends; returns whether it ended.
pub(super) fn fill<R: Read>(reader: &mut R, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    while buf.len() < want {
        let start = buf.len();
        buf.resize(want, 0);
        match reader.read(&mut buf[start..]) {
            Ok(0) => {
                buf.truncate(start);
                return Ok(true);
            }
            Ok(n) => buf.truncate(start + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(start),
            Err(e) => {
                buf.truncate(start);
                return Err(e);
            }
        }
    }
    Ok(false)
}
