//! The storage the file system runs on: a small async trait over the S3 object API.

use std::future::Future;
use std::ops::Range;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;

use crate::Result;

/// What the file system knows of an object: its size, ETag and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectMeta {
    /// Size in bytes.
    pub size: u64,
    /// The ETag (quotes removed), used to detect an object replaced while it is read.
    pub etag: Option<String>,
    /// `Last-Modified`: the file's modification time.
    pub last_modified: Option<SystemTime>,
}

impl ObjectMeta {
    /// An object of `size` bytes, no ETag, no time.
    pub fn new(size: u64) -> Self {
        Self {
            size,
            etag: None,
            last_modified: None,
        }
    }

    /// Sets the ETag.
    #[must_use]
    pub fn with_etag(mut self, etag: impl Into<String>) -> Self {
        self.etag = Some(etag.into());
        self
    }

    /// Sets the modification time.
    #[must_use]
    pub fn with_last_modified(mut self, time: SystemTime) -> Self {
        self.last_modified = Some(time);
        self
    }
}

/// An object in a [`ListPage`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListedObject {
    /// The whole key.
    pub key: String,
    /// Its metadata.
    pub meta: ObjectMeta,
}

impl ListedObject {
    /// An object in a listing.
    pub fn new(key: impl Into<String>, meta: ObjectMeta) -> Self {
        Self {
            key: key.into(),
            meta,
        }
    }
}

/// One `ListObjectsV2` request: keys under `prefix`, grouped by `delimiter`, one page.
///
/// ```
/// use sos_vfs::ListRequest;
/// let request = ListRequest::new("photos/").with_delimiter("/").with_max_keys(100);
/// assert_eq!(request.prefix, "photos/");
/// assert_eq!(request.continuation, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListRequest {
    /// Only keys starting with this.
    pub prefix: String,
    /// Keys with this after the prefix are rolled up into common prefixes.
    pub delimiter: Option<String>,
    /// Where to continue: the [`ListPage::next`] of the previous page.
    pub continuation: Option<String>,
    /// The most objects plus common prefixes in the page (at least 1).
    pub max_keys: u32,
}

impl ListRequest {
    /// The first page of keys under `prefix`, no delimiter, 1000 keys.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            delimiter: None,
            continuation: None,
            max_keys: 1000,
        }
    }

    /// Groups keys by `delimiter`.
    #[must_use]
    pub fn with_delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(delimiter.into());
        self
    }

    /// Continues a listing.
    #[must_use]
    pub fn with_continuation(mut self, token: Option<String>) -> Self {
        self.continuation = token;
        self
    }

    /// Keys per page.
    #[must_use]
    pub fn with_max_keys(mut self, max_keys: u32) -> Self {
        self.max_keys = max_keys.max(1);
        self
    }
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListPage {
    /// Objects, in key order.
    pub objects: Vec<ListedObject>,
    /// Common prefixes (each ends with the delimiter), in order.
    pub common_prefixes: Vec<String>,
    /// The continuation token of the next page, when there is one.
    pub next: Option<String>,
}

/// A part uploaded by [`Storage::upload_part`], as completion needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedPart {
    /// 1 ..= 10 000.
    pub part_number: u32,
    /// The part's ETag.
    pub etag: String,
}

impl UploadedPart {
    /// A part.
    pub fn new(part_number: u32, etag: impl Into<String>) -> Self {
        Self {
            part_number,
            etag: etag.into(),
        }
    }
}

/// The object API the file system needs: listing with a delimiter and pagination, HEAD,
/// ranged GET, PUT, multipart upload and DELETE, with S3's semantics.
///
/// Implemented by [`MemoryStorage`](crate::MemoryStorage) (in memory; the reference
/// model) and `SosStorage` (the `sos-client` feature, any S3 server). Every method
/// returns a `Send` future, so a [`Vfs`](crate::Vfs) runs on a multi-threaded runtime.
///
/// Errors: a missing key is [`Error::NotFound`](crate::Error::NotFound) (only `get` can
/// meet one: `head` answers `None`, `delete` succeeds), an ETag that no longer matches is
/// [`Error::ObjectChanged`](crate::Error::ObjectChanged), refused credentials
/// [`Error::AccessDenied`](crate::Error::AccessDenied), anything else
/// [`Error::Storage`](crate::Error::Storage).
///
/// ```
/// use sos_vfs::{ListRequest, MemoryStorage, Storage};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sos_vfs::Result<()> {
/// let storage = MemoryStorage::new();
/// storage.put("colors/blue/cat.jpg", "meow".into()).await?;
/// storage.put("colors/list.txt", "blue".into()).await?;
/// let page = storage.list(&ListRequest::new("colors/").with_delimiter("/")).await?;
/// assert_eq!(page.common_prefixes, ["colors/blue/"]);
/// assert_eq!(page.objects[0].key, "colors/list.txt");
/// assert_eq!(storage.get("colors/list.txt", 1..3, None).await?, "lu");
/// # Ok(()) }
/// ```
pub trait Storage: Send + Sync {
    /// One page of `ListObjectsV2`.
    fn list(&self, request: &ListRequest) -> impl Future<Output = Result<ListPage>> + Send;

