//! Object tags: key-value pairs set on an object apart from its metadata (up to 10), that
//! can be changed without rewriting the object; lifecycle rules and policies can select
//! objects by them. Buckets have tags too (up to 50): [`Client::get_bucket_tagging`],
//! [`Client::put_bucket_tagging`], [`Client::delete_bucket_tagging`].
//!
//! [`Tags`] checks S3's rules before any request. Tags are read, replaced and removed with
//! [`Client::get_object_tagging`], [`Client::put_object_tagging`] and
//! [`Client::delete_object_tagging`] (and their `_version_` variants), given on upload with
//! [`PutObject::tags`](crate::PutObject::tags) and [`Upload::tags`](crate::Upload::tags), and
//! kept or replaced by copies ([`CopyObject::replace_tags`](crate::CopyObject::replace_tags),
//! [`CopyTransfer::replace_tags`](crate::CopyTransfer::replace_tags)).
//!
//! Servers without tagging (Garage) answer the tagging operations with `NotImplemented`, and
//! ignore tags given with an upload or a copy.

use http::header::{HeaderName, HeaderValue};
use http::{Method, StatusCode};

use crate::client::{Client, Operation, encode_query};
use crate::xml::{Element, element};
use crate::{Error, ErrorCode, Result};

/// S3's most tags on one object.
pub const MAX_TAGS: usize = 10;
/// S3's most tags on one bucket.
pub const MAX_BUCKET_TAGS: usize = 50;
/// S3's longest tag key, in UTF-16 code units (S3 counts tags in UTF-16: a character
/// outside the Basic Multilingual Plane, such as `𝒜` U+1D49C, counts twice).
pub const MAX_TAG_KEY_LEN: usize = 128;
/// S3's longest tag value, in UTF-16 code units.
pub const MAX_TAG_VALUE_LEN: usize = 256;

/// The header that gives an object its tags on upload or copy.
pub(crate) const X_AMZ_TAGGING: HeaderName = HeaderName::from_static("x-amz-tagging");

/// The tags of an object: key-value pairs, in order.
///
/// Building a set checks nothing; [`validate`](Self::validate) checks S3's rules, and every
/// request that sends tags calls it first (an [`Error::InvalidTag`] before anything is
/// sent):
/// - at most [`MAX_TAGS`] (10) tags, each key given once (case matters: `a` and `A` differ);
/// - a key of 1 to 128 characters, a value of 0 to 256, counted in UTF-16 code units as S3
///   counts them (the RADOS Gateway, as SOS, counts UTF-8 bytes instead, and answers
///   `InvalidTag` to a key over 128 bytes, such as 65 `é`);
/// - only letters, digits and spaces of any script, and `+ - = . _ : / @` (S3's pattern
///   `[\p{L}\p{Z}\p{N}_.:/=+\-@]`; letters are taken as Unicode's `Alphabetic`, which also
///   admits a few combining marks that S3 then refuses). The RADOS Gateway stores other
///   characters as well; tags another client stored that way are read as they are, and a
///   copy carries them;
/// - no key starting with `aws:` (in any case): the prefix is reserved for AWS.
///
/// ```
/// use sos_client::Tags;
/// let mut tags = Tags::new().with("project", "blue").with("owner", "ops@example.com");
/// tags.insert("project", "green");
/// assert_eq!(tags.get("project"), Some("green"));
/// assert_eq!(tags.len(), 2);
/// tags.validate()?;
/// for (key, value) in &tags {
///     println!("{key}={value}");
/// }
/// // Checked before any request: a repeated key, a reserved one, too many tags.
/// let twice: Tags = [("a", "1"), ("a", "2")].into_iter().collect();
/// assert!(matches!(twice.validate(), Err(sos_client::Error::InvalidTag(_))));
/// assert!(Tags::new().with("aws:owner", "me").validate().is_err());
/// # Ok::<(), sos_client::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Tags {
    pairs: Vec<(String, String)>,
}

