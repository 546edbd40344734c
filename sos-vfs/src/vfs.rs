//! `Vfs`: the file system. This module holds its state, lookups and attributes,
//! `setattr`, `unlink`, `statfs` and the operations that are not supported. Directories
//! are in `dir.rs`, the handle life cycle (`mknod`, `open`, `flush`, `fsync`, `release`)
//! in `handle.rs`, reading in `read.rs`, writing in `write.rs`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Mutex as AsyncMutex;

use crate::attr::{FileAttr, FileKind, ROOT_INO, SetAttr, Statfs};
use crate::inode::InodeTable;
use crate::path::{check_name, join, parent};
use crate::read::Reader;
use crate::storage::{ListRequest, ObjectMeta, Storage};
use crate::write::Writer;
use crate::{Error, Result, VfsOptions};

pub(crate) use crate::dir::DirHandle;

/// S3's longest key, in bytes.
pub(crate) const MAX_KEY_BYTES: usize = 1024;

/// Most answers the metadata cache holds (Mountpoint caps its negative cache at 100 000).
const MAX_CACHED: usize = 100_000;

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
/// - new files are written sequentially, shown locally while written, uploaded (in
///   parts) and visible to other clients when closed; replacing one needs
///   `allow_overwrite` and `O_TRUNC`;
/// - `unlink` needs `allow_delete`; `mkdir` is local until a file is written below;
///   `rmdir` removes only empty local directories;
/// - rename, links, locks, chmod/chown and in-place changes fail with a clear error.
///
/// # Cancel safety
/// A FUSE layer runs each call to completion, but any caller may drop a call's future
/// before it finished (a timeout, a `select!`, an aborted task). The file system then
/// stays consistent, and a file is never committed with bytes missing:
/// - a `write`, `flush`, `fsync` or `release` dropped while it uploads (a part, the last
///   part, the PUT or the completion) leaves the handle's upload failed: the multipart
///   upload is aborted in the background, the file loses its local state as after any
///   failed upload, and the handle answers `EIO` ([`Error::Cancelled`]) from then on,
///   `release` included. (A PUT or completion the server had already carried out when
///   the call was dropped leaves the whole file in the bucket; a
///   `CreateMultipartUpload` it had carried out leaves an empty multipart upload whose
///   id never came back, for the bucket's lifecycle rules.)
/// - `open` registers its handle in one step once it has waited for everything, so a
///   dropped `open` registers nothing. Dropped while it completes the upload of an
///   inactive writer it takes the file over from, that upload is cut short as above
///   (that writer's `release` answers `EIO`).
/// - `release` dropped before it finished closes the handle all the same (a writer's
///   upload is aborted: the file is not created).
/// - `mkdir`, `mknod`, `rmdir`, `unlink`, lookups and listings change the state in one
///   step after their requests (`unlink` clears the metadata cache however it ends);
///   a dropped `read` only loses prefetched bytes.
///
/// Calls may run concurrently on a multi-threaded runtime: `open` checks again, under
/// the state lock, that the file is still what it decided on (a file made by `mknod` and
/// uploaded meanwhile by another writer is an existing file), and `mkdir` and `mknod`
/// check again for a concurrent `rmdir` of their directory.
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
/// assert!(storage.object("colors/list.txt").is_none()); // not before close
/// assert_eq!(vfs.lookup(colors.ino, "list.txt").await?.size, 5); // but shown here
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
    /// The time directories show (S3 does not store them).
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

/// What a path is: a directory (in the bucket or local), a file made here and not
/// uploaded yet, or an object.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Dir,
    /// A file made by `mknod`/`create` or being written (a new file, or one replacing an
    /// object): local state, which shadows an object of the same name.
    Local(LocalFile),
    File(ObjectMeta),
}

impl Node {
    pub(crate) fn kind(&self) -> FileKind {
        match self {
            Node::Dir => FileKind::Directory,
            Node::Local(_) | Node::File(_) => FileKind::File,
        }
    }
}

/// A file with local state (Mountpoint's `LocalUnopened` and `LocalOpenForWriting`):
/// made by `mknod` and not opened yet, or open for writing (a new file or the
/// replacement of an object) until its upload completes or fails.
#[derive(Debug, Clone)]
pub(crate) struct LocalFile {
    pub(crate) ino: u64,
    /// Bytes written so far.
    pub(crate) size: u64,
    pub(crate) atime: SystemTime,
    pub(crate) mtime: SystemTime,
    pub(crate) ctime: SystemTime,
    /// The handle writing it (`None`: made by `mknod` and not opened for writing yet).
    pub(crate) writer: Option<u64>,
}

