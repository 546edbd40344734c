//! The one error type. Every error has the `errno` a FUSE layer answers with.

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error kept as the source of [`Error::Storage`] and [`Error::AccessDenied`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything a file-system operation can fail with.
///
/// Each variant maps to one `errno` ([`Error::errno`]), the number a FUSE layer replies
/// with; the message says what happened and, for what is not supported, why.
///
/// ```
/// use sos_vfs::Error;
/// let e = Error::NotSupported { operation: "rename" };
/// assert_eq!(e.errno(), libc::ENOSYS);
/// assert_eq!(e.to_string(), "rename is not supported (S3 has no efficient equivalent)");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No such file or directory (`ENOENT`). `path` is the path in the file system, or the
    /// key when a [`Storage`](crate::Storage) reports it.
    #[error("no such file or directory: `{path}`")]
    NotFound {
        /// The path or key.
        path: String,
    },
    /// An inode number the file system never gave out, or that no longer names what it
    /// named (`ENOENT`).
    #[error("unknown or stale inode {ino}")]
    UnknownInode {
        /// The inode number.
        ino: u64,
    },
    /// The name is taken (`EEXIST`).
    #[error("`{path}` already exists")]
    AlreadyExists {
        /// The path.
        path: String,
    },
    /// `rmdir` of a directory that has entries (`ENOTEMPTY`).
    #[error("directory `{path}` is not empty")]
    NotEmpty {
        /// The path.
        path: String,
    },
    /// A file operation on a directory (`EISDIR`).
    #[error("`{path}` is a directory")]
    IsDirectory {
        /// The path.
        path: String,
    },
    /// A directory operation on a file (`ENOTDIR`).
    #[error("`{path}` is not a directory")]
    NotDirectory {
        /// The path.
        path: String,
    },
    /// A name that cannot be a file or directory name: empty, `.`, `..`, or with a `/` or
    /// a NUL (`EINVAL`).
    #[error("invalid name `{name}`: {reason}")]
    InvalidName {
        /// The name (NUL shown as `\0`).
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// Flags Mountpoint refuses (`EINVAL`): `O_SYNC` or `O_DSYNC` on `open` (a file is
    /// uploaded when closed, not at each write), a `mknod` of anything but a regular file,
    /// `RENAME_EXCHANGE` or `RENAME_WHITEOUT`.
    #[error("{operation}: {reason}")]
    InvalidFlags {
        /// The operation.
        operation: &'static str,
        /// What is not supported.
        reason: &'static str,
    },
    /// The object key would be longer than S3's 1024 bytes (`ENAMETOOLONG`).
    #[error("`{path}` is too long: its key would be {len} bytes, S3 allows 1024")]
    NameTooLong {
        /// The path.
        path: String,
        /// The key's length in bytes.
        len: usize,
    },
    /// A write that does not continue where the previous one ended (`EINVAL`). Files are
    /// written sequentially; the upload was aborted and the file will not be created.
    #[error(
        "out-of-order write to `{path}`: expected offset {expected}, got {offset}; \
         files are written sequentially, so the upload was aborted"
    )]
    OutOfOrderWrite {
        /// The path.
        path: String,
        /// Where the next write had to start.
        expected: u64,
        /// Where it started.
        offset: u64,
    },
    /// An operation the options forbid, or one S3 objects cannot have (`EPERM`, as
    /// Mountpoint): delete without `allow_delete`, overwrite without `allow_overwrite` or
    /// without truncating, append, any `setattr` (chmod, chown, utimes, truncate) of a
    /// stored file or directory, removing a directory that exists in the bucket, opening,
    /// deleting or renaming a file being written, writing a file being read, links.
    #[error("{operation} `{path}`: operation not permitted: {reason}")]
    NotPermitted {
        /// The operation.
        operation: &'static str,
        /// The path.
        path: String,
        /// Why.
        reason: &'static str,
    },
    /// An operation this file system does not implement, because S3 cannot do it
    /// efficiently (`ENOSYS`, as Mountpoint answers): rename (S3 general purpose buckets
    /// have no `RenameObject`), `readlink`, locks, extended attributes, `fallocate`.
    #[error("{operation} is not supported (S3 has no efficient equivalent)")]
    NotSupported {
        /// The operation.
        operation: &'static str,
    },
    /// A file handle that is not open, or not open for this operation (`EBADF`).
    #[error("file handle {fh} is not open for {operation}")]
    BadHandle {
        /// The handle.
        fh: u64,
        /// What was attempted.
        operation: &'static str,
    },
    /// A handle closed (flushed) by its process and then taken over by a newer `open` of
    /// the same file (`EBADF`): a duplicate descriptor of it can no longer be used.
    #[error("file handle {fh} has been invalidated by a newer handle opened")]
    Invalidated {
        /// The handle.
        fh: u64,
    },
    /// A write through a duplicate descriptor of a handle whose upload completed when one
    /// of its descriptors was closed (`flush` by the opener; `EBADF`, as Mountpoint, whose
    /// handle is no longer the file's writer then).
    #[error(
        "file handle {fh} of `{path}` was closed and its upload completed; it cannot be \
         written any more"
    )]
    HandleClosed {
        /// The handle.
        fh: u64,
        /// The path.
        path: String,
    },
    /// A directory handle that is not open (`EINVAL`, as Mountpoint).
    #[error("invalid directory handle {fh}")]
    BadDirHandle {
        /// The handle.
        fh: u64,
    },
    /// The path is not what the inode number named any more: a file became a directory
    /// or the other way round (`ESTALE`). Look the path up again.
    #[error("`{path}` changed kind since its inode was looked up")]
    Stale {
        /// The path.
        path: String,
    },
    /// The file would exceed the largest object the part size allows: 10 000 parts
    /// (`EFBIG`).
    #[error(
        "`{path}` would exceed {limit} bytes (10 000 parts of the part size); the upload was aborted"
    )]
    FileTooLarge {
        /// The path.
        path: String,
        /// The largest size.
        limit: u64,
    },
    /// `fsync` of a file whose upload grew beyond the largest object (`ENOSPC`, what
    /// `fsync` reports for a lack of space; the write itself said `EFBIG`).
    #[error(
        "`{path}` exceeded {limit} bytes (10 000 parts of the part size); the upload was aborted"
    )]
    NoSpace {
        /// The path.
        path: String,
        /// The largest size.
        limit: u64,
    },
    /// Options that cannot work (`EINVAL`).
    #[error("invalid options: {0}")]
    InvalidOptions(String),
    /// The object changed on the server while the file was open for reading (`ESTALE`,
    /// as Mountpoint: the ETag seen at `open` no longer matches): reading on would mix
    /// two versions. Open the file again.
    #[error("`{path}` changed on the server while it was open; open it again")]
    ObjectChanged {
        /// The path or key.
        path: String,
    },
    /// The object was deleted on the server while the file was open for reading (`EIO`,
    /// as Mountpoint).
    #[error("`{path}` was deleted on the server while it was open")]
    ObjectDeleted {
        /// The path.
        path: String,
    },
    /// A write, `flush` or `fsync` on a file whose upload failed earlier and was aborted:
    /// the `errno` of that failure again (`EINVAL` after an out-of-order write, `EFBIG`,
    /// `EIO`...), as Mountpoint.
    #[error(
        "the upload of `{path}` failed earlier (errno {errno}) and was aborted; the file was not created"
    )]
    UploadAborted {
        /// The path.
        path: String,
        /// The errno of the first failure.
        errno: i32,
    },
    /// A call on a file being written after an earlier call on the same handle was
    /// dropped (cancelled: its future was dropped, by a timeout or a `select!`) while it
    /// uploaded buffered bytes (`EIO`). The upload was aborted and the file was not
    /// created: going on would have made an object without those bytes.
    #[error(
        "an earlier call on `{path}` was cancelled while it uploaded; the upload was aborted \
         and the file was not created"
    )]
    Cancelled {
        /// The path.
        path: String,
    },
    /// A write to a file whose upload `fsync` already completed (`EIO`, as Mountpoint).
    #[error("the upload of `{path}` was already completed by fsync; it cannot be written any more")]
    UploadCompleted {
        /// The path.
        path: String,
    },
    /// The storage refused the credentials access (`EIO`, as Mountpoint answers any
    /// error of the storage; the message says what was denied).
    #[error("access denied: {operation} `{key}`")]
    AccessDenied {
        /// The storage operation (`GetObject`, ...).
        operation: &'static str,
        /// The key or prefix.
        key: String,
        /// The storage's error.
        #[source]
        source: BoxError,
    },
    /// The storage failed (`EIO`): transport, server error, unexpected answer.
    #[error("{operation} `{key}` failed: {source}")]
    Storage {
        /// The storage operation (`GetObject`, ...).
        operation: &'static str,
        /// The key or prefix.
        key: String,
        /// The storage's error.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// The `errno` a FUSE layer replies with (positive, from [`libc`]).
    ///
    /// | variant | errno |
    /// |---|---|
    /// | `NotFound`, `UnknownInode` | `ENOENT` |
    /// | `AlreadyExists` | `EEXIST` |
    /// | `NotEmpty` | `ENOTEMPTY` |
    /// | `IsDirectory` | `EISDIR` |
    /// | `NotDirectory` | `ENOTDIR` |
    /// | `InvalidName`, `InvalidFlags`, `OutOfOrderWrite`, `InvalidOptions`, `BadDirHandle` | `EINVAL` |
    /// | `NameTooLong` | `ENAMETOOLONG` |
    /// | `NotPermitted` | `EPERM` |
    /// | `NotSupported` | `ENOSYS` |
    /// | `BadHandle`, `Invalidated`, `HandleClosed` | `EBADF` |
    /// | `Stale`, `ObjectChanged` | `ESTALE` |
    /// | `FileTooLarge` | `EFBIG` |
    /// | `NoSpace` | `ENOSPC` |
    /// | `UploadAborted` | the errno of the failure it reports |
    /// | `AccessDenied`, `ObjectDeleted`, `UploadCompleted`, `Cancelled`, `Storage` | `EIO` |
    pub fn errno(&self) -> i32 {
        match self {
            Error::NotFound { .. } | Error::UnknownInode { .. } => libc::ENOENT,
            Error::AlreadyExists { .. } => libc::EEXIST,
            Error::NotEmpty { .. } => libc::ENOTEMPTY,
            Error::IsDirectory { .. } => libc::EISDIR,
            Error::NotDirectory { .. } => libc::ENOTDIR,
            Error::InvalidName { .. }
            | Error::InvalidFlags { .. }
            | Error::OutOfOrderWrite { .. }
            | Error::InvalidOptions(_)
            | Error::BadDirHandle { .. } => libc::EINVAL,
            Error::NameTooLong { .. } => libc::ENAMETOOLONG,
            Error::NotPermitted { .. } => libc::EPERM,
            Error::NotSupported { .. } => libc::ENOSYS,
            Error::BadHandle { .. } | Error::Invalidated { .. } | Error::HandleClosed { .. } => {
                libc::EBADF
            }
            Error::Stale { .. } | Error::ObjectChanged { .. } => libc::ESTALE,
            Error::FileTooLarge { .. } => libc::EFBIG,
            Error::NoSpace { .. } => libc::ENOSPC,
            Error::UploadAborted { errno, .. } => *errno,
            Error::AccessDenied { .. }
            | Error::ObjectDeleted { .. }
            | Error::UploadCompleted { .. }
            | Error::Cancelled { .. }
            | Error::Storage { .. } => libc::EIO,
        }
    }

    /// Whether this is `ENOENT`.
    pub fn is_not_found(&self) -> bool {
        self.errno() == libc::ENOENT
    }

    /// A storage failure (`EIO`), for [`Storage`](crate::Storage) implementations.
    pub fn storage(
        operation: &'static str,
        key: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        Error::Storage {
            operation,
            key: key.into(),
            source: source.into(),
        }
    }

    /// A missing key (`ENOENT`), for [`Storage`](crate::Storage) implementations.
    pub fn not_found(key: impl Into<String>) -> Self {
        Error::NotFound { path: key.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_positive_errno() {
        let errors = [
            Error::not_found("a"),
            Error::UnknownInode { ino: 9 },
            Error::storage("GetObject", "k", "boom"),
            Error::OutOfOrderWrite {
                path: "f".into(),
                expected: 0,
                offset: 1,
            },
        ];
        for e in errors {
            assert!(e.errno() > 0, "{e}");
        }
        assert!(Error::not_found("x").is_not_found());
        // Mountpoint's errnos where they are not the obvious ones.
        let denied = Error::AccessDenied {
            operation: "HeadObject",
            key: "k".into(),
            source: "403".into(),
        };
        assert_eq!(denied.errno(), libc::EIO);
        assert!(denied.to_string().contains("access denied"));
        let aborted = Error::UploadAborted {
            path: "f".into(),
            errno: libc::EINVAL,
        };
        assert_eq!(aborted.errno(), libc::EINVAL);
        let changed = Error::ObjectChanged { path: "f".into() };
        assert_eq!(changed.errno(), libc::ESTALE);
        assert_eq!(Error::BadDirHandle { fh: 1 }.errno(), libc::EINVAL);
        // A write through a duplicate after the close completed the upload: EBADF, as
        // Mountpoint, with its own message (no newer handle is involved).
        let closed = Error::HandleClosed {
            fh: 3,
            path: "f".into(),
        };
        assert_eq!(closed.errno(), libc::EBADF);
        assert!(!closed.to_string().contains("newer"), "{closed}");
        let cancelled = Error::Cancelled { path: "f".into() };
        assert_eq!(cancelled.errno(), libc::EIO);
        let rename = Error::NotSupported {
            operation: "rename",
        };
        assert_eq!(rename.errno(), libc::ENOSYS);
    }
}
