//! The peer clients (`--features peers`), each used the way its documentation shows, for the
//! same transfers as sos-client. Where a crate has no transfer manager (aws-sdk-s3 for both
//! directions; object_store and rust-s3 for downloads), the parts are driven here with the
//! same part size, concurrency and file writes as sos-client's, through `in_parts` and
//! `write_at`.

use std::path::Path;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::io::AsyncReadExt;

use crate::{Ctx, Res, S3Tool, create_sized, in_parts, write_at};

/// aws-sdk-s3, with `behavior-version-latest` (its default checksums included).
pub(crate) struct AwsSdkS3 {
    client: aws_sdk_s3::Client,
    bucket: String,
}

/// aws-sdk-s3's errors, with their causes (its `Display` says only "service error").
fn aws<E: std::error::Error + Send + Sync + 'static>(e: E) -> crate::Error {
    aws_sdk_s3::error::DisplayErrorContext(e).to_string().into()
}

impl AwsSdkS3 {
    pub(crate) fn new(ctx: &Ctx) -> Self {
        use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&ctx.endpoint)
            .region(Region::new(ctx.region.clone()))
            .credentials_provider(Credentials::new(
                &ctx.access_key,
                &ctx.secret_key,
                None,
                None,
                "sos-bench",
            ))
            .force_path_style(true)
            .build();
        Self {
            client: aws_sdk_s3::Client::from_conf(config),
            bucket: ctx.bucket.clone(),
        }
    }
}

impl S3Tool for AwsSdkS3 {
    async fn put_file(&self, key: &str, path: &Path) -> Res<()> {
        let body = aws_sdk_s3::primitives::ByteStream::from_path(path).await?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(body)
            .send()
            .await
            .map_err(aws)?;
        Ok(())
    }

    async fn put_mem(&self, key: &str, data: Bytes) -> Res<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(data.into())
            .send()
            .await
            .map_err(aws)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Res<u64> {
        let mut out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(aws)?;
        let mut n = 0;
        while let Some(chunk) = out.body.try_next().await? {
            n += chunk.len() as u64;
        }
        Ok(n)
    }

    /// CreateMultipartUpload, the parts streamed from the file (`ByteStream::read_from`,
    /// the SDK's way for file ranges), CompleteMultipartUpload.
    async fn upload(&self, key: &str, path: &Path, part: u64, concurrency: usize) -> Res<()> {
        use aws_sdk_s3::primitives::{ByteStream, Length};
        use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
        let size = tokio::fs::metadata(path).await?.len();
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(aws)?;
        let upload_id = created.upload_id().ok_or("no upload id")?.to_owned();
        let parts = std::sync::Mutex::new(Vec::new());
        let sent = in_parts(size, part, concurrency, |offset, len| {
            let (upload_id, parts) = (&upload_id, &parts);
            async move {
                let number = i32::try_from(offset / part + 1)?;
                let body = ByteStream::read_from()
                    .path(path)
                    .offset(offset)
                    .length(Length::Exact(len))
                    .build()
                    .await?;
                let out = self
                    .client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(upload_id)
                    .part_number(number)
                    .content_length(i64::try_from(len)?)
                    .body(body)
                    .send()
                    .await
                    .map_err(aws)?;
                let done = CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(out.e_tag().map(str::to_owned))
                    .build();
                parts.lock().map_err(|_| "poisoned")?.push(done);
                Ok(len)
            }
        })
        .await;
        if let Err(e) = sent {
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
            return Err(e);
        }
        let mut parts = parts.into_inner().map_err(|_| "poisoned")?;
        parts.sort_by_key(|p| p.part_number());
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(aws)?;
        Ok(())
    }

    async fn download(&self, key: &str, path: &Path, part: u64, concurrency: usize) -> Res<u64> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(aws)?;
        let size = u64::try_from(head.content_length().ok_or("no length")?)?;
        let etag = head.e_tag().map(str::to_owned);
        create_sized(path, size).await?;
        in_parts(size, part, concurrency, |offset, len| {
            let etag = etag.clone();
            async move {
                let out = self
                    .client
                    .get_object()
                    .bucket(&self.bucket)
                    .key(key)
                    .range(format!("bytes={offset}-{}", offset + len - 1))
                    .set_if_match(etag)
                    .send()
                    .await
                    .map_err(aws)?;
                let body = futures_util::stream::unfold(out.body, |mut body| async move {
                    body.try_next().await.transpose().map(|item| (item, body))
                });
                write_at(path, offset, Box::pin(body)).await
            }
        })
        .await
    }

    async fn get_small(&self, key: &str) -> Res<u64> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(aws)?;
        Ok(out.body.collect().await?.into_bytes().len() as u64)
    }
}

/// object_store's `AmazonS3` (path-style, http allowed; its default signing hashes the
/// payload).
pub(crate) struct ObjectStore {
    store: object_store::aws::AmazonS3,
}

impl ObjectStore {
    pub(crate) fn new(ctx: &Ctx) -> Res<Self> {
        let store = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(&ctx.endpoint)
            .with_region(&ctx.region)
            .with_bucket_name(&ctx.bucket)
            .with_access_key_id(&ctx.access_key)
            .with_secret_access_key(&ctx.secret_key)
            .with_allow_http(true)
            .build()?;
        Ok(Self { store })
    }
}