    /// `HeadObject`: the metadata, or `None` when there is no such key.
    fn head(&self, key: &str) -> impl Future<Output = Result<Option<ObjectMeta>>> + Send;

    /// `GetObject` of the bytes in `range` (never empty; clamped to the object's end),
    /// only if the ETag is still `if_match` when one is given.
    fn get(
        &self,
        key: &str,
        range: Range<u64>,
        if_match: Option<&str>,
    ) -> impl Future<Output = Result<Bytes>> + Send;

    /// [`get`](Self::get), handing the bytes to `sink` in order as they arrive instead of
    /// collecting them: the prefetcher passes each piece on while the rest is still on the
    /// wire, and never holds a whole range in one buffer. The default calls `get` and hands
    /// over its one piece; a network storage overrides it. A storage may hand over pieces
    /// before it fails: the caller then discards them.
    fn get_into<F>(
        &self,
        key: &str,
        range: Range<u64>,
        if_match: Option<&str>,
        mut sink: F,
    ) -> impl Future<Output = Result<()>> + Send
    where
        F: FnMut(Bytes) + Send,
    {
        async move {
            sink(self.get(key, range, if_match).await?);
            Ok(())
        }
    }

    /// `PutObject`: stores `data` under `key`, replacing what was there.
    fn put(&self, key: &str, data: Bytes) -> impl Future<Output = Result<()>> + Send;

    /// `CreateMultipartUpload`: returns the upload id.
    fn create_multipart_upload(&self, key: &str) -> impl Future<Output = Result<String>> + Send;

    /// `UploadPart`.
    fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
    ) -> impl Future<Output = Result<UploadedPart>> + Send;

    /// `CompleteMultipartUpload`: the object appears, made of `parts` in order.
    fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> impl Future<Output = Result<()>> + Send;

    /// `AbortMultipartUpload`: the parts are deleted. Aborting an upload that is gone
    /// succeeds.
    fn abort_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// `DeleteObject` (deleting a missing key succeeds).
    fn delete(&self, key: &str) -> impl Future<Output = Result<()>> + Send;
}

macro_rules! forward_storage {
    ($($impl:tt)*) => {
        $($impl)* {
            fn list(&self, request: &ListRequest) -> impl Future<Output = Result<ListPage>> + Send {
                (**self).list(request)
            }
            fn head(&self, key: &str) -> impl Future<Output = Result<Option<ObjectMeta>>> + Send {
                (**self).head(key)
            }
            fn get(
                &self,
                key: &str,
                range: Range<u64>,
                if_match: Option<&str>,
            ) -> impl Future<Output = Result<Bytes>> + Send {
                (**self).get(key, range, if_match)
            }
            fn get_into<F>(
                &self,
                key: &str,
                range: Range<u64>,
                if_match: Option<&str>,
                sink: F,
            ) -> impl Future<Output = Result<()>> + Send
            where
                F: FnMut(Bytes) + Send,
            {
                (**self).get_into(key, range, if_match, sink)
            }
            fn put(&self, key: &str, data: Bytes) -> impl Future<Output = Result<()>> + Send {
                (**self).put(key, data)
            }
            fn create_multipart_upload(
                &self,
                key: &str,
            ) -> impl Future<Output = Result<String>> + Send {
                (**self).create_multipart_upload(key)
            }
            fn upload_part(
                &self,
                key: &str,
                upload_id: &str,
                part_number: u32,
                data: Bytes,
            ) -> impl Future<Output = Result<UploadedPart>> + Send {
                (**self).upload_part(key, upload_id, part_number, data)
            }
            fn complete_multipart_upload(
                &self,
                key: &str,
                upload_id: &str,
                parts: &[UploadedPart],
            ) -> impl Future<Output = Result<()>> + Send {
                (**self).complete_multipart_upload(key, upload_id, parts)
            }
            fn abort_multipart_upload(
                &self,
                key: &str,
                upload_id: &str,
            ) -> impl Future<Output = Result<()>> + Send {
                (**self).abort_multipart_upload(key, upload_id)
            }
            fn delete(&self, key: &str) -> impl Future<Output = Result<()>> + Send {
                (**self).delete(key)
            }
        }
    };
}

forward_storage!(impl<T: Storage> Storage for Arc<T>);
forward_storage!(impl<T: Storage> Storage for Box<T>);
forward_storage!(impl<T: Storage> Storage for &T);
