//! Mountpoint's documented edge cases (its SEMANTICS.md and TROUBLESHOOTING.md), each on
//! memory and on the RADOS Gateway.

use std::time::Duration;

use sos_vfs::{FileKind, ROOT_INO, SetAttr, VfsOptions};

use crate::common::{
    Backend, Fixture, data, errno, name_list, names, on_both, read_file, write_all, write_file,
};

on_both!(
    shadowed_files,
    invalid_keys_hidden,
    keys_longer_than_s3_allows,
    write_to_existing_file_refused,
    out_of_order_write_refused,
    rmdir_of_non_empty_directory_refused,
    file_being_written_is_shown_locally,
    local_directories_become_remote,
    reads_after_a_change_or_delete,
    overwrite_only_when_allowed_and_truncating,
    unlink_only_when_allowed,
    failed_write_leaves_nothing,
    abandoned_write_leaves_nothing,
    multipart_write,
    local_directories,
    seed_session,
);

/// Keys `a` and `a/b`: `a` is a directory; the file `a` shows again when `a/b` goes.
async fn shadowed_files<S: Backend>(f: &Fixture<S>) {
    f.put("blue", b"the file").await;
    f.put("blue/image.jpg", b"jpg").await;
    f.put("blue-green", b"between `blue` and `blue/` in key order")
        .await;
    f.put("dir/x", b"file x").await;
    f.put("dir/x/y", b"y").await;
    // One key per listing page: the file and the prefix come on different pages.
    let vfs = f.vfs(VfsOptions::default().with_list_page_size(1));
    assert_eq!(
        names(&vfs, "").await.unwrap(),
        [
            ("blue".to_owned(), FileKind::Directory),
            ("blue-green".to_owned(), FileKind::File),
            ("dir".to_owned(), FileKind::Directory),
        ]
    );
    assert_eq!(name_list(&vfs, "blue").await, ["image.jpg"]);
    assert_eq!(
        names(&vfs, "dir").await.unwrap(),
        [("x".to_owned(), FileKind::Directory)]
    );
    let blue = vfs.lookup(ROOT_INO, "blue").await.unwrap();
    assert_eq!(blue.kind, FileKind::Directory);
    assert_eq!(
        errno(&vfs.open(blue.ino, libc::O_RDONLY).await),
        libc::EISDIR
    );
    assert_eq!(
        read_file(&vfs, "blue/image.jpg", 100).await.unwrap(),
        b"jpg"
    );

    // Deleting the key that made the directory shows the file.
    f.delete("blue/image.jpg").await;
    let file = vfs.lookup(ROOT_INO, "blue").await.unwrap();
    assert_eq!(file.kind, FileKind::File);
    assert_ne!(
        file.ino, blue.ino,
        "a file and a directory never share an inode"
    );
    assert_eq!(
        errno(&vfs.getattr(blue.ino).await),
        libc::ESTALE,
        "stale directory inode: the path is a file now"
    );
    assert_eq!(read_file(&vfs, "blue", 100).await.unwrap(), b"the file");
}

