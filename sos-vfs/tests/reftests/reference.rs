//! The reference model: the bucket's keys, the local directories and the local files
//! (made by `mknod`, not written yet), the tree they make (`build_reference`, the one
//! definition of the mapping), and what each operation must answer.

use std::collections::{BTreeMap, BTreeSet};

use sos_vfs::{FileKind, is_valid_name};

use super::generators::{Op, PATHS, REMOTE_KEYS};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Dir,
    File(Vec<u8>),
}

/// Every path of the file system (the root left out) and what it is.
pub(crate) type Tree = BTreeMap<String, Node>;

/// A directory entry as the harness compares it (inode numbers only between two file
/// systems, not with the model).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) kind: FileKind,
    pub(crate) size: u64,
    pub(crate) ino: Option<u64>,
}

/// What an operation answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Done,
    Attr {
        kind: FileKind,
        size: u64,
        ino: Option<u64>,
    },
    Entries(Vec<Entry>),
    Data(Vec<u8>),
}

/// A value or an errno.
pub(crate) type Outcome = Result<Value, i32>;

/// The outcome without inode numbers, to compare with the model.
pub(crate) fn without_inos(outcome: &Outcome) -> Outcome {
    outcome.clone().map(|value| match value {
        Value::Attr { kind, size, .. } => Value::Attr {
            kind,
            size,
            ino: None,
        },
        Value::Entries(entries) => Value::Entries(
            entries
                .into_iter()
                .map(|e| Entry { ino: None, ..e })
                .collect(),
        ),
        other => other,
    })
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}/{name}")
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

/// The keys-to-tree mapping. Semantics decisions, as Mountpoint's:
/// - every component but the last is a directory; a directory replaces a file of the
///   same name (directories shadow files);
/// - a component that is not a valid name hides the rest of the key, but the directories
///   before it stay;
/// - the last component is a file when it is a valid name and no directory has its name
///   (so `dir/`, whose last component is empty, only makes `dir`);
/// - local directories (from `mkdir`) are added where their parent exists, and also
///   shadow files;
/// - local files (from `mknod`) are added, empty, where their parent exists and no
///   directory has their name: a directory in the bucket shadows local state, which
///   shadows objects.
pub(crate) fn build_reference(
    keys: &BTreeMap<String, Vec<u8>>,
    local: &BTreeSet<String>,
    local_files: &BTreeSet<String>,
) -> Tree {
    let mut tree = Tree::new();
    'keys: for (key, data) in keys {
        let components: Vec<&str> = key.split('/').collect();
        let (name, dirs) = components.split_last().unwrap_or((&"", &[]));
        let mut path = String::new();
        for dir in dirs {
            if !is_valid_name(dir) {
                continue 'keys;
            }
            path = join(&path, dir);
            tree.insert(path.clone(), Node::Dir);
        }
        let path = join(&path, name);
        if is_valid_name(name) && tree.get(&path) != Some(&Node::Dir) {
            tree.insert(path, Node::File(data.clone()));
        }
    }
    // Sorted, so parents come before their children.
    for dir in local {
        let parent = parent(dir);
        if parent.is_empty() || tree.get(parent) == Some(&Node::Dir) {
            tree.insert(dir.clone(), Node::Dir);
        }
    }
    for file in local_files {
        let parent = parent(file);
        let parent_is_dir = parent.is_empty() || tree.get(parent) == Some(&Node::Dir);
        if parent_is_dir && tree.get(file) != Some(&Node::Dir) {
            tree.insert(file.clone(), Node::File(Vec::new()));
        }
    }
    tree
}

/// The model: keys, local directories and files, options.
#[derive(Debug)]
pub(crate) struct Reference {
    pub(crate) keys: BTreeMap<String, Vec<u8>>,
    local: BTreeSet<String>,
    local_files: BTreeSet<String>,
    allow_delete: bool,
    allow_overwrite: bool,
}

