//! Runs operation sequences: on memory against the model (whole tree compared after every
//! operation), and on the RADOS Gateway against memory (every answer compared, inode
//! numbers included, then the whole tree).

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use sos_vfs::{Error, MemoryStorage, Vfs, VfsOptions};

use super::generators::{Case, Op, REMOTE_KEYS, SEED_KEYS, case};
use super::reference::{Entry, Node, Outcome, Reference, Tree, Value, without_inos};
use crate::common::{Backend, Fixture, split, tree, write_all};

/// Looks the parent of an operation up, as the kernel walks a path: `ENOTDIR` when it is
/// a file (the kernel never asks a file system to make or remove a name in a file).
async fn parent_dir<S: Backend>(vfs: &Vfs<S>, path: &str) -> Result<sos_vfs::FileAttr, Error> {
    let attr = vfs.lookup_path(path).await?;
    if attr.kind == sos_vfs::FileKind::File {
        return Err(Error::NotDirectory {
            path: path.to_owned(),
        });
    }
    Ok(attr)
}

/// Runs one operation on a file system, as a kernel and another client would.
async fn run<S: Backend>(f: &Fixture<S>, vfs: &Vfs<S>, op: &Op, path: &str) -> Outcome {
    run_op(f, vfs, op, path).await.map_err(|e| e.errno())
}

async fn run_op<S: Backend>(
    f: &Fixture<S>,
    vfs: &Vfs<S>,
    op: &Op,
    path: &str,
) -> Result<Value, Error> {
    match op {
        Op::Write { data, .. } => {
            let (parent, name) = split(path);
            let parent = parent_dir(vfs, parent).await?;
            let (attr, fh) = vfs.create(parent.ino, name).await?;
            write_all(vfs, attr.ino, fh, data, data.len().div_ceil(2)).await?;
            vfs.flush(attr.ino, fh).await?;
            vfs.release(attr.ino, fh).await?;
            Ok(Value::Done)
        }
        Op::Overwrite { data, .. } => {
            let attr = vfs.lookup_path(path).await?;
            let fh = vfs.open(attr.ino, libc::O_WRONLY | libc::O_TRUNC).await?;
            write_all(vfs, attr.ino, fh, data, 5).await?;
            vfs.release(attr.ino, fh).await?;
            Ok(Value::Done)
        }
        Op::Append { .. } => {
            let attr = vfs.lookup_path(path).await?;
            let fh = vfs.open(attr.ino, libc::O_WRONLY | libc::O_APPEND).await?;
            vfs.release(attr.ino, fh).await?;
            Ok(Value::Done)
        }
        Op::OutOfOrder { .. } => {
            let (parent, name) = split(path);
            let parent = parent_dir(vfs, parent).await?;
            let (attr, fh) = vfs.create(parent.ino, name).await?;
            let write = vfs.write(attr.ino, fh, 1, b"x").await;
            vfs.release(attr.ino, fh)
                .await
                .expect("release after a failed write");
            write.map(|_| Value::Done)
        }
        Op::Mkdir { .. } => {
            let (parent, name) = split(path);
            let parent = parent_dir(vfs, parent).await?;
            let attr = vfs.mkdir(parent.ino, name).await?;
            Ok(Value::Attr {
                kind: attr.kind,
                size: attr.size,
                ino: Some(attr.ino),
            })
        }
        Op::Mknod { .. } => {
            let (parent, name) = split(path);
            let parent = parent_dir(vfs, parent).await?;
            #[allow(clippy::useless_conversion)] // `mode_t` is u16 on macOS
            let mode = u32::from(libc::S_IFREG) | 0o644;
            let attr = vfs.mknod(parent.ino, name, mode).await?;
            Ok(Value::Attr {
                kind: attr.kind,
                size: attr.size,
                ino: Some(attr.ino),
            })
        }
        Op::Rmdir { .. } => {
            let (parent, name) = split(path);
            let parent = parent_dir(vfs, parent).await?;
            vfs.rmdir(parent.ino, name).await?;
            Ok(Value::Done)
        }
        Op::Unlink { .. } => {
            let (parent, name) = split(path);
            let parent = parent_dir(vfs, parent).await?;
            vfs.unlink(parent.ino, name).await?;
            Ok(Value::Done)
        }
        Op::Readdir { .. } => {
            let attr = vfs.lookup_path(path).await?;
            let entries = vfs.readdir_all(attr.ino).await?;
            Ok(Value::Entries(
                entries
                    .into_iter()
                    .map(|e| Entry {
                        name: e.name,
                        kind: e.attr.kind,
                        size: e.attr.size,
                        ino: Some(e.attr.ino),
                    })
                    .collect(),
            ))
        }
        Op::Read { chunk, offset, .. } => {
            let attr = vfs.lookup_path(path).await?;
            let fh = vfs.open(attr.ino, libc::O_RDONLY).await?;
            let mut out = Vec::new();
            loop {
                let data = vfs.read(attr.ino, fh, out.len() as u64, *chunk).await?;
                if data.is_empty() {
                    break;
                }
                out.extend_from_slice(&data);
            }
            let start = *offset % (out.len() as u64 + 1);
            let tail = vfs.read(attr.ino, fh, start, *chunk).await?;
            out.extend_from_slice(&tail);
            vfs.release(attr.ino, fh).await?;
            Ok(Value::Data(out))
        }
        Op::Lookup { .. } => {
            let attr = vfs.lookup_path(path).await?;
            Ok(Value::Attr {
                kind: attr.kind,
                size: attr.size,
                ino: Some(attr.ino),
            })
        }
        Op::PutRemote { key, data } => {
            f.put(REMOTE_KEYS[*key], data).await;
            Ok(Value::Done)
        }
        Op::DeleteRemote { key } => {
            f.delete(REMOTE_KEYS[*key]).await;
            Ok(Value::Done)
        }
    }
}

