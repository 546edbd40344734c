//! Reading: `open` and `read`, and the prefetcher that serves sequential reads.
//!
//! A read that starts where the previous one ended is sequential. Sequential reads are
//! served by ranged GETs that grow: 128 KiB, then twice as much each time, up to a third of
//! the prefetch window. Each GET runs in a background task that passes the body on piece by
//! piece as it arrives ([`Storage::get_into`]), so the reader consumes the start of a range
//! while its end is still on the wire, and no range is ever collected into one buffer. From
//! the second sequential read on, the next ranges are requested before the reader reaches
//! them, up to three GETs in flight; together they never cover more than the window, which
//! bounds the memory of an open file. Any other read (random access) drops all that and is
//! served by one exact ranged GET. Every GET carries the ETag seen at `open`, so a file
//! replaced on the server while it is read fails (`ESTALE`, as Mountpoint) instead of
//! mixing two versions; one deleted fails with `EIO`.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::options::INITIAL_READ_SIZE;
use crate::storage::Storage;
use crate::vfs::{Handle, Vfs};
use crate::{Error, Result};

/// Bytes of the object from `start`.
struct Chunk {
    start: u64,
    data: Bytes,
}

impl Chunk {
    fn end(&self) -> u64 {
        self.start + self.data.len() as u64
    }

    fn slice(&self, from: u64, to: u64) -> Bytes {
        let (from, to) = ((from - self.start) as usize, (to - self.start) as usize);
        self.data.slice(from..to)
    }
}

/// How far behind the stream, in reads of its size, a read is still served without
/// restarting the stream (reads of one handle from several tasks come a little out of order).
const OUT_OF_ORDER: u64 = 8;

/// Ranged GETs in flight at most, the one being read included. One is not enough: the
/// connection would idle between ranges.
const MAX_IN_FLIGHT: usize = 3;

/// A ranged GET whose body arrives in a channel, piece by piece.
struct Ahead {
    /// The offset of the next byte to come out of `received`, then `pieces`.
    next: u64,
    /// The end of the range.
    end: u64,
    pieces: mpsc::UnboundedReceiver<Result<Bytes>>,
    /// Pieces taken out of `pieces` by [`Reader::try_read`] and not read yet, with their
    /// total length (an error, if one came, is last).
    received: VecDeque<Result<Bytes>>,
    received_len: u64,
    task: JoinHandle<()>,
}

impl Ahead {
    /// Starts `GET start..end` in a task on `runtime`.
    fn spawn<S: Storage + 'static>(
        runtime: &tokio::runtime::Handle,
        reader: &Reader<S>,
        start: u64,
        end: u64,
    ) -> Self {
        let (tx, pieces) = mpsc::unbounded_channel();
        let storage = Arc::clone(&reader.storage);
        let (key, path, etag) = (reader.key.clone(), reader.path.clone(), reader.etag.clone());
        let task = runtime.spawn(async move {
            // The channel holds at most this range: the window bounds the memory, not the
            // channel. A send fails only when the reader is gone.
            let got = storage
                .get_into(&key, start..end, etag.as_deref(), |piece| {
                    let _ = tx.send(Ok(piece));
                })
                .await;
            if let Err(e) = got {
                let _ = tx.send(Err(for_path(e, &path)));
            }
        });
        Self {
            next: start,
            end,
            pieces,
            received: VecDeque::new(),
            received_len: 0,
            task,
        }
    }

    /// Takes what has arrived so far into `received`, without waiting; returns where the
    /// bytes ready in order end (an error or a closed channel stops them).
    fn gather(&mut self) -> u64 {
        while !matches!(self.received.back(), Some(Err(_)))
            && self.next + self.received_len < self.end
        {
            match self.pieces.try_recv() {
                Ok(piece) => {
                    if let Ok(bytes) = &piece {
                        self.received_len += bytes.len() as u64;
                    }
                    self.received.push_back(piece);
                }
                Err(_) => break,
            }
        }
        self.next + self.received_len
    }

    /// The next piece: one gathered before, else the next to arrive.
    async fn next_piece(&mut self) -> Option<Result<Bytes>> {
        match self.received.pop_front() {
            Some(piece) => {
                if let Ok(bytes) = &piece {
                    self.received_len -= bytes.len() as u64;
                }
                Some(piece)
            }
            None => self.pieces.recv().await,
        }
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An open file being read, with its prefetch state.
pub(crate) struct Reader<S: Storage + 'static> {
    storage: Arc<S>,
    pub(crate) ino: u64,
    path: String,
    key: String,
    size: u64,
    etag: Option<String>,
    window: u64,
    max_request: u64,
    /// The size of the next sequential GET.
    request_size: u64,
    /// Where a sequential read would start.
    next_offset: u64,
    /// Sequential reads in a row.
    streak: u32,
    /// The piece being read.
    buffer: Option<Chunk>,
    /// In order: each starts where the previous one ends, the first where `buffer` ends.
    ahead: VecDeque<Ahead>,
    /// Where reads spanning several pieces are joined (see `read`).
    joined: BytesMut,
    /// Closed (`flush`) by one of its descriptors; a later read must reactivate it.
    pub(crate) flushed: bool,
}

