//! Listings: ListObjectsV2 (or V1) pages, as a stream that paginates.

use std::collections::HashSet;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use futures_util::stream::{BoxStream, Stream, StreamExt};
use http::Method;

use crate::client::{Client, Operation};
use crate::object::parse_iso8601;
use crate::xml::Element;
use crate::{Error, Result};

/// Which listing API to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListVersion {
    /// `ListObjectsV2` (`list-type=2`, continuation tokens): the default.
    #[default]
    V2,
    /// `ListObjects` (markers), for old servers.
    V1,
}

/// An object in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectSummary {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// The ETag, quotes removed.
    pub etag: Option<String>,
    /// When it was last written.
    pub last_modified: Option<SystemTime>,
    /// The storage class.
    pub storage_class: Option<String>,
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListPage {
    /// Objects, in key order.
    pub objects: Vec<ObjectSummary>,
    /// Common prefixes ("directories" under the delimiter), in order.
    pub common_prefixes: Vec<String>,
    /// Where the next page starts, when there is one.
    pub next: Option<String>,
}

/// An entry of a listing: an object or a common prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListEntry {
    /// An object.
    Object(ObjectSummary),
    /// A common prefix, ending with the delimiter.
    Prefix(String),
}

/// A listing. Made by [`Client::list_objects`].
///
/// ```no_run
/// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
/// use futures_util::TryStreamExt;
/// use sos_client::ListEntry;
/// let mut entries = client.list_objects("photos").prefix("2026/").delimiter("/").entries();
/// while let Some(entry) = entries.try_next().await? {
///     match entry {
///         ListEntry::Prefix(dir) => println!("{dir}"),
///         ListEntry::Object(o) => println!("{} {}", o.key, o.size),
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "nothing is listed until the listing is sent or streamed"]
pub struct ListObjects {
    client: Client,
    bucket: String,
    prefix: Option<String>,
    delimiter: Option<String>,
    start_after: Option<String>,
    max_keys: Option<u32>,
    version: ListVersion,
    limit: Option<u64>,
}

impl ListObjects {
    /// Only keys starting with `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Groups keys by `delimiter` after the prefix into common prefixes (`/` for
    /// directories).
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(delimiter.into());
        self
    }

    /// Only keys after `key` (V1: the marker).
    pub fn start_after(mut self, key: impl Into<String>) -> Self {
        self.start_after = Some(key.into());
        self
    }

    /// Keys per page (S3 caps it at 1000).
    pub fn max_keys(mut self, n: u32) -> Self {
        self.max_keys = Some(n);
        self
    }

    /// V2 (default) or V1.
    pub fn version(mut self, version: ListVersion) -> Self {
        self.version = version;
        self
    }

    /// Stops after this many pages (a bound for callers that must not loop forever on a
    /// server that keeps saying "truncated").
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.limit = Some(pages);
        self
    }

    /// One page, starting at `from` (a continuation token, or V1 marker, from
    /// [`ListPage::next`]).
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, a page that cannot be read, transport.
    pub async fn page(&self, from: Option<&str>) -> Result<ListPage> {
        let mut op = Operation::new(
            match self.version {
                ListVersion::V2 => "ListObjectsV2",
                ListVersion::V1 => "ListObjects",
            },
            Method::GET,
        )
        .bucket(&self.bucket);
        if self.version == ListVersion::V2 {
            op = op.param("list-type", "2");
        }
        if let Some(p) = &self.prefix {
            op = op.param("prefix", p.clone());
        }
        if let Some(d) = &self.delimiter {
            op = op.param("delimiter", d.clone());
        }
        if let Some(n) = self.max_keys {
            op = op.param("max-keys", n.to_string());
        }
        // No `encoding-type=url`: s3s-fs echoes it without encoding, and what S3 means by it
        // (`+` for a space) differs between servers. Keys come back as XML text; control
        // characters as character references. A server that encodes anyway says so and is
        // decoded below.
        match (self.version, from) {
            (ListVersion::V2, Some(token)) => op = op.param("continuation-token", token),
            (ListVersion::V1, Some(marker)) => op = op.param("marker", marker),
            (ListVersion::V2, None) => {
                if let Some(s) = &self.start_after {
                    op = op.param("start-after", s.clone());
                }
            }
            (ListVersion::V1, None) => {
                if let Some(s) = &self.start_after {
                    op = op.param("marker", s.clone());
                }
            }
        }
        let doc = self.client.send_xml(op).await?;
        parse_page(&doc, self.version)
    }

    /// Every page, fetched one after the other as the stream is polled.
    pub fn pages(self) -> ListPages {
        ListPages {
            inner: paginate(self),
        }
    }

    /// Every object and common prefix, in order, across pages.
    pub fn entries(self) -> ListObjectsStream {
        let stream = self
            .pages()
            .map(|page| {
                let entries: Vec<Result<ListEntry>> = match page {
                    Ok(page) => {
                        // Objects and prefixes merged in key order, as a directory lists.
                        let mut all: Vec<ListEntry> = page
                            .objects
                            .into_iter()
                            .map(ListEntry::Object)
                            .chain(page.common_prefixes.into_iter().map(ListEntry::Prefix))
                            .collect();
                        all.sort_by(|a, b| entry_key(a).cmp(entry_key(b)));
                        all.into_iter().map(Ok).collect()
                    }
                    Err(e) => vec![Err(e)],
                };
                futures_util::stream::iter(entries)
            })
            .flatten();
        ListObjectsStream {
            inner: stream.boxed(),
        }
    }

    /// Every object (common prefixes left out), across pages.
    pub fn objects(self) -> impl Stream<Item = Result<ObjectSummary>> + Send + 'static {
        self.entries().filter_map(|e| async move {
            match e {
                Ok(ListEntry::Object(o)) => Some(Ok(o)),
                Ok(ListEntry::Prefix(_)) => None,
                Err(e) => Some(Err(e)),
            }
        })
    }
}

