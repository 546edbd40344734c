//! `Vfs`: the file system. This module holds its state, lookups and attributes, `unlink`,
//! the handle life cycle (`flush`, `fsync`, `release`) and the operations that are not
//! supported. Directories are in `dir.rs`, reading in `read.rs`, writing in `write.rs`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime};

use tokio::sync::Mutex as AsyncMutex;

use crate::attr::{DirEntry, FileAttr, FileKind, ROOT_INO, SetAttr, Statfs};
use crate::inode::InodeTable;
use crate::path::{check_name, is_within, join, parent};
use crate::read::Reader;
use crate::storage::{ListRequest, ObjectMeta, Storage};
use crate::write::Writer;
use crate::{Error, Result, VfsOptions};

/// S3's longest key, in bytes.
pub(crate) const MAX_KEY_BYTES: usize = 1024;

/// A file system over a [`Storage`], with the semantics of Mountpoint for S3.
///
/// The operations are those of a FUSE file system, by inode number (`ino`, [`ROOT_INO`]
/// is the root) and file handle (`fh`): a FUSE layer calls them one to one and answers
/// errors with [`Error::errno`]. Every method takes `&self`, and a `Vfs` is `Send + Sync`:
/// share it in an `Arc` across the tasks of a multi-threaded runtime.
///
/// The rules (the crate documentation has the whole list):
/// - keys `a/b/c` make directories `a` and `a/b`; keys that are not valid paths are
///   hidden; a directory hides a file of the same name;
/// - reads may be random; sequential reads are prefetched with growing ranged GETs;
/// - files are new, written sequentially, uploaded (in parts) and visible when released;
///   replacing one needs `allow_overwrite` and `O_TRUNC`;
/// - `unlink` needs `allow_delete`; `mkdir` is local until a file is written below;
///   `rmdir` removes only empty local directories;
/// - rename, links, locks, chmod/chown and in-place changes fail with a clear error.
///
/// ```
/// use sos_vfs::{MemoryStorage, Storage, Vfs, VfsOptions, ROOT_INO};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sos_vfs::Result<()> {
/// let storage = MemoryStorage::new();
/// storage.put("colors/blue/cat.jpg", "meow".into()).await?;
/// let vfs = Vfs::new(storage.clone(), VfsOptions::default())?;
///
/// let colors = vfs.lookup(ROOT_INO, "colors").await?;
/// let (file, fh) = vfs.create(colors.ino, "list.txt").await?;
/// vfs.write(file.ino, fh, 0, b"blue\n").await?;
/// assert!(storage.object("colors/list.txt").is_none()); // not before release
/// vfs.release(file.ino, fh).await?;
/// assert_eq!(storage.object("colors/list.txt").unwrap(), "blue\n");
///
/// let names: Vec<String> = vfs.readdir_all(colors.ino).await?
///     .into_iter().map(|e| e.name).collect();
/// assert_eq!(names, [".", "..", "blue", "list.txt"]);
/// # Ok(()) }
/// ```
pub struct Vfs<S: Storage + 'static> {
    pub(crate) storage: Arc<S>,
    pub(crate) options: VfsOptions,
    /// The time directories that S3 does not store show.
    pub(crate) mounted_at: SystemTime,
    pub(crate) state: Mutex<State<S>>,
}

impl<S: Storage + 'static> std::fmt::Debug for Vfs<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vfs")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// What a path is, as the storage (or a local `mkdir`) says.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Dir,
    File(ObjectMeta),
}

impl Node {
    pub(crate) fn kind(&self) -> FileKind {
        match self {
            Node::Dir => FileKind::Directory,
            Node::File(_) => FileKind::File,
        }
    }
}

/// An open file.
pub(crate) enum Handle<S: Storage + 'static> {
    Reader(Reader<S>),
    Writer(Writer<S>),
}

/// A file being written: hidden from lookups and listings (its object does not exist
/// yet), busy for other writers.
#[derive(Debug)]
pub(crate) struct Writing {
    pub(crate) ino: u64,
    pub(crate) fh: u64,
    pub(crate) size: u64,
}

/// An open directory: the listing taken at `opendir`.
#[derive(Debug)]
pub(crate) struct DirHandle {
    pub(crate) ino: u64,
    pub(crate) entries: Vec<DirEntry>,
}