/// Keys that are not valid paths are hidden; the directories before the invalid
/// component exist.
async fn invalid_keys_hidden<S: Backend>(f: &Fixture<S>) {
    let mut keys = vec![
        "ok",
        "marker/",
        "x//y",
        "y/./z",
        "w/../v",
        "./dot",
        "..",
        ".",
        "/lead",
        "deep/a/",
        "deep/a/file",
        "t/.",
        "u/..",
    ];
    if S::NUL_KEYS {
        keys.push("nul\0key");
        keys.push("n/ul\0/x");
    }
    for key in &keys {
        f.put(key, b"data").await;
    }
    let vfs = f.vfs(VfsOptions::default().with_allow_delete(true));
    let mut expected = vec!["deep", "marker", "ok", "t", "u", "w", "x", "y"];
    if S::NUL_KEYS {
        expected.insert(2, "n");
    }
    assert_eq!(name_list(&vfs, "").await, expected);
    for dir in ["marker", "x", "y", "w", "t", "u"] {
        assert!(name_list(&vfs, dir).await.is_empty(), "{dir}");
        // Kept alive by keys that cannot be shown: not removable.
        let e = vfs.rmdir(ROOT_INO, dir).await;
        assert_eq!(errno(&e), libc::EPERM, "rmdir {dir}: {e:?}");
    }
    assert_eq!(name_list(&vfs, "deep").await, ["a"]);
    assert_eq!(name_list(&vfs, "deep/a").await, ["file"]);
    for name in [".", "..", "", "a/b", "nul\0key"] {
        assert_eq!(
            errno(&vfs.lookup(ROOT_INO, name).await),
            libc::EINVAL,
            "{name:?}"
        );
    }
    // The names cannot be created either.
    for name in [".", "..", "", "a/b", "n\0"] {
        assert_eq!(
            errno(&vfs.create(ROOT_INO, name).await),
            libc::EINVAL,
            "{name:?}"
        );
        assert_eq!(
            errno(&vfs.mkdir(ROOT_INO, name).await),
            libc::EINVAL,
            "{name:?}"
        );
    }
    // The marker directory holds new files like any other.
    write_file(&vfs, "marker/new", b"n", 10).await.unwrap();
    assert_eq!(name_list(&vfs, "marker").await, ["new"]);
    assert!(f.keys().await.contains(&"marker/".to_owned()));
}

/// Keys longer than S3's 1024 bytes: where the store holds them (memory; Garage) they are
/// listed and found alike, as Mountpoint, and read; where it refuses them (the gateway
/// answers a HEAD of one with 400) lookups find nothing (`ENOENT`, not `EIO`). Nothing
/// longer is ever written: `ENAMETOOLONG` at once.
async fn keys_longer_than_s3_allows<S: Backend>(f: &Fixture<S>) {
    // A directory whose key just fits (1022 bytes with the prefix): nothing fits in it.
    let len = 1022 - f.prefix.len();
    let mut dir = String::new();
    for c in ['a', 'b', 'c', 'd', 'e'] {
        let room = len - dir.len();
        if room == 0 {
            break;
        }
        if !dir.is_empty() {
            dir.push('/');
        }
        dir.extend(std::iter::repeat_n(c, (room.max(2) - 1).min(250)));
    }
    assert_eq!(f.prefix.len() + dir.len(), 1022);
    let name = "e".repeat(100);
    let path = format!("{dir}/{name}");
    if S::LONG_KEYS {
        f.put(&path, b"long").await;
    }
    let vfs = f.vfs(VfsOptions::default().with_allow_overwrite(true));
    let mut d = vfs.getattr(ROOT_INO).await.unwrap();
    for component in dir.split('/') {
        d = match vfs.lookup(d.ino, component).await {
            Ok(attr) => attr,
            Err(_) if !S::LONG_KEYS => vfs.mkdir(d.ino, component).await.unwrap(),
            Err(e) => panic!("{e}"),
        };
    }
    let listed: Vec<String> = vfs
        .readdir_all(d.ino)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .filter(|n| n != "." && n != "..")
        .collect();
    let found = vfs.lookup(d.ino, &name).await;
    if S::LONG_KEYS {
        assert_eq!(listed, std::slice::from_ref(&name));
        let found = found.unwrap();
        assert_eq!(found.size, 4);
        assert_eq!(read_file(&vfs, &path, 3).await.unwrap(), b"long");
        let replace = vfs.open(found.ino, libc::O_WRONLY | libc::O_TRUNC).await;
        assert_eq!(errno(&replace), libc::ENAMETOOLONG);
    } else {
        assert!(listed.is_empty(), "{listed:?}");
        assert_eq!(errno(&found), libc::ENOENT);
    }
    assert_eq!(errno(&vfs.create(d.ino, "new").await), libc::ENAMETOOLONG);
    assert_eq!(errno(&vfs.mkdir(d.ino, "new").await), libc::ENAMETOOLONG);
    assert_eq!(errno(&vfs.lookup(d.ino, "new").await), libc::ENOENT);
    let expected: Vec<String> = if S::LONG_KEYS { vec![path] } else { vec![] };
    assert_eq!(f.keys().await, expected);
}