/// Runs a closure when dropped: at the end of a call, or when its future is dropped.
pub(crate) struct OnDrop<F: FnOnce()>(pub(crate) Option<F>);

impl<F: FnOnce()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// A directory made by `mkdir` that no key backs (yet): its times can be set.
#[derive(Debug, Clone)]
pub(crate) struct LocalDir {
    pub(crate) atime: SystemTime,
    pub(crate) mtime: SystemTime,
}

/// An open file.
pub(crate) enum Handle<S: Storage + 'static> {
    Reader(Reader<S>),
    Writer(Writer<S>),
}

/// The handles open on one file, as Mountpoint tracks them: many readers or one writer.
/// A handle `flush`ed (closed by one of its descriptors) is inactive: it may still be
/// used through a duplicate descriptor, but a newer `open` takes the file over (and
/// completes an inactive writer's upload first).
#[derive(Debug, Default)]
pub(crate) struct OpenHandles {
    /// Reader handles, and whether each is active.
    pub(crate) readers: HashMap<u64, bool>,
    /// The writer handle, and whether it is active.
    pub(crate) writer: Option<(u64, bool)>,
}

pub(crate) struct State<S: Storage + 'static> {
    pub(crate) inodes: InodeTable,
    /// Directories made by `mkdir` and not (yet) backed by keys.
    pub(crate) local_dirs: BTreeMap<String, LocalDir>,
    /// Files with local state, by path.
    pub(crate) local_files: HashMap<String, LocalFile>,
    /// What the storage answered for a path (`None`: nothing there), reused within the
    /// metadata TTL.
    pub(crate) cache: HashMap<String, (Instant, Option<Node>)>,
    pub(crate) files: HashMap<u64, Arc<AsyncMutex<Handle<S>>>>,
    /// Open handles by file inode.
    pub(crate) open: HashMap<u64, OpenHandles>,
    pub(crate) dirs: HashMap<u64, Arc<DirHandle>>,
    /// A rename was refused by the storage's lack of `RenameObject`: every later rename
    /// fails at once (Mountpoint caches that answer).
    pub(crate) rename_unsupported: bool,
    /// Local directories removed so far (`rmdir`): a `mkdir` or `mknod` that checked its
    /// parent before a removal checks again.
    pub(crate) rmdirs: u64,
    next_fh: u64,
}