pub(crate) struct State<S: Storage + 'static> {
    pub(crate) inodes: InodeTable,
    /// Directories made by `mkdir` and not yet backed by keys.
    pub(crate) local_dirs: BTreeSet<String>,
    /// Files being written, by path.
    pub(crate) writing: HashMap<String, Writing>,
    /// Lookups answered within the metadata TTL.
    pub(crate) cache: HashMap<String, (Instant, Node)>,
    pub(crate) files: HashMap<u64, Arc<AsyncMutex<Handle<S>>>>,
    pub(crate) dirs: HashMap<u64, Arc<DirHandle>>,
    next_fh: u64,
}

impl<S: Storage + 'static> State<S> {
    pub(crate) fn next_fh(&mut self) -> u64 {
        self.next_fh += 1;
        self.next_fh
    }
}

impl<S: Storage + 'static> Vfs<S> {
    /// A file system over `storage`.
    ///
    /// # Errors
    /// [`Error::InvalidOptions`] (see [`VfsOptions::validate`]).
    pub fn new(storage: S, options: VfsOptions) -> Result<Self> {
        options.validate()?;
        Ok(Self {
            storage: Arc::new(storage),
            options,
            mounted_at: SystemTime::now(),
            state: Mutex::new(State {
                inodes: InodeTable::new(),
                local_dirs: BTreeSet::new(),
                writing: HashMap::new(),
                cache: HashMap::new(),
                files: HashMap::new(),
                dirs: HashMap::new(),
                next_fh: 0,
            }),
        })
    }

    /// The storage.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The options.
    pub fn options(&self) -> &VfsOptions {
        &self.options
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State<S>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key of a file.
    pub(crate) fn key(&self, path: &str) -> String {
        format!("{}{path}", self.options.prefix)
    }

    /// The prefix of a directory's keys.
    pub(crate) fn dir_prefix(&self, path: &str) -> String {
        if path.is_empty() {
            self.options.prefix.clone()
        } else {
            format!("{}{path}/", self.options.prefix)
        }
    }

    pub(crate) fn check_key_len(&self, path: &str) -> Result<()> {
        let len = self.options.prefix.len() + path.len();
        if len > MAX_KEY_BYTES {
            return Err(Error::NameTooLong {
                path: path.to_owned(),
                len,
            });
        }
        Ok(())
    }

    /// The path of a new entry `name` in directory `parent` (`mkdir`, `create`), checked:
    /// a valid name within the key length, no write in progress at that path (`busy`
    /// gives the error), the parent still a directory, and nothing there yet.
    pub(crate) async fn new_entry_path(
        &self,
        parent: u64,
        name: &str,
        busy: impl FnOnce(String) -> Error,
    ) -> Result<String> {
        let parent_path = self.dir_path(parent)?;
        check_name(name)?;
        let path = join(&parent_path, name);
        self.check_key_len(&path)?;
        if self.state().writing.contains_key(&path) {
            return Err(busy(path));
        }
        let (node, parent_node) =
            tokio::join!(self.resolve(&path, true), self.resolve(&parent_path, false));
        if !matches!(parent_node?, Some(Node::Dir)) {
            return Err(Error::NotFound { path: parent_path });
        }
        if node?.is_some() {
            return Err(Error::AlreadyExists { path });
        }
        Ok(path)
    }

    /// The path and kind of an inode.
    pub(crate) fn inode(&self, ino: u64) -> Result<(String, FileKind)> {
        let state = self.state();
        let inode = state.inodes.get(ino).ok_or(Error::UnknownInode { ino })?;
        Ok((inode.path.clone(), inode.kind))
    }

    /// The path of a directory inode.
    pub(crate) fn dir_path(&self, ino: u64) -> Result<String> {
        match self.inode(ino)? {
            (path, FileKind::Directory) => Ok(path),
            (path, FileKind::File) => Err(Error::NotDirectory { path }),
        }
    }

    pub(crate) fn forget_cache(&self) {
        self.state().cache.clear();
    }

    /// What `path` is: a directory if any key is below it or `mkdir` made it, else a file
    /// if its key exists. Asks the storage (a HEAD and a one-key LIST, together) unless
    /// the answer is cached and `fresh` is false.
    pub(crate) async fn resolve(&self, path: &str, fresh: bool) -> Result<Option<Node>> {
        if path.is_empty() {
            return Ok(Some(Node::Dir));
        }
        if self.check_key_len(path).is_err() {
            return Ok(None);
        }
        let ttl = self.options.metadata_ttl;
        {
            let state = self.state();
            if state.local_dirs.contains(path) {
                return Ok(Some(Node::Dir));
            }
            if !fresh
                && let Some((at, node)) = state.cache.get(path)
                && at.elapsed() < ttl
            {
                return Ok(Some(node.clone()));
            }
        }
        let key = self.key(path);
        let below = ListRequest::new(format!("{key}/"))
            .with_delimiter("/")
            .with_max_keys(1);
        let (head, list) = tokio::join!(self.storage.head(&key), self.storage.list(&below));
        let list = list?;
        let node = if !list.objects.is_empty() || !list.common_prefixes.is_empty() {
            Some(Node::Dir)
        } else {
            head?.map(Node::File)
        };
        if let Some(node) = &node
            && !ttl.is_zero()
        {
            self.state()
                .cache
                .insert(path.to_owned(), (Instant::now(), node.clone()));
        }
        Ok(node)
    }

    pub(crate) fn file_attr(&self, ino: u64, size: u64, mtime: SystemTime) -> FileAttr {
        FileAttr {
            ino,
            kind: FileKind::File,
            size,
            mtime,
            perm: self.options.file_mode,
            uid: self.options.uid,
            gid: self.options.gid,
            nlink: 1,
        }
    }

    pub(crate) fn dir_attr(&self, ino: u64, mtime: SystemTime) -> FileAttr {
        FileAttr {
            ino,
            kind: FileKind::Directory,
            size: 0,
            mtime,
            perm: self.options.dir_mode,
            uid: self.options.uid,
            gid: self.options.gid,
            nlink: 2,
        }
    }

    /// The attributes of `path` as `node`, giving it an inode number.
    pub(crate) fn attr_of(&self, path: &str, node: &Node) -> FileAttr {
        let mut state = self.state();
        let ino = state.inodes.ino(path, node.kind());
        match node {
            Node::File(meta) => self.file_attr(
                ino,
                meta.size,
                meta.last_modified.unwrap_or(self.mounted_at),
            ),
            Node::Dir if state.local_dirs.contains(path) => self.dir_attr(ino, SystemTime::now()),
            Node::Dir => self.dir_attr(ino, self.mounted_at),
        }
    }

    /// Looks `name` up in the directory `parent` (FUSE `lookup`).
    ///
    /// Files being written are not found until they are released: their object does not
    /// exist yet.
    ///
    /// # Errors
    /// `ENOENT` (also for names no file can have), `ENOTDIR` when `parent` is a file,
    /// storage errors.
    pub async fn lookup(&self, parent: u64, name: &str) -> Result<FileAttr> {
        let parent_path = self.dir_path(parent)?;
        let path = join(&parent_path, name);
        if check_name(name).is_err() {
            return Err(Error::NotFound { path });
        }
        match self.resolve(&path, false).await? {
            Some(node) => Ok(self.attr_of(&path, &node)),
            None => Err(Error::NotFound { path }),
        }
    }

    /// Looks a whole path up from the root (`""` is the root; `a/b` walks `a` then `b`).
    ///
    /// # Errors
    /// As [`lookup`](Self::lookup), for the first component that fails.
    pub async fn lookup_path(&self, path: &str) -> Result<FileAttr> {
        let mut attr = self.getattr(ROOT_INO).await?;
        for name in path.split('/').filter(|c| !c.is_empty()) {
            attr = self.lookup(attr.ino, name).await?;
        }
        Ok(attr)
    }

    /// The attributes of an inode (FUSE `getattr`), checked against the storage unless
    /// cached. A file being written shows the bytes written so far.
    ///
    /// # Errors
    /// `ENOENT` when the inode is unknown or its path no longer is what it was, storage
    /// errors.
    pub async fn getattr(&self, ino: u64) -> Result<FileAttr> {
        if ino == ROOT_INO {
            return Ok(self.dir_attr(ROOT_INO, self.mounted_at));
        }
        let (path, kind) = self.inode(ino)?;
        if kind == FileKind::File
            && let Some(w) = self.state().writing.get(&path).filter(|w| w.ino == ino)
        {
            return Ok(self.file_attr(ino, w.size, SystemTime::now()));
        }
        match self.resolve(&path, false).await? {
            Some(node) if node.kind() == kind => Ok(self.attr_of(&path, &node)),
            _ => Err(Error::NotFound { path }),
        }
    }

    /// Changes attributes (FUSE `setattr`): only what changes nothing is accepted, plus
    /// times and a truncation to the current size on a file being written (what `touch`
    /// and `O_TRUNC` ask of a new file).
    ///
    /// # Errors
    /// `EPERM` for chmod, chown, truncation and times of stored files (S3 objects cannot
    /// be changed in place, and owner and modes come from the options), `EISDIR` for a
    /// truncation of a directory, and as [`getattr`](Self::getattr).
    pub async fn setattr(&self, ino: u64, changes: &SetAttr) -> Result<FileAttr> {
        let current = self.getattr(ino).await?;
        let (path, kind) = self.inode(ino)?;
        let (writing, local_dir) = {
            let state = self.state();
            let writing =
                kind == FileKind::File && state.writing.get(&path).is_some_and(|w| w.ino == ino);
            let local = kind == FileKind::Directory && state.local_dirs.contains(&path);
            (writing, local)
        };
        let denied = |operation, reason| {
            Err(Error::NotPermitted {
                operation,
                path: path.clone(),
                reason,
            })
        };
        if changes
            .mode
            .is_some_and(|m| m & 0o7777 != u32::from(current.perm))
        {
            return denied("chmod", "permissions are fixed by the mount options");
        }
        if changes.uid.is_some_and(|u| u != current.uid)
            || changes.gid.is_some_and(|g| g != current.gid)
        {
            return denied("chown", "owners are fixed by the mount options");
        }
        if let Some(size) = changes.size {
            if kind == FileKind::Directory {
                return Err(Error::IsDirectory { path });
            }
            if !(writing && size == current.size) {
                return denied(
                    "truncate",
                    "files cannot be changed in place; replace one by opening it with O_TRUNC",
                );
            }
        }
        if (changes.atime.is_some() || changes.mtime.is_some()) && !writing && !local_dir {
            return denied(
                "utimes",
                "times of stored files and directories come from the storage",
            );
        }
        Ok(current)
    }

    /// File-system statistics (FUSE `statfs`): large fixed numbers, as Mountpoint.
    pub fn statfs(&self, _ino: u64) -> Statfs {
        Statfs::MOUNTPOINT
    }

    /// Deletes a file (FUSE `unlink`), when `allow_delete` is set. The object is deleted
    /// at once; a directory that only this file made disappears with it.
    ///
    /// # Errors
    /// `ENOENT`, `EISDIR`, `EPERM` when deletes are not allowed, `EBUSY` for a file being
    /// written, storage errors.
    pub async fn unlink(&self, parent: u64, name: &str) -> Result<()> {
        let parent_path = self.dir_path(parent)?;
        let path = join(&parent_path, name);
        if check_name(name).is_err() {
            return Err(Error::NotFound { path });
        }
        if self.state().writing.contains_key(&path) {
            return Err(Error::Busy { path });
        }
        match self.resolve(&path, true).await? {
            None => return Err(Error::NotFound { path }),
            Some(Node::Dir) => return Err(Error::IsDirectory { path }),
            Some(Node::File(_)) => {}
        }
        if !self.options.allow_delete {
            return Err(Error::NotPermitted {
                operation: "unlink",
                path,
                reason: "deleting files is disabled (allow_delete)",
            });
        }
        let result = self.storage.delete(&self.key(&path)).await;
        self.forget_cache();
        result
    }

    pub(crate) fn handle(
        &self,
        fh: u64,
        operation: &'static str,
    ) -> Result<Arc<AsyncMutex<Handle<S>>>> {
        self.state()
            .files
            .get(&fh)
            .cloned()
            .ok_or(Error::BadHandle { fh, operation })
    }

    /// Called when a file is closed (FUSE `flush`, on each `close`). Uploads nothing: the
    /// file is uploaded when released. Reports a write that failed earlier, so `close`
    /// tells the application that the file was not created.
    ///
    /// # Errors
    /// `EIO` when the upload was aborted, `EBADF`.
    pub async fn flush(&self, _ino: u64, fh: u64) -> Result<()> {
        let handle = self.handle(fh, "flush")?;
        let handle = handle.lock().await;
        match &*handle {
            Handle::Writer(w) if w.failed() => Err(Error::UploadAborted {
                path: w.path.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Makes a file being written durable (FUSE `fsync`): completes its upload now, so
    /// the object exists; later writes to the handle fail.
    ///
    /// # Errors
    /// Storage errors (the upload is then aborted), `EIO` after an earlier failure,
    /// `EBADF`.
    pub async fn fsync(&self, _ino: u64, fh: u64) -> Result<()> {
        let handle = self.handle(fh, "fsync")?;
        let mut handle = handle.lock().await;
        match &mut *handle {
            Handle::Reader(_) => Ok(()),
            Handle::Writer(w) => {
                let result = w.commit().await;
                self.finish_write(w);
                result
            }
        }
    }

    /// Closes a file handle (FUSE `release`). For a file being written, this completes
    /// its upload (one PUT for a file smaller than a part), and the file appears. A
    /// failed upload is aborted: no object and no multipart upload are left.
    ///
    /// # Errors
    /// Storage errors of the completion (the upload is aborted), `EBADF`. Releasing a
    /// handle whose upload already failed succeeds: the failure was reported by the write
    /// or `flush`, and nothing is left to clean.
    pub async fn release(&self, ino: u64, fh: u64) -> Result<()> {
        let handle = self.state().files.remove(&fh).ok_or(Error::BadHandle {
            fh,
            operation: "release",
        })?;
        let mut handle = handle.lock().await;
        match &mut *handle {
            Handle::Reader(r) => {
                r.stop();
                Ok(())
            }
            Handle::Writer(w) => {
                let result = w.commit().await;
                self.finish_write(w);
                let mut state = self.state();
                if state
                    .writing
                    .get(&w.path)
                    .is_some_and(|x| x.fh == fh && x.ino == ino)
                {
                    state.writing.remove(&w.path);
                }
                result
            }
        }
    }

    /// Book-keeping after a write completed or failed: a committed file exists, so the
    /// local directories above it now exist in the bucket.
    fn finish_write(&self, writer: &Writer<S>) {
        let mut state = self.state();
        if writer.committed() {
            let dir = parent(&writer.path).to_owned();
            state.local_dirs.retain(|d| !is_within(&dir, d));
            state.writing.remove(&writer.path);
        }
        state.cache.clear();
    }

    /// Aborts every upload in progress and closes every handle, for a FUSE layer's
    /// `destroy` (unmount). Dropping the `Vfs` inside a tokio runtime also aborts them,
    /// in background tasks.
    pub async fn shutdown(&self) {
        let handles: Vec<_> = {
            let mut state = self.state();
            state.dirs.clear();
            state.writing.clear();
            state.files.drain().map(|(_, h)| h).collect()
        };
        for handle in handles {
            match &mut *handle.lock().await {
                Handle::Reader(r) => r.stop(),
                Handle::Writer(w) => w.abort().await,
            }
        }
        self.forget_cache();
    }

    /// Renaming (FUSE `rename`) is not supported: S3 has no rename, and copying then
    /// deleting is neither atomic nor cheap (Mountpoint does not rename either).
    ///
    /// # Errors
    /// Always `ENOTSUP`.
    pub fn rename(
        &self,
        _parent: u64,
        _name: &str,
        _new_parent: u64,
        _new_name: &str,
    ) -> Result<()> {
        Err(Error::NotSupported {
            operation: "rename",
        })
    }

    /// Hard links (FUSE `link`) are not supported.
    ///
    /// # Errors
    /// Always `ENOTSUP`.
    pub fn link(&self, _ino: u64, _new_parent: u64, _new_name: &str) -> Result<FileAttr> {
        Err(Error::NotSupported {
            operation: "hard link",
        })
    }

    /// Symbolic links (FUSE `symlink`) are not supported.
    ///
    /// # Errors
    /// Always `ENOTSUP`.
    pub fn symlink(&self, _parent: u64, _name: &str, _target: &str) -> Result<FileAttr> {
        Err(Error::NotSupported {
            operation: "symbolic link",
        })
    }

    /// There are no symbolic links to read (FUSE `readlink`).
    ///
    /// # Errors
    /// Always `ENOTSUP`.
    pub fn readlink(&self, _ino: u64) -> Result<Vec<u8>> {
        Err(Error::NotSupported {
            operation: "readlink",
        })
    }

    /// Special files (FUSE `mknod`) are not supported; regular files are made by
    /// [`create`](Self::create).
    ///
    /// # Errors
    /// Always `ENOTSUP`.
    pub fn mknod(&self, _parent: u64, _name: &str, _mode: u32) -> Result<FileAttr> {
        Err(Error::NotSupported { operation: "mknod" })
    }

    /// File locks (FUSE `getlk`, `setlk`, `flock`) are not supported.
    ///
    /// # Errors
    /// Always `ENOTSUP`.
    pub fn lock(&self, _ino: u64, _fh: u64) -> Result<()> {
        Err(Error::NotSupported {
            operation: "file locking",
        })
    }

    /// Extended attributes (FUSE `getxattr`, `setxattr`, `listxattr`, `removexattr`) are
    /// not supported.
    ///
    /// # Errors
    /// Always `ENOTSUP`.
    pub fn xattr(&self, _ino: u64) -> Result<()> {
        Err(Error::NotSupported {
            operation: "extended attributes",
        })
    }

    /// Space allocation (FUSE `fallocate`) is not supported.
    ///
    /// # Errors
    /// Always `ENOTSUP`.
    pub fn fallocate(&self, _ino: u64, _fh: u64) -> Result<()> {
        Err(Error::NotSupported {
            operation: "fallocate",
        })
    }
}