/// Names the file, not the key, in the errors a reader reports: a key gone since `open`
/// is `EIO` (as Mountpoint: the GET failed), a changed one `ESTALE`.
fn for_path(e: Error, path: &str) -> Error {
    match e {
        Error::NotFound { .. } => Error::ObjectDeleted {
            path: path.to_owned(),
        },
        Error::ObjectChanged { .. } => Error::ObjectChanged {
            path: path.to_owned(),
        },
        e => e,
    }
}

/// One ranged GET that must return exactly `start..end`.
async fn fetch<S: Storage>(
    storage: &S,
    key: &str,
    path: &str,
    etag: Option<&str>,
    start: u64,
    end: u64,
) -> Result<Bytes> {
    let data = storage
        .get(key, start..end, etag)
        .await
        .map_err(|e| for_path(e, path))?;
    if data.len() as u64 != end - start {
        // A shorter object than at `open` (replaced, on a server that sent no ETag), or a
        // body cut short.
        return Err(wrong_body(path));
    }
    Ok(data)
}

/// A body that does not match its range: `EIO`, as Mountpoint's "GET request terminated
/// unexpectedly" or "returned the wrong offset".
fn wrong_body(path: &str) -> Error {
    Error::storage(
        "GetObject",
        path,
        "the body does not match the requested range (cut short, or the object changed on \
         a server that sent no ETag)",
    )
}

