//! `MemoryStorage`: S3's object semantics in memory, with no network. The test double of
//! the file system and the reference model its property tests compare servers with.

use std::collections::{BTreeMap, HashMap};
use std::ops::{Bound, Range};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};

use crate::storage::{ListPage, ListRequest, ListedObject, ObjectMeta, Storage, UploadedPart};
use crate::{Error, Result};

/// S3's smallest part (all but the last): 5 MiB.
pub const S3_MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// An S3 bucket in memory: keys in order, listings with delimiters and continuation
/// tokens, ranged GETs with `If-Match`, multipart uploads that only appear when completed.
///
/// Cheap to clone (clones share the bucket). Like S3, it refuses to complete a multipart
/// upload whose parts (but the last) are smaller than 5 MiB; tests that want small parts
/// lower that with [`with_min_part_size`](Self::with_min_part_size).
///
/// ```
/// use sos_vfs::{MemoryStorage, Storage};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sos_vfs::Result<()> {
/// let storage = MemoryStorage::new().with_min_part_size(0);
/// let id = storage.create_multipart_upload("big").await?;
/// let one = storage.upload_part("big", &id, 1, "hello ".into()).await?;
/// let two = storage.upload_part("big", &id, 2, "world".into()).await?;
/// assert_eq!(storage.pending_uploads(), ["big"]);
/// assert!(storage.object("big").is_none()); // not visible until completed
/// storage.complete_multipart_upload("big", &id, &[one, two]).await?;
/// assert_eq!(storage.object("big").unwrap(), "hello world");
/// assert!(storage.pending_uploads().is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    objects: BTreeMap<String, Stored>,
    uploads: HashMap<String, Upload>,
    counter: u64,
    min_part_size: u64,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            objects: BTreeMap::new(),
            uploads: HashMap::new(),
            counter: 0,
            min_part_size: S3_MIN_PART_SIZE,
        }
    }
}

#[derive(Debug, Clone)]
struct Stored {
    data: Bytes,
    etag: String,
    last_modified: SystemTime,
}

#[derive(Debug)]
struct Upload {
    key: String,
    parts: BTreeMap<u32, (String, Bytes)>,
}

impl MemoryStorage {
    /// An empty bucket.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the smallest size of all parts but the last, checked on completion (default
    /// 5 MiB, as S3).
    #[must_use]
    pub fn with_min_part_size(self, bytes: u64) -> Self {
        self.lock().min_part_size = bytes;
        self
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every key, in order.
    pub fn keys(&self) -> Vec<String> {
        self.lock().objects.keys().cloned().collect()
    }

    /// The bytes of an object.
    pub fn object(&self, key: &str) -> Option<Bytes> {
        self.lock().objects.get(key).map(|o| o.data.clone())
    }

    /// The keys of the multipart uploads started and neither completed nor aborted.
    pub fn pending_uploads(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .lock()
            .uploads
            .values()
            .map(|u| u.key.clone())
            .collect();
        keys.sort();
        keys
    }
}

impl Inner {
    fn next_etag(&mut self) -> String {
        self.counter += 1;
        format!("mem-{}", self.counter)
    }