impl Tags {
    /// No tags.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tag at the end (a key given twice is refused when the tags are sent; see
    /// [`insert`](Self::insert) to replace a value).
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.pairs.push((key.into(), value.into()));
        self
    }

    /// Sets the value of `key`: replaces it in place when the key is there (returning the
    /// old value), adds the tag at the end otherwise.
    ///
    /// ```
    /// let mut tags = sos_client::Tags::new().with("stage", "draft");
    /// assert_eq!(tags.insert("stage", "final"), Some("draft".to_owned()));
    /// assert_eq!(tags.insert("owner", "ops"), None);
    /// assert_eq!(tags.iter().collect::<Vec<_>>(), [("stage", "final"), ("owner", "ops")]);
    /// ```
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let key = key.into();
        let value = value.into();
        match self.pairs.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => Some(std::mem::replace(old, value)),
            None => {
                self.pairs.push((key, value));
                None
            }
        }
    }

    /// Removes every tag with this key, returning the first one's value.
    ///
    /// ```
    /// let mut tags = sos_client::Tags::new().with("a", "1").with("b", "2");
    /// assert_eq!(tags.remove("a"), Some("1".to_owned()));
    /// assert_eq!(tags.remove("a"), None);
    /// assert_eq!(tags.len(), 1);
    /// ```
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let first = self
            .pairs
            .iter()
            .position(|(k, _)| k == key)
            .map(|i| self.pairs.remove(i).1);
        self.pairs.retain(|(k, _)| k != key);
        first
    }

    /// The value of `key` (the first, should it be there twice).
    ///
    /// ```
    /// let tags = sos_client::Tags::new().with("project", "blue");
    /// assert_eq!(tags.get("project"), Some("blue"));
    /// assert_eq!(tags.get("Project"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The number of tags.
    ///
    /// ```
    /// assert_eq!(sos_client::Tags::new().with("a", "").len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are no tags.
    ///
    /// ```
    /// assert!(sos_client::Tags::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The tags as `(key, value)`, in order.
    ///
    /// ```
    /// let tags = sos_client::Tags::new().with("a", "1").with("b", "2");
    /// let keys: Vec<&str> = tags.iter().map(|(k, _)| k).collect();
    /// assert_eq!(keys, ["a", "b"]);
    /// ```
    pub fn iter(&self) -> TagsIter<'_> {
        TagsIter(self.pairs.iter())
    }

    /// Checks S3's rules (see [`Tags`]); every request that sends tags does so first.
    ///
    /// ```
    /// use sos_client::Tags;
    /// Tags::new().with("café owner", "Zoë+1@example.com").validate()?;
    /// assert!(Tags::new().with("k", "a,b").validate().is_err());
    /// assert!(Tags::new().with("", "v").validate().is_err());
    /// assert!(Tags::new().with("k".repeat(129), "v").validate().is_err());
    /// # Ok::<(), sos_client::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidTag`], naming the tag and the rule it breaks.
    pub fn validate(&self) -> Result<()> {
        self.validate_at_most(MAX_TAGS, "object")
    }

    /// Checks the rules of [`validate`](Self::validate) for the tags of a bucket, which
    /// may hold up to [`MAX_BUCKET_TAGS`] (50).
    ///
    /// # Errors
    /// [`Error::InvalidTag`], naming the tag and the rule it breaks.
    pub fn validate_for_bucket(&self) -> Result<()> {
        self.validate_at_most(MAX_BUCKET_TAGS, "bucket")
    }

    fn validate_at_most(&self, max: usize, of: &str) -> Result<()> {
        if self.pairs.len() > max {
            return Err(Error::InvalidTag(format!(
                "{} tags; S3 allows {max} per {of}",
                self.pairs.len()
            )));
        }
        for (i, (key, value)) in self.pairs.iter().enumerate() {
            let key_len = key.encode_utf16().count();
            if key_len == 0 {
                return Err(Error::InvalidTag("an empty key".to_owned()));
            }
            if key_len > MAX_TAG_KEY_LEN {
                return Err(Error::InvalidTag(format!(
                    "the key `{key}` is {key_len} characters long (in UTF-16); S3 allows \
                     {MAX_TAG_KEY_LEN}"
                )));
            }
            let value_len = value.encode_utf16().count();
            if value_len > MAX_TAG_VALUE_LEN {
                return Err(Error::InvalidTag(format!(
                    "the value of `{key}` is {value_len} characters long (in UTF-16); S3 \
                     allows {MAX_TAG_VALUE_LEN}"
                )));
            }
            if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
                return Err(Error::InvalidTag(format!(
                    "the key `{key}`: the `aws:` prefix is reserved for AWS"
                )));
            }
            if let Some(c) = key.chars().find(|&c| !allowed(c)) {
                return Err(Error::InvalidTag(format!(
                    "the key `{key}` holds {c:?}: S3 allows letters, digits, spaces and \
                     `+ - = . _ : / @`"
                )));
            }
            if let Some(c) = value.chars().find(|&c| !allowed(c)) {
                return Err(Error::InvalidTag(format!(
                    "the value of `{key}` holds {c:?}: S3 allows letters, digits, spaces and \
                     `+ - = . _ : / @`"
                )));
            }
            if self.pairs[..i].iter().any(|(k, _)| k == key) {
                return Err(Error::InvalidTag(format!("the key `{key}` is given twice")));
            }
        }
        Ok(())
    }

    /// The tags as `x-amz-tagging` carries them: `k=v&k2=v2`, each key and value
    /// percent-encoded but for `A-Z a-z 0-9 - _ . ~`. S3 decodes it as a form (`+` is a
    /// space there), the RADOS Gateway with `+` kept as it is: with `+` and spaces both
    /// encoded (`%2B`, `%20`), both read the tags that were meant. Not checked (see
    /// [`header_value`](Self::header_value)).
    pub(crate) fn to_header(&self) -> String {
        let mut out = String::new();
        for (i, (key, value)) in self.pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            encode_query(key, &mut out);
            out.push('=');
            encode_query(value, &mut out);
        }
        out
    }

    /// The checked `x-amz-tagging` header; `None` for no tags (an empty header is refused
    /// by some RADOS Gateway versions).
    pub(crate) fn header_value(&self) -> Result<Option<(HeaderName, HeaderValue)>> {
        self.validate()?;
        Ok(self.unchecked_header())
    }

    /// The `x-amz-tagging` header of tags read from a server, as they are (a copy carries
    /// what the source holds, characters S3 would refuse included).
    pub(crate) fn unchecked_header(&self) -> Option<(HeaderName, HeaderValue)> {
        if self.is_empty() {
            return None;
        }
        // Percent-encoded: ASCII only, always a valid header value.
        let value = HeaderValue::try_from(self.to_header()).ok()?;
        Some((X_AMZ_TAGGING, value))
    }

    /// The `<Tagging>` document of `PutObjectTagging`.
    pub(crate) fn to_xml(&self) -> String {
        let mut xml =
            String::from("<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>");
        for (key, value) in &self.pairs {
            xml.push_str("<Tag>");
            element(&mut xml, "Key", key);
            element(&mut xml, "Value", value);
            xml.push_str("</Tag>");
        }
        xml.push_str("</TagSet></Tagging>");
        xml
    }

    /// Reads a `GetObjectTagging` answer. An empty body is an empty set: the RADOS Gateway
    /// (Ceph 16.2) answers `200 OK` with no body for an object whose tags it lost (given
    /// to `CreateMultipartUpload`), whose HEAD says `x-amz-tagging-count: 0`.
    pub(crate) fn parse_response(body: &[u8]) -> Result<Tags> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Tags::new());
        }
        let doc = Element::parse(body)?;
        if doc.name != "Tagging" {
            return Err(Error::InvalidResponse(format!(
                "expected <Tagging>, got <{}>",
                doc.name
            )));
        }
        let mut tags = Tags::new();
        for set in doc.children("TagSet") {
            for tag in set.children("Tag") {
                tags.pairs.push((
                    tag.required("Key")?.to_owned(),
                    tag.text_of("Value").unwrap_or_default().to_owned(),
                ));
            }
        }
        Ok(tags)
    }

    /// Whether both hold the same tags, in any order (servers answer them sorted).
    pub(crate) fn same_set(&self, other: &Tags) -> bool {
        fn sorted(tags: &Tags) -> Vec<&(String, String)> {
            let mut pairs: Vec<&(String, String)> = tags.pairs.iter().collect();
            pairs.sort();
            pairs
        }
        sorted(self) == sorted(other)
    }
}

