//! Reading the XML documents S3 answers with, and writing the few it accepts.
//!
//! Responses are read into a small element tree matched by local name (namespaces and
//! prefixes ignored, as the AWS SDKs do). Depth and size are bounded by what the caller
//! reads: responses are at most a few MiB (a listing page of 1000 keys).

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
                    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                    stack.push(Element {
                        name,
                        ..Element::default()
                    });
                }
                Event::Empty(start) => {
                    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
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
                        top.text.push_str(&String::from_utf8_lossy(&data));
                    }
                }
                Event::End(_) => {
                    let Some(mut done) = stack.pop() else {
                        return Err(Error::InvalidResponse("unbalanced XML".to_owned()));
                    };
                    // Keys may start or end with spaces: only trim elements with children.
                    if !done.children.is_empty() {
                        done.text.clear();
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

    /// A boolean child (`true`/`false`), false when absent.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.text_of(name)
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("true"))
    }
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
        assert!(!root.flag("IsTruncated"));
    }

    #[test]
    fn refuses_broken_and_deep_documents() {
        assert!(Element::parse(b"<a><b></a>").is_err());
        assert!(Element::parse(b"<a>").is_err());
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(Element::parse(deep.as_bytes()).is_err());
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
