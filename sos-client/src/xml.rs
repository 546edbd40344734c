//! Reading the XML documents S3 answers with, and writing the few it accepts.
//!
//! Responses are read into a small element tree matched by local name (namespaces and
//! prefixes ignored, as the AWS SDKs do). Hostile documents are bounded: depth is capped,
//! the work is linear in the document's size, and the tree holds no more text than the
//! document and at most one element per three of its bytes (each about 100 bytes of
//! memory: a body of empty elements takes some 25 times its size).

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::{Error, Result};

/// Deeper documents are refused; S3's are four levels deep.
const MAX_DEPTH: usize = 16;

/// One element: its local name, its text (trimmed), its children.
#[derive(Debug, Default)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) children: Vec<Element>,
}

impl Element {
    /// Parses a document and returns its root.
    pub(crate) fn parse(xml: &[u8]) -> Result<Element> {
        let mut reader = Reader::from_reader(xml);
        reader.config_mut().trim_text(false);
        let mut stack: Vec<Element> = Vec::new();
        let bad = |e: &dyn std::fmt::Display| Error::InvalidResponse(format!("bad XML: {e}"));
        loop {
            match reader.read_event().map_err(|e| bad(&e))? {
                Event::Start(start) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(Error::InvalidResponse("XML nested too deeply".to_owned()));
                    }
                    let name = utf8(start.local_name().into_inner())?.to_owned();
                    stack.push(Element {
                        name,
                        ..Element::default()
                    });
                }
                Event::Empty(start) => {
                    let name = utf8(start.local_name().into_inner())?.to_owned();
                    let element = Element {
                        name,
                        ..Element::default()
                    };
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => return Ok(element),
                    }
                }
                Event::Text(text) => {
                    if let Some(top) = stack.last_mut() {
                        let decoded = text.decode().map_err(|e| bad(&e))?;
                        let unescaped =
                            quick_xml::escape::unescape(&decoded).map_err(|e| bad(&e))?;
                        top.text.push_str(&unescaped);
                    }
                }
                Event::GeneralRef(reference) => {
                    if let Some(top) = stack.last_mut() {
                        let name = reference.decode().map_err(|e| bad(&e))?;
                        let entity = format!("&{name};");
                        let unescaped =
                            quick_xml::escape::unescape(&entity).map_err(|e| bad(&e))?;
                        top.text.push_str(&unescaped);
                    }
                }
                Event::CData(data) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(utf8(&data)?);
                    }
                }
                Event::End(_) => {
                    let Some(mut done) = stack.pop() else {
                        return Err(Error::InvalidResponse("unbalanced XML".to_owned()));
                    };
                    // Keys may start or end with spaces: only trim elements with children.
                    if !done.children.is_empty() {
                        done.text = String::new();
                        // Room for four children is taken at the first: given back, a tree of
                        // one-child elements takes half the memory.
                        done.children.shrink_to_fit();
                    }
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Ok(done),
                    }
                }
                Event::Eof => {
                    return Err(Error::InvalidResponse(
                        "XML ended before its root element closed".to_owned(),
                    ));
                }
                _ => {}
            }
        }
    }

    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub(crate) fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub(crate) fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// The text of a required child.
    pub(crate) fn required(&self, name: &str) -> Result<&str> {
        self.text_of(name)
            .ok_or_else(|| Error::InvalidResponse(format!("<{}> has no <{name}>", self.name)))
    }

    /// A number child, if present.
    pub(crate) fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>> {
        match self.text_of(name) {
            None => Ok(None),
            Some(text) => {
                text.trim().parse().map(Some).map_err(|_| {
                    Error::InvalidResponse(format!("<{name}> is not a number: `{text}`"))
                })
            }
        }
    }

    /// A boolean child, false when absent. Its text is an `xsd:boolean` (`true`, `false`, `1`,
    /// `0`; case is not checked); any other text is an error rather than `false`, which
    /// would read a truncated listing as complete.
    pub(crate) fn flag(&self, name: &str) -> Result<bool> {
        match self.text_of(name).map(str::trim) {
            None => Ok(false),
            Some(t) if t.eq_ignore_ascii_case("true") || t == "1" => Ok(true),
            Some(t) if t.eq_ignore_ascii_case("false") || t == "0" => Ok(false),
            Some(t) => Err(Error::InvalidResponse(format!(
                "<{name}> is not a boolean: `{t}`"
            ))),
        }
    }
}