    fn store(&mut self, key: &str, data: Bytes, etag: String) {
        let stored = Stored {
            data,
            etag,
            last_modified: SystemTime::now(),
        };
        self.objects.insert(key.to_owned(), stored);
    }
}

fn meta(stored: &Stored) -> ObjectMeta {
    ObjectMeta::new(stored.data.len() as u64)
        .with_etag(stored.etag.clone())
        .with_last_modified(stored.last_modified)
}

fn list(inner: &Inner, request: &ListRequest) -> ListPage {
    let prefix = request.prefix.as_str();
    let delimiter = request.delimiter.as_deref().filter(|d| !d.is_empty());
    let max = request.max_keys.max(1) as usize;
    // The token is the last key or common prefix of the previous page.
    let start = match &request.continuation {
        Some(token) if token.as_str() >= prefix => Bound::Excluded(token.clone()),
        _ => Bound::Included(prefix.to_owned()),
    };
    // Keys under a common prefix already returned are skipped.
    let mut rolled_up: Option<String> = request.continuation.clone().filter(|token| {
        delimiter.is_some_and(|d| {
            token
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.contains(d))
        })
    });
    let mut page = ListPage::default();
    let mut count = 0;
    let mut last = None;
    for (key, stored) in inner.objects.range::<String, _>((start, Bound::Unbounded)) {
        let Some(rest) = key.strip_prefix(prefix) else {
            break;
        };
        if rolled_up
            .as_ref()
            .is_some_and(|cp| key.starts_with(cp.as_str()))
        {
            continue;
        }
        if count == max {
            page.next = last;
            return page;
        }
        count += 1;
        match delimiter.and_then(|d| rest.find(d).map(|i| i + d.len())) {
            Some(end) => {
                let common = format!("{prefix}{}", &rest[..end]);
                page.common_prefixes.push(common.clone());
                last = Some(common.clone());
                rolled_up = Some(common);
            }
            None => {
                page.objects
                    .push(ListedObject::new(key.clone(), meta(stored)));
                last = Some(key.clone());
            }
        }
    }
    page
}

impl Storage for MemoryStorage {
    async fn list(&self, request: &ListRequest) -> Result<ListPage> {
        Ok(list(&self.lock(), request))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        Ok(self.lock().objects.get(key).map(meta))
    }

    async fn get(&self, key: &str, range: Range<u64>, if_match: Option<&str>) -> Result<Bytes> {
        let inner = self.lock();
        let stored = inner
            .objects
            .get(key)
            .ok_or_else(|| Error::not_found(key))?;
        if if_match.is_some_and(|etag| etag != stored.etag) {
            return Err(Error::ObjectChanged {
                path: key.to_owned(),
            });
        }
        let size = stored.data.len() as u64;
        if range.start >= range.end || range.start >= size {
            return Err(Error::storage(
                "GetObject",
                key,
                format!(
                    "InvalidRange: bytes {}..{} of an object of {size}",
                    range.start, range.end
                ),
            ));
        }
        let (start, end) = (range.start as usize, range.end.min(size) as usize);
        Ok(stored.data.slice(start..end))
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        let mut inner = self.lock();
        let etag = inner.next_etag();
        inner.store(key, data, etag);
        Ok(())
    }

    async fn create_multipart_upload(&self, key: &str) -> Result<String> {
        let mut inner = self.lock();
        inner.counter += 1;
        let id = format!("upload-{}", inner.counter);
        let upload = Upload {
            key: key.to_owned(),
            parts: BTreeMap::new(),
        };
        inner.uploads.insert(id.clone(), upload);
        Ok(id)
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
    ) -> Result<UploadedPart> {
        if !(1..=10_000).contains(&part_number) {
            return Err(Error::storage(
                "UploadPart",
                key,
                format!("InvalidArgument: part number {part_number}"),
            ));
        }
        let mut inner = self.lock();
        let etag = inner.next_etag();
        let upload = inner
            .uploads
            .get_mut(upload_id)
            .filter(|u| u.key == key)
            .ok_or_else(|| Error::storage("UploadPart", key, "NoSuchUpload"))?;
        upload.parts.insert(part_number, (etag.clone(), data));
        Ok(UploadedPart::new(part_number, etag))
    }

