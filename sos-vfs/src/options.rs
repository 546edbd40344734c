//! `VfsOptions`: what the file system allows, who owns its files, and how it reads and
//! writes.

use std::time::Duration;

use crate::{Error, Result};

/// The default part size of uploads: 8 MiB (as Mountpoint).
pub const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;
/// The default prefetch window: 32 MiB held at most per file read sequentially (up to
/// three ranged GETs in flight, each up to a third, streamed to the reader as they arrive;
/// sequential reads then run at 90 % or more of a direct GET's speed on the RADOS Gateway).
pub const DEFAULT_PREFETCH_WINDOW: u64 = 32 * 1024 * 1024;
/// The first ranged GET of a sequential read: 128 KiB, doubled on each request after.
pub const INITIAL_READ_SIZE: u64 = 128 * 1024;

/// Options of a [`Vfs`](crate::Vfs), as the flags of `mount-s3` (`--prefix`,
/// `--allow-delete`, `--allow-overwrite`, `--uid`, `--gid`, `--file-mode`, `--dir-mode`,
/// `--metadata-ttl`, `--negative-metadata-ttl`, `--write-part-size`).
///
/// ```
/// use std::time::Duration;
/// use sos_vfs::VfsOptions;
///
/// let options = VfsOptions::default()
///     .with_prefix("backups/")
///     .with_allow_delete(true)
///     .with_uid(1000)
///     .with_gid(1000)
///     .with_metadata_ttl(Duration::from_secs(1));
/// assert!(!options.allow_overwrite);
/// assert_eq!(options.file_mode, 0o644);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VfsOptions {
    /// Only keys under this prefix are shown, as the root of the file system. Empty (the
    /// whole bucket) or ending with `/`.
    pub prefix: String,
    /// Whether `unlink` deletes objects (default `false`: `EPERM`).
    pub allow_delete: bool,
    /// Whether an existing file may be replaced by opening it with `O_TRUNC` (default
    /// `false`: `EPERM`).
    pub allow_overwrite: bool,
    /// Owner of every file and directory (default 0; a FUSE layer sets the user who
    /// mounts).
    pub uid: u32,
    /// Group of every file and directory (default 0).
    pub gid: u32,
    /// Permission bits of files (default `0o644`).
    pub file_mode: u16,
    /// Permission bits of directories (default `0o755`).
    pub dir_mode: u16,
    /// How long a lookup's answer is reused without asking the storage (default zero:
    /// every lookup asks, for the strong consistency S3 gives).
    pub metadata_ttl: Duration,
    /// How long a lookup that found nothing is remembered (`None`, the default: as long
    /// as [`metadata_ttl`](Self::metadata_ttl)), as Mountpoint's `--negative-metadata-ttl`.
    /// As there, it matters only with a metadata TTL (without one, lookups always ask).
    pub negative_metadata_ttl: Option<Duration>,
    /// Size of the parts of uploads (default 8 MiB). S3 needs at least 5 MiB; a file is
    /// at most 10 000 parts.
    pub part_size: u64,
    /// Most bytes read ahead and held per file read sequentially (default 32 MiB; 0 turns
    /// read-ahead off: every read is one exact ranged GET).
    pub prefetch_window: u64,
    /// Keys per listing request (default 1000, S3's maximum).
    pub list_page_size: u32,
}

impl Default for VfsOptions {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            allow_delete: false,
            allow_overwrite: false,
            uid: 0,
            gid: 0,
            file_mode: 0o644,
            dir_mode: 0o755,
            metadata_ttl: Duration::ZERO,
            negative_metadata_ttl: None,
            part_size: DEFAULT_PART_SIZE,
            prefetch_window: DEFAULT_PREFETCH_WINDOW,
            list_page_size: 1000,
        }
    }
}

impl VfsOptions {
    /// Sets the key prefix shown as the root (empty, or ending with `/`).
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Allows `unlink`.
    #[must_use]
    pub fn with_allow_delete(mut self, allow: bool) -> Self {
        self.allow_delete = allow;
        self
    }