impl<S: Storage + 'static> Reader<S> {
    pub(crate) fn new(
        storage: Arc<S>,
        ino: u64,
        path: String,
        key: String,
        size: u64,
        etag: Option<String>,
        window: u64,
    ) -> Self {
        let max_request = (window / MAX_IN_FLIGHT as u64).max(1);
        Self {
            storage,
            ino,
            path,
            key,
            size,
            etag,
            window,
            max_request,
            request_size: INITIAL_READ_SIZE.min(max_request),
            next_offset: 0,
            streak: 0,
            buffer: None,
            ahead: VecDeque::new(),
            joined: BytesMut::new(),
            flushed: false,
        }
    }

    async fn fetch(&self, start: u64, end: u64) -> Result<Bytes> {
        fetch(
            &*self.storage,
            &self.key,
            &self.path,
            self.etag.as_deref(),
            start,
            end,
        )
        .await
    }

    fn grow(&mut self) {
        self.request_size = (self.request_size * 2).min(self.max_request);
    }

    /// Drops the prefetch state (random access, or close).
    pub(crate) fn stop(&mut self) {
        // Dropping an `Ahead` aborts its GET.
        self.ahead.clear();
        self.buffer = None;
        self.request_size = INITIAL_READ_SIZE.min(self.max_request);
        self.streak = 0;
    }

    /// The next piece of the GET at the front.
    async fn next_piece(&mut self) -> Result<Chunk> {
        let Some(front) = self.ahead.front_mut() else {
            return Err(Error::storage(
                "GetObject",
                self.key.clone(),
                "no request in flight",
            ));
        };
        let piece = match front.next_piece().await {
            Some(Ok(piece)) => piece,
            Some(Err(e)) => return Err(e),
            // The body ended before the range did.
            None => return Err(wrong_body(&self.path)),
        };
        let (start, len) = (front.next, piece.len() as u64);
        if start + len > front.end {
            return Err(wrong_body(&self.path));
        }
        front.next += len;
        if front.next == front.end {
            self.ahead.pop_front();
        }
        Ok(Chunk { start, data: piece })
    }

    pub(crate) async fn read(&mut self, offset: u64, len: u32) -> Result<Bytes> {
        let end = offset.saturating_add(u64::from(len)).min(self.size);
        if offset >= end {
            return Ok(Bytes::new());
        }
        // Already buffered, whatever the access pattern.
        if let Some(chunk) = &self.buffer
            && chunk.start <= offset
            && end <= chunk.end()
        {
            let out = chunk.slice(offset, end);
            self.sequential(offset, end);
            return Ok(out);
        }
        if self.window == 0 {
            return self.fetch(offset, end).await;
        }
        if offset < self.next_offset && self.next_offset - offset <= OUT_OF_ORDER * (end - offset) {
            // A little behind the stream: reads of one handle from several tasks arrive a
            // bit out of order. One exact GET; the stream goes on.
            return self.fetch(offset, end).await;
        }
        let in_flight = self.ahead.back().map_or(self.next_offset, |a| a.end);
        if offset != self.next_offset && !(self.next_offset < offset && offset < in_flight) {
            // Random access. (A read a little ahead, inside the ranges in flight, goes on
            // below: the stream skips to it.)
            self.stop();
            let out = self.fetch(offset, end).await?;
            self.next_offset = end;
            return Ok(out);
        }
        let mut pieces: Vec<Bytes> = Vec::new();
        let mut pos = offset;
        while pos < end {
            if let Some(chunk) = &self.buffer
                && chunk.start <= pos
                && pos < chunk.end()
            {
                let stop = end.min(chunk.end());
                pieces.push(chunk.slice(pos, stop));
                pos = stop;
                continue;
            }
            // Ranges wholly skipped by a read ahead are dropped (their GETs stop).
            while self.ahead.front().is_some_and(|a| a.end <= pos) {
                self.ahead.pop_front();
            }
            if self
                .ahead
                .front()
                .is_some_and(|a| a.next <= pos && pos < a.end)
            {
                // The next piece (pieces before `pos`, skipped by a read ahead, are dropped).
                match self.next_piece().await {
                    Ok(chunk) => self.buffer = Some(chunk),
                    Err(e) => {
                        self.stop();
                        return Err(e);
                    }
                }
                continue;
            }
            // Nothing in flight starts here: start the next sequential GET.
            self.ahead.clear();
            self.buffer = None;
            let want = self.request_size.max(end - pos).min(self.size - pos);
            self.grow();
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    let ahead = Ahead::spawn(&runtime, self, pos, pos + want);
                    self.ahead.push_back(ahead);
                }
                // Without a tokio runtime there are no tasks: one GET, collected.
                Err(_) => match self.fetch(pos, pos + want).await {
                    Ok(data) => self.buffer = Some(Chunk { start: pos, data }),
                    Err(e) => {
                        self.stop();
                        return Err(e);
                    }
                },
            }
        }
        self.sequential(offset, end);
        Ok(match pieces.len() {
            1 => pieces.swap_remove(0),
            _ => {
                // Joined in the reader's own buffer: once the caller has dropped the
                // previous read's bytes, `reserve` takes that allocation back, so a stream
                // of reads reuses one buffer instead of allocating (and the kernel zeroing)
                // fresh pages for every read.
                self.joined.reserve((end - offset) as usize);
                for piece in pieces {
                    self.joined.extend_from_slice(&piece);
                }
                self.joined.split().freeze()
            }
        })
    }

    /// Serves the read at once when its bytes are already here: in the piece being read, or
    /// received from the GETs in flight. `None` when it would have to wait (for the network,
    /// or any read that is not the next in sequence), the prefetch state unchanged.
    pub(crate) fn try_read(&mut self, offset: u64, len: u32) -> Option<Result<Bytes>> {
        let end = offset.saturating_add(u64::from(len)).min(self.size);
        let buffered = self
            .buffer
            .as_ref()
            .is_some_and(|c| c.start <= offset && end <= c.end());
        if offset < end && !buffered {
            if self.window == 0 || offset != self.next_offset {
                return None;
            }
            // Where the bytes ready from `offset` on end: the piece being read, then the
            // pieces received of each GET in flight, in order, without a gap.
            let mut ready = match &self.buffer {
                Some(c) if c.start <= offset && offset <= c.end() => c.end(),
                _ => offset,
            };
            for ahead in &mut self.ahead {
                if ready >= end {
                    break;
                }
                if ahead.next != ready {
                    return None;
                }
                ready = ahead.gather().min(ahead.end);
                if ready < ahead.end {
                    break;
                }
            }
            if ready < end {
                return None;
            }
        }
        // Every piece `read` needs is here: it completes without waiting, in one poll.
        let read = std::pin::pin!(self.read(offset, len));
        match read.poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
            std::task::Poll::Ready(result) => Some(result),
            // Not expected: the check above mirrors what `read` waits for. Should the two
            // ever disagree, the bytes stay right (the next read fetches what it misses)
            // but the stream restarts; tests run with this check on.
            std::task::Poll::Pending => {
                debug_assert!(
                    cfg!(not(debug_assertions)),
                    "try_read: every piece was here, yet read waited"
                );
                None
            }
        }
    }

    /// Records a read served, and starts the next GETs ahead of the reader once reads
    /// are sequential.
    fn sequential(&mut self, offset: u64, end: u64) {
        if offset == self.next_offset {
            self.streak = self.streak.saturating_add(1);
        }
        // A read behind the stream (from the buffer) does not rewind it.
        self.next_offset = self.next_offset.max(end);
        if self.streak < 2 {
            return;
        }
        // Without a tokio runtime, the next range is fetched when it is needed.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(mut start) = self
            .ahead
            .back()
            .map(|a| a.end)
            .or_else(|| self.buffer.as_ref().map(Chunk::end))
        else {
            return;
        };
        while self.ahead.len() < MAX_IN_FLIGHT {
            // What this file holds or has asked for beyond the reader's position.
            let held = self
                .buffer
                .as_ref()
                .map_or(0, |c| c.end().saturating_sub(end))
                + self.ahead.iter().map(|a| a.end - a.next).sum::<u64>();
            let len = self
                .request_size
                .min(self.window.saturating_sub(held))
                .min(self.size.saturating_sub(start));
            if len == 0 {
                return;
            }
            let ahead = Ahead::spawn(&runtime, self, start, start + len);
            self.ahead.push_back(ahead);
            self.grow();
            start += len;
        }
    }
}

