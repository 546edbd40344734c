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
//! released (a cancelled task, a dropped `Vfs`) aborts its upload in a background task.

use std::sync::Arc;

use bytes::BytesMut;

use crate::storage::{Storage, UploadedPart};
use crate::{Error, Result};

/// S3's most parts in one upload.
pub(crate) const MAX_PARTS: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteState {
    Open,
    Committed,
    /// Aborted, with the errno of the failure.
    Failed(i32),
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

    /// Whether the object was made (by `fsync` or `release`).
    pub(crate) fn committed(&self) -> bool {
        self.state == WriteState::Committed
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
            _ => None,
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
            self.abort(e.errno()).await;
            return Err(e);
        }
        let limit = self.part_size.saturating_mul(MAX_PARTS);
        let len = data.len() as u64;
        if self.written.saturating_add(len) > limit {
            let e = Error::FileTooLarge {
                path: self.path.clone(),
                limit,
            };
            self.abort(e.errno()).await;
            return Err(e);
        }
        self.buffer.extend_from_slice(data);
        self.written += len;
        while self.buffer.len() as u64 >= self.part_size {
            let part = self.buffer.split_to(self.part_size as usize).freeze();
            if let Err(e) = self.upload_part(part).await {
                self.abort(e.errno()).await;
                return Err(e);
            }
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
                self.abort(e.errno()).await;
                Err(e)
            }
        }
    }

    /// Aborts the upload, if one was started; the writer has failed with `errno`.
    pub(crate) async fn abort(&mut self, errno: i32) {
        if self.finished() {
            return;
        }
        self.state = WriteState::Failed(errno);
        self.buffer = BytesMut::new();
        if let Some(id) = self.upload.take()
            && let Err(e) = self.storage.abort_multipart_upload(&self.key, &id).await
        {
            tracing::warn!(key = %self.key, upload_id = %id, error = %e, "aborting an upload failed");
        }
    }
}

impl<S: Storage + 'static> Drop for Writer<S> {
    fn drop(&mut self) {
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
        let key = std::mem::take(&mut self.key);
        runtime.spawn(async move {
            if let Err(e) = storage.abort_multipart_upload(&key, &id).await {
                tracing::warn!(key = %key, upload_id = %id, error = %e, "aborting an upload failed");
            }
        });
    }
}
