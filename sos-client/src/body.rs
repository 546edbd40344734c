//! Request bodies (bytes, a file range, a one-shot stream) and the response [`ByteStream`].

use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
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
            Self::Stream { stream, .. } => {
                stream.get_mut().ok().and_then(Option::take).ok_or_else(|| {
                    Error::InvalidInput("a streamed body cannot be sent twice".to_owned())
                })
            }
        }
    }
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
/// handed over in batches
/// (up to 256 KiB, or what came within 2 ms; two ahead): taking each piece across threads
/// would cost more CPU than the transfer. Inside a task it is read directly, which is
/// cheaper still: for a bulk download, read the body in a spawned task (a 512 MiB GET from
/// a local RADOS Gateway took 0.30-0.38 CPU-s per GiB read in a task, 0.46-0.60 read from
/// `#[tokio::main]`'s future, where the batches keep the connection's read buffers from
/// being reused). Dropping the stream stops the reading and closes the connection.
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
    Pieces(Vec<Bytes>),
    Failed(Error),
    End,
}

/// Reads `body` in a task of its own, on the runtime's workers next to the connection that
/// receives it, and hands its pieces over in batches: gathered until [`PUMP_BATCH`] bytes,
/// [`PUMP_MAX_WAIT`] after the first piece, or the end, two batches ahead at most (a bulk
/// transfer of 256 MiB went from some 40 000 hand-overs to 1 000). A body read on a
/// `block_on` thread (what `#[tokio::main]` runs) was otherwise woken across threads for
/// each piece of tens of KiB, which cost more CPU than the transfer. Dropping the stream
/// stops the task, and with it the response (its connection is closed, as for any body not
/// read to the end).
fn pumped(
    body: impl Stream<Item = Result<Bytes>> + Send + 'static,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<Pumped>(2);
    let task = AbortingTask::spawn(async move {
        let mut body = std::pin::pin!(body);
        let mut ended = false;
        while !ended {
            let mut batch = match body.next().await {
                Some(Ok(piece)) => vec![piece],
                Some(Err(e)) => {
                    let _ = tx.send(Pumped::Failed(e)).await;
                    return;
                }
                None => break,
            };
            let mut size = batch[0].len();
            let mut failed = None;
            // Take along what follows closely (a bulk transfer's pieces come every few tens
            // of microseconds); the batch's age hands it over, so that a body that trickles
            // is not held back. One timer per batch, armed at its first wait: a timer armed
            // and cancelled at every wait (a pause rule) cost about 5 % of the CPU of a GET.
            let deadline = tokio::time::sleep(PUMP_MAX_WAIT);
            let mut deadline = std::pin::pin!(deadline);
            while size < PUMP_BATCH {
                // The body first: a piece ready already never arms the timer.
                let next = tokio::select! {
                    biased;
                    next = body.next() => Ok(next),
                    () = &mut deadline => Err(()),
                };
                match next {
                    Ok(Some(Ok(piece))) => {
                        size += piece.len();
                        batch.push(piece);
                    }
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
            if tx.send(Pumped::Pieces(batch)).await.is_err() {
                return;
            }
            if let Some(e) = failed {
                let _ = tx.send(Pumped::Failed(e)).await;
                return;
            }
        }
        let _ = tx.send(Pumped::End).await;
    });
    let state = (rx, std::collections::VecDeque::new(), task, false);
    futures_util::stream::unfold(state, |(mut rx, mut queue, task, done)| async move {
        if done {
            return None;
        }
        loop {
            if let Some(piece) = queue.pop_front() {
                return Some((Ok(piece), (rx, queue, task, false)));
            }
            match rx.recv().await {
                Some(Pumped::Pieces(batch)) => queue.extend(batch),
                Some(Pumped::Failed(e)) => return Some((Err(e), (rx, queue, task, true))),
                Some(Pumped::End) => return None,
                // The task stopped without saying so (it panicked): never a silently short
                // body.
                None => {
                    let e = Error::Transport {
                        message: "the task reading the response body stopped".to_owned(),
                        source: None,
                    };
                    return Some((Err(e), (rx, queue, task, true)));
                }
            }
        }
    })
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
        assert_eq!(first.len(), 1024);
        assert!(
            waited < Duration::from_millis(60),
            "first piece after {waited:?}"
        );
        let mut n = 1;
        while let Some(piece) = body.next().await {
            piece.unwrap();
            n += 1;
        }
        assert_eq!(n, 400);
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
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(items[0].is_ok() && items[1].is_ok() && items[2].is_err());
    }
}
