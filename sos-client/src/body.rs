//! Request bodies (bytes, a file range, a one-shot stream) and the response [`ByteStream`].

use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt as _;
use futures_util::stream::{BoxStream, Stream, StreamExt};
use sos_auth::ChunkSigner;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::task::AbortingTask;
use crate::{Error, Result};

/// Read size for files: large enough for few syscalls, small enough to bound memory.
pub(crate) const FILE_READ_SIZE: usize = 256 * 1024;
/// Chunk size of `aws-chunked` uploads (S3 requires at least 8 KiB).
pub(crate) const SIGNED_CHUNK_SIZE: usize = 256 * 1024;

/// The body of a request.
pub(crate) enum RequestBody {
    Empty,
    Bytes(Bytes),
    /// `len` bytes of `path` from `offset`: re-opened on each attempt, so retryable.
    File {
        path: PathBuf,
        offset: u64,
        len: u64,
    },
    /// A caller's stream of known length: sent once, never retried.
    Stream {
        // A Mutex only to make the body `Sync` (the stream is `Send` only); never contended.
        stream: std::sync::Mutex<Option<BoxStream<'static, std::io::Result<Bytes>>>>,
        len: u64,
    },
}

impl std::fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::Bytes(b) => write!(f, "Bytes({})", b.len()),
            Self::File { path, offset, len } => {
                write!(f, "File({}, {offset}+{len})", path.display())
            }
            Self::Stream { len, .. } => write!(f, "Stream({len})"),
        }
    }
}

impl RequestBody {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Self::Empty => 0,
            Self::Bytes(b) => b.len() as u64,
            Self::File { len, .. } | Self::Stream { len, .. } => *len,
        }
    }

    /// Whether the body can be sent again.
    pub(crate) fn replayable(&self) -> bool {
        !matches!(self, Self::Stream { .. })
    }

    /// The body as a stream, for one attempt.
    pub(crate) async fn open(&mut self) -> Result<BoxStream<'static, std::io::Result<Bytes>>> {
        match self {
            Self::Empty => Ok(futures_util::stream::empty().boxed()),
            Self::Bytes(b) => Ok(futures_util::stream::iter([Ok(b.clone())]).boxed()),
            Self::File { path, offset, len } => {
                let mut file = tokio::fs::File::open(&*path)
                    .await
                    .map_err(|e| Error::io(path.clone(), e))?;
                file.seek(std::io::SeekFrom::Start(*offset))
                    .await
                    .map_err(|e| Error::io(path.clone(), e))?;
                Ok(file_stream(file, *len).boxed())
            }
            Self::Stream { stream, len } => {
                let stream = stream
                    .get_mut()
                    .ok()
                    .and_then(Option::take)
                    .ok_or_else(|| {
                        Error::InvalidInput("a streamed body cannot be sent twice".to_owned())
                    })?;
                Ok(exact_length(stream, *len).boxed())
            }
        }
    }
}

/// The SHA-256 of what `body` yields, to its end.
pub(crate) async fn sha256_of(
    body: &mut BoxStream<'static, std::io::Result<Bytes>>,
) -> std::io::Result<[u8; 32]> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    while let Some(piece) = body.next().await {
        hasher.update(piece?);
    }
    Ok(hasher.finalize().into())
}

/// A caller's stream held to the length it announced: a byte more, or an end before `len`,
/// is an error. The piece that completes the length is held back until what the stream has
/// ready after it is checked: once `len` bytes are out, the request is complete, and an
/// error after it would come too late to keep a truncated object from being stored.
fn exact_length(
    stream: BoxStream<'static, std::io::Result<Bytes>>,
    len: u64,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let longer = move || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("the body stream is longer than the {len} bytes announced"),
        )
    };
    // Once `len` bytes came, nothing may follow: what the stream has ready now is checked
    // (empty pieces aside). One that stays open with nothing more to give (a channel whose
    // sender lives on) is taken as ended, as HTTP stops at the length.
    let nothing_ready = move |stream: &mut BoxStream<'static, std::io::Result<Bytes>>| loop {
        match stream.next().now_or_never() {
            Some(Some(Ok(next))) if next.is_empty() => {}
            Some(Some(Ok(_))) => return Err(longer()),
            Some(Some(Err(e))) => return Err(e),
            Some(None) | None => return Ok(()),
        }
    };
    futures_util::stream::try_unfold((stream, 0u64), move |(mut stream, seen)| async move {
        loop {
            if seen == len {
                nothing_ready(&mut stream)?;
                return Ok(None);
            }
            let Some(piece) = stream.next().await.transpose()? else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the body stream ended after {seen} of the {len} bytes announced"),
                ));
            };
            if piece.is_empty() {
                continue;
            }
            let seen = seen.saturating_add(piece.len() as u64);
            if seen > len {
                return Err(longer());
            }
            if seen == len {
                nothing_ready(&mut stream)?;
            }
            return Ok(Some((piece, (stream, seen))));
        }
    })
}