/// S3's tag characters: `[\p{L}\p{Z}\p{N}_.:/=+\-@]`. `\p{Z}` (space separators, line and
/// paragraph separators) is exactly the white space that is not a control character.
fn allowed(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || (c.is_whitespace() && !c.is_control())
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

/// An iterator over `(key, value)` of [`Tags`], in order.
#[derive(Debug, Clone)]
pub struct TagsIter<'a>(std::slice::Iter<'a, (String, String)>);

impl<'a> Iterator for TagsIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for TagsIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl ExactSizeIterator for TagsIter<'_> {}

impl<'a> IntoIterator for &'a Tags {
    type Item = (&'a str, &'a str);
    type IntoIter = TagsIter<'a>;

    fn into_iter(self) -> TagsIter<'a> {
        self.iter()
    }
}

impl IntoIterator for Tags {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.pairs.into_iter()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Tags {
    /// The pairs as given, in order (a repeated key is kept, and refused when sent).
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut tags = Tags::new();
        tags.extend(iter);
        tags
    }
}

impl<K: Into<String>, V: Into<String>> Extend<(K, V)> for Tags {
    /// Adds the pairs at the end, as given.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        self.pairs
            .extend(iter.into_iter().map(|(k, v)| (k.into(), v.into())));
    }
}

