//! Bucket versioning: turning it on or off, listing the versions and delete markers of
//! objects, and reading or deleting one version.
//!
//! Once versioning is enabled on a bucket, an overwrite keeps the object's previous
//! version and a delete only adds a *delete marker* on top of it: the backup's safety net.
//! [`GetObject::version_id`](crate::GetObject::version_id) reads an older version,
//! [`Client::delete_object_version`] removes one for good.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use futures_util::stream::{BoxStream, Stream, StreamExt};
use http::Method;

use crate::client::{Client, Operation};
use crate::list::{Paged, boxed_stream, decode_listed, paginate, url_encoded};
use crate::metadata::ObjectInfo;
use crate::object::parse_iso8601;
use crate::xml::Element;
use crate::{DeleteError, Error, Result};

/// The versioning state of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VersioningStatus {
    /// Versioning was never turned on: objects have the version id `null` and are replaced
    /// in place.
    Unversioned,
    /// Overwrites and deletes keep the previous versions.
    Enabled,
    /// Turned off after having been on: versions already kept stay, new writes replace the
    /// `null` version.
    Suspended,
}

/// A version of an object, from [`Client::list_object_versions`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectVersion {
    /// The key.
    pub key: String,
    /// The version id (`null` for an object written before versioning was enabled or
    /// while it was suspended).
    pub version_id: String,
    /// Whether this is the current version of the key.
    pub is_latest: bool,
    /// Size in bytes.
    pub size: u64,
    /// The ETag, quotes removed.
    pub etag: Option<String>,
    /// When this version was written.
    pub last_modified: Option<SystemTime>,
    /// The storage class.
    pub storage_class: Option<String>,
}

/// A delete marker: the key was deleted at that point of its history (the current version,
/// when latest: the key then reads as missing).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteMarker {
    /// The key.
    pub key: String,
    /// The marker's version id (deleting it with [`Client::delete_object_version`]
    /// "undeletes" the key).
    pub version_id: String,
    /// Whether it is the current version of the key.
    pub is_latest: bool,
    /// When the key was deleted.
    pub last_modified: Option<SystemTime>,
}

/// An entry of a version listing, in the server's order: keys in order, each key's
/// versions and delete markers newest first, common prefixes where they sort.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VersionEntry {
    /// A version holding data.
    Version(ObjectVersion),
    /// A delete marker.
    DeleteMarker(DeleteMarker),
    /// A common prefix, ending with the delimiter.
    Prefix(String),
}

impl VersionEntry {
    /// The key (or prefix) of the entry.
    pub fn key(&self) -> &str {
        match self {
            VersionEntry::Version(v) => &v.key,
            VersionEntry::DeleteMarker(m) => &m.key,
            VersionEntry::Prefix(p) => p,
        }
    }
}

/// Where a version listing goes on: after this key and version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VersionMarker {
    /// The key marker.
    pub key: String,
    /// The version-id marker (`None`: after every version of `key`).
    pub version_id: Option<String>,
}

/// A version of a key, as [`Client::delete_object_versions`] reports it deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectVersionId {
    /// The key.
    pub key: String,
    /// The version id (empty when the server did not say).
    pub version_id: String,
}

/// The answer to [`Client::delete_object_versions`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteVersionsOutput {
    /// Versions deleted (S3 reports a version that did not exist as deleted).
    pub deleted: Vec<ObjectVersionId>,
    /// Versions that could not be deleted, each with its error.
    pub errors: Vec<DeleteError>,
}

/// One page of a version listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionsPage {
    /// Versions, delete markers and common prefixes, in the server's order.
    pub entries: Vec<VersionEntry>,
    /// Where the next page starts, when there is one.
    pub next: Option<VersionMarker>,
}

/// A listing of object versions. Made by [`Client::list_object_versions`].
///
/// ```no_run
/// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
/// use futures_util::TryStreamExt;
/// use sos_client::VersionEntry;
/// let mut versions = client.list_object_versions("backups").prefix("db/").entries();
/// while let Some(entry) = versions.try_next().await? {
///     match entry {
///         VersionEntry::Version(v) => println!("{} {} {} bytes", v.key, v.version_id, v.size),
///         VersionEntry::DeleteMarker(m) => println!("{} deleted ({})", m.key, m.version_id),
///         other => println!("{}", other.key()), // a common prefix
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "nothing is listed until the listing is sent or streamed"]
pub struct ListObjectVersions {
    client: Client,
    bucket: String,
    prefix: Option<String>,
    delimiter: Option<String>,
    start: Option<VersionMarker>,
    max_keys: Option<u32>,
    limit: Option<u64>,
}

