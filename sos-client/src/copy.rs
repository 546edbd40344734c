//! Server-side copies: [`CopyObject`] (one request, objects up to 5 GiB),
//! [`Client::upload_part_copy`] (a range of an object as a part of a multipart upload), and
//! [`CopyTransfer`], which copies an object of any size, in parallel parts when it is
//! large. No byte of the object goes through the client.

use std::ops::Range;
use std::sync::Arc;

use futures_util::stream::{StreamExt, TryStreamExt};
use http::Method;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use sos_acl::{CannedAcl, X_AMZ_ACL};

use crate::client::{Client, Operation};
use crate::metadata::{Metadata, ObjectInfo, WEBSITE_REDIRECT, raw_metadata_headers};
use crate::multipart::{
    CompletedPart, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, MultipartUpload, completed_etag,
};
use crate::object::{PutObjectOutput, check_key, check_new_key, quote};
use crate::tagging::{Tags, self_copy_error};
use crate::transfer::{AbortOnDrop, Counter, ProgressFn, finish, part_size_for};
use crate::{Error, Progress, Result};

/// The largest object one `CopyObject` request copies (S3's limit): 5 GiB.
pub const MAX_COPY_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Default part size of a [`CopyTransfer`]: 64 MiB. No data goes through the client, so
/// larger parts than an upload's cost nothing but fewer requests.
pub const DEFAULT_COPY_PART_SIZE: u64 = 64 * 1024 * 1024;
/// Default parts copied at once by a [`CopyTransfer`].
pub const DEFAULT_COPY_CONCURRENCY: usize = 8;

const COPY_SOURCE: HeaderName = HeaderName::from_static("x-amz-copy-source");
const COPY_SOURCE_IF_MATCH: HeaderName = HeaderName::from_static("x-amz-copy-source-if-match");
/// The name the RADOS Gateway reads instead of `x-amz-copy-source-if-match` (up to Ceph
/// 19 at least; S3 and the others ignore it).
const COPY_IF_MATCH_RGW: HeaderName = HeaderName::from_static("x-amz-copy-if-match");
const COPY_SOURCE_RANGE: HeaderName = HeaderName::from_static("x-amz-copy-source-range");
const TAGGING_DIRECTIVE: HeaderName = HeaderName::from_static("x-amz-tagging-directive");

/// Whether a copy keeps the source's metadata or replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetadataDirective {
    /// Keep the source's metadata (`COPY`, the default).
    #[default]
    Copy,
    /// Use the metadata given to the copy (`REPLACE`).
    Replace,
}

/// The object a copy reads: a bucket and key, optionally one version of it, optionally the
/// ETag it must still have (`x-amz-copy-source-if-match`, else `PreconditionFailed`).
///
/// ```
/// let source = sos_client::CopySource::new("photos", "2026/beach.jpg")
///     .version_id("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")
///     .if_match("9b2cf535f27731c974343645a3985328");
/// assert_eq!(source.key(), "2026/beach.jpg");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopySource<'a> {
    bucket: &'a str,
    key: &'a str,
    version_id: Option<&'a str>,
    if_match: Option<&'a str>,
}

impl<'a> CopySource<'a> {
    /// The current version of `key` in `bucket`.
    pub fn new(bucket: &'a str, key: &'a str) -> Self {
        Self {
            bucket,
            key,
            version_id: None,
            if_match: None,
        }
    }

    /// One version of the object (versioned buckets).
    #[must_use]
    pub fn version_id(mut self, version_id: &'a str) -> Self {
        self.version_id = Some(version_id);
        self
    }

    /// Copies only while the source's ETag is `etag` (quotes optional).
    #[must_use]
    pub fn if_match(mut self, etag: &'a str) -> Self {
        self.if_match = Some(etag);
        self
    }

