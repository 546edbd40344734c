//! Multipart uploads, one request at a time: create, upload part, complete, abort, list.
//! The transfer manager ([`Client::upload`]) drives these in parallel.

use std::time::SystemTime;

use bytes::Bytes;
use http::Method;
use sos_acl::{CannedAcl, X_AMZ_ACL};

use crate::body::RequestBody;
use crate::checksum::Checksum;
use crate::client::{Client, Operation};
use crate::metadata::Metadata;
use crate::object::{PutObjectOutput, parse_iso8601};
use crate::xml::{Element, element};
use crate::{Error, Result};

/// S3's smallest part (all but the last): 5 MiB.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// S3's largest part: 5 GiB.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// S3's most parts in one upload.
pub const MAX_PARTS: u32 = 10_000;

/// A multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartUpload {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The upload id the server gave.
    pub upload_id: String,
}

/// An uploaded part, as completion needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// 1 ..= 10 000.
    pub part_number: u32,
    /// The part's ETag, quotes removed.
    pub etag: String,
}

/// A part as [`Client::list_parts`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartSummary {
    /// Its number.
    pub part_number: u32,
    /// Its ETag.
    pub etag: String,
    /// Its size.
    pub size: u64,
}

/// An upload in progress as [`Client::list_multipart_uploads`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadSummary {
    /// The key.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// When it was started.
    pub initiated: Option<SystemTime>,
}