impl<S: Storage + 'static> State<S> {
    pub(crate) fn next_fh(&mut self) -> u64 {
        self.next_fh += 1;
        self.next_fh
    }

    /// What `path` is, given what the storage says of it: a directory in the bucket wins,
    /// then local state (a local directory, a local file), then an object.
    pub(crate) fn with_local(&self, path: &str, remote: Option<Node>) -> Option<Node> {
        match remote {
            Some(Node::Dir) => Some(Node::Dir),
            _ if self.local_dirs.contains_key(path) => Some(Node::Dir),
            _ => match self.local_files.get(path) {
                Some(local) => Some(Node::Local(local.clone())),
                None => remote,
            },
        }
    }

    /// Caches what the storage said of `path`, keeping at most [`MAX_CACHED`] answers
    /// (those older than `ttl`, the longest TTL, go first, then all: the cache only saves
    /// requests).
    pub(crate) fn remember(&mut self, path: String, node: Option<Node>, ttl: Duration) {
        if self.cache.len() >= MAX_CACHED {
            self.cache.retain(|_, (at, _)| at.elapsed() < ttl);
            if self.cache.len() >= MAX_CACHED {
                self.cache.clear();
            }
        }
        self.cache.insert(path, (Instant::now(), node));
    }

    /// Whether a local directory or local file is directly below `path`.
    pub(crate) fn has_local_children(&self, path: &str) -> bool {
        self.local_dirs.keys().any(|d| parent(d) == path)
            || self.local_files.keys().any(|f| parent(f) == path)
    }

    /// The registered handles of a file, removed when none is left.
    pub(crate) fn prune_open(&mut self, ino: u64) {
        if self
            .open
            .get(&ino)
            .is_some_and(|o| o.readers.is_empty() && o.writer.is_none())
        {
            self.open.remove(&ino);
        }
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
                local_dirs: BTreeMap::new(),
                local_files: HashMap::new(),
                cache: HashMap::new(),
                files: HashMap::new(),
                open: HashMap::new(),
                dirs: HashMap::new(),
                rename_unsupported: false,
                rmdirs: 0,
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

    /// Makes a new entry `name` in directory `parent` (`mkdir`, `mknod`): checks a valid
    /// name within the key length, the parent still a directory, and nothing there yet (no
    /// directory, object or local file), then calls `make` with the state locked and the
    /// path. Should a local directory be removed (`rmdir`) while the storage is asked, the
    /// checks are made again, so nothing is ever made in a removed directory.
    pub(crate) async fn new_entry<T>(
        &self,
        parent: u64,
        name: &str,
        make: impl FnOnce(&mut State<S>, String) -> T,
    ) -> Result<T> {
        let parent_path = self.dir_path(parent)?;
        check_name(name)?;
        let path = join(&parent_path, name);
        self.check_key_len(&path)?;
        loop {
            let rmdirs = self.state().rmdirs;
            let (node, parent_node) =
                tokio::join!(self.resolve(&path, true), self.resolve(&parent_path, false));
            if !matches!(parent_node?, Some(Node::Dir)) {
                return Err(Error::NotFound { path: parent_path });
            }
            if node?.is_some() {
                return Err(Error::AlreadyExists { path });
            }
            let mut state = self.state();
            if state.rmdirs != rmdirs
                && !parent_path.is_empty()
                && !state.local_dirs.contains_key(&parent_path)
            {
                // The parent may be the local directory just removed: look again.
                continue;
            }
            if state.local_files.contains_key(&path) || state.local_dirs.contains_key(&path) {
                return Err(Error::AlreadyExists { path });
            }
            return Ok(make(&mut state, path));
        }
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

    /// What `path` is: a directory if any key is below it (then a local directory of that
    /// name is local no more), else local state (a directory made by `mkdir`, a file being
    /// written), else the object of that key. Asks the storage (a HEAD and a one-key LIST,
    /// together) unless `fresh` is false and the storage's answer (found or not) is
    /// cached within the metadata TTL.
    pub(crate) async fn resolve(&self, path: &str, fresh: bool) -> Result<Option<Node>> {
        if path.is_empty() {
            return Ok(Some(Node::Dir));
        }
        // As Mountpoint, the cache serves lookups only with a metadata TTL; answers that
        // found nothing are then reused for the negative TTL.
        let (ttl, negative_ttl) = (self.options.metadata_ttl, self.options.negative_ttl());
        if !fresh && !ttl.is_zero() {
            let state = self.state();
            if let Some((at, cached)) = state.cache.get(path)
                && at.elapsed() < if cached.is_some() { ttl } else { negative_ttl }
            {
                return Ok(state.with_local(path, cached.clone()));
            }
        }
        let key = self.key(path);
        let below = ListRequest::new(format!("{key}/"))
            .with_delimiter("/")
            .with_max_keys(1);
        let (head, list) = tokio::join!(self.storage.head(&key), self.storage.list(&below));
        let list = list?;
        // A key longer than S3's 1024 bytes: a store that holds such keys (Garage) finds
        // it, as Mountpoint; one that refuses them may refuse the HEAD too (the RADOS
        // Gateway answers 400): nothing is there. Any other failure stays one.
        let head = match head {
            Err(Error::NameTooLong { .. }) => Ok(None),
            other => other,
        };
        let remote = if !list.objects.is_empty() || !list.common_prefixes.is_empty() {
            Some(Node::Dir)
        } else {
            head?.map(Node::File)
        };
        let mut state = self.state();
        if matches!(remote, Some(Node::Dir)) {
            // Keys below a local directory: it exists in the bucket now, and goes with
            // its keys.
            state.local_dirs.remove(path);
        }
        let keep = if remote.is_some() { ttl } else { negative_ttl };
        if !ttl.is_zero() && !keep.is_zero() {
            state.remember(path.to_owned(), remote.clone(), ttl.max(negative_ttl));
        }
        Ok(state.with_local(path, remote))
    }

    pub(crate) fn file_attr(&self, ino: u64, size: u64, mtime: SystemTime) -> FileAttr {
        FileAttr {
            ino,
            kind: FileKind::File,
            size,
            mtime,
            atime: mtime,
            ctime: mtime,
            perm: self.options.file_mode,
            uid: self.options.uid,
            gid: self.options.gid,
            nlink: 1,
        }
    }

    pub(crate) fn local_attr(&self, local: &LocalFile) -> FileAttr {
        FileAttr {
            atime: local.atime,
            ctime: local.ctime,
            ..self.file_attr(local.ino, local.size, local.mtime)
        }
    }

    pub(crate) fn dir_attr(&self, ino: u64, mtime: SystemTime) -> FileAttr {
        FileAttr {
            ino,
            kind: FileKind::Directory,
            size: 0,
            mtime,
            atime: mtime,
            ctime: mtime,
            perm: self.options.dir_mode,
            uid: self.options.uid,
            gid: self.options.gid,
            nlink: 2,
        }
    }

    /// The attributes of directory `path` (its times set by `setattr` if local).
    pub(crate) fn dir_attr_of(&self, state: &State<S>, path: &str, ino: u64) -> FileAttr {
        let mut attr = self.dir_attr(ino, self.mounted_at);
        if let Some(local) = state.local_dirs.get(path) {
            attr.atime = local.atime;
            attr.mtime = local.mtime;
        }
        attr
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
            Node::Local(local) => self.local_attr(local),
            Node::Dir => self.dir_attr_of(&state, path, ino),
        }
    }

    /// Looks `name` up in the directory `parent` (FUSE `lookup`). A file being written
    /// is found, with the bytes written so far.
    ///
    /// # Errors
    /// `ENOENT`, `EINVAL` for a name no file can have, `ENOTDIR` when `parent` is a file,
    /// storage errors.
    pub async fn lookup(&self, parent: u64, name: &str) -> Result<FileAttr> {
        let parent_path = self.dir_path(parent)?;
        check_name(name)?;
        let path = join(&parent_path, name);
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

    /// What inode `ino` is now: its local state if it has some, else what the storage
    /// says (asked when `fresh`, else maybe from the cache).
    pub(crate) async fn current(&self, ino: u64, fresh: bool) -> Result<(String, Node)> {
        let (path, kind) = self.inode(ino)?;
        if ino == ROOT_INO {
            return Ok((path, Node::Dir));
        }
        {
            let state = self.state();
            match kind {
                FileKind::File => {
                    if let Some(local) = state.local_files.get(&path).filter(|l| l.ino == ino) {
                        return Ok((path, Node::Local(local.clone())));
                    }
                }
                FileKind::Directory => {
                    if state.local_dirs.contains_key(&path) {
                        return Ok((path, Node::Dir));
                    }
                }
            }
        }
        match self.resolve(&path, fresh).await? {
            Some(node) if node.kind() == kind => Ok((path, node)),
            Some(_) => Err(Error::Stale { path }),
            None => Err(Error::NotFound { path }),
        }
    }

    /// The attributes of an inode (FUSE `getattr`), checked against the storage unless
    /// cached. A file being written shows the bytes written so far.
    ///
    /// # Errors
    /// `ENOENT` when the inode is unknown or its path is gone, `ESTALE` when the path is
    /// now of the other kind (a file became a directory), storage errors.
    pub async fn getattr(&self, ino: u64) -> Result<FileAttr> {
        let (path, node) = self.current(ino, false).await?;
        Ok(self.attr_of(&path, &node))
    }

    /// Changes attributes (FUSE `setattr`), as Mountpoint: only files with local state (made
    /// by `mknod`/`create` or being written) and local directories accept it; their access
    /// and modification times are set (`touch`, `cp -p`), while mode, owner and size are
    /// accepted and left as they are.
    ///
    /// # Errors
    /// `EPERM` for anything stored in the bucket (files, directories, the root): S3
    /// objects cannot be changed in place, and owners and modes come from the options.
    /// `ENOENT` for an unknown inode.
    pub async fn setattr(&self, ino: u64, changes: &SetAttr) -> Result<FileAttr> {
        let (path, kind) = self.inode(ino)?;
        let mut state = self.state();
        if ino != ROOT_INO {
            match kind {
                FileKind::File => {
                    if let Some(local) = state.local_files.get_mut(&path).filter(|l| l.ino == ino) {
                        if let Some(t) = changes.atime {
                            local.atime = t;
                        }
                        if let Some(t) = changes.mtime {
                            local.mtime = t;
                        }
                        let local = local.clone();
                        return Ok(self.local_attr(&local));
                    }
                }
                FileKind::Directory => {
                    if let Some(local) = state.local_dirs.get_mut(&path) {
                        if let Some(t) = changes.atime {
                            local.atime = t;
                        }
                        if let Some(t) = changes.mtime {
                            local.mtime = t;
                        }
                        return Ok(self.dir_attr_of(&state, &path, ino));
                    }
                }
            }
        }
        drop(state);
        let reason = if changes.size == Some(0) && !self.options.allow_overwrite {
            "file overwrite is disabled (allow_overwrite); with it, replace a file by \
             opening it with O_TRUNC"
        } else {
            "attributes of stored files and directories cannot be changed: S3 objects \
             cannot be modified in place, and owners and modes come from the options"
        };
        Err(Error::NotPermitted {
            operation: "setattr",
            path,
            reason,
        })
    }

    /// File-system statistics (FUSE `statfs`): large fixed numbers, exactly Mountpoint's.
    pub fn statfs(&self, _ino: u64) -> Statfs {
        Statfs::MOUNTPOINT
    }

    /// Deletes a file (FUSE `unlink`), when `allow_delete` is set. The object is deleted
    /// at once (open readers fail from then on); a directory that only this file made
    /// disappears with it.
    ///
    /// # Errors
    /// `EPERM` when deletes are not allowed (checked first, as Mountpoint) and for a file
    /// being written, `ENOENT`, `EISDIR`, `EINVAL` for a name no file can have, storage
    /// errors.
    pub async fn unlink(&self, parent: u64, name: &str) -> Result<()> {
        if !self.options.allow_delete {
            let path = self
                .inode(parent)
                .map_or_else(|_| name.to_owned(), |(p, _)| join(&p, name));
            return Err(Error::NotPermitted {
                operation: "unlink",
                path,
                reason: "deleting files is disabled (allow_delete)",
            });
        }
        let parent_path = self.dir_path(parent)?;
        check_name(name)?;
        let path = join(&parent_path, name);
        match self.resolve(&path, true).await? {
            None => return Err(Error::NotFound { path }),
            Some(Node::Dir) => return Err(Error::IsDirectory { path }),
            Some(Node::Local(_)) => {
                return Err(Error::NotPermitted {
                    operation: "unlink",
                    path,
                    reason: "the file is being written; it can be deleted once closed",
                });
            }
            Some(Node::File(_)) => {}
        }
        // The cache is cleared however the call ends (a dropped call may have deleted).
        let _forget = OnDrop(Some(|| self.forget_cache()));
        self.storage.delete(&self.key(&path)).await
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

    /// Aborts every upload in progress and closes every handle, for a FUSE layer's
    /// `destroy` (unmount). Dropping the `Vfs` inside a tokio runtime also aborts them,
    /// in background tasks.
    pub async fn shutdown(&self) {
        let handles: Vec<_> = {
            let mut state = self.state();
            state.dirs.clear();
            state.open.clear();
            state.local_files.clear();
            state.files.drain().collect()
        };
        let _forget = OnDrop(Some(|| self.forget_cache()));
        for (fh, handle) in handles {
            match &mut *self.guard(fh, handle).await {
                Handle::Reader(r) => r.stop(),
                Handle::Writer(w) => w.fail(libc::EIO).await,
            }
        }
    }

    /// Renames a file (FUSE `rename`): not supported, as Mountpoint on S3 general purpose
    /// buckets (and S3-compatible stores), which have no `RenameObject`; copying then
    /// deleting is neither atomic nor cheap. The checks Mountpoint makes before it asks
    /// the bucket come first, with their errors; the first rename that passes them
    /// learns that the bucket cannot rename, and every rename after fails at once.
    ///
    /// `flags` are `renameat2`'s (`RENAME_NOREPLACE`, `RENAME_EXCHANGE`,
    /// `RENAME_WHITEOUT`; 0 for `rename`).
    ///
    /// # Errors
    /// `EINVAL` for `RENAME_EXCHANGE` or `RENAME_WHITEOUT`; then, until a rename reached the
    /// bucket: `ENOENT` for a missing source, `EPERM` for a directory or a file being
    /// written (source or destination), `EEXIST` for an existing destination unless
    /// `allow_overwrite` (and no `RENAME_NOREPLACE`), `EINVAL`, `ENOTDIR`; and `ENOSYS`.
    pub async fn rename(
        &self,
        parent: u64,
        name: &str,
        new_parent: u64,
        new_name: &str,
        flags: u32,
    ) -> Result<()> {
        let invalid = |reason| {
            Err(Error::InvalidFlags {
                operation: "rename",
                reason,
            })
        };
        if flags & RENAME_EXCHANGE != 0 {
            return invalid("RENAME_EXCHANGE is not supported");
        }
        if flags & RENAME_WHITEOUT != 0 {
            return invalid("RENAME_WHITEOUT is not supported");
        }
        let unsupported = Err(Error::NotSupported {
            operation: "rename",
        });
        if self.state().rename_unsupported {
            return unsupported;
        }
        let parent_path = self.dir_path(parent)?;
        let (new_parent_path, new_parent_kind) = self.inode(new_parent)?;
        check_name(name)?;
        let path = join(&parent_path, name);
        let denied = |path, reason| {
            Err(Error::NotPermitted {
                operation: "rename",
                path,
                reason,
            })
        };
        match self.resolve(&path, true).await? {
            None => return Err(Error::NotFound { path }),
            Some(Node::Dir) => return denied(path, "directories cannot be renamed"),
            Some(Node::Local(_)) => return denied(path, "the file is being written"),
            Some(Node::File(_)) => {}
        }
        if new_parent_kind == FileKind::Directory && check_name(new_name).is_ok() {
            let new_path = join(&new_parent_path, new_name);
            if let Ok(Some(node)) = self.resolve(&new_path, true).await {
                let overwrite = self.options.allow_overwrite && flags & RENAME_NOREPLACE == 0;
                if !overwrite {
                    return Err(Error::AlreadyExists { path: new_path });
                }
                let local = matches!(node, Node::Local(_))
                    || self.state().local_dirs.contains_key(&new_path);
                if local {
                    return denied(new_path, "the destination is being written");
                }
            }
        }
        check_name(new_name)?;
        if new_parent_kind != FileKind::Directory {
            return Err(Error::NotDirectory {
                path: new_parent_path,
            });
        }
        self.state().rename_unsupported = true;
        unsupported
    }

    /// Hard links (FUSE `link`) are not supported.
    ///
    /// # Errors
    /// Always `EPERM` (what Mountpoint answers, and what tools expect of a file system
    /// without links).
    pub fn link(&self, ino: u64, _new_parent: u64, _new_name: &str) -> Result<FileAttr> {
        let path = self.inode(ino).map(|(p, _)| p).unwrap_or_default();
        Err(Error::NotPermitted {
            operation: "link",
            path,
            reason: "hard links are not supported",
        })
    }

    /// Symbolic links (FUSE `symlink`) are not supported.
    ///
    /// # Errors
    /// Always `EPERM`, as Mountpoint.
    pub fn symlink(&self, _parent: u64, name: &str, _target: &str) -> Result<FileAttr> {
        Err(Error::NotPermitted {
            operation: "symlink",
            path: name.to_owned(),
            reason: "symbolic links are not supported",
        })
    }

    /// There are no symbolic links to read (FUSE `readlink`).
    ///
    /// # Errors
    /// Always `ENOSYS`, as Mountpoint.
    pub fn readlink(&self, _ino: u64) -> Result<Vec<u8>> {
        Err(Error::NotSupported {
            operation: "readlink",
        })
    }

    /// File locks (FUSE `getlk`, `setlk`) are not supported.
    ///
    /// # Errors
    /// Always `ENOSYS`, as Mountpoint.
    pub fn lock(&self, _ino: u64, _fh: u64) -> Result<()> {
        Err(Error::NotSupported {
            operation: "file locking",
        })
    }

    /// Extended attributes (FUSE `getxattr`, `setxattr`, `listxattr`, `removexattr`) are
    /// not supported.
    ///
    /// # Errors
    /// Always `ENOSYS`, as Mountpoint (the kernel reports `EOPNOTSUPP` to programs).
    pub fn xattr(&self, _ino: u64) -> Result<()> {
        Err(Error::NotSupported {
            operation: "extended attributes",
        })
    }

    /// Space allocation (FUSE `fallocate`) is not supported.
    ///
    /// # Errors
    /// Always `ENOSYS`, as Mountpoint (the kernel reports `EOPNOTSUPP` to programs).
    pub fn fallocate(&self, _ino: u64, _fh: u64) -> Result<()> {
        Err(Error::NotSupported {
            operation: "fallocate",
        })
    }
}

/// `renameat2` flags (`linux/fs.h`; the same numbers on every Linux architecture).
const RENAME_NOREPLACE: u32 = 1;
const RENAME_EXCHANGE: u32 = 2;
const RENAME_WHITEOUT: u32 = 4;