    /// The bucket.
    pub fn bucket(&self) -> &'a str {
        self.bucket
    }

    /// The key.
    pub fn key(&self) -> &'a str {
        self.key
    }

    /// Adds `x-amz-copy-source` (`/bucket/key?versionId=...`, the key URL-encoded) and the
    /// condition to `headers`.
    fn apply(&self, headers: &mut HeaderMap) -> Result<()> {
        check_source_bucket(self.bucket)?;
        check_key(self.key)?;
        let mut value = format!("/{}/", self.bucket);
        value.push_str(&sos_presign::encode_key(self.key));
        if let Some(version) = self.version_id {
            if version.is_empty() {
                return Err(Error::InvalidInput("an empty version id".to_owned()));
            }
            value.push_str("?versionId=");
            crate::client::encode_query(version, &mut value);
        }
        let source = HeaderValue::try_from(value)
            .map_err(|_| Error::InvalidKey("cannot be a copy source".to_owned()))?;
        let condition = match self.if_match {
            Some(etag) => Some(HeaderValue::try_from(quote(etag)).map_err(|_| {
                Error::InvalidInput(format!("`{etag}` cannot be an ETag condition"))
            })?),
            None => None,
        };
        headers.insert(COPY_SOURCE, source);
        if let Some(condition) = condition {
            headers.insert(COPY_IF_MATCH_RGW, condition.clone());
            headers.insert(COPY_SOURCE_IF_MATCH, condition);
        }
        Ok(())
    }
}

/// A source bucket's name goes into a header as the first path segment: it must be one
/// that S3 ever allowed (letters, digits, `.`, `-`, `_`), or the header would name another
/// object (`a/b`, `a?versionId=`).
fn check_source_bucket(bucket: &str) -> Result<()> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_');
    if bucket.is_empty() || bucket.len() > 255 || !bucket.bytes().all(allowed) {
        return Err(Error::InvalidBucketName {
            bucket: bucket.to_owned(),
            reason: "a copy source's bucket has only letters, digits, `.`, `-` and `_`".to_owned(),
        });
    }
    Ok(())
}

/// Whether the RADOS Gateway's `UploadPartCopy` reads another key than `key` (Ceph 16.2,
/// `RGWPutObj_ObjStore_S3::get_params`): it URL-decodes `x-amz-copy-source`, cuts it at the
/// first `?versionId=`, then decodes the key a second time, where `%XX` is decoded again, a
/// `+` after a `?` becomes a space, and a `%` without two hex digits empties the key (the
/// 16.2.15 gateway stopped on `50% off`). `CopyObject` decodes once, as S3 does.
fn misread_by_part_copy(key: &str) -> bool {
    key.contains("?versionId=")
        || key.contains('%')
        || key.find('?').is_some_and(|q| key[q..].contains('+'))
}

/// A server-side copy in one request (objects up to 5 GiB; see [`Client::copy`] for any
/// size). Made by [`Client::copy_object`].
#[derive(Debug)]
#[must_use = "nothing is sent until `send` is awaited"]
pub struct CopyObject<'a> {
    client: &'a Client,
    source: CopySource<'a>,
    bucket: &'a str,
    key: &'a str,
    directive: MetadataDirective,
    metadata: Metadata,
    acl: Option<CannedAcl>,
    /// The tags that replace the source's (`x-amz-tagging-directive: REPLACE`).
    tags: Option<Tags>,
    /// Whether `tags` come from the caller, and are checked (a copy in parts carries the
    /// source's as they are).
    tags_checked: bool,
    /// `x-amz-website-redirect-location`, which S3 does not copy (see [`CopyTransfer`]).
    redirect: Option<HeaderValue>,
}

impl<'a> CopyObject<'a> {
    /// Replaces the metadata with `metadata` (`x-amz-metadata-directive: REPLACE`). S3 and
    /// the RADOS Gateway then drop the source's `x-amz-website-redirect-location`; the
    /// gateway (Ceph 16.2, as SOS) drops its tags too, where S3 keeps them
    /// ([`Client::copy`] keeps them on both).
    pub fn replace_metadata(mut self, metadata: Metadata) -> Self {
        self.directive = MetadataDirective::Replace;
        self.metadata = metadata;
        self
    }

    /// Gives the copy `tags` instead of the source's (`x-amz-tagging-directive: REPLACE`
    /// with `x-amz-tagging`; an empty set: no tags), checked by S3's rules when sent (see
    /// [`Tags`]). By default a copy keeps the source's tags.
    ///
    /// The RADOS Gateway (Ceph 16.2, as SOS) ignores the tagging directive and copies the
    /// source's tags: the copy's tags are then read back, and set with a
    /// `PutObjectTagging` (or removed) when they are not the ones asked for. Servers
    /// without tagging (Garage) ignore them.
    ///
    /// ```no_run
    /// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
    /// use sos_client::Tags;
    /// client
    ///     .copy_object("drafts", "report.pdf", "published", "2026/report.pdf")
    ///     .replace_tags(Tags::new().with("stage", "published"))
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn replace_tags(mut self, tags: Tags) -> Self {
        self.tags = Some(tags);
        self.tags_checked = true;
        self
    }