/// Reads exactly `len` bytes of `file` as a stream; a file shorter than announced is an
/// error (never a short object).
fn file_stream(
    file: tokio::fs::File,
    len: u64,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures_util::stream::try_unfold((file, len), |(mut file, left)| async move {
        if left == 0 {
            return Ok(None);
        }
        let want = usize::try_from(left.min(FILE_READ_SIZE as u64)).unwrap_or(FILE_READ_SIZE);
        let mut buf = BytesMut::zeroed(want);
        let mut filled = 0;
        while filled < want {
            let n = file.read(&mut buf[filled..]).await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file became shorter during the upload",
                ));
            }
            filled += n;
        }
        Ok(Some((buf.freeze(), (file, left - want as u64))))
    })
}

/// Frames a body as `aws-chunked`, every chunk signed: fixed-size chunks (the length on the
/// wire was announced from that size), then the final empty chunk. Each chunk goes out as
/// its header, its data and `\r\n`: data that arrives in pieces of the chunk size or more
/// (a body in memory, a file read 256 KiB at a time) is sent from its own buffer, not copied.
pub(crate) fn aws_chunked(
    body: BoxStream<'static, std::io::Result<Bytes>>,
    signer: ChunkSigner,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    use std::collections::VecDeque;

    struct State {
        body: BoxStream<'static, std::io::Result<Bytes>>,
        body_ended: bool,
        signer: ChunkSigner,
        /// Body pieces read, not yet framed, and their total length.
        pieces: VecDeque<Bytes>,
        buffered: usize,
        /// The frame being sent: header, data, `\r\n`.
        frame: VecDeque<Bytes>,
        done: bool,
    }
    let size = signer.chunk_size();
    let state = State {
        body,
        body_ended: false,
        signer,
        pieces: VecDeque::new(),
        buffered: 0,
        frame: VecDeque::with_capacity(3),
        done: false,
    };
    futures_util::stream::try_unfold(state, move |mut s| async move {
        loop {
            if let Some(part) = s.frame.pop_front() {
                return Ok(Some((part, s)));
            }
            if s.done {
                return Ok(None);
            }
            while !s.body_ended && s.buffered < size {
                match s.body.next().await {
                    Some(piece) => {
                        let piece = piece?;
                        s.buffered += piece.len();
                        s.pieces.push_back(piece);
                    }
                    None => s.body_ended = true,
                }
            }
            let take = s.buffered.min(size);
            let data = take_front(&mut s.pieces, take);
            s.buffered -= take;
            let mut header = Vec::with_capacity(96);
            s.signer.write_chunk_header(&data, &mut header);
            s.frame.push_back(Bytes::from(header));
            if take == 0 {
                s.done = true;
            } else {
                s.frame.push_back(data);
            }
            s.frame.push_back(Bytes::from_static(b"\r\n"));
        }
    })
}

/// The first `n` bytes of `pieces` (which hold at least `n`), removed from them: a slice
/// of the first piece when it is long enough, else a copy gathered across pieces.
fn take_front(pieces: &mut std::collections::VecDeque<Bytes>, n: usize) -> Bytes {
    if let Some(first) = pieces.front_mut()
        && first.len() >= n
    {
        let out = first.split_to(n);
        if first.is_empty() {
            pieces.pop_front();
        }
        return out;
    }
    let mut out = BytesMut::with_capacity(n);
    while out.len() < n {
        let Some(first) = pieces.front_mut() else {
            break;
        };
        let k = (n - out.len()).min(first.len());
        out.extend_from_slice(&first.split_to(k));
        if first.is_empty() {
            pieces.pop_front();
        }
    }
    out.freeze()
}

