//! An async S3 client for [Exoscale SOS](https://www.exoscale.com/object-storage/) and every
//! S3-compatible store: buckets, objects, listings as streams, parallel multipart transfers
//! that never leave half an object, ACL, CORS, metadata, pre-signed URLs, retries and typed
//! errors. Built on reqwest (rustls) and tokio; signing by [`sos_auth`], ACL and CORS
//! documents by [`sos_acl`], pre-signed URLs by [`sos_presign`].
//!
//! # Quick start
//! ```no_run
//! use sos_client::{Client, Endpoint, Zone, Credentials, ListEntry};
//! use futures_util::TryStreamExt;
//!
//! # async fn run() -> sos_client::Result<()> {
//! // Keys from the environment, ~/.aws or ~/.s3cfg; or explicit:
//! let client = Client::builder()
//!     .endpoint(Endpoint::zone(Zone::ChGva2))
//!     .credentials(Credentials::new("EXO...", "secret"))
//!     .build()?;
//!
//! client.create_bucket("my-assets").send().await?;
//! client.put_object("my-assets", "css/site.css")
//!     .body("body { color: teal }")
//!     .content_type("text/css")
//!     .send().await?;
//! // Big files: parallel parts, aborted on failure.
//! client.upload("my-assets", "video.mp4").file("video.mp4").await?;
//!
//! let mut entries = client.list_objects("my-assets").delimiter("/").entries();
//! while let Some(entry) = entries.try_next().await? {
//!     if let ListEntry::Object(o) = entry { println!("{} {}", o.key, o.size); }
//! }
//! # Ok(()) }
//! ```
//!
//! # Contents
//! - [`Client`], [`ClientBuilder`] ([`Endpoint`], [`Zone`], [`Addressing`],
//!   [`SignatureVersion`], [`PayloadSigning`], [`RetryConfig`]).
//! - Buckets: [`Client::create_bucket`], [`delete_bucket`](Client::delete_bucket),
//!   [`head_bucket`](Client::head_bucket), [`list_buckets`](Client::list_buckets),
//!   [`bucket_location`](Client::bucket_location), ACL and CORS.
//! - Objects: [`PutObject`], [`GetObject`] ([`ByteStream`]), [`Client::head_object`]
//!   ([`ObjectInfo`], [`Metadata`]), delete one or many, object ACL.
//! - Server-side copies: [`Client::copy`] ([`CopyTransfer`]: any size, parallel
//!   `UploadPartCopy` parts), [`CopyObject`] (one request), [`Client::upload_part_copy`]
//!   ([`CopySource`]).
//! - Tags: [`Tags`] (checked by S3's rules before any request),
//!   [`Client::get_object_tagging`], [`put_object_tagging`](Client::put_object_tagging),
//!   [`delete_object_tagging`](Client::delete_object_tagging) and their `_version_`
//!   variants; tags given on upload ([`PutObject::tags`], [`Upload::tags`]) and kept or
//!   replaced by copies; [`ObjectInfo::tag_count`]; a bucket's:
//!   [`get_bucket_tagging`](Client::get_bucket_tagging),
//!   [`put_bucket_tagging`](Client::put_bucket_tagging),
//!   [`delete_bucket_tagging`](Client::delete_bucket_tagging).
//! - Listings: [`ListObjects`] → [`ListObjectsStream`] of [`ListEntry`], or [`ListPages`].
//! - Versioning: [`Client::set_bucket_versioning`], [`Client::list_object_versions`] →
//!   [`ListObjectVersionsStream`] of [`VersionEntry`], [`Client::delete_object_version`], [`Client::delete_object_versions`].
//! - Multipart: [`MultipartUpload`], [`CompletedPart`], and the transfer manager:
//!   [`Upload`], [`Download`], [`Progress`], [`Checksum`].
//! - [`Error`] with [`ServiceError`] and [`ErrorCode`].

// The README's example is compiled as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod body;
mod bucket;
mod checksum;
mod client;
mod config;
mod copy;
mod error;
mod list;
mod metadata;
mod multipart;
mod object;
mod retry;
mod tagging;
mod task;
mod transfer;
mod versioning;
mod xml;

pub use body::ByteStream;
pub use bucket::{BucketSummary, CreateBucket};
pub use checksum::Checksum;
pub use client::Client;
pub use config::{ClientBuilder, PayloadSigning};
pub use copy::{
    CopyObject, CopySource, CopyTransfer, DEFAULT_COPY_CONCURRENCY, DEFAULT_COPY_PART_SIZE,
    MAX_COPY_OBJECT_SIZE, MetadataDirective,
};
pub use error::{Error, ErrorCode, Result, ServiceError};
pub use list::{
    ListEntry, ListObjects, ListObjectsStream, ListPage, ListPages, ListVersion, ObjectSummary,
};
pub use metadata::{MAX_USER_METADATA_BYTES, Metadata, ObjectInfo};
pub use multipart::{
    CompletedPart, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, MultipartUpload, PartSummary,
    UploadSummary,
};
pub use object::{
    DeleteError, DeleteObjectsOutput, GetObject, GetObjectOutput, MAX_KEY_BYTES,
    MAX_KEYS_PER_DELETE, PutObject, PutObjectOutput,
};
pub use retry::RetryConfig;
pub use tagging::{MAX_BUCKET_TAGS, MAX_TAG_KEY_LEN, MAX_TAG_VALUE_LEN, MAX_TAGS, Tags, TagsIter};
pub use transfer::{DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE, Download, Progress, Upload};
pub use versioning::{
    DeleteMarker, DeleteVersionsOutput, ListObjectVersions, ListObjectVersionsStream,
    ObjectVersion, ObjectVersionId, VersionEntry, VersionMarker, VersionPages, VersioningStatus,
    VersionsPage,
};

pub use sos_acl::{AccessControlPolicy, CannedAcl, CorsConfiguration};
pub use sos_auth::Credentials;
pub use sos_presign::{Addressing, Endpoint, Presigner, SignatureVersion, Zone};