fn entry_key(entry: &ListEntry) -> &str {
    match entry {
        ListEntry::Object(o) => &o.key,
        ListEntry::Prefix(p) => p,
    }
}

/// A listing that pages: how to fetch one page and where the next one starts.
pub(crate) trait Paged: Send + Sync + 'static {
    /// One page.
    type Page: Send + 'static;
    /// Where a page starts.
    type Marker: Clone + Eq + std::hash::Hash + Send + Sync + 'static;
    /// For the error of a server that repeats itself.
    const MARKER_NAME: &'static str;
    /// The most pages to fetch.
    fn limit(&self) -> Option<u64>;
    /// The page starting at `from`.
    fn fetch(
        &self,
        from: Option<&Self::Marker>,
    ) -> impl std::future::Future<Output = Result<Self::Page>> + Send;
    /// Where the page after `page` starts, if there is one.
    fn next_of(page: &Self::Page) -> Option<Self::Marker>;
}

/// Every page of `list`, fetched one after the other as the stream is polled. Markers only
/// move forward: a server that answers one it gave before (the same page again, or `A`, `B`,
/// `A`...) is an error rather than an endless loop.
pub(crate) fn paginate<L: Paged>(list: L) -> BoxStream<'static, Result<L::Page>> {
    let state = (list, None::<L::Marker>, false, 0u64, HashSet::new());
    futures_util::stream::try_unfold(state, |(list, next, done, n, mut seen)| async move {
        if done || list.limit().is_some_and(|l| n >= l) {
            return Ok(None);
        }
        let page = list.fetch(next.as_ref()).await?;
        let following = L::next_of(&page);
        if let Some(marker) = &following
            && !seen.insert(marker.clone())
        {
            return Err(Error::InvalidResponse(format!(
                "the server returned the same {} twice",
                L::MARKER_NAME
            )));
        }
        let done = following.is_none();
        Ok(Some((page, (list, following, done, n + 1, seen))))
    })
    .boxed()
}

/// A public [`Stream`] type over a boxed stream (one per listing kind, so that callers can
/// name them).
macro_rules! boxed_stream {
    ($(#[$doc:meta])* $name:ident, $item:ty) => {
        $(#[$doc])*
        pub struct $name {
            pub(crate) inner: BoxStream<'static, Result<$item>>,
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($name))
            }
        }

        impl Stream for $name {
            type Item = Result<$item>;
            fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                self.inner.poll_next_unpin(cx)
            }
        }
    };
}
pub(crate) use boxed_stream;

boxed_stream!(
    /// The pages of a listing, as a [`Stream`].
    ListPages,
    ListPage
);
boxed_stream!(
    /// The entries of a listing, as a [`Stream`] that fetches pages as it goes.
    ListObjectsStream,
    ListEntry
);

impl Paged for ListObjects {
    type Page = ListPage;
    type Marker = String;
    const MARKER_NAME: &'static str = "continuation";
    fn limit(&self) -> Option<u64> {
        self.limit
    }
    fn fetch(
        &self,
        from: Option<&String>,
    ) -> impl std::future::Future<Output = Result<ListPage>> + Send {
        self.page(from.map(String::as_str))
    }
    fn next_of(page: &ListPage) -> Option<String> {
        page.next.clone()
    }
}

/// Decodes a `encoding-type=url` value (`%XX`; `+` is a space, as S3 encodes).
fn url_decode(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                // Two hex digits (`from_str_radix` alone would take `%+5`).
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        Error::InvalidResponse(format!("bad %-escape in listed key `{text}`"))
                    })?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map_err(|_| Error::InvalidResponse(format!("listed key `{text}` is not UTF-8")))
}

