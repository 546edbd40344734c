//! Object metadata: what is set on upload ([`Metadata`]) and what HEAD/GET tell
//! ([`ObjectInfo`]).

use std::collections::BTreeMap;
use std::time::SystemTime;

use http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_LENGTH,
    CONTENT_TYPE, ETAG, EXPIRES, HeaderMap, HeaderName, HeaderValue, LAST_MODIFIED,
};

use crate::{Error, Result};

/// S3's limit on user metadata: names and values, in UTF-8 bytes.
pub const MAX_USER_METADATA_BYTES: usize = 2048;

const META_PREFIX: &str = "x-amz-meta-";
/// The number of tags of an object, in HEAD and GET answers.
const TAGGING_COUNT: &str = "x-amz-tagging-count";
/// Where a website endpoint redirects requests for an object.
pub(crate) const WEBSITE_REDIRECT: HeaderName =
    HeaderName::from_static("x-amz-website-redirect-location");

/// The metadata of an object as set on upload or copy: the standard headers and the user
/// metadata (`x-amz-meta-*`).
///
/// ```
/// use sos_client::Metadata;
/// let meta = Metadata::new()
///     .content_type("image/jpeg")
///     .cache_control("max-age=3600")
///     .user("camera", "X100V");
/// assert_eq!(meta.user_metadata()["camera"], "X100V");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Expires` (an HTTP date, as sent).
    pub expires: Option<String>,
    /// User metadata, names lower-case without the `x-amz-meta-` prefix.
    pub user: BTreeMap<String, String>,
}

impl Metadata {
    /// No metadata.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `Content-Type`.
    #[must_use]
    pub fn content_type(mut self, value: impl Into<String>) -> Self {
        self.content_type = Some(value.into());
        self
    }

    /// Sets `Content-Encoding`.
    #[must_use]
    pub fn content_encoding(mut self, value: impl Into<String>) -> Self {
        self.content_encoding = Some(value.into());
        self
    }

    /// Sets `Content-Disposition` (see [`sos_presign::attachment`] for a download name).
    #[must_use]
    pub fn content_disposition(mut self, value: impl Into<String>) -> Self {
        self.content_disposition = Some(value.into());
        self
    }

    /// Sets `Content-Language`.
    #[must_use]
    pub fn content_language(mut self, value: impl Into<String>) -> Self {
        self.content_language = Some(value.into());
        self
    }

    /// Sets `Cache-Control`.
    #[must_use]
    pub fn cache_control(mut self, value: impl Into<String>) -> Self {
        self.cache_control = Some(value.into());
        self
    }

    /// Sets `Expires` (an HTTP date).
    #[must_use]
    pub fn expires(mut self, value: impl Into<String>) -> Self {
        self.expires = Some(value.into());
        self
    }

    /// Adds user metadata `x-amz-meta-{name}` (the name is lower-cased, as S3 stores it). The
    /// value must be ASCII, as S3 carries it: encode other text first (RFC 2047); sending
    /// fails with [`Error::InvalidInput`] otherwise.
    #[must_use]
    pub fn user(mut self, name: impl AsRef<str>, value: impl Into<String>) -> Self {
        self.user
            .insert(name.as_ref().to_ascii_lowercase(), value.into());
        self
    }

    /// The user metadata.
    pub fn user_metadata(&self) -> &BTreeMap<String, String> {
        &self.user
    }

    /// Bytes of user metadata as S3 counts them (names and values).
    pub fn user_metadata_size(&self) -> usize {
        self.user.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Writes the headers, after checking names, values and the 2 KB limit.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) -> Result<()> {
        let size = self.user_metadata_size();
        if size > MAX_USER_METADATA_BYTES {
            return Err(Error::MetadataTooLarge {
                size,
                limit: MAX_USER_METADATA_BYTES,
            });
        }
        let standard = [
            (CONTENT_TYPE, &self.content_type),
            (CONTENT_ENCODING, &self.content_encoding),
            (CONTENT_DISPOSITION, &self.content_disposition),
            (CONTENT_LANGUAGE, &self.content_language),
            (CACHE_CONTROL, &self.cache_control),
            (EXPIRES, &self.expires),
        ];
        for (name, value) in standard {
            if let Some(value) = value {
                headers.insert(name.clone(), header_value(name.as_str(), value)?);
            }
        }
        for (name, value) in &self.user {
            let full = format!("{META_PREFIX}{name}");
            let header = HeaderName::try_from(full.as_str())
                .map_err(|_| Error::InvalidInput(format!("`{name}` cannot be a metadata name")))?;
            headers.insert(header, header_value(&full, value)?);
        }
        Ok(())
    }