/// The body of a download: a stream of [`Bytes`] as they arrive.
///
/// Received outside any task (in the future that `block_on` or `#[tokio::main]` runs) on a
/// multi-threaded runtime, the body is read by a task of its own on the runtime's workers and
/// handed over in batches (up to 256 KiB, or what came within 2 ms; two ahead, in a few
/// buffers that are used again once dropped): taking each piece across threads would cost
/// more CPU than the transfer. Inside a task it is read directly, which is cheaper still:
/// for a bulk download, read the body in a spawned task (a 512 MiB GET from a local RADOS
/// Gateway took 0.24-0.42 CPU-s per GiB read in a task, 0.38-0.60 read from
/// `#[tokio::main]`'s future). Dropping the stream stops the reading and closes the
/// connection.
///
/// ```no_run
/// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
/// use futures_util::StreamExt;
/// let mut object = client.get_object("bucket", "big.bin").send().await?;
/// while let Some(chunk) = object.body.next().await {
///     let chunk = chunk?;
///     // write it somewhere
/// #   let _ = chunk;
/// }
/// # Ok(()) }
/// ```
pub struct ByteStream {
    inner: BoxStream<'static, Result<Bytes>>,
}

impl std::fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ByteStream")
    }
}

impl ByteStream {
    pub(crate) fn from_response(response: reqwest::Response) -> Self {
        let body = response.bytes_stream().map(|r| r.map_err(Error::transport));
        // Outside any task (the future a `block_on` runs, as `#[tokio::main]` does) on a
        // multi-threaded runtime, the body is read by a task of its own; inside a task, where
        // it is already on the workers, or on a single-threaded runtime, where everything
        // runs on the caller's thread anyway, directly.
        let single_threaded = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread);
        let inner = if tokio::task::try_id().is_none() && !single_threaded {
            pumped(body).boxed()
        } else {
            body.boxed()
        };
        Self { inner }
    }

    /// Reads the whole body into memory.
    ///
    /// # Errors
    /// The connection broke.
    pub async fn collect(mut self) -> Result<Bytes> {
        let mut chunks = Vec::new();
        let mut total = 0;
        while let Some(chunk) = self.inner.next().await {
            let chunk = chunk?;
            total += chunk.len();
            chunks.push(chunk);
        }
        if chunks.len() == 1 {
            return Ok(chunks.swap_remove(0));
        }
        let mut all = BytesMut::with_capacity(total);
        for chunk in chunks {
            all.extend_from_slice(&chunk);
        }
        Ok(all.freeze())
    }
}

