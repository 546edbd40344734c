//! The rest of the API on memory: errors and their errno, unsupported operations, inode
//! numbers, directory handles and pagination, the metadata cache, prefixes, multipart
//! uploads, storage failures, fsync, and `Send + Sync`.

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use sos_vfs::{Error, FileKind, MemoryStorage, ROOT_INO, SetAttr, Storage, Vfs, VfsOptions};

use crate::common::{data, errno, name_list, read_file, write_all, write_file};
use crate::instrumented::Instrumented;

fn vfs(storage: &MemoryStorage, options: VfsOptions) -> Vfs<MemoryStorage> {
    Vfs::new(storage.clone(), options).unwrap()
}

#[test]
fn vfs_is_send_and_sync_and_its_futures_are_send() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<Vfs<MemoryStorage>>();
    let vfs = vfs(&MemoryStorage::new(), VfsOptions::default());
    send(&vfs.lookup(1, "a"));
    send(&vfs.lookup_path("a/b"));
    send(&vfs.getattr(1));
    send(&vfs.setattr(1, &SetAttr::default()));
    send(&vfs.opendir(1));
    send(&vfs.readdir_all(1));
    send(&vfs.mkdir(1, "a"));
    send(&vfs.rmdir(1, "a"));
    send(&vfs.create(1, "a"));
    send(&vfs.open(2, 0));
    send(&vfs.read(2, 1, 0, 1));
    send(&vfs.write(2, 1, 0, b"a"));
    send(&vfs.flush(2, 1));
    send(&vfs.fsync(2, 1));
    send(&vfs.release(2, 1));
    send(&vfs.unlink(1, "a"));
    send(&vfs.shutdown());
}

#[tokio::test]
async fn unsupported_operations_say_so() {
    let storage = MemoryStorage::new();
    storage.put("f", "x".into()).await.unwrap();
    let vfs = vfs(&storage, VfsOptions::default());
    let f = vfs.lookup(ROOT_INO, "f").await.unwrap();
    let not_supported = [
        vfs.rename(ROOT_INO, "f", ROOT_INO, "g"),
        vfs.link(f.ino, ROOT_INO, "g").map(|_| ()),
        vfs.symlink(ROOT_INO, "l", "f").map(|_| ()),
        vfs.readlink(f.ino).map(|_| ()),
        vfs.mknod(ROOT_INO, "fifo", 0o644).map(|_| ()),
        vfs.lock(f.ino, 1),
        vfs.xattr(f.ino),
        vfs.fallocate(f.ino, 1),
    ];
    for result in not_supported {
        let e = result.unwrap_err();
        assert_eq!(e.errno(), libc::ENOTSUP, "{e}");
        assert_eq!(libc::ENOTSUP, libc::EOPNOTSUPP);
        assert!(e.to_string().contains("not supported"), "{e}");
    }
    // chmod and chown: EPERM, unless nothing changes.
    let chmod = SetAttr::default().with_mode(0o600);
    assert_eq!(errno(&vfs.setattr(f.ino, &chmod).await), libc::EPERM);
    let chown = SetAttr::default().with_uid(42);
    assert_eq!(errno(&vfs.setattr(f.ino, &chown).await), libc::EPERM);
    let chgrp = SetAttr::default().with_gid(42);
    assert_eq!(errno(&vfs.setattr(ROOT_INO, &chgrp).await), libc::EPERM);
    let same = SetAttr::default().with_mode(0o100_644).with_uid(0);
    assert_eq!(vfs.setattr(f.ino, &same).await.unwrap().size, 1);
    let truncate_dir = SetAttr::default().with_size(0);
    assert_eq!(
        errno(&vfs.setattr(ROOT_INO, &truncate_dir).await),
        libc::EISDIR
    );
    // Times of local directories may be set (cp -r, tar).
    let d = vfs.mkdir(ROOT_INO, "d").await.unwrap();
    let touch = SetAttr::default().with_mtime(SystemTime::now());
    vfs.setattr(d.ino, &touch).await.unwrap();
}

