//! A path-to-key virtual filesystem over S3-compatible storage (Exoscale SOS, the Ceph
//! RADOS Gateway, AWS S3, ...) with the semantics of
//! [Mountpoint for S3](https://github.com/awslabs/mountpoint-s3/blob/main/doc/SEMANTICS.md).
//!
//! [`Vfs`] gives the operations of a FUSE file system (`lookup`, `getattr`, `setattr`,
//! `readdir`, `mknod`, `open`, `read`, `create`, `write`, `flush`, `fsync`, `release`,
//! `unlink`, `mkdir`, `rmdir`, `rename`, `statfs`) over any [`Storage`]; a FUSE layer maps
//! them one to one and answers errors with [`Error::errno`], the errno Mountpoint answers.
//! It does I/O only through its storage: [`MemoryStorage`] needs no network, `SosStorage`
//! (the `sos-client` feature, on by default) talks to a bucket.
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
//! // touch: times of stored files cannot be changed
//! let touch = sos_vfs::SetAttr::default().with_mtime(std::time::SystemTime::now());
//! assert_eq!(vfs.setattr(file.ino, &touch).await.unwrap_err().errno(), libc::EPERM);
//! # Ok(()) }
//! ```
//!
//! # Semantics
//! Mountpoint's, read from its source (`SEMANTICS.md` in the crate names the test of each
//! rule, and the few places where this crate deliberately does better).
//!
//! Keys to files ([`is_valid_path`], [`is_valid_name`]):
//! - `/` separates directories: the key `a/b/c` makes directories `a` and `a/b`.
//! - A key with an empty component (`a//b`, `/a`), a `.` or `..` component, or a NUL is
//!   hidden; the directories before that component still exist.
//! - A key ending in `/` (`dir/`, a directory marker) is not a file; it makes `dir` exist.
//! - Shadowing, first wins: a directory in the bucket, then local state (a directory made
//!   by `mkdir`, a file being written), then an object. With keys `a` and `a/b`, `a` is a
//!   directory; the file `a` shows again when `a/b` is deleted.
//! - Inode numbers are stable while the `Vfs` lives: one per path and kind, never reused;
//!   an inode whose path changed kind is stale (`ESTALE`).
//! - Lookups ask the storage every time, unless [`VfsOptions::metadata_ttl`] is set: then
//!   answers, "not found" included, are reused that long.
//!
//! Files:
//! - Reads can be random; sequential reads are prefetched (growing ranged GETs, at most
//!   [`VfsOptions::prefetch_window`] bytes held per file). [`Vfs::try_read`] answers a
//!   read whose bytes are already prefetched without waiting (for a FUSE request thread).
//!   A handle reads the version it opened: replaced on the server, reads fail (`ESTALE`);
//!   deleted, `EIO`.
//! - Writes make new files (`mknod` or `create`, then `open` for writing), sequentially
//!   (an out-of-order write fails with `EINVAL`, and so does everything after on that
//!   handle). The file is listed and found at once, with the bytes written so far, and
//!   uploaded (one PUT, or a multipart upload of [`VfsOptions::part_size`] parts) on
//!   `fsync` or close: the opener's `flush` once bytes were written, else `release`. A
//!   failed or abandoned write leaves no object and no multipart upload; so does a call
//!   whose future is dropped while it uploads (see [`Vfs`], "Cancel safety"). Each file
//!   open for writing holds up to one part in memory.
//! - A file has many readers or one writer: opening a file being written, or writing one
//!   being read, fails with `EPERM`; `O_SYNC`/`O_DSYNC` with `EINVAL`; `O_RDWR` reads
//!   unless the file is new (or replaced, below).
//! - An existing file can be replaced only with [`VfsOptions::allow_overwrite`] and
//!   `O_TRUNC`; modifying or appending to it fails (`EPERM`).
//! - `setattr` works only on files being written and local directories (their times can
//!   be set); anything stored in the bucket answers `EPERM` (chmod, chown, truncate,
//!   utimes).
//! - `unlink` needs [`VfsOptions::allow_delete`] (`EPERM` otherwise, and for a file being
//!   written).
//!
//! Directories:
//! - `mkdir` is local until a key is below it; from then on it exists in the bucket and
//!   goes when its keys go. `rmdir` removes only empty local directories (`ENOTEMPTY` for
//!   one with local entries, `EPERM` for one in the bucket, whatever it holds).
//! - Listings are taken at `opendir` and again at `rewinddir`, `.` and `..` first, then
//!   names in byte order.
//!
//! Not supported, with Mountpoint's errno: rename (`ENOSYS`, after Mountpoint's own checks),
//! `readlink`, locks, extended attributes, `fallocate` (`ENOSYS`); hard and symbolic links
//! (`EPERM`); special files (`EINVAL`).
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
mod handle;
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