    /// Allows replacing existing files opened with `O_TRUNC`.
    #[must_use]
    pub fn with_allow_overwrite(mut self, allow: bool) -> Self {
        self.allow_overwrite = allow;
        self
    }

    /// Sets the owner.
    #[must_use]
    pub fn with_uid(mut self, uid: u32) -> Self {
        self.uid = uid;
        self
    }

    /// Sets the group.
    #[must_use]
    pub fn with_gid(mut self, gid: u32) -> Self {
        self.gid = gid;
        self
    }

    /// Sets the permission bits of files.
    #[must_use]
    pub fn with_file_mode(mut self, mode: u16) -> Self {
        self.file_mode = mode;
        self
    }

    /// Sets the permission bits of directories.
    #[must_use]
    pub fn with_dir_mode(mut self, mode: u16) -> Self {
        self.dir_mode = mode;
        self
    }

    /// Sets how long lookups are cached.
    #[must_use]
    pub fn with_metadata_ttl(mut self, ttl: Duration) -> Self {
        self.metadata_ttl = ttl;
        self
    }

    /// Sets how long lookups that found nothing are remembered (by default, as long as
    /// found ones).
    #[must_use]
    pub fn with_negative_metadata_ttl(mut self, ttl: Duration) -> Self {
        self.negative_metadata_ttl = Some(ttl);
        self
    }

    /// How long a lookup that found nothing is remembered.
    pub fn negative_ttl(&self) -> Duration {
        self.negative_metadata_ttl.unwrap_or(self.metadata_ttl)
    }

    /// Sets the part size of uploads.
    #[must_use]
    pub fn with_part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes;
        self
    }

    /// Sets the prefetch window.
    #[must_use]
    pub fn with_prefetch_window(mut self, bytes: u64) -> Self {
        self.prefetch_window = bytes;
        self
    }

    /// Sets the keys per listing request.
    #[must_use]
    pub fn with_list_page_size(mut self, keys: u32) -> Self {
        self.list_page_size = keys;
        self
    }

    /// Checks the options.
    ///
    /// # Errors
    /// [`Error::InvalidOptions`]: a prefix that is not empty and does not end with `/` or
    /// that has a component no path can have, a part size of zero, a page size of zero
    /// or above 1000, modes above `0o7777`.
    pub fn validate(&self) -> Result<()> {
        let bad = |why: String| Err(Error::InvalidOptions(why));
        if !self.prefix.is_empty() {
            let Some(inner) = self.prefix.strip_suffix('/') else {
                return bad(format!("the prefix `{}` must end with `/`", self.prefix));
            };
            if !inner.split('/').all(crate::path::is_valid_name) {
                return bad(format!(
                    "the prefix `{}` has an empty, `.`, `..` or NUL component",
                    self.prefix
                ));
            }
        }
        if self.part_size == 0 {
            return bad("the part size must not be zero".to_owned());
        }
        if !(1..=1000).contains(&self.list_page_size) {
            return bad(format!(
                "the listing page size must be 1 to 1000, not {}",
                self.list_page_size
            ));
        }
        if self.file_mode > 0o7777 || self.dir_mode > 0o7777 {
            return bad("modes are permission bits, at most 0o7777".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        VfsOptions::default().validate().unwrap();
        VfsOptions::default()
            .with_prefix("a/b/")
            .validate()
            .unwrap();
        for prefix in ["a", "/", "a//", "./", "a/../"] {
            assert!(
                VfsOptions::default()
                    .with_prefix(prefix)
                    .validate()
                    .is_err(),
                "{prefix}"
            );
        }
        assert!(VfsOptions::default().with_part_size(0).validate().is_err());
        assert!(
            VfsOptions::default()
                .with_list_page_size(0)
                .validate()
                .is_err()
        );
    }
}
