//! `sos-mount` mounted for real (FUSE), the Mountpoint seed session end to end: `cp` a file
//! in, `ls -l`, `md5sum`, `rm` refused without `--allow-delete` and allowed with it, a file
//! written through the mount read by the aws CLI, `umount`.
//!
//! A test binary of its own, its tests one at a time: a process started while a test holds
//! a file open for writing in the mount inherits the descriptor until its `exec` closes it,
//! and that close reaches the mount as a flush from another process, which (as in
//! Mountpoint) leaves the handle open to takeover by the next `open`. The tests that check
//! who may open a file being written must not share their process with tests that start
//! others.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sos_testing::cli::AwsCli;

/// Taken by every test here for its whole run (see the module's docs).
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A mounted bucket; unmounted when dropped (if the test did not).
struct Mount {
    dir: PathBuf,
    _guard: tempfile::TempDir,
}

impl Mount {
    fn new(server: &sos_testing::ExternalServer, bucket: &str, extra: &[&str]) -> Mount {
        check_fuse();
        let guard = tempfile::tempdir().unwrap();
        let dir = guard.path().join("mnt");
        std::fs::create_dir(&dir).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_sos-mount"))
            .args([
                "--endpoint-url",
                &server.endpoint,
                "--region",
                &server.region,
            ])
            .args(extra)
            .arg(bucket)
            .arg(&dir)
            .env("AWS_ACCESS_KEY_ID", &server.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &server.secret_key)
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "sos-mount failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Mount { dir, _guard: guard }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn unmount(&self) -> Output {
        Command::new("umount").arg(&self.dir).output().unwrap()
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if is_mounted(&self.dir) {
            let _ = Command::new("fusermount3")
                .arg("-u")
                .arg(&self.dir)
                .output();
            let _ = Command::new("umount").arg("-l").arg(&self.dir).output();
        }
    }
}

fn is_mounted(dir: &Path) -> bool {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let dir = dir.to_string_lossy();
    info.lines().any(|l| l.split(' ').nth(4) == Some(&*dir))
}

/// FUSE must be there: this test fails, saying so, rather than pass without mounting.
fn check_fuse() {
    assert!(
        Path::new("/dev/fuse").exists(),
        "this test mounts a bucket with FUSE, but /dev/fuse does not exist on this machine"
    );
    assert!(
        Command::new("fusermount3")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "this test needs fusermount3: install the fuse3 package (testing/run-tests.sh does)"
    );
}

fn run(cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd).args(args).output().unwrap()
}

