//! `sos-mount` mounted for real (FUSE), the Mountpoint seed session end to end: `cp` a file
//! in, `ls -l`, `md5sum`, `rm` refused without `--allow-delete` and allowed with it, a file
//! written through the mount read by the aws CLI, `umount`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use sos_testing::cli::AwsCli;

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