impl ListObjectVersions {
    /// Only keys starting with `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Groups keys by `delimiter` after the prefix into common prefixes.
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(delimiter.into());
        self
    }

    /// Starts after `marker` (a [`VersionsPage::next`] of an earlier listing).
    pub fn start_after(mut self, marker: VersionMarker) -> Self {
        self.start = Some(marker);
        self
    }

    /// Entries per page (S3 caps it at 1000).
    pub fn max_keys(mut self, n: u32) -> Self {
        self.max_keys = Some(n);
        self
    }

    /// Stops after this many pages.
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.limit = Some(pages);
        self
    }

    /// One page, starting after `from` (or where the listing starts).
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, a page that cannot be read, transport.
    pub async fn page(&self, from: Option<&VersionMarker>) -> Result<VersionsPage> {
        let mut op = Operation::new("ListObjectVersions", Method::GET)
            .bucket(&self.bucket)
            .sub_resource("versions");
        if let Some(p) = &self.prefix {
            op = op.param("prefix", p.clone());
        }
        if let Some(d) = &self.delimiter {
            op = op.param("delimiter", d.clone());
        }
        if let Some(n) = self.max_keys {
            op = op.param("max-keys", n.to_string());
        }
        if let Some(marker) = from.or(self.start.as_ref()) {
            op = op.param("key-marker", marker.key.clone());
            if let Some(v) = &marker.version_id {
                op = op.param("version-id-marker", v.clone());
            }
        }
        let doc = self.client.send_xml(op).await?;
        parse_versions_page(&doc)
    }

    /// Every page, fetched one after the other as the stream is polled.
    pub fn pages(self) -> VersionPages {
        VersionPages {
            inner: paginate(self),
        }
    }

    /// Every entry, in order, across pages.
    pub fn entries(self) -> ListObjectVersionsStream {
        let stream = self
            .pages()
            .map(|page| {
                let entries: Vec<Result<VersionEntry>> = match page {
                    Ok(page) => page.entries.into_iter().map(Ok).collect(),
                    Err(e) => vec![Err(e)],
                };
                futures_util::stream::iter(entries)
            })
            .flatten();
        ListObjectVersionsStream {
            inner: stream.boxed(),
        }
    }
}

boxed_stream!(
    /// The pages of a version listing, as a [`Stream`].
    VersionPages,
    VersionsPage
);
boxed_stream!(
    /// The entries of a version listing, as a [`Stream`] that fetches pages as it goes.
    ListObjectVersionsStream,
    VersionEntry
);

impl Paged for ListObjectVersions {
    type Page = VersionsPage;
    type Marker = VersionMarker;
    const MARKER_NAME: &'static str = "version marker";
    fn limit(&self) -> Option<u64> {
        self.limit
    }
    fn fetch(
        &self,
        from: Option<&VersionMarker>,
    ) -> impl std::future::Future<Output = Result<VersionsPage>> + Send {
        self.page(from)
    }
    fn next_of(page: &VersionsPage) -> Option<VersionMarker> {
        page.next.clone()
    }
}

/// Parses a `ListVersionsResult` page.
pub(crate) fn parse_versions_page(doc: &Element) -> Result<VersionsPage> {
    if doc.name != "ListVersionsResult" {
        return Err(Error::InvalidResponse(format!(
            "expected <ListVersionsResult>, got <{}>",
            doc.name
        )));
    }
    let encoded = url_encoded(doc);
    let decode = |text: &str| decode_listed(encoded, text);
    let version_id = |el: &Element| -> Result<String> {
        // An empty id is the `null` version, as some servers write it.
        Ok(el
            .text_of("VersionId")
            .filter(|v| !v.is_empty())
            .unwrap_or("null")
            .to_owned())
    };
    let mut page = VersionsPage::default();
    // Children in document order: versions and markers interleave, newest first per key.
    for child in &doc.children {
        match child.name.as_str() {
            "Version" => page.entries.push(VersionEntry::Version(ObjectVersion {
                key: decode(child.required("Key")?)?,
                version_id: version_id(child)?,
                is_latest: child.flag("IsLatest")?,
                size: child.number("Size")?.unwrap_or(0),
                etag: child
                    .text_of("ETag")
                    .map(|e| e.trim().trim_matches('"').to_owned()),
                last_modified: child.text_of("LastModified").and_then(parse_iso8601),
                storage_class: child.text_of("StorageClass").map(str::to_owned),
            })),
            "DeleteMarker" => page.entries.push(VersionEntry::DeleteMarker(DeleteMarker {
                key: decode(child.required("Key")?)?,
                version_id: version_id(child)?,
                is_latest: child.flag("IsLatest")?,
                last_modified: child.text_of("LastModified").and_then(parse_iso8601),
            })),
            "CommonPrefixes" => page
                .entries
                .push(VersionEntry::Prefix(decode(child.required("Prefix")?)?)),
            _ => {}
        }
    }
    if doc.flag("IsTruncated")? {
        let key = match doc.text_of("NextKeyMarker").filter(|k| !k.is_empty()) {
            Some(key) => decode(key)?,
            None => {
                return Err(Error::InvalidResponse(
                    "a truncated version listing without <NextKeyMarker>".to_owned(),
                ));
            }
        };
        let version_id = doc
            .text_of("NextVersionIdMarker")
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        page.next = Some(VersionMarker { key, version_id });
    }
    Ok(page)
}

