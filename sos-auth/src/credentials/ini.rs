//! The INI dialects of `~/.aws/credentials`, `~/.aws/config` and `~/.s3cfg`.
//!
//! Common to both: `[section]` headers (a `#` or `;` comment may follow); `key = value` or
//! `key: value` (keys lower-cased, values trimmed); `#` and `;` comment lines; a byte-order
//! mark, CRLF and lone CR line ends. Sections of the same name are merged, later keys winning
//! (as the AWS SDKs' profile-file rules and s3cmd do; botocore's configparser refuses both).
//! Anything else is an error naming the file and line.
//!
//! The AWS files ([`Dialect::Aws`]) add, as the AWS CLI (Python's configparser) reads them:
//! a line indented deeper than the key line above continues its value, or, under a key with
//! an empty value, is a nested setting (`s3 =` / `  addressing_style = path`, kept as
//! `s3.addressing_style`). And as the AWS SDKs read them (botocore keeps it in the value): a
//! `#` or `;` after a blank ends a key line's value.
//!
//! s3cmd ([`Dialect::S3cmd`]) reads each line on its own (no continuation lines), and takes
//! settings before any header too (into a section named `""`).

use std::path::Path;

use crate::{Error, Result};

/// One `[section]` with its entries (key, value, line) in file order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Section {
    pub(crate) name: String,
    pub(crate) entries: Vec<(String, String, usize)>,
}

impl Section {
    /// The last value of `key` (later lines win).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.last(key).map(|(v, _)| v)
    }

    /// The last value of `key` and its line.
    pub(crate) fn last(&self, key: &str) -> Option<(&str, usize)> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, line)| (v.as_str(), *line))
    }

    /// Whether `key` is set (even to an empty value).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _, _)| k == key)
    }
}

/// Which program's reading of the text to follow (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `~/.aws/credentials` and `~/.aws/config`.
    Aws,
    /// `~/.s3cfg`.
    S3cmd,
}

/// A value without its trailing comment: a `#` or `;` after a space or tab starts one (the
/// AWS SDKs' profile-file rule: "Comments adjacent to values are included in the value").
fn strip_inline_comment(value: &str) -> &str {
    let bytes = value.as_bytes();
    let end = (1..bytes.len())
        .find(|&i| matches!(bytes[i], b'#' | b';') && matches!(bytes[i - 1], b' ' | b'\t'))
        .unwrap_or(bytes.len());
    &value[..end]
}

/// The width of a line's leading blanks.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

pub(crate) fn parse(path: &Path, text: &str, dialect: Dialect) -> Result<Vec<Section>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<Section> = Vec::new();
    // The section being filled (an index: a repeated name goes back to its first one).
    let mut current: Option<usize> = None;
    // The last key line: its indentation, its key, and whether its value was empty (then
    // deeper lines are nested keys, else they continue the value).
    let mut last_key: Option<(usize, String, bool)> = None;
    let mut line_no = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let raw = &rest[..end];
        // CRLF is one line end; a lone CR or LF is one too.
        let skip = if rest[end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        rest = rest.get(end + skip..).unwrap_or("");
        line_no += 1;
        let error = |message: &str| Error::ConfigFile {
            path: path.to_path_buf(),
            line: line_no,
            message: message.to_owned(),
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let depth = indent(raw);
        let deeper =
            dialect == Dialect::Aws && last_key.as_ref().is_some_and(|(d, _, _)| depth > *d);
        if trimmed.starts_with('[') && !deeper {
            let Some(close) = trimmed.find(']') else {
                return Err(error("section header without closing `]`"));
            };
            let after = trimmed[close + 1..].trim_start();
            if !(after.is_empty() || after.starts_with('#') || after.starts_with(';')) {
                return Err(error("text after a section header"));
            }
            let name = trimmed[1..close].trim();
            if name.is_empty() {
                return Err(error("empty section name"));
            }
            current = Some(match sections.iter().position(|s| s.name == name) {
                Some(i) => i,
                None => {
                    sections.push(Section {
                        name: name.to_owned(),
                        entries: Vec::new(),
                    });
                    sections.len() - 1
                }
            });
            last_key = None;
            continue;
        }
        if current.is_none() && dialect == Dialect::S3cmd {
            // s3cmd reads settings before any header as well.
            sections.push(Section::default());
            current = Some(sections.len() - 1);
        }
        let Some(section) = current.map(|i| &mut sections[i]) else {
            return Err(error("setting before any `[section]` header"));
        };
        if deeper && let Some((_, parent, true)) = &last_key {
            // A nested setting under `parent =`.
            let Some(split) = trimmed.find(['=', ':']) else {
                return Err(error("expected `key = value` under a nested setting"));
            };
            let key = trimmed[..split].trim().to_ascii_lowercase();
            if key.is_empty() {
                return Err(error("empty key before `=`"));
            }
            let value = trimmed[split + 1..].trim().to_owned();
            section
                .entries
                .push((format!("{parent}.{key}"), value, line_no));
            continue;
        }
        if deeper {
            // A continuation of the value above (configparser): appended on a new line.
            if let Some((_, value, _)) = section.entries.last_mut() {
                value.push('\n');
                value.push_str(trimmed);
            }
            continue;
        }
        let Some(split) = trimmed.find(['=', ':']) else {
            return Err(error("expected `key = value`"));
        };
        let key = trimmed[..split].trim().to_ascii_lowercase();
        let value = match dialect {
            Dialect::Aws => strip_inline_comment(&trimmed[split..]),
            Dialect::S3cmd => &trimmed[split..],
        };
        let value = value[1..].trim().to_owned();
        if key.is_empty() {
            return Err(error("empty key before `=`"));
        }
        last_key = Some((depth, key.clone(), value.is_empty()));
        section.entries.push((key, value, line_no));
    }
    Ok(sections)
}

