//! Operation sequences over a small name space, so that operations meet: paths of one or
//! two components from {a, b, c}. Targets are indexes into fixed tables, so a shrunk
//! sequence stays meaningful.

use proptest::collection::vec;
use proptest::prelude::*;

/// Paths the file-system operations target.
pub(crate) const PATHS: [&str; 12] = [
    "a", "b", "c", "a/a", "a/b", "a/c", "b/a", "b/b", "b/c", "c/a", "c/b", "c/c",
];

/// Targets of operations on existing files and directories: below `PATHS.len()`, a
/// path of [`PATHS`]; above, an existing node picked by the model (so that reads, deletes
/// and listings meet something more often than by chance).
pub(crate) const TARGETS: usize = 2 * PATHS.len();

/// Keys another client puts or deletes while the file system runs: valid paths, and
/// keys every S3 server stores that are not valid paths (directory markers, empty
/// components).
pub(crate) const REMOTE_KEYS: [&str; 17] = [
    "a", "b", "c", "a/a", "a/b", "b/c", "c/c", "a/b/c", "a/", "b/", "a/b/", "b//a", "/a", "c//",
    "a/a/a", "c/b/a/", "b/b",
];

/// Keys the bucket starts with: [`REMOTE_KEYS`], keys with `.` and `..` segments, and
/// (last, only where they can be stored) keys with NUL.
pub(crate) const SEED_KEYS: [&str; 25] = [
    "a", "b", "c", "a/a", "a/b", "b/c", "c/c", "a/b/c", "a/", "b/", "a/b/", "b//a", "/a", "c//",
    "a/a/a", "c/b/a/", "./a", "..", "c/./a", "a/../b", "b/.", "a/b/..", ".", "c\0", "a/\0/b",
];
/// How many keys at the end of [`SEED_KEYS`] have a NUL.
pub(crate) const NUL_SEED_KEYS: usize = 2;

/// One operation.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// create, write (in two pieces), release.
    Write {
        path: usize,
        data: Vec<u8>,
    },
    /// open with O_TRUNC, write, release (`path` is a target).
    Overwrite {
        path: usize,
        data: Vec<u8>,
    },
    /// open with O_APPEND (always refused).
    Append {
        path: usize,
    },
    /// create, write at offset 1 (refused), release.
    OutOfOrder {
        path: usize,
    },
    Mkdir {
        path: usize,
    },
    /// `mknod` of a regular file, never opened: a local file (size 0) from then on.
    Mknod {
        path: usize,
    },
    Rmdir {
        path: usize,
    },
    Unlink {
        path: usize,
    },
    /// (`path` is a target; 0 is the root.)
    Readdir {
        path: usize,
    },
    /// Reads the whole file `chunk` bytes at a time, then `chunk` bytes at `offset`
    /// (modulo the size). (`path` is a target.)
    Read {
        path: usize,
        chunk: u32,
        offset: u64,
    },
    Lookup {
        path: usize,
    },
    /// Another client puts a key.
    PutRemote {
        key: usize,
        data: Vec<u8>,
    },
    /// Another client deletes a key.
    DeleteRemote {
        key: usize,
    },
}

/// One test case: the bucket's keys, the options, the operations.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) seed: Vec<(usize, Vec<u8>)>,
    pub(crate) allow_delete: bool,
    pub(crate) allow_overwrite: bool,
    pub(crate) page_size: u32,
    /// Part size and prefetch window, in bytes (used on memory only, where they can be
    /// tiny).
    pub(crate) part_size: u64,
    pub(crate) window: u64,
    pub(crate) ops: Vec<Op>,
}

fn contents() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..12)
}

fn op() -> impl Strategy<Value = Op> {
    let path = || 0..PATHS.len();
    let target = || 0..TARGETS;
    let key = || 0..REMOTE_KEYS.len();
    prop_oneof![
        4 => (path(), contents()).prop_map(|(path, data)| Op::Write { path, data }),
        2 => (target(), contents()).prop_map(|(path, data)| Op::Overwrite { path, data }),
        1 => target().prop_map(|path| Op::Append { path }),
        1 => path().prop_map(|path| Op::OutOfOrder { path }),
        3 => path().prop_map(|path| Op::Mkdir { path }),
        2 => path().prop_map(|path| Op::Mknod { path }),
        2 => target().prop_map(|path| Op::Rmdir { path }),
        2 => target().prop_map(|path| Op::Unlink { path }),
        3 => target().prop_map(|path| Op::Readdir { path }),
        4 => (target(), 1..6u32, any::<u64>())
            .prop_map(|(path, chunk, offset)| Op::Read { path, chunk, offset }),
        2 => target().prop_map(|path| Op::Lookup { path }),
        2 => (key(), contents()).prop_map(|(key, data)| Op::PutRemote { key, data }),
        1 => key().prop_map(|key| Op::DeleteRemote { key }),
    ]
}

/// Cases of at most `max_ops` operations; seeds with NUL keys only when `nul`.
pub(crate) fn case(nul: bool, max_ops: usize) -> impl Strategy<Value = Case> {
    let seed_keys = if nul {
        SEED_KEYS.len()
    } else {
        SEED_KEYS.len() - NUL_SEED_KEYS
    };
    (
        vec((0..seed_keys, contents()), 0..8),
        any::<bool>(),
        any::<bool>(),
        1..4u32,
        1..8u64,
        0..24u64,
        vec(op(), 1..=max_ops),
    )
        .prop_map(
            |(seed, allow_delete, allow_overwrite, page_size, part_size, window, ops)| Case {
                seed,
                allow_delete,
                allow_overwrite,
                page_size,
                part_size,
                window,
                ops,
            },
        )
}