/// Parses a `VersioningConfiguration` answer.
pub(crate) fn parse_versioning_status(doc: &Element) -> Result<VersioningStatus> {
    match doc.text_of("Status").map(str::trim) {
        None | Some("") => Ok(VersioningStatus::Unversioned),
        Some("Enabled") => Ok(VersioningStatus::Enabled),
        Some("Suspended") => Ok(VersioningStatus::Suspended),
        Some(other) => Err(Error::InvalidResponse(format!(
            "unknown versioning status `{other}`"
        ))),
    }
}

impl Client {
    /// The versioning state of a bucket.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, a server without versioning (`NotImplemented`),
    /// transport.
    pub async fn bucket_versioning(&self, bucket: &str) -> Result<VersioningStatus> {
        let doc = self
            .send_xml(
                Operation::new("GetBucketVersioning", Method::GET)
                    .bucket(bucket)
                    .sub_resource("versioning"),
            )
            .await?;
        parse_versioning_status(&doc)
    }

    /// Enables (`true`) or suspends (`false`) versioning on a bucket. A bucket cannot go
    /// back to unversioned: suspending keeps the versions it holds.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, transport.
    pub async fn set_bucket_versioning(&self, bucket: &str, enabled: bool) -> Result<()> {
        let status = if enabled { "Enabled" } else { "Suspended" };
        let xml = format!(
            "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <Status>{status}</Status></VersioningConfiguration>"
        );
        let op = Operation::new("PutBucketVersioning", Method::PUT)
            .bucket(bucket)
            .sub_resource("versioning")
            .xml_body(xml);
        self.send(op).await?;
        Ok(())
    }

    /// Lists the versions and delete markers of a bucket's objects (see
    /// [`ListObjectVersions`]).
    pub fn list_object_versions(&self, bucket: impl Into<String>) -> ListObjectVersions {
        ListObjectVersions {
            client: self.clone(),
            bucket: bucket.into(),
            prefix: None,
            delimiter: None,
            start: None,
            max_keys: None,
            limit: None,
        }
    }

    /// The metadata of one version of an object.
    ///
    /// # Errors
    /// `NoSuchKey` (also for a version that does not exist, or a delete marker), transport.
    pub async fn head_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<ObjectInfo> {
        let headers = self.head_headers(bucket, key, Some(version_id)).await?;
        Ok(ObjectInfo::from_headers(&headers))
    }

    /// Deletes one version of an object for good (or a delete marker, which brings the
    /// version below it back). Deleting a version that does not exist succeeds, as in S3.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, an invalid version id, transport.
    pub async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<()> {
        self.send(crate::object::delete_object_op(
            bucket,
            key,
            Some(version_id),
        ))
        .await?;
        Ok(())
    }

