//! The inode table: one number per (path, kind), never reused while the file system
//! lives, so the kernel's numbers stay valid. A path that turns from a file into a
//! directory gets a new number; the old one goes stale (`ENOENT`).

use std::collections::HashMap;

use crate::attr::{FileKind, ROOT_INO};

#[derive(Debug, Clone)]
pub(crate) struct Inode {
    /// The path below the mount prefix (`""` for the root).
    pub(crate) path: String,
    pub(crate) kind: FileKind,
}

#[derive(Debug)]
pub(crate) struct InodeTable {
    /// `inodes[ino - 1]`.
    inodes: Vec<Inode>,
    by_path: HashMap<(FileKind, String), u64>,
}

impl InodeTable {
    pub(crate) fn new() -> Self {
        let root = Inode {
            path: String::new(),
            kind: FileKind::Directory,
        };
        let mut by_path = HashMap::new();
        by_path.insert((FileKind::Directory, String::new()), ROOT_INO);
        Self {
            inodes: vec![root],
            by_path,
        }
    }

    pub(crate) fn get(&self, ino: u64) -> Option<&Inode> {
        let index = usize::try_from(ino.checked_sub(1)?).ok()?;
        self.inodes.get(index)
    }

    /// The number of (path, kind), given on first sight.
    pub(crate) fn ino(&mut self, path: &str, kind: FileKind) -> u64 {
        if let Some(&ino) = self.by_path.get(&(kind, path.to_owned())) {
            return ino;
        }
        self.inodes.push(Inode {
            path: path.to_owned(),
            kind,
        });
        let ino = self.inodes.len() as u64;
        self.by_path.insert((kind, path.to_owned()), ino);
        ino
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable_and_never_reused() {
        let mut table = InodeTable::new();
        assert_eq!(table.get(ROOT_INO).unwrap().path, "");
        let a = table.ino("a", FileKind::File);
        let a_dir = table.ino("a", FileKind::Directory);
        assert_ne!(a, a_dir);
        assert_eq!(table.ino("a", FileKind::File), a);
        assert_eq!(table.get(a_dir).unwrap().kind, FileKind::Directory);
        assert!(table.get(0).is_none());
        assert!(table.get(99).is_none());
    }
}
