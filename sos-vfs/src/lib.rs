//! A path-to-key virtual filesystem over S3-compatible storage (Exoscale SOS, the Ceph
//! RADOS Gateway, AWS S3, ...) with the semantics of
//! [Mountpoint for S3](https://github.com/awslabs/mountpoint-s3/blob/main/doc/SEMANTICS.md).
//!
//! [`Vfs`] gives the operations of a FUSE file system (`lookup`, `getattr`, `readdir`,
//! `open`, `read`, `create`, `write`, `release`, `unlink`, `mkdir`, `rmdir`, `statfs`)
//! over any [`Storage`]; a FUSE layer maps them one to one and answers errors with
//! [`Error::errno`]. It does I/O only through its storage: [`MemoryStorage`] needs no
//! network, `SosStorage` (the `sos-client` feature, on by default) talks to a bucket.
//!
//! # Quick start
//! ```
//! use sos_vfs::{MemoryStorage, Storage, Vfs, VfsOptions, ROOT_INO};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> sos_vfs::Result<()> {
//! let bucket = MemoryStorage::new();
//! bucket.put("backup.tgz", vec![7u8; 1000].into()).await?;
//! let vfs = Vfs::new(bucket, VfsOptions::default())?;
//!
//! // ls -l
//! for entry in vfs.readdir_all(ROOT_INO).await? {
//!     println!("{:o} {:>8} {}", entry.attr.mode(), entry.attr.size, entry.name);
//! }
//! // cat
//! let file = vfs.lookup(ROOT_INO, "backup.tgz").await?;
//! let fh = vfs.open(file.ino, libc::O_RDONLY).await?;
//! assert_eq!(vfs.read(file.ino, fh, 0, 4096).await?.len(), 1000);
//! vfs.release(file.ino, fh).await?;
//! // rm: deletes are off by default, as in Mountpoint
//! let e = vfs.unlink(ROOT_INO, "backup.tgz").await.unwrap_err();
//! assert_eq!(e.errno(), libc::EPERM);
//! # Ok(()) }
//! ```
//!
//! # Semantics
//! (`SEMANTICS.md` in the crate names the test of each rule.)
//!
//! Keys to files ([`is_valid_path`], [`is_valid_name`]):
//! - `/` separates directories: the key `a/b/c` makes directories `a` and `a/b`.
//! - A key with an empty component (`a//b`, `/a`), a `.` or `..` component, or a NUL is
//!   hidden; the directories before that component still exist.
//! - A key ending in `/` (`dir/`, a directory marker) is not a file; it makes `dir` exist.
//! - A directory shadows a file of the same name: with keys `a` and `a/b`, `a` is a
//!   directory; the file `a` shows again when `a/b` is deleted.
//! - Inode numbers are stable while the `Vfs` lives: one per path and kind, never reused.
//!
//! Files:
//! - Reads can be random; sequential reads are prefetched (growing ranged GETs, at most
//!   [`VfsOptions::prefetch_window`] bytes held per file). [`Vfs::try_read`] answers a
//!   read whose bytes are already prefetched without waiting (for a FUSE request thread).
//! - Writes make new files, sequentially; the file is uploaded (one PUT, or a multipart
//!   upload of [`VfsOptions::part_size`] parts) and appears when released. An
//!   out-of-order write fails (`EINVAL`) and aborts the upload; a failed or abandoned
//!   write leaves no object and no multipart upload.
//! - An existing file can be replaced only with [`VfsOptions::allow_overwrite`] and
//!   `O_TRUNC`; modifying or appending to it fails (`EPERM`).
//! - `unlink` needs [`VfsOptions::allow_delete`] (`EPERM` otherwise).
//!
//! Directories:
//! - `mkdir` is local until a file is written below it; `rmdir` removes only empty
//!   local directories (`ENOTEMPTY`, or `EPERM` for one that exists in the bucket).
//!
//! Not supported, with a clear error: rename (`ENOTSUP`, also of directories), hard and
//! symbolic links, locks, extended attributes (`ENOTSUP`), chmod, chown and changing the
//! times of stored files (`EPERM`).
//!
//! # Contents
//! - [`Vfs`] and its [`VfsOptions`]; what it answers: [`FileAttr`], [`FileKind`],
//!   [`DirEntry`], [`Statfs`]; what `setattr` asks: [`SetAttr`].
//! - [`Storage`] ([`ListRequest`], [`ListPage`], [`ListedObject`], [`ObjectMeta`],
//!   [`UploadedPart`]), [`MemoryStorage`], and `SosStorage` (feature `sos-client`).
//! - [`Error`] with [`Error::errno`], and [`Result`].

// The README's example is compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod attr;
mod dir;
mod error;
mod inode;
mod memory;
mod options;
mod path;
mod read;
#[cfg(feature = "sos-client")]
mod sos;
mod storage;
mod vfs;
mod write;

pub use attr::{DirEntry, FileAttr, FileKind, ROOT_INO, SetAttr, Statfs};
pub use error::{BoxError, Error, Result};
pub use memory::{MemoryStorage, S3_MIN_PART_SIZE};
pub use options::{DEFAULT_PART_SIZE, DEFAULT_PREFETCH_WINDOW, INITIAL_READ_SIZE, VfsOptions};
pub use path::{is_valid_name, is_valid_path};
#[cfg(feature = "sos-client")]
pub use sos::SosStorage;
pub use storage::{ListPage, ListRequest, ListedObject, ObjectMeta, Storage, UploadedPart};
pub use vfs::Vfs;