const DIR: Node = Node::Dir;

impl Reference {
    pub(crate) fn new(
        keys: BTreeMap<String, Vec<u8>>,
        allow_delete: bool,
        allow_overwrite: bool,
    ) -> Self {
        Self {
            keys,
            local: BTreeSet::new(),
            local_files: BTreeSet::new(),
            allow_delete,
            allow_overwrite,
        }
    }

    pub(crate) fn tree(&self) -> Tree {
        build_reference(&self.keys, &self.local, &self.local_files)
    }

    /// Whether `path` is a local file (not shadowed by a directory).
    fn is_local_file(&self, tree: &Tree, path: &str) -> bool {
        self.local_files.contains(path) && tree.get(path) != Some(&Node::Dir)
    }

    /// Looks a path up from the root, as `lookup_path` walks it.
    fn walk<'t>(tree: &'t Tree, path: &str) -> Result<&'t Node, i32> {
        if path.is_empty() {
            return Ok(&DIR);
        }
        let mut current = String::new();
        for (i, name) in path.split('/').enumerate() {
            if i > 0 && matches!(tree.get(&current), Some(Node::File(_))) {
                return Err(libc::ENOTDIR);
            }
            current = join(&current, name);
            if !tree.contains_key(&current) {
                return Err(libc::ENOENT);
            }
        }
        Ok(&tree[&current])
    }

    /// The parent of `path` must be a directory.
    fn walk_parent(tree: &Tree, path: &str) -> Result<(), i32> {
        match Self::walk(tree, parent(path))? {
            Node::Dir => Ok(()),
            Node::File(_) => Err(libc::ENOTDIR),
        }
    }

    /// A file was uploaded: it exists, has no local state any more, and the directories
    /// above it are no longer local.
    fn commit(&mut self, path: &str, data: &[u8]) {
        self.local_files.remove(path);
        self.put_key(path, data);
    }

    /// A key is stored: a local directory with keys below it is in the bucket from then
    /// on (and goes when they go), as Mountpoint's.
    fn put_key(&mut self, key: &str, data: &[u8]) {
        self.keys.insert(key.to_owned(), data.to_vec());
        self.local.retain(|d| {
            !key.strip_prefix(d.as_str())
                .is_some_and(|r| r.starts_with('/'))
        });
    }

    /// The path an operation works on: a path of `PATHS`, or for a target above
    /// `PATHS.len()`, an existing node of the kind the operation wants.
    pub(crate) fn path(&self, op: &Op) -> String {
        let (index, kind) = match op {
            Op::Write { path, .. }
            | Op::OutOfOrder { path }
            | Op::Mkdir { path }
            | Op::Mknod { path } => {
                return PATHS[*path % PATHS.len()].to_owned();
            }
            Op::Readdir { path: 0 } => return String::new(),
            Op::Overwrite { path, .. }
            | Op::Append { path }
            | Op::Unlink { path }
            | Op::Read { path, .. } => (*path, Some(FileKind::File)),
            Op::Rmdir { path } | Op::Readdir { path } => (*path, Some(FileKind::Directory)),
            Op::Lookup { path } => (*path, None),
            Op::PutRemote { .. } | Op::DeleteRemote { .. } => return String::new(),
        };
        if index < PATHS.len() {
            return PATHS[index].to_owned();
        }
        let tree = self.tree();
        let nodes: Vec<&String> = tree
            .iter()
            .filter(|(_, node)| {
                matches!(
                    (kind, node),
                    (None, _)
                        | (Some(FileKind::File), Node::File(_))
                        | (Some(FileKind::Directory), Node::Dir)
                )
            })
            .map(|(path, _)| path)
            .collect();
        // rmdir succeeds only on local directories: pick those when there are some.
        let local: Vec<&String> = nodes
            .iter()
            .copied()
            .filter(|path| self.local.contains(path.as_str()))
            .collect();
        let nodes = if matches!(op, Op::Rmdir { .. }) && !local.is_empty() {
            local
        } else {
            nodes
        };
        if nodes.is_empty() {
            PATHS[index % PATHS.len()].to_owned()
        } else {
            nodes[(index - PATHS.len()) % nodes.len()].clone()
        }
    }

    /// What `op` on `path` (from [`path`](Self::path)) must answer; the model changes as
    /// the operation would.
    pub(crate) fn expect(&mut self, op: &Op, path: &str) -> Outcome {
        let tree = self.tree();
        match op {
            Op::Write { data, .. } => {
                Self::walk_parent(&tree, path)?;
                if tree.contains_key(path) {
                    return Err(libc::EEXIST);
                }
                self.commit(path, data);
                Ok(Value::Done)
            }
            Op::OutOfOrder { .. } => {
                Self::walk_parent(&tree, path)?;
                if tree.contains_key(path) {
                    return Err(libc::EEXIST);
                }
                Err(libc::EINVAL)
            }
            // A file made by mknod opens for writing whatever the flags: it is new.
            Op::Overwrite { data, .. } => match Self::walk(&tree, path)? {
                Node::Dir => Err(libc::EISDIR),
                Node::File(_) if self.is_local_file(&tree, path) => {
                    self.commit(path, data);
                    Ok(Value::Done)
                }
                Node::File(_) if !self.allow_overwrite => Err(libc::EPERM),
                Node::File(_) => {
                    self.commit(path, data);
                    Ok(Value::Done)
                }
            },
            Op::Append { .. } => match Self::walk(&tree, path)? {
                Node::Dir => Err(libc::EISDIR),
                Node::File(_) if self.is_local_file(&tree, path) => {
                    self.commit(path, &[]);
                    Ok(Value::Done)
                }
                Node::File(_) => Err(libc::EPERM),
            },
            Op::Mkdir { .. } => {
                Self::walk_parent(&tree, path)?;
                if tree.contains_key(path) {
                    return Err(libc::EEXIST);
                }
                self.local.insert(path.to_owned());
                Ok(Value::Attr {
                    kind: FileKind::Directory,
                    size: 0,
                    ino: None,
                })
            }
            Op::Mknod { .. } => {
                Self::walk_parent(&tree, path)?;
                if tree.contains_key(path) {
                    return Err(libc::EEXIST);
                }
                self.local_files.insert(path.to_owned());
                Ok(Value::Attr {
                    kind: FileKind::File,
                    size: 0,
                    ino: None,
                })
            }
            Op::Rmdir { .. } => {
                Self::walk_parent(&tree, path)?;
                match tree.get(path) {
                    None => return Err(libc::ENOENT),
                    Some(Node::File(_)) => return Err(libc::ENOTDIR),
                    Some(Node::Dir) => {}
                }
                // A directory in the bucket cannot be removed, whatever it holds; a local
                // one only when empty.
                if !self.local.contains(path) {
                    return Err(libc::EPERM);
                }
                if tree.keys().any(|p| parent(p) == path) {
                    return Err(libc::ENOTEMPTY);
                }
                self.local.remove(path);
                Ok(Value::Done)
            }
            Op::Unlink { .. } => {
                // (The kernel resolves the parent first.) Deletes must be allowed before
                // the name is looked at.
                Self::walk_parent(&tree, path)?;
                if !self.allow_delete {
                    return Err(libc::EPERM);
                }
                match tree.get(path) {
                    None => Err(libc::ENOENT),
                    Some(Node::Dir) => Err(libc::EISDIR),
                    Some(Node::File(_)) if self.is_local_file(&tree, path) => Err(libc::EPERM),
                    Some(Node::File(_)) => {
                        self.keys.remove(path);
                        Ok(Value::Done)
                    }
                }
            }
            Op::Readdir { .. } => {
                if let Node::File(_) = Self::walk(&tree, path)? {
                    return Err(libc::ENOTDIR);
                }
                let dot = |name: &str| Entry {
                    name: name.to_owned(),
                    kind: FileKind::Directory,
                    size: 0,
                    ino: None,
                };
                let mut entries = vec![dot("."), dot("..")];
                for (child, node) in tree
                    .iter()
                    .filter(|(p, _)| parent(p) == path && !p.is_empty())
                {
                    let name = child.rsplit('/').next().unwrap_or(child);
                    let (kind, size) = match node {
                        Node::Dir => (FileKind::Directory, 0),
                        Node::File(data) => (FileKind::File, data.len() as u64),
                    };
                    entries.push(Entry {
                        name: name.to_owned(),
                        kind,
                        size,
                        ino: None,
                    });
                }
                Ok(Value::Entries(entries))
            }
            Op::Read { chunk, offset, .. } => match Self::walk(&tree, path)? {
                Node::Dir => Err(libc::EISDIR),
                // Being written (made by mknod): not readable yet.
                Node::File(_) if self.is_local_file(&tree, path) => Err(libc::EPERM),
                Node::File(data) => {
                    let start = (*offset % (data.len() as u64 + 1)) as usize;
                    let end = (start + *chunk as usize).min(data.len());
                    let mut out = data.clone();
                    out.extend_from_slice(&data[start..end]);
                    Ok(Value::Data(out))
                }
            },
            Op::Lookup { .. } => {
                let (kind, size) = match Self::walk(&tree, path)? {
                    Node::Dir => (FileKind::Directory, 0),
                    Node::File(data) => (FileKind::File, data.len() as u64),
                };
                Ok(Value::Attr {
                    kind,
                    size,
                    ino: None,
                })
            }
            Op::PutRemote { key, data } => {
                self.put_key(REMOTE_KEYS[*key], data);
                Ok(Value::Done)
            }
            Op::DeleteRemote { key } => {
                self.keys.remove(REMOTE_KEYS[*key]);
                Ok(Value::Done)
            }
        }
    }
}

