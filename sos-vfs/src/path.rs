//! Names and paths: which keys can show as files, as Mountpoint for S3 decides.
//!
//! A key is split on `/`. Every component but the last is a directory, the last is the
//! file. A key shows as a file only when every component is a valid name
//! ([`is_valid_name`]) and no directory of the same name exists (directories shadow
//! files). A key ending in `/` (`dir/`, a "directory marker") is not a file, but makes its
//! directory exist. A key with an invalid component is hidden, though the directories
//! before that component still exist.

/// Whether `name` can be a file or directory name: not empty, not `.` or `..`, and
/// without `/` or NUL.
///
/// ```
/// use sos_vfs::is_valid_name;
/// assert!(is_valid_name("cat.jpg"));
/// assert!(is_valid_name(".hidden"));
/// assert!(!is_valid_name(""));
/// assert!(!is_valid_name("."));
/// assert!(!is_valid_name(".."));
/// assert!(!is_valid_name("a/b"));
/// assert!(!is_valid_name("a\0b"));
/// ```
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// Whether a key (after the mount prefix) can show as a file: every `/`-separated
/// component is a valid name. Such a file is still hidden when a directory has its name.
///
/// ```
/// use sos_vfs::is_valid_path;
/// assert!(is_valid_path("colors/blue/cat.jpg"));
/// assert!(!is_valid_path("colors//cat.jpg")); // an empty component
/// assert!(!is_valid_path("colors/./cat.jpg")); // `.`
/// assert!(!is_valid_path("../cat.jpg")); // `..`
/// assert!(!is_valid_path("colors/")); // a directory marker: `colors` is a directory
/// assert!(!is_valid_path("/cat.jpg")); // a leading `/` is an empty component
/// assert!(!is_valid_path("cat\0.jpg")); // NUL
/// ```
pub fn is_valid_path(key: &str) -> bool {
    key.split('/').all(is_valid_name)
}

/// `parent/name` (`name` at the root).
pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}/{name}")
    }
}

/// The parent of a path (the root's parent is the root).
pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// Whether `path` is `ancestor` or below it (`a` is an ancestor of `a/b`, not of `ab`).
pub(crate) fn is_within(path: &str, ancestor: &str) -> bool {
    ancestor.is_empty()
        || path == ancestor
        || path
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The name a kernel passed, checked (`InvalidName` for what cannot be created).
pub(crate) fn check_name(name: &str) -> crate::Result<()> {
    let reason = if name.is_empty() {
        "empty"
    } else if name == "." || name == ".." {
        "`.` and `..` are reserved"
    } else if name.contains('/') {
        "contains `/`"
    } else if name.contains('\0') {
        "contains NUL"
    } else {
        return Ok(());
    };
    Err(crate::Error::InvalidName {
        name: name.replace('\0', "\\0"),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "b"), "a/b");
        assert_eq!(parent("a/b/c"), "a/b");
        assert_eq!(parent("a"), "");
        assert!(is_within("a/b", "a"));
        assert!(is_within("a", "a"));
        assert!(is_within("a", ""));
        assert!(!is_within("ab", "a"));
        assert!(check_name("ok").is_ok());
        assert_eq!(check_name("a\0").unwrap_err().errno(), libc::EINVAL);
    }
}