    /// A canned ACL for the copy (S3 gives a copy the default, private ACL, not the
    /// source's).
    pub fn acl(mut self, acl: CannedAcl) -> Self {
        self.acl = Some(acl);
        self
    }

    /// Copies this version of the source (versioned buckets).
    pub fn source_version_id(mut self, version_id: &'a str) -> Self {
        self.source = self.source.version_id(version_id);
        self
    }

    /// Copies only while the source's ETag is `etag` (else `PreconditionFailed`).
    pub fn source_if_match(mut self, etag: &'a str) -> Self {
        self.source = self.source.if_match(etag);
        self
    }

    /// Sends it.
    ///
    /// # Errors
    /// Invalid [tags](Error::InvalidTag) before any request; `NoSuchKey` for the source,
    /// `PreconditionFailed`, `InvalidRequest` for a source over 5 GiB or a copy onto itself
    /// that changes nothing (S3 and the RADOS Gateway want the metadata replaced; new tags
    /// or an ACL alone are not a change), the server's other errors (also when sent after
    /// a 200), transport.
    pub async fn send(self) -> Result<PutObjectOutput> {
        check_new_key(self.key)?;
        let tagging = match &self.tags {
            Some(tags) if self.tags_checked => tags.header_value()?,
            Some(tags) => tags.unchecked_header(),
            None => None,
        };
        let mut op = Operation::new("CopyObject", Method::PUT)
            .bucket(self.bucket)
            .key(self.key)
            .may_fail_after_ok();
        self.source.apply(&mut op.headers)?;
        if self.directive == MetadataDirective::Replace {
            op.headers.insert(
                HeaderName::from_static("x-amz-metadata-directive"),
                HeaderValue::from_static("REPLACE"),
            );
            self.metadata.apply(&mut op.headers)?;
        }
        if let Some(acl) = self.acl {
            op.headers.insert(X_AMZ_ACL, acl.header_value());
        }
        if self.tags.is_some() {
            op.headers
                .insert(TAGGING_DIRECTIVE, HeaderValue::from_static("REPLACE"));
            if let Some((name, value)) = tagging {
                op.headers.insert(name, value);
            }
        }
        if let Some(redirect) = self.redirect {
            op.headers.insert(WEBSITE_REDIRECT, redirect);
        }
        let (headers, doc) = self.client.send_xml_with_headers(op).await?;
        // A result without an ETag was already retried within the attempt (see
        // `may_fail_after_ok`); a server that never sends one fails here.
        let etag = completed_etag(&doc)
            .ok_or_else(|| Error::InvalidResponse("a copy answered without an ETag".into()))?;
        let version_id = ObjectInfo::from_headers(&headers).version_id;
        if let Some(tags) = &self.tags {
            self.client
                .settle_tags(self.bucket, self.key, version_id.as_deref(), tags)
                .await?;
        }
        Ok(PutObjectOutput {
            etag: Some(etag),
            version_id,
        })
    }
}

