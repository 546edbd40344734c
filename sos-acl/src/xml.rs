//! The XML both documents share: a namespace-aware reader into a small element tree, element
//! paths for error messages, and the writing helpers.
//!
//! Reading is tolerant of what real servers send: an XML declaration or none, whitespace and
//! comments between elements, any namespace prefix (elements are matched by local name, as
//! the AWS SDKs do), attributes in any order, `xsi:type` under whatever prefix is bound to
//! the XML Schema instance namespace (or under the literal, unbound `xsi:` prefix, which the
//! RADOS Gateway reads too). Elements this crate does not know are skipped. Line ends in text
//! are normalised as XML says (`\r\n` and `\r` read as `\n`); each document decides whether
//! its values keep surrounding whitespace ([`Element::text`]) or lose it ([`Element::value`]).
//!
//! Hostile input is bounded: nesting depth and attributes per element are capped, so the work
//! stays linear in the size of the document.

use std::borrow::Cow;
use std::fmt::Write as _;

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use crate::{Error, Result};

/// The S3 namespace, on the root element of every document S3 sends and accepts.
pub const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
/// The XML Schema instance namespace, bound to `xsi` on every `<Grantee>`.
pub const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Deeper documents are refused (the S3 documents are four levels deep); this bounds the
/// memory and the stack a hostile document can take.
const MAX_DEPTH: usize = 32;

/// Elements with more attributes (namespace declarations included) are refused; S3's
/// elements carry at most three (`xmlns`, `xmlns:xsi`, `xsi:type`). Without a bound, checking
/// attributes for duplicates and resolving their prefixes costs the square of their number:
/// one start tag with 100 000 attributes (1 MB) took over a minute.
const MAX_ATTRIBUTES: usize = 16;

/// The element names of both documents, kept without allocating.
const KNOWN_NAMES: [&str; 17] = [
    "AccessControlPolicy",
    "Owner",
    "ID",
    "DisplayName",
    "AccessControlList",
    "Grant",
    "Grantee",
    "EmailAddress",
    "URI",
    "Permission",
    "CORSConfiguration",
    "CORSRule",
    "AllowedOrigin",
    "AllowedMethod",
    "AllowedHeader",
    "ExposeHeader",
    "MaxAgeSeconds",
];

fn intern(name: &str) -> Cow<'static, str> {
    KNOWN_NAMES
        .iter()
        .find(|k| **k == name)
        .map_or_else(|| Cow::Owned(name.to_owned()), |k| Cow::Borrowed(*k))
}

/// One element: local name, `xsi:type` if any, text (of a leaf: whitespace between child
/// elements is dropped), children, where it starts. Text borrows from the document unless
/// it had to be put together (entities, CDATA, comments inside).
#[derive(Debug, Default)]
pub(crate) struct Element<'a> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) xsi_type: Option<String>,
    pub(crate) text: Cow<'a, str>,
    pub(crate) children: Vec<Element<'a>>,
    pub(crate) offset: u64,
}

impl<'a> Element<'a> {
    /// The children with this local name.
    pub(crate) fn children_named<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = &'s Element<'a>> + 's {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text as the document has it (line ends normalised), surrounding whitespace
    /// included: what an `xsd:string` holds.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The text, trimmed of XML whitespace.
    pub(crate) fn value(&self) -> &str {
        self.text
            .trim_matches(|c: char| matches!(c, ' ' | '\t' | '\r' | '\n'))
    }
}

/// Where an element sits, for error messages; built only when an error is reported.
#[derive(Clone, Copy)]
pub(crate) struct Loc<'a> {
    pub(crate) parent: Option<&'a Loc<'a>>,
    pub(crate) name: &'a str,
    /// 1-based position among the parent's children of the same name, for repeated ones.
    pub(crate) index: Option<usize>,
    pub(crate) offset: u64,
}

impl<'a> Loc<'a> {
    pub(crate) fn root(element: &'a Element<'_>) -> Self {
        Self {
            parent: None,
            name: &element.name,
            index: None,
            offset: element.offset,
        }
    }

