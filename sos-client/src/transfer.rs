//! The transfer manager: big uploads and downloads in parallel parts, memory bounded by
//! part size × concurrency, and never a half-written object left behind.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use futures_util::stream::{FuturesUnordered, StreamExt, TryStreamExt};
use sos_acl::CannedAcl;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::body::RequestBody;
use crate::checksum::Checksum;
use crate::client::Client;
use crate::metadata::{Metadata, ObjectInfo};
use crate::multipart::{CompletedPart, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, MultipartUpload};
use crate::object::PutObjectOutput;
use crate::tagging::Tags;
use crate::task::AbortingTask;
use crate::{Error, Result};

/// Default part size: 8 MiB.
pub const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;
/// Default parts in flight.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Progress of a transfer: bytes done so far, and the total when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes transferred so far.
    pub transferred: u64,
    /// Total bytes, when known.
    pub total: Option<u64>,
}

pub(crate) type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Shared settings of uploads and downloads.
#[derive(Clone)]
struct Tuning {
    part_size: u64,
    concurrency: usize,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for Tuning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tuning")
            .field("part_size", &self.part_size)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            part_size: DEFAULT_PART_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            progress: None,
        }
    }
}

pub(crate) struct Counter {
    done: AtomicU64,
    total: Option<u64>,
    progress: Option<ProgressFn>,
}

impl Counter {
    pub(crate) fn new(total: Option<u64>, progress: Option<ProgressFn>) -> Self {
        Self {
            done: AtomicU64::new(0),
            total,
            progress,
        }
    }

    pub(crate) fn add(&self, n: u64) {
        let transferred = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(f) = &self.progress {
            f(Progress {
                transferred,
                total: self.total,
            });
        }
    }
}

/// Aborts the multipart upload it holds when dropped unfinished: a failed, cancelled or
/// panicking upload leaves no parts behind.
pub(crate) struct AbortOnDrop {
    client: Client,
    upload: Option<MultipartUpload>,
}

impl AbortOnDrop {
    /// Guards `upload`, started by `client`.
    pub(crate) fn new(client: &Client, upload: MultipartUpload) -> Self {
        Self {
            client: client.clone(),
            upload: Some(upload),
        }
    }

    /// Aborts now, and waits for it.
    async fn abort(mut self) {
        if let Some(upload) = self.upload.take()
            && let Err(e) = self.client.abort_multipart_upload(&upload).await
        {
            tracing::warn!(error = %e, upload_id = %upload.upload_id, "abort failed");
        }
    }

    fn disarm(mut self) {
        self.upload = None;
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        let Some(upload) = self.upload.take() else {
            return;
        };
        // The future was dropped (cancelled): abort in the background.
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let client = self.client.clone();
                handle.spawn(async move {
                    if let Err(e) = client.abort_multipart_upload(&upload).await {
                        tracing::warn!(error = %e, upload_id = %upload.upload_id, "abort failed");
                    }
                });
            }
            Err(_) => tracing::warn!(
                upload_id = %upload.upload_id,
                "an unfinished multipart upload could not be aborted (no runtime)"
            ),
        }
    }
}

/// An upload through the transfer manager. Made by [`Client::upload`].
///
/// Data up to one part goes in a single PUT; more goes as a multipart upload with up to
/// `concurrency` parts in flight. On any error, and when the future is dropped, the
/// multipart upload is aborted: the object appears whole or not at all.
///
/// ```no_run
/// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
/// let out = client
///     .upload("backups", "2026-12-01.tar.zst")
///     .part_size(16 * 1024 * 1024)
///     .concurrency(8)
///     .on_progress(|p| eprintln!("{} / {:?}", p.transferred, p.total))
///     .file("/var/backups/2026-12-01.tar.zst")
///     .await?;
/// # let _ = out;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "nothing is sent until `file`, `reader` or `bytes` is awaited"]
pub struct Upload<'a> {
    client: &'a Client,
    bucket: &'a str,
    key: &'a str,
    metadata: Metadata,
    acl: Option<CannedAcl>,
    tags: Tags,
    checksum: Checksum,
    tuning: Tuning,
}