#[tokio::test]
async fn errors_have_their_errno() {
    let storage = MemoryStorage::new();
    storage.put("dir/file", "x".into()).await.unwrap();
    let vfs = vfs(&storage, VfsOptions::default());
    let dir = vfs.lookup(ROOT_INO, "dir").await.unwrap();
    let file = vfs.lookup(dir.ino, "file").await.unwrap();
    assert_eq!(errno(&vfs.lookup(ROOT_INO, "nope").await), libc::ENOENT);
    assert_eq!(errno(&vfs.lookup(file.ino, "x").await), libc::ENOTDIR);
    assert_eq!(errno(&vfs.lookup_path("dir/file/x").await), libc::ENOTDIR);
    assert_eq!(errno(&vfs.opendir(file.ino).await), libc::ENOTDIR);
    assert_eq!(
        errno(&vfs.open(dir.ino, libc::O_RDONLY).await),
        libc::EISDIR
    );
    assert_eq!(errno(&vfs.getattr(9999).await), libc::ENOENT);
    assert_eq!(errno(&vfs.getattr(0).await), libc::ENOENT);
    assert_eq!(errno(&vfs.read(file.ino, 77, 0, 1).await), libc::EBADF);
    assert_eq!(errno(&vfs.write(file.ino, 77, 0, b"x").await), libc::EBADF);
    assert_eq!(errno(&vfs.release(file.ino, 77).await), libc::EBADF);
    assert_eq!(errno(&vfs.readdir(ROOT_INO, 77, 0)), libc::EBADF);
    assert_eq!(errno(&vfs.releasedir(ROOT_INO, 77)), libc::EBADF);
    assert_eq!(errno(&vfs.mkdir(ROOT_INO, "dir").await), libc::EEXIST);
    assert_eq!(errno(&vfs.mkdir(file.ino, "x").await), libc::ENOTDIR);
    assert_eq!(errno(&vfs.create(dir.ino, "file").await), libc::EEXIST);
    assert_eq!(errno(&vfs.create(ROOT_INO, "dir").await), libc::EEXIST);
    assert_eq!(errno(&vfs.create(ROOT_INO, "a/b").await), libc::EINVAL);
    assert_eq!(errno(&vfs.rmdir(dir.ino, "file").await), libc::ENOTDIR);
    let long = "x".repeat(1025);
    assert_eq!(
        errno(&vfs.create(ROOT_INO, &long).await),
        libc::ENAMETOOLONG
    );
    assert_eq!(errno(&vfs.lookup(ROOT_INO, &long).await), libc::ENOENT);
    // A read handle is not a write handle and the other way round.
    let reader = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    assert_eq!(
        errno(&vfs.write(file.ino, reader, 0, b"x").await),
        libc::EBADF
    );
    assert_eq!(errno(&vfs.read(dir.ino, reader, 0, 1).await), libc::EBADF);
    vfs.release(file.ino, reader).await.unwrap();
    let bad = Vfs::new(storage.clone(), VfsOptions::default().with_prefix("p"));
    assert_eq!(bad.unwrap_err().errno(), libc::EINVAL);
}