fn tagging_op<'a>(
    name: &'static str,
    method: Method,
    bucket: &'a str,
    key: &'a str,
    version_id: Option<&str>,
) -> Result<Operation<'a>> {
    let op = Operation::new(name, method)
        .bucket(bucket)
        .key(key)
        .sub_resource("tagging");
    match version_id {
        Some("") => Err(Error::InvalidInput("an empty version id".to_owned())),
        Some(v) => Ok(op.param("versionId", v)),
        None => Ok(op),
    }
}

impl Client {
    /// The tags of an object ([GetObjectTagging]), in the server's order.
    ///
    /// ```no_run
    /// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
    /// let tags = client.get_object_tagging("reports", "2026/q4.pdf").await?;
    /// if tags.get("classification") == Some("confidential") {
    ///     println!("{} tags, confidential", tags.len());
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// `NoSuchKey`, `NoSuchBucket`, `AccessDenied`, `NotImplemented` (a server without
    /// tagging, such as Garage), an answer that is not a tag set, transport.
    ///
    /// [GetObjectTagging]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html
    pub async fn get_object_tagging(&self, bucket: &str, key: &str) -> Result<Tags> {
        self.tagging_of(bucket, key, None).await
    }

    /// The tags of one version of an object (versioned buckets; `null` for the version
    /// written while versioning was off).
    ///
    /// ```no_run
    /// # async fn f(client: sos_client::Client, version: String) -> sos_client::Result<()> {
    /// let tags = client.get_object_version_tagging("backups", "db.dump", &version).await?;
    /// # let _ = tags;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`get_object_tagging`](Self::get_object_tagging); `NoSuchKey` (or
    /// `NoSuchVersion`) for a version that does not exist; an empty version id before any
    /// request.
    pub async fn get_object_version_tagging(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Tags> {
        self.tagging_of(bucket, key, Some(version_id)).await
    }

    async fn tagging_of(&self, bucket: &str, key: &str, version: Option<&str>) -> Result<Tags> {
        let op = tagging_op("GetObjectTagging", Method::GET, bucket, key, version)?;
        let response = self.send(op).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = crate::client::read_xml_body(response).await?;
        // (Not `send_xml`: the empty answer of the RADOS Gateway is not an XML document.)
        if let Ok(doc) = Element::parse(&body)
            && doc.name == "Error"
        {
            return Err(error_after_ok(status, &headers, &doc));
        }
        Tags::parse_response(&body)
    }

    /// Replaces the tags of an object ([PutObjectTagging]) with `tags`, checked first (see
    /// [`Tags`]); sent with its `Content-MD5`, which S3 requires. An empty set removes them
    /// all.
    ///
    /// ```no_run
    /// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
    /// use sos_client::Tags;
    /// let tags = Tags::new().with("project", "blue").with("expires", "2027-01-01");
    /// client.put_object_tagging("reports", "2026/q4.pdf", &tags).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidTag`] before any request; `NoSuchKey`, `InvalidTag` (the server's
    /// own rules, see [`Tags`]), `AccessDenied`, `NotImplemented` (Garage), transport.
    ///
    /// [PutObjectTagging]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html
    pub async fn put_object_tagging(&self, bucket: &str, key: &str, tags: &Tags) -> Result<()> {
        tags.validate()?;
        self.send_tagging(bucket, key, None, tags).await
    }

    /// Replaces the tags of one version of an object (versioned buckets).
    ///
    /// ```no_run
    /// # async fn f(client: sos_client::Client, version: String) -> sos_client::Result<()> {
    /// let tags = sos_client::Tags::new().with("retain", "yes");
    /// client.put_object_version_tagging("backups", "db.dump", &version, &tags).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`put_object_tagging`](Self::put_object_tagging); an empty version id before any
    /// request.
    pub async fn put_object_version_tagging(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
        tags: &Tags,
    ) -> Result<()> {
        tags.validate()?;
        self.send_tagging(bucket, key, Some(version_id), tags).await
    }

    /// `PutObjectTagging` of `tags` as they are.
    async fn send_tagging(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        tags: &Tags,
    ) -> Result<()> {
        // `xml_body` adds the body's Content-MD5.
        let op = tagging_op("PutObjectTagging", Method::PUT, bucket, key, version)?
            .xml_body(tags.to_xml());
        self.send(op).await?;
        Ok(())
    }

    /// Removes every tag of an object ([DeleteObjectTagging]); succeeds when there are none.
    ///
    /// The RADOS Gateway (Ceph 16.2, as SOS) then lists the object with an empty ETag and
    /// owner (its HEAD is unchanged) until its tags are next set; a
    /// [`put_object_tagging`](Self::put_object_tagging) of an empty set removes them
    /// without that (and needs the `s3:PutObjectTagging` permission instead).
    ///
    /// ```no_run
    /// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
    /// client.delete_object_tagging("reports", "2026/q4.pdf").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// `NoSuchKey`, `AccessDenied`, `NotImplemented` (Garage), transport.
    ///
    /// [DeleteObjectTagging]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjectTagging.html
    pub async fn delete_object_tagging(&self, bucket: &str, key: &str) -> Result<()> {
        self.remove_tagging(bucket, key, None).await
    }

    /// Removes every tag of one version of an object (versioned buckets).
    ///
    /// ```no_run
    /// # async fn f(client: sos_client::Client, version: String) -> sos_client::Result<()> {
    /// client.delete_object_version_tagging("backups", "db.dump", &version).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`delete_object_tagging`](Self::delete_object_tagging); an empty version id
    /// before any request.
    pub async fn delete_object_version_tagging(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<()> {
        self.remove_tagging(bucket, key, Some(version_id)).await
    }

    async fn remove_tagging(&self, bucket: &str, key: &str, version: Option<&str>) -> Result<()> {
        let op = tagging_op("DeleteObjectTagging", Method::DELETE, bucket, key, version)?;
        self.send(op).await?;
        Ok(())
    }

    /// The tags of a bucket ([GetBucketTagging]); none when it has no tag set (S3's
    /// `NoSuchTagSet`).
    ///
    /// ```no_run
    /// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
    /// let tags = client.get_bucket_tagging("reports").await?;
    /// println!("cost center: {:?}", tags.get("cost-center"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, `NotImplemented` (Garage), an answer that is not a
    /// tag set, transport.
    ///
    /// [GetBucketTagging]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketTagging.html
    pub async fn get_bucket_tagging(&self, bucket: &str) -> Result<Tags> {
        let op = Operation::new("GetBucketTagging", Method::GET)
            .bucket(bucket)
            .sub_resource("tagging");
        match self.send(op).await {
            Ok(response) => Tags::parse_response(&crate::client::read_xml_body(response).await?),
            Err(e) if e.code() == Some(&ErrorCode::NoSuchTagSet) => Ok(Tags::new()),
            Err(e) => Err(e),
        }
    }

    /// Replaces the tags of a bucket ([PutBucketTagging]) with `tags`, checked first (up to
    /// 50, see [`Tags::validate_for_bucket`]); sent with its `Content-MD5`.
    ///
    /// ```no_run
    /// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
    /// use sos_client::Tags;
    /// let tags = Tags::new().with("cost-center", "4711").with("team", "data");
    /// client.put_bucket_tagging("reports", &tags).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidTag`] before any request; `NoSuchBucket`, `InvalidTag`,
    /// `AccessDenied`, `NotImplemented` (Garage), transport.
    ///
    /// [PutBucketTagging]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketTagging.html
    pub async fn put_bucket_tagging(&self, bucket: &str, tags: &Tags) -> Result<()> {
        tags.validate_for_bucket()?;
        let op = Operation::new("PutBucketTagging", Method::PUT)
            .bucket(bucket)
            .sub_resource("tagging")
            .xml_body(tags.to_xml());
        self.send(op).await?;
        Ok(())
    }

    /// Removes the tags of a bucket ([DeleteBucketTagging]); succeeds when there are none.
    ///
    /// ```no_run
    /// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
    /// client.delete_bucket_tagging("reports").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, `NotImplemented` (Garage), transport.
    ///
    /// [DeleteBucketTagging]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketTagging.html
    pub async fn delete_bucket_tagging(&self, bucket: &str) -> Result<()> {
        let op = Operation::new("DeleteBucketTagging", Method::DELETE)
            .bucket(bucket)
            .sub_resource("tagging");
        match self.send(op).await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(&ErrorCode::NoSuchTagSet) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The tags a copy reads from its source (one version of it, when named), when its HEAD
    /// says it has some (`x-amz-tagging-count` above 0): S3 (`TagCount` of `HeadObject`, to
    /// callers allowed to read the tags) and the RADOS Gateway (whenever the object has a
    /// tag set: the same code answers HEAD and GET) send the count on a HEAD of every
    /// object with tags; without it there are none to read. (A server that keeps tags but
    /// leaves the count out of its HEAD answers would see them dropped by copies in parts.)
    /// A server without tagging (`NotImplemented`) holds none.
    pub(crate) async fn source_tags(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        tag_count: Option<u32>,
    ) -> Result<Tags> {
        if tag_count.is_none_or(|n| n == 0) {
            return Ok(Tags::new());
        }
        match self.tagging_of(bucket, key, version).await {
            Err(e) if e.code() == Some(&ErrorCode::NotImplemented) => Ok(Tags::new()),
            other => other,
        }
    }

    /// Makes sure the object written at `key` (the version given, when known) holds exactly
    /// `tags`, which a server was asked to give it, and sets them when it does not: the
    /// RADOS Gateway (Ceph 16.2, as SOS) loses the `x-amz-tagging` of a
    /// `CreateMultipartUpload`, and ignores the tagging directive of a `CopyObject` (and
    /// drops the source's tags when the metadata is replaced). One `GetObjectTagging`, and
    /// a `PutObjectTagging` where the server got them wrong (or where they cannot be read
    /// back: `AccessDenied`): of an empty set to remove them, not a `DeleteObjectTagging`,
    /// which blanks the object's ETag in the gateway's listings. A server without tagging
    /// (`NotImplemented`) ignores tags on uploads and copies; so does this.
    pub(crate) async fn settle_tags(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        tags: &Tags,
    ) -> Result<()> {
        let stored = match self.tagging_of(bucket, key, version).await {
            Err(e) if e.code() == Some(&ErrorCode::NotImplemented) => return Ok(()),
            // Allowed to tag but not to read tags (S3 policies can say so): set them.
            Err(e) if e.code() == Some(&ErrorCode::AccessDenied) => None,
            other => Some(other?),
        };
        if stored.is_some_and(|stored| stored.same_set(tags)) {
            return Ok(());
        }
        tracing::debug!(
            bucket,
            key,
            "the server did not store the tags asked for; setting them"
        );
        self.send_tagging(bucket, key, version, tags).await
    }
}

/// An `<Error>` document answered with a success status, as `send_xml` reads one: the
/// code it names (`InternalError` when none), the status it came with.
fn error_after_ok(status: StatusCode, headers: &http::HeaderMap, doc: &Element) -> Error {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let text = |name: &str| {
        doc.text_of(name)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    Error::from(crate::ServiceError {
        status,
        code: text("Code").map_or(ErrorCode::InternalError, |c| ErrorCode::parse(&c)),
        message: text("Message").unwrap_or_default(),
        request_id: text("RequestId").or_else(|| header("x-amz-request-id")),
        host_id: text("HostId").or_else(|| header("x-amz-id-2")),
        resource: ["Resource", "Key", "BucketName"]
            .iter()
            .find_map(|n| text(n)),
    })
}

/// The error S3 and the RADOS Gateway answer to a `CopyObject` of an object onto itself
/// that changes nothing (a `400 InvalidRequest`), made by the client.
pub(crate) fn self_copy_error(bucket: &str) -> Error {
    Error::from(crate::ServiceError {
        status: StatusCode::BAD_REQUEST,
        code: ErrorCode::InvalidRequest,
        message: "This copy request is illegal because it is trying to copy an object to \
                  itself without changing the object's metadata, storage class, website \
                  redirect location or encryption attributes."
            .to_owned(),
        request_id: None,
        host_id: None,
        resource: Some(bucket.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(tags: &Tags) -> String {
        match tags.validate() {
            Err(Error::InvalidTag(message)) => message,
            other => panic!("{tags:?}: {other:?}"),
        }
    }

    #[test]
    fn limits_are_s3s() {
        let ten: Tags = (0..10).map(|i| (format!("k{i}"), "v")).collect();
        ten.validate().unwrap();
        let eleven = ten.clone().with("k10", "v");
        assert!(invalid(&eleven).contains("11 tags"));

        Tags::new()
            .with("k".repeat(128), "v".repeat(256))
            .validate()
            .unwrap();
        assert!(invalid(&Tags::new().with("k".repeat(129), "v")).contains("129"));
        assert!(invalid(&Tags::new().with("k", "v".repeat(257))).contains("257"));
        assert!(invalid(&Tags::new().with("", "v")).contains("empty"));
        Tags::new().with("k", "").validate().unwrap();
        // Counted in UTF-16: `é` is one unit (two UTF-8 bytes), `𝒜` (U+1D49C) two.
        Tags::new().with("é".repeat(128), "v").validate().unwrap();
        Tags::new()
            .with("𝒜".repeat(64), "𝒜".repeat(128))
            .validate()
            .unwrap();
        assert!(invalid(&Tags::new().with("𝒜".repeat(65), "v")).contains("130"));
        assert!(invalid(&Tags::new().with("k", "𝒜".repeat(129))).contains("258"));
    }

    #[test]
    fn keys_are_unique_and_aws_is_reserved() {
        let twice: Tags = [("a", "1"), ("b", "2"), ("a", "3")].into_iter().collect();
        assert!(invalid(&twice).contains("twice"));
        // Case matters.
        Tags::new()
            .with("a", "1")
            .with("A", "2")
            .validate()
            .unwrap();
        for key in ["aws:x", "AWS:cost", "Aws:"] {
            assert!(
                invalid(&Tags::new().with(key, "v")).contains("reserved"),
                "{key}"
            );
        }
        Tags::new()
            .with("aws", "v")
            .with("x", "aws:y")
            .validate()
            .unwrap();
    }

    #[test]
    fn characters_are_s3s() {
        let good = "Zoë Ωmega 日本語 \u{3000}٣ +-=._:/@ 09";
        Tags::new().with(good, good).validate().unwrap();
        for bad in [
            "a,b",
            "a&b",
            "a?b",
            "a!b",
            "a#b",
            "a(b)",
            "a*b",
            "a\tb",
            "a\nb",
            "a%b",
            "a\"b",
            "a<b",
            "a;b",
            "a\u{7f}b",
            "a\u{0}b",
            "a\u{1F600}b",
        ] {
            assert!(
                invalid(&Tags::new().with(bad, "v")).contains("holds"),
                "{bad:?}"
            );
            assert!(
                invalid(&Tags::new().with("k", bad)).contains("holds"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn header_is_encoded_as_both_servers_decode_it() {
        let tags = Tags::new()
            .with("a b", "x+y")
            .with("k=1", "v&w")
            .with("é", "~/.");
        assert_eq!(tags.to_header(), "a%20b=x%2By&k%3D1=v%26w&%C3%A9=~%2F.");
        // Decoded as a form (S3), and with `+` kept (the RADOS Gateway): the same tags.
        let decode = |text: &str, plus_is_space: bool| -> String {
            let mut bytes = Vec::new();
            let mut rest = text.as_bytes();
            while let Some((&b, tail)) = rest.split_first() {
                match b {
                    b'%' => {
                        let hex = std::str::from_utf8(&tail[..2]).unwrap();
                        bytes.push(u8::from_str_radix(hex, 16).unwrap());
                        rest = &tail[2..];
                        continue;
                    }
                    b'+' if plus_is_space => bytes.push(b' '),
                    b => bytes.push(b),
                }
                rest = tail;
            }
            String::from_utf8(bytes).unwrap()
        };
        for plus_is_space in [true, false] {
            let decoded: Tags = tags
                .to_header()
                .split('&')
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap();
                    (decode(k, plus_is_space), decode(v, plus_is_space))
                })
                .collect();
            assert_eq!(decoded, tags);
        }
        assert_eq!(Tags::new().header_value().unwrap(), None);
        assert!(Tags::new().with("a,b", "v").header_value().is_err());
    }

    #[test]
    fn documents_round_trip() {
        let tags = Tags::new()
            .with("a <b>", "x & y")
            .with(" spaced ", "")
            .with("日本", "語");
        let xml = tags.to_xml();
        assert!(xml.starts_with("<Tagging xmlns="), "{xml}");
        assert!(
            xml.contains("<Key>a &lt;b&gt;</Key><Value>x &amp; y</Value>"),
            "{xml}"
        );
        assert_eq!(Tags::parse_response(xml.as_bytes()).unwrap(), tags);

        let answer = br#"<?xml version="1.0" encoding="UTF-8"?>
<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>
  <Tag><Key>b</Key><Value>2</Value></Tag><Tag><Key>a</Key><Value/></Tag>
</TagSet></Tagging>"#;
        let parsed = Tags::parse_response(answer).unwrap();
        assert_eq!(parsed.iter().collect::<Vec<_>>(), [("b", "2"), ("a", "")]);
        assert!(parsed.same_set(&Tags::new().with("a", "").with("b", "2")));
        assert!(!parsed.same_set(&Tags::new().with("a", "x").with("b", "2")));
        // The gateway's empty answer is an empty set; other documents are errors.
        assert!(Tags::parse_response(b"").unwrap().is_empty());
        assert!(
            Tags::parse_response(b"<Tagging><TagSet/></Tagging>")
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            Tags::parse_response(b"<Error><Code>x</Code></Error>"),
            Err(Error::InvalidResponse(_))
        ));
        assert!(matches!(
            Tags::parse_response(
                b"<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>"
            ),
            Err(Error::InvalidResponse(_))
        ));
        assert!(Tags::parse_response(b"<Tagging><TagSet>").is_err());
    }

    #[test]
    fn an_error_after_a_200_is_a_service_error() {
        let doc =
            Element::parse(b"<Error><Code>SlowDown</Code><Message>m</Message><Key>k</Key></Error>")
                .unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("x-amz-request-id", http::HeaderValue::from_static("r1"));
        let err = error_after_ok(StatusCode::OK, &headers, &doc);
        assert_eq!(err.code(), Some(&ErrorCode::SlowDown));
        assert!(err.is_retryable());
        let Error::Service(e) = err else { panic!() };
        assert_eq!(e.request_id.as_deref(), Some("r1"));
        assert_eq!(e.resource.as_deref(), Some("k"));
        let bare = error_after_ok(
            StatusCode::OK,
            &headers,
            &Element::parse(b"<Error/>").unwrap(),
        );
        assert_eq!(bare.code(), Some(&ErrorCode::InternalError));
    }

    #[test]
    fn editing() {
        let mut tags = Tags::new().with("a", "1").with("b", "2").with("a", "3");
        assert_eq!(tags.get("a"), Some("1"));
        assert_eq!(tags.insert("a", "9"), Some("1".to_owned()));
        assert_eq!(tags.remove("a"), Some("9".to_owned()));
        assert_eq!(tags.get("a"), None);
        assert_eq!(tags.iter().len(), 1);
        tags.extend([("c", "3")]);
        assert_eq!(
            tags.into_iter().collect::<Vec<_>>(),
            [
                ("b".to_owned(), "2".to_owned()),
                ("c".to_owned(), "3".to_owned())
            ]
        );
    }
}
