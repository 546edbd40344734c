//! Directories: listings (`opendir`, `readdir`, `rewinddir`, `releasedir`), `mkdir` and
//! `rmdir`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::attr::{DirEntry, FileAttr, FileKind, ROOT_INO};
use crate::path::{check_name, is_valid_name, join, parent as parent_of};
use crate::storage::{ListRequest, Storage};
use crate::vfs::{LocalDir, Node, Vfs};
use crate::{Error, Result};

/// The children of a directory, and whether any key is below it.
pub(crate) struct Listing {
    pub(crate) children: BTreeMap<String, Node>,
    pub(crate) in_bucket: bool,
}

/// An open directory: the listing taken at `opendir` (or at the last rewind).
#[derive(Debug)]
pub(crate) struct DirHandle {
    pub(crate) ino: u64,
    pub(crate) entries: Vec<DirEntry>,
    /// Whether `readdir` handed out any entry of this listing.
    served: AtomicBool,
}

impl<S: Storage + 'static> Vfs<S> {
    /// Lists a directory: every page of a delimited listing, merged with its local
    /// entries. Directories in the bucket shadow everything of the same name (and a local
    /// directory of that name is local no more), then local directories and files being
    /// written, then objects. Names that are not valid are left out.
    pub(crate) async fn list_dir(&self, path: &str) -> Result<Listing> {
        let prefix = self.dir_prefix(path);
        let mut remote_dirs = BTreeSet::new();
        let mut objects = BTreeMap::new();
        let mut in_bucket = false;
        let mut token: Option<String> = None;
        loop {
            let request = ListRequest::new(prefix.clone())
                .with_delimiter("/")
                .with_max_keys(self.options.list_page_size)
                .with_continuation(token.clone());
            let page = self.storage.list(&request).await?;
            in_bucket |= !page.objects.is_empty() || !page.common_prefixes.is_empty();
            for common in page.common_prefixes {
                if let Some(name) = common
                    .strip_prefix(prefix.as_str())
                    .and_then(|rest| rest.strip_suffix('/'))
                    .filter(|name| is_valid_name(name))
                {
                    remote_dirs.insert(name.to_owned());
                }
            }
            for object in page.objects {
                if let Some(name) = object
                    .key
                    .strip_prefix(prefix.as_str())
                    .filter(|name| is_valid_name(name))
                {
                    objects.insert(name.to_owned(), object.meta);
                }
            }
            match page.next {
                None => break,
                Some(next) if token.as_ref() == Some(&next) => {
                    return Err(Error::storage(
                        "ListObjectsV2",
                        prefix,
                        "the storage returned the same continuation token twice",
                    ));
                }
                Some(next) => token = Some(next),
            }
        }
        let mut state = self.state();
        if in_bucket && !path.is_empty() {
            state.local_dirs.remove(path);
        }
        for name in &remote_dirs {
            state.local_dirs.remove(&join(path, name));
        }
        let mut children: BTreeMap<String, Node> = objects
            .into_iter()
            .map(|(name, meta)| (name, Node::File(meta)))
            .collect();
        for (file, local) in state
            .local_files
            .iter()
            .filter(|(f, _)| parent_of(f) == path)
        {
            let name = file.rsplit('/').next().unwrap_or(file);
            children.insert(name.to_owned(), Node::Local(local.clone()));
        }
        for dir in state.local_dirs.keys().filter(|d| parent_of(d) == path) {
            let name = dir.rsplit('/').next().unwrap_or(dir);
            children.insert(name.to_owned(), Node::Dir);
        }
        for name in remote_dirs {
            children.insert(name, Node::Dir);
        }
        let ttl = self.options.metadata_ttl;
        if !ttl.is_zero() {
            let longest = ttl.max(self.options.negative_ttl());
            for (name, node) in &children {
                if !matches!(node, Node::Local(_)) {
                    state.remember(join(path, name), Some(node.clone()), longest);
                }
            }
        }
        Ok(Listing {
            children,
            in_bucket,
        })
    }

    /// Lists directory `ino` into a handle's entries.
    async fn listing(&self, ino: u64) -> Result<Vec<DirEntry>> {
        let path = self.dir_path(ino)?;
        let listing = self.list_dir(&path).await?;
        let (dot, dotdot) = {
            let mut state = self.state();
            let exists =
                path.is_empty() || listing.in_bucket || state.local_dirs.contains_key(&path);
            if !exists {
                return Err(Error::NotFound { path });
            }
            let parent_path = parent_of(&path);
            let dotdot_ino = if path.is_empty() {
                ROOT_INO
            } else {
                state.inodes.ino(parent_path, FileKind::Directory)
            };
            (
                self.dir_attr_of(&state, &path, ino),
                self.dir_attr_of(&state, parent_path, dotdot_ino),
            )
        };
        let mut entries = vec![
            DirEntry {
                name: ".".to_owned(),
                offset: 1,
                attr: dot,
            },
            DirEntry {
                name: "..".to_owned(),
                offset: 2,
                attr: dotdot,
            },
        ];
        for (name, node) in listing.children {
            let attr = self.attr_of(&join(&path, &name), &node);
            entries.push(DirEntry {
                name,
                offset: entries.len() as u64 + 1,
                attr,
            });
        }
        Ok(entries)
    }

    /// Opens a directory (FUSE `opendir`): lists it whole, page after page, and keeps the
    /// listing for [`readdir`](Self::readdir), so offsets stay valid however the bucket
    /// changes. Returns the directory handle.
    ///
    /// # Errors
    /// `ENOTDIR`, `ENOENT` when the directory no longer exists, storage errors.
    pub async fn opendir(&self, ino: u64) -> Result<u64> {
        let entries = self.listing(ino).await?;
        let mut state = self.state();
        let fh = state.next_fh();
        state.dirs.insert(
            fh,
            Arc::new(DirHandle {
                ino,
                entries,
                served: AtomicBool::new(false),
            }),
        );
        Ok(fh)
    }

    /// Rewinds an open directory (`rewinddir`: the kernel asks for offset 0 again after
    /// it was given entries): lists the directory again, as Mountpoint does, so the
    /// listing is current. Does nothing for a handle that gave no entry yet. A FUSE layer
    /// calls it before a [`readdir`](Self::readdir) at offset 0.
    ///
    /// # Errors
    /// `EINVAL` for a handle that is not an open directory, and as
    /// [`opendir`](Self::opendir).
    pub async fn rewinddir(&self, ino: u64, fh: u64) -> Result<()> {
        let dir = self.dir_handle(ino, fh)?;
        if !dir.served.load(Ordering::Acquire) {
            return Ok(());
        }
        let entries = self.listing(ino).await?;
        let mut state = self.state();
        if let Some(slot) = state.dirs.get_mut(&fh).filter(|d| d.ino == ino) {
            *slot = Arc::new(DirHandle {
                ino,
                entries,
                served: AtomicBool::new(false),
            });
        }
        Ok(())
    }

    fn dir_handle(&self, ino: u64, fh: u64) -> Result<Arc<DirHandle>> {
        self.state()
            .dirs
            .get(&fh)
            .filter(|d| d.ino == ino)
            .cloned()
            .ok_or(Error::BadDirHandle { fh })
    }

    /// The entries of an open directory from `offset` on (FUSE `readdir`): `0` for the
    /// first, then the [`offset`](DirEntry::offset) of the last entry taken. `.` and `..`
    /// come first, then names in byte order. Any offset of the listing may be asked for
    /// (`seekdir`), unlike Mountpoint, which only streams; to start again with a current
    /// listing, call [`rewinddir`](Self::rewinddir) first.
    ///
    /// # Errors
    /// `EINVAL` for a handle that is not an open directory.
    pub fn readdir(&self, ino: u64, fh: u64, offset: u64) -> Result<Vec<DirEntry>> {
        let mut out = Vec::new();
        self.readdir_with(ino, fh, offset, |entry| {
            out.push(entry.clone());
            true
        })?;
        Ok(out)
    }

    /// Like [`readdir`](Self::readdir), handing each entry from `offset` on to `take`
    /// without copying the listing, until `take` returns `false` (a FUSE reply buffer
    /// that is full): a caller paging through a large directory does linear work.
    ///
    /// # Errors
    /// `EINVAL` for a handle that is not an open directory.
    pub fn readdir_with(
        &self,
        ino: u64,
        fh: u64,
        offset: u64,
        mut take: impl FnMut(&DirEntry) -> bool,
    ) -> Result<()> {
        let dir = self.dir_handle(ino, fh)?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(dir.entries.len());
        let mut taken = false;
        for entry in &dir.entries[start..] {
            if !take(entry) {
                break;
            }
            taken = true;
        }
        if taken {
            dir.served.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// Closes an open directory (FUSE `releasedir`).
    ///
    /// # Errors
    /// `EINVAL` for a handle that is not an open directory.
    pub fn releasedir(&self, _ino: u64, fh: u64) -> Result<()> {
        self.state()
            .dirs
            .remove(&fh)
            .map(|_| ())
            .ok_or(Error::BadDirHandle { fh })
    }

    /// The whole listing of a directory, `.` and `..` included (`opendir`, `readdir`,
    /// `releasedir`).
    ///
    /// # Errors
    /// As [`opendir`](Self::opendir).
    pub async fn readdir_all(&self, ino: u64) -> Result<Vec<DirEntry>> {
        let fh = self.opendir(ino).await?;
        let entries = self.readdir(ino, fh, 0);
        self.releasedir(ino, fh)?;
        entries
    }

    /// Makes a directory (FUSE `mkdir`). It is local: nothing is written to the bucket,
    /// and it exists in the bucket once a file is written below it (from then on it goes
    /// when its keys go).
    ///
    /// # Errors
    /// `EEXIST`, `EINVAL` for an invalid name, `ENAMETOOLONG`, `ENOENT` or `ENOTDIR` for
    /// the parent, storage errors.
    pub async fn mkdir(&self, parent: u64, name: &str) -> Result<FileAttr> {
        self.new_entry(parent, name, |state, path| {
            let ino = state.inodes.ino(&path, FileKind::Directory);
            state.local_dirs.insert(
                path.clone(),
                LocalDir {
                    atime: self.mounted_at,
                    mtime: self.mounted_at,
                },
            );
            state.cache.clear();
            self.dir_attr_of(state, &path, ino)
        })
        .await
    }

    /// Removes an empty directory made by [`mkdir`](Self::mkdir) (FUSE `rmdir`).
    ///
    /// # Errors
    /// `EPERM` for a directory that exists in the bucket (keys below it, a directory
    /// marker `dir/`, or keys that cannot be shown), whatever it holds; `ENOTEMPTY` for a
    /// local directory with local directories or files being written in it; `ENOENT`,
    /// `ENOTDIR`, `EINVAL` for a name no directory can have, storage errors.
    pub async fn rmdir(&self, parent: u64, name: &str) -> Result<()> {
        let parent_path = self.dir_path(parent)?;
        check_name(name)?;
        let path = join(&parent_path, name);
        match self.resolve(&path, true).await? {
            None => return Err(Error::NotFound { path }),
            Some(Node::File(_) | Node::Local(_)) => return Err(Error::NotDirectory { path }),
            Some(Node::Dir) => {}
        }
        let mut state = self.state();
        // `resolve` turned a local directory with keys below into one in the bucket.
        if !state.local_dirs.contains_key(&path) {
            return Err(Error::NotPermitted {
                operation: "rmdir",
                path,
                reason: "the directory exists in the bucket (keys below it, possibly a \
                         directory marker or keys that cannot be shown); only directories \
                         made by mkdir can be removed",
            });
        }
        if state.has_local_children(&path) {
            return Err(Error::NotEmpty { path });
        }
        state.local_dirs.remove(&path);
        state.rmdirs += 1;
        state.cache.clear();
        Ok(())
    }
}
