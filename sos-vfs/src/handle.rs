//! The life of a file handle, as Mountpoint's: `mknod` (a local file), `create`, `open`
//! (a reader or a writer), `write`, `flush` (each `close`), `fsync`, `release` (the last
//! `close`), and the bookkeeping of which handles a file has open.
//!
//! A file has many readers or one writer. A handle flushed by its process (closed while a
//! duplicate descriptor may live on) is inactive: a newer `open` of the same file takes
//! the file over (completing an inactive writer's upload first), after which the old
//! handle answers `EBADF`.
//!
//! Cancel safety: a handle is registered (in `State::open` and `State::files`) in one step
//! under the state lock, after every wait of `open` (for the storage, for an inactive
//! writer's upload), so a dropped `open` registers nothing. A writer's handle is locked
//! through a [`HandleGuard`], which settles the file's state when it is dropped with a
//! writer that finished (failed, or cut short by a dropped call); `release` forgets its
//! handle however it ends.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::OwnedMutexGuard;

use crate::attr::{FileAttr, FileKind};
use crate::path::{is_within, parent};
use crate::read::Reader;
use crate::storage::Storage;
use crate::vfs::{Handle, LocalFile, Node, OnDrop, Vfs};
use crate::write::{MAX_PARTS, Writer};
use crate::{Error, Result};

/// A locked file handle. Dropped (its call returned, or the call's future was dropped)
/// with a writer that finished, it settles the file's state once ([`Vfs::finish_write`])
/// and aborts what is left of the upload in the background: a call cut short while it
/// uploads leaves a failed writer and nothing stuck.
pub(crate) struct HandleGuard<'a, S: Storage + 'static> {
    vfs: &'a Vfs<S>,
    fh: u64,
    handle: OwnedMutexGuard<Handle<S>>,
}

impl<S: Storage + 'static> Deref for HandleGuard<'_, S> {
    type Target = Handle<S>;

    fn deref(&self) -> &Handle<S> {
        &self.handle
    }
}

impl<S: Storage + 'static> DerefMut for HandleGuard<'_, S> {
    fn deref_mut(&mut self) -> &mut Handle<S> {
        &mut self.handle
    }
}

impl<S: Storage + 'static> Drop for HandleGuard<'_, S> {
    fn drop(&mut self) {
        let Handle::Writer(w) = &mut *self.handle else {
            return;
        };
        // Released (its `release` perhaps dropped) while this call held the handle: the
        // writer is closed, and nothing it holds may be committed by a call queued behind
        // this one, or overwrite a newer writer's file.
        if w.is_open() && !self.vfs.state().files.contains_key(&self.fh) {
            w.fail_released();
        }
        if w.finished() {
            if !w.settled {
                w.settled = true;
                self.vfs.finish_write(w, self.fh);
            }
            w.abort_in_background();
        }
    }
}

