//! Directories: listings (`opendir`, `readdir`, `releasedir`), `mkdir` and `rmdir`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::attr::{DirEntry, FileAttr, FileKind, ROOT_INO};
use crate::path::{check_name, is_valid_name, join, parent as parent_of};
use crate::storage::{ListRequest, Storage};
use crate::vfs::{DirHandle, Node, Vfs};
use crate::{Error, Result};

/// The children of a directory, and whether any key is below it.
pub(crate) struct Listing {
    pub(crate) children: BTreeMap<String, Node>,
    pub(crate) in_bucket: bool,
}

impl<S: Storage + 'static> Vfs<S> {
    /// Lists a directory: every page of a delimited listing, then its local directories.
    /// Common prefixes are directories, which hide objects of the same name; names that
    /// are not valid are left out.
    pub(crate) async fn list_dir(&self, path: &str) -> Result<Listing> {
        let prefix = self.dir_prefix(path);
        let mut children = BTreeMap::new();
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
                    children.insert(name.to_owned(), Node::Dir);
                }
            }
            for object in page.objects {
                if let Some(name) = object
                    .key
                    .strip_prefix(prefix.as_str())
                    .filter(|name| is_valid_name(name))
                {
                    children
                        .entry(name.to_owned())
                        .or_insert(Node::File(object.meta));
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
        for dir in state.local_dirs.iter().filter(|d| parent_of(d) == path) {
            let name = dir.rsplit('/').next().unwrap_or(dir);
            children.insert(name.to_owned(), Node::Dir);
        }
        if !self.options.metadata_ttl.is_zero() {
            let now = Instant::now();
            for (name, node) in &children {
                state.cache.insert(join(path, name), (now, node.clone()));
            }
        }
        Ok(Listing {
            children,
            in_bucket,
        })
    }

    /// Opens a directory (FUSE `opendir`): lists it whole, page after page, and keeps the
    /// listing for [`readdir`](Self::readdir), so offsets stay valid however the bucket
    /// changes. Returns the directory handle.
    ///
    /// # Errors
    /// `ENOTDIR`, `ENOENT` when the directory no longer exists, storage errors.
    pub async fn opendir(&self, ino: u64) -> Result<u64> {
        let path = self.dir_path(ino)?;
        let listing = self.list_dir(&path).await?;
        let exists =
            path.is_empty() || listing.in_bucket || self.state().local_dirs.contains(&path);
        if !exists {
            return Err(Error::NotFound { path });
        }
        let now = SystemTime::now();
        let dot = self.dir_attr(ino, self.mounted_at);
        let parent_path = parent_of(&path);
        let dotdot_ino = if path.is_empty() {
            ROOT_INO
        } else {
            self.state().inodes.ino(parent_path, FileKind::Directory)
        };
        let dotdot = self.dir_attr(dotdot_ino, self.mounted_at);
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
            let child = join(&path, &name);
            let mut attr = self.attr_of(&child, &node);
            if matches!(node, Node::Dir) && self.state().local_dirs.contains(&child) {
                attr.mtime = now;
            }
            entries.push(DirEntry {
                name,
                offset: entries.len() as u64 + 1,
                attr,
            });
        }
        let mut state = self.state();
        let fh = state.next_fh();
        state.dirs.insert(fh, Arc::new(DirHandle { ino, entries }));
        Ok(fh)
    }

    /// The entries of an open directory from `offset` on (FUSE `readdir`): `0` for the
    /// first, then the [`offset`](DirEntry::offset) of the last entry taken. `.` and `..`
    /// come first, then names in byte order.
    ///
    /// # Errors
    /// `EBADF` for a handle that is not an open directory.
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
    /// `EBADF` for a handle that is not an open directory.
    pub fn readdir_with(
        &self,
        ino: u64,
        fh: u64,
        offset: u64,
        mut take: impl FnMut(&DirEntry) -> bool,
    ) -> Result<()> {
        let dir = self
            .state()
            .dirs
            .get(&fh)
            .filter(|d| d.ino == ino)
            .cloned()
            .ok_or(Error::BadHandle {
                fh,
                operation: "readdir",
            })?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(dir.entries.len());
        for entry in &dir.entries[start..] {
            if !take(entry) {
                break;
            }
        }
        Ok(())
    }

    /// Closes an open directory (FUSE `releasedir`).
    ///
    /// # Errors
    /// `EBADF` for a handle that is not an open directory.
    pub fn releasedir(&self, _ino: u64, fh: u64) -> Result<()> {
        self.state()
            .dirs
            .remove(&fh)
            .map(|_| ())
            .ok_or(Error::BadHandle {
                fh,
                operation: "releasedir",
            })
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
    /// and it exists in the bucket once a file is written below it.
    ///
    /// # Errors
    /// `EEXIST`, `EINVAL` for an invalid name, `ENAMETOOLONG`, `ENOENT` or `ENOTDIR` for
    /// the parent, storage errors.
    pub async fn mkdir(&self, parent: u64, name: &str) -> Result<FileAttr> {
        let path = self
            .new_entry_path(parent, name, |path| Error::AlreadyExists { path })
            .await?;
        let ino = {
            let mut state = self.state();
            if state.writing.contains_key(&path) || !state.local_dirs.insert(path.clone()) {
                return Err(Error::AlreadyExists { path });
            }
            state.cache.clear();
            state.inodes.ino(&path, FileKind::Directory)
        };
        Ok(self.dir_attr(ino, SystemTime::now()))
    }

    /// Removes an empty directory made by [`mkdir`](Self::mkdir) (FUSE `rmdir`).
    ///
    /// # Errors
    /// `ENOENT`, `ENOTDIR`, `ENOTEMPTY` when it has entries (or a file being written),
    /// `EPERM` for a directory that exists in the bucket (a directory marker `dir/`, or
    /// keys that cannot be shown), `EINVAL` for `.` and `..`, storage errors.
    pub async fn rmdir(&self, parent: u64, name: &str) -> Result<()> {
        let parent_path = self.dir_path(parent)?;
        check_name(name)?;
        let path = join(&parent_path, name);
        match self.resolve(&path, true).await? {
            None => return Err(Error::NotFound { path }),
            Some(Node::File(_)) => return Err(Error::NotDirectory { path }),
            Some(Node::Dir) => {}
        }
        let listing = self.list_dir(&path).await?;
        let mut state = self.state();
        let writing_below = state.writing.keys().any(|p| parent_of(p) == path);
        if writing_below || !listing.children.is_empty() {
            return Err(Error::NotEmpty { path });
        }
        if listing.in_bucket {
            return Err(Error::NotPermitted {
                operation: "rmdir",
                path,
                reason: "the directory exists in the bucket (a directory marker or keys that \
                         cannot be shown); only directories made by mkdir can be removed",
            });
        }
        state.local_dirs.remove(&path);
        state.cache.clear();
        Ok(())
    }
}