/// Existing files cannot be modified or appended to (`EPERM`); `create` says `EEXIST`.
async fn write_to_existing_file_refused<S: Backend>(f: &Fixture<S>) {
    f.put("existing-file.txt", b"original").await;
    let vfs = f.vfs(VfsOptions::default().with_allow_overwrite(true));
    let file = vfs.lookup(ROOT_INO, "existing-file.txt").await.unwrap();
    for flags in [libc::O_WRONLY, libc::O_WRONLY | libc::O_APPEND] {
        let e = vfs.open(file.ino, flags).await;
        assert_eq!(errno(&e), libc::EPERM, "flags {flags:o}: {e:?}");
    }
    // O_RDWR | O_APPEND opens for reading, as Mountpoint (appends are refused there).
    let fh = vfs
        .open(file.ino, libc::O_RDWR | libc::O_APPEND)
        .await
        .unwrap();
    assert_eq!(errno(&vfs.write(file.ino, fh, 8, b"x").await), libc::EBADF);
    vfs.release(file.ino, fh).await.unwrap();
    assert_eq!(
        errno(&vfs.create(ROOT_INO, "existing-file.txt").await),
        libc::EEXIST
    );
    let truncate = SetAttr::default().with_size(0);
    assert_eq!(errno(&vfs.setattr(file.ino, &truncate).await), libc::EPERM);
    let touch = SetAttr::default().with_mtime(std::time::SystemTime::now());
    assert_eq!(errno(&vfs.setattr(file.ino, &touch).await), libc::EPERM);
    // Read-write without O_TRUNC opens for reading: writes are refused on that handle.
    let fh = vfs.open(file.ino, libc::O_RDWR).await.unwrap();
    assert_eq!(errno(&vfs.write(file.ino, fh, 0, b"x").await), libc::EBADF);
    assert_eq!(vfs.read(file.ino, fh, 0, 100).await.unwrap(), "original");
    vfs.release(file.ino, fh).await.unwrap();
    assert_eq!(
        read_file(&vfs, "existing-file.txt", 3).await.unwrap(),
        b"original"
    );
}

/// A write that does not continue where the last ended fails with `EINVAL` and aborts
/// the upload.
async fn out_of_order_write_refused<S: Backend>(f: &Fixture<S>) {
    let vfs = f.vfs(VfsOptions::default().with_part_size(5 * 1024 * 1024));
    let (attr, fh) = vfs.create(ROOT_INO, "out").await.unwrap();
    vfs.write(attr.ino, fh, 0, b"abc").await.unwrap();
    let e = vfs.write(attr.ino, fh, 512, b"def").await.unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    assert!(e.to_string().contains("expected offset 3"), "{e}");
    // The file is gone at once; every later write, flush and fsync says EINVAL again.
    assert_eq!(errno(&vfs.lookup(ROOT_INO, "out").await), libc::ENOENT);
    assert_eq!(
        errno(&vfs.write(attr.ino, fh, 3, b"def").await),
        libc::EINVAL
    );
    assert_eq!(errno(&vfs.flush(attr.ino, fh).await), libc::EINVAL);
    assert_eq!(errno(&vfs.fsync(attr.ino, fh).await), libc::EINVAL);
    vfs.release(attr.ino, fh).await.unwrap();
    assert!(f.keys().await.is_empty());
    assert_eq!(errno(&vfs.lookup(ROOT_INO, "out").await), libc::ENOENT);

    // Also once a multipart upload is under way (one 5 MiB part sent).
    let big = data(5 * 1024 * 1024 + 10, 1);
    let (attr, fh) = vfs.create(ROOT_INO, "big").await.unwrap();
    write_all(&vfs, attr.ino, fh, &big, 1024 * 1024)
        .await
        .unwrap();
    assert_eq!(f.pending_uploads().await, [format!("{}big", f.prefix)]);
    // Rewriting from the start is out of order too.
    assert_eq!(
        errno(&vfs.write(attr.ino, fh, 0, b"again").await),
        libc::EINVAL
    );
    assert!(
        f.pending_uploads().await.is_empty(),
        "the upload was aborted"
    );
    vfs.release(attr.ino, fh).await.unwrap();
    assert!(f.keys().await.is_empty());
}