    /// Reads the metadata headers of a response.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let get = |name: HeaderName| text(headers.get(name));
        let mut user = BTreeMap::new();
        for (name, value) in headers {
            if let Some(short) = name.as_str().strip_prefix(META_PREFIX) {
                user.insert(
                    short.to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                );
            }
        }
        Self {
            content_type: get(CONTENT_TYPE),
            content_encoding: get(CONTENT_ENCODING),
            content_disposition: get(CONTENT_DISPOSITION),
            content_language: get(CONTENT_LANGUAGE),
            cache_control: get(CACHE_CONTROL),
            expires: get(EXPIRES),
            user,
        }
    }
}

/// The metadata headers of a response as they came (standard ones and `x-amz-meta-*`),
/// bytes untouched: what a copy gives its multipart upload, so that values other clients
/// stored raw (UTF-8, which [`Metadata`] refuses to send) are carried as they are.
pub(crate) fn raw_metadata_headers(headers: &HeaderMap) -> HeaderMap {
    let standard = [
        CONTENT_TYPE,
        CONTENT_ENCODING,
        CONTENT_DISPOSITION,
        CONTENT_LANGUAGE,
        CACHE_CONTROL,
        EXPIRES,
    ];
    headers
        .iter()
        .filter(|(name, _)| standard.contains(name) || name.as_str().starts_with(META_PREFIX))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

fn text(value: Option<&HeaderValue>) -> Option<String> {
    value.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn header_value(name: &str, value: &str) -> Result<HeaderValue> {
    if value.chars().any(char::is_control) {
        return Err(Error::InvalidInput(format!(
            "the value of `{name}` holds a control character"
        )));
    }
    // S3 carries metadata as US-ASCII: raw UTF-8 reaches other clients garbled (the aws CLI
    // reads it as Latin-1, and refuses to send it).
    if !value.is_ascii() {
        return Err(Error::InvalidInput(format!(
            "the value of `{name}` is not ASCII: encode other text first (RFC 2047 for \
             metadata, `filename*=UTF-8''...` for a Content-Disposition)"
        )));
    }
    HeaderValue::try_from(value)
        .map_err(|_| Error::InvalidInput(format!("the value of `{name}` is not a header value")))
}

/// What S3 tells about an object (HEAD, or the headers of a GET).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectInfo {
    /// Size in bytes (of the whole object; of the range for a ranged GET).
    pub content_length: u64,
    /// The ETag, quotes removed.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<SystemTime>,
    /// `x-amz-version-id`, on versioned buckets.
    pub version_id: Option<String>,
    /// `x-amz-storage-class`, when the server says.
    pub storage_class: Option<String>,
    /// `x-amz-tagging-count`: how many tags the object has, when it has some and the server
    /// says (S3, to callers allowed to read the tags, and the RADOS Gateway, on HEAD and
    /// GET; servers without tagging never do). The tags themselves:
    /// [`Client::get_object_tagging`](crate::Client::get_object_tagging).
    pub tag_count: Option<u32>,
    /// `x-amz-website-redirect-location`: where a website endpoint redirects requests for
    /// this object.
    pub website_redirect_location: Option<String>,
    /// Content type, encoding, ..., and user metadata.
    pub metadata: Metadata,
}

impl ObjectInfo {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Self {
            content_length: headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            etag: headers
                .get(ETAG)
                .and_then(|v| v.to_str().ok())
                .map(|e| e.trim_matches('"').to_owned()),
            last_modified: headers
                .get(LAST_MODIFIED)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| httpdate::parse_http_date(v).ok()),
            version_id: get("x-amz-version-id"),
            storage_class: get("x-amz-storage-class"),
            tag_count: get(TAGGING_COUNT).and_then(|v| v.trim().parse().ok()),
            website_redirect_location: get(WEBSITE_REDIRECT.as_str()),
            metadata: Metadata::from_headers(headers),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_checked_before_sending() {
        let meta = Metadata::new().user("big", "x".repeat(2046));
        let err = meta.apply(&mut HeaderMap::new()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::MetadataTooLarge {
                    size: 2049,
                    limit: 2048
                }
            ),
            "{err}"
        );
        let meta = Metadata::new().user("ok", "x".repeat(2046));
        meta.apply(&mut HeaderMap::new()).unwrap();
    }

    #[test]
    fn round_trip_through_headers() {
        let meta = Metadata::new()
            .content_type("text/plain; charset=utf-8")
            .cache_control("no-cache")
            .user("Camera", "X100V");
        let mut headers = HeaderMap::new();
        meta.apply(&mut headers).unwrap();
        assert_eq!(headers["x-amz-meta-camera"], "X100V");
        assert_eq!(Metadata::from_headers(&headers), meta);
    }

    #[test]
    fn tag_count_and_redirect_are_read() {
        let mut headers = HeaderMap::new();
        let info = ObjectInfo::from_headers(&headers);
        assert_eq!(
            (info.tag_count, info.website_redirect_location),
            (None, None)
        );
        headers.insert("x-amz-tagging-count", HeaderValue::from_static("3"));
        headers.insert(WEBSITE_REDIRECT, HeaderValue::from_static("/other.html"));
        let info = ObjectInfo::from_headers(&headers);
        assert_eq!(info.tag_count, Some(3));
        assert_eq!(
            info.website_redirect_location.as_deref(),
            Some("/other.html")
        );
        // The redirect is not user metadata, and a copy does not take it as such.
        assert!(info.metadata.is_empty());
        assert!(raw_metadata_headers(&headers).is_empty());
        for bad in ["-1", "x", "4294967296", ""] {
            headers.insert("x-amz-tagging-count", HeaderValue::from_static(bad));
            assert_eq!(ObjectInfo::from_headers(&headers).tag_count, None, "{bad}");
        }
    }

    #[test]
    fn bad_names_and_values_are_errors() {
        let bad = Metadata::new().user("a b", "v");
        assert!(matches!(
            bad.apply(&mut HeaderMap::new()),
            Err(Error::InvalidInput(_))
        ));
        let bad = Metadata::new().content_type("a\nb");
        assert!(matches!(
            bad.apply(&mut HeaderMap::new()),
            Err(Error::InvalidInput(_))
        ));
        // Non-ASCII text is refused, as botocore refuses it (S3 metadata is US-ASCII).
        for bad in [
            Metadata::new().user("note", "café"),
            Metadata::new().content_disposition("attachment; filename=\"café.txt\""),
        ] {
            match bad.apply(&mut HeaderMap::new()) {
                Err(Error::InvalidInput(message)) => {
                    assert!(message.contains("not ASCII"), "{message}")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    use proptest::prelude::*;

    proptest! {
        /// Whatever a server answers in the headers, reading them gives a value: numbers out
        /// of range, non-ASCII and non-UTF-8 bytes, dates that are not dates.
        #[test]
        fn any_headers_are_read(
            values in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "content-length", "etag", "last-modified", "x-amz-version-id",
                        "x-amz-storage-class", "content-type", "expires", "x-amz-meta-a",
                        "x-amz-meta-", "x-amz-meta-b-c", "x-amz-tagging-count",
                        "x-amz-website-redirect-location",
                    ]),
                    proptest::prop_oneof![
                        proptest::collection::vec(any::<u8>(), 0..40),
                        proptest::sample::select(vec![
                            "18446744073709551616", "-1", "+5", " 7", "\"\"", "\"",
                            "Thu, 01 Jan 1970 00:00:00 GMT", "Sun, 31 Feb 2026 25:61:61 GMT",
                            "Fri, 31 Dec 9999 23:59:59 GMT",
                        ]).prop_map(|s| s.as_bytes().to_vec()),
                    ],
                ),
                0..12,
            )
        ) {
            let mut headers = HeaderMap::new();
            for (name, value) in &values {
                if let Ok(value) = HeaderValue::from_bytes(value) {
                    headers.append(*name, value);
                }
            }
            let info = ObjectInfo::from_headers(&headers);
            let length = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
            proptest::prop_assert_eq!(info.content_length, length.unwrap_or(0));
            for name in info.metadata.user_metadata().keys() {
                let header = format!("{META_PREFIX}{name}");
                proptest::prop_assert!(headers.contains_key(header.as_str()));
            }
            let _ = raw_metadata_headers(&headers);
        }
    }
}