    pub(crate) fn child(&'a self, element: &'a Element<'_>, index: Option<usize>) -> Loc<'a> {
        Loc {
            parent: Some(self),
            name: &element.name,
            index,
            offset: element.offset,
        }
    }

    /// `A/B[2]/C`
    pub(crate) fn path(&self) -> String {
        let mut parts = Vec::new();
        let mut cur = Some(self);
        while let Some(loc) = cur {
            parts.push(loc);
            cur = loc.parent;
        }
        let mut out = String::new();
        for (i, loc) in parts.iter().rev().enumerate() {
            if i > 0 {
                out.push('/');
            }
            out.push_str(loc.name);
            if let Some(n) = loc.index {
                let _ = write!(out, "[{n}]");
            }
        }
        out
    }

    /// `A/B[2]/C (byte 123)`
    pub(crate) fn describe(&self) -> String {
        format!("{} (byte {})", self.path(), self.offset)
    }

    pub(crate) fn missing(&self, element: &'static str) -> Error {
        Error::MissingElement {
            path: self.path(),
            element,
            offset: self.offset,
        }
    }

    pub(crate) fn invalid(&self, value: &str, reason: &'static str) -> Error {
        Error::InvalidValue {
            value: value.to_owned(),
            path: self.describe(),
            reason,
        }
    }
}

/// The only child named `name`, if any; an error if there are several.
pub(crate) fn single<'e, 'a>(
    parent: &'e Element<'a>,
    loc: &Loc<'_>,
    name: &'static str,
) -> Result<Option<&'e Element<'a>>> {
    let mut found = None;
    for child in parent.children_named(name) {
        if found.is_some() {
            return Err(Error::DuplicateElement {
                path: loc.path(),
                element: name,
                offset: child.offset,
            });
        }
        found = Some(child);
    }
    Ok(found)
}

/// The only child named `name`; an error if it is missing or repeated.
pub(crate) fn required<'e, 'a>(
    parent: &'e Element<'a>,
    loc: &Loc<'_>,
    name: &'static str,
) -> Result<&'e Element<'a>> {
    single(parent, loc, name)?.ok_or_else(|| loc.missing(name))
}

fn malformed(offset: u64, message: impl std::fmt::Display) -> Error {
    Error::MalformedXml {
        offset,
        message: message.to_string(),
    }
}

/// Reads a whole document into its root element and checks the root's local name.
pub(crate) fn parse_document<'a>(
    xml: &'a [u8],
    expected_root: &'static str,
) -> Result<Element<'a>> {
    let mut reader = NsReader::from_reader(xml);
    // Mismatched end tags are errors (the default), and so are unclosed ones.
    let mut stack: Vec<Element<'a>> = Vec::new();
    let mut root: Option<Element<'a>> = None;
    loop {
        let start = reader.buffer_position();
        let event = match reader.read_resolved_event() {
            Ok((_, event)) => event,
            Err(e) => return Err(malformed(reader.error_position(), e)),
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if root.is_some() {
                    return Err(malformed(start, "content after the root element"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(malformed(start, "elements nested too deeply"));
                }
                let name = intern(
                    std::str::from_utf8(e.local_name().into_inner())
                        .map_err(|err| malformed(start, err))?,
                );
                // Counted without the duplicate check, which is quadratic.
                if e.attributes().with_checks(false).count() > MAX_ATTRIBUTES {
                    return Err(malformed(
                        start,
                        format!("more than {MAX_ATTRIBUTES} attributes on one element"),
                    ));
                }
                let mut xsi_type = None;
                for attr in e.attributes() {
                    let attr = attr.map_err(|err| malformed(start, err))?;
                    let (ns, local) = reader.resolve_attribute(attr.key);
                    let is_xsi = match ns {
                        ResolveResult::Bound(n) => n.as_ref() == XSI_NAMESPACE.as_bytes(),
                        // `xsi:type` with no `xmlns:xsi` in scope: the prefix S3 always uses,
                        // matched literally (as the RADOS Gateway does).
                        ResolveResult::Unknown(ref prefix) => prefix.as_slice() == b"xsi",
                        ResolveResult::Unbound => false,
                    };
                    if local.as_ref() == b"type" && is_xsi {
                        let value = attr.unescape_value().map_err(|err| malformed(start, err))?;
                        xsi_type = Some(value.into_owned());
                    }
                }
                let element = Element {
                    name,
                    xsi_type,
                    offset: start,
                    ..Element::default()
                };
                if matches!(event, Event::Empty(_)) {
                    close(&mut stack, &mut root, element);
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let Some(mut element) = stack.pop() else {
                    return Err(malformed(start, "unexpected end tag"));
                };
                // Room for four children is taken at the first: given back, a tree of
                // one-child elements takes half the memory.
                element.children.shrink_to_fit();
                close(&mut stack, &mut root, element);
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|err| malformed(start, err))?;
                push_text(&mut stack, normalize_line_ends(text), start)?;
            }
            Event::CData(t) => {
                let text = t.decode().map_err(|err| malformed(start, err))?;
                push_text(&mut stack, normalize_line_ends(text), start)?;
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.decode().map_err(|err| malformed(start, err))?;
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => s.to_owned(),
                            None => {
                                return Err(malformed(start, format!("unknown entity `&{name};`")));
                            }
                        }
                    }
                    Err(err) => return Err(malformed(start, err)),
                };
                push_text(&mut stack, Cow::Owned(resolved), start)?;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(malformed(
            reader.buffer_position(),
            format!("<{}> is not closed", open.name),
        ));
    }
    let root = root.ok_or_else(|| malformed(0, "no root element"))?;
    if root.name != expected_root {
        return Err(Error::UnexpectedRoot {
            expected: expected_root,
            found: root.name.into_owned(),
        });
    }
    Ok(root)
}