fn md5(path: &Path) -> String {
    let out = run("md5sum", &[path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

fn make_bucket(server: &sos_testing::ExternalServer) -> (String, AwsCli) {
    let bucket = sos_testing::unique_name("sos-mount");
    let aws = AwsCli::new(
        &server.endpoint,
        &server.access_key,
        &server.secret_key,
        &server.region,
    );
    aws.run(&["s3api", "create-bucket", "--bucket", &bucket]);
    (bucket, aws)
}

#[test]
fn seed_session_through_a_real_mount() {
    let _serial = one_at_a_time();
    let Some(server) = sos_testing::rados_gateway() else {
        return;
    };
    let (bucket, aws) = make_bucket(&server);
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("photo.jpg");
    let data: Vec<u8> = (0..11_000_003u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    std::fs::write(&source, &data).unwrap();

    let mount = Mount::new(&server, &bucket, &[]);
    // cp a file in: 11 MB, so a multipart upload.
    let out = run(
        "cp",
        &[source.to_str().unwrap(), mount.dir.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "cp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // ls -l shows it, with its size.
    let out = run("ls", &["-l", mount.dir.to_str().unwrap()]);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing
            .lines()
            .any(|l| l.contains("photo.jpg") && l.contains(&data.len().to_string())),
        "{listing}"
    );
    // md5sum of the mounted file is the source's.
    assert_eq!(md5(&mount.path("photo.jpg")), md5(&source));
    // Read with O_DIRECT (no page cache, as Mountpoint): the same bytes.
    let direct = work.path().join("direct.jpg");
    let out = run(
        "dd",
        &[
            &format!("if={}", mount.path("photo.jpg").display()),
            &format!("of={}", direct.display()),
            "iflag=direct",
            "bs=1M",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read(&direct).unwrap() == data,
        "O_DIRECT read differs"
    );
    // The aws CLI reads what was written through the mount.
    let downloaded = work.path().join("via-aws.jpg");
    aws.run(&[
        "s3",
        "cp",
        &format!("s3://{bucket}/photo.jpg"),
        downloaded.to_str().unwrap(),
    ]);
    assert!(std::fs::read(&downloaded).unwrap() == data);
    // Directories, and writes where Mountpoint refuses them.
    std::fs::create_dir(mount.path("backups")).unwrap();
    std::fs::write(mount.path("backups/notes.txt"), b"written through FUSE\n").unwrap();
    let listing = aws.run(&["s3", "ls", "--recursive", &format!("s3://{bucket}/")]);
    assert!(listing.contains("backups/notes.txt"), "{listing}");
    let err = std::fs::OpenOptions::new()
        .append(true)
        .open(mount.path("backups/notes.txt"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"more"))
        .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EPERM), "append: {err}");
    // rm is refused without --allow-delete.
    let out = run("rm", &[mount.path("photo.jpg").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Operation not permitted"));
    assert!(mount.path("photo.jpg").exists());
    // umount works.
    let out = mount.unmount();
    assert!(
        out.status.success(),
        "umount: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!is_mounted(&mount.dir));

    // With --allow-delete, rm works and the object is gone.
    let mount = Mount::new(&server, &bucket, &["--allow-delete"]);
    let out = run("rm", &[mount.path("photo.jpg").to_str().unwrap()]);
    assert!(
        out.status.success(),
        "rm: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = aws.run(&["s3", "ls", &format!("s3://{bucket}/")]);
    assert!(!listing.contains("photo.jpg"), "{listing}");
    assert!(mount.unmount().status.success());

    // Read-only: nothing can be written.
    let mount = Mount::new(&server, &bucket, &["--read-only"]);
    let err = std::fs::write(mount.path("new.txt"), b"x").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EROFS), "{err}");
    assert_eq!(
        std::fs::read(mount.path("backups/notes.txt")).unwrap(),
        b"written through FUSE\n"
    );
    assert!(mount.unmount().status.success());

    aws.run(&["s3", "rm", "--recursive", &format!("s3://{bucket}/")]);
    aws.run(&["s3api", "delete-bucket", "--bucket", &bucket]);
}

#[test]
fn a_missing_bucket_is_reported_before_mounting() {
    let _serial = one_at_a_time();
    let Some(server) = sos_testing::rados_gateway() else {
        return;
    };
    check_fuse();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_sos-mount"))
        .args([
            "--endpoint-url",
            &server.endpoint,
            "sos-no-such-bucket-mount",
        ])
        .arg(dir.path())
        .env("AWS_ACCESS_KEY_ID", &server.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &server.secret_key)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(started.elapsed() < Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("NoSuchBucket"), "{stderr}");
    assert!(!is_mounted(dir.path()));
}

/// The kernel's read-ahead of a mount (`/sys/class/bdi/MAJOR:MINOR/read_ahead_kb`), once it
/// reads `want` or after 3 s.
fn read_ahead_kb(dir: &Path, want: &str) -> String {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = dir.to_string_lossy();
    let device = info
        .lines()
        .find(|l| l.split(' ').nth(4) == Some(&*dir))
        .and_then(|l| l.split(' ').nth(2))
        .unwrap_or_else(|| panic!("{dir} is not in /proc/self/mountinfo"))
        .to_owned();
    let path = format!("/sys/class/bdi/{device}/read_ahead_kb");
    let mut value = String::new();
    for _ in 0..300 {
        value = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .trim()
            .to_owned();
        if value == want {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    value
}

/// The kernel keeps FUSE's read-ahead at 128 KiB; run as root, sos-mount raises its mount's
/// to 1 MiB (what one request carries), or to `--read-ahead-kib`; 0 leaves the default.
#[test]
fn read_ahead_of_the_mount() {
    let _serial = one_at_a_time();
    let Some(server) = sos_testing::rados_gateway() else {
        return;
    };
    let (bucket, aws) = make_bucket(&server);
    let root =
        std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
    for (extra, as_root) in [
        (&[][..], "1024"),
        (&["--read-ahead-kib", "512"][..], "512"),
        (&["--read-ahead-kib", "0"][..], "128"),
    ] {
        let mount = Mount::new(&server, &bucket, extra);
        let want = if root { as_root } else { "128" };
        assert_eq!(
            read_ahead_kb(&mount.dir, want),
            want,
            "{extra:?}, root: {root}"
        );
        let out = mount.unmount();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    aws.run(&["s3api", "delete-bucket", "--bucket", &bucket]);
}

/// The errno of an I/O result (0 for success).
fn errno_of<T>(result: std::io::Result<T>) -> i32 {
    match result {
        Ok(_) => 0,
        Err(e) => e.raw_os_error().unwrap_or(-1),
    }
}

/// Lists `dir` with `readdir`, has `between` run, rewinds the same stream
/// (`rewinddir`) and lists it again: the two listings, `.` and `..` left out. Through
/// Python's ctypes, so that the test needs no `unsafe`.
fn list_rewind_list(dir: &Path, between: impl FnOnce()) -> (Vec<String>, Vec<String>) {
    const SCRIPT: &str = r#"
import ctypes, sys
libc = ctypes.CDLL("libc.so.6", use_errno=True)
class Dirent(ctypes.Structure):
    _fields_ = [("ino", ctypes.c_ulong), ("off", ctypes.c_long), ("reclen", ctypes.c_ushort),
                ("type", ctypes.c_ubyte), ("name", ctypes.c_char * 256)]
libc.opendir.restype = ctypes.c_void_p
libc.readdir.restype = ctypes.POINTER(Dirent)
libc.readdir.argtypes = [ctypes.c_void_p]
libc.rewinddir.argtypes = [ctypes.c_void_p]
libc.closedir.argtypes = [ctypes.c_void_p]
def names(d):
    out = []
    while True:
        e = libc.readdir(d)
        if not e:
            return sorted(n for n in out if n not in (".", ".."))
        out.append(e.contents.name.decode())
d = libc.opendir(sys.argv[1].encode())
assert d, "opendir"
print(" ".join(names(d)), flush=True)
sys.stdin.readline()
libc.rewinddir(d)
print(" ".join(names(d)), flush=True)
libc.closedir(d)
"#;
    use std::io::{BufRead, Write};
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the readdir/rewinddir script");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let split = |line: String| {
        line.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let first = split(lines.next().unwrap().unwrap());
    between();
    writeln!(child.stdin.as_mut().unwrap()).unwrap();
    let second = split(lines.next().unwrap().unwrap());
    assert!(child.wait().unwrap().success());
    (first, second)
}

/// Mountpoint's rules where the kernel takes part: what a program sees through the
/// mount (errnos of open flags, a file shown while written, sequential writes, attribute
/// changes, links and renames, statfs), overwrite with `FUSE_ATOMIC_O_TRUNC`, a rewound
/// directory listed again, a replaced object failing an open reader with `ESTALE`.
#[test]
fn mountpoint_rules_through_a_real_mount() {
    let _serial = one_at_a_time();
    use std::io::{Read, Write};
    use std::os::unix::fs::{FileExt, OpenOptionsExt};

    let Some(server) = sos_testing::rados_gateway() else {
        return;
    };
    let (bucket, aws) = make_bucket(&server);
    let work = tempfile::tempdir().unwrap();
    let body = work.path().join("body");
    let put = |key: &str, data: &[u8]| {
        std::fs::write(&body, data).unwrap();
        let body = body.to_str().unwrap();
        aws.run(&[
            "s3api",
            "put-object",
            "--bucket",
            &bucket,
            "--key",
            key,
            "--body",
            body,
        ]);
    };
    put("dir/hello.txt", b"hello world");
    let mount = Mount::new(&server, &bucket, &["--allow-overwrite", "--allow-delete"]);
    let hello = mount.path("dir/hello.txt");
    let open = |path: &Path, flags: i32, write: bool| {
        std::fs::OpenOptions::new()
            .read(!write || flags & libc::O_ACCMODE == libc::O_RDWR)
            .write(write)
            .custom_flags(flags)
            .open(path)
    };

    // Open flags.
    assert_eq!(errno_of(open(&hello, libc::O_SYNC, false)), libc::EINVAL);
    assert_eq!(errno_of(open(&hello, 0, true)), libc::EPERM, "no O_TRUNC");
    assert_eq!(errno_of(open(&hello, libc::O_APPEND, true)), libc::EPERM);
    let mut rw = open(&hello, libc::O_RDWR, true).unwrap();
    assert_eq!(errno_of(rw.write(b"x")), libc::EBADF, "O_RDWR reads");
    let mut text = String::new();
    rw.read_to_string(&mut text).unwrap();
    assert_eq!(text, "hello world");
    drop(rw);

    // A new file is shown while written, and is nobody else's meanwhile.
    let new = mount.path("dir/new.txt");
    let mut writer = std::fs::File::create_new(&new).unwrap();
    writer.write_all(b"12345").unwrap();
    assert_eq!(std::fs::metadata(&new).unwrap().len(), 5);
    let listed: Vec<String> = std::fs::read_dir(mount.path("dir"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(listed.contains(&"new.txt".to_owned()), "{listed:?}");
    assert_eq!(errno_of(std::fs::File::open(&new)), libc::EPERM);
    assert_eq!(errno_of(std::fs::remove_file(&new)), libc::EPERM);
    let when = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    writer
        .set_times(std::fs::FileTimes::new().set_modified(when))
        .unwrap();
    assert_eq!(std::fs::metadata(&new).unwrap().modified().unwrap(), when);
    // Out of order: EINVAL, again for every later write and for close; the file goes.
    assert_eq!(errno_of(writer.write_at(b"z", 100)), libc::EINVAL);
    assert_eq!(errno_of(writer.write_at(b"6", 5)), libc::EINVAL);
    assert_eq!(errno_of(writer.sync_all()), libc::EINVAL);
    drop(writer);
    assert_eq!(errno_of(std::fs::metadata(&new)), libc::ENOENT);
    // After fsync the upload is complete: later writes fail.
    let mut synced = std::fs::File::create_new(&new).unwrap();
    synced.write_all(b"durable").unwrap();
    synced.sync_all().unwrap();
    assert_eq!(errno_of(synced.write_all(b"more")), libc::EIO);
    drop(synced);
    assert_eq!(std::fs::read(&new).unwrap(), b"durable");

    // Stored files: no attribute changes, no links, no special files, no rename.
    let times = std::fs::FileTimes::new().set_modified(when);
    let stored = std::fs::File::open(&hello).unwrap();
    assert_eq!(errno_of(stored.set_times(times)), libc::EPERM);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::Permissions::from_mode(0o600);
    assert_eq!(
        errno_of(std::fs::set_permissions(&hello, mode)),
        libc::EPERM
    );
    drop(stored);
    let link = mount.path("dir/link");
    assert_eq!(
        errno_of(std::os::unix::fs::symlink(&hello, &link)),
        libc::EPERM
    );
    assert_eq!(errno_of(std::fs::hard_link(&hello, &link)), libc::EPERM);
    let out = run("mkfifo", &[mount.path("dir/fifo").to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Invalid argument"), "mkfifo: {stderr}");
    assert_eq!(
        errno_of(std::fs::rename(mount.path("dir"), mount.path("d2"))),
        libc::EPERM
    );
    // With --allow-overwrite an existing destination passes Mountpoint's checks: the
    // bucket has no RenameObject (ENOSYS), which is remembered.
    assert_eq!(errno_of(std::fs::rename(&hello, &new)), libc::ENOSYS);
    assert_eq!(
        errno_of(std::fs::rename(mount.path("dir"), mount.path("d2"))),
        libc::ENOSYS,
        "remembered"
    );

    // Directories: local ones removable when empty, ones in the bucket never.
    std::fs::create_dir(mount.path("local")).unwrap();
    std::fs::create_dir(mount.path("local/sub")).unwrap();
    assert_eq!(
        errno_of(std::fs::remove_dir(mount.path("local"))),
        libc::ENOTEMPTY
    );
    assert_eq!(
        errno_of(std::fs::remove_dir(mount.path("dir"))),
        libc::EPERM
    );
    std::fs::remove_dir(mount.path("local/sub")).unwrap();
    std::fs::remove_dir(mount.path("local")).unwrap();

    // statfs: Mountpoint's numbers (the kernel shows the block size as fragment size).
    let out = run(
        "stat",
        &["-f", "-c", "%s %S %l %c", mount.dir.to_str().unwrap()],
    );
    let statfs = String::from_utf8_lossy(&out.stdout);
    assert_eq!(statfs.trim(), format!("512 512 255 {}", u64::MAX / 1024));

    // Overwrite: the kernel passes O_TRUNC to open (FUSE_ATOMIC_O_TRUNC).
    std::fs::write(&new, b"replaced").unwrap();
    assert_eq!(std::fs::read(&new).unwrap(), b"replaced");

    // A rewound directory is listed again.
    let big: Vec<u8> = vec![7; 300_000];
    let (first, again) = list_rewind_list(&mount.path("dir"), || put("dir/late.bin", &big));
    assert_eq!(first, ["hello.txt", "new.txt"]);
    assert_eq!(again, ["hello.txt", "late.bin", "new.txt"]);

    // An open reader pins its version: replaced by another client, reads fail (ESTALE).
    let reader = open(&mount.path("dir/late.bin"), libc::O_DIRECT, false).unwrap();
    let mut buf = vec![0u8; 2 * 4096];
    let at = buf.as_ptr().align_offset(4096);
    let page = &mut buf[at..at + 4096];
    reader.read_exact_at(page, 0).unwrap();
    put("dir/late.bin", &vec![8; 300_000]);
    assert_eq!(errno_of(reader.read_exact_at(page, 200_704)), libc::ESTALE);
    drop(reader);

    assert!(mount.unmount().status.success());
    aws.run(&["s3", "rm", "--recursive", &format!("s3://{bucket}/")]);
    aws.run(&["s3api", "delete-bucket", "--bucket", &bucket]);
}