#[tokio::test]
async fn inode_numbers_are_stable() {
    let storage = MemoryStorage::new();
    for key in ["a/x", "a/y", "b"] {
        storage.put(key, "1".into()).await.unwrap();
    }
    let vfs = vfs(&storage, VfsOptions::default().with_allow_delete(true));
    let listed = vfs.readdir_all(ROOT_INO).await.unwrap();
    assert_eq!(listed[0].attr.ino, ROOT_INO);
    assert_eq!(listed[1].attr.ino, ROOT_INO, "the root's parent is itself");
    let a = vfs.lookup(ROOT_INO, "a").await.unwrap();
    assert_eq!(a.ino, listed[2].attr.ino);
    let a_entries = vfs.readdir_all(a.ino).await.unwrap();
    assert_eq!(a_entries[0].attr.ino, a.ino);
    assert_eq!(a_entries[1].attr.ino, ROOT_INO);
    let x = vfs.lookup_path("a/x").await.unwrap();
    assert_eq!(x.ino, a_entries[2].attr.ino);
    assert_eq!(vfs.getattr(x.ino).await.unwrap(), x);
    // Gone and back: the same number for the same path and kind.
    vfs.unlink(a.ino, "x").await.unwrap();
    assert_eq!(errno(&vfs.getattr(x.ino).await), libc::ENOENT);
    write_file(&vfs, "a/x", b"again", 2).await.unwrap();
    assert_eq!(vfs.lookup_path("a/x").await.unwrap().ino, x.ino);
    // A file that becomes a directory gets a new number; the file's goes stale.
    let b = vfs.lookup(ROOT_INO, "b").await.unwrap();
    storage.put("b/inner", "2".into()).await.unwrap();
    let b_dir = vfs.lookup(ROOT_INO, "b").await.unwrap();
    assert_eq!(b_dir.kind, FileKind::Directory);
    assert_ne!(b_dir.ino, b.ino);
    assert_eq!(errno(&vfs.getattr(b.ino).await), libc::ENOENT);
    assert_eq!(errno(&vfs.open(b.ino, libc::O_RDONLY).await), libc::ENOENT);
}

#[tokio::test]
async fn readdir_paginates_and_keeps_its_snapshot() {
    let storage = MemoryStorage::new();
    for i in 0..25 {
        storage
            .put(&format!("p/f{i:02}"), vec![0; i].into())
            .await
            .unwrap();
        storage
            .put(&format!("p/d{i:02}/x"), "x".into())
            .await
            .unwrap();
    }
    let vfs = vfs(
        &storage,
        VfsOptions::default()
            .with_prefix("p/")
            .with_list_page_size(4),
    );
    let fh = vfs.opendir(ROOT_INO).await.unwrap();
    // The kernel asks again and again from the last offset it got.
    let mut all = Vec::new();
    let mut offset = 0;
    loop {
        let batch: Vec<_> = vfs
            .readdir(ROOT_INO, fh, offset)
            .unwrap()
            .into_iter()
            .take(7)
            .collect();
        let Some(last) = batch.last() else { break };
        offset = last.offset;
        all.extend(batch);
        // Changes after opendir do not move the offsets.
        storage.put("p/0-new", "n".into()).await.unwrap();
    }
    vfs.releasedir(ROOT_INO, fh).unwrap();
    assert_eq!(all.len(), 52);
    let names: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names[..4], [".", "..", "d00", "d01"]);
    assert_eq!(names[27..29], ["f00", "f01"]);
    assert!(all.windows(2).all(|w| w[0].offset + 1 == w[1].offset));
    assert_eq!(all[30].attr.size, 3);
    assert_eq!(all[30].attr.kind, FileKind::File);
    assert_eq!(all[2].attr.kind, FileKind::Directory);
    // A new opendir sees the new key.
    assert_eq!(name_list(&vfs, "").await[0], "0-new");
    assert!(vfs.readdir(ROOT_INO, fh, 0).is_err(), "released");
}