/// Names and CDATA sections as text: UTF-8, as the rest of the document must be (a
/// replacement character would stand for bytes the server never meant).
fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|e| Error::InvalidResponse(format!("bad XML: {e}")))
}

/// Whether XML 1.0 can carry `text` (its `Char` production): not the control characters
/// below U+0020 other than tab, line feed and carriage return, nor U+FFFE and U+FFFF — not
/// even as character references, which servers refuse (`MalformedXML`).
pub(crate) fn can_carry(text: &str) -> bool {
    text.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    })
}

/// Appends `text` escaped for XML content.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry literally go as character references
            // (S3 accepts them in keys; `\r` would otherwise be normalised away).
            c if (c as u32) < 0x20 => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
}

/// `<name>escaped text</name>`
pub(crate) fn element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_into(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_namespaced_documents_and_keeps_key_spaces() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name>
  <Contents><Key> a &amp; b </Key><Size>3</Size></Contents>
  <Contents><Key>c&#13;d</Key><Size>4</Size></Contents>
  <IsTruncated>false</IsTruncated>
</ListBucketResult>"#;
        let root = Element::parse(xml).unwrap();
        assert_eq!(root.name, "ListBucketResult");
        let keys: Vec<_> = root
            .children("Contents")
            .map(|c| c.text_of("Key").unwrap().to_owned())
            .collect();
        assert_eq!(keys, [" a & b ", "c\rd"]);
        assert_eq!(
            root.children("Contents")
                .nth(1)
                .unwrap()
                .number::<u64>("Size")
                .unwrap(),
            Some(4)
        );
        assert!(!root.flag("IsTruncated").unwrap());
    }

    #[test]
    fn refuses_broken_and_deep_documents() {
        assert!(Element::parse(b"<a><b></a>").is_err());
        assert!(Element::parse(b"<a>").is_err());
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(Element::parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn names_and_cdata_must_be_utf8_like_text() {
        assert!(Element::parse(b"<a>\xff</a>").is_err());
        // They were read with replacement characters: three bytes for one.
        assert!(Element::parse(b"<a><![CDATA[\xff]]></a>").is_err());
        assert!(Element::parse(b"<a\xff>x</a\xff>").is_err());
        assert!(Element::parse(b"<a\xff/>").is_err());
        let doc = Element::parse("<a><![CDATA[é<]]></a>".as_bytes()).unwrap();
        assert_eq!(doc.text, "é<");
    }

    #[test]
    fn flags_are_xml_schema_booleans() {
        let doc = Element::parse(b"<a><T>true</T><U> 1 </U><F>FALSE</F><Z>0</Z><X>yes</X><E/></a>")
            .unwrap();
        assert!(doc.flag("T").unwrap() && doc.flag("U").unwrap());
        assert!(!doc.flag("F").unwrap() && !doc.flag("Z").unwrap());
        assert!(!doc.flag("Missing").unwrap());
        assert!(matches!(doc.flag("X"), Err(Error::InvalidResponse(_))));
        assert!(matches!(doc.flag("E"), Err(Error::InvalidResponse(_))));
    }

    #[test]
    fn what_xml_can_carry() {
        for ok in [
            "a b",
            "tab\t nl\n cr\r",
            "\u{7f}\u{80}",
            "\u{D7FF}\u{E000}\u{FFFD}",
            "😀",
        ] {
            assert!(can_carry(ok), "{ok:?}");
        }
        for bad in [
            "\u{0}",
            "a\u{1}",
            "\u{b}",
            "\u{c}",
            "\u{1f}",
            "\u{FFFE}",
            "x\u{FFFF}",
        ] {
            assert!(!can_carry(bad), "{bad:?}");
        }
    }

    #[test]
    fn escapes() {
        let mut out = String::new();
        element(&mut out, "Key", "a<b>&\"'\r");
        assert_eq!(out, "<Key>a&lt;b&gt;&amp;&quot;&apos;&#13;</Key>");
    }
}

/// Hostile documents for the tests of every response parser: random bytes, random trees of
/// the documents' element names holding hostile values, and valid answers damaged the ways
/// a broken or malicious server would damage them.
#[cfg(test)]
pub(crate) mod hostile {
    use proptest::prelude::*;
    use proptest::sample::Index;

    /// A valid answer of every kind this crate reads.
    pub(crate) const SEEDS: &[&str] = &[
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>a%2F</Prefix>
<EncodingType>url</EncodingType><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
<NextContinuationToken>1/tok=</NextContinuationToken><Contents><Key>a/caf%C3%A9+x</Key>
<LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>12</Size>
<StorageClass>STANDARD</StorageClass></Contents><CommonPrefixes><Prefix>a/d%2F</Prefix></CommonPrefixes>
</ListBucketResult>"#,
        "<ListBucketResult><Name>b</Name><Marker></Marker><NextMarker>k2</NextMarker>\
         <IsTruncated>true</IsTruncated><Contents><Key> k1 </Key><Size>0</Size></Contents>\
         <Contents><Key>k&#13;2</Key><Size>18446744073709551615</Size></Contents></ListBucketResult>",
        r#"<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>
<NextKeyMarker>b</NextKeyMarker><NextVersionIdMarker>v2</NextVersionIdMarker><IsTruncated>true</IsTruncated>
<DeleteMarker><Key>a</Key><VersionId>m1</VersionId><IsLatest>true</IsLatest>
<LastModified>2026-12-02T08:00:00.000Z</LastModified></DeleteMarker><Version><Key>a</Key>
<VersionId>v1</VersionId><IsLatest>false</IsLatest><ETag>"e"</ETag><Size>3</Size></Version>
<CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListVersionsResult>"#,
        "<ListPartsResult><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId>\
         <PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker>\
         <IsTruncated>true</IsTruncated><Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag>\
         <Size>5242880</Size></Part><Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag>\
         <Size>1</Size></Part></ListPartsResult>",
        "<ListMultipartUploadsResult><Bucket>b</Bucket><NextKeyMarker>k</NextKeyMarker>\
         <NextUploadIdMarker>2~x</NextUploadIdMarker><IsTruncated>true</IsTruncated><Upload>\
         <Key>k</Key><UploadId>2~x</UploadId><Initiated>2026-01-02T03:04:05Z</Initiated>\
         </Upload></ListMultipartUploadsResult>",
        "<ListAllMyBucketsResult><Owner><ID>o</ID></Owner><Buckets><Bucket><Name>b</Name>\
         <CreationDate>2026-01-02T03:04:05.000Z</CreationDate></Bucket></Buckets>\
         </ListAllMyBucketsResult>",
        r#"<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">ch-gva-2</LocationConstraint>"#,
        "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>",
        "<CompleteMultipartUploadResult><Location>l</Location><Bucket>b</Bucket><Key>k</Key>\
         <ETag>\"e-2\"</ETag></CompleteMultipartUploadResult>",
        "<Error><Code>RequestTimeTooSkewed</Code><Message>m</Message><Key>k</Key>\
         <RequestId>r</RequestId><HostId>h</HostId>\
         <ServerTime>2026-01-02T03:04:05Z</ServerTime></Error>",
        r#"<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>a b</Key>
<Value>x+y</Value></Tag><Tag><Key>&#233;</Key><Value/></Tag></TagSet></Tagging>"#,
    ];

    /// The shape of an answer: an element, the elements with text it holds, the elements
    /// with elements it holds.
    pub(crate) struct Shape {
        name: &'static str,
        leaves: &'static [&'static str],
        groups: &'static [Shape],
    }

    const fn shape(
        name: &'static str,
        leaves: &'static [&'static str],
        groups: &'static [Shape],
    ) -> Shape {
        Shape {
            name,
            leaves,
            groups,
        }
    }

    const PREFIXES: Shape = shape("CommonPrefixes", &["Prefix"], &[]);

    /// Every answer this crate reads.
    const ANSWERS: &[Shape] = &[
        shape(
            "ListBucketResult",
            &[
                "Name",
                "Prefix",
                "EncodingType",
                "KeyCount",
                "MaxKeys",
                "IsTruncated",
                "NextContinuationToken",
                "NextMarker",
            ],
            &[
                shape(
                    "Contents",
                    &["Key", "Size", "ETag", "LastModified", "StorageClass"],
                    &[],
                ),
                PREFIXES,
            ],
        ),
        shape(
            "ListVersionsResult",
            &[
                "Name",
                "EncodingType",
                "IsTruncated",
                "NextKeyMarker",
                "NextVersionIdMarker",
            ],
            &[
                shape(
                    "Version",
                    &[
                        "Key",
                        "VersionId",
                        "IsLatest",
                        "Size",
                        "ETag",
                        "LastModified",
                    ],
                    &[],
                ),
                shape(
                    "DeleteMarker",
                    &["Key", "VersionId", "IsLatest", "LastModified"],
                    &[],
                ),
                PREFIXES,
            ],
        ),
        shape(
            "ListPartsResult",
            &["UploadId", "IsTruncated", "NextPartNumberMarker"],
            &[shape(
                "Part",
                &["PartNumber", "ETag", "Size", "LastModified"],
                &[],
            )],
        ),
        shape(
            "ListMultipartUploadsResult",
            &["IsTruncated", "NextKeyMarker", "NextUploadIdMarker"],
            &[shape("Upload", &["Key", "UploadId", "Initiated"], &[])],
        ),
        shape(
            "ListAllMyBucketsResult",
            &[],
            &[shape(
                "Buckets",
                &[],
                &[shape("Bucket", &["Name", "CreationDate"], &[])],
            )],
        ),
        shape(
            "Error",
            &[
                "Code",
                "Message",
                "Key",
                "Resource",
                "RequestId",
                "HostId",
                "ServerTime",
            ],
            &[],
        ),
        shape("VersioningConfiguration", &["Status"], &[]),
        shape(
            "Tagging",
            &[],
            &[shape(
                "TagSet",
                &[],
                &[shape("Tag", &["Key", "Value"], &[])],
            )],
        ),
        shape(
            "CompleteMultipartUploadResult",
            &["Location", "Key", "ETag"],
            &[],
        ),
        shape("LocationConstraint", &[], &[]),
    ];

    const NUMBERS: &[&str] = &[
        "0",
        "1",
        "9999",
        "4294967295",
        "18446744073709551615",
        " 7 ",
    ];

    const BOOLEANS: &[&str] = &["true", "false", " true ", "1", "0"];

    const DATES: &[&str] = &[
        "2026-01-02T03:04:05.000Z",
        "0000-01-01T00:00:00Z",
        "0000-02-29T23:59:60Z",
        "9999-12-31T23:59:60.9999999999Z",
        "2026-01-01T00:00:00-23:59",
        "2026-02-30T25:61:61Z",
        "2026-02-30T00:00:00Z",
        "2026-01-01T00:00:00+25:00",
        "+026-01-01T00:00:00Z",
        "2026-01-01",
    ];

    /// Numbers and booleans a parser must refuse.
    const ODD: &[&str] = &[
        "10000",
        "4294967296",
        "18446744073709551616",
        "-1",
        "+5",
        "0x10",
        "1e3",
        "",
        "TRUE",
        "yes",
    ];

    /// Keys, markers, tokens and the like, valid and not: empty, broken escapes, markup
    /// inside text.
    const TEXTS: &[&str] = &[
        "",
        "k",
        " k ",
        "url",
        "Enabled",
        "Suspended",
        "ch-gva-2",
        "\"e\"",
        "%",
        "%zz",
        "%FF",
        "%+5",
        "%C3%A9+x",
        "a&amp;b",
        "&#13;",
        "&#65534;",
        "<![CDATA[<Key>x</Key>]]>",
        "<!--c-->",
        "<?pi?>",
        "\u{FFFF}",
        "é",
    ];

    /// Texts that make the document malformed.
    const MALFORMED: &[&str] = &["&#0;", "&#x110000;", "&unknown;", "<", "&", "]]>", "\u{0}"];

    /// Entities that would expand to 2^20 bytes (they are not expanded: `&a;` is an error).
    const BILLION_LAUGHS: &str = concat!(
        r#"<!DOCTYPE r [<!ENTITY a "&b;&b;&b;&b;"><!ENTITY b "&c;&c;&c;&c;">"#,
        r#"<!ENTITY c "&d;&d;&d;&d;"><!ENTITY d "&e;&e;&e;&e;"><!ENTITY e "&f;&f;&f;&f;">"#,
        r#"<!ENTITY f "&g;&g;&g;&g;"><!ENTITY g "&h;&h;&h;&h;"><!ENTITY h "&i;&i;&i;&i;">"#,
        r#"<!ENTITY i "&j;&j;&j;&j;"><!ENTITY j "&k;&k;&k;&k;"><!ENTITY k "kkkk">]>"#,
    );

    /// What a hostile server puts in: markup, references XML does not allow, numbers and
    /// dates out of range, broken escapes.
    const PIECES: &[&str] = &[
        "<",
        ">",
        "</",
        "/>",
        "&",
        "&#0;",
        "&#x110000;",
        "&#xD800;",
        "&#65534;",
        "&#1;",
        "&unknown;",
        "&amp;",
        "&a;",
        "<![CDATA[",
        "]]>",
        "<![CDATA[<Key>x</Key>]]>",
        "<!--",
        "-->",
        "<!-- <Contents> -->",
        "<?pi <x>?>",
        r#"<?xml version="1.0"?>"#,
        BILLION_LAUGHS,
        r#" xmlns="urn:x" "#,
        r#" xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/" "#,
        "s3:",
        "18446744073709551616",
        "18446744073709551615",
        "4294967296",
        "10000",
        "-1",
        "+5",
        " 7 ",
        "0x10",
        "1e3",
        "",
        "true",
        "TRUE",
        "1",
        "0",
        "yes",
        "2026-02-30T25:61:61Z",
        "2026-02-30T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:60.9999999999Z",
        "2026-01-01T00:00:00+25:00",
        "%",
        "%zz",
        "%FF",
        "%+5",
        "+",
        "\0",
        "\u{FFFF}",
        "é",
        "\r\n",
        "\u{feff}",
    ];

    #[derive(Debug, Clone)]
    enum Edit {
        /// Cut the document here.
        Cut(Index),
        /// Remove up to this many bytes.
        Delete(Index, usize),
        /// Put a piece in.
        Insert(Index, &'static str),
        /// Repeat a range (an element, twice or more).
        Repeat(Index, Index, usize),
        /// Replace a byte.
        Byte(Index, u8),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            1 => any::<Index>().prop_map(Edit::Cut),
            2 => (any::<Index>(), 1usize..40).prop_map(|(i, n)| Edit::Delete(i, n)),
            4 => (any::<Index>(), prop::sample::select(PIECES)).prop_map(|(i, p)| Edit::Insert(i, p)),
            2 => (any::<Index>(), any::<Index>(), 1usize..4)
                .prop_map(|(a, b, n)| Edit::Repeat(a, b, n)),
            1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Byte(i, b)),
        ]
    }

    fn apply(doc: &mut Vec<u8>, edit: &Edit) {
        let len = doc.len();
        match edit {
            Edit::Cut(i) => doc.truncate(i.index(len + 1)),
            Edit::Delete(i, n) => {
                let at = i.index(len + 1);
                doc.drain(at..(at + n).min(len));
            }
            Edit::Insert(i, piece) => {
                let at = i.index(len + 1);
                doc.splice(at..at, piece.bytes());
            }
            Edit::Repeat(a, b, n) => {
                let (a, b) = (a.index(len + 1), b.index(len + 1));
                let range = a.min(b)..a.max(b);
                let copy = doc[range.clone()].repeat(*n);
                doc.splice(range.end..range.end, copy);
            }
            Edit::Byte(i, b) if len > 0 => doc[i.index(len)] = *b,
            Edit::Byte(..) => {}
        }
    }

    /// A valid answer with one to eight edits.
    pub(crate) fn damaged() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::sample::select(SEEDS),
            prop::collection::vec(edit(), 1..6),
        )
            .prop_map(|(seed, edits)| {
                let mut doc = seed.as_bytes().to_vec();
                for e in &edits {
                    apply(&mut doc, e);
                }
                doc
            })
    }

    #[derive(Debug, Clone)]
    enum Node {
        Leaf(&'static str, &'static str),
        Parent(&'static str, Vec<Node>),
    }

    fn render(node: &Node, prefix: &str, out: &mut String) {
        let name = match node {
            Node::Leaf(name, _) | Node::Parent(name, _) => name,
        };
        out.push('<');
        out.push_str(prefix);
        out.push_str(name);
        out.push('>');
        match node {
            Node::Leaf(_, text) => out.push_str(text),
            Node::Parent(_, children) => {
                for child in children {
                    render(child, prefix, out);
                }
            }
        }
        out.push_str("</");
        out.push_str(prefix);
        out.push_str(name);
        out.push('>');
    }

    /// The texts an element holds.
    fn texts_of(name: &str) -> &'static [&'static str] {
        match name {
            "Size" | "PartNumber" | "NextPartNumberMarker" | "KeyCount" | "MaxKeys" => NUMBERS,
            "IsTruncated" | "IsLatest" => BOOLEANS,
            "LastModified" | "Initiated" | "CreationDate" | "ServerTime" => DATES,
            _ => TEXTS,
        }
    }

    /// An element with text: mostly of its kind, sometimes any, rarely malformed.
    fn leaf(name: &'static str) -> BoxedStrategy<Node> {
        let any: Vec<&str> = [NUMBERS, BOOLEANS, DATES, ODD, TEXTS].concat();
        prop_oneof![
            40 => prop::sample::select(texts_of(name)),
            2 => prop::sample::select(ODD),
            2 => prop::sample::select(any),
            1 => prop::sample::select(MALFORMED),
        ]
        .prop_map(move |text| Node::Leaf(name, text))
        .boxed()
    }

    /// An element of this shape, its children drawn from what it may hold (repeated, left
    /// out, in any order), now and then one from elsewhere.
    fn shaped(shape: &'static Shape) -> BoxedStrategy<Node> {
        if shape.leaves.is_empty() && shape.groups.is_empty() {
            return leaf(shape.name);
        }
        let mut children: Vec<(u32, BoxedStrategy<Node>)> =
            shape.leaves.iter().map(|&name| (4, leaf(name))).collect();
        children.extend(shape.groups.iter().map(|group| (4, shaped(group))));
        children.push((
            1,
            prop::sample::select(texts_of(""))
                .prop_map(|t| Node::Leaf("Key", t))
                .boxed(),
        ));
        let most = if shape.groups.is_empty() { 6 } else { 12 };
        prop::collection::vec(prop::strategy::Union::new_weighted(children), 0..most)
            .prop_map(move |children| Node::Parent(shape.name, children))
            .boxed()
    }

    /// An answer put together from its elements holding hostile values, sometimes damaged.
    pub(crate) fn tree() -> impl Strategy<Value = Vec<u8>> {
        let answer = prop::strategy::Union::new(ANSWERS.iter().map(shaped));
        (
            answer,
            prop::sample::select(&["", "s3:"][..]),
            prop_oneof![
                3 => Just(Vec::new()),
                1 => prop::collection::vec(edit(), 1..3),
            ],
        )
            .prop_map(|(answer, prefix, edits)| {
                let mut out = String::new();
                render(&answer, prefix, &mut out);
                let mut doc = out.into_bytes();
                for e in &edits {
                    apply(&mut doc, e);
                }
                doc
            })
    }

    /// Random bytes, a damaged answer, or a hostile one put together.
    pub(crate) fn document() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            1 => prop::collection::vec(any::<u8>(), 0..200),
            3 => damaged(),
            4 => tree(),
        ]
    }

    /// Elements, bytes of names and texts, and depth of a tree.
    fn weight(element: &super::Element) -> (usize, usize, usize) {
        element.children.iter().map(weight).fold(
            (1, element.name.len() + element.text.len(), 1),
            |(n, b, d), (cn, cb, cd)| (n + cn, b + cb, d.max(cd + 1)),
        )
    }

    fn texts<'a>(element: &'a super::Element, out: &mut Vec<&'a str>) {
        out.push(&element.text);
        for child in &element.children {
            texts(child, out);
        }
    }

    /// Every parser of an answer, on one document: each gives a value or an error, never a
    /// panic, and what it gives agrees with the document. The tree takes no more than the
    /// document: at most one element per three bytes, at most its bytes of names and text.
    pub(crate) fn check_every_parser(xml: &[u8]) -> Result<(), TestCaseError> {
        use crate::list::{ListVersion, parse_page};
        use crate::multipart::{
            MAX_PARTS, completed_etag, next_part_marker, next_upload_markers, parse_parts,
            parse_uploads,
        };
        use crate::versioning::{parse_versioning_status, parse_versions_page};

        let Ok(doc) = super::Element::parse(xml) else {
            return Ok(());
        };
        let (nodes, bytes, depth) = weight(&doc);
        prop_assert!(nodes * 3 <= xml.len(), "{nodes} elements");
        prop_assert!(bytes <= xml.len(), "{bytes} bytes");
        prop_assert!(depth <= super::MAX_DEPTH, "depth {depth}");
        let count = |name: &str| doc.children(name).count();
        let truncated = doc.flag("IsTruncated").ok();
        for version in [ListVersion::V1, ListVersion::V2] {
            if let Ok(page) = parse_page(&doc, version) {
                prop_assert_eq!(page.objects.len(), count("Contents"));
                prop_assert_eq!(page.common_prefixes.len(), count("CommonPrefixes"));
                prop_assert_eq!(page.next.is_some(), truncated == Some(true));
                prop_assert!(page.next.is_none_or(|n| !n.is_empty()));
            }
        }
        if let Ok(page) = parse_versions_page(&doc) {
            let entries = count("Version") + count("DeleteMarker") + count("CommonPrefixes");
            prop_assert_eq!(page.entries.len(), entries);
            prop_assert_eq!(page.next.is_some(), truncated == Some(true));
            prop_assert!(page.next.is_none_or(|n| !n.key.is_empty()));
        }
        let _ = parse_versioning_status(&doc);
        if let Ok(parts) = parse_parts(&doc) {
            prop_assert_eq!(parts.len(), count("Part"));
        }
        for previous in [None, Some(0), Some(1), Some(MAX_PARTS - 1)] {
            if let Ok(Some(next)) = next_part_marker(&doc, previous) {
                prop_assert!(next < MAX_PARTS && previous.is_none_or(|p| next > p));
            }
        }
        if let Ok(uploads) = parse_uploads(&doc) {
            prop_assert_eq!(uploads.len(), count("Upload"));
        }
        if let Ok(Some((key, _))) = next_upload_markers(&doc, None) {
            prop_assert!(!key.is_empty());
        }
        if let Ok(buckets) = crate::bucket::parse_buckets(&doc) {
            let listed = doc
                .child("Buckets")
                .map_or(0, |b| b.children("Bucket").count());
            prop_assert_eq!(buckets.len(), listed);
        }
        if let Some(region) = crate::bucket::parse_location(&doc) {
            prop_assert!(!region.is_empty() && region.trim() == region);
        }
        if let Some(etag) = completed_etag(&doc) {
            prop_assert!(!etag.is_empty());
        }
        if let Ok(tags) = crate::tagging::Tags::parse_response(xml) {
            let listed: usize = doc
                .children("TagSet")
                .map(|s| s.children("Tag").count())
                .sum();
            prop_assert_eq!(tags.len(), listed);
        }
        let error = crate::client::error_document(&doc, http::StatusCode::OK);
        prop_assert!(matches!(error, crate::Error::Service(_)), "{error:?}");
        let mut all = Vec::new();
        texts(&doc, &mut all);
        for text in all {
            let _ = crate::object::parse_iso8601(text);
            let _ = crate::list::decode_listed(true, text);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn every_parser_answers_hostile_documents(doc in document()) {
            check_every_parser(&doc)?;
        }
    }

    proptest! {
        /// Listing dates and SigV4 dates are read by two parsers written apart: for any
        /// fields, in range or not, they agree. sos-auth's reads 1970 to 9999: earlier years
        /// are compared 2000 years later (the calendar repeats every 400).
        #[test]
        fn dates_read_as_sos_auth_reads_them(
            year in prop_oneof![1970u32..2100, 0u32..10_000],
            month in 0u32..14,
            day in 0u32..33,
            hour in 0u32..25,
            minute in 0u32..61,
            second in 0u32..60,
        ) {
            const YEARS_2000: std::time::Duration = std::time::Duration::from_secs(5 * 146_097 * 86_400);
            let iso = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.000Z");
            let ours = crate::object::parse_iso8601(&iso);
            let shift = year < 1970;
            let amz_year = if shift { year + 2000 } else { year };
            let amz = format!("{amz_year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z");
            let theirs = sos_auth::AmzDate::parse(&amz).map(|d| d.system_time());
            let ours = if shift { ours.and_then(|t| t.checked_add(YEARS_2000)) } else { ours };
            prop_assert_eq!(ours, theirs, "{}", iso);
        }
    }

    #[test]
    fn every_parser_answers_every_truncation_of_every_answer() {
        for seed in SEEDS {
            for cut in 0..=seed.len() {
                if let Err(e) = check_every_parser(&seed.as_bytes()[..cut]) {
                    panic!("{seed:?} cut at {cut}: {e}");
                }
            }
        }
    }

    /// The `limit` of a debug build on a loaded machine; what these take is a few
    /// milliseconds to a few hundred.
    fn quickly<T>(what: &str, limit: u64, f: impl FnOnce() -> T) -> T {
        let started = std::time::Instant::now();
        let out = f();
        let took = started.elapsed();
        assert!(
            took < std::time::Duration::from_secs(limit),
            "{what}: {took:?}"
        );
        out
    }

    #[test]
    fn pathological_documents_are_read_in_linear_time() {
        use super::Element;
        let deep = "<a>".repeat(10_000) + &"</a>".repeat(10_000);
        let err = quickly("10 000 levels", 2, || Element::parse(deep.as_bytes())).unwrap_err();
        assert!(err.to_string().contains("nested too deeply"), "{err}");
        let mib = 1 << 20;
        let attribute = format!("<Error a=\"{}\"><Code>c</Code></Error>", "x".repeat(mib));
        let doc = quickly("1 MiB attribute", 2, || {
            Element::parse(attribute.as_bytes())
        })
        .unwrap();
        assert_eq!(doc.text_of("Code"), Some("c"));
        let attributes: String = (0..100_000).map(|i| format!(" a{i}=\"x\"")).collect();
        let doc = format!("<Error{attributes}><Code>c</Code></Error>");
        quickly("100 000 attributes", 2, || Element::parse(doc.as_bytes())).unwrap();
        let text = format!("<a><Key>{}</Key></a>", "&amp;x".repeat(mib / 6));
        let doc = quickly("1 MiB of text", 2, || Element::parse(text.as_bytes())).unwrap();
        assert_eq!(doc.text_of("Key").map(str::len), Some(mib / 6 * 2));
        let flat = format!("<a>{}</a>", "<b/>".repeat(mib / 4));
        let doc = quickly("256 Ki elements", 5, || Element::parse(flat.as_bytes())).unwrap();
        assert_eq!(doc.children.len(), mib / 4);
        let laughs = format!("{}<a>&a;</a>", BILLION_LAUGHS);
        assert!(Element::parse(laughs.as_bytes()).is_err());
    }
}