/// `rmdir` fails on directories in the bucket (`EPERM`, whatever they hold) and on local
/// ones with entries (`ENOTEMPTY`).
async fn rmdir_of_non_empty_directory_refused<S: Backend>(f: &Fixture<S>) {
    f.put("remote/file", b"f").await;
    f.put("marker/", b"").await;
    let vfs = f.vfs(VfsOptions::default());
    assert_eq!(errno(&vfs.rmdir(ROOT_INO, "remote").await), libc::EPERM);
    assert_eq!(errno(&vfs.rmdir(ROOT_INO, "marker").await), libc::EPERM);
    assert_eq!(errno(&vfs.rmdir(ROOT_INO, "missing").await), libc::ENOENT);
    let remote = vfs.lookup(ROOT_INO, "remote").await.unwrap();
    assert_eq!(errno(&vfs.rmdir(remote.ino, "file").await), libc::ENOTDIR);

    let local = vfs.mkdir(ROOT_INO, "local").await.unwrap();
    vfs.mkdir(local.ino, "inner").await.unwrap();
    assert_eq!(errno(&vfs.rmdir(ROOT_INO, "local").await), libc::ENOTEMPTY);
    // A file being written counts as an entry.
    let inner = vfs.lookup(local.ino, "inner").await.unwrap();
    let (file, fh) = vfs.create(inner.ino, "f").await.unwrap();
    assert_eq!(errno(&vfs.rmdir(local.ino, "inner").await), libc::ENOTEMPTY);
    vfs.write(file.ino, fh, 0, b"x").await.unwrap();
    vfs.release(file.ino, fh).await.unwrap();
    // Now in the bucket: cannot be removed.
    assert_eq!(errno(&vfs.rmdir(local.ino, "inner").await), libc::EPERM);
    assert_eq!(errno(&vfs.rmdir(ROOT_INO, "local").await), libc::EPERM);
    assert_eq!(f.keys().await, ["local/inner/f", "marker/", "remote/file"]);

    // An empty local directory goes, and nothing can be made in it after.
    let empty = vfs.mkdir(ROOT_INO, "empty").await.unwrap();
    vfs.rmdir(ROOT_INO, "empty").await.unwrap();
    assert_eq!(errno(&vfs.lookup(ROOT_INO, "empty").await), libc::ENOENT);
    assert_eq!(errno(&vfs.create(empty.ino, "f").await), libc::ENOENT);
    assert_eq!(errno(&vfs.mkdir(empty.ino, "d").await), libc::ENOENT);
}