    async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> Result<()> {
        let mut inner = self.lock();
        let min = inner.min_part_size;
        let upload = inner
            .uploads
            .get(upload_id)
            .filter(|u| u.key == key)
            .ok_or_else(|| Error::storage("CompleteMultipartUpload", key, "NoSuchUpload"))?;
        let fail = |why: String| Err(Error::storage("CompleteMultipartUpload", key, why));
        if parts.is_empty() {
            return fail("MalformedXML: no parts".to_owned());
        }
        let mut data = BytesMut::new();
        let mut previous = 0;
        for (i, part) in parts.iter().enumerate() {
            if part.part_number <= previous {
                return fail("InvalidPartOrder".to_owned());
            }
            previous = part.part_number;
            let Some((etag, bytes)) = upload.parts.get(&part.part_number) else {
                return fail(format!(
                    "InvalidPart: part {} was not uploaded",
                    part.part_number
                ));
            };
            if *etag != part.etag {
                return fail(format!("InvalidPart: ETag of part {}", part.part_number));
            }
            if i + 1 < parts.len() && (bytes.len() as u64) < min {
                return fail(format!(
                    "EntityTooSmall: part {} is {} bytes, the minimum is {min}",
                    part.part_number,
                    bytes.len()
                ));
            }
            data.extend_from_slice(bytes);
        }
        let etag = format!("{}-{}", inner.next_etag(), parts.len());
        inner.uploads.remove(upload_id);
        inner.store(key, data.freeze(), etag);
        Ok(())
    }

    async fn abort_multipart_upload(&self, _key: &str, upload_id: &str) -> Result<()> {
        self.lock().uploads.remove(upload_id);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.lock().objects.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(keys: &[&str]) -> MemoryStorage {
        let storage = MemoryStorage::new();
        for key in keys {
            storage
                .lock()
                .store(key, Bytes::from_static(b"x"), "e".to_owned());
        }
        storage
    }

    fn page(storage: &MemoryStorage, request: &ListRequest) -> ListPage {
        list(&storage.lock(), request)
    }

    #[test]
    fn lists_with_a_delimiter_across_pages() {
        let s = storage(&["a", "a/b", "a/c", "a-b", "b/x/y", "c"]);
        let mut request = ListRequest::new("").with_delimiter("/").with_max_keys(2);
        let mut seen = Vec::new();
        for _ in 0..10 {
            let p = page(&s, &request);
            assert!(p.objects.len() + p.common_prefixes.len() <= 2);
            seen.extend(p.objects.iter().map(|o| o.key.clone()));
            seen.extend(p.common_prefixes.iter().cloned());
            match p.next {
                Some(token) => request = request.with_continuation(Some(token)),
                None => break,
            }
        }
        seen.sort();
        assert_eq!(seen, ["a", "a-b", "a/", "b/", "c"]);
    }

    #[test]
    fn lists_under_a_prefix() {
        let s = storage(&["p/", "p/a", "p//x", "p/d/e", "q"]);
        let p = page(&s, &ListRequest::new("p/").with_delimiter("/"));
        let keys: Vec<_> = p.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["p/", "p/a"]);
        assert_eq!(p.common_prefixes, ["p//", "p/d/"]);
        assert_eq!(p.next, None);
        let p = page(&s, &ListRequest::new("p/").with_max_keys(1));
        assert_eq!(p.objects.len(), 1);
        assert_eq!(p.next.as_deref(), Some("p/"));
    }

    #[tokio::test]
    async fn small_parts_are_refused_like_s3() {
        let s = MemoryStorage::new();
        let id = s.create_multipart_upload("k").await.unwrap();
        let a = s.upload_part("k", &id, 1, "a".into()).await.unwrap();
        let b = s.upload_part("k", &id, 2, "b".into()).await.unwrap();
        let e = s.complete_multipart_upload("k", &id, &[a, b]).await;
        assert!(e.unwrap_err().to_string().contains("EntityTooSmall"));
        s.abort_multipart_upload("k", &id).await.unwrap();
        assert!(s.pending_uploads().is_empty());
    }

    #[tokio::test]
    async fn ranged_gets_and_if_match() {
        let s = MemoryStorage::new();
        s.put("k", "hello".into()).await.unwrap();
        let etag = s.head("k").await.unwrap().unwrap().etag.unwrap();
        assert_eq!(s.get("k", 1..100, Some(&etag)).await.unwrap(), "ello");
        s.put("k", "other".into()).await.unwrap();
        let e = s.get("k", 0..1, Some(&etag)).await.unwrap_err();
        assert!(matches!(e, Error::ObjectChanged { .. }));
        assert!(s.get("k", 5..6, None).await.is_err());
        assert!(s.get("nope", 0..1, None).await.unwrap_err().is_not_found());
    }
}