/// Whether a listing page says its keys are URL-encoded (servers that ignore
/// `encoding-type` do not echo it). Read once per page: a lookup per key would cost the
/// square of the page's length.
pub(crate) fn url_encoded(doc: &Element) -> bool {
    doc.text_of("EncodingType")
        .is_some_and(|e| e.eq_ignore_ascii_case("url"))
}

/// A key or prefix of a listing page, decoded when the page is URL-encoded.
pub(crate) fn decode_listed(encoded: bool, text: &str) -> Result<String> {
    if encoded {
        url_decode(text)
    } else {
        Ok(text.to_owned())
    }
}

/// Parses a `ListBucketResult` page.
pub(crate) fn parse_page(doc: &Element, version: ListVersion) -> Result<ListPage> {
    if doc.name != "ListBucketResult" {
        return Err(Error::InvalidResponse(format!(
            "expected <ListBucketResult>, got <{}>",
            doc.name
        )));
    }
    let encoded = url_encoded(doc);
    let decode = |text: &str| decode_listed(encoded, text);
    let mut page = ListPage::default();
    for contents in doc.children("Contents") {
        page.objects.push(ObjectSummary {
            key: decode(contents.required("Key")?)?,
            size: contents.number("Size")?.unwrap_or(0),
            etag: contents
                .text_of("ETag")
                .map(|e| e.trim().trim_matches('"').to_owned()),
            last_modified: contents.text_of("LastModified").and_then(parse_iso8601),
            storage_class: contents.text_of("StorageClass").map(str::to_owned),
        });
    }
    for prefix in doc.children("CommonPrefixes") {
        page.common_prefixes
            .push(decode(prefix.required("Prefix")?)?);
    }
    if doc.flag("IsTruncated")? {
        page.next = match version {
            // An empty token would ask for the first page again.
            ListVersion::V2 => match doc.text_of("NextContinuationToken") {
                Some(token) if !token.is_empty() => Some(token.to_owned()),
                _ => {
                    return Err(Error::InvalidResponse(
                        "a truncated page without <NextContinuationToken>".to_owned(),
                    ));
                }
            },
            // V1: NextMarker is only sent with a delimiter; else the last key is the marker.
            ListVersion::V1 => match doc.text_of("NextMarker").filter(|m| !m.is_empty()) {
                Some(marker) => Some(decode(marker)?),
                None => {
                    let last_object = page.objects.last().map(|o| o.key.as_str());
                    let last_prefix = page.common_prefixes.last().map(String::as_str);
                    // An empty marker would ask for the first page again.
                    let last = last_object
                        .max(last_prefix)
                        .filter(|k| !k.is_empty())
                        .ok_or_else(|| {
                            Error::InvalidResponse("a truncated page with no keys".to_owned())
                        })?;
                    Some(last.to_owned())
                }
            },
        };
    }
    Ok(page)
}