/// A file being written is shown here (listed, found, with the bytes written so far)
/// before it is in the bucket, and nobody else may open, delete or replace it meanwhile.
async fn file_being_written_is_shown_locally<S: Backend>(f: &Fixture<S>) {
    f.put("dir/old.txt", b"old").await;
    let vfs = f.vfs(VfsOptions::default().with_allow_delete(true));
    let dir = vfs.lookup(ROOT_INO, "dir").await.unwrap();
    let (attr, fh) = vfs.create(dir.ino, "new.txt").await.unwrap();
    assert_eq!(attr.size, 0);
    assert_eq!(name_list(&vfs, "dir").await, ["new.txt", "old.txt"]);
    vfs.write(attr.ino, fh, 0, b"hello ").await.unwrap();
    vfs.write(attr.ino, fh, 6, b"world").await.unwrap();
    let found = vfs.lookup(dir.ino, "new.txt").await.unwrap();
    assert_eq!((found.ino, found.size), (attr.ino, 11));
    assert_eq!(vfs.getattr(attr.ino).await.unwrap().size, 11);
    let listed = vfs.readdir_all(dir.ino).await.unwrap();
    let entry = listed.iter().find(|e| e.name == "new.txt").unwrap();
    assert_eq!((entry.attr.ino, entry.attr.size), (attr.ino, 11));
    assert_eq!(f.keys().await, ["dir/old.txt"], "not in the bucket yet");
    // Nobody else writes, reads, deletes or replaces it meanwhile: EPERM, as Mountpoint.
    assert_eq!(errno(&vfs.create(dir.ino, "new.txt").await), libc::EEXIST);
    assert_eq!(errno(&vfs.mkdir(dir.ino, "new.txt").await), libc::EEXIST);
    assert_eq!(
        errno(&vfs.open(attr.ino, libc::O_RDONLY).await),
        libc::EPERM
    );
    let trunc = libc::O_WRONLY | libc::O_TRUNC;
    assert_eq!(errno(&vfs.open(attr.ino, trunc).await), libc::EPERM);
    assert_eq!(errno(&vfs.unlink(dir.ino, "new.txt").await), libc::EPERM);
    assert_eq!(errno(&vfs.rmdir(dir.ino, "new.txt").await), libc::ENOTDIR);
    // Its times may be set while it is written (touch, cp -p), and show; other changes
    // are accepted and ignored.
    let when = std::time::UNIX_EPOCH + Duration::from_secs(1_500_000_000);
    let touch = SetAttr::default()
        .with_mtime(when)
        .with_atime(when)
        .with_mode(0o600)
        .with_size(3);
    let changed = vfs.setattr(attr.ino, &touch).await.unwrap();
    assert_eq!(
        (changed.mtime, changed.atime, changed.size),
        (when, when, 11)
    );
    assert_eq!(changed.perm, 0o644);
    assert_eq!(vfs.getattr(attr.ino).await.unwrap().mtime, when);
    // An object of that name put by another client stays hidden by the local file.
    f.put("dir/new.txt", b"other client").await;
    assert_eq!(vfs.lookup(dir.ino, "new.txt").await.unwrap().size, 11);

    vfs.release(attr.ino, fh).await.unwrap();
    assert_eq!(name_list(&vfs, "dir").await, ["new.txt", "old.txt"]);
    let found = vfs.lookup(dir.ino, "new.txt").await.unwrap();
    assert_eq!((found.ino, found.size), (attr.ino, 11));
    assert_ne!(found.mtime, when, "the object's time from now on");
    assert_eq!(
        read_file(&vfs, "dir/new.txt", 4).await.unwrap(),
        b"hello world"
    );
    // In the bucket now: times cannot be set any more, and it can be deleted.
    assert_eq!(errno(&vfs.setattr(attr.ino, &touch).await), libc::EPERM);
    vfs.unlink(dir.ino, "new.txt").await.unwrap();

    // A file made by mknod is shown, empty, before it is opened; it cannot be read.
    let made = vfs
        .mknod(dir.ino, "made", libc::S_IFREG | 0o644)
        .await
        .unwrap();
    assert_eq!(vfs.lookup(dir.ino, "made").await.unwrap().size, 0);
    assert_eq!(
        errno(&vfs.open(made.ino, libc::O_RDONLY).await),
        libc::EPERM
    );
    assert_eq!(errno(&vfs.unlink(dir.ino, "made").await), libc::EPERM);
    assert!(f.keys().await.iter().all(|k| k != "dir/made"));
    // A directory appearing in the bucket hides it.
    f.put("dir/made/inner", b"i").await;
    assert_eq!(
        vfs.lookup(dir.ino, "made").await.unwrap().kind,
        FileKind::Directory
    );
}

/// A local directory with keys below it is in the bucket from then on: it cannot be
/// removed, and it goes when its keys go (Mountpoint's "local directory has become
/// remote").
async fn local_directories_become_remote<S: Backend>(f: &Fixture<S>) {
    let vfs = f.vfs(VfsOptions::default());
    vfs.mkdir(ROOT_INO, "d").await.unwrap();
    f.put("d/by-another-client", b"x").await;
    assert_eq!(name_list(&vfs, "d").await, ["by-another-client"]);
    assert_eq!(errno(&vfs.rmdir(ROOT_INO, "d").await), libc::EPERM);
    f.delete("d/by-another-client").await;
    assert_eq!(errno(&vfs.lookup(ROOT_INO, "d").await), libc::ENOENT);
    assert!(name_list(&vfs, "").await.is_empty());
}