impl<'a> Upload<'a> {
    /// Part size (5 MiB ..= 5 GiB; default 8 MiB). Grown automatically when a file would
    /// need more than 10 000 parts.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.tuning.part_size = bytes;
        self
    }

    /// Parts in flight (default 4). A file's parts stream from disk (a few 256 KiB buffers
    /// per part); a reader's parts are buffered: part size × (concurrency + 1).
    pub fn concurrency(mut self, parts: usize) -> Self {
        self.tuning.concurrency = parts.max(1);
        self
    }

    /// The checksum of each part (default [`Checksum::Auto`]: `Content-MD5` unless a
    /// signed SHA-256 already covers the part).
    pub fn checksum(mut self, checksum: Checksum) -> Self {
        self.checksum = checksum;
        self
    }

    /// The object's metadata.
    pub fn metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = metadata;
        self
    }

    /// `Content-Type`.
    pub fn content_type(mut self, value: impl Into<String>) -> Self {
        self.metadata.content_type = Some(value.into());
        self
    }

    /// A canned ACL.
    pub fn acl(mut self, acl: CannedAcl) -> Self {
        self.acl = Some(acl);
        self
    }

    /// The object's tags (`x-amz-tagging` of the `PutObject` or `CreateMultipartUpload`),
    /// checked by S3's rules before anything is sent (see [`Tags`]). The RADOS Gateway
    /// (Ceph 16.2, as SOS) loses the tags given to a multipart upload: after completing
    /// one, the upload reads the tags back and sets them when they are not there (a
    /// `PutObjectTagging`). Servers without tagging (Garage) store the object without them.
    ///
    /// ```no_run
    /// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
    /// use sos_client::Tags;
    /// client
    ///     .upload("backups", "2026-12-01.tar.zst")
    ///     .tags(Tags::new().with("retention", "90d"))
    ///     .file("/var/backups/2026-12-01.tar.zst")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn tags(mut self, tags: Tags) -> Self {
        self.tags = tags;
        self
    }

    /// Called as bytes are sent (from the tasks that send them).
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.tuning.progress = Some(Arc::new(f));
        self
    }

    /// Checks the part size and the tags, before anything is read or sent.
    fn check(&self) -> Result<()> {
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.tuning.part_size) {
            return Err(Error::InvalidInput(format!(
                "part size {} is outside S3's 5 MiB ..= 5 GiB",
                self.tuning.part_size
            )));
        }
        self.tags.validate()
    }

    /// Uploads a file.
    ///
    /// # Errors
    /// An invalid part size or [tags](Error::InvalidTag) before anything is sent; the file
    /// cannot be read; the server's errors; transport. The multipart upload, if any, has
    /// been aborted when this returns an error (except when only setting the tags again
    /// after the completion failed: the object is then written, without its tags).
    pub async fn file(mut self, path: impl AsRef<Path>) -> Result<PutObjectOutput> {
        self.check()?;
        let path = path.as_ref().to_owned();
        let size = tokio::fs::metadata(&path)
            .await
            .map_err(|e| Error::io(path.clone(), e))?
            .len();
        if size <= self.tuning.part_size {
            let counter = Counter::new(Some(size), self.tuning.progress.clone());
            let out = self
                .client
                .put_object(self.bucket, self.key)
                .file(path)
                .metadata(self.metadata)
                .maybe_acl(self.acl)
                .tags(self.tags)
                .send()
                .await?;
            counter.add(size);
            return Ok(out);
        }
        self.tuning.part_size = part_size_for(size, self.tuning.part_size)?;
        let part_size = self.tuning.part_size;
        let parts = size.div_ceil(part_size);
        let counter = Arc::new(Counter::new(Some(size), self.tuning.progress.clone()));
        let guard = self.start().await?;
        let Some(upload) = guard.upload.clone() else {
            return Err(Error::InvalidInput("no upload".to_owned()));
        };
        let client = self.client;
        let checksum = self.checksum;
        let result: Result<Vec<CompletedPart>> = futures_util::stream::iter(0..parts)
            .map(|i| {
                let path = path.clone();
                let upload = &upload;
                let counter = counter.clone();
                async move {
                    // Parts stream from the file (read again on a retry): no part is held
                    // in memory.
                    let offset = i * part_size;
                    let len = part_size.min(size - offset);
                    let number = u32::try_from(i + 1).unwrap_or(MAX_PARTS);
                    let body = RequestBody::File { path, offset, len };
                    let part = client
                        .upload_part_body(upload, number, body, checksum)
                        .await?;
                    counter.add(len);
                    Ok(part)
                }
            })
            .buffer_unordered(self.tuning.concurrency)
            .try_collect()
            .await;
        let out = finish(client, guard, &upload, result).await?;
        self.settle_tags(&out).await?;
        Ok(out)
    }

    /// Uploads everything `reader` gives, of any length (unknown lengths welcome).
    ///
    /// # Errors
    /// As [`file`](Self::file).
    pub async fn reader<R: AsyncRead + Unpin + Send>(
        self,
        mut reader: R,
    ) -> Result<PutObjectOutput> {
        self.check()?;
        let part_size = self.tuning.part_size;
        let first = read_part(&mut reader, part_size).await?;
        if (first.len() as u64) < part_size {
            let len = first.len() as u64;
            let out = self
                .client
                .put_object(self.bucket, self.key)
                .body(first)
                .metadata(self.metadata)
                .checksum(self.checksum)
                .maybe_acl(self.acl)
                .tags(self.tags)
                .send()
                .await?;
            Counter::new(Some(len), self.tuning.progress.clone()).add(len);
            return Ok(out);
        }
        let counter = Counter::new(None, self.tuning.progress.clone());
        let guard = self.start().await?;
        let Some(upload) = guard.upload.clone() else {
            return Err(Error::InvalidInput("no upload".to_owned()));
        };
        let client = self.client;
        let checksum = self.checksum;
        let concurrency = self.tuning.concurrency;
        let counter = &counter;
        let upload_ref = &upload;
        let send = |number: u32, data: Bytes| async move {
            let len = data.len() as u64;
            let part = client
                .upload_part(upload_ref, number, data, checksum)
                .await?;
            counter.add(len);
            Ok::<_, Error>(part)
        };
        let result: Result<Vec<CompletedPart>> = async {
            let mut in_flight = FuturesUnordered::new();
            let mut done = Vec::new();
            let mut number = 1u32;
            let mut next = Some(first);
            while let Some(data) = next.take() {
                if number > MAX_PARTS {
                    return Err(Error::InvalidInput(format!(
                        "more than {MAX_PARTS} parts: use a larger part size"
                    )));
                }
                in_flight.push(send(number, data));
                number += 1;
                while in_flight.len() >= concurrency {
                    if let Some(part) = in_flight.next().await {
                        done.push(part?);
                    }
                }
                let data = read_part(&mut reader, part_size).await?;
                if !data.is_empty() {
                    next = Some(data);
                }
            }
            while let Some(part) = in_flight.next().await {
                done.push(part?);
            }
            Ok(done)
        }
        .await;
        let out = finish(client, guard, &upload, result).await?;
        self.settle_tags(&out).await?;
        Ok(out)
    }

    /// Uploads bytes in memory (in parts when larger than the part size).
    ///
    /// # Errors
    /// As [`file`](Self::file).
    pub async fn bytes(self, data: impl Into<Bytes>) -> Result<PutObjectOutput> {
        let data: Bytes = data.into();
        self.reader(std::io::Cursor::new(data)).await
    }

    async fn start(&self) -> Result<AbortOnDrop> {
        let mut headers = http::HeaderMap::new();
        self.metadata.apply(&mut headers)?;
        if let Some((name, value)) = self.tags.header_value()? {
            headers.insert(name, value);
        }
        let upload = self
            .client
            .create_multipart_upload_with(self.bucket, self.key, headers, self.acl)
            .await?;
        Ok(AbortOnDrop::new(self.client, upload))
    }

    /// After a multipart upload: the tags, set again if the server lost them.
    async fn settle_tags(&self, out: &PutObjectOutput) -> Result<()> {
        if self.tags.is_empty() {
            return Ok(());
        }
        self.client
            .settle_tags(self.bucket, self.key, out.version_id.as_deref(), &self.tags)
            .await
    }
}