impl Client {
    /// Lists the objects of a bucket (see [`ListObjects`]).
    pub fn list_objects(&self, bucket: impl Into<String>) -> ListObjects {
        ListObjects {
            client: self.clone(),
            bucket: bucket.into(),
            prefix: None,
            delimiter: None,
            start_after: None,
            max_keys: None,
            version: ListVersion::V2,
            limit: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_encoded_truncated_page() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Name>b</Name><Prefix>a%2F</Prefix><EncodingType>url</EncodingType><KeyCount>2</KeyCount>
<IsTruncated>true</IsTruncated><NextContinuationToken>tok/1=</NextContinuationToken>
<Contents><Key>a/caf%C3%A9+x%2B</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified>
<ETag>&quot;abc&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>
<CommonPrefixes><Prefix>a/dir%2F</Prefix></CommonPrefixes>
</ListBucketResult>"#;
        let page = parse_page(&Element::parse(xml).unwrap(), ListVersion::V2).unwrap();
        assert_eq!(page.objects[0].key, "a/café x+");
        assert_eq!(page.objects[0].etag.as_deref(), Some("abc"));
        assert_eq!(page.objects[0].size, 12);
        assert_eq!(page.common_prefixes, ["a/dir/"]);
        assert_eq!(page.next.as_deref(), Some("tok/1="));
    }

    #[test]
    fn v1_marker_falls_back_to_the_last_key() {
        let xml = b"<ListBucketResult><IsTruncated>true</IsTruncated>\
            <Contents><Key>a</Key><Size>1</Size></Contents>\
            <Contents><Key>b%</Key><Size>1</Size></Contents></ListBucketResult>";
        let page = parse_page(&Element::parse(xml).unwrap(), ListVersion::V1).unwrap();
        assert_eq!(page.next.as_deref(), Some("b%"));
    }

    #[test]
    fn truncated_pages_must_say_where_the_next_starts() {
        let page = |body: &str, version| {
            let xml = format!("<ListBucketResult>{body}</ListBucketResult>");
            parse_page(&Element::parse(xml.as_bytes()).unwrap(), version)
        };
        let contents = "<Contents><Key>a</Key><Size>1</Size></Contents>";
        // Truncated without a token, or with an empty one (which asks for the first page
        // again): an error, never a listing that ends early or starts over.
        for token in ["", "<NextContinuationToken></NextContinuationToken>"] {
            let body = format!("<IsTruncated>true</IsTruncated>{token}{contents}");
            assert!(
                matches!(page(&body, ListVersion::V2), Err(Error::InvalidResponse(_))),
                "{body}"
            );
        }
        // V1 without NextMarker goes on from the last key; an empty one is no marker.
        let body = "<IsTruncated>true</IsTruncated><Contents><Key></Key></Contents>";
        assert!(matches!(
            page(body, ListVersion::V1),
            Err(Error::InvalidResponse(_))
        ));
        // `1` is true in XML Schema; anything but a boolean is an error, not `false`.
        let body = format!(
            "<IsTruncated> 1 </IsTruncated><NextContinuationToken>t</NextContinuationToken>{contents}"
        );
        assert_eq!(
            page(&body, ListVersion::V2).unwrap().next.as_deref(),
            Some("t")
        );
        let body = format!("<IsTruncated>yes</IsTruncated>{contents}");
        assert!(matches!(
            page(&body, ListVersion::V2),
            Err(Error::InvalidResponse(_))
        ));
    }

    #[test]
    fn numbers_are_checked_and_counts_not_trusted() {
        let page = |size: &str| {
            let xml = format!(
                "<ListBucketResult><KeyCount>1000</KeyCount><IsTruncated>false</IsTruncated>\
                 <Contents><Key>a</Key><Size>{size}</Size></Contents></ListBucketResult>"
            );
            parse_page(&Element::parse(xml.as_bytes()).unwrap(), ListVersion::V2)
        };
        // A `KeyCount` that lies changes nothing: the objects are the ones listed.
        assert_eq!(page("18446744073709551615").unwrap().objects.len(), 1);
        assert_eq!(page(" +7 ").unwrap().objects[0].size, 7);
        for bad in ["18446744073709551616", "-1", "0x10", "1e3", ""] {
            assert!(matches!(page(bad), Err(Error::InvalidResponse(_))), "{bad}");
        }
    }

    /// A listing whose pages name these next markers, one after the other.
    struct Scripted(Vec<Option<&'static str>>, std::sync::atomic::AtomicUsize);

    impl Paged for Scripted {
        type Page = Option<String>;
        type Marker = String;
        const MARKER_NAME: &'static str = "continuation";
        fn limit(&self) -> Option<u64> {
            Some(100)
        }
        async fn fetch(&self, _: Option<&String>) -> Result<Option<String>> {
            let i = self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(self.0.get(i).copied().flatten().map(str::to_owned))
        }
        fn next_of(page: &Option<String>) -> Option<String> {
            page.clone()
        }
    }

    async fn run(script: Vec<Option<&'static str>>) -> (usize, Option<Error>) {
        let mut pages = paginate(Scripted(script, 0.into()));
        let mut n = 0;
        while let Some(page) = pages.next().await {
            match page {
                Ok(_) => n += 1,
                Err(e) => return (n, Some(e)),
            }
        }
        (n, None)
    }

    #[tokio::test]
    async fn a_marker_given_before_is_a_loop() {
        assert!(matches!(
            run(vec![Some("a"), Some("b"), None]).await,
            (3, None)
        ));
        // The same page again, or pages in a circle: an error at the first repeat, not an
        // endless listing (only the same marker twice in a row was caught).
        for (script, before) in [
            (vec![Some("a"), Some("a")], 1),
            (vec![Some("a"), Some("b"), Some("a"), Some("b")], 2),
        ] {
            let (pages, err) = run(script.clone()).await;
            assert_eq!(pages, before, "{script:?}");
            assert!(matches!(err, Some(Error::InvalidResponse(_))), "{script:?}");
        }
        // A server that never stops stops at the limit.
        let endless: Vec<_> = (0..200).map(|i| Some(&*format!("{i}").leak())).collect();
        assert!(matches!(run(endless).await, (100, None)));
    }

    #[test]
    fn bad_escapes_are_errors() {
        assert!(url_decode("%zz").is_err());
        assert!(url_decode("%").is_err());
        assert!(url_decode("%FF").is_err());
        // A sign is not a hex digit, though `u8::from_str_radix` takes one.
        assert!(url_decode("%+5").is_err());
        assert!(url_decode("%-0").is_err());
        assert_eq!(url_decode("a%20b+c").unwrap(), "a b c");
    }
}