#[tokio::test]
async fn the_metadata_cache_serves_lookups_within_its_ttl() {
    let storage = Instrumented::new(MemoryStorage::new());
    storage.put("f", "1".into()).await.unwrap();
    storage.put("d/x", "1".into()).await.unwrap();

    let fresh = Vfs::new(storage.clone(), VfsOptions::default()).unwrap();
    fresh.lookup(ROOT_INO, "f").await.unwrap();
    fresh.lookup(ROOT_INO, "f").await.unwrap();
    assert_eq!(storage.requests(), (2, 2), "no cache: every lookup asks");

    let cached = Vfs::new(
        storage.clone(),
        VfsOptions::default()
            .with_metadata_ttl(Duration::from_secs(3600))
            .with_allow_delete(true),
    )
    .unwrap();
    let before = storage.requests();
    let f = cached.lookup(ROOT_INO, "f").await.unwrap();
    cached.lookup(ROOT_INO, "f").await.unwrap();
    cached.getattr(f.ino).await.unwrap();
    let after = storage.requests();
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1));
    // Stale until the TTL ends, as documented...
    storage.delete("f").await.unwrap();
    assert!(cached.lookup(ROOT_INO, "f").await.is_ok());
    assert_eq!(errno(&fresh.lookup(ROOT_INO, "f").await), libc::ENOENT);
    // ...but open always asks.
    assert_eq!(
        errno(&cached.open(f.ino, libc::O_RDONLY).await),
        libc::ENOENT
    );
    // A listing fills the cache.
    cached.readdir_all(ROOT_INO).await.unwrap();
    let before = storage.requests();
    cached.lookup(ROOT_INO, "d").await.unwrap();
    assert_eq!(storage.requests(), before);
    // Changes made through the file system empty it.
    let d = cached.lookup(ROOT_INO, "d").await.unwrap();
    cached.unlink(d.ino, "x").await.unwrap();
    assert_eq!(errno(&cached.lookup(ROOT_INO, "d").await), libc::ENOENT);
}

#[tokio::test]
async fn a_prefix_is_the_root() {
    let storage = MemoryStorage::new();
    for key in ["other", "mnt", "mnt/a/b", "mnt/c", "mntx/d"] {
        storage.put(key, "1".into()).await.unwrap();
    }
    let vfs = vfs(&storage, VfsOptions::default().with_prefix("mnt/"));
    assert_eq!(name_list(&vfs, "").await, ["a", "c"]);
    write_file(&vfs, "a/new", b"n", 1).await.unwrap();
    assert!(storage.object("mnt/a/new").is_some());
}

#[tokio::test]
async fn multipart_uploads_stream_parts() {
    let storage = MemoryStorage::new().with_min_part_size(0);
    let vfs = vfs(&storage, VfsOptions::default().with_part_size(4));
    let (file, fh) = vfs.create(ROOT_INO, "f").await.unwrap();
    vfs.write(file.ino, fh, 0, b"abc").await.unwrap();
    assert!(storage.pending_uploads().is_empty(), "no part yet");
    vfs.write(file.ino, fh, 3, b"defghij").await.unwrap();
    assert_eq!(storage.pending_uploads(), ["f"]);
    vfs.release(file.ino, fh).await.unwrap();
    assert_eq!(storage.object("f").unwrap(), "abcdefghij");
    let etag = storage.head("f").await.unwrap().unwrap().etag.unwrap();
    assert!(etag.ends_with("-3"), "three parts: {etag}");
    // Exactly a multiple of the part size, and empty files.
    write_file(&vfs, "g", b"12345678", 3).await.unwrap();
    assert_eq!(storage.object("g").unwrap(), "12345678");
    write_file(&vfs, "empty", b"", 1).await.unwrap();
    assert_eq!(storage.object("empty").unwrap(), "");
    assert_eq!(vfs.lookup(ROOT_INO, "empty").await.unwrap().size, 0);
    // Too large for 10 000 parts.
    let (file, fh) = vfs.create(ROOT_INO, "huge").await.unwrap();
    let e = vfs
        .write(file.ino, fh, 0, &vec![0; 40_001])
        .await
        .unwrap_err();
    assert_eq!(e.errno(), libc::EFBIG);
    vfs.release(file.ino, fh).await.unwrap();
    assert!(storage.pending_uploads().is_empty());
}

