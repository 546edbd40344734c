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
    send(&vfs.mknod(1, "a", libc::S_IFREG));
    send(&vfs.open(2, 0));
    send(&vfs.read(2, 1, 0, 1));
    send(&vfs.write(2, 1, 0, b"a"));
    send(&vfs.flush(2, 1));
    send(&vfs.flush_from_other_process(2, 1));
    send(&vfs.rewinddir(1, 1));
    send(&vfs.rename(1, "a", 1, "b", 0));
    send(&vfs.fsync(2, 1));
    send(&vfs.release(2, 1));
    send(&vfs.unlink(1, "a"));
    send(&vfs.shutdown());
}

/// What Mountpoint answers for what S3 cannot do: `ENOSYS` for what it does not implement,
/// `EPERM` for links and for any change of a stored file's attributes.
#[tokio::test]
async fn unsupported_operations_say_so() {
    let storage = MemoryStorage::new();
    storage.put("f", "x".into()).await.unwrap();
    storage.put("d/x", "x".into()).await.unwrap();
    let vfs = vfs(&storage, VfsOptions::default());
    let f = vfs.lookup(ROOT_INO, "f").await.unwrap();
    let not_implemented = [
        vfs.readlink(f.ino).map(|_| ()),
        vfs.lock(f.ino, 1),
        vfs.xattr(f.ino),
        vfs.fallocate(f.ino, 1),
    ];
    for result in not_implemented {
        let e = result.unwrap_err();
        assert_eq!(e.errno(), libc::ENOSYS, "{e}");
        assert!(e.to_string().contains("not supported"), "{e}");
    }
    assert_eq!(errno(&vfs.link(f.ino, ROOT_INO, "g")), libc::EPERM);
    assert_eq!(errno(&vfs.symlink(ROOT_INO, "l", "f")), libc::EPERM);
    // mknod makes regular files only.
    #[allow(clippy::useless_conversion)] // `mode_t` is u16 on macOS
    for kind in [
        libc::S_IFIFO,
        libc::S_IFCHR,
        libc::S_IFSOCK,
        libc::S_IFDIR,
        0,
    ] {
        let e = vfs.mknod(ROOT_INO, "node", u32::from(kind) | 0o644).await;
        assert_eq!(errno(&e), libc::EINVAL, "{kind:o}");
    }
    // Any setattr of what is in the bucket: EPERM, even one that would change nothing.
    let d = vfs.lookup(ROOT_INO, "d").await.unwrap();
    for ino in [f.ino, d.ino, ROOT_INO] {
        for changes in [
            SetAttr::default().with_mode(0o600),
            SetAttr::default().with_mode(0o644),
            SetAttr::default().with_uid(42),
            SetAttr::default().with_uid(0).with_gid(0),
            SetAttr::default().with_size(1),
            SetAttr::default().with_mtime(SystemTime::now()),
            SetAttr::default(),
        ] {
            let e = vfs.setattr(ino, &changes).await;
            assert_eq!(errno(&e), libc::EPERM, "{ino} {changes:?}");
        }
    }
    // A truncation asks for allow_overwrite.
    let e = vfs
        .setattr(f.ino, &SetAttr::default().with_size(0))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("allow_overwrite"), "{e}");
    // Local directories take times (cp -r, tar), and show them; modes and owners are
    // accepted and left as they are.
    let local = vfs.mkdir(ROOT_INO, "local").await.unwrap();
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let changes = SetAttr::default()
        .with_mtime(when)
        .with_atime(when + Duration::from_secs(1))
        .with_mode(0o700)
        .with_uid(7);
    let attr = vfs.setattr(local.ino, &changes).await.unwrap();
    assert_eq!(
        (attr.mtime, attr.atime),
        (when, when + Duration::from_secs(1))
    );
    assert_eq!((attr.perm, attr.uid), (0o755, 0));
    assert_eq!(vfs.getattr(local.ino).await.unwrap().mtime, when);
    let listed = vfs.readdir_all(ROOT_INO).await.unwrap();
    let entry = listed.iter().find(|e| e.name == "local").unwrap();
    assert_eq!(entry.attr.mtime, when);
}