    /// Deletes many versions (or delete markers) for good, 1000 per `?delete` request, as
    /// [`delete_objects`](Self::delete_objects) deletes keys; what emptying a versioned
    /// bucket takes (every entry of [`list_object_versions`](Self::list_object_versions)).
    /// Per-version failures are reported in the output, not as an error.
    ///
    /// ```no_run
    /// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
    /// use futures_util::TryStreamExt;
    /// use sos_client::VersionEntry;
    /// let all: Vec<(String, String)> = client
    ///     .list_object_versions("old-backups")
    ///     .entries()
    ///     .try_filter_map(|e| async move {
    ///         Ok(match e {
    ///             VersionEntry::Version(v) => Some((v.key, v.version_id)),
    ///             VersionEntry::DeleteMarker(m) => Some((m.key, m.version_id)),
    ///             _ => None,
    ///         })
    ///     })
    ///     .try_collect()
    ///     .await?;
    /// let out = client.delete_object_versions("old-backups", all).await?;
    /// assert!(out.errors.is_empty());
    /// client.delete_bucket("old-backups").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// An empty key before any request; a whole request failed (`NoSuchBucket`,
    /// `AccessDenied`, transport).
    pub async fn delete_object_versions<I, K, V>(
        &self,
        bucket: &str,
        versions: I,
    ) -> Result<DeleteVersionsOutput>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let items: Vec<(String, Option<String>)> = versions
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), Some(v.as_ref().to_owned())))
            .collect();
        let (deleted, errors) = self.delete_many(bucket, &items).await?;
        Ok(DeleteVersionsOutput {
            deleted: deleted
                .into_iter()
                .map(|(key, version_id)| ObjectVersionId {
                    key,
                    // A server that does not echo the version: the one named.
                    version_id: version_id.unwrap_or_default(),
                })
                .collect(),
            errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions_markers_and_prefixes_in_order() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix></Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker>
  <NextKeyMarker>b.txt</NextKeyMarker><NextVersionIdMarker>v2</NextVersionIdMarker>
  <MaxKeys>3</MaxKeys><IsTruncated>true</IsTruncated>
  <DeleteMarker><Key>a b.txt</Key><VersionId>m1</VersionId><IsLatest>true</IsLatest>
    <LastModified>2026-12-02T08:00:00.000Z</LastModified></DeleteMarker>
  <Version><Key>a b.txt</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest>
    <LastModified>2026-12-02T07:00:00.000Z</LastModified><ETag>"abc"</ETag><Size>3</Size>
    <StorageClass>STANDARD</StorageClass></Version>
  <CommonPrefixes><Prefix>a/</Prefix></CommonPrefixes>
  <Version><Key>b.txt</Key><VersionId></VersionId><IsLatest>true</IsLatest><Size>0</Size></Version>
</ListVersionsResult>"#;
        let page = parse_versions_page(&Element::parse(xml).unwrap()).unwrap();
        assert_eq!(page.entries.len(), 4);
        assert!(matches!(&page.entries[0],
            VersionEntry::DeleteMarker(m) if m.key == "a b.txt" && m.version_id == "m1" && m.is_latest));
        assert!(matches!(&page.entries[1],
            VersionEntry::Version(v) if v.version_id == "v1" && !v.is_latest && v.size == 3
                && v.etag.as_deref() == Some("abc") && v.last_modified.is_some()));
        assert_eq!(page.entries[2], VersionEntry::Prefix("a/".into()));
        assert!(matches!(&page.entries[3],
            VersionEntry::Version(v) if v.version_id == "null" && v.key == "b.txt"));
        assert_eq!(
            page.next,
            Some(VersionMarker {
                key: "b.txt".into(),
                version_id: Some("v2".into())
            })
        );
    }

    #[test]
    fn a_long_page_is_read_in_linear_time() {
        // `EncodingType` was looked up again for every entry: 60 000 entries (3 MB) took
        // seconds, a page ten times that long minutes.
        let n = 60_000;
        let xml = format!(
            "<ListVersionsResult>{}<IsTruncated>false</IsTruncated></ListVersionsResult>",
            "<CommonPrefixes><Prefix>a</Prefix></CommonPrefixes>".repeat(n)
        );
        let doc = Element::parse(xml.as_bytes()).unwrap();
        let started = std::time::Instant::now();
        let page = parse_versions_page(&doc).unwrap();
        let took = started.elapsed();
        assert_eq!(page.entries.len(), n);
        assert!(took < std::time::Duration::from_secs(2), "{took:?}");
    }

    #[test]
    fn refuses_other_documents_and_truncation_without_a_marker() {
        let other = Element::parse(b"<ListBucketResult/>").unwrap();
        assert!(parse_versions_page(&other).is_err());
        let cut = Element::parse(
            b"<ListVersionsResult><IsTruncated>true</IsTruncated></ListVersionsResult>",
        )
        .unwrap();
        assert!(matches!(
            parse_versions_page(&cut),
            Err(Error::InvalidResponse(_))
        ));
    }
}