/// The part size for `size` bytes: `requested`, or the next whole MiB that keeps the parts
/// within S3's 10 000; an error when that would be more than 5 GiB a part.
pub(crate) fn part_size_for(size: u64, requested: u64) -> Result<u64> {
    let min_for_count = size.div_ceil(u64::from(MAX_PARTS));
    let part_size = if requested < min_for_count {
        min_for_count.div_ceil(1 << 20) << 20
    } else {
        requested
    };
    if part_size > MAX_PART_SIZE {
        return Err(Error::InvalidInput(format!(
            "{size} bytes need parts over 5 GiB (S3 allows 10 000 parts of up to 5 GiB)"
        )));
    }
    Ok(part_size)
}

/// Completes the upload, or aborts it (and waits) on error.
pub(crate) async fn finish(
    client: &Client,
    guard: AbortOnDrop,
    upload: &MultipartUpload,
    parts: Result<Vec<CompletedPart>>,
) -> Result<PutObjectOutput> {
    let parts = match parts {
        Ok(parts) => parts,
        Err(e) => {
            guard.abort().await;
            return Err(e);
        }
    };
    match client.complete_multipart_upload(upload, &parts).await {
        Ok(out) => {
            guard.disarm();
            Ok(out)
        }
        Err(e) => {
            guard.abort().await;
            Err(e)
        }
    }
}