/// An open file pins the version it opened (its ETag): replaced on the server, reads of
/// it fail with `ESTALE`; deleted, with `EIO` (as Mountpoint).
async fn reads_after_a_change_or_delete<S: Backend>(f: &Fixture<S>) {
    let contents = data(64 * 1024, 6);
    f.put("f", &contents).await;
    // No read-ahead: every read is a GET of its own.
    let vfs = f.vfs(VfsOptions::default().with_prefetch_window(0));
    let file = vfs.lookup(ROOT_INO, "f").await.unwrap();
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    assert_eq!(vfs.read(file.ino, fh, 0, 10).await.unwrap(), contents[..10]);
    f.put("f", b"replaced").await;
    assert_eq!(errno(&vfs.read(file.ino, fh, 1000, 10).await), libc::ESTALE);
    vfs.release(file.ino, fh).await.unwrap();
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    assert_eq!(vfs.read(file.ino, fh, 0, 100).await.unwrap(), "replaced");
    f.delete("f").await;
    assert_eq!(errno(&vfs.read(file.ino, fh, 0, 100).await), libc::EIO);
    vfs.release(file.ino, fh).await.unwrap();
}

/// Replacing a file needs `allow_overwrite` and `O_TRUNC`.
async fn overwrite_only_when_allowed_and_truncating<S: Backend>(f: &Fixture<S>) {
    f.put("f", b"old contents").await;
    let strict = f.vfs(VfsOptions::default());
    let file = strict.lookup(ROOT_INO, "f").await.unwrap();
    let e = strict
        .open(file.ino, libc::O_WRONLY | libc::O_TRUNC)
        .await
        .unwrap_err();
    assert_eq!(e.errno(), libc::EPERM);
    assert!(e.to_string().contains("allow_overwrite"), "{e}");

    let vfs = f.vfs(VfsOptions::default().with_allow_overwrite(true));
    let file = vfs.lookup(ROOT_INO, "f").await.unwrap();
    assert_eq!(
        errno(&vfs.open(file.ino, libc::O_WRONLY).await),
        libc::EPERM
    );
    let mut old = b"old contents".to_vec();
    for (flags, new) in [
        (libc::O_WRONLY | libc::O_TRUNC, b"new"),
        (libc::O_RDWR | libc::O_TRUNC, b"NEW"),
    ] {
        let fh = vfs.open(file.ino, flags).await.unwrap();
        // What O_TRUNC asks of the kernel's inode (a truncation to the current size).
        vfs.setattr(file.ino, &SetAttr::default().with_size(0))
            .await
            .unwrap();
        assert_eq!(errno(&vfs.read(file.ino, fh, 0, 10).await), libc::EBADF);
        vfs.write(file.ino, fh, 0, new).await.unwrap();
        // The old object stays until the new one is complete.
        assert_eq!(read_file(&strict, "f", 100).await.unwrap(), old);
        vfs.release(file.ino, fh).await.unwrap();
        assert_eq!(read_file(&vfs, "f", 100).await.unwrap(), new);
        old = new.to_vec();
    }
    // Directories cannot be opened for writing.
    vfs.mkdir(ROOT_INO, "d").await.unwrap();
    let d = vfs.lookup(ROOT_INO, "d").await.unwrap();
    let flags = libc::O_WRONLY | libc::O_TRUNC;
    assert_eq!(errno(&vfs.open(d.ino, flags).await), libc::EISDIR);
}

