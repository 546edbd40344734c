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
                let Some(element) = stack.pop() else {
                    return Err(malformed(start, "unexpected end tag"));
                };
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
            // Whitespace before a child element is layout, not content.
            if !parent.text.is_empty() && is_xml_whitespace(&parent.text) {
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
}
