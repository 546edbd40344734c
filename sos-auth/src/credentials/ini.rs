//! The INI dialect shared by `~/.aws/credentials`, `~/.aws/config` and `~/.s3cfg`.
//!
//! `[section]` headers; `key = value` or `key: value` (keys lower-cased, values trimmed);
//! `#` and `;` comment lines; indented lines continue the previous key (the AWS config
//! uses them for nested settings such as `s3 =` / `  addressing_style = path`, kept as
//! `s3.addressing_style`). Anything else is an error naming the file and line.

use std::path::Path;

use crate::{Error, Result};

/// One `[section]` with its entries in file order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Section {
    pub(crate) name: String,
    pub(crate) entries: Vec<(String, String)>,
}

impl Section {
    /// The last value of `key` (later lines win, as in Python's configparser).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) fn parse(path: &Path, text: &str) -> Result<Vec<Section>> {
    let mut sections: Vec<Section> = Vec::new();
    let mut parent: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let error = |message: &str| Error::ConfigFile {
            path: path.to_path_buf(),
            line: line_no,
            message: message.to_owned(),
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if trimmed.starts_with('[') {
            let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
                return Err(error("section header without closing `]`"));
            };
            let name = name.trim();
            if name.is_empty() {
                return Err(error("empty section name"));
            }
            sections.push(Section {
                name: name.to_owned(),
                entries: Vec::new(),
            });
            parent = None;
            continue;
        }
        let Some(section) = sections.last_mut() else {
            return Err(error("setting before any `[section]` header"));
        };
        let Some(split) = trimmed.find(['=', ':']) else {
            if indented {
                // A continuation of a multi-line value (configparser): append it.
                if let Some((_, value)) = section.entries.last_mut() {
                    if !value.is_empty() {
                        value.push('\n');
                    }
                    value.push_str(trimmed);
                    continue;
                }
            }
            return Err(error("expected `key = value`"));
        };
        let key = trimmed[..split].trim().to_ascii_lowercase();
        let value = trimmed[split + 1..].trim().to_owned();
        if key.is_empty() {
            return Err(error("empty key before `=`"));
        }
        match (&parent, indented) {
            (Some(p), true) => section.entries.push((format!("{p}.{key}"), value)),
            _ => {
                parent = value.is_empty().then(|| key.clone());
                section.entries.push((key, value));
            }
        }
    }
    Ok(sections)
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