fn close<'a>(stack: &mut [Element<'a>], root: &mut Option<Element<'a>>, element: Element<'a>) {
    match stack.last_mut() {
        Some(parent) => {
            // Whitespace before a child element is layout, not content. Only the first child
            // can find any: later whitespace is dropped as it comes (`push_text`). Checked
            // again at every child, a long text then many children cost their product: a
            // 500 KB document took over a minute.
            if parent.children.is_empty() && is_xml_whitespace(&parent.text) {
                parent.text = Cow::Borrowed("");
            }
            parent.children.push(element);
        }
        None => *root = Some(element),
    }
}

/// XML end-of-line handling: a literal `\r\n` or `\r` reads as `\n` (a `&#13;` reference
/// does not go through here, so it stays a `\r`).
fn normalize_line_ends(text: Cow<'_, str>) -> Cow<'_, str> {
    if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        text
    }
}

fn is_xml_whitespace(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

fn push_text<'a>(stack: &mut [Element<'a>], text: Cow<'a, str>, offset: u64) -> Result<()> {
    match stack.last_mut() {
        // Layout between child elements is dropped at once.
        Some(parent) if !parent.children.is_empty() && is_xml_whitespace(&text) => Ok(()),
        Some(parent) if parent.text.is_empty() => {
            parent.text = text;
            Ok(())
        }
        Some(parent) => {
            parent.text.to_mut().push_str(&text);
            Ok(())
        }
        None if is_xml_whitespace(&text) => Ok(()),
        None => Err(malformed(offset, "text outside the root element")),
    }
}