/// Reads up to `len` bytes (less only at the end of the input).
async fn read_part<R: AsyncRead + Unpin>(reader: &mut R, len: u64) -> Result<Bytes> {
    let len = usize::try_from(len).map_err(|_| Error::InvalidInput("part too large".into()))?;
    let mut buf = BytesMut::with_capacity(len);
    while buf.len() < len {
        let n = reader.read_buf(&mut buf).await.map_err(|e| Error::Io {
            path: None,
            source: e,
        })?;
        if n == 0 {
            break;
        }
    }
    Ok(buf.freeze())
}

/// A download through the transfer manager. Made by [`Client::download`].
///
/// Objects larger than a part are fetched as ranged GETs in parallel, each conditional on
/// the ETag seen first (`If-Match`), so an object replaced during the download fails with
/// `PreconditionFailed` instead of mixing two versions. A file download goes to a
/// temporary file renamed into place at the end: the destination is whole or untouched.
#[derive(Debug)]
#[must_use = "nothing is fetched until `to_file` or `to_writer` is awaited"]
pub struct Download<'a> {
    client: &'a Client,
    bucket: &'a str,
    key: &'a str,
    tuning: Tuning,
}

impl Download<'_> {
    /// Part size (default 8 MiB).
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.tuning.part_size = bytes.max(1);
        self
    }

    /// Parts in flight (default 4).
    pub fn concurrency(mut self, parts: usize) -> Self {
        self.tuning.concurrency = parts.max(1);
        self
    }

    /// Called as bytes arrive.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.tuning.progress = Some(Arc::new(f));
        self
    }

    /// Downloads into `path` (through a temporary file in the same directory).
    ///
    /// # Errors
    /// `NoSuchKey`, `PreconditionFailed` (the object changed), file and transport errors.
    pub async fn to_file(self, path: impl AsRef<Path>) -> Result<ObjectInfo> {
        /// Removes the temporary file unless the download got to its rename: also when the
        /// download is dropped half way.
        struct Partial(Option<PathBuf>);
        impl Drop for Partial {
            fn drop(&mut self) {
                if let Some(path) = &self.0 {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        let path = path.as_ref().to_owned();
        let temp = temp_path(&path);
        let mut partial = Partial(Some(temp.clone()));
        let info = self.to_temp(&temp).await?;
        tokio::fs::rename(&temp, &path)
            .await
            .map_err(|e| Error::io(path.clone(), e))?;
        // Renamed: nothing left to remove.
        partial.0 = None;
        Ok(info)
    }

    async fn to_temp(&self, temp: &Path) -> Result<ObjectInfo> {
        let info = self.client.head_object(self.bucket, self.key).await?;
        let size = info.content_length;
        let file = tokio::fs::File::create(temp)
            .await
            .map_err(|e| Error::io(temp, e))?;
        file.set_len(size).await.map_err(|e| Error::io(temp, e))?;
        // One handle for every part: each writes at its own offsets.
        let file = Arc::new(file.into_std().await);
        let temp: Arc<Path> = temp.into();
        let counter = Arc::new(Counter::new(Some(size), self.tuning.progress.clone()));
        let source = self.source(&info);
        let part_size = self.tuning.part_size;
        let parts = size.div_ceil(part_size).max(1);
        futures_util::stream::iter(0..parts)
            .map(|i| {
                let offset = i * part_size;
                let len = part_size.min(size - offset);
                spawn_part(source.clone().part_to_file(
                    file.clone(),
                    temp.clone(),
                    offset,
                    len,
                    counter.clone(),
                ))
            })
            .buffer_unordered(self.tuning.concurrency)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(info)
    }

    /// What the parts of this download read, owned by each part's task.
    fn source(&self, info: &ObjectInfo) -> Source {
        Source {
            client: self.client.clone(),
            bucket: self.bucket.into(),
            key: self.key.into(),
            etag: info.etag.as_deref().map(Arc::from),
        }
    }

    /// Downloads into `writer`, in order, with up to `concurrency` parts fetched ahead
    /// (memory: part size × concurrency).
    ///
    /// # Errors
    /// As [`to_file`](Self::to_file); a part that breaks is retried whole.
    pub async fn to_writer<W: AsyncWrite + Unpin>(self, mut writer: W) -> Result<ObjectInfo> {
        let info = self.client.head_object(self.bucket, self.key).await?;
        let size = info.content_length;
        let counter = Counter::new(Some(size), self.tuning.progress.clone());
        let part_size = self.tuning.part_size;
        let parts = size.div_ceil(part_size);
        let source = self.source(&info);
        let mut stream = futures_util::stream::iter(0..parts)
            .map(|i| {
                let offset = i * part_size;
                let len = part_size.min(size - offset);
                spawn_part(source.clone().part_bytes(offset, len))
            })
            .buffered(self.tuning.concurrency);
        while let Some(part) = stream.next().await {
            let part = part?;
            writer.write_all(&part).await.map_err(|e| Error::Io {
                path: None,
                source: e,
            })?;
            counter.add(part.len() as u64);
        }
        writer.flush().await.map_err(|e| Error::Io {
            path: None,
            source: e,
        })?;
        Ok(info)
    }
}

/// The object a download reads, owned: each part runs as a task of its own, so that body
/// pieces are taken on the runtime's workers, next to the connection that reads them, and
/// not on the caller's thread (a `block_on` thread is woken across threads for each piece,
/// which costs more CPU than the transfer itself), and parts use every worker.
#[derive(Clone)]
struct Source {
    client: Client,
    bucket: Arc<str>,
    key: Arc<str>,
    /// The ETag seen first: every part is conditional on it.
    etag: Option<Arc<str>>,
}

impl Source {
    /// Fetches `[offset, offset+len)` into the file, retrying the part when the body
    /// breaks mid-way.
    async fn part_to_file(
        self,
        file: Arc<std::fs::File>,
        temp: Arc<Path>,
        offset: u64,
        len: u64,
        counter: Arc<Counter>,
    ) -> Result<()> {
        self.retrying(offset, || {
            self.try_part_to_file(&file, &temp, offset, len, &counter)
        })
        .await
    }

    /// Runs `attempt` again, with the client's back-off, while it fails in a way that may
    /// pass: a part whose body breaks mid-way is fetched again whole.
    async fn retrying<T, F, Fut>(&self, offset: u64, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let retry = self.client.retry_config();
        let mut tries = 1;
        loop {
            match attempt().await {
                Err(e) if e.is_retryable() && tries < retry.max_attempts() => {
                    tracing::debug!(error = %e, offset, "retrying a part");
                    tokio::time::sleep(retry.delay(tries)).await;
                    tries += 1;
                }
                result => return result,
            }
        }
    }

    /// The GET of `[offset, offset+len)` (the whole object when it is empty), conditional on
    /// the ETag seen first.
    fn ranged_get(&self, offset: u64, len: u64) -> crate::GetObject<'_> {
        let mut get = self.client.get_object(&self.bucket, &self.key);
        if len > 0 {
            get = get.range(offset..offset + len);
        }
        if let Some(etag) = &self.etag {
            get = get.if_match(etag);
        }
        get
    }

    async fn try_part_to_file(
        &self,
        file: &Arc<std::fs::File>,
        temp: &Path,
        offset: u64,
        len: u64,
        counter: &Counter,
    ) -> Result<()> {
        let mut object = self.ranged_get(offset, len).send().await?;
        // The body's pieces (tens of KiB) are gathered into batches of about 1 MiB, each
        // written by one blocking task at its offset: a thread hand-off per MiB rather than
        // one per piece, and no copy into an intermediate buffer. The body is read on while
        // a batch is written (one write in flight): the connection never waits for the disk.
        let mut batch: Vec<Bytes> = Vec::new();
        let (mut batch_len, mut at) = (0u64, offset);
        let mut writing: Option<BatchWrite> = None;
        while let Some(chunk) = object.body.next().await {
            let chunk = chunk?;
            batch_len += chunk.len() as u64;
            counter.add(chunk.len() as u64);
            batch.push(chunk);
            if batch_len >= WRITE_BATCH {
                if let Some(previous) = writing.take() {
                    previous.finish(temp).await?;
                }
                writing = BatchWrite::start(file, at, std::mem::take(&mut batch));
                at += batch_len;
                batch_len = 0;
            }
        }
        if let Some(previous) = writing.take() {
            previous.finish(temp).await?;
        }
        if let Some(last) = BatchWrite::start(file, at, batch) {
            last.finish(temp).await?;
        }
        let written = at + batch_len - offset;
        if written != len {
            return Err(Error::Transport {
                message: format!("a part ended after {written} of {len} bytes"),
                source: None,
            });
        }
        Ok(())
    }

    async fn part_bytes(self, offset: u64, len: u64) -> Result<Bytes> {
        let bytes = self
            .retrying(offset, || async {
                self.ranged_get(offset, len)
                    .send()
                    .await?
                    .body
                    .collect()
                    .await
            })
            .await?;
        if bytes.len() as u64 != len {
            return Err(Error::InvalidResponse(format!(
                "asked for {len} bytes, got {}",
                bytes.len()
            )));
        }
        Ok(bytes)
    }
}

/// Runs a part as a task of its own; dropping the returned future (a download dropped or
/// failed) aborts the task, and with it the part's request.
fn spawn_part<T: Send + 'static>(
    part: impl std::future::Future<Output = Result<T>> + Send + 'static,
) -> impl std::future::Future<Output = Result<T>> {
    let task = AbortingTask::spawn(part);
    async move {
        match task.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(Error::Transport {
                message: format!("a download part was cancelled: {e}"),
                source: None,
            }),
        }
    }
}

