//! Writing: `create` and `write`, and the writer that streams a file as a multipart
//! upload.
//!
//! Bytes are buffered up to the part size; each full part is uploaded at once (the
//! multipart upload starts with the first full part), so at most one part is held in
//! memory. On close (or `fsync`) the last part is uploaded and the upload completed; a
//! file smaller than one part is sent in one PUT. Writes must be sequential: a write
//! anywhere but at the end aborts the upload (`EINVAL`), as any failure does, so nothing
//! half-written is left in the bucket; the handle then answers every write, `flush` and
//! `fsync` with the errno of that failure, as Mountpoint. A writer dropped without being
//! released (a dropped `Vfs`) aborts its upload in a background task.
//!
//! Cancel safety: before each request that consumes buffered bytes (a part, the last
//! part, the PUT, the completion) the writer is marked [`WriteState::Interrupted`], and
//! its state is restored only when the request answered. A call dropped while it waits
//! (its future dropped: a timeout, a `select!`) thus leaves a failed writer, never one
//! that goes on with bytes missing: the handle guard (`HandleGuard` in `handle.rs`)
//! settles the file's state and aborts the multipart upload, and the handle answers
//! `EIO` ([`Error::Cancelled`]) from then on. Nothing is committed but whole files.
use std::sync::Arc;

use bytes::BytesMut;

use crate::storage::{Storage, UploadedPart};
use crate::{Error, Result};

/// S3's most parts in one upload.
pub(crate) const MAX_PARTS: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteState {
    Open,
    Committed,
    /// Aborted, with the errno of the failure.
    Failed(i32),
    /// A request that consumes buffered bytes is in flight. Seen by anyone but the call
    /// that made it, it means that call was dropped (cancelled) while it waited: the
    /// writer has failed (`EIO`).
    Interrupted,
}

/// A file being written.
pub(crate) struct Writer<S: Storage + 'static> {
    storage: Arc<S>,
    pub(crate) ino: u64,
    pub(crate) path: String,
    key: String,
    part_size: u64,
    written: u64,
    buffer: BytesMut,
    upload: Option<String>,
    parts: Vec<UploadedPart>,
    state: WriteState,
    /// Closed (`flush`) by one of its descriptors; a later write must reactivate it.
    pub(crate) flushed: bool,
    /// A newer `open` of the file took it over (and completed it).
    pub(crate) taken_over: bool,
    /// The file's state was updated after the writer finished (see `Vfs::finish_write`).
    pub(crate) settled: bool,
}