/// The profile name of a config-file section header, or `None` for another section.
///
/// `[default]` is the default profile; `[profile NAME]` names one, NAME split as a shell word
/// (the AWS CLI writes a name with blanks with `shlex.quote`, `[profile 'my name']`, and
/// botocore reads it with `shlex.split`): a header that is not `profile` and one word is not
/// a profile.
pub(crate) fn config_profile_name(section: &str) -> Option<String> {
    if section == "default" {
        return Some("default".to_owned());
    }
    typed_section_name(section, "profile")
}

/// NAME in a config-file header `[KIND NAME]` (`profile`, `services`), NAME one shell word
/// as botocore reads it.
pub(crate) fn typed_section_name(section: &str, kind: &str) -> Option<String> {
    let rest = section.strip_prefix(kind)?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let [name] = <[String; 1]>::try_from(shell_words(rest)?).ok()?;
    Some(name)
}

/// Splits `text` into words as a POSIX shell (Python's `shlex.split`) does: blanks separate
/// words; `'...'` is literal; in `"..."` a backslash escapes only `"` and `\\`; outside
/// quotes a backslash escapes any character. `None` for an unclosed quote or a final
/// backslash.
fn shell_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => words.extend(word.take()),
            '\\' => word.get_or_insert_default().push(chars.next()?),
            '\'' => {
                let w = word.get_or_insert_default();
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_default();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\') => w.push(c),
                            c => {
                                w.push('\\');
                                w.push(c);
                            }
                        },
                        c => w.push(c),
                    }
                }
            }
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_aws_and_s3cmd_styles() {
        let text = "# comment\n[default]\nAWS_Access_Key_Id = A\n; other\nkey: v:with:colons\n\n[profile x]\ns3 =\n  addressing_style = path\nregion=ch-gva-2\n";
        let s = parse(Path::new("f"), text, Dialect::Aws).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].get("aws_access_key_id"), Some("A"));
        assert_eq!(s[0].get("key"), Some("v:with:colons"));
        assert_eq!(s[1].name, "profile x");
        assert_eq!(s[1].get("s3.addressing_style"), Some("path"));
        assert_eq!(s[1].get("region"), Some("ch-gva-2"));
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line) in [
            ("k = v\n", 1),
            ("[a]\nk = v\n[b\n", 3),
            ("[a]\n\njunk\n", 3),
            ("[]\n", 1),
            ("[a]\n = v\n", 2),
        ] {
            match parse(Path::new("/x/credentials"), text, Dialect::Aws) {
                Err(Error::ConfigFile { line: l, path, .. }) => {
                    assert_eq!(l, line, "{text:?}");
                    assert_eq!(path, Path::new("/x/credentials"));
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }
}