/// Bytes of a download gathered before they are written (see `try_part_to_file`).
const WRITE_BATCH: u64 = 1024 * 1024;

/// A batch of body pieces being written into the file at its offset, in a blocking task.
/// Dropped unfinished (a part cancelled or failed), the write still completes: the same
/// bytes at the same place, in a file that is removed or written again.
struct BatchWrite(tokio::task::JoinHandle<std::io::Result<()>>);

impl BatchWrite {
    /// Starts writing `pieces` one after the other from `offset` on (none: nothing to do).
    fn start(file: &Arc<std::fs::File>, offset: u64, pieces: Vec<Bytes>) -> Option<Self> {
        if pieces.is_empty() {
            return None;
        }
        let file = file.clone();
        Some(Self(tokio::task::spawn_blocking(move || {
            let mut at = offset;
            for piece in &pieces {
                write_all_at(&file, piece, at)?;
                at += piece.len() as u64;
            }
            Ok(())
        })))
    }

    /// Waits for the write; its error names `path`.
    async fn finish(self, path: &Path) -> Result<()> {
        self.0
            .await
            .map_err(|e| Error::io(path, std::io::Error::other(e)))?
            .map_err(|e| Error::io(path, e))
    }
}

/// `pwrite` until all of `buf` is written.
#[cfg(unix)]
fn write_all_at(file: &std::fs::File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}

/// `WriteFile` at an offset until all of `buf` is written.
#[cfg(windows)]
fn write_all_at(file: &std::fs::File, mut buf: &[u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_write(file, buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                buf = &buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `dir/.name.sos-partial-RANDOM`, next to the destination (same file system, so the
/// final rename is atomic).
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "download".into(), |n| n.to_string_lossy().into_owned());
    let temp = format!(".{name}.sos-partial-{:08x}", fastrand::u32(..));
    path.with_file_name(temp)
}

impl Client {
    /// Uploads a file, a reader or bytes of any size, in parallel parts when large.
    pub fn upload<'a>(&'a self, bucket: &'a str, key: &'a str) -> Upload<'a> {
        Upload {
            client: self,
            bucket,
            key,
            metadata: Metadata::default(),
            acl: None,
            tags: Tags::new(),
            checksum: Checksum::Auto,
            tuning: Tuning::default(),
        }
    }

    /// Downloads an object to a file or a writer, in parallel parts when large.
    pub fn download<'a>(&'a self, bucket: &'a str, key: &'a str) -> Download<'a> {
        Download {
            client: self,
            bucket,
            key,
            tuning: Tuning::default(),
        }
    }
}