fn view(tree: &Tree) -> BTreeMap<String, Option<Vec<u8>>> {
    tree.iter()
        .map(|(path, node)| {
            let data = match node {
                Node::Dir => None,
                Node::File(data) => Some(data.clone()),
            };
            (path.clone(), data)
        })
        .collect()
}

async fn seed<S: Backend>(f: &Fixture<S>, case: &Case) -> BTreeMap<String, Vec<u8>> {
    let mut keys = BTreeMap::new();
    for (index, data) in &case.seed {
        keys.insert(SEED_KEYS[*index].to_owned(), data.clone());
    }
    for (key, data) in &keys {
        f.put(key, data).await;
    }
    keys
}

fn options(case: &Case) -> VfsOptions {
    VfsOptions::default()
        .with_allow_delete(case.allow_delete)
        .with_allow_overwrite(case.allow_overwrite)
        .with_list_page_size(case.page_size)
}

/// Memory against the model, with tiny parts and prefetch windows.
async fn check_memory(case: Case) -> Result<(), TestCaseError> {
    let f = Fixture {
        storage: MemoryStorage::new().with_min_part_size(0),
        prefix: "m/".to_owned(),
    };
    let keys = seed(&f, &case).await;
    let mut model = Reference::new(keys, case.allow_delete, case.allow_overwrite);
    let vfs = f.vfs(
        options(&case)
            .with_part_size(case.part_size)
            .with_prefetch_window(case.window),
    );
    prop_assert_eq!(tree(&vfs).await, view(&model.tree()));
    for (i, op) in case.ops.iter().enumerate() {
        let path = model.path(op);
        let expected = model.expect(op, &path);
        let actual = run(&f, &vfs, op, &path).await;
        prop_assert_eq!(
            without_inos(&actual),
            expected,
            "op {} {:?} on `{}`",
            i,
            op,
            path
        );
        prop_assert_eq!(
            tree(&vfs).await,
            view(&model.tree()),
            "after op {} {:?} on `{}`",
            i,
            op,
            path
        );
    }
    let keys: BTreeMap<String, Vec<u8>> = f
        .keys()
        .await
        .into_iter()
        .map(|k| {
            let data = f.storage.object(&format!("m/{k}")).unwrap_or_default();
            (k, data.to_vec())
        })
        .collect();
    prop_assert_eq!(&keys, &model.keys);
    prop_assert!(f.pending_uploads().await.is_empty());
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

#[test]
fn memory_matches_the_model() {
    let rt = runtime();
    let mut runner = TestRunner::new(config(128));
    let result = runner.run(&case(true, 16), |case| rt.block_on(check_memory(case)));
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The RADOS Gateway against memory: every answer, the tree, the keys; both against the
/// model.
#[cfg(feature = "sos-client")]
async fn check_gateway(
    gateway: &Fixture<sos_vfs::SosStorage>,
    case: Case,
) -> Result<(), TestCaseError> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static CASES: AtomicU32 = AtomicU32::new(0);
    let n = CASES.fetch_add(1, Ordering::Relaxed);
    let gw = Fixture {
        storage: gateway.storage.clone(),
        prefix: format!("{}case-{n}/", gateway.prefix),
    };
    let mem = Fixture {
        storage: MemoryStorage::new(),
        prefix: "m/".to_owned(),
    };
    let keys = seed(&mem, &case).await;
    seed(&gw, &case).await;
    let mut model = Reference::new(keys, case.allow_delete, case.allow_overwrite);
    let (vfs_mem, vfs_gw) = (mem.vfs(options(&case)), gw.vfs(options(&case)));
    for (i, op) in case.ops.iter().enumerate() {
        let path = model.path(op);
        let expected = model.expect(op, &path);
        let on_memory = run(&mem, &vfs_mem, op, &path).await;
        let on_gateway = run(&gw, &vfs_gw, op, &path).await;
        prop_assert_eq!(&on_gateway, &on_memory, "op {} {:?} on `{}`", i, op, path);
        prop_assert_eq!(
            without_inos(&on_memory),
            expected,
            "op {} {:?} on `{}`",
            i,
            op,
            path
        );
        // Walked after every operation, as on memory: what is observed (a local
        // directory with keys below it is in the bucket from then on) is then the same.
        prop_assert_eq!(
            tree(&vfs_gw).await,
            tree(&vfs_mem).await,
            "after op {} {:?} on `{}`",
            i,
            op,
            path
        );
    }
    let tree_gw = tree(&vfs_gw).await;
    prop_assert_eq!(&tree_gw, &tree(&vfs_mem).await);
    prop_assert_eq!(tree_gw, view(&model.tree()));
    prop_assert_eq!(gw.keys().await, mem.keys().await);
    prop_assert!(gw.pending_uploads().await.is_empty());
    Ok(())
}

#[cfg(feature = "sos-client")]
#[test]
fn radosgw_matches_memory() {
    let rt = runtime();
    let Some(gateway) = rt.block_on(crate::common::gateway("reftests")) else {
        return;
    };
    let mut runner = TestRunner::new(config(24));
    let result = runner.run(&case(false, 12), |case| {
        rt.block_on(check_gateway(&gateway, case))
    });
    rt.block_on(gateway.remove_bucket());
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Shrunk failure: an aborted write below a local directory made the directory vanish
/// (the failed writer was treated as committed).
#[test]
fn regression_failed_write_keeps_its_local_parent() {
    let case = Case {
        seed: vec![],
        allow_delete: false,
        allow_overwrite: false,
        page_size: 1,
        part_size: 1,
        window: 0,
        ops: vec![Op::Mkdir { path: 1 }, Op::OutOfOrder { path: 6 }],
    };
    runtime().block_on(check_memory(case)).unwrap();
}
