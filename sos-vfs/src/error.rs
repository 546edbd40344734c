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
/// assert_eq!(e.errno(), libc::ENOTSUP);
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
    /// An operation the options forbid, or one that would modify an existing object in
    /// place (`EPERM`): delete without `allow_delete`, overwrite without `allow_overwrite`
    /// or without truncating, append, chmod/chown, changing times of a stored file,
    /// removing a directory that exists in the bucket.
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
    /// efficiently: rename, links, locks, extended attributes (`ENOTSUP`).
    #[error("{operation} is not supported (S3 has no efficient equivalent)")]
    NotSupported {
        /// The operation.
        operation: &'static str,
    },
    /// The file is being written by another handle (`EBUSY`).
    #[error("`{path}` is being written; it can be opened once the writer has closed it")]
    Busy {
        /// The path.
        path: String,
    },
    /// A file handle that is not open, or not open for this operation (`EBADF`).
    #[error("file handle {fh} is not open for {operation}")]
    BadHandle {
        /// The handle.
        fh: u64,
        /// What was attempted.
        operation: &'static str,
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
    /// Options that cannot work (`EINVAL`).
    #[error("invalid options: {0}")]
    InvalidOptions(String),
    /// The object changed on the server while the file was open for reading (`EIO`):
    /// reading on would mix two versions. Open the file again.
    #[error("`{path}` changed on the server while it was open; open it again")]
    ObjectChanged {
        /// The path or key.
        path: String,
    },
    /// A write or close on a file whose upload failed earlier and was aborted (`EIO`).
    #[error("the upload of `{path}` failed earlier and was aborted; the file was not created")]
    UploadAborted {
        /// The path.
        path: String,
    },
    /// The storage refused the credentials access (`EACCES`).
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
    /// | `InvalidName`, `OutOfOrderWrite`, `InvalidOptions` | `EINVAL` |
    /// | `NameTooLong` | `ENAMETOOLONG` |
    /// | `NotPermitted` | `EPERM` |
    /// | `NotSupported` | `ENOTSUP` (= `EOPNOTSUPP` on Linux) |
    /// | `Busy` | `EBUSY` |
    /// | `BadHandle` | `EBADF` |
    /// | `FileTooLarge` | `EFBIG` |
    /// | `AccessDenied` | `EACCES` |
    /// | `ObjectChanged`, `UploadAborted`, `Storage` | `EIO` |
    pub fn errno(&self) -> i32 {
        match self {
            Error::NotFound { .. } | Error::UnknownInode { .. } => libc::ENOENT,
            Error::AlreadyExists { .. } => libc::EEXIST,
            Error::NotEmpty { .. } => libc::ENOTEMPTY,
            Error::IsDirectory { .. } => libc::EISDIR,
            Error::NotDirectory { .. } => libc::ENOTDIR,
            Error::InvalidName { .. }
            | Error::OutOfOrderWrite { .. }
            | Error::InvalidOptions(_) => libc::EINVAL,
            Error::NameTooLong { .. } => libc::ENAMETOOLONG,
            Error::NotPermitted { .. } => libc::EPERM,
            Error::NotSupported { .. } => libc::ENOTSUP,
            Error::Busy { .. } => libc::EBUSY,
            Error::BadHandle { .. } => libc::EBADF,
            Error::FileTooLarge { .. } => libc::EFBIG,
            Error::AccessDenied { .. } => libc::EACCES,
            Error::ObjectChanged { .. } | Error::UploadAborted { .. } | Error::Storage { .. } => {
                libc::EIO
            }
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
    }
}