/// `unlink` needs `allow_delete`; the object is deleted at once.
async fn unlink_only_when_allowed<S: Backend>(f: &Fixture<S>) {
    f.put("backup.tgz", b"tgz").await;
    f.put("only/child", b"c").await;
    let strict = f.vfs(VfsOptions::default());
    let e = strict.unlink(ROOT_INO, "backup.tgz").await.unwrap_err();
    assert_eq!(e.errno(), libc::EPERM);
    assert!(e.to_string().contains("allow_delete"), "{e}");
    // Checked before the name is looked at, as Mountpoint.
    assert_eq!(
        errno(&strict.unlink(ROOT_INO, "missing").await),
        libc::EPERM
    );
    assert_eq!(errno(&strict.unlink(ROOT_INO, "only").await), libc::EPERM);
    assert_eq!(f.keys().await, ["backup.tgz", "only/child"]);

    let vfs = f.vfs(VfsOptions::default().with_allow_delete(true));
    let file = vfs.lookup(ROOT_INO, "backup.tgz").await.unwrap();
    let reader = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    vfs.unlink(ROOT_INO, "backup.tgz").await.unwrap();
    assert_eq!(
        errno(&vfs.lookup(ROOT_INO, "backup.tgz").await),
        libc::ENOENT
    );
    assert_eq!(
        errno(&vfs.unlink(ROOT_INO, "backup.tgz").await),
        libc::ENOENT
    );
    // Open readers fail once the object is gone: EIO, as Mountpoint.
    assert_eq!(errno(&vfs.read(file.ino, reader, 0, 3).await), libc::EIO);
    vfs.release(file.ino, reader).await.unwrap();
    assert_eq!(errno(&vfs.unlink(ROOT_INO, "only").await), libc::EISDIR);
    // The directory made by the last key disappears with it.
    let only = vfs.lookup(ROOT_INO, "only").await.unwrap();
    vfs.unlink(only.ino, "child").await.unwrap();
    assert_eq!(errno(&vfs.lookup(ROOT_INO, "only").await), libc::ENOENT);
    assert!(f.keys().await.is_empty());
}

/// A write that fails on the server (parts smaller than S3's 5 MiB minimum, refused at
/// completion) leaves no object and no upload.
async fn failed_write_leaves_nothing<S: Backend>(f: &Fixture<S>) {
    let vfs = f.vfs(VfsOptions::default().with_part_size(1024));
    let (attr, fh) = vfs.create(ROOT_INO, "small-parts").await.unwrap();
    write_all(&vfs, attr.ino, fh, &data(3000, 2), 1000)
        .await
        .unwrap();
    assert_eq!(f.pending_uploads().await.len(), 1);
    let e = vfs.release(attr.ino, fh).await.unwrap_err();
    assert_eq!(e.errno(), libc::EIO, "{e}");
    assert!(f.keys().await.is_empty());
    assert!(f.pending_uploads().await.is_empty());
    assert_eq!(
        errno(&vfs.lookup(ROOT_INO, "small-parts").await),
        libc::ENOENT
    );
    // The name is free again.
    write_file(&vfs, "small-parts", b"fits in one part", 100)
        .await
        .unwrap();
    assert_eq!(f.keys().await, ["small-parts"]);
}