impl S3Tool for ObjectStore {
    async fn put_mem(&self, key: &str, data: Bytes) -> Res<()> {
        use object_store::ObjectStoreExt;
        self.store
            .put(&object_store::path::Path::from(key), data.into())
            .await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Res<u64> {
        use object_store::ObjectStoreExt;
        let mut body = self
            .store
            .get(&object_store::path::Path::from(key))
            .await?
            .into_stream();
        let mut n = 0;
        while let Some(chunk) = body.next().await {
            n += chunk?.len() as u64;
        }
        Ok(n)
    }

    /// `put_multipart` + `WriteMultipart` (its chunk size as the part size, and
    /// `wait_for_capacity(concurrency)` before each write, as its documentation says),
    /// fed from the file 1 MiB at a time.
    async fn upload(&self, key: &str, path: &Path, part: u64, concurrency: usize) -> Res<()> {
        use object_store::ObjectStoreExt;
        let upload = self
            .store
            .put_multipart(&object_store::path::Path::from(key))
            .await?;
        let mut writer =
            object_store::WriteMultipart::new_with_chunk_size(upload, usize::try_from(part)?);
        let mut file = tokio::fs::File::open(path).await?;
        loop {
            let mut buf = BytesMut::with_capacity(1 << 20);
            while buf.len() < buf.capacity() {
                if file.read_buf(&mut buf).await? == 0 {
                    break;
                }
            }
            if buf.is_empty() {
                break;
            }
            writer.wait_for_capacity(concurrency).await?;
            writer.put(buf.freeze());
        }
        writer.finish().await?;
        Ok(())
    }

    async fn download(&self, key: &str, path: &Path, part: u64, concurrency: usize) -> Res<u64> {
        use object_store::{GetOptions, GetRange, ObjectStore as _, ObjectStoreExt};
        let location = object_store::path::Path::from(key);
        let meta = self.store.head(&location).await?;
        create_sized(path, meta.size).await?;
        in_parts(meta.size, part, concurrency, |offset, len| {
            let options = GetOptions {
                range: Some(GetRange::Bounded(offset..offset + len)),
                if_match: meta.e_tag.clone(),
                ..GetOptions::default()
            };
            let location = &location;
            async move {
                let body = self.store.get_opts(location, options).await?.into_stream();
                write_at(path, offset, body).await
            }
        })
        .await
    }

    async fn get_small(&self, key: &str) -> Res<u64> {
        use object_store::ObjectStoreExt;
        let got = self.store.get(&object_store::path::Path::from(key)).await?;
        Ok(got.bytes().await?.len() as u64)
    }
}

/// rust-s3's `Bucket` (path-style). Its multipart upload has a fixed 8 MiB part.
pub(crate) struct RustS3 {
    bucket: Box<s3::Bucket>,
}

impl RustS3 {
    pub(crate) fn new(ctx: &Ctx) -> Res<Self> {
        let region = s3::Region::Custom {
            region: ctx.region.clone(),
            endpoint: ctx.endpoint.clone(),
        };
        let credentials = s3::creds::Credentials::new(
            Some(&ctx.access_key),
            Some(&ctx.secret_key),
            None,
            None,
            None,
        )?;
        let bucket = s3::Bucket::new(&ctx.bucket, region, credentials)?.with_path_style();
        Ok(Self { bucket })
    }
}

impl S3Tool for RustS3 {
    async fn put_mem(&self, key: &str, data: Bytes) -> Res<()> {
        self.bucket.put_object(key, &data).await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Res<u64> {
        let mut response = self.bucket.get_object_stream(key).await?;
        let mut n = 0;
        while let Some(chunk) = response.bytes().next().await {
            n += chunk?.len() as u64;
        }
        Ok(n)
    }

    /// `put_object_stream_builder(..).with_max_concurrent_chunks(concurrency)`: rust-s3's
    /// own multipart upload; its part size is fixed at 8 MiB (`s3::bucket::CHUNK_SIZE`).
    async fn upload(&self, key: &str, path: &Path, part: u64, concurrency: usize) -> Res<()> {
        if part != s3::bucket::CHUNK_SIZE as u64 {
            return Err(format!(
                "rust-s3's parts are {} bytes, not {part}",
                s3::bucket::CHUNK_SIZE
            )
            .into());
        }
        let mut file = tokio::fs::File::open(path).await?;
        self.bucket
            .put_object_stream_builder(key)
            .with_max_concurrent_chunks(concurrency)
            .execute_stream(&mut file)
            .await?;
        Ok(())
    }

    async fn download(&self, key: &str, path: &Path, part: u64, concurrency: usize) -> Res<u64> {
        use tokio::io::AsyncSeekExt;
        let (head, _) = self.bucket.head_object(key).await?;
        let size = u64::try_from(head.content_length.ok_or("no length")?)?;
        create_sized(path, size).await?;
        in_parts(size, part, concurrency, |offset, len| async move {
            let mut file = tokio::fs::OpenOptions::new().write(true).open(path).await?;
            file.seek(std::io::SeekFrom::Start(offset)).await?;
            let status = self
                .bucket
                .get_object_range_to_writer(key, offset, Some(offset + len - 1), &mut file)
                .await?;
            tokio::io::AsyncWriteExt::flush(&mut file).await?;
            if status != 206 {
                return Err(format!("a ranged GET answered {status}").into());
            }
            Ok(len)
        })
        .await
    }

    async fn get_small(&self, key: &str) -> Res<u64> {
        Ok(self.bucket.get_object(key).await?.bytes().len() as u64)
    }
}