/// A copy of an object of any size, through the transfer manager. Made by
/// [`Client::copy`].
///
/// The source is read with a HEAD first. Up to one part (default 64 MiB) it is copied by
/// one `CopyObject`; larger, by a multipart upload whose parts are `UploadPartCopy` ranges
/// of the source, `concurrency` at a time, each conditional on the ETag seen first and the
/// source checked again before completion (a source replaced during the copy fails it
/// with `PreconditionFailed` instead of mixing two objects; on a versioned bucket, the
/// version the HEAD saw is copied). On any error, and when the future is dropped, the
/// multipart upload is aborted: the copy appears whole or not at all. Source keys the
/// RADOS Gateway misreads in part copies are copied in one request (see
/// [`part_size`](Self::part_size)).
///
/// Whatever the size, the copy gets:
/// - the source's metadata (content type, encoding, user metadata, ...), unless
///   [replaced](Self::replace_metadata);
/// - the source's `x-amz-website-redirect-location` unless the metadata is replaced (as
///   S3 and the RADOS Gateway drop it then); it is sent with the copy, since S3 does not
///   copy it by itself;
/// - the source's tags (of the version copied), unless [replaced](Self::replace_tags):
///   kept by the server in one `CopyObject`; in parts, read with `GetObjectTagging` when
///   the HEAD counts some (`x-amz-tagging-count`, which S3 and the RADOS Gateway send for
///   every object with tags; a server without tagging has none) and given to the upload.
///   Where the RADOS Gateway (Ceph 16.2, as SOS) loses them (a multipart upload's tags, a
///   copy's tagging directive, the tags of a copy whose metadata is replaced), they are
///   read back from the copy and set again (so a copy in parts, or one that replaces the
///   metadata, of a tagged source needs `s3:GetObjectTagging` on the source and
///   `s3:PutObjectTagging` on the copy where policies restrict them);
/// - the ACL given with [`acl`](Self::acl), else the bucket's default (private).
///
/// A copy of an object onto itself (same bucket and key, no source version named) must
/// replace its metadata: otherwise it is refused before any request, at any size, with
/// the `400 InvalidRequest` S3 and the RADOS Gateway answer to one such `CopyObject` (new
/// tags or an ACL alone do not make it legal there either: set them with
/// [`Client::put_object_tagging`] and [`Client::set_object_acl`]).
///
/// ```no_run
/// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
/// // A 20 GiB backup, copied to another bucket without downloading it.
/// client
///     .copy("backups", "2026-12-01.tar.zst", "archive", "2026/12/01.tar.zst")
///     .part_size(256 * 1024 * 1024)
///     .send()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "nothing is copied until `send` is awaited"]
pub struct CopyTransfer<'a> {
    client: &'a Client,
    source: CopySource<'a>,
    bucket: &'a str,
    key: &'a str,
    replacement: Option<Metadata>,
    tags: Option<Tags>,
    acl: Option<CannedAcl>,
    part_size: u64,
    concurrency: usize,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for CopyTransfer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyTransfer")
            .field("source", &self.source)
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("replacement", &self.replacement)
            .field("tags", &self.tags)
            .field("acl", &self.acl)
            .field("part_size", &self.part_size)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl<'a> CopyTransfer<'a> {
    /// Part size (5 MiB ..= 5 GiB; default 64 MiB), and the largest object copied in one
    /// request. Grown automatically when an object would need more than 10 000 parts.
    ///
    /// A source key holding `%`, `?versionId=` or a `+` after a `?` is always copied in one
    /// request (up to 5 GiB; larger ones are refused with [`Error::InvalidKey`]): the RADOS
    /// Gateway, as SOS, reads another key in a part copy.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes;
        self
    }

    /// Parts copied at once (default 8).
    pub fn concurrency(mut self, parts: usize) -> Self {
        self.concurrency = parts.max(1);
        self
    }

    /// Copies this version of the source (versioned buckets).
    pub fn source_version_id(mut self, version_id: &'a str) -> Self {
        self.source = self.source.version_id(version_id);
        self
    }

    /// Copies only while the source's ETag is `etag` (else `PreconditionFailed`, before
    /// anything is written).
    pub fn source_if_match(mut self, etag: &'a str) -> Self {
        self.source = self.source.if_match(etag);
        self
    }

    /// Gives the copy `metadata` instead of the source's (and no website redirect).
    pub fn replace_metadata(mut self, metadata: Metadata) -> Self {
        self.replacement = Some(metadata);
        self
    }

    /// Gives the copy `tags` instead of the source's (an empty set: no tags), checked by
    /// S3's rules before any request (see [`Tags`]).
    ///
    /// ```no_run
    /// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
    /// use sos_client::Tags;
    /// client
    ///     .copy("backups", "2026-12-01.tar.zst", "archive", "2026/12/01.tar.zst")
    ///     .replace_tags(Tags::new().with("tier", "archive"))
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn replace_tags(mut self, tags: Tags) -> Self {
        self.tags = Some(tags);
        self
    }

    /// A canned ACL for the copy (by default the bucket's default, private).
    pub fn acl(mut self, acl: CannedAcl) -> Self {
        self.acl = Some(acl);
        self
    }

    /// Called as parts complete, with the bytes copied so far and the source's size.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Copies.
    ///
    /// # Errors
    /// Before any request: an invalid part size, invalid [tags](Error::InvalidTag), a copy
    /// onto itself that does not replace the metadata (`InvalidRequest`, see
    /// [`CopyTransfer`]). Then `NoSuchKey` (or a 404 without a code, from the HEAD) for the
    /// source, `PreconditionFailed` when the source changed during the copy, the server's
    /// other errors, transport. The multipart upload, if any, has been aborted when this
    /// returns an error, except when only setting the tags again after the copy failed
    /// (the copy is then made, without the tags it should have).
    pub async fn send(mut self) -> Result<PutObjectOutput> {
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.part_size) {
            return Err(Error::InvalidInput(format!(
                "part size {} is outside S3's 5 MiB ..= 5 GiB",
                self.part_size
            )));
        }
        check_new_key(self.key)?;
        if let Some(tags) = &self.tags {
            tags.validate()?;
        }
        // One CopyObject of an object onto itself that changes nothing is refused by S3 and
        // the RADOS Gateway; a copy in parts would not be: refused here, at any size, as the
        // server refuses the small one. (Naming a version copies that version back on top,
        // which the servers allow.)
        if self.source.bucket == self.bucket
            && self.source.key == self.key
            && self.source.version_id.is_none()
            && self.replacement.is_none()
        {
            return Err(self_copy_error(self.bucket));
        }
        let client = self.client;
        let head = client
            .head_headers(self.source.bucket, self.source.key, self.source.version_id)
            .await?;
        let info = ObjectInfo::from_headers(&head);
        // (`*` matches any ETag: nothing to check here.)
        if let Some(expected) = self.source.if_match.filter(|e| *e != "*")
            && info.etag.as_deref() != Some(expected.trim_matches('"'))
        {
            return Err(source_changed(
                &self.source,
                Some(expected),
                info.etag.as_deref(),
            ));
        }
        let size = info.content_length;
        // Every request reads what the HEAD saw: the version it names (pinned when the
        // bucket keeps versions) and its ETag.
        let source = CopySource {
            version_id: self.source.version_id.or(info.version_id.as_deref()),
            if_match: info.etag.as_deref(),
            ..self.source
        };
        let counter = Counter::new(Some(size), self.progress.clone());
        // Keys the RADOS Gateway misreads in a part copy are copied in one request.
        let misread = misread_by_part_copy(source.key);
        if misread && size > MAX_COPY_OBJECT_SIZE {
            return Err(Error::InvalidKey(format!(
                "`{}` holds `%`, `?versionId=` or a `+` after a `?`: the RADOS Gateway (and SOS) \
                 reads another key in UploadPartCopy, so it cannot be copied in parts on the \
                 server, and one CopyObject stops at 5 GiB",
                source.key
            )));
        }
        let one_request = size <= self.part_size || misread;
        // The redirect goes with the copy, unless the metadata is replaced: S3 does not copy
        // it, and a multipart upload starts without it.
        let redirect = match self.replacement {
            None => head.get(WEBSITE_REDIRECT).cloned(),
            Some(_) => None,
        };
        // The tags the copy gets: the caller's (checked above), or the source's, read when
        // the server does not keep them by itself (in parts; and, on the RADOS Gateway, when
        // the metadata is replaced).
        let (tags, checked) = match self.tags.take() {
            Some(tags) => (Some(tags), true),
            None if one_request && self.replacement.is_none() => (None, false),
            None => {
                let tags = client
                    .source_tags(source.bucket, source.key, source.version_id, info.tag_count)
                    .await?;
                ((!tags.is_empty()).then_some(tags), false)
            }
        };
        if one_request {
            let mut copy = client.copy_object(source.bucket, source.key, self.bucket, self.key);
            copy.source = source;
            copy.acl = self.acl;
            copy.redirect = redirect;
            if let Some(metadata) = self.replacement {
                copy = copy.replace_metadata(metadata);
            }
            copy.tags = tags;
            copy.tags_checked = checked;
            let out = copy.send().await?;
            counter.add(size);
            return Ok(out);
        }
        let part_size = part_size_for(size, self.part_size)?;
        // A multipart upload starts with no metadata: the source's is given to it, as
        // stored (values other clients stored raw included), and so are its redirect and
        // tags.
        let mut headers = match self.replacement.take() {
            Some(metadata) => {
                let mut headers = HeaderMap::new();
                metadata.apply(&mut headers)?;
                headers
            }
            None => raw_metadata_headers(&head),
        };
        if let Some(redirect) = redirect {
            headers.insert(WEBSITE_REDIRECT, redirect);
        }
        if let Some((name, value)) = tags.as_ref().and_then(Tags::unchecked_header) {
            headers.insert(name, value);
        }
        let upload = client
            .create_multipart_upload_with(self.bucket, self.key, headers, self.acl)
            .await?;
        let guard = AbortOnDrop::new(client, upload.clone());
        let counter = &counter;
        let upload_ref = &upload;
        let result: Result<Vec<CompletedPart>> =
            futures_util::stream::iter(0..size.div_ceil(part_size))
                .map(|i| async move {
                    let start = i * part_size;
                    let end = start.saturating_add(part_size).min(size);
                    let number = u32::try_from(i + 1).unwrap_or(MAX_PARTS);
                    let part = client
                        .upload_part_copy(upload_ref, number, &source, Some(start..end))
                        .await?;
                    counter.add(end - start);
                    Ok(part)
                })
                .buffer_unordered(self.concurrency)
                .try_collect()
                .await;
        // Some servers ignore the parts' condition (the RADOS Gateway, for UploadPartCopy):
        // unless a version was copied, the source must still be the one the HEAD saw, or
        // the parts may come from two objects.
        let result = match (result, source.version_id) {
            (Ok(parts), None) => client
                .check_source_unchanged(&source, info.etag.as_deref())
                .await
                .map(|()| parts),
            (result, _) => result,
        };
        let out = finish(client, guard, &upload, result).await?;
        // The RADOS Gateway loses the tags given to a multipart upload.
        if let Some(tags) = tags.filter(|t| !t.is_empty()) {
            client
                .settle_tags(self.bucket, self.key, out.version_id.as_deref(), &tags)
                .await?;
        }
        Ok(out)
    }
}