/// What one attempt of `open` came to.
enum Step {
    /// Registered: the new handle.
    Opened(u64),
    /// An inactive writer holds the file: complete its upload, then try again.
    Pending(u64),
    /// The file changed since it was looked at: look again.
    Changed,
}

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
        let local = self
            .new_entry(parent, name, |state, path| {
                let now = SystemTime::now();
                let local = LocalFile {
                    ino: state.inodes.ino(&path, FileKind::File),
                    size: 0,
                    atime: now,
                    mtime: now,
                    ctime: now,
                    writer: None,
                };
                state.local_files.insert(path, local.clone());
                state.cache.clear();
                local
            })
            .await?;
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
    /// A file has many readers or one writer. The choice is made again, with the file as
    /// it is then, when the file changed while `open` waited (for the storage, or for the
    /// upload of an inactive writer it takes the file over from).
    ///
    /// # Errors
    /// `EINVAL` for `O_SYNC` or `O_DSYNC`; `EPERM` to write an existing file without
    /// `O_TRUNC` or without `allow_overwrite`, to read a file being written (or made by
    /// `mknod` and not written yet), to write a file already being written or read;
    /// `ENAMETOOLONG` to replace a file whose key is longer than 1024 bytes (found in a
    /// store that allows them); the error of the upload of an inactive writer it
    /// completes (as Mountpoint); `EISDIR`, `ENOENT`, `ESTALE`, storage errors.
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
        let access = flags & libc::O_ACCMODE;
        let truncate = flags & libc::O_TRUNC != 0;
        loop {
            let (path, node) = self.current(ino, true).await?;
            let unopened = matches!(&node, Node::Local(l) if l.writer.is_none());
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
                match self.try_open_reader(ino, &path, &node)? {
                    Step::Opened(fh) => return Ok(fh),
                    Step::Pending(writer) => self.complete_pending(writer).await?,
                    Step::Changed => {}
                }
                continue;
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
                self.check_key_len(&path)?;
            }
            match self.try_open_writer(ino, &path, &node)? {
                Step::Opened(fh) => return Ok(fh),
                Step::Pending(writer) => self.complete_pending(writer).await?,
                Step::Changed => {}
            }
        }
    }

    /// Registers and makes a reader of `node` (what the file was when looked at), unless
    /// an inactive writer must be completed first or the file changed since.
    fn try_open_reader(&self, ino: u64, path: &str, node: &Node) -> Result<Step> {
        let being_written = || {
            Err(Error::NotPermitted {
                operation: "open",
                path: path.to_owned(),
                reason: "the file is being written and cannot be read until it is closed",
            })
        };
        let mut state = self.state();
        match state.open.get(&ino).and_then(|o| o.writer) {
            Some((_, true)) => return being_written(),
            Some((writer, false)) => return Ok(Step::Pending(writer)),
            None => {}
        }
        let local = state.local_files.get(path).filter(|l| l.ino == ino);
        let meta = match (node, local) {
            (Node::File(meta), None) => meta.clone(),
            // Uploaded since (or a local file took the path): look again.
            (Node::Local(_), None) | (Node::File(_), Some(_)) => return Ok(Step::Changed),
            (Node::Local(_), Some(_)) => return being_written(),
            (Node::Dir, _) => {
                return Err(Error::IsDirectory {
                    path: path.to_owned(),
                });
            }
        };
        let fh = state.next_fh();
        let open = state.open.entry(ino).or_default();
        open.readers.insert(fh, true);
        let reader = Reader::new(
            Arc::clone(&self.storage),
            ino,
            path.to_owned(),
            self.key(path),
            meta.size,
            meta.etag,
            self.options.prefetch_window,
        );
        state.files.insert(
            fh,
            Arc::new(tokio::sync::Mutex::new(Handle::Reader(reader))),
        );
        Ok(Step::Opened(fh))
    }

    /// Registers and makes a writer of `node` (what the file was when looked at: a file
    /// made by `mknod`, or an object being replaced), unless the file is being read or
    /// written, an inactive writer must be completed first, or the file changed since (a
    /// file made by `mknod` that another writer uploaded meanwhile is an existing file now:
    /// replacing it needs `O_TRUNC` and `allow_overwrite`).
    fn try_open_writer(&self, ino: u64, path: &str, node: &Node) -> Result<Step> {
        let denied = |reason| {
            Err(Error::NotPermitted {
                operation: "open for writing",
                path: path.to_owned(),
                reason,
            })
        };
        let mut state = self.state();
        if let Some(open) = state.open.get(&ino) {
            if open.readers.values().any(|active| *active) {
                return denied(
                    "the file is being read; it can be replaced once every reader closed it",
                );
            }
            match open.writer {
                Some((_, true)) => return denied("the file is already being written"),
                Some((writer, false)) => return Ok(Step::Pending(writer)),
                None => {}
            }
        }
        let now = state.local_files.get(path).filter(|l| l.ino == ino);
        let mut local = match (node, now) {
            (_, Some(now)) if now.writer.is_some() => {
                return denied("the file is already being written");
            }
            (Node::Local(_), Some(now)) => now.clone(),
            (Node::File(meta), None) => {
                let time = meta.last_modified.unwrap_or(self.mounted_at);
                LocalFile {
                    ino,
                    size: 0,
                    atime: time,
                    mtime: time,
                    ctime: time,
                    writer: None,
                }
            }
            (Node::Dir, _) => {
                return Err(Error::IsDirectory {
                    path: path.to_owned(),
                });
            }
            (Node::Local(_), None) | (Node::File(_), Some(_)) => return Ok(Step::Changed),
        };
        let fh = state.next_fh();
        local.size = 0;
        local.writer = Some(fh);
        let open = state.open.entry(ino).or_default();
        // Inactive readers are taken over: their handles fail from now on.
        open.readers.clear();
        open.writer = Some((fh, true));
        state.local_files.insert(path.to_owned(), local);
        let writer = Writer::new(
            Arc::clone(&self.storage),
            ino,
            path.to_owned(),
            self.key(path),
            self.options.part_size,
        );
        state.files.insert(
            fh,
            Arc::new(tokio::sync::Mutex::new(Handle::Writer(writer))),
        );
        state.cache.clear();
        Ok(Step::Opened(fh))
    }

    /// Completes the upload of an inactive writer a newer `open` takes the file over
    /// from. The writer stays registered (inactive) until its upload is done, so an `open`
    /// dropped meanwhile leaves it as it was, or (dropped during the upload) failed and
    /// settled by its guard.
    async fn complete_pending(&self, fh: u64) -> Result<()> {
        let Some(handle) = self.state().files.get(&fh).cloned() else {
            // Released meanwhile (release settles its handle): nothing is registered
            // under it any more; forget it should anything be left.
            self.forget_handle(fh);
            return Ok(());
        };
        let mut guard = self.guard(fh, handle).await;
        let Handle::Writer(w) = &mut *guard else {
            return Ok(());
        };
        let inactive = self.state().open.get(&w.ino).and_then(|o| o.writer) == Some((fh, false));
        if !inactive || w.finished() {
            // Written again through a duplicate (active now), or done with.
            return Ok(());
        }
        w.taken_over = true;
        w.commit().await
    }

    /// Locks a handle for a call (see [`HandleGuard`]).
    pub(crate) async fn guard(
        &self,
        fh: u64,
        handle: Arc<tokio::sync::Mutex<Handle<S>>>,
    ) -> HandleGuard<'_, S> {
        HandleGuard {
            vfs: self,
            fh,
            handle: handle.lock_owned().await,
        }
    }

    /// Locks open handle `fh` for `operation`.
    pub(crate) async fn lock_handle(
        &self,
        fh: u64,
        operation: &'static str,
    ) -> Result<HandleGuard<'_, S>> {
        let handle = self.handle(fh, operation)?;
        let guard = self.guard(fh, handle).await;
        if !self.state().files.contains_key(&fh) {
            // Released while this call waited for the handle (the guard's drop fails a
            // writer left open).
            return Err(Error::BadHandle { fh, operation });
        }
        Ok(guard)
    }

    /// Book-keeping after a writer completed or failed (once, from its [`HandleGuard`]):
    /// if it is still the file's writer, the file loses its local state (a new file that
    /// failed disappears; a replacement that failed shows the old object again); a
    /// committed file exists in the bucket, so the local directories above it do too.
    pub(crate) fn finish_write(&self, writer: &Writer<S>, fh: u64) {
        let mut state = self.state();
        let ino = writer.ino;
        if let Some(open) = state.open.get_mut(&ino)
            && open.writer.is_some_and(|(w, _)| w == fh)
        {
            open.writer = None;
        }
        state.prune_open(ino);
        if state
            .local_files
            .get(&writer.path)
            .is_some_and(|l| l.ino == ino && l.writer == Some(fh))
        {
            state.local_files.remove(&writer.path);
        }
        if writer.committed() {
            let dir = parent(&writer.path).to_owned();
            state.local_dirs.retain(|d, _| !is_within(&dir, d));
        }
        state.cache.clear();
    }

    /// Forgets handle `fh` (`release`, however it ends): its registration, the local
    /// state of a file it was writing (when no upload completed it), its entry.
    fn forget_handle(&self, fh: u64) {
        let mut state = self.state();
        state.files.remove(&fh);
        let mut emptied = Vec::new();
        for (ino, open) in &mut state.open {
            open.readers.remove(&fh);
            if open.writer.is_some_and(|(w, _)| w == fh) {
                open.writer = None;
            }
            if open.readers.is_empty() && open.writer.is_none() {
                emptied.push(*ino);
            }
        }
        for ino in emptied {
            state.open.remove(&ino);
        }
        state.local_files.retain(|_, l| l.writer != Some(fh));
    }

    /// A write or read on a handle flushed before: whether it may go on (no newer `open`
    /// took the file over, and a writer's upload was not completed).
    fn reactivate(&self, ino: u64, fh: u64, writer: bool) -> bool {
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
                true
            }
            None => false,
        }
    }

    /// Reactivates a flushed reader (see `reactivate`); for `read` and `try_read`.
    pub(crate) fn reactivate_reader(&self, reader: &mut Reader<S>, fh: u64) -> Result<()> {
        if reader.flushed {
            if !self.reactivate(reader.ino, fh, false) {
                return Err(Error::Invalidated { fh });
            }
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
    /// created), `EFBIG` beyond 10 000 parts; `EBADF` for a handle not open for writing,
    /// for one taken over by a newer `open` after it was flushed
    /// ([`Error::Invalidated`]), and for one whose upload completed when one of its
    /// descriptors was closed ([`Error::HandleClosed`]); `EIO` after `fsync` completed the
    /// upload, and after an earlier call on the handle was cancelled
    /// ([`Error::Cancelled`]); the errno of an earlier failure; storage errors (the upload
    /// is aborted).
    pub async fn write(&self, ino: u64, fh: u64, offset: u64, data: &[u8]) -> Result<u32> {
        let mut handle = self.lock_handle(fh, "writing").await?;
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
            if !self.reactivate(ino, fh, true) {
                return Err(if let Some(e) = writer.aborted() {
                    e
                } else if writer.taken_over {
                    Error::Invalidated { fh }
                } else {
                    Error::HandleClosed {
                        fh,
                        path: writer.path.clone(),
                    }
                });
            }
            writer.flushed = false;
        }
        let result = writer.write(offset, data).await;
        if writer.is_open() {
            let written = writer.written();
            let mut state = self.state();
            if let Some(local) = state
                .local_files
                .get_mut(&writer.path)
                .filter(|l| l.ino == ino && l.writer == Some(fh))
            {
                local.size = written;
            }
        }
        // A writer that failed loses its local state when `handle` is dropped.
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
    /// The errno of a failed upload (that of an earlier failure again, `EIO` after a
    /// cancelled call), `EBADF`.
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
        let mut handle = self.lock_handle(fh, "flush").await?;
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
                        w.commit().await?;
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
    /// (`ENOSPC` for a file that grew too large: `fsync` reports a lack of space; `EIO`
    /// after a cancelled call), `EBADF`.
    pub async fn fsync(&self, _ino: u64, fh: u64) -> Result<()> {
        let mut handle = self.lock_handle(fh, "fsync").await?;
        match &mut *handle {
            Handle::Reader(_) => Ok(()),
            Handle::Writer(w) => w.commit().await.map_err(|e| {
                if e.errno() == libc::EFBIG {
                    Error::NoSpace {
                        path: w.path.clone(),
                        limit: self.options.part_size.saturating_mul(MAX_PARTS),
                    }
                } else {
                    e
                }
            }),
        }
    }

    /// Closes a file handle (FUSE `release`, after the last `close`). A writer whose
    /// upload was not completed yet completes it now (an empty file included); a failed
    /// upload was aborted: no object and no multipart upload are left.
    ///
    /// The handle is closed however `release` ends: dropped before it finished, it leaves
    /// the handle closed and a writer's upload aborted (the file is not created).
    ///
    /// # Errors
    /// Storage errors of the completion (the upload is aborted), `EBADF`. Releasing a
    /// handle whose upload already failed succeeds: the failure was reported by the write,
    /// `flush` or `fsync`, and nothing is left to clean; but one whose upload was cut
    /// short by a cancelled call answers `EIO` ([`Error::Cancelled`]): the bytes written
    /// are lost, and no call may have said so yet.
    pub async fn release(&self, _ino: u64, fh: u64) -> Result<()> {
        // Declared first, dropped last: after the handle guard has settled a writer
        // (forgetting a handle unknown or released meanwhile changes nothing).
        let _closed = OnDrop(Some(|| self.forget_handle(fh)));
        let mut handle = self.lock_handle(fh, "release").await?;
        match &mut *handle {
            Handle::Reader(r) => {
                r.stop();
                Ok(())
            }
            Handle::Writer(w) if w.interrupted() => Err(Error::Cancelled {
                path: w.path.clone(),
            }),
            Handle::Writer(w) if w.is_open() => w.commit().await,
            Handle::Writer(_) => Ok(()),
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
