//! Writing: `create` and `write`, and the writer that streams a file as a multipart
//! upload.
//!
//! Bytes are buffered up to the part size; each full part is uploaded at once (the
//! multipart upload starts with the first full part), so at most one part is held in
//! memory. On release the last part is uploaded and the upload completed; a file smaller
//! than one part is sent in one PUT. Writes must be sequential: a write anywhere but at
//! the end aborts the upload (`EINVAL`), as any failure does, so nothing half-written is
//! left in the bucket. A writer dropped without being released (a cancelled task, a
//! dropped `Vfs`) aborts its upload in a background task.

use std::sync::Arc;

use bytes::BytesMut;

use crate::attr::{FileAttr, FileKind};
use crate::storage::{Storage, UploadedPart};
use crate::vfs::{Handle, Vfs};
use crate::{Error, Result};

/// S3's most parts in one upload.
const MAX_PARTS: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteState {
    Open,
    Committed,
    Failed,
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
        }
    }

    pub(crate) fn failed(&self) -> bool {
        self.state == WriteState::Failed
    }

    /// Whether the object was made (by `fsync` or `release`).
    pub(crate) fn committed(&self) -> bool {
        self.state == WriteState::Committed
    }

    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    pub(crate) async fn write(&mut self, offset: u64, data: &[u8]) -> Result<u32> {
        match self.state {
            WriteState::Open => {}
            WriteState::Failed => {
                return Err(Error::UploadAborted {
                    path: self.path.clone(),
                });
            }
            WriteState::Committed => {
                return Err(Error::NotPermitted {
                    operation: "write",
                    path: self.path.clone(),
                    reason: "the file was completed by fsync and cannot be written any more",
                });
            }
        }
        if offset != self.written {
            self.abort().await;
            return Err(Error::OutOfOrderWrite {
                path: self.path.clone(),
                expected: self.written,
                offset,
            });
        }
        let limit = self.part_size.saturating_mul(MAX_PARTS);
        let len = data.len() as u64;
        if self.written.saturating_add(len) > limit {
            self.abort().await;
            return Err(Error::FileTooLarge {
                path: self.path.clone(),
                limit,
            });
        }
        self.buffer.extend_from_slice(data);
        self.written += len;
        while self.buffer.len() as u64 >= self.part_size {
            let part = self.buffer.split_to(self.part_size as usize).freeze();
            if let Err(e) = self.upload_part(part).await {
                self.abort().await;
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
    /// failure, does nothing (the upload was aborted).
    pub(crate) async fn commit(&mut self) -> Result<()> {
        if self.state != WriteState::Open {
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
                self.abort().await;
                Err(e)
            }
        }
    }

    /// Aborts the upload, if one was started; the writer has failed.
    pub(crate) async fn abort(&mut self) {
        if self.state == WriteState::Committed {
            return;
        }
        self.state = WriteState::Failed;
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

impl<S: Storage + 'static> Vfs<S> {
    /// Creates a new file in `parent` and opens it for writing (FUSE `create`). Returns
    /// its attributes and the file handle.
    ///
    /// The file is not visible (to `lookup`, `readdir` or other clients) until it is
    /// released: its object is uploaded then.
    ///
    /// # Errors
    /// `EEXIST` (to replace a file, open it with `O_TRUNC`), `EBUSY` while another handle
    /// writes the same path, `EINVAL` for an invalid name, `ENAMETOOLONG`, `ENOENT` or
    /// `ENOTDIR` for the parent, storage errors.
    pub async fn create(&self, parent: u64, name: &str) -> Result<(FileAttr, u64)> {
        let path = self
            .new_entry_path(parent, name, |path| Error::Busy { path })
            .await?;
        let ino = self.state().inodes.ino(&path, FileKind::File);
        let fh = self.start_writer(ino, path)?;
        Ok((self.file_attr(ino, 0, std::time::SystemTime::now()), fh))
    }

    /// Writes `data` at `offset` (FUSE `write`). Writes must be sequential: `offset` is
    /// where the previous write ended. Returns the bytes written (all of them).
    ///
    /// # Errors
    /// `EINVAL` for an out-of-order write (the upload is aborted and the file will not be
    /// created), `EFBIG` beyond 10 000 parts, `EBADF` for a handle not open for writing,
    /// `EIO` after an earlier failure, storage errors (the upload is aborted).
    pub async fn write(&self, ino: u64, fh: u64, offset: u64, data: &[u8]) -> Result<u32> {
        let handle = self.handle(fh, "writing")?;
        let mut handle = handle.lock().await;
        let Handle::Writer(writer) = &mut *handle else {
            return Err(Error::BadHandle {
                fh,
                operation: "writing",
            });
        };
        if writer.ino != ino {
            return Err(Error::BadHandle {
                fh,
                operation: "writing",
            });
        }
        let result = writer.write(offset, data).await;
        let written = writer.written();
        if let Some(w) = self
            .state()
            .writing
            .get_mut(&writer.path)
            .filter(|w| w.fh == fh)
        {
            w.size = written;
        }
        result
    }
}