/// Rename, as Mountpoint on a bucket without `RenameObject`: its checks first, then
/// `ENOSYS`, and `ENOSYS` at once for every rename after.
#[tokio::test]
async fn rename_is_not_supported_after_mountpoints_checks() {
    let storage = MemoryStorage::new();
    for key in ["f", "g", "d/x"] {
        storage.put(key, "x".into()).await.unwrap();
    }
    let vfs = vfs(&storage, VfsOptions::default());
    let exchange = libc::RENAME_EXCHANGE;
    assert_eq!(
        errno(&vfs.rename(ROOT_INO, "f", ROOT_INO, "h", exchange).await),
        libc::EINVAL
    );
    let whiteout = libc::RENAME_WHITEOUT;
    assert_eq!(
        errno(&vfs.rename(ROOT_INO, "f", ROOT_INO, "h", whiteout).await),
        libc::EINVAL
    );
    let rename = |from: &'static str, to: &'static str| vfs.rename(ROOT_INO, from, ROOT_INO, to, 0);
    assert_eq!(errno(&rename("missing", "h").await), libc::ENOENT);
    assert_eq!(errno(&rename("d", "e").await), libc::EPERM, "a directory");
    assert_eq!(errno(&rename("f", "g").await), libc::EEXIST, "no overwrite");
    let (new, fh) = vfs.create(ROOT_INO, "new").await.unwrap();
    assert_eq!(
        errno(&rename("new", "h").await),
        libc::EPERM,
        "being written"
    );
    vfs.release(new.ino, fh).await.unwrap();
    // The first rename that reaches the bucket learns that it cannot rename.
    let e = rename("f", "h").await.unwrap_err();
    assert_eq!(e.errno(), libc::ENOSYS, "{e}");
    assert_eq!(errno(&rename("missing", "h").await), libc::ENOSYS);
    assert_eq!(storage.keys(), ["d/x", "f", "g", "new"], "nothing moved");
    // With allow_overwrite, an existing destination is not EEXIST (unless NOREPLACE).
    let vfs = Vfs::new(
        storage.clone(),
        VfsOptions::default().with_allow_overwrite(true),
    )
    .unwrap();
    let noreplace = libc::RENAME_NOREPLACE;
    assert_eq!(
        errno(&vfs.rename(ROOT_INO, "f", ROOT_INO, "g", noreplace).await),
        libc::EEXIST
    );
    assert_eq!(
        errno(&vfs.rename(ROOT_INO, "f", ROOT_INO, "g", 0).await),
        libc::ENOSYS
    );
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
    // An unknown directory handle is EINVAL, as Mountpoint.
    assert_eq!(errno(&vfs.readdir(ROOT_INO, 77, 0)), libc::EINVAL);
    assert_eq!(errno(&vfs.releasedir(ROOT_INO, 77)), libc::EINVAL);
    assert_eq!(errno(&vfs.mkdir(ROOT_INO, "dir").await), libc::EEXIST);
    assert_eq!(errno(&vfs.mkdir(file.ino, "x").await), libc::ENOTDIR);
    assert_eq!(errno(&vfs.create(dir.ino, "file").await), libc::EEXIST);
    assert_eq!(errno(&vfs.create(ROOT_INO, "dir").await), libc::EEXIST);
    assert_eq!(errno(&vfs.create(ROOT_INO, "a/b").await), libc::EINVAL);
    // Names no file can have: EINVAL (Mountpoint's InvalidFileName), for lookups too.
    for name in ["", ".", "..", "a/b", "n\0"] {
        assert_eq!(
            errno(&vfs.lookup(ROOT_INO, name).await),
            libc::EINVAL,
            "{name:?}"
        );
        assert_eq!(
            errno(&vfs.rmdir(ROOT_INO, name).await),
            libc::EINVAL,
            "{name:?}"
        );
    }
    assert_eq!(errno(&vfs.rmdir(dir.ino, "file").await), libc::ENOTDIR);
    let long = "x".repeat(1025);
    assert_eq!(
        errno(&vfs.create(ROOT_INO, &long).await),
        libc::ENAMETOOLONG
    );
    assert_eq!(errno(&vfs.lookup(ROOT_INO, &long).await), libc::ENOENT);
    // Names longer than 255 bytes are fine (Mountpoint checks no name length; S3 keys go
    // to 1024 bytes).
    let name = "n".repeat(300);
    write_file(&vfs, &name, b"long", 4).await.unwrap();
    assert_eq!(vfs.lookup(ROOT_INO, &name).await.unwrap().size, 4);
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
    // Stale: the path is of the other kind now (Mountpoint's StaleInode).
    assert_eq!(errno(&vfs.getattr(b.ino).await), libc::ESTALE);
    assert_eq!(errno(&vfs.open(b.ino, libc::O_RDONLY).await), libc::ESTALE);
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

/// `rewinddir` (offset 0 again after entries were given) lists the directory afresh, as
/// Mountpoint; before any entry was given, it keeps the listing.
#[tokio::test]
async fn rewinddir_lists_again() {
    let storage = Instrumented::new(MemoryStorage::new());
    storage.put("a", "1".into()).await.unwrap();
    let vfs = Vfs::new(storage.clone(), VfsOptions::default()).unwrap();
    let fh = vfs.opendir(ROOT_INO).await.unwrap();
    storage.put("b", "2".into()).await.unwrap();
    let before = storage.requests();
    vfs.rewinddir(ROOT_INO, fh).await.unwrap();
    assert_eq!(
        storage.requests(),
        before,
        "nothing served yet: no new listing"
    );
    let names = |entries: Vec<sos_vfs::DirEntry>| -> Vec<String> {
        entries.into_iter().map(|e| e.name).collect()
    };
    assert_eq!(
        names(vfs.readdir(ROOT_INO, fh, 0).unwrap()),
        [".", "..", "a"]
    );
    storage.put("c", "3".into()).await.unwrap();
    vfs.rewinddir(ROOT_INO, fh).await.unwrap();
    assert_eq!(
        names(vfs.readdir(ROOT_INO, fh, 0).unwrap()),
        [".", "..", "a", "b", "c"]
    );
    vfs.releasedir(ROOT_INO, fh).unwrap();
    assert_eq!(errno(&vfs.rewinddir(ROOT_INO, fh).await), libc::EINVAL);
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

    // Names found missing are remembered too (Mountpoint's negative cache) until a
    // listing finds them or the file system makes them.
    assert_eq!(errno(&cached.lookup(ROOT_INO, "late").await), libc::ENOENT);
    storage.put("late", "1".into()).await.unwrap();
    assert_eq!(errno(&cached.lookup(ROOT_INO, "late").await), libc::ENOENT);
    assert_eq!(errno(&fresh.lookup(ROOT_INO, "late").await), 0);
    cached.readdir_all(ROOT_INO).await.unwrap();
    assert_eq!(errno(&cached.lookup(ROOT_INO, "late").await), 0);
    assert_eq!(errno(&cached.lookup(ROOT_INO, "mine").await), libc::ENOENT);
    let (mine, fh) = cached.create(ROOT_INO, "mine").await.unwrap();
    assert_eq!(cached.lookup(ROOT_INO, "mine").await.unwrap().ino, mine.ino);
    cached.release(mine.ino, fh).await.unwrap();
    // And expire with the TTL.
    let short = Vfs::new(
        storage.clone(),
        VfsOptions::default().with_metadata_ttl(Duration::from_millis(50)),
    )
    .unwrap();
    assert_eq!(errno(&short.lookup(ROOT_INO, "later").await), libc::ENOENT);
    storage.put("later", "1".into()).await.unwrap();
    assert_eq!(errno(&short.lookup(ROOT_INO, "later").await), libc::ENOENT);
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(errno(&short.lookup(ROOT_INO, "later").await), 0);
    // A negative TTL of its own (--negative-metadata-ttl): zero remembers nothing.
    let no_negative = Vfs::new(
        storage.clone(),
        VfsOptions::default()
            .with_metadata_ttl(Duration::from_secs(3600))
            .with_negative_metadata_ttl(Duration::ZERO),
    )
    .unwrap();
    assert_eq!(
        errno(&no_negative.lookup(ROOT_INO, "latest").await),
        libc::ENOENT
    );
    storage.put("latest", "1".into()).await.unwrap();
    assert_eq!(errno(&no_negative.lookup(ROOT_INO, "latest").await), 0);
    // Without a metadata TTL, a negative one changes nothing (as Mountpoint).
    let negative_only = Vfs::new(
        storage.clone(),
        VfsOptions::default().with_negative_metadata_ttl(Duration::from_secs(3600)),
    )
    .unwrap();
    assert_eq!(
        errno(&negative_only.lookup(ROOT_INO, "last").await),
        libc::ENOENT
    );
    storage.put("last", "1".into()).await.unwrap();
    assert_eq!(errno(&negative_only.lookup(ROOT_INO, "last").await), 0);
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
    // As Mountpoint: later writes say EFBIG again, fsync says ENOSPC, the file is gone.
    assert_eq!(errno(&vfs.write(file.ino, fh, 0, b"x").await), libc::EFBIG);
    assert_eq!(errno(&vfs.fsync(file.ino, fh).await), libc::ENOSPC);
    assert_eq!(errno(&vfs.lookup(ROOT_INO, "huge").await), libc::ENOENT);
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
    // Later writes: EIO, as Mountpoint ("upload already completed").
    let e = vfs.write(file.ino, fh, 7, b"more").await.unwrap_err();
    assert_eq!(e.errno(), libc::EIO, "{e}");
    vfs.fsync(file.ino, fh).await.unwrap();
    vfs.flush(file.ino, fh).await.unwrap();
    vfs.release(file.ino, fh).await.unwrap();
    assert_eq!(read_file(&vfs, "d/f", 2).await.unwrap(), b"durable");
    // `d` is in the bucket now, not local: it cannot be removed.
    assert_eq!(errno(&vfs.rmdir(ROOT_INO, "d").await), libc::EPERM);
}

/// An `open` that takes a file over from an inactive writer (closed by another process)
/// completes that writer's upload first; should it fail, the `open` fails with its error,
/// as Mountpoint's, for readers and writers alike, and the file is gone.
#[tokio::test]
async fn an_open_reports_the_failed_upload_it_completes() {
    let storage = Instrumented::new(MemoryStorage::new());
    let options = VfsOptions::default().with_allow_overwrite(true);
    let vfs = Vfs::new(storage.clone(), options).unwrap();
    for flags in [libc::O_RDONLY, libc::O_WRONLY | libc::O_TRUNC] {
        let (file, fh) = vfs.create(ROOT_INO, "p").await.unwrap();
        vfs.write(file.ino, fh, 0, b"x").await.unwrap();
        vfs.flush_from_other_process(file.ino, fh).await.unwrap();
        storage.record.fail_put.store(true, Ordering::SeqCst);
        let e = vfs.open(file.ino, flags).await.unwrap_err();
        storage.record.fail_put.store(false, Ordering::SeqCst);
        assert_eq!(e.errno(), libc::EIO, "{flags:o}: {e}");
        assert!(e.to_string().contains("injected"), "{e}");
        assert_eq!(errno(&vfs.lookup(ROOT_INO, "p").await), libc::ENOENT);
        // The writer taken over says so; its failure was reported to the `open`.
        assert_eq!(errno(&vfs.write(file.ino, fh, 1, b"y").await), libc::EIO);
        vfs.release(file.ino, fh).await.unwrap();
        assert!(storage.inner.keys().is_empty());
    }
}

/// `flush` (close) by the opener completes an upload with bytes written; with nothing
/// written, or from another process, it waits (Mountpoint's rules for `touch`, `dd`,
/// shells and forks); a newer `open` then completes it and takes the file over.
#[tokio::test]
async fn flush_completes_uploads_as_mountpoint() {
    let storage = MemoryStorage::new();
    let vfs = vfs(&storage, VfsOptions::default().with_allow_overwrite(true));
    // Bytes written, closed by the opener: uploaded at the close.
    let (a, fh) = vfs.create(ROOT_INO, "a").await.unwrap();
    vfs.write(a.ino, fh, 0, b"abc").await.unwrap();
    vfs.flush(a.ino, fh).await.unwrap();
    assert_eq!(storage.object("a").unwrap(), "abc");
    // The descriptor closed: a duplicate cannot write any more (EBADF, as Mountpoint),
    // and the error says why (no newer handle took the file over).
    let e = vfs.write(a.ino, fh, 3, b"d").await.unwrap_err();
    assert!(matches!(e, Error::HandleClosed { .. }), "{e:?}");
    assert_eq!(e.errno(), libc::EBADF);
    assert!(
        e.to_string()
            .contains("was closed and its upload completed"),
        "{e}"
    );
    vfs.release(a.ino, fh).await.unwrap();

    // Nothing written yet (touch, dd): the close waits; writing goes on through a
    // duplicate descriptor; release uploads.
    let (b, fh) = vfs.create(ROOT_INO, "b").await.unwrap();
    vfs.flush(b.ino, fh).await.unwrap();
    assert!(storage.object("b").is_none());
    vfs.write(b.ino, fh, 0, b"dup").await.unwrap();
    vfs.flush_from_other_process(b.ino, fh).await.unwrap();
    assert!(
        storage.object("b").is_none(),
        "another process' close uploads nothing"
    );
    vfs.write(b.ino, fh, 3, b"!").await.unwrap();
    vfs.release(b.ino, fh).await.unwrap();
    assert_eq!(storage.object("b").unwrap(), "dup!");

    // An empty file closed and not released yet: a new open completes it first, and the
    // old handle is taken over.
    let (c, old) = vfs.create(ROOT_INO, "c").await.unwrap();
    vfs.flush(c.ino, old).await.unwrap();
    let reader = vfs.open(c.ino, libc::O_RDONLY).await.unwrap();
    assert_eq!(storage.object("c").unwrap(), "");
    assert_eq!(vfs.read(c.ino, reader, 0, 10).await.unwrap(), "");
    let e = vfs.write(c.ino, old, 0, b"x").await.unwrap_err();
    assert!(matches!(e, Error::Invalidated { .. }), "{e:?}");
    vfs.release(c.ino, old).await.unwrap();
    vfs.release(c.ino, reader).await.unwrap();

    // A writer still active (not closed) keeps others out: EPERM.
    let (d, fh) = vfs.create(ROOT_INO, "d").await.unwrap();
    vfs.write(d.ino, fh, 0, b"x").await.unwrap();
    assert_eq!(errno(&vfs.open(d.ino, libc::O_RDONLY).await), libc::EPERM);
    assert_eq!(
        errno(&vfs.open(d.ino, libc::O_WRONLY | libc::O_TRUNC).await),
        libc::EPERM
    );
    // Closed by another process: inactive, so a new writer takes over after completing it.
    vfs.flush_from_other_process(d.ino, fh).await.unwrap();
    let again = vfs
        .open(d.ino, libc::O_WRONLY | libc::O_TRUNC)
        .await
        .unwrap();
    assert_eq!(storage.object("d").unwrap(), "x");
    assert_eq!(errno(&vfs.write(d.ino, fh, 1, b"y").await), libc::EBADF);
    vfs.write(d.ino, again, 0, b"new").await.unwrap();
    vfs.release(d.ino, fh).await.unwrap();
    vfs.release(d.ino, again).await.unwrap();
    assert_eq!(storage.object("d").unwrap(), "new");

    // Readers: an active one keeps writers out; a closed one is taken over.
    let reader = vfs.open(d.ino, libc::O_RDONLY).await.unwrap();
    assert_eq!(
        errno(&vfs.open(d.ino, libc::O_WRONLY | libc::O_TRUNC).await),
        libc::EPERM
    );
    vfs.flush(d.ino, reader).await.unwrap();
    // A read through a duplicate makes it active again.
    assert_eq!(vfs.read(d.ino, reader, 0, 3).await.unwrap(), "new");
    assert_eq!(
        errno(&vfs.open(d.ino, libc::O_WRONLY | libc::O_TRUNC).await),
        libc::EPERM
    );
    vfs.flush(d.ino, reader).await.unwrap();
    let writer = vfs
        .open(d.ino, libc::O_WRONLY | libc::O_TRUNC)
        .await
        .unwrap();
    assert_eq!(errno(&vfs.read(d.ino, reader, 0, 3).await), libc::EBADF);
    vfs.release(d.ino, writer).await.unwrap();
    vfs.release(d.ino, reader).await.unwrap();
    assert_eq!(storage.object("d").unwrap(), "");
}

/// Open flags as Mountpoint reads them: `O_SYNC`/`O_DSYNC` refused, `O_RDWR` reads unless
/// the file is new or truncated with `allow_overwrite`.
#[tokio::test]
async fn open_flags_as_mountpoint() {
    let storage = MemoryStorage::new();
    storage.put("f", "data".into()).await.unwrap();
    for allow_overwrite in [false, true] {
        let vfs = vfs(
            &storage,
            VfsOptions::default().with_allow_overwrite(allow_overwrite),
        );
        let f = vfs.lookup(ROOT_INO, "f").await.unwrap();
        for flags in [
            libc::O_RDONLY | libc::O_SYNC,
            libc::O_WRONLY | libc::O_DSYNC,
            libc::O_RDWR | libc::O_TRUNC | libc::O_SYNC,
        ] {
            assert_eq!(
                errno(&vfs.open(f.ino, flags).await),
                libc::EINVAL,
                "{flags:o}"
            );
        }
        // Read handles: writes EBADF.
        let mut readers = vec![libc::O_RDWR, libc::O_RDWR | libc::O_APPEND];
        if !allow_overwrite {
            readers.push(libc::O_RDWR | libc::O_TRUNC);
        }
        for flags in readers {
            let fh = vfs.open(f.ino, flags).await.unwrap();
            assert!(vfs.is_reader(fh), "{flags:o}");
            assert_eq!(errno(&vfs.write(f.ino, fh, 0, b"x").await), libc::EBADF);
            assert_eq!(vfs.read(f.ino, fh, 0, 10).await.unwrap(), "data");
            vfs.release(f.ino, fh).await.unwrap();
        }
        let fh = vfs.open(f.ino, libc::O_RDWR | libc::O_TRUNC).await;
        if allow_overwrite {
            let fh = fh.unwrap();
            assert!(!vfs.is_reader(fh));
            assert_eq!(errno(&vfs.read(f.ino, fh, 0, 1).await), libc::EBADF);
            vfs.write(f.ino, fh, 0, b"data").await.unwrap();
            vfs.release(f.ino, fh).await.unwrap();
        } else {
            assert!(vfs.is_reader(fh.unwrap()));
        }
        // A new file: O_RDWR writes it; O_RDONLY cannot read it before it is written (and
        // stays made, empty).
        let g = vfs
            .mknod(ROOT_INO, "g", libc::S_IFREG | 0o644)
            .await
            .unwrap();
        assert_eq!(errno(&vfs.open(g.ino, libc::O_RDONLY).await), libc::EPERM);
        assert_eq!(
            errno(&vfs.open(g.ino, libc::O_WRONLY | libc::O_SYNC).await),
            libc::EINVAL
        );
        assert_eq!(vfs.lookup(ROOT_INO, "g").await.unwrap().size, 0);
        let fh = vfs.open(g.ino, libc::O_RDWR).await.unwrap();
        assert!(!vfs.is_reader(fh));
        vfs.write(g.ino, fh, 0, b"gg").await.unwrap();
        vfs.release(g.ino, fh).await.unwrap();
        assert_eq!(read_file(&vfs, "g", 10).await.unwrap(), b"gg");
        storage.delete("g").await.unwrap();
    }
}

#[tokio::test]
async fn statfs_is_large_and_fixed() {
    let vfs = vfs(&MemoryStorage::new(), VfsOptions::default());
    let s = vfs.statfs(ROOT_INO);
    // Exactly Mountpoint's numbers.
    let big = u64::MAX / 1024;
    assert_eq!(
        (
            s.blocks,
            s.blocks_free,
            s.blocks_available,
            s.files,
            s.files_free
        ),
        (big, big, big, big, big)
    );
    assert_eq!(
        (s.block_size, s.max_name_length, s.fragment_size),
        (512, 255, 0)
    );
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
    // mtime is the object's Last-Modified, and so are atime and ctime.
    let age = SystemTime::now().duration_since(f.mtime).unwrap();
    assert!(age < Duration::from_secs(60));
    assert_eq!((f.atime, f.ctime), (f.mtime, f.mtime));
    // Directories, local ones too, show the mount time.
    let local = vfs.mkdir(ROOT_INO, "local").await.unwrap();
    assert_eq!(local.mtime, d.mtime);
    assert_eq!(vfs.getattr(local.ino).await.unwrap().mtime, d.mtime);
    let _: &Error = &Error::NotSupported { operation: "x" };
}

/// Drops `call` after it waited a little (a caller's timeout): `true` when it was dropped
/// before it finished.
async fn dropped<T>(call: impl std::future::Future<Output = T>) -> bool {
    tokio::time::timeout(Duration::from_millis(50), call)
        .await
        .is_err()
}

/// Waits until the uploads aborted in the background are gone.
async fn until_no_uploads(storage: &Instrumented) {
    for _ in 0..500 {
        if storage.inner.pending_uploads().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("uploads left: {:?}", storage.inner.pending_uploads());
}

/// A `flush` dropped while its PUT is in flight: the bytes left the buffer with it, so
/// the writer has failed (`EIO`, "cancelled"); nothing is committed (before, `release`
/// uploaded an empty object), and the file is free again at once.
#[tokio::test]
async fn a_cancelled_flush_commits_nothing() {
    let storage = Instrumented::new(MemoryStorage::new());
    let vfs = Vfs::new(storage.clone(), VfsOptions::default()).unwrap();
    let (file, fh) = vfs.create(ROOT_INO, "f").await.unwrap();
    vfs.write(file.ino, fh, 0, b"important data").await.unwrap();
    storage.stall("PutObject", "f");
    assert!(dropped(vfs.flush(file.ino, fh)).await);
    storage.resume();
    // The failed writer's file is gone, as after any failed upload.
    assert_eq!(errno(&vfs.lookup(ROOT_INO, "f").await), libc::ENOENT);
    let e = vfs.write(file.ino, fh, 14, b"more").await.unwrap_err();
    assert!(matches!(e, Error::Cancelled { .. }), "{e:?}");
    assert_eq!(e.errno(), libc::EIO);
    assert!(e.to_string().contains("cancelled"), "{e}");
    assert_eq!(errno(&vfs.flush(file.ino, fh).await), libc::EIO);
    assert_eq!(errno(&vfs.fsync(file.ino, fh).await), libc::EIO);
    // Release reports it too (no call may have yet), and commits nothing.
    assert_eq!(errno(&vfs.release(file.ino, fh).await), libc::EIO);
    assert!(
        storage.inner.keys().is_empty(),
        "{:?}",
        storage.inner.keys()
    );
    write_file(&vfs, "f", b"again", 2).await.unwrap();
    assert_eq!(storage.inner.object("f").unwrap(), "again");
}

/// A `write` dropped during an UploadPart, or an `fsync` during the completion: the part
/// is not silently skipped (before, writing on made `AAAACCCC`); the upload is aborted.
#[tokio::test]
async fn a_cancelled_write_loses_no_part() {
    let storage = Instrumented::new(MemoryStorage::new().with_min_part_size(0));
    let vfs = Vfs::new(storage.clone(), VfsOptions::default().with_part_size(4)).unwrap();
    let (file, fh) = vfs.create(ROOT_INO, "g").await.unwrap();
    vfs.write(file.ino, fh, 0, b"AAAA").await.unwrap();
    storage.stall("UploadPart", "g");
    assert!(dropped(vfs.write(file.ino, fh, 4, b"BBBB")).await);
    storage.resume();
    until_no_uploads(&storage).await;
    assert_eq!(errno(&vfs.write(file.ino, fh, 8, b"CCCC").await), libc::EIO);
    assert_eq!(errno(&vfs.write(file.ino, fh, 4, b"BBBB").await), libc::EIO);
    assert_eq!(errno(&vfs.release(file.ino, fh).await), libc::EIO);
    assert!(
        storage.inner.keys().is_empty(),
        "{:?}",
        storage.inner.keys()
    );

    let (file, fh) = vfs.create(ROOT_INO, "h").await.unwrap();
    vfs.write(file.ino, fh, 0, b"AAAABB").await.unwrap();
    storage.stall("CompleteMultipartUpload", "h");
    assert!(dropped(vfs.fsync(file.ino, fh)).await);
    storage.resume();
    until_no_uploads(&storage).await;
    assert_eq!(errno(&vfs.lookup(ROOT_INO, "h").await), libc::ENOENT);
    assert_eq!(errno(&vfs.release(file.ino, fh).await), libc::EIO);
    assert!(
        storage.inner.keys().is_empty(),
        "{:?}",
        storage.inner.keys()
    );
    // An upload that was not cut short completes as usual.
    write_file(&vfs, "h", b"AAAABBBBC", 3).await.unwrap();
    assert_eq!(storage.inner.object("h").unwrap(), "AAAABBBBC");
}

/// An `open` dropped while it completes the upload of an inactive writer (closed by
/// another process) registers nothing: before, its reader stayed registered and every
/// later `open` for writing failed (`EPERM`, "being read") for good. The upload it was
/// completing is cut short, and that writer says so.
#[tokio::test]
async fn a_cancelled_open_leaves_the_file_free() {
    let storage = Instrumented::new(MemoryStorage::new());
    let options = VfsOptions::default().with_allow_overwrite(true);
    let vfs = Vfs::new(storage.clone(), options).unwrap();
    for flags in [libc::O_RDONLY, libc::O_WRONLY | libc::O_TRUNC] {
        let (file, fh) = vfs.create(ROOT_INO, "h").await.unwrap();
        vfs.write(file.ino, fh, 0, b"x").await.unwrap();
        vfs.flush_from_other_process(file.ino, fh).await.unwrap();
        storage.stall("PutObject", "h");
        assert!(dropped(vfs.open(file.ino, flags)).await, "{flags:o}");
        storage.resume();
        assert_eq!(errno(&vfs.release(file.ino, fh).await), libc::EIO);
        assert!(storage.inner.keys().is_empty(), "{flags:o}");
        assert_eq!(errno(&vfs.lookup(ROOT_INO, "h").await), libc::ENOENT);
        // Nothing holds the file: it is made, replaced and read again.
        write_file(&vfs, "h", b"one", 3).await.unwrap();
        let h = vfs.lookup(ROOT_INO, "h").await.unwrap();
        let fh = vfs
            .open(h.ino, libc::O_WRONLY | libc::O_TRUNC)
            .await
            .unwrap();
        vfs.write(h.ino, fh, 0, b"two").await.unwrap();
        vfs.release(h.ino, fh).await.unwrap();
        assert_eq!(read_file(&vfs, "h", 10).await.unwrap(), b"two");
        storage.inner.delete("h").await.unwrap();
    }
    // Dropped while it asks the storage (nothing taken over yet): the file is as before.
    storage.inner.put("o", "old".into()).await.unwrap();
    let o = vfs.lookup(ROOT_INO, "o").await.unwrap();
    storage.stall("HeadObject", "o");
    assert!(dropped(vfs.open(o.ino, libc::O_WRONLY | libc::O_TRUNC)).await);
    storage.resume();
    let fh = vfs
        .open(o.ino, libc::O_WRONLY | libc::O_TRUNC)
        .await
        .unwrap();
    vfs.release(o.ino, fh).await.unwrap();
    assert_eq!(storage.inner.object("o").unwrap(), "");
}

/// A `release` dropped while it uploads closes the handle anyway and commits nothing:
/// before, the handle stayed registered as the file's writer, and the file could never be
/// opened, made again or read.
#[tokio::test]
async fn a_cancelled_release_closes_the_handle() {
    let storage = Instrumented::new(MemoryStorage::new().with_min_part_size(0));
    let vfs = Vfs::new(storage.clone(), VfsOptions::default().with_part_size(4)).unwrap();
    for (name, data) in [("small", &b"abc"[..]), ("parts", &b"abcdefghij"[..])] {
        let (file, fh) = vfs.create(ROOT_INO, name).await.unwrap();
        vfs.write(file.ino, fh, 0, data).await.unwrap();
        storage.stall("PutObject", name);
        storage.stall("UploadPart", name);
        assert!(dropped(vfs.release(file.ino, fh)).await, "{name}");
        storage.resume();
        until_no_uploads(&storage).await;
        assert_eq!(errno(&vfs.release(file.ino, fh).await), libc::EBADF);
        assert_eq!(errno(&vfs.write(file.ino, fh, 0, b"x").await), libc::EBADF);
        assert_eq!(errno(&vfs.lookup(ROOT_INO, name).await), libc::ENOENT);
        assert!(storage.inner.keys().is_empty(), "{name}");
        write_file(&vfs, name, data, 3).await.unwrap();
        assert_eq!(read_file(&vfs, name, 4).await.unwrap(), data);
        storage.inner.delete(name).await.unwrap();
    }
}

/// A `release` dropped while calls hold or wait for the handle (a write uploading a part,
/// a write and a `flush` queued behind it): the handle is closed, so none of them may
/// commit what they hold, least of all over a newer writer's file of the same name. Found
/// by review: the queued `flush` committed the old upload over the new file.
#[tokio::test]
async fn a_release_dropped_while_calls_hold_the_handle_commits_nothing() {
    let storage = Instrumented::new(MemoryStorage::new().with_min_part_size(0));
    let vfs = Vfs::new(storage.clone(), VfsOptions::default().with_part_size(4)).unwrap();
    let (file, fh) = vfs.create(ROOT_INO, "f").await.unwrap();
    storage.stall("UploadPart", "f");
    let (first, second, flushed, newer) = tokio::join!(
        vfs.write(file.ino, fh, 0, b"AAAA"),
        vfs.write(file.ino, fh, 4, b"BB"),
        vfs.flush(file.ino, fh),
        async {
            storage.until_stalled().await;
            assert!(dropped(vfs.release(file.ino, fh)).await);
            // Closed: a newer writer of the name may come, and completes first.
            let made = async {
                let (g, gh) = vfs.create(ROOT_INO, "f").await?;
                vfs.write(g.ino, gh, 0, b"NEW").await?;
                vfs.release(g.ino, gh).await
            }
            .await;
            storage.resume();
            made
        }
    );
    newer.unwrap();
    // The write in flight went through before the release; what waited is refused.
    first.unwrap();
    assert_eq!(errno(&second), libc::EBADF);
    assert_eq!(errno(&flushed), libc::EBADF);
    until_no_uploads(&storage).await;
    assert_eq!(storage.inner.object("f").as_deref(), Some(&b"NEW"[..]));
    assert_eq!(errno(&vfs.write(file.ino, fh, 6, b"C").await), libc::EBADF);
}

/// `mknod` (or `mkdir`) in a local directory that `rmdir` removes while `mknod` asks the
/// storage whether the name is free: it looks again, and fails (`ENOENT`) instead of
/// making a file no directory holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mknod_and_rmdir_of_its_directory_race() {
    let storage = Instrumented::new(MemoryStorage::new());
    let vfs = Vfs::new(storage.clone(), VfsOptions::default()).unwrap();
    for make_dir in [false, true] {
        let d = vfs.mkdir(ROOT_INO, "d").await.unwrap();
        storage.stall("HeadObject", "d/f");
        let (made, removed) = tokio::join!(
            async {
                if make_dir {
                    vfs.mkdir(d.ino, "f").await.map(|_| ())
                } else {
                    vfs.mknod(d.ino, "f", libc::S_IFREG).await.map(|_| ())
                }
            },
            async {
                storage.until_stalled().await;
                let removed = vfs.rmdir(ROOT_INO, "d").await;
                storage.resume();
                removed
            }
        );
        removed.unwrap();
        assert_eq!(errno(&made), libc::ENOENT, "mkdir: {make_dir}");
        assert_eq!(errno(&vfs.lookup(ROOT_INO, "d").await), libc::ENOENT);
        assert!(name_list(&vfs, "").await.is_empty());
    }
}

/// Writers racing to open a file made by `mknod` (no `allow_overwrite`): one writes it;
/// every other `open` fails (`EPERM`: being written, or an existing file now), even one
/// that looked at the file before the winner opened it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_writers_of_a_new_file() {
    let storage = MemoryStorage::new();
    let vfs = std::sync::Arc::new(vfs(&storage, VfsOptions::default()));
    for round in 0..100 {
        let name = format!("n{round}");
        let n = vfs
            .mknod(ROOT_INO, &name, libc::S_IFREG | 0o644)
            .await
            .unwrap();
        let tasks: Vec<_> = (0..4u8)
            .map(|id| {
                let vfs = std::sync::Arc::clone(&vfs);
                tokio::spawn(async move {
                    let fh = vfs.open(n.ino, libc::O_WRONLY).await?;
                    vfs.write(n.ino, fh, 0, &[b'a' + id]).await?;
                    vfs.release(n.ino, fh).await?;
                    Ok::<u8, Error>(id)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                Ok(id) => winners.push(id),
                Err(e) => assert_eq!(e.errno(), libc::EPERM, "{e}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        assert_eq!(storage.object(&name).unwrap(), [b'a' + winners[0]][..]);
    }
}

/// Keys longer than S3's 1024 bytes, in a store that holds them (Garage, memory): listed,
/// found and read, as Mountpoint; but never written (`ENAMETOOLONG`).
#[tokio::test]
async fn keys_longer_than_s3_allows_are_found_read_only() {
    let storage = MemoryStorage::new();
    let dir = ["a", "b", "c", "d"].map(|c| c.repeat(250)).join("/");
    let name = "e".repeat(100);
    storage
        .put(&format!("{dir}/{name}"), "long".into())
        .await
        .unwrap();
    let vfs = vfs(&storage, VfsOptions::default().with_allow_overwrite(true));
    let d = vfs.lookup_path(&dir).await.unwrap();
    let listed = vfs.readdir_all(d.ino).await.unwrap();
    let entry = listed.iter().find(|e| e.name == name).expect("listed");
    let found = vfs.lookup(d.ino, &name).await.unwrap();
    assert_eq!((found.ino, found.size), (entry.attr.ino, 4));
    assert_eq!(
        read_file(&vfs, &format!("{dir}/{name}"), 2).await.unwrap(),
        b"long"
    );
    let e = vfs
        .open(found.ino, libc::O_WRONLY | libc::O_TRUNC)
        .await
        .unwrap_err();
    assert_eq!(e.errno(), libc::ENAMETOOLONG, "{e}");
    assert_eq!(
        errno(&vfs.create(d.ino, &"f".repeat(100)).await),
        libc::ENAMETOOLONG
    );
    assert_eq!(
        errno(&vfs.lookup(d.ino, &"f".repeat(100)).await),
        libc::ENOENT
    );
    assert_eq!(storage.keys().len(), 1);
}