/// Writers never released: `shutdown` (unmount) aborts them, and so does dropping the
/// file system in a runtime.
async fn abandoned_write_leaves_nothing<S: Backend>(f: &Fixture<S>) {
    let part = 5 * 1024 * 1024;
    let options = VfsOptions::default().with_part_size(part);
    let vfs = f.vfs(options.clone());
    let (attr, fh) = vfs.create(ROOT_INO, "a").await.unwrap();
    write_all(&vfs, attr.ino, fh, &data(part as usize + 1, 3), 1 << 20)
        .await
        .unwrap();
    let (small, small_fh) = vfs.create(ROOT_INO, "b").await.unwrap();
    vfs.write(small.ino, small_fh, 0, b"never released")
        .await
        .unwrap();
    assert_eq!(f.pending_uploads().await.len(), 1);
    vfs.shutdown().await;
    assert!(f.pending_uploads().await.is_empty());
    assert_eq!(errno(&vfs.write(attr.ino, fh, 0, b"x").await), libc::EBADF);

    let vfs = f.vfs(options);
    let (attr, fh) = vfs.create(ROOT_INO, "c").await.unwrap();
    write_all(&vfs, attr.ino, fh, &data(part as usize, 4), 1 << 20)
        .await
        .unwrap();
    assert_eq!(f.pending_uploads().await.len(), 1);
    drop(vfs);
    // The abort runs in the background; a loaded server may take seconds (750 tries 20 ms apart).
    for _ in 0..750 {
        if f.pending_uploads().await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(f.pending_uploads().await.is_empty());
    assert!(f.keys().await.is_empty());
}

/// A file of several parts, read back sequentially (prefetched) and at random.
async fn multipart_write<S: Backend>(f: &Fixture<S>) {
    let part = 5 * 1024 * 1024;
    let vfs = f.vfs(
        VfsOptions::default()
            .with_part_size(part)
            .with_prefetch_window(2 * 1024 * 1024),
    );
    let contents = data(2 * part as usize + 12345, 5);
    write_file(&vfs, "big.bin", &contents, 128 * 1024)
        .await
        .unwrap();
    assert!(f.pending_uploads().await.is_empty());
    let file = vfs.lookup(ROOT_INO, "big.bin").await.unwrap();
    assert_eq!(file.size, contents.len() as u64);
    assert_eq!(
        read_file(&vfs, "big.bin", 128 * 1024).await.unwrap(),
        contents
    );
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    for offset in [part - 3, 17, 2 * part + 12000, 3 * part] {
        let got = vfs.read(file.ino, fh, offset, 1000).await.unwrap();
        let start = (offset as usize).min(contents.len());
        let end = (start + 1000).min(contents.len());
        assert_eq!(got, contents[start..end], "at {offset}");
    }
    vfs.release(file.ino, fh).await.unwrap();
}

/// `mkdir` is local until a file is written below; then the bucket decides.
async fn local_directories<S: Backend>(f: &Fixture<S>) {
    let vfs = f.vfs(VfsOptions::default().with_allow_delete(true));
    let a = vfs.mkdir(ROOT_INO, "a").await.unwrap();
    let b = vfs.mkdir(a.ino, "b").await.unwrap();
    assert_eq!(errno(&vfs.mkdir(ROOT_INO, "a").await), libc::EEXIST);
    assert_eq!(name_list(&vfs, "").await, ["a"]);
    assert_eq!(name_list(&vfs, "a").await, ["b"]);
    assert!(f.keys().await.is_empty(), "mkdir writes nothing");
    assert_eq!(vfs.lookup_path("a/b").await.unwrap().ino, b.ino);

    write_file(&vfs, "a/b/file", b"x", 1).await.unwrap();
    assert_eq!(f.keys().await, ["a/b/file"]);
    // Now in the bucket: deleting the only file makes both directories disappear.
    vfs.unlink(b.ino, "file").await.unwrap();
    assert_eq!(errno(&vfs.lookup(ROOT_INO, "a").await), libc::ENOENT);
    assert!(name_list(&vfs, "").await.is_empty());
    // mkdir again gives the same inode numbers (one per path and kind).
    assert_eq!(vfs.mkdir(ROOT_INO, "a").await.unwrap().ino, a.ino);
}

/// The seed's session: cp, ls -l, md5sum (read back), rm denied without --allow-delete.
async fn seed_session<S: Backend>(f: &Fixture<S>) {
    let vfs = f.vfs(VfsOptions::default().with_uid(1000).with_gid(1000));
    let backup = data(524_288, 9);
    write_file(&vfs, "backup.tgz", &backup, 128 * 1024)
        .await
        .unwrap();
    let entries = vfs.readdir_all(ROOT_INO).await.unwrap();
    let entry = entries.iter().find(|e| e.name == "backup.tgz").unwrap();
    assert_eq!(entry.attr.size, 524_288);
    assert_eq!(entry.attr.mode(), libc::S_IFREG | 0o644);
    assert_eq!((entry.attr.uid, entry.attr.gid), (1000, 1000));
    assert_eq!(
        read_file(&vfs, "backup.tgz", 128 * 1024).await.unwrap(),
        backup
    );
    let e = vfs.unlink(ROOT_INO, "backup.tgz").await.unwrap_err();
    assert_eq!(e.errno(), libc::EPERM);
}