impl Stream for ByteStream {
    type Item = Result<Bytes>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

/// At most this many bytes of a body are handed over at once (see [`pumped`]).
const PUMP_BATCH: usize = 256 * 1024;

/// No piece waits longer than this in a batch (a body that trickles).
const PUMP_MAX_WAIT: std::time::Duration = std::time::Duration::from_millis(2);

/// What the task reading a body hands over.
enum Pumped {
    /// Pieces joined into one buffer (or one large piece as it came).
    Batch(Bytes),
    Failed(Error),
    End,
}

/// The capacity of a batch buffer: room for a batch and the largest pieces a connection
/// reads at once.
const PUMP_BUFFER: usize = 2 * PUMP_BATCH;

/// Batch buffers the reader is done with, kept to be handed back to the task (a few: the
/// reader may keep the bytes it got).
const PUMP_SPARES: usize = 4;

/// Reads `body` in a task of its own, on the runtime's workers next to the connection that
/// receives it, and hands it over in batches: gathered until [`PUMP_BATCH`] bytes,
/// [`PUMP_MAX_WAIT`] after the first piece, or the end, two batches ahead at most (a bulk
/// transfer of 256 MiB went from some 40 000 hand-overs to 1 000). A body read on a
/// `block_on` thread (what `#[tokio::main]` runs) was otherwise woken across threads for
/// each piece of tens of KiB, which cost more CPU than the transfer.
///
/// Each piece is copied into the batch as it comes and let go at once: pieces held until
/// their batch was read kept the connection's read buffer from being reused, and every
/// buffer it took instead was fresh memory, a page fault per 4 KiB. Batch buffers come back
/// to the task once the reader has dropped their bytes, so they are not fresh memory either.
/// Dropping the stream stops the task, and with it the response (its connection is closed,
/// as for any body not read to the end).
fn pumped(
    body: impl Stream<Item = Result<Bytes>> + Send + 'static,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<Pumped>(2);
    let (spare_tx, spare_rx) = std::sync::mpsc::channel::<BytesMut>();
    let task = AbortingTask::spawn(async move {
        let mut body = std::pin::pin!(body);
        let mut ended = false;
        // A piece that did not fit in the previous batch's buffer: the next batch's first.
        let mut carried: Option<Bytes> = None;
        while !ended {
            let next = match carried.take() {
                Some(piece) => Some(Ok(piece)),
                None => body.next().await,
            };
            let first = match next {
                Some(Ok(piece)) => piece,
                Some(Err(e)) => {
                    let _ = tx.send(Pumped::Failed(e)).await;
                    return;
                }
                None => break,
            };
            if first.len() > PUMP_BUFFER {
                // Larger than a batch buffer holds: handed over as it came.
                if tx.send(Pumped::Batch(first)).await.is_err() {
                    return;
                }
                continue;
            }
            let mut joined = spare_rx
                .try_recv()
                .unwrap_or_else(|_| BytesMut::with_capacity(PUMP_BUFFER));
            joined.clear();
            joined.extend_from_slice(&first);
            drop(first);
            let mut failed = None;
            // Take along what follows closely (a bulk transfer's pieces come every few tens
            // of microseconds); the batch's age hands it over, so that a body that trickles
            // is not held back. One timer per batch, armed at its first wait: a timer armed
            // and cancelled at every wait (a pause rule) cost about 5 % of the CPU of a GET.
            let deadline = tokio::time::sleep(PUMP_MAX_WAIT);
            let mut deadline = std::pin::pin!(deadline);
            while joined.len() < PUMP_BATCH {
                // The body first: a piece ready already never arms the timer.
                let next = tokio::select! {
                    biased;
                    next = body.next() => Ok(next),
                    () = &mut deadline => Err(()),
                };
                match next {
                    // Never grown: a buffer that grows is fresh memory again.
                    Ok(Some(Ok(piece))) if piece.len() > joined.capacity() - joined.len() => {
                        carried = Some(piece);
                        break;
                    }
                    Ok(Some(Ok(piece))) => joined.extend_from_slice(&piece),
                    Ok(Some(Err(e))) => {
                        failed = Some(e);
                        break;
                    }
                    Ok(None) => {
                        ended = true;
                        break;
                    }
                    Err(()) => break,
                }
            }
            if tx.send(Pumped::Batch(joined.freeze())).await.is_err() {
                return;
            }
            if let Some(e) = failed {
                let _ = tx.send(Pumped::Failed(e)).await;
                return;
            }
        }
        let _ = tx.send(Pumped::End).await;
    });
    let state = PumpedReader {
        rx,
        given: std::collections::VecDeque::new(),
        spares: spare_tx,
        _task: task,
        done: false,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        state.recycle();
        let item = match state.rx.recv().await {
            Some(Pumped::Batch(batch)) => {
                if state.given.len() == PUMP_SPARES {
                    state.given.pop_front();
                }
                state.given.push_back(batch.clone());
                Ok(batch)
            }
            Some(Pumped::Failed(e)) => {
                state.done = true;
                Err(e)
            }
            Some(Pumped::End) => return None,
            // The task stopped without saying so (it panicked): never a silently short body.
            None => {
                state.done = true;
                Err(Error::Transport {
                    message: "the task reading the response body stopped".to_owned(),
                    source: None,
                })
            }
        };
        Some((item, state))
    })
}

/// The reader's side of [`pumped`].
struct PumpedReader {
    rx: tokio::sync::mpsc::Receiver<Pumped>,
    /// The batches handed to the reader, oldest first, kept to take their buffers back.
    given: std::collections::VecDeque<Bytes>,
    spares: std::sync::mpsc::Sender<BytesMut>,
    _task: AbortingTask<()>,
    done: bool,
}