impl Client {
    /// Starts a multipart upload.
    ///
    /// # Errors
    /// Invalid bucket, key or metadata; the server's error; transport. Never retried (a
    /// retry could leave a second, orphaned upload).
    pub async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        metadata: &Metadata,
        acl: Option<CannedAcl>,
    ) -> Result<MultipartUpload> {
        let mut headers = http::HeaderMap::new();
        metadata.apply(&mut headers)?;
        self.create_multipart_upload_with(bucket, key, headers, acl)
            .await
    }

    /// [`create_multipart_upload`](Self::create_multipart_upload) with the object's
    /// metadata as headers.
    pub(crate) async fn create_multipart_upload_with(
        &self,
        bucket: &str,
        key: &str,
        metadata: http::HeaderMap,
        acl: Option<CannedAcl>,
    ) -> Result<MultipartUpload> {
        crate::object::check_new_key(key)?;
        let mut op = Operation::new("CreateMultipartUpload", Method::POST)
            .bucket(bucket)
            .key(key)
            .sub_resource("uploads");
        op.headers = metadata;
        if let Some(acl) = acl {
            op.headers.insert(X_AMZ_ACL, acl.header_value());
        }
        let doc = self.send_xml(op).await?;
        Ok(MultipartUpload {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            upload_id: doc.required("UploadId")?.to_owned(),
        })
    }

    /// Uploads part `part_number` (1 ..= 10 000). Retried like any idempotent request.
    ///
    /// # Errors
    /// `NoSuchUpload`, `BadDigest`, `EntityTooLarge`, transport.
    pub async fn upload_part(
        &self,
        upload: &MultipartUpload,
        part_number: u32,
        data: Bytes,
        checksum: Checksum,
    ) -> Result<CompletedPart> {
        self.upload_part_body(upload, part_number, RequestBody::Bytes(data), checksum)
            .await
    }

    pub(crate) async fn upload_part_body(
        &self,
        upload: &MultipartUpload,
        part_number: u32,
        body: RequestBody,
        checksum: Checksum,
    ) -> Result<CompletedPart> {
        if !(1..=MAX_PARTS).contains(&part_number) {
            return Err(Error::InvalidInput(format!(
                "part number {part_number} is outside 1..=10000"
            )));
        }
        let mut op = Operation::new("UploadPart", Method::PUT)
            .bucket(&upload.bucket)
            .key(&upload.key)
            .param("partNumber", part_number.to_string())
            .param("uploadId", upload.upload_id.clone());
        self.add_checksum(&mut op.headers, checksum, &body).await?;
        let response = self.send(op.body(body)).await?;
        let etag = PutObjectOutput::from_response(&response)
            .etag
            .ok_or_else(|| Error::InvalidResponse("a part was stored without an ETag".into()))?;
        Ok(CompletedPart { part_number, etag })
    }

    /// Completes an upload from its parts (sorted here by part number).
    ///
    /// # Errors
    /// `InvalidPart`, `InvalidPartOrder`, `EntityTooSmall`, `NoSuchUpload` (also an error
    /// sent after a 200, which S3 does for slow completions), transport.
    pub async fn complete_multipart_upload(
        &self,
        upload: &MultipartUpload,
        parts: &[CompletedPart],
    ) -> Result<PutObjectOutput> {
        let mut sorted = parts.to_vec();
        sorted.sort_by_key(|p| p.part_number);
        let mut xml = String::from("<CompleteMultipartUpload>");
        for part in &sorted {
            xml.push_str("<Part>");
            element(&mut xml, "PartNumber", &part.part_number.to_string());
            element(&mut xml, "ETag", &format!("\"{}\"", part.etag));
            xml.push_str("</Part>");
        }
        xml.push_str("</CompleteMultipartUpload>");
        let op = Operation::new("CompleteMultipartUpload", Method::POST)
            .bucket(&upload.bucket)
            .key(&upload.key)
            .param("uploadId", upload.upload_id.clone())
            .xml_body(xml)
            // S3 answers 200 at once for slow completions and may fail in the body.
            .may_fail_after_ok();
        let (headers, doc) = self.send_xml_with_headers(op).await?;
        let version_id = headers
            .get("x-amz-version-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(PutObjectOutput {
            etag: completed_etag(&doc),
            version_id,
        })
    }

    /// Aborts an upload: its parts are deleted. Aborting an upload that is gone
    /// (`NoSuchUpload`) succeeds.
    ///
    /// # Errors
    /// `AccessDenied`, transport.
    pub async fn abort_multipart_upload(&self, upload: &MultipartUpload) -> Result<()> {
        let op = Operation::new("AbortMultipartUpload", Method::DELETE)
            .bucket(&upload.bucket)
            .key(&upload.key)
            .param("uploadId", upload.upload_id.clone());
        match self.send(op).await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(&crate::ErrorCode::NoSuchUpload) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The parts uploaded so far (all pages).
    ///
    /// # Errors
    /// `NoSuchUpload`, transport; a truncated page whose `NextPartNumberMarker` is missing
    /// or does not move forward ([`Error::InvalidResponse`], never a partial list).
    pub async fn list_parts(&self, upload: &MultipartUpload) -> Result<Vec<PartSummary>> {
        let mut parts = Vec::new();
        let mut marker: Option<u32> = None;
        // Ends: the marker grows at every page and stays at most MAX_PARTS.
        loop {
            let mut op = Operation::new("ListParts", Method::GET)
                .bucket(&upload.bucket)
                .key(&upload.key)
                .param("uploadId", upload.upload_id.clone());
            if let Some(m) = marker {
                op = op.param("part-number-marker", m.to_string());
            }
            let doc = self.send_xml(op).await?;
            parts.extend(parse_parts(&doc)?);
            match next_part_marker(&doc, marker)? {
                None => return Ok(parts),
                next => marker = next,
            }
        }
    }

    /// The uploads in progress in a bucket, under `prefix` (all pages).
    ///
    /// # Errors
    /// `NoSuchBucket`, transport; a truncated page without markers, or with the markers of
    /// the page before, or more than 1000 pages ([`Error::InvalidResponse`], never a
    /// partial list).
    pub async fn list_multipart_uploads(
        &self,
        bucket: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<UploadSummary>> {
        let mut uploads = Vec::new();
        let mut markers: Option<(String, String)> = None;
        // Bounded: 1000 pages of 1000 uploads.
        for _ in 0..1000 {
            let mut op = Operation::new("ListMultipartUploads", Method::GET)
                .bucket(bucket)
                .sub_resource("uploads");
            if let Some(p) = prefix {
                op = op.param("prefix", p);
            }
            if let Some((key, id)) = &markers {
                op = op
                    .param("key-marker", key.clone())
                    .param("upload-id-marker", id.clone());
            }
            let doc = self.send_xml(op).await?;
            uploads.extend(parse_uploads(&doc)?);
            match next_upload_markers(&doc, markers.as_ref())? {
                None => return Ok(uploads),
                next => markers = next,
            }
        }
        Err(Error::InvalidResponse(
            "more than 1000 pages of uploads".to_owned(),
        ))
    }
}

/// The parts of a `ListPartsResult` page.
pub(crate) fn parse_parts(doc: &Element) -> Result<Vec<PartSummary>> {
    doc.children("Part")
        .map(|part| {
            Ok(PartSummary {
                part_number: part.number("PartNumber")?.unwrap_or(0),
                etag: part.required("ETag")?.trim_matches('"').to_owned(),
                size: part.number("Size")?.unwrap_or(0),
            })
        })
        .collect()
}

/// The uploads of a `ListMultipartUploadsResult` page.
pub(crate) fn parse_uploads(doc: &Element) -> Result<Vec<UploadSummary>> {
    doc.children("Upload")
        .map(|upload| {
            Ok(UploadSummary {
                key: upload.required("Key")?.to_owned(),
                upload_id: upload.required("UploadId")?.to_owned(),
                initiated: upload.text_of("Initiated").and_then(parse_iso8601),
            })
        })
        .collect()
}

/// The ETag of a `CompleteMultipartUploadResult`, quotes removed; `None` when missing or
/// empty (the RADOS Gateway 16.2 sends an empty `<ETag>`).
pub(crate) fn completed_etag(doc: &Element) -> Option<String> {
    doc.text_of("ETag")
        .map(|e| e.trim().trim_matches('"').to_owned())
        .filter(|e| !e.is_empty())
}

/// Where the next page of a `ListParts` starts (`None`: this was the last page). A truncated
/// page must name a marker beyond the one before (so the listing ends: markers grow and stay
/// below [`MAX_PARTS`]); anything else is an error, never a partial list.
pub(crate) fn next_part_marker(doc: &Element, previous: Option<u32>) -> Result<Option<u32>> {
    if !doc.flag("IsTruncated")? {
        return Ok(None);
    }
    let next: u32 = doc.number("NextPartNumberMarker")?.ok_or_else(|| {
        Error::InvalidResponse("a truncated list of parts without a marker".to_owned())
    })?;
    if previous.is_some_and(|m| next <= m) || next >= MAX_PARTS {
        return Err(Error::InvalidResponse(format!(
            "the list of parts does not move forward (marker {next})"
        )));
    }
    Ok(Some(next))
}

/// Where the next page of a `ListMultipartUploads` starts (`None`: this was the last page).
/// A truncated page must name both markers, different from the page before's; anything else
/// is an error, never a partial list.
pub(crate) fn next_upload_markers(
    doc: &Element,
    previous: Option<&(String, String)>,
) -> Result<Option<(String, String)>> {
    if !doc.flag("IsTruncated")? {
        return Ok(None);
    }
    let next = match (
        doc.text_of("NextKeyMarker"),
        doc.text_of("NextUploadIdMarker"),
    ) {
        (Some(key), Some(id)) if !key.is_empty() => (key.to_owned(), id.to_owned()),
        _ => {
            return Err(Error::InvalidResponse(
                "a truncated list of uploads without markers".to_owned(),
            ));
        }
    };
    if previous == Some(&next) {
        return Err(Error::InvalidResponse(
            "the server returned the same upload markers twice".to_owned(),
        ));
    }
    Ok(Some(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(xml: &str) -> Element {
        Element::parse(xml.as_bytes()).unwrap()
    }

    #[test]
    fn part_pages_end_or_move_forward() {
        let last = doc("<ListPartsResult><IsTruncated>false</IsTruncated></ListPartsResult>");
        assert_eq!(next_part_marker(&last, Some(3)).unwrap(), None);
        let page = |marker: &str| {
            doc(&format!(
                "<ListPartsResult><IsTruncated>true</IsTruncated>{marker}</ListPartsResult>"
            ))
        };
        let next = page("<NextPartNumberMarker>100</NextPartNumberMarker>");
        assert_eq!(next_part_marker(&next, None).unwrap(), Some(100));
        assert_eq!(next_part_marker(&next, Some(99)).unwrap(), Some(100));
        // A truncated page without a marker, or one that does not advance, is an error: the
        // list is never returned cut short.
        for (page, previous) in [
            (page(""), None),
            (next, Some(100)),
            (
                page("<NextPartNumberMarker>10000</NextPartNumberMarker>"),
                None,
            ),
        ] {
            assert!(
                matches!(
                    next_part_marker(&page, previous),
                    Err(Error::InvalidResponse(_))
                ),
                "{previous:?}"
            );
        }
    }

    #[test]
    fn upload_pages_end_or_move_on() {
        let last = doc(
            "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>\
            </ListMultipartUploadsResult>",
        );
        assert_eq!(next_upload_markers(&last, None).unwrap(), None);
        let truncated = doc(
            "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>\
            <NextKeyMarker>a b</NextKeyMarker><NextUploadIdMarker>2~x</NextUploadIdMarker>\
            </ListMultipartUploadsResult>",
        );
        let markers = ("a b".to_owned(), "2~x".to_owned());
        assert_eq!(
            next_upload_markers(&truncated, None).unwrap(),
            Some(markers.clone())
        );
        assert!(matches!(
            next_upload_markers(&truncated, Some(&markers)),
            Err(Error::InvalidResponse(_))
        ));
        let no_markers = doc(
            "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>\
            </ListMultipartUploadsResult>",
        );
        assert!(matches!(
            next_upload_markers(&no_markers, None),
            Err(Error::InvalidResponse(_))
        ));
    }
}
