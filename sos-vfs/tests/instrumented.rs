//! A storage wrapper that records requests, fails and stalls on demand.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use sos_vfs::{Error, ListPage, ListRequest, MemoryStorage, ObjectMeta, Storage, UploadedPart};

#[derive(Default)]
pub(crate) struct Record {
    pub(crate) gets: Mutex<Vec<Range<u64>>>,
    pub(crate) heads: AtomicUsize,
    pub(crate) lists: AtomicUsize,
    pub(crate) fail_put: AtomicBool,
    pub(crate) fail_part: AtomicBool,
    pub(crate) fail_complete: AtomicBool,
    /// `get_into` hands bodies over in pieces of this size (0: one piece).
    pub(crate) piece_size: AtomicUsize,
    /// `get_into` stops this many bytes short of the range, as a body cut short would.
    pub(crate) short_by: AtomicUsize,
    /// `get_into` fails after handing over half of the range.
    pub(crate) fail_get_midway: AtomicBool,
    /// `get_into` yields to the runtime after each piece: bodies arrive a piece at a time,
    /// so readers see ranges partly received.
    pub(crate) trickle: AtomicBool,
    /// Requests that wait before they reach the storage, until [`Instrumented::resume`]:
    /// (operation, key prefix).
    stalled: Mutex<Vec<(&'static str, String)>>,
    /// Requests waiting now.
    pub(crate) waiting: AtomicUsize,
    resumed: tokio::sync::Notify,
}

/// [`MemoryStorage`] with a [`Record`].
#[derive(Clone, Default)]
pub(crate) struct Instrumented {
    pub(crate) inner: MemoryStorage,
    pub(crate) record: Arc<Record>,
}

impl Instrumented {
    pub(crate) fn new(inner: MemoryStorage) -> Self {
        Self {
            inner,
            record: Arc::default(),
        }
    }

    /// The GETs so far, cleared.
    pub(crate) fn take_gets(&self) -> Vec<Range<u64>> {
        std::mem::take(&mut *self.record.gets.lock().unwrap())
    }

    /// Makes requests of `operation` (`PutObject`, `UploadPart`, `HeadObject`...) on keys
    /// starting with `prefix` wait until [`resume`](Self::resume).
    pub(crate) fn stall(&self, operation: &'static str, prefix: &str) {
        self.record
            .stalled
            .lock()
            .unwrap()
            .push((operation, prefix.to_owned()));
    }

    /// Lets every stalled request go on.
    pub(crate) fn resume(&self) {
        self.record.stalled.lock().unwrap().clear();
        self.record.resumed.notify_waiters();
    }

    /// Waits until some request is stalled.
    pub(crate) async fn until_stalled(&self) {
        while self.record.waiting.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
    }

    /// Waits while requests of `operation` on `key` are stalled.
    async fn gate(&self, operation: &'static str, key: &str) {
        let r = &self.record;
        loop {
            let resumed = r.resumed.notified();
            tokio::pin!(resumed);
            resumed.as_mut().enable();
            let stalled = r
                .stalled
                .lock()
                .unwrap()
                .iter()
                .any(|(op, prefix)| *op == operation && key.starts_with(prefix.as_str()));
            if !stalled {
                return;
            }
            r.waiting.fetch_add(1, Ordering::SeqCst);
            // Counted down however the wait ends (a dropped request included).
            let _waited = Waited(&r.waiting);
            resumed.await;
        }
    }

    pub(crate) fn requests(&self) -> (usize, usize) {
        (
            self.record.heads.load(Ordering::SeqCst),
            self.record.lists.load(Ordering::SeqCst),
        )
    }
}

struct Waited<'a>(&'a AtomicUsize);

impl Drop for Waited<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn injected(operation: &'static str, key: &str) -> Error {
    Error::storage(operation, key, "injected failure")
}

impl Storage for Instrumented {
    async fn list(&self, request: &ListRequest) -> sos_vfs::Result<ListPage> {
        self.record.lists.fetch_add(1, Ordering::SeqCst);
        self.gate("ListObjectsV2", &request.prefix).await;
        self.inner.list(request).await
    }

    async fn head(&self, key: &str) -> sos_vfs::Result<Option<ObjectMeta>> {
        self.record.heads.fetch_add(1, Ordering::SeqCst);
        self.gate("HeadObject", key).await;
        self.inner.head(key).await
    }

    async fn get(
        &self,
        key: &str,
        range: Range<u64>,
        if_match: Option<&str>,
    ) -> sos_vfs::Result<Bytes> {
        self.record.gets.lock().unwrap().push(range.clone());
        self.inner.get(key, range, if_match).await
    }

    async fn get_into<F>(
        &self,
        key: &str,
        range: Range<u64>,
        if_match: Option<&str>,
        mut sink: F,
    ) -> sos_vfs::Result<()>
    where
        F: FnMut(Bytes) + Send,
    {
        let data = self.get(key, range, if_match).await?;
        let r = &self.record;
        let keep = data.len() - r.short_by.load(Ordering::SeqCst).min(data.len());
        let data = data.slice(..keep);
        let piece = match r.piece_size.load(Ordering::SeqCst) {
            0 => data.len().max(1),
            n => n,
        };
        let fail_at = if r.fail_get_midway.load(Ordering::SeqCst) {
            data.len() / 2
        } else {
            usize::MAX
        };
        let mut at = 0;
        while at < data.len() {
            if at >= fail_at {
                return Err(injected("GetObject", key));
            }
            let next = (at + piece).min(data.len());
            sink(data.slice(at..next));
            at = next;
            if r.trickle.load(Ordering::SeqCst) {
                tokio::task::yield_now().await;
            }
        }
        Ok(())
    }

    async fn put(&self, key: &str, data: Bytes) -> sos_vfs::Result<()> {
        self.gate("PutObject", key).await;
        if self.record.fail_put.load(Ordering::SeqCst) {
            return Err(injected("PutObject", key));
        }
        self.inner.put(key, data).await
    }

    async fn create_multipart_upload(&self, key: &str) -> sos_vfs::Result<String> {
        self.gate("CreateMultipartUpload", key).await;
        self.inner.create_multipart_upload(key).await
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
    ) -> sos_vfs::Result<UploadedPart> {
        self.gate("UploadPart", key).await;
        if self.record.fail_part.load(Ordering::SeqCst) {
            return Err(injected("UploadPart", key));
        }
        self.inner
            .upload_part(key, upload_id, part_number, data)
            .await
    }

    async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> sos_vfs::Result<()> {
        self.gate("CompleteMultipartUpload", key).await;
        if self.record.fail_complete.load(Ordering::SeqCst) {
            return Err(injected("CompleteMultipartUpload", key));
        }
        self.inner
            .complete_multipart_upload(key, upload_id, parts)
            .await
    }

    async fn abort_multipart_upload(&self, key: &str, upload_id: &str) -> sos_vfs::Result<()> {
        self.inner.abort_multipart_upload(key, upload_id).await
    }

    async fn delete(&self, key: &str) -> sos_vfs::Result<()> {
        self.gate("DeleteObject", key).await;
        self.inner.delete(key).await
    }
}