impl PumpedReader {
    /// Hands the buffers of the batches the reader has dropped back to the task.
    fn recycle(&mut self) {
        while let Some(batch) = self.given.pop_front() {
            match batch.try_into_mut() {
                // Only this copy was left: the reader is done with it.
                Ok(buffer) => {
                    let _ = self.spares.send(buffer);
                }
                Err(batch) => {
                    self.given.push_front(batch);
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use futures_util::StreamExt;

    use super::*;

    /// A body that comes in many small pieces: `count` pieces of 1 KiB, `gap` apart.
    fn trickle(count: usize, gap: Duration) -> impl Stream<Item = Result<Bytes>> + Send {
        futures_util::stream::iter(0..count).then(move |i| async move {
            tokio::time::sleep(gap).await;
            Ok(Bytes::from(vec![u8::try_from(i % 251).unwrap_or(0); 1024]))
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pieces_come_out_whole_and_in_order() {
        let expected: Vec<u8> = (0..300usize)
            .flat_map(|i| vec![u8::try_from(i % 251).unwrap_or(0); 1024])
            .collect();
        let mut got = Vec::new();
        let mut body = std::pin::pin!(pumped(trickle(300, Duration::ZERO)));
        while let Some(piece) = body.next().await {
            got.extend_from_slice(&piece.unwrap());
        }
        assert!(got == expected);
    }

    /// A body that trickles steadily (a piece every 0.5 ms) still reaches the reader within a
    /// few milliseconds, not once 256 KiB have gathered (about 130 ms).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_trickling_body_is_not_held_back() {
        let started = Instant::now();
        let mut body = std::pin::pin!(pumped(trickle(400, Duration::from_micros(500))));
        let first = body.next().await.unwrap().unwrap();
        let waited = started.elapsed();
        assert!(first.len() >= 1024 && first.len() % 1024 == 0);
        assert!(
            waited < Duration::from_millis(60),
            "first piece after {waited:?}"
        );
        let mut total = first.len();
        while let Some(piece) = body.next().await {
            total += piece.unwrap().len();
        }
        assert_eq!(total, 400 * 1024);
    }

    /// Pieces of `size` bytes, `count` of them, numbered in their bytes.
    fn pieces(count: usize, size: usize) -> impl Stream<Item = Result<Bytes>> + Send {
        futures_util::stream::iter(0..count)
            .map(move |i| Ok(Bytes::from(vec![u8::try_from(i % 251).unwrap_or(0); size])))
    }

    fn expected(count: usize, size: usize) -> Vec<u8> {
        (0..count)
            .flat_map(|i| vec![u8::try_from(i % 251).unwrap_or(0); size])
            .collect()
    }

    /// A reader that drops each batch gets the same few buffers back again and again, not
    /// fresh memory for every batch.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batch_buffers_come_back_once_dropped() {
        let (count, size) = (640, 16 * 1024);
        let mut body = std::pin::pin!(pumped(pieces(count, size)));
        let (mut got, mut batches, mut buffers) = (Vec::new(), 0, std::collections::HashSet::new());
        while let Some(batch) = body.next().await {
            let batch = batch.unwrap();
            buffers.insert(batch.as_ptr() as usize);
            got.extend_from_slice(&batch);
            batches += 1;
        }
        assert!(got == expected(count, size), "the bytes differ");
        assert!(batches >= 30, "{batches} batches");
        assert!(
            buffers.len() <= 8,
            "{} buffers for {batches} batches",
            buffers.len()
        );
    }

    /// Batches the reader keeps are never written over: their buffers go back only once
    /// every copy is dropped.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_kept_by_the_reader_stay_intact() {
        let (count, size) = (640, 16 * 1024);
        let kept: Vec<Bytes> = pumped(pieces(count, size))
            .map(|batch| batch.unwrap())
            .collect()
            .await;
        assert!(
            kept.concat() == expected(count, size),
            "a kept batch was written over"
        );
        // Some kept, some dropped: the kept ones still hold their bytes at the end.
        let mut body = std::pin::pin!(pumped(pieces(count, size)));
        let (mut all, mut kept) = (Vec::new(), Vec::new());
        let mut i = 0;
        while let Some(batch) = body.next().await {
            let batch = batch.unwrap();
            all.extend_from_slice(&batch);
            if i % 3 == 0 {
                kept.push((all.len() - batch.len(), batch));
            }
            i += 1;
        }
        for (at, batch) in kept {
            assert!(
                all[at..at + batch.len()] == batch[..],
                "batch at {at} changed"
            );
        }
    }

    /// A piece larger than a batch buffer goes through as it came.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_piece_larger_than_a_batch_buffer_goes_through() {
        let (count, size) = (5, PUMP_BUFFER + 3);
        let got: Vec<Bytes> = pumped(pieces(count, size))
            .map(|batch| batch.unwrap())
            .collect()
            .await;
        assert_eq!(got.len(), count);
        assert!(got.concat() == expected(count, size));
    }

    /// An error in the middle comes out after the pieces before it, and ends the stream.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_error_ends_the_stream_after_the_pieces_before_it() {
        let pieces = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"a")),
            Ok(Bytes::from_static(b"b")),
            Err(Error::Transport {
                message: "cut".to_owned(),
                source: None,
            }),
            Ok(Bytes::from_static(b"never")),
        ]);
        let items: Vec<Result<Bytes>> = pumped(pieces).collect().await;
        let (last, before) = items.split_last().unwrap();
        assert!(last.is_err(), "{items:?}");
        let bytes: Vec<u8> = before
            .iter()
            .flat_map(|item| item.as_ref().unwrap().to_vec())
            .collect();
        assert_eq!(bytes, b"ab");
    }
}
