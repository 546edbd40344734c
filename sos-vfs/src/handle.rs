//! The life of a file handle, as Mountpoint's: `mknod` (a local file), `create`, `open`
//! (a reader or a writer), `write`, `flush` (each `close`), `fsync`, `release` (the last
//! `close`), and the bookkeeping of which handles a file has open.
//!
//! A file has many readers or one writer. A handle flushed by its process (closed while a
//! duplicate descriptor may live on) is inactive: a newer `open` of the same file takes
//! the file over (completing an inactive writer's upload first), after which the old
//! handle answers `EBADF`.

use std::sync::Arc;
use std::time::SystemTime;

use crate::attr::{FileAttr, FileKind};
use crate::path::{is_within, parent};
use crate::read::Reader;
use crate::storage::Storage;
use crate::vfs::{Handle, LocalFile, Node, Vfs};
use crate::write::{MAX_PARTS, Writer};
use crate::{Error, Result};

impl<S: Storage + 'static> Vfs<S> {
    /// Makes a new, empty regular file (FUSE `mknod`), locally as Mountpoint does: it is
    /// found and listed (size 0) but not in the bucket; opening it for writing (any
    /// access mode but read-only) starts its upload.
    ///
    /// # Errors
    /// `EINVAL` for anything but a regular file (`mode & S_IFMT` must be `S_IFREG`) or an
    /// invalid name, `EEXIST`, `ENAMETOOLONG`, `ENOENT` or `ENOTDIR` for the parent,
    /// storage errors.
    pub async fn mknod(&self, parent: u64, name: &str, mode: u32) -> Result<FileAttr> {
        #[allow(clippy::useless_conversion)] // `mode_t` is u16 on macOS
        let (format, regular) = (u32::from(libc::S_IFMT), u32::from(libc::S_IFREG));
        if mode & format != regular {
            return Err(Error::InvalidFlags {
                operation: "mknod",
                reason: "only regular files can be made",
            });
        }
        let path = self.new_entry_path(parent, name).await?;
        let now = SystemTime::now();
        let mut state = self.state();
        if state.local_files.contains_key(&path) || state.local_dirs.contains_key(&path) {
            return Err(Error::AlreadyExists { path });
        }
        let ino = state.inodes.ino(&path, FileKind::File);
        let local = LocalFile {
            ino,
            size: 0,
            atime: now,
            mtime: now,
            ctime: now,
            opened: false,
        };
        state.local_files.insert(path, local.clone());
        state.cache.clear();
        Ok(self.local_attr(&local))
    }

    /// Creates a new file in `parent` and opens it for writing (`mknod`, then `open` with
    /// `O_WRONLY`). Returns its attributes and the file handle.
    ///
    /// The file is listed and found at once (with the bytes written so far), but other
    /// clients see it only once it is closed (or `fsync`ed): its object is uploaded then.
    ///
    /// # Errors
    /// As [`mknod`](Self::mknod).
    pub async fn create(&self, parent: u64, name: &str) -> Result<(FileAttr, u64)> {
        #[allow(clippy::useless_conversion)] // `mode_t` is u16 on macOS
        let attr = self.mknod(parent, name, u32::from(libc::S_IFREG)).await?;
        let fh = self.open(attr.ino, libc::O_WRONLY).await?;
        Ok((attr, fh))
    }

    /// Opens a file (FUSE `open`); `flags` are the `open(2)` flags. Returns the file
    /// handle. A handle reads or writes, never both, chosen as Mountpoint does:
    ///
    /// - `O_WRONLY`: a writer. A file made by `mknod` (or `create`) is written from
    ///   scratch; an existing file only with `O_TRUNC` and `allow_overwrite` (it is
    ///   replaced when the handle is closed).
    /// - `O_RDWR`: a writer for a file made by `mknod`, or with `O_TRUNC` and
    ///   `allow_overwrite`; otherwise a reader (writes to it fail with `EBADF`).
    /// - `O_RDONLY`: a reader.
    ///
    /// A file has many readers or one writer.
    ///
    /// # Errors
    /// `EINVAL` for `O_SYNC` or `O_DSYNC`; `EPERM` to write an existing file without
    /// `O_TRUNC` or without `allow_overwrite`, to read a file being written (or made by
    /// `mknod` and not written yet), to write a file already being written or read;
    /// `EISDIR`, `ENOENT`, `ESTALE`, storage errors.
    pub async fn open(&self, ino: u64, flags: i32) -> Result<u64> {
        if flags & (libc::O_SYNC | libc::O_DSYNC) != 0 {
            return Err(Error::InvalidFlags {
                operation: "open",
                reason: "O_SYNC and O_DSYNC are not supported: files are uploaded when \
                         closed, not at each write",
            });
        }
        let (path, kind) = self.inode(ino)?;
        if kind == FileKind::Directory {
            return Err(Error::IsDirectory { path });
        }
        let (path, node) = self.current(ino, true).await?;
        let access = flags & libc::O_ACCMODE;
        let truncate = flags & libc::O_TRUNC != 0;
        let unopened = matches!(&node, Node::Local(l) if !l.opened);
        let write = if access == libc::O_RDWR {
            unopened || (self.options.allow_overwrite && truncate)
        } else {
            access == libc::O_WRONLY
        };
        let denied = |path, reason| {
            Err(Error::NotPermitted {
                operation: "open",
                path,
                reason,
            })
        };
        if !write {
            if unopened {
                return denied(path, "the file is being written and cannot be read yet");
            }
            return self.open_reader(ino, path, node).await;
        }
        if !unopened {
            if !truncate {
                return denied(
                    path,
                    if flags & libc::O_APPEND != 0 {
                        "appending to an existing file is not supported"
                    } else {
                        "modifying an existing file is not supported; replace it by \
                         opening it with O_TRUNC (needs allow_overwrite)"
                    },
                );
            }
            if !self.options.allow_overwrite {
                return denied(
                    path,
                    "replacing existing files is disabled (allow_overwrite)",
                );
            }
        }
        self.open_writer(ino, path, node).await
    }

    /// Registers and makes a reader of `node` (what the file is); an inactive writer of
    /// the file is completed first.
    async fn open_reader(&self, ino: u64, path: String, node: Node) -> Result<u64> {
        let (fh, pending) = {
            let mut state = self.state();
            let writer = state.open.get(&ino).and_then(|o| o.writer);
            if writer.is_some_and(|(_, active)| active) {
                drop(state);
                return Err(Error::NotPermitted {
                    operation: "open",
                    path,
                    reason: "the file is being written and cannot be read until it is closed",
                });
            }
            let fh = state.next_fh();
            let open = state.open.entry(ino).or_default();
            open.writer = None;
            open.readers.insert(fh, true);
            (fh, writer.map(|(w, _)| w))
        };
        let opened = async {
            let node = match pending {
                Some(writer) => {
                    self.complete_pending(writer).await?;
                    self.current(ino, true).await?.1
                }
                None => node,
            };
            match node {
                Node::File(meta) => Ok(meta),
                _ => Err(Error::NotPermitted {
                    operation: "open",
                    path: path.clone(),
                    reason: "the file is being written and cannot be read until it is closed",
                }),
            }
        };
        let meta = match opened.await {
            Ok(meta) => meta,
            Err(e) => {
                let mut state = self.state();
                if let Some(open) = state.open.get_mut(&ino) {
                    open.readers.remove(&fh);
                }
                state.prune_open(ino);
                return Err(e);
            }
        };
        let key = self.key(&path);
        let reader = Reader::new(
            Arc::clone(&self.storage),
            ino,
            path,
            key,
            meta.size,
            meta.etag,
            self.options.prefetch_window,
        );
        self.state().files.insert(
            fh,
            Arc::new(tokio::sync::Mutex::new(Handle::Reader(reader))),
        );
        Ok(fh)
    }

    /// Registers and makes a writer (`node` is what the file was before: a local file,
    /// or an object being replaced); an inactive writer of the file is completed first.
    async fn open_writer(&self, ino: u64, path: String, node: Node) -> Result<u64> {
        let local = match node {
            Node::Local(mut local) => {
                local.size = 0;
                local.opened = true;
                local
            }
            Node::File(meta) => {
                let time = meta.last_modified.unwrap_or(self.mounted_at);
                LocalFile {
                    ino,
                    size: 0,
                    atime: time,
                    mtime: time,
                    ctime: time,
                    opened: true,
                }
            }
            Node::Dir => return Err(Error::IsDirectory { path }),
        };
        let (fh, pending) = {
            let mut state = self.state();
            let open = state.open.entry(ino).or_default();
            let reason = if open.readers.values().any(|active| *active) {
                Some("the file is being read; it can be replaced once every reader closed it")
            } else if open.writer.is_some_and(|(_, active)| active) {
                Some("the file is already being written")
            } else {
                None
            };
            if let Some(reason) = reason {
                state.prune_open(ino);
                return Err(Error::NotPermitted {
                    operation: "open for writing",
                    path,
                    reason,
                });
            }
            // Inactive readers are taken over: their handles fail from now on.
            open.readers.clear();
            let pending = open.writer.take().map(|(fh, _)| fh);
            let fh = state.next_fh();
            state.open.entry(ino).or_default().writer = Some((fh, true));
            state.local_files.insert(path.clone(), local);
            let writer = Writer::new(
                Arc::clone(&self.storage),
                ino,
                path.clone(),
                self.key(&path),
                self.options.part_size,
            );
            state.files.insert(
                fh,
                Arc::new(tokio::sync::Mutex::new(Handle::Writer(writer))),
            );
            state.cache.clear();
            (fh, pending)
        };
        if let Some(writer) = pending
            && let Err(e) = self.complete_pending(writer).await
        {
            tracing::warn!(path = %path, error = %e, "completing an earlier writer failed");
        }
        Ok(fh)
    }

    /// Completes the upload of an inactive writer a newer `open` takes the file over from.
    async fn complete_pending(&self, fh: u64) -> Result<()> {
        let Some(handle) = self.state().files.get(&fh).cloned() else {
            return Ok(());
        };
        let mut handle = handle.lock().await;
        let Handle::Writer(w) = &mut *handle else {
            return Ok(());
        };
        if w.finished() {
            return Ok(());
        }
        let result = w.commit().await;
        self.finish_write(w, fh);
        result
    }

    /// Book-keeping after a writer completed or failed: if it is still the file's writer,
    /// the file loses its local state (a new file that failed disappears; a replacement
    /// that failed shows the old object again); a committed file exists in the bucket, so
    /// the local directories above it do too.
    pub(crate) fn finish_write(&self, writer: &Writer<S>, fh: u64) {
        let mut state = self.state();
        let ino = writer.ino;
        let registered = state.open.get(&ino).and_then(|o| o.writer);
        let local_opened = state
            .local_files
            .get(&writer.path)
            .is_some_and(|l| l.ino == ino && l.opened);
        // Its own writer, or a reader's `open` that took an inactive writer over (and
        // completes it now): no newer writer owns the local state.
        let current = match registered {
            Some((w, _)) => w == fh,
            None => local_opened,
        };
        if current {
            if let Some(open) = state.open.get_mut(&ino) {
                open.writer = None;
            }
            state.prune_open(ino);
            if local_opened {
                state.local_files.remove(&writer.path);
            }
        }
        if writer.committed() {
            let dir = parent(&writer.path).to_owned();
            state.local_dirs.retain(|d, _| !is_within(&dir, d));
        }
        state.cache.clear();
    }

    /// A write or read on a handle flushed before: it goes on only if no newer `open`
    /// took the file over.
    fn reactivate(&self, ino: u64, fh: u64, writer: bool) -> Result<()> {
        let mut state = self.state();
        let flag = state.open.get_mut(&ino).and_then(|open| {
            if writer {
                open.writer
                    .as_mut()
                    .filter(|(w, _)| *w == fh)
                    .map(|(_, active)| active)
            } else {
                open.readers.get_mut(&fh)
            }
        });
        match flag {
            Some(active) => {
                *active = true;
                Ok(())
            }
            None => Err(Error::Invalidated { fh }),
        }
    }

    /// Reactivates a flushed reader (see `reactivate`); for `read` and `try_read`.
    pub(crate) fn reactivate_reader(&self, reader: &mut Reader<S>, fh: u64) -> Result<()> {
        if reader.flushed {
            self.reactivate(reader.ino, fh, false)?;
            reader.flushed = false;
        }
        Ok(())
    }

    /// Marks a handle inactive in its file's registry.
    fn deactivate(&self, ino: u64, fh: u64, writer: bool) {
        let mut state = self.state();
        if let Some(open) = state.open.get_mut(&ino) {
            if writer {
                if let Some((w, active)) = open.writer.as_mut()
                    && *w == fh
                {
                    *active = false;
                }
            } else if let Some(active) = open.readers.get_mut(&fh) {
                *active = false;
            }
        }
    }

    /// Writes `data` at `offset` (FUSE `write`). Writes must be sequential: `offset` is
    /// where the previous write ended. Returns the bytes written (all of them). The file's
    /// size (`getattr`, `lookup`) grows as it is written.
    ///
    /// # Errors
    /// `EINVAL` for an out-of-order write (the upload is aborted and the file will not be
    /// created), `EFBIG` beyond 10 000 parts, `EBADF` for a handle not open for writing
    /// (or taken over by a newer `open`), `EIO` after `fsync` completed the upload, the
    /// errno of an earlier failure, storage errors (the upload is aborted).
    pub async fn write(&self, ino: u64, fh: u64, offset: u64, data: &[u8]) -> Result<u32> {
        let handle = self.handle(fh, "writing")?;
        let mut handle = handle.lock().await;
        let Handle::Writer(writer) = &mut *handle else {
            return Err(Error::BadHandle {
                fh,
                operation: "writing",
            });
        };
        if writer.ino != ino {
            return Err(Error::BadHandle {
                fh,
                operation: "writing",
            });
        }
        if writer.flushed {
            self.reactivate(ino, fh, true)?;
            writer.flushed = false;
        }
        let result = writer.write(offset, data).await;
        if result.is_err() && writer.finished() {
            // Aborted: the file loses its local state now, as Mountpoint's.
            self.finish_write(writer, fh);
            return result;
        }
        let written = writer.written();
        let mut state = self.state();
        if let Some(local) = state
            .local_files
            .get_mut(&writer.path)
            .filter(|l| l.ino == ino)
        {
            local.size = written;
        }
        result
    }

    /// Called when a descriptor of the handle is closed by the process that opened it
    /// (FUSE `flush`, on each `close`), as Mountpoint: a writer that has written bytes
    /// completes its upload now, so the file exists in the bucket when `close` returns and
    /// a failure is reported to `close`; a writer with nothing written yet (`touch`, `dd`
    /// and shells close a duplicate first) waits for `release`. Either way the handle is
    /// inactive from then on (see [`flush_from_other_process`](Self::flush_from_other_process)).
    ///
    /// # Errors
    /// The errno of a failed upload (that of an earlier failure again), `EBADF`.
    pub async fn flush(&self, ino: u64, fh: u64) -> Result<()> {
        self.flush_with(ino, fh, true).await
    }

    /// Called when a descriptor of the handle is closed by another process than the one
    /// that opened it (a child that inherited it): never completes an upload, only marks
    /// the handle inactive. A write through another descriptor makes it active again; a
    /// newer `open` of the file completes the upload and takes the file over.
    ///
    /// # Errors
    /// The errno of an earlier failure of the upload, `EBADF`.
    pub async fn flush_from_other_process(&self, ino: u64, fh: u64) -> Result<()> {
        self.flush_with(ino, fh, false).await
    }

    async fn flush_with(&self, _ino: u64, fh: u64, opener: bool) -> Result<()> {
        let handle = self.handle(fh, "flush")?;
        let mut handle = handle.lock().await;
        match &mut *handle {
            Handle::Reader(r) => {
                self.deactivate(r.ino, fh, false);
                r.flushed = true;
                Ok(())
            }
            Handle::Writer(w) => {
                if let Some(e) = w.aborted() {
                    return Err(e);
                }
                if w.is_open() {
                    if w.written() == 0 || !opener {
                        self.deactivate(w.ino, fh, true);
                    } else {
                        let result = w.commit().await;
                        self.finish_write(w, fh);
                        result?;
                    }
                }
                w.flushed = true;
                Ok(())
            }
        }
    }

    /// Makes a file being written durable (FUSE `fsync`): completes its upload now, so
    /// the object exists; later writes to the handle fail (`EIO`). Nothing to do for a
    /// reader.
    ///
    /// # Errors
    /// Storage errors (the upload is then aborted), the errno of an earlier failure
    /// (`ENOSPC` for a file that grew too large: `fsync` reports a lack of space), `EBADF`.
    pub async fn fsync(&self, _ino: u64, fh: u64) -> Result<()> {
        let handle = self.handle(fh, "fsync")?;
        let mut handle = handle.lock().await;
        match &mut *handle {
            Handle::Reader(_) => Ok(()),
            Handle::Writer(w) => {
                let result = w.commit().await;
                self.finish_write(w, fh);
                result.map_err(|e| {
                    if e.errno() == libc::EFBIG {
                        Error::NoSpace {
                            path: w.path.clone(),
                            limit: self.options.part_size.saturating_mul(MAX_PARTS),
                        }
                    } else {
                        e
                    }
                })
            }
        }
    }

    /// Closes a file handle (FUSE `release`, after the last `close`). A writer whose
    /// upload was not completed yet completes it now (an empty file included); a failed
    /// upload was aborted: no object and no multipart upload are left.
    ///
    /// # Errors
    /// Storage errors of the completion (the upload is aborted), `EBADF`. Releasing a
    /// handle whose upload already failed succeeds: the failure was reported by the write,
    /// `flush` or `fsync`, and nothing is left to clean.
    pub async fn release(&self, _ino: u64, fh: u64) -> Result<()> {
        let handle = self.state().files.remove(&fh).ok_or(Error::BadHandle {
            fh,
            operation: "release",
        })?;
        let mut handle = handle.lock().await;
        match &mut *handle {
            Handle::Reader(r) => {
                r.stop();
                let mut state = self.state();
                if let Some(open) = state.open.get_mut(&r.ino) {
                    open.readers.remove(&fh);
                }
                state.prune_open(r.ino);
                Ok(())
            }
            Handle::Writer(w) => {
                let result = if w.is_open() {
                    w.commit().await
                } else {
                    Ok(())
                };
                self.finish_write(w, fh);
                result
            }
        }
    }

    /// Whether `fh` is a handle open for reading (an `O_RDWR` open may give either kind:
    /// see [`open`](Self::open)).
    pub fn is_reader(&self, fh: u64) -> bool {
        self.state()
            .open
            .values()
            .any(|open| open.readers.contains_key(&fh))
    }
}
