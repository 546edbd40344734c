//! `SosStorage`: the storage on an S3 bucket through [`sos_client`] (the `sos-client`
//! feature, on by default).

use std::ops::Range;

use bytes::Bytes;
use futures_util::StreamExt;
use sos_client::{Client, CompletedPart, ErrorCode, Metadata, MultipartUpload};

use crate::storage::{ListPage, ListRequest, ListedObject, ObjectMeta, Storage, UploadedPart};
use crate::{Error, Result};

/// A bucket of Exoscale SOS or any S3 server, through a [`sos_client::Client`].
///
/// ```no_run
/// use sos_client::{Client, Endpoint, Zone};
/// use sos_vfs::{SosStorage, Vfs, VfsOptions};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder().endpoint(Endpoint::zone(Zone::ChDk2)).build()?;
/// let vfs = Vfs::new(SosStorage::new(client, "mybucket"), VfsOptions::default())?;
/// for entry in vfs.readdir_all(sos_vfs::ROOT_INO).await? {
///     println!("{} {:?} {}", entry.name, entry.attr.kind, entry.attr.size);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SosStorage {
    client: Client,
    bucket: String,
}

impl SosStorage {
    /// The storage of `bucket`.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn upload(&self, key: &str, upload_id: &str) -> MultipartUpload {
        MultipartUpload {
            bucket: self.bucket.clone(),
            key: key.to_owned(),
            upload_id: upload_id.to_owned(),
        }
    }
}

/// Maps a client error: a missing key is `NotFound`, a long key the store refuses
/// `NameTooLong`, a changed ETag `ObjectChanged`,
/// `AccessDenied` its own variant (`EIO` too, as Mountpoint, with a message that says so),
/// the rest `EIO` with the client's error as source.
fn map(operation: &'static str, key: &str, e: sos_client::Error) -> Error {
    // A key longer than S3's limit that the store refuses (the RADOS Gateway: 400).
    if key.len() > sos_client::MAX_KEY_BYTES && e.status().is_some_and(|s| s.as_u16() == 400) {
        return Error::NameTooLong {
            path: key.to_owned(),
            len: key.len(),
        };
    }
    match e.code() {
        Some(ErrorCode::NoSuchKey) => Error::not_found(key),
        Some(ErrorCode::PreconditionFailed) => Error::ObjectChanged {
            path: key.to_owned(),
        },
        Some(ErrorCode::AccessDenied) => Error::AccessDenied {
            operation,
            key: key.to_owned(),
            source: Box::new(e),
        },
        _ => Error::storage(operation, key, e),
    }
}

impl SosStorage {
    /// The ranged, conditional GET behind [`Storage::get`] and [`Storage::get_into`].
    fn get_request<'a>(
        &'a self,
        key: &'a str,
        range: Range<u64>,
        if_match: Option<&str>,
    ) -> sos_client::GetObject<'a> {
        let get = self.client.get_object(&self.bucket, key).range(range);
        match if_match {
            Some(etag) => get.if_match(etag),
            None => get,
        }
    }
}

impl Storage for SosStorage {
    async fn list(&self, request: &ListRequest) -> Result<ListPage> {
        let mut list = self
            .client
            .list_objects(&self.bucket)
            .max_keys(request.max_keys.max(1));
        if !request.prefix.is_empty() {
            list = list.prefix(request.prefix.clone());
        }
        if let Some(d) = &request.delimiter {
            list = list.delimiter(d.clone());
        }
        let page = list
            .page(request.continuation.as_deref())
            .await
            .map_err(|e| map("ListObjectsV2", &request.prefix, e))?;
        let objects = page
            .objects
            .into_iter()
            .map(|o| {
                let mut meta = ObjectMeta::new(o.size);
                meta.etag = o.etag;
                meta.last_modified = o.last_modified;
                ListedObject::new(o.key, meta)
            })
            .collect();
        let out = ListPage {
            objects,
            common_prefixes: page.common_prefixes,
            next: page.next,
        };
        Ok(out)
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        match self.client.head_object(&self.bucket, key).await {
            Ok(info) => {
                let mut meta = ObjectMeta::new(info.content_length);
                meta.etag = info.etag;
                meta.last_modified = info.last_modified;
                Ok(Some(meta))
            }
            Err(e) if e.code() == Some(&ErrorCode::NoSuchKey) => Ok(None),
            Err(e) => Err(map("HeadObject", key, e)),
        }
    }

    async fn get(&self, key: &str, range: Range<u64>, if_match: Option<&str>) -> Result<Bytes> {
        self.get_request(key, range, if_match)
            .bytes()
            .await
            .map_err(|e| map("GetObject", key, e))
    }

    async fn get_into<F>(
        &self,
        key: &str,
        range: Range<u64>,
        if_match: Option<&str>,
        mut sink: F,
    ) -> Result<()>
    where
        F: FnMut(Bytes) + Send,
    {
        let mut body = self
            .get_request(key, range, if_match)
            .send()
            .await
            .map_err(|e| map("GetObject", key, e))?
            .body;
        while let Some(piece) = body.next().await {
            sink(piece.map_err(|e| map("GetObject", key, e))?);
        }
        Ok(())
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        self.client
            .put_object(&self.bucket, key)
            .body(data)
            .send()
            .await
            .map_err(|e| map("PutObject", key, e))?;
        Ok(())
    }

    async fn create_multipart_upload(&self, key: &str) -> Result<String> {
        let upload = self
            .client
            .create_multipart_upload(&self.bucket, key, &Metadata::default(), None)
            .await
            .map_err(|e| map("CreateMultipartUpload", key, e))?;
        Ok(upload.upload_id)
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
    ) -> Result<UploadedPart> {
        let part = self
            .client
            .upload_part(
                &self.upload(key, upload_id),
                part_number,
                data,
                sos_client::Checksum::default(),
            )
            .await
            .map_err(|e| map("UploadPart", key, e))?;
        Ok(UploadedPart::new(part.part_number, part.etag))
    }

    async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> Result<()> {
        let parts: Vec<CompletedPart> = parts
            .iter()
            .map(|p| CompletedPart {
                part_number: p.part_number,
                etag: p.etag.clone(),
            })
            .collect();
        self.client
            .complete_multipart_upload(&self.upload(key, upload_id), &parts)
            .await
            .map_err(|e| map("CompleteMultipartUpload", key, e))?;
        Ok(())
    }

    async fn abort_multipart_upload(&self, key: &str, upload_id: &str) -> Result<()> {
        self.client
            .abort_multipart_upload(&self.upload(key, upload_id))
            .await
            .map_err(|e| map("AbortMultipartUpload", key, e))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.client
            .delete_object(&self.bucket, key)
            .await
            .map_err(|e| map("DeleteObject", key, e))
    }
}
