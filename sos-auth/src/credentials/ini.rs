//! The INI dialect shared by `~/.aws/credentials`, `~/.aws/config` and `~/.s3cfg`.
//!
//! `[section]` headers (a `#` or `;` comment may follow); `key = value` or `key: value`
//! (keys lower-cased, values trimmed); `#` and `;` comment lines; a line indented deeper than
//! the key line above continues it, as in Python's configparser (the AWS config uses that for
//! nested settings such as `s3 =` / `  addressing_style = path`, kept as
//! `s3.addressing_style`). A byte-order mark, CRLF and lone CR line ends are accepted.
//! Sections of the same name are merged, later keys winning (s3cmd merges them; configparser
//! refuses them). Anything else is an error naming the file and line.

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

/// The width of a line's leading blanks.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

pub(crate) fn parse(path: &Path, text: &str) -> Result<Vec<Section>> {
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
        let deeper = last_key.as_ref().is_some_and(|(d, _, _)| depth > *d);
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
        let value = trimmed[split + 1..].trim().to_owned();
        if key.is_empty() {
            return Err(error("empty key before `=`"));
        }
        last_key = Some((depth, key.clone(), value.is_empty()));
        section.entries.push((key, value, line_no));
    }
    Ok(sections)
}

/// The profile name of a config-file section header (`profile NAME`, `profile 'my name'`,
/// `profile "my name"`: the AWS CLI quotes names with spaces), or `None` for another section.
pub(crate) fn config_profile_name(section: &str) -> Option<&str> {
    if section == "default" {
        return Some("default");
    }
    let rest = section.strip_prefix("profile")?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let name = rest.trim();
    let unquoted = ['\'', '"']
        .into_iter()
        .find_map(|q| name.strip_prefix(q).and_then(|n| n.strip_suffix(q)));
    Some(unquoted.unwrap_or(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_aws_and_s3cmd_styles() {
        let text = "# comment\n[default]\nAWS_Access_Key_Id = A\n; other\nkey: v:with:colons\n\n[profile x]\ns3 =\n  addressing_style = path\nregion=ch-gva-2\n";
        let s = parse(Path::new("f"), text).unwrap();
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
            match parse(Path::new("/x/credentials"), text) {
                Err(Error::ConfigFile { line: l, path, .. }) => {
                    assert_eq!(l, line, "{text:?}");
                    assert_eq!(path, Path::new("/x/credentials"));
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }
}