#[test]
fn the_mapping_of_the_semantics_document() {
    let keys = |list: &[&str]| -> BTreeMap<String, Vec<u8>> {
        list.iter().map(|k| (k.to_string(), vec![1])).collect()
    };
    let none = BTreeSet::new();
    let tree = build_reference(
        &keys(&[
            "colors/blue/cat.jpg",
            "colors/red/dog.jpg",
            "colors/list.txt",
        ]),
        &none,
        &none,
    );
    let paths: Vec<&str> = tree.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "colors",
            "colors/blue",
            "colors/blue/cat.jpg",
            "colors/list.txt",
            "colors/red",
            "colors/red/dog.jpg"
        ]
    );
    let tree = build_reference(&keys(&["blue", "blue/image.jpg", "red/"]), &none, &none);
    assert_eq!(tree["blue"], Node::Dir);
    assert_eq!(tree["red"], Node::Dir);
    assert_eq!(tree.len(), 3);
    let tree = build_reference(&keys(&["a/./b", "../c", "d//e", "f\0"]), &none, &none);
    assert_eq!(tree.keys().collect::<Vec<_>>(), ["a", "d"]);
    // Shadowing order: a directory in the bucket, then local state, then objects.
    let local_dirs = BTreeSet::from(["x".to_owned()]);
    let local_files = BTreeSet::from(["a".to_owned(), "y".to_owned(), "z".to_owned()]);
    let tree = build_reference(&keys(&["a/b", "x", "y", "q/r"]), &local_dirs, &local_files);
    assert_eq!(
        tree["a"],
        Node::Dir,
        "a directory in the bucket hides a local file"
    );
    assert_eq!(tree["x"], Node::Dir, "a local directory hides an object");
    assert_eq!(
        tree["y"],
        Node::File(Vec::new()),
        "a local file hides an object"
    );
    assert_eq!(tree["z"], Node::File(Vec::new()));
}