/// The XML declaration S3 puts before its documents.
pub(crate) const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// Appends `text` escaped for element content or a double-quoted attribute value. `\r` is
/// written as a character reference so that it survives end-of-line normalisation.
pub(crate) fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Appends `<name>text</name>`.
pub(crate) fn push_element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    push_escaped(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_with_prefixes_entities_and_cdata() {
        let xml = br#"<?xml version="1.0"?>
            <!-- a comment -->
            <s3:Root xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/" xmlns:x="http://www.w3.org/2001/XMLSchema-instance">
              <s3:A x:type="T">a &amp; b &#x41;<![CDATA[<c>]]></s3:A>
              <B/>
            </s3:Root>"#;
        let root = parse_document(xml, "Root").unwrap();
        assert_eq!(root.children.len(), 2);
        assert_eq!(root.children[0].name, "A");
        assert_eq!(root.children[0].xsi_type.as_deref(), Some("T"));
        assert_eq!(root.children[0].value(), "a & b A<c>");
        assert_eq!(root.children[1].name, "B");
    }

    #[test]
    fn type_attribute_outside_the_xsi_namespace_is_not_xsi_type() {
        let root = parse_document(
            br#"<R><A type="T" xmlns:y="urn:other" y:type="U"/></R>"#,
            "R",
        )
        .unwrap();
        assert_eq!(root.children[0].xsi_type, None);
    }

    #[test]
    fn malformed_documents_are_errors_with_offsets() {
        for (xml, expect) in [
            (&b"<A><B></A>"[..], "malformed"),
            (b"<A>", "not closed"),
            (b"", "no root"),
            (b"<A/><B/>", "after the root"),
            (b"<A>&bogus;</A>", "unknown entity"),
            (b"text<A/>", "outside"),
        ] {
            let err = parse_document(xml, "A").unwrap_err();
            assert!(
                matches!(err, Error::MalformedXml { .. }),
                "{:?}: {err:?}",
                String::from_utf8_lossy(xml)
            );
            if expect != "malformed" {
                assert!(err.to_string().contains(expect), "{err}");
            }
        }
        let deep = "<A>".repeat(100) + &"</A>".repeat(100);
        assert!(
            parse_document(deep.as_bytes(), "A")
                .unwrap_err()
                .to_string()
                .contains("too deeply")
        );
    }

    #[test]
    fn xsi_type_under_the_literal_unbound_prefix() {
        // No `xmlns:xsi` in scope: `xsi:type` is still the type (the RADOS Gateway reads it
        // so); another unbound prefix is not.
        let root = parse_document(br#"<R><A xsi:type="T"/><B zz:type="U"/></R>"#, "R").unwrap();
        assert_eq!(root.children[0].xsi_type.as_deref(), Some("T"));
        assert_eq!(root.children[1].xsi_type, None);
    }

    #[test]
    fn line_ends_are_normalised_but_char_references_kept() {
        let root = parse_document(
            b"<R><A>a\r\nb\rc&#13;d</A><B><![CDATA[x\r\ny]]></B></R>",
            "R",
        )
        .unwrap();
        assert_eq!(root.children[0].text(), "a\nb\nc\rd");
        assert_eq!(root.children[1].text(), "x\ny");
    }

    #[test]
    fn text_keeps_surrounding_whitespace_value_trims_it() {
        let root = parse_document(b"<R><A> a b\n</A></R>", "R").unwrap();
        assert_eq!(root.children[0].text(), " a b\n");
        assert_eq!(root.children[0].value(), "a b");
    }

    #[test]
    fn many_attributes_are_refused_in_linear_time() {
        // Checking 100 000 attributes for duplicates took over a minute.
        let attrs: String = (0..100_000).map(|i| format!(" a{i}=\"x\"")).collect();
        let doc = format!("<R><A{attrs}/></R>");
        let started = std::time::Instant::now();
        let err = parse_document(doc.as_bytes(), "R").unwrap_err();
        assert!(
            err.to_string().contains("attributes on one element"),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        // Namespace declarations count too.
        let decls: String = (0..17)
            .map(|i| format!(" xmlns:p{i}=\"urn:{i}\""))
            .collect();
        assert!(parse_document(format!("<R{decls}/>").as_bytes(), "R").is_err());
        let decls: String = (0..16)
            .map(|i| format!(" xmlns:p{i}=\"urn:{i}\""))
            .collect();
        assert!(parse_document(format!("<R{decls}/>").as_bytes(), "R").is_ok());
    }

    #[test]
    fn text_then_many_children_is_read_in_linear_time() {
        // Whitespace ending in a character, then elements: the whitespace was scanned again
        // at every element, 250 000 × 100 000 bytes.
        let doc = format!("<R>{}x{}</R>", " ".repeat(250_000), "<a/>".repeat(100_000));
        let started = std::time::Instant::now();
        let root = parse_document(doc.as_bytes(), "R").unwrap();
        let took = started.elapsed();
        assert_eq!(root.children.len(), 100_000);
        assert_eq!(root.text().len(), 250_001);
        assert!(took < std::time::Duration::from_secs(2), "{took:?}");
        // Layout before the first child is still dropped, text kept.
        let root = parse_document(b"<R> \n <a/> x <b/>\t</R>", "R").unwrap();
        assert_eq!(root.text(), " x ");
    }

    #[test]
    fn wrong_root_is_named() {
        let err = parse_document(b"<Other/>", "Root").unwrap_err();
        assert_eq!(
            err,
            Error::UnexpectedRoot {
                expected: "Root",
                found: "Other".into()
            }
        );
    }

    #[test]
    fn escaping_round_trips() {
        let mut out = String::from("<A>");
        push_escaped(&mut out, "a&b<c>\"d'\re");
        out.push_str("</A>");
        let root = parse_document(out.as_bytes(), "A").unwrap();
        assert_eq!(root.value(), "a&b<c>\"d'\re");
    }

    /// Hostile documents: ACLs and CORS configurations put together from their elements
    /// (repeated, left out, in any order, in the wrong places) holding hostile values, and
    /// damaged the ways a broken or malicious peer would damage them.
    mod hostile {
        use proptest::prelude::*;
        use proptest::sample::Index;

        use super::*;
        use crate::{AccessControlPolicy, AclHeaders, CorsConfiguration};

        #[derive(Debug, Clone)]
        enum Node {
            Leaf(&'static str, &'static str),
            Parent(&'static str, &'static str, Vec<Node>),
        }

        fn render(node: &Node, prefix: &str, out: &mut String) {
            let (name, attributes) = match node {
                Node::Leaf(name, _) => (name, ""),
                Node::Parent(name, attributes, _) => (name, *attributes),
            };
            out.push('<');
            out.push_str(prefix);
            out.push_str(name);
            out.push_str(attributes);
            out.push('>');
            match node {
                Node::Leaf(_, text) => out.push_str(text),
                Node::Parent(_, _, children) => {
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

        const MALFORMED: &[&str] = &["&#0;", "&#x110000;", "&bogus;", "<", "&", "]]>", "\u{0}"];

        fn texts_of(name: &str) -> &'static [&'static str] {
            match name {
                "Permission" => &[
                    "READ",
                    "WRITE",
                    "READ_ACP",
                    "WRITE_ACP",
                    "FULL_CONTROL",
                    " READ",
                    "read",
                    "",
                ],
                "URI" => &[
                    "http://acs.amazonaws.com/groups/global/AllUsers",
                    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
                    "http://acs.amazonaws.com/groups/s3/LogDelivery",
                    "urn:other",
                    "",
                ],
                "AllowedMethod" => &["GET", "PUT", "POST", "DELETE", "HEAD", "get", "G T", ""],
                "MaxAgeSeconds" => &[
                    "0",
                    "3000",
                    "4294967295",
                    "4294967296",
                    "-1",
                    "+5",
                    " 7 ",
                    "1e3",
                    "",
                ],
                "AllowedOrigin" => &["*", "http://*.example.com", "https://a.b", "*a*b*", ""],
                _ => &[
                    "",
                    "o",
                    " o ",
                    "a&amp;b",
                    "&#13;",
                    "&#65534;",
                    "x\r\ny",
                    "<![CDATA[<ID>]]>",
                    "<!--c-->",
                    "<?pi?>",
                    "é",
                    "\u{FFFF}",
                    "x-amz-*",
                ],
            }
        }

        fn leaf(name: &'static str) -> BoxedStrategy<Node> {
            prop_oneof![
                30 => prop::sample::select(texts_of(name)),
                3 => prop::sample::select(texts_of("")),
                1 => prop::sample::select(MALFORMED),
            ]
            .prop_map(move |text| Node::Leaf(name, text))
            .boxed()
        }

        fn parent(
            name: &'static str,
            attributes: BoxedStrategy<&'static str>,
            children: Vec<BoxedStrategy<Node>>,
            most: usize,
        ) -> BoxedStrategy<Node> {
            (
                attributes,
                prop::collection::vec(prop::strategy::Union::new(children), 0..most),
            )
                .prop_map(move |(a, c)| Node::Parent(name, a, c))
                .boxed()
        }

        fn no_attributes() -> BoxedStrategy<&'static str> {
            Just("").boxed()
        }

        fn acl() -> BoxedStrategy<Node> {
            let xsi = prop::sample::select(&[
                r#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser""#,
                r#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group""#,
                r#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="AmazonCustomerByEmail""#,
                r#" xmlns:x="http://www.w3.org/2001/XMLSchema-instance" x:type=" s3:Group ""#,
                r#" xsi:type="CanonicalUser""#,
                r#" xsi:type="Robot""#,
                r#" xsi:type="""#,
                r#" type="Group""#,
                r#" xsi:type="Group" xsi:type="Group""#,
                r#" xsi:type="&#0;""#,
                "",
            ][..])
            .boxed();
            // Mostly well formed: one grantee naming who it is, one permission, an owner; now
            // and then an element twice, or a stray one.
            let stray = prop::option::weighted(
                0.1,
                prop::sample::select(&["ID", "DisplayName", "URI", "Permission", "Grantee"][..])
                    .prop_flat_map(leaf),
            );
            let grantee = (
                xsi,
                prop::sample::select(&["ID", "EmailAddress", "URI"][..]).prop_flat_map(leaf),
                prop::option::weighted(0.3, leaf("DisplayName")),
                stray.clone(),
            )
                .prop_map(|(xsi, who, name, stray)| {
                    let children = [Some(who), name, stray].into_iter().flatten().collect();
                    Node::Parent("Grantee", xsi, children)
                });
            let grant = (grantee, leaf("Permission"), stray.clone()).prop_map(
                |(grantee, permission, stray)| {
                    let children = [Some(grantee), Some(permission), stray]
                        .into_iter()
                        .flatten();
                    Node::Parent("Grant", "", children.collect())
                },
            );
            let list =
                (prop::collection::vec(grant, 0..6), stray.clone()).prop_map(|(grants, stray)| {
                    Node::Parent(
                        "AccessControlList",
                        "",
                        grants.into_iter().chain(stray).collect(),
                    )
                });
            let owner = (
                prop::option::weighted(0.95, leaf("ID")),
                prop::option::weighted(0.5, leaf("DisplayName")),
            )
                .prop_map(|(id, name)| {
                    Node::Parent("Owner", "", [id, name].into_iter().flatten().collect())
                });
            (
                prop::option::weighted(0.9, owner),
                prop::option::weighted(0.95, list),
                stray,
            )
                .prop_map(|(owner, list, stray)| {
                    let children = [owner, list, stray].into_iter().flatten().collect();
                    Node::Parent("AccessControlPolicy", "", children)
                })
                .boxed()
        }

        fn cors() -> BoxedStrategy<Node> {
            let rule = parent(
                "CORSRule",
                no_attributes(),
                [
                    "ID",
                    "AllowedOrigin",
                    "AllowedMethod",
                    "AllowedHeader",
                    "ExposeHeader",
                    "MaxAgeSeconds",
                ]
                .into_iter()
                .map(leaf)
                .collect(),
                10,
            );
            parent("CORSConfiguration", no_attributes(), vec![rule], 6)
        }

        #[derive(Debug, Clone)]
        enum Edit {
            Cut(Index),
            Delete(Index, usize),
            Insert(Index, &'static str),
            Repeat(Index, Index),
            Byte(Index, u8),
        }

        const PIECES: &[&str] = &[
            "<",
            ">",
            "</",
            "/>",
            "&",
            "&#0;",
            "&#x110000;",
            "&bogus;",
            "<![CDATA[",
            "]]>",
            "<!--",
            "-->",
            "<?pi?>",
            " xmlns:xsi=\"urn:x\"",
            " a=\"1\" a=\"2\"",
            "xsi:",
            "\r",
            r#"<!DOCTYPE r [<!ENTITY a "&b;&b;&b;&b;"><!ENTITY b "bbbb">]>"#,
            "&a;",
        ];

        fn edit() -> impl Strategy<Value = Edit> {
            prop_oneof![
                any::<Index>().prop_map(Edit::Cut),
                (any::<Index>(), 1usize..30).prop_map(|(i, n)| Edit::Delete(i, n)),
                (any::<Index>(), prop::sample::select(PIECES))
                    .prop_map(|(i, p)| Edit::Insert(i, p)),
                (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Repeat(a, b)),
                (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Byte(i, b)),
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
                Edit::Repeat(a, b) => {
                    let (a, b) = (a.index(len + 1), b.index(len + 1));
                    let copy = doc[a.min(b)..a.max(b)].to_vec();
                    doc.splice(a.max(b)..a.max(b), copy);
                }
                Edit::Byte(i, b) if len > 0 => doc[i.index(len)] = *b,
                Edit::Byte(..) => {}
            }
        }

        fn document() -> impl Strategy<Value = Vec<u8>> {
            let tree = (
                prop_oneof![acl(), cors()],
                prop::sample::select(&["", "s3:"][..]),
                prop_oneof![
                    3 => Just(Vec::new()),
                    1 => prop::collection::vec(edit(), 1..4),
                ],
            )
                .prop_map(|(node, prefix, edits)| {
                    let mut out = String::new();
                    render(&node, prefix, &mut out);
                    let mut doc = out.into_bytes();
                    for e in &edits {
                        apply(&mut doc, e);
                    }
                    doc
                });
            prop_oneof![
                1 => prop::collection::vec(any::<u8>(), 0..200),
                6 => tree,
            ]
        }

        fn weight(element: &Element<'_>) -> (usize, usize, usize) {
            let own = element.name.len()
                + element.text.len()
                + element.xsi_type.as_ref().map_or(0, String::len);
            element
                .children
                .iter()
                .map(weight)
                .fold((1, own, 1), |(n, b, d), (cn, cb, cd)| {
                    (n + cn, b + cb, d.max(cd + 1))
                })
        }

        /// The parsers on one document: a value or an error, never a panic; the tree no
        /// bigger than the document; what parses writes back to XML that parses the same.
        fn check(xml: &[u8]) -> std::result::Result<(), TestCaseError> {
            for root in ["AccessControlPolicy", "CORSConfiguration"] {
                if let Ok(tree) = parse_document(xml, root) {
                    let (nodes, bytes, depth) = weight(&tree);
                    prop_assert!(nodes * 3 <= xml.len(), "{nodes} elements");
                    prop_assert!(bytes <= xml.len(), "{bytes} bytes");
                    prop_assert!(depth <= MAX_DEPTH);
                }
            }
            if let Ok(policy) = AccessControlPolicy::from_xml(xml) {
                let tree = parse_document(xml, "AccessControlPolicy")
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let grants = tree
                    .children_named("AccessControlList")
                    .flat_map(|l| l.children_named("Grant"))
                    .count();
                prop_assert_eq!(policy.grants.len(), grants);
                let _ = policy.validate();
                let again = AccessControlPolicy::from_xml(policy.to_xml());
                prop_assert_eq!(again.as_ref().ok(), Some(&policy), "{:?}", again);
            }
            if let Ok(cors) = CorsConfiguration::from_xml(xml) {
                let tree = parse_document(xml, "CORSConfiguration")
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(cors.rules.len(), tree.children_named("CORSRule").count());
                let _ = cors.validate();
                let again = CorsConfiguration::from_xml(cors.to_xml());
                prop_assert_eq!(again.as_ref().ok(), Some(&cors), "{:?}", again);
            }
            Ok(())
        }

        /// A grant header: items of any key, quoted or not, with blanks and stray commas.
        fn grant_header() -> impl Strategy<Value = String> {
            let item = (
                prop::sample::select(&["id", "ID", "uri", "emailAddress", "email", "", " id "][..]),
                prop::sample::select(&["=", " = ", "", "=="][..]),
                prop_oneof![
                    "[a-z0-9@./:-]{0,12}",
                    "[a-z0-9@./:-]{0,12}".prop_map(|v| format!("\"{v}\"")),
                    prop::sample::select(
                        &["\"", "\"a", "\"a\"b", "\"a,b\"", "\"\"", "a\"b", ""][..]
                    )
                    .prop_map(str::to_owned),
                ],
            )
                .prop_map(|(k, eq, v)| format!("{k}{eq}{v}"));
            (
                prop::collection::vec(item, 0..8),
                prop::sample::select(&[",", ", ", " ,\t", ",,", ""][..]),
            )
                .prop_map(|(items, sep)| items.join(sep))
        }

        proptest! {
            #[test]
            fn parsers_answer_hostile_documents(doc in document()) {
                check(&doc)?;
            }

            #[test]
            fn grant_headers_answer_hostile_values(
                values in prop::collection::vec((0usize..4, grant_header()), 0..4),
                canned in prop::option::of(prop::sample::select(&["private", "public-read", "bogus", ""][..])),
            ) {
                const NAMES: [&str; 4] = [
                    "x-amz-grant-read", "x-amz-grant-full-control", "x-amz-grant-write-acp", "x-amz-grant-bogus",
                ];
                let mut headers = http::HeaderMap::new();
                for (name, value) in &values {
                    if let Ok(value) = http::HeaderValue::from_str(value) {
                        headers.append(NAMES[*name], value);
                    }
                }
                if let Some(c) = canned {
                    headers.insert("x-amz-acl", http::HeaderValue::from_static(c));
                }
                if let Ok(Some(AclHeaders::Grants(grants))) = AclHeaders::from_headers(&headers) {
                    let commas: usize = headers.iter().map(|(_, v)| v.as_bytes().iter().filter(|&&b| b == b',').count() + 1).sum();
                    prop_assert!(grants.len() <= commas);
                    if let Ok(written) = AclHeaders::Grants(grants.clone()).to_headers() {
                        // Written back grouped by permission: the same grants, in another order.
                        let sorted = |mut g: Vec<crate::Grant>| {
                            g.sort_by_key(|g| format!("{g:?}"));
                            g
                        };
                        let again = match AclHeaders::from_headers(&written) {
                            Ok(Some(AclHeaders::Grants(again))) => sorted(again),
                            other => return Err(TestCaseError::fail(format!("{other:?}"))),
                        };
                        prop_assert_eq!(again, sorted(grants));
                    }
                }
            }
        }

        #[test]
        fn every_truncation_of_valid_documents() {
            let policy = crate::CannedAcl::PublicReadWrite
                .expand_for_bucket(&crate::Owner::new("o").with_display_name("n"))
                .to_xml();
            let cors = CorsConfiguration::from_xml(
                "<CORSConfiguration><CORSRule><ID>r</ID><AllowedOrigin>*</AllowedOrigin>\
                 <AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>3</MaxAgeSeconds>\
                 </CORSRule></CORSConfiguration>",
            )
            .unwrap()
            .to_xml();
            for doc in [policy, cors] {
                for cut in 0..=doc.len() {
                    if let Err(e) = check(&doc.as_bytes()[..cut]) {
                        panic!("{doc} cut at {cut}: {e}");
                    }
                }
            }
        }

        #[test]
        fn huge_grant_headers_are_read_in_linear_time() {
            let started = std::time::Instant::now();
            let mut headers = http::HeaderMap::new();
            let many = "id=\"a\",".repeat(10_000);
            headers.insert(
                "x-amz-grant-read",
                http::HeaderValue::from_str(&many).unwrap(),
            );
            let grants = AclHeaders::from_headers(&headers).unwrap();
            assert!(matches!(grants, Some(AclHeaders::Grants(g)) if g.len() == 10_000));
            let commas = ",".repeat(65_536) + "id=a";
            headers.insert(
                "x-amz-grant-read",
                http::HeaderValue::from_str(&commas).unwrap(),
            );
            assert!(AclHeaders::from_headers(&headers).is_ok());
            let no_equals = "x".repeat(65_536);
            headers.insert(
                "x-amz-grant-read",
                http::HeaderValue::from_str(&no_equals).unwrap(),
            );
            assert!(AclHeaders::from_headers(&headers).is_err());
            let took = started.elapsed();
            assert!(took < std::time::Duration::from_secs(2), "{took:?}");
        }
    }
}