/// The `PreconditionFailed` of a source whose ETag is `found` where `expected` was asked
/// for or seen first: the client's own check, for servers that do not check the condition.
fn source_changed(source: &CopySource<'_>, expected: Option<&str>, found: Option<&str>) -> Error {
    Error::from(crate::ServiceError {
        status: http::StatusCode::PRECONDITION_FAILED,
        code: crate::ErrorCode::PreconditionFailed,
        message: format!(
            "the copy source's ETag is {}, not {}",
            found.unwrap_or("missing"),
            expected.unwrap_or("missing")
        ),
        request_id: None,
        host_id: None,
        resource: Some(format!("/{}/{}", source.bucket, source.key)),
    })
}

impl Client {
    /// `PreconditionFailed` unless `source`'s ETag is still `etag`.
    async fn check_source_unchanged(
        &self,
        source: &CopySource<'_>,
        etag: Option<&str>,
    ) -> Result<()> {
        let now = self.head_object(source.bucket, source.key).await?.etag;
        if now.as_deref() == etag {
            return Ok(());
        }
        Err(source_changed(source, etag, now.as_deref()))
    }

    /// Copies an object on the server in one request (up to 5 GiB), keeping its metadata
    /// unless [`replace_metadata`](CopyObject::replace_metadata) is called. For objects of
    /// any size, in parallel parts, see [`copy`](Client::copy).
    pub fn copy_object<'a>(
        &'a self,
        source_bucket: &'a str,
        source_key: &'a str,
        bucket: &'a str,
        key: &'a str,
    ) -> CopyObject<'a> {
        CopyObject {
            client: self,
            source: CopySource::new(source_bucket, source_key),
            bucket,
            key,
            directive: MetadataDirective::Copy,
            metadata: Metadata::default(),
            acl: None,
            tags: None,
            tags_checked: false,
            redirect: None,
        }
    }

    /// Copies an object of any size on the server: one request up to a part (64 MiB by
    /// default), parallel `UploadPartCopy` parts beyond, the source's metadata, website
    /// redirect and tags kept unless replaced. See [`CopyTransfer`].
    pub fn copy<'a>(
        &'a self,
        source_bucket: &'a str,
        source_key: &'a str,
        bucket: &'a str,
        key: &'a str,
    ) -> CopyTransfer<'a> {
        CopyTransfer {
            client: self,
            source: CopySource::new(source_bucket, source_key),
            bucket,
            key,
            replacement: None,
            tags: None,
            acl: None,
            part_size: DEFAULT_COPY_PART_SIZE,
            concurrency: DEFAULT_COPY_CONCURRENCY,
            progress: None,
        }
    }

    /// Copies `range` of `source` (the whole object when `None`) as part `part_number`
    /// (1 ..= 10 000) of `upload`. Retried like any idempotent request.
    ///
    /// The RADOS Gateway (Ceph 16.2, as SOS) decodes the source key of a part copy twice:
    /// a key holding `%`, `?versionId=` or a `+` after a `?` names another object there (or
    /// none). [`Client::copy`] copies such keys in one `CopyObject` instead.
    ///
    /// # Errors
    /// An empty range; `NoSuchKey`, `NoSuchUpload`, `InvalidRange`, `PreconditionFailed`
    /// (the source's ETag differs from [`CopySource::if_match`]; the RADOS Gateway does not
    /// check it for part copies), the server's other errors (also when sent after a 200),
    /// transport.
    pub async fn upload_part_copy(
        &self,
        upload: &MultipartUpload,
        part_number: u32,
        source: &CopySource<'_>,
        range: Option<Range<u64>>,
    ) -> Result<CompletedPart> {
        if !(1..=MAX_PARTS).contains(&part_number) {
            return Err(Error::InvalidInput(format!(
                "part number {part_number} is outside 1..=10000"
            )));
        }
        let mut op = Operation::new("UploadPartCopy", Method::PUT)
            .bucket(&upload.bucket)
            .key(&upload.key)
            .param("partNumber", part_number.to_string())
            .param("uploadId", upload.upload_id.clone())
            .may_fail_after_ok();
        source.apply(&mut op.headers)?;
        if let Some(range) = range {
            if range.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "an empty range {}..{}",
                    range.start, range.end
                )));
            }
            let value = format!("bytes={}-{}", range.start, range.end - 1);
            op.headers.insert(
                COPY_SOURCE_RANGE,
                HeaderValue::try_from(value).map_err(|e| Error::InvalidInput(e.to_string()))?,
            );
        }
        let doc = self.send_xml(op).await?;
        let etag = completed_etag(&doc)
            .ok_or_else(|| Error::InvalidResponse("a copied part came without an ETag".into()))?;
        Ok(CompletedPart { part_number, etag })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_header_encodes_the_key_and_the_version() {
        let mut headers = HeaderMap::new();
        CopySource::new("my-bucket", "dir/été 2026+/a?b")
            .version_id("v1+/x")
            .if_match("abc")
            .apply(&mut headers)
            .unwrap();
        assert_eq!(
            headers[&COPY_SOURCE],
            "/my-bucket/dir/%C3%A9t%C3%A9%202026%2B/a%3Fb?versionId=v1%2B%2Fx"
        );
        assert_eq!(headers[&COPY_SOURCE_IF_MATCH], "\"abc\"");
    }

    #[test]
    fn keys_the_gateway_misreads_in_part_copies() {
        for key in [
            "a%20b",
            "100%",
            "50% off",
            "a?versionId=b",
            "q?a+b",
            "dir/x?y/+z",
        ] {
            assert!(misread_by_part_copy(key), "{key}");
        }
        for key in [
            "a b",
            "a+b",
            "a+b?c",
            "q?x=1&y=2",
            "été/ü ✓",
            "hash#frag",
            "versionId=",
        ] {
            assert!(!misread_by_part_copy(key), "{key}");
        }
    }

    #[test]
    fn bad_sources_are_refused_before_sending() {
        let mut headers = HeaderMap::new();
        for bucket in ["", "a/b", "a?versionId=1", "a b"] {
            let err = CopySource::new(bucket, "k")
                .apply(&mut headers)
                .unwrap_err();
            assert!(
                matches!(err, Error::InvalidBucketName { .. }),
                "{bucket}: {err}"
            );
        }
        let err = CopySource::new("b", "").apply(&mut headers).unwrap_err();
        assert!(matches!(err, Error::InvalidKey(_)), "{err}");
        let err = CopySource::new("b", "k")
            .version_id("")
            .apply(&mut headers)
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        let err = CopySource::new("b", "k")
            .if_match("a\nb")
            .apply(&mut headers)
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        assert!(headers.is_empty());
    }
}