impl<S: Storage + 'static> Vfs<S> {
    /// Reads up to `size` bytes at `offset` (FUSE `read`); fewer at the end of the file,
    /// none past it.
    ///
    /// # Errors
    /// `EBADF` for a handle not open for reading (or taken over by a newer `open` for
    /// writing after it was flushed), `ESTALE` when the object changed on the server since
    /// `open`, `EIO` when it was deleted, storage errors.
    pub async fn read(&self, ino: u64, fh: u64, offset: u64, size: u32) -> Result<Bytes> {
        let handle = self.handle(fh, "reading")?;
        let mut handle = handle.lock().await;
        let reader = reader_of(&mut handle, ino, fh)?;
        self.reactivate_reader(reader, fh)?;
        reader.read(offset, size).await
    }

    /// [`read`](Self::read) without waiting: the read when its bytes are already here
    /// (prefetched and received), `None` when it would wait for the network, for another
    /// read of the handle, or is not the next read in sequence; call `read` then. Nothing
    /// is lost either way.
    ///
    /// For a FUSE layer whose request thread can answer at once instead of handing each
    /// read to a task: the reads of a sequential stream mostly find their bytes here. Call
    /// it inside the runtime's context ([`tokio::runtime::Handle::enter`]) so that the
    /// prefetcher can start its next GETs; reads of one handle must keep their order (do
    /// not answer one here while earlier ones wait for `read`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use sos_vfs::{MemoryStorage, Storage, Vfs, VfsOptions, ROOT_INO};
    ///
    /// let bucket = MemoryStorage::new();
    /// bucket.put("data.bin", vec![7u8; 1 << 20].into()).await?;
    /// let vfs = Vfs::new(bucket, VfsOptions::default())?;
    /// let ino = vfs.lookup(ROOT_INO, "data.bin").await?.ino;
    /// let fh = vfs.open(ino, libc::O_RDONLY).await?;
    /// // Nothing was fetched yet: the first read has to wait.
    /// assert!(vfs.try_read(ino, fh, 0, 4096).is_none());
    /// let first = vfs.read(ino, fh, 0, 4096).await?;
    /// // The rest of the first GET's range is here now.
    /// let next = vfs.try_read(ino, fh, 4096, 4096).expect("buffered")?;
    /// assert_eq!((first.len(), next.len()), (4096, 4096));
    /// # vfs.release(ino, fh).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn try_read(&self, ino: u64, fh: u64, offset: u64, size: u32) -> Option<Result<Bytes>> {
        let handle = match self.handle(fh, "reading") {
            Ok(handle) => handle,
            Err(e) => return Some(Err(e)),
        };
        let mut handle = handle.try_lock().ok()?;
        match reader_of(&mut handle, ino, fh) {
            Ok(reader) => {
                if let Err(e) = self.reactivate_reader(reader, fh) {
                    return Some(Err(e));
                }
                reader.try_read(offset, size)
            }
            Err(e) => Some(Err(e)),
        }
    }
}

/// The reader behind handle `fh`, when it is one, of `ino`: `EBADF` otherwise.
fn reader_of<S: Storage + 'static>(
    handle: &mut Handle<S>,
    ino: u64,
    fh: u64,
) -> Result<&mut Reader<S>> {
    match handle {
        Handle::Reader(r) if r.ino == ino => Ok(r),
        _ => Err(Error::BadHandle {
            fh,
            operation: "reading",
        }),
    }
}