#[tokio::test]
async fn storage_failures_abort_the_upload() {
    let storage = Instrumented::new(MemoryStorage::new().with_min_part_size(0));
    let vfs = Vfs::new(storage.clone(), VfsOptions::default().with_part_size(4)).unwrap();

    storage.record.fail_complete.store(true, Ordering::SeqCst);
    let result = write_file(&vfs, "a", &data(10, 1), 3).await;
    assert_eq!(errno(&result), libc::EIO);
    assert!(result.unwrap_err().to_string().contains("injected"));
    storage.record.fail_complete.store(false, Ordering::SeqCst);

    storage.record.fail_part.store(true, Ordering::SeqCst);
    let (file, fh) = vfs.create(ROOT_INO, "b").await.unwrap();
    assert_eq!(
        errno(&vfs.write(file.ino, fh, 0, b"12345").await),
        libc::EIO
    );
    assert_eq!(errno(&vfs.flush(file.ino, fh).await), libc::EIO);
    vfs.release(file.ino, fh).await.unwrap();
    storage.record.fail_part.store(false, Ordering::SeqCst);

    storage.record.fail_put.store(true, Ordering::SeqCst);
    assert_eq!(errno(&write_file(&vfs, "c", b"12", 3).await), libc::EIO);
    storage.record.fail_put.store(false, Ordering::SeqCst);

    assert!(storage.inner.keys().is_empty());
    assert!(storage.inner.pending_uploads().is_empty());
    // Each name is free again.
    for name in ["a", "b", "c"] {
        write_file(&vfs, name, b"ok", 1).await.unwrap();
    }
    assert_eq!(storage.inner.keys(), ["a", "b", "c"]);
}

#[tokio::test]
async fn fsync_completes_the_upload_early() {
    let storage = MemoryStorage::new();
    let vfs = vfs(&storage, VfsOptions::default());
    let d = vfs.mkdir(ROOT_INO, "d").await.unwrap();
    let (file, fh) = vfs.create(d.ino, "f").await.unwrap();
    write_all(&vfs, file.ino, fh, b"durable", 3).await.unwrap();
    vfs.fsync(file.ino, fh).await.unwrap();
    assert_eq!(storage.object("d/f").unwrap(), "durable");
    assert_eq!(vfs.lookup(d.ino, "f").await.unwrap().size, 7);
    let e = vfs.write(file.ino, fh, 7, b"more").await.unwrap_err();
    assert_eq!(e.errno(), libc::EPERM);
    vfs.release(file.ino, fh).await.unwrap();
    assert_eq!(read_file(&vfs, "d/f", 2).await.unwrap(), b"durable");
    // `d` is in the bucket now, not local.
    assert_eq!(errno(&vfs.rmdir(ROOT_INO, "d").await), libc::ENOTEMPTY);
}

#[tokio::test]
async fn statfs_is_large_and_fixed() {
    let vfs = vfs(&MemoryStorage::new(), VfsOptions::default());
    let s = vfs.statfs(ROOT_INO);
    assert!(s.blocks > 1 << 50 && s.blocks_free == s.blocks && s.files_free > 1 << 50);
    assert_eq!((s.block_size, s.max_name_length), (4096, 255));
}

#[tokio::test]
async fn attributes_come_from_options_and_objects() {
    let storage = MemoryStorage::new();
    storage.put("d/f", "12345".into()).await.unwrap();
    let options = VfsOptions::default()
        .with_uid(1000)
        .with_gid(100)
        .with_file_mode(0o640)
        .with_dir_mode(0o750);
    let vfs = vfs(&storage, options);
    let d = vfs.lookup(ROOT_INO, "d").await.unwrap();
    let f = vfs.lookup(d.ino, "f").await.unwrap();
    assert_eq!(
        (f.uid, f.gid, f.perm, f.nlink, f.size, f.blocks()),
        (1000, 100, 0o640, 1, 5, 1)
    );
    assert_eq!((d.perm, d.nlink, d.kind), (0o750, 2, FileKind::Directory));
    assert_eq!(d.mode(), libc::S_IFDIR | 0o750);
    // mtime is the object's Last-Modified.
    let age = SystemTime::now().duration_since(f.mtime).unwrap();
    assert!(age < Duration::from_secs(60));
    let _: &Error = &Error::NotSupported { operation: "x" };
}