impl<S: Storage + 'static> Writer<S> {
    pub(crate) fn new(
        storage: Arc<S>,
        ino: u64,
        path: String,
        key: String,
        part_size: u64,
    ) -> Self {
        Self {
            storage,
            ino,
            path,
            key,
            part_size,
            written: 0,
            buffer: BytesMut::new(),
            upload: None,
            parts: Vec::new(),
            state: WriteState::Open,
            flushed: false,
            taken_over: false,
            settled: false,
        }
    }

    /// Neither completed nor failed.
    pub(crate) fn is_open(&self) -> bool {
        self.state == WriteState::Open
    }

    /// Whether the upload is done with, successfully or not.
    pub(crate) fn finished(&self) -> bool {
        self.state != WriteState::Open
    }

    /// Whether the object was made (by `flush`, `fsync` or `release`).
    pub(crate) fn committed(&self) -> bool {
        self.state == WriteState::Committed
    }

    /// Whether an earlier call was dropped while its request was in flight.
    pub(crate) fn interrupted(&self) -> bool {
        self.state == WriteState::Interrupted
    }

    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// The error a failed writer answers with.
    pub(crate) fn aborted(&self) -> Option<Error> {
        match self.state {
            WriteState::Failed(errno) => Some(Error::UploadAborted {
                path: self.path.clone(),
                errno,
            }),
            WriteState::Interrupted => Some(Error::Cancelled {
                path: self.path.clone(),
            }),
            WriteState::Open | WriteState::Committed => None,
        }
    }

    pub(crate) async fn write(&mut self, offset: u64, data: &[u8]) -> Result<u32> {
        if let Some(e) = self.aborted() {
            return Err(e);
        }
        if self.state == WriteState::Committed {
            return Err(Error::UploadCompleted {
                path: self.path.clone(),
            });
        }
        if offset != self.written {
            let e = Error::OutOfOrderWrite {
                path: self.path.clone(),
                expected: self.written,
                offset,
            };
            self.fail(e.errno()).await;
            return Err(e);
        }
        let limit = self.part_size.saturating_mul(MAX_PARTS);
        let len = data.len() as u64;
        if self.written.saturating_add(len) > limit {
            let e = Error::FileTooLarge {
                path: self.path.clone(),
                limit,
            };
            self.fail(e.errno()).await;
            return Err(e);
        }
        self.buffer.extend_from_slice(data);
        self.written += len;
        if self.buffer.len() as u64 >= self.part_size {
            // The parts leave the buffer: until they are uploaded, the writer is not open.
            self.state = WriteState::Interrupted;
            while self.buffer.len() as u64 >= self.part_size {
                let part = self.buffer.split_to(self.part_size as usize).freeze();
                if let Err(e) = self.upload_part(part).await {
                    self.fail(e.errno()).await;
                    return Err(e);
                }
            }
            self.state = WriteState::Open;
        }
        // At most u32::MAX bytes come in one FUSE write.
        Ok(u32::try_from(data.len()).unwrap_or(u32::MAX))
    }

    async fn upload_part(&mut self, data: bytes::Bytes) -> Result<()> {
        let id = match &self.upload {
            Some(id) => id.clone(),
            None => {
                let id = self.storage.create_multipart_upload(&self.key).await?;
                self.upload = Some(id.clone());
                id
            }
        };
        let number = u32::try_from(self.parts.len() + 1).unwrap_or(u32::MAX);
        let part = self
            .storage
            .upload_part(&self.key, &id, number, data)
            .await?;
        self.parts.push(part);
        Ok(())
    }

    /// Uploads what is left and makes the object. Idempotent once committed; after a
    /// failure, answers that failure's errno again (the upload was aborted).
    pub(crate) async fn commit(&mut self) -> Result<()> {
        if let Some(e) = self.aborted() {
            return Err(e);
        }
        if self.state == WriteState::Committed {
            return Ok(());
        }
        // The rest of the buffer leaves it: until the object is made, the writer is not
        // open (a dropped call must not let a later one commit without those bytes).
        self.state = WriteState::Interrupted;
        let result = match self.upload.clone() {
            None => {
                let data = self.buffer.split().freeze();
                self.storage.put(&self.key, data).await
            }
            Some(id) => {
                let mut result = Ok(());
                if !self.buffer.is_empty() {
                    let last = self.buffer.split().freeze();
                    result = self.upload_part(last).await;
                }
                if result.is_ok() {
                    result = self
                        .storage
                        .complete_multipart_upload(&self.key, &id, &self.parts)
                        .await;
                }
                result
            }
        };
        match result {
            Ok(()) => {
                self.upload = None;
                self.state = WriteState::Committed;
                Ok(())
            }
            Err(e) => {
                self.fail(e.errno()).await;
                Err(e)
            }
        }
    }

    /// Fails an open writer without a request (its handle was released while a call held
    /// it: nothing it holds may be committed any more). The caller aborts the upload
    /// ([`abort_in_background`](Self::abort_in_background)).
    pub(crate) fn fail_released(&mut self) {
        if self.state == WriteState::Open {
            self.state = WriteState::Failed(libc::EBADF);
        }
    }

    /// The writer has failed with `errno` (unless it completed): drops the buffer and
    /// aborts the upload, if one was started.
    pub(crate) async fn fail(&mut self, errno: i32) {
        if self.state != WriteState::Committed {
            self.state = WriteState::Failed(errno);
        }
        self.buffer = BytesMut::new();
        // Taken only once aborted: a call dropped during the abort leaves it to
        // `abort_in_background`.
        if let Some(id) = self.upload.clone() {
            if let Err(e) = self.storage.abort_multipart_upload(&self.key, &id).await {
                tracing::warn!(key = %self.key, upload_id = %id, error = %e, "aborting an upload failed");
            }
            self.upload = None;
        }
    }

    /// Aborts the upload, if one is left, in a background task (for a writer whose call
    /// was dropped, and for `Drop`).
    pub(crate) fn abort_in_background(&mut self) {
        self.buffer = BytesMut::new();
        let Some(id) = self.upload.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(key = %self.key, upload_id = %id,
                "a writer was dropped outside a tokio runtime: its upload is left to the \
                 bucket's lifecycle rules");
            return;
        };
        let storage = Arc::clone(&self.storage);
        let key = self.key.clone();
        runtime.spawn(async move {
            if let Err(e) = storage.abort_multipart_upload(&key, &id).await {
                tracing::warn!(key = %key, upload_id = %id, error = %e, "aborting an upload failed");
            }
        });
    }
}

impl<S: Storage + 'static> Drop for Writer<S> {
    fn drop(&mut self) {
        self.abort_in_background();
    }
}
