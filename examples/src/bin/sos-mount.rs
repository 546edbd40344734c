//! `sos-mount`: mount a bucket as a directory, with the semantics of Mountpoint for S3,
//! through FUSE. The file system is `sos-vfs` over `sos-client`.
//!
//! ```text
//! sos-mount --profile exomount --endpoint-url https://sos-ch-dk-2.exo.io mybucket ./mnt
//! cp backup.tgz ./mnt/ && ls -l ./mnt && md5sum ./mnt/backup.tgz
//! umount ./mnt        # or fusermount3 -u ./mnt
//! ```
//!
//! Without `--foreground` the program starts itself again in the background, waits until
//! the directory is mounted, and returns.
//!
//! The rules and errnos are Mountpoint's (`sos-vfs/SEMANTICS.md`); this layer adds what
//! the kernel decides: the mount options (`default_permissions`, `noatime`), the
//! `FUSE_ATOMIC_O_TRUNC` capability with `--allow-overwrite`, `create` as `mknod` then
//! `open`, the process that closes a file (only the opener's close uploads it), and a
//! new listing when a directory is rewound.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use fuser::{
    Config, Errno, FileAttr as FuseAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation,
    INodeNo, InitFlags, KernelConfig, LockOwner, MountOption, OpenFlags, RenameFlags, ReplyAttr,
    ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs,
    ReplyWrite, Request, TimeOrNow,
};

/// The largest read or write the mount asks the kernel to send in one request.
const MAX_REQUEST: u32 = 1024 * 1024;
use sos_client::{Addressing, ClientBuilder, Endpoint, SignatureVersion, Zone};
use sos_vfs::{FileAttr, FileKind, SetAttr, SosStorage, Vfs, VfsOptions};

/// Mount an S3 bucket (Exoscale SOS or any S3-compatible store) as a directory.
#[derive(Debug, Parser)]
#[command(name = "sos-mount", version)]
struct Args {
    /// The bucket.
    bucket: String,
    /// The directory to mount it on.
    directory: PathBuf,
    /// AWS profile of ~/.aws/credentials and ~/.aws/config.
    #[arg(long)]
    profile: Option<String>,
    /// Any S3 endpoint, e.g. `https://sos-ch-dk-2.exo.io`.
    #[arg(long, conflicts_with = "zone")]
    endpoint_url: Option<String>,
    /// An SOS zone: ch-gva-2, ch-dk-2, de-fra-1, de-muc-1, at-vie-1, at-vie-2, bg-sof-1.
    #[arg(long)]
    zone: Option<String>,
    /// The region of V4 signatures (an SOS zone sets it).
    #[arg(long)]
    region: Option<String>,
    /// Sign with AWS Signature Version 2.
    #[arg(long)]
    signature_v2: bool,
    /// Address the bucket as a host name (bucket.host).
    #[arg(long)]
    virtual_host: bool,
    /// Mount only the keys under this prefix (ending in `/`).
    #[arg(long)]
    prefix: Option<String>,
    /// Allow deleting files (`rm`).
    #[arg(long)]
    allow_delete: bool,
    /// Allow replacing existing files (opened with O_TRUNC).
    #[arg(long)]
    allow_overwrite: bool,
    /// Mount read-only.
    #[arg(long)]
    read_only: bool,
    /// Allow other users, including root, to use the mount (FUSE `allow_other`; needs
    /// `user_allow_other` in /etc/fuse.conf unless run as root).
    #[arg(long)]
    allow_other: bool,
    /// Allow root to use the mount (FUSE `allow_root`).
    #[arg(long)]
    allow_root: bool,
    /// Unmount when sos-mount exits (FUSE `auto_unmount`).
    #[arg(long)]
    auto_unmount: bool,
    /// Owner of the files (default: the user running sos-mount).
    #[arg(long)]
    uid: Option<u32>,
    /// Group of the files (default: the user's group).
    #[arg(long)]
    gid: Option<u32>,
    /// Permission bits of directories, octal.
    #[arg(long, value_parser = octal, default_value = "755")]
    dir_mode: u16,
    /// Permission bits of files, octal.
    #[arg(long, value_parser = octal, default_value = "644")]
    file_mode: u16,
    /// How long metadata is cached, as Mountpoint's option: `minimal` (the default: every
    /// lookup asks the bucket; the kernel keeps attributes 100 ms for files and 1 s for
    /// directories, as a TTL of exactly zero makes it look every entry of a listing up
    /// again), a number of seconds (lookups, "not found" included, are served from the
    /// cache that long), or `indefinite`.
    #[arg(long, value_parser = metadata_ttl, default_value = "minimal")]
    metadata_ttl: MetadataTtl,
    /// How long lookups that found nothing are remembered, as Mountpoint's option
    /// (`minimal`, a number of seconds, or `indefinite`; default: as `--metadata-ttl`).
    /// It matters only with a `--metadata-ttl` (without one, lookups always ask).
    #[arg(long, value_parser = metadata_ttl)]
    negative_metadata_ttl: Option<MetadataTtl>,
    /// Part size of uploads, in MiB.
    #[arg(long, default_value_t = 8, conflicts_with = "write_part_size")]
    part_size_mib: u64,
    /// Part size of uploads, in bytes (Mountpoint's option; at least 5 MiB for S3).
    #[arg(long)]
    write_part_size: Option<u64>,
    /// Stay in the foreground (and log to stderr).
    #[arg(short, long)]
    foreground: bool,
    /// The kernel's read-ahead for this mount, in KiB (0: the kernel's default, 128 KiB
    /// for FUSE). Sequential reads then come in requests of up to 1 MiB instead of 128 KiB:
    /// fewer round trips through the kernel. Setting it needs root (it is the mount's
    /// `/sys/class/bdi/MAJOR:MINOR/read_ahead_kb`); without, the default stays, with a
    /// warning when the value was asked for.
    #[arg(long, value_name = "KIB")]
    read_ahead_kib: Option<u32>,
}

/// The read-ahead asked for when `--read-ahead-kib` is not given: what one request can carry.
const DEFAULT_READ_AHEAD_KIB: u32 = MAX_REQUEST / 1024;

/// `--metadata-ttl`: how long lookups are served from the cache, and how long the kernel
/// keeps what it was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MetadataTtl {
    /// Lookups served from the VFS cache this long (zero: every lookup asks the bucket).
    lookups: Duration,
    /// The kernel keeps a file's attributes and name this long.
    file: Duration,
    /// The kernel keeps a directory's attributes and name this long.
    dir: Duration,
}

impl MetadataTtl {
    /// Mountpoint's `minimal`: nothing served from a cache, short kernel TTLs.
    const MINIMAL: Self = Self {
        lookups: Duration::ZERO,
        file: Duration::from_millis(100),
        dir: Duration::from_secs(1),
    };

    fn uniform(ttl: Duration) -> Self {
        Self {
            lookups: ttl,
            file: ttl,
            dir: ttl,
        }
    }

    fn for_kind(&self, kind: FileKind) -> Duration {
        match kind {
            FileKind::Directory => self.dir,
            _ => self.file,
        }
    }
}

fn metadata_ttl(text: &str) -> Result<MetadataTtl, String> {
    match text {
        "minimal" => Ok(MetadataTtl::MINIMAL),
        // A hundred years: longer than any mount, and far from overflowing a deadline.
        "indefinite" => Ok(MetadataTtl::uniform(Duration::from_secs(
            100 * 365 * 86_400,
        ))),
        seconds => seconds
            .parse::<u64>()
            .map(|s| MetadataTtl::uniform(Duration::from_secs(s)))
            .map_err(|_| format!("`{text}` is not `minimal`, `indefinite` or a number of seconds")),
    }
}

fn octal(text: &str) -> Result<u16, String> {
    u16::from_str_radix(text.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| format!("`{text}` is not an octal mode like 755"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !args.directory.is_dir() {
        eprintln!("error: {} is not a directory", args.directory.display());
        return ExitCode::from(2);
    }
    if !args.foreground {
        return daemonize(&args.directory);
    }
    match mount(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

/// Starts this program again with `--foreground` in the background and waits until the
/// directory is mounted (or the child fails).
fn daemonize(directory: &Path) -> ExitCode {
    let mut child = match std::env::current_exe().and_then(|exe| {
        Command::new(exe)
            .args(std::env::args_os().skip(1))
            .arg("--foreground")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
    }) {
        Ok(child) => child,
        Err(e) => {
            eprintln!("error: cannot start in the background: {e}");
            return ExitCode::from(1);
        }
    };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if is_mounted(directory) {
            return ExitCode::SUCCESS;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
            }
            eprint!("{stderr}");
            eprintln!("error: sos-mount exited ({status}) before mounting");
            return ExitCode::from(1);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("error: {} was not mounted within 60 s", directory.display());
    let _ = child.kill();
    ExitCode::from(1)
}

/// Whether `dir` is a mount point of this machine (/proc/self/mountinfo).
fn is_mounted(dir: &Path) -> bool {
    let Ok(dir) = dir.canonicalize() else {
        return false;
    };
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    info.lines().any(|line| {
        line.split(' ')
            .nth(4)
            .is_some_and(|mount_point| Path::new(&unescape_mount(mount_point)) == dir)
    })
}

/// Mount points in mountinfo escape space, tab, newline and backslash as `\NNN`.
fn unescape_mount(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && let Some(code) = text
                .get(i + 1..i + 4)
                .and_then(|o| u8::from_str_radix(o, 8).ok())
        {
            out.push(code);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The real user and group of this process (/proc/self/status), 0 when unknown.
fn current_ids() -> (u32, u32) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("Uid:"), field("Gid:"))
}

fn mount(args: Args) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut builder =
        ClientBuilder::from_environment(args.profile.as_deref()).map_err(|e| e.to_string())?;
    if let Some(zone) = &args.zone {
        let zone: Zone = zone
            .parse()
            .map_err(|e: sos_presign::Error| e.to_string())?;
        builder = builder.endpoint(Endpoint::zone(zone));
    }
    if let Some(url) = &args.endpoint_url {
        builder = builder.endpoint(Endpoint::parse(url).map_err(|e| e.to_string())?);
    }
    if let Some(region) = &args.region {
        builder = builder.region(region.clone());
    }
    if args.signature_v2 {
        builder = builder.signature_version(SignatureVersion::V2);
    }
    if args.virtual_host {
        builder = builder.addressing(Addressing::VirtualHost);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    // Fail now, clearly, rather than at the first `ls`.
    runtime
        .block_on(client.head_bucket(&args.bucket))
        .map_err(|e| format!("bucket {}: {e}", args.bucket))?;

    let (uid, gid) = current_ids();
    let mut options = VfsOptions::default()
        .with_allow_delete(args.allow_delete && !args.read_only)
        .with_allow_overwrite(args.allow_overwrite && !args.read_only)
        .with_uid(args.uid.unwrap_or(uid))
        .with_gid(args.gid.unwrap_or(gid))
        .with_dir_mode(args.dir_mode)
        .with_file_mode(args.file_mode)
        .with_metadata_ttl(args.metadata_ttl.lookups)
        .with_part_size(
            args.write_part_size
                .unwrap_or(args.part_size_mib.saturating_mul(1024 * 1024)),
        );
    if let Some(negative) = args.negative_metadata_ttl {
        options = options.with_negative_metadata_ttl(negative.lookups);
    }
    if let Some(prefix) = &args.prefix {
        options = options.with_prefix(prefix.clone());
    }
    let vfs = Vfs::new(SosStorage::new(client, args.bucket.clone()), options)
        .map_err(|e| e.to_string())?;
    let fs = SosFs {
        vfs: Arc::new(vfs),
        runtime: runtime.handle().clone(),
        read_only: args.read_only,
        allow_overwrite: args.allow_overwrite && !args.read_only,
        ttl: args.metadata_ttl,
        openers: Arc::new(Mutex::new(HashMap::new())),
        readers: Arc::new(Mutex::new(HashMap::new())),
        read_ahead: ReadAhead {
            directory: std::fs::canonicalize(&args.directory)
                .unwrap_or_else(|_| args.directory.clone()),
            kib: args.read_ahead_kib.unwrap_or(DEFAULT_READ_AHEAD_KIB),
            asked: args.read_ahead_kib.is_some(),
        },
    };
    let mut config = Config::default();
    // Mountpoint's options (default permissions, noatime), and no devices or set-user-ID
    // files, which S3 objects cannot be.
    config.mount_options = vec![
        MountOption::FSName(format!("sos-mount:{}", args.bucket)),
        MountOption::Subtype("sos".to_owned()),
        MountOption::DefaultPermissions,
        MountOption::NoAtime,
        MountOption::NoDev,
        MountOption::NoSuid,
        if args.read_only {
            MountOption::RO
        } else {
            MountOption::RW
        },
    ];
    if args.auto_unmount {
        config.mount_options.push(MountOption::AutoUnmount);
    }
    if args.allow_other {
        config.acl = fuser::SessionACL::All;
    } else if args.allow_root {
        config.acl = fuser::SessionACL::RootAndOwner;
    }
    // One thread receives the kernel's requests in order; each becomes a task at once, or is
    // answered there (a read already prefetched). Reads keep their order because this one
    // thread both answers at once and queues (see `read`): keep it at one.
    config.n_threads = Some(1);
    fuser::mount(fs, &args.directory, &config).map_err(|e| {
        format!(
            "cannot mount {}: {e} (is FUSE available? /dev/fuse and fusermount3 from the fuse3 package)",
            args.directory.display()
        )
    })
}

/// FUSE on top of the VFS: every request runs as a task on the runtime and replies when
/// done, so slow requests do not block others.
struct SosFs {
    vfs: Arc<Vfs<SosStorage>>,
    runtime: tokio::runtime::Handle,
    read_only: bool,
    /// `--allow-overwrite`: the kernel must then pass `O_TRUNC` to `open`.
    allow_overwrite: bool,
    ttl: MetadataTtl,
    /// Open handles → the process that opened them: its `close` (flush) of a file being
    /// written completes the upload, so the file exists when `close` returns; a `close` by
    /// another process (a child that inherited the descriptor) does not, as Mountpoint.
    openers: Arc<Mutex<HashMap<u64, u32>>>,
    /// Open files being read → the queue of their reads, served one after the other in the
    /// order the kernel sent them: the kernel's read-ahead arrives as several reads at once,
    /// and served by racing tasks they would reach the prefetcher out of order and reset it.
    readers: Arc<Mutex<HashMap<u64, ReadQueue>>>,
    read_ahead: ReadAhead,
}

/// `--read-ahead-kib`: the kernel's read-ahead of the mount, set once it is mounted.
#[derive(Clone, Debug)]
struct ReadAhead {
    directory: PathBuf,
    kib: u32,
    /// Given on the command line: a failure to set it is reported.
    asked: bool,
}

impl ReadAhead {
    /// Sets it from a thread of its own: the mount is listed (with its device number) only
    /// once the kernel has the answer to `init`, which this session's thread gives.
    fn apply_when_mounted(self) {
        if self.kib == 0 {
            return;
        }
        std::thread::spawn(move || {
            // Bounded: 5 s for the kernel to finish the mount.
            for _ in 0..500 {
                if let Some(device) = fuse_device_of(&self.directory) {
                    return self.write(&device);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            if self.asked {
                eprintln!("sos-mount: warning: the mount did not appear; read-ahead not set");
            }
        });
    }

    fn write(&self, device: &str) {
        let path = format!("/sys/class/bdi/{device}/read_ahead_kb");
        // Unasked, a refusal (not root) leaves the kernel's default quietly.
        if let Err(e) = std::fs::write(&path, self.kib.to_string())
            && self.asked
        {
            eprintln!("sos-mount: warning: cannot set the read-ahead ({path}: {e}; it needs root)");
        }
    }
}

/// The `MAJOR:MINOR` of the FUSE file system mounted on `dir` (the last one: mounts stack),
/// from `/proc/self/mountinfo`; `None` until it is there. Only a FUSE mount counts, so that
/// a directory that is a mount point of something else already is never mistaken for it.
fn fuse_device_of(dir: &Path) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    let info = std::fs::read("/proc/self/mountinfo").ok()?;
    // Mount points are written with space, tab, newline and backslash as octal escapes.
    let mut wanted = Vec::new();
    for &b in dir.as_os_str().as_bytes() {
        match b {
            b' ' | b'\t' | b'\n' | b'\\' => {
                wanted.extend_from_slice(format!("\\{b:03o}").as_bytes())
            }
            _ => wanted.push(b),
        }
    }
    // The last match: mounts on one directory stack.
    info.rsplit(|&b| b == b'\n').find_map(|line| {
        // ID, parent ID, MAJOR:MINOR, root, mount point, options, optional fields, `-`,
        // file system type, source, super options.
        let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        let dash = fields.iter().position(|f| *f == b"-")?;
        let fs_type = fields.get(dash + 1)?;
        (fields.get(4) == Some(&wanted.as_slice()) && fs_type.starts_with(b"fuse"))
            .then(|| String::from_utf8_lossy(fields[2]).into_owned())
    })
}

/// The reads of one open file that wait for the network, served in order by one task.
#[derive(Clone)]
struct ReadQueue {
    jobs: tokio::sync::mpsc::UnboundedSender<ReadJob>,
    /// Reads sent to the task and not answered yet.
    waiting: Arc<AtomicUsize>,
}

/// A read waiting in its file's queue.
struct ReadJob {
    ino: u64,
    offset: u64,
    size: u32,
    reply: ReplyData,
}

fn errno(e: &sos_vfs::Error) -> Errno {
    Errno::from_i32(e.errno())
}

fn fuse_attr(attr: &FileAttr) -> FuseAttr {
    FuseAttr {
        ino: INodeNo(attr.ino),
        size: attr.size,
        blocks: attr.blocks(),
        atime: attr.atime,
        mtime: attr.mtime,
        ctime: attr.ctime,
        // As Mountpoint (Linux does not show it).
        crtime: UNIX_EPOCH,
        kind: match attr.kind {
            FileKind::Directory => FileType::Directory,
            _ => FileType::RegularFile,
        },
        perm: attr.perm,
        nlink: attr.nlink,
        uid: attr.uid,
        gid: attr.gid,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}

fn name(name: &OsStr) -> Option<String> {
    name.to_str().map(str::to_owned)
}

/// The thread group (process) of a thread, from /proc (`None` when unknown): FUSE
/// requests carry the calling thread's id.
fn thread_group(tid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/task/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Whether two thread ids are of the same process, as Mountpoint decides it.
fn same_process(a: u32, b: u32) -> bool {
    a == b || matches!((thread_group(a), thread_group(b)), (Some(x), Some(y)) if x == y)
}

/// Book-keeping of a new handle: the process that opened it, and for a reader the queue
/// its reads wait in.
fn opened(
    vfs: &Arc<Vfs<SosStorage>>,
    readers: &Arc<Mutex<HashMap<u64, ReadQueue>>>,
    openers: &Arc<Mutex<HashMap<u64, u32>>>,
    fh: u64,
    pid: u32,
) {
    openers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(fh, pid);
    if !vfs.is_reader(fh) {
        return;
    }
    let (queue, mut jobs) = tokio::sync::mpsc::unbounded_channel::<ReadJob>();
    let waiting = Arc::new(AtomicUsize::new(0));
    readers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(
            fh,
            ReadQueue {
                jobs: queue,
                waiting: waiting.clone(),
            },
        );
    let vfs = vfs.clone();
    tokio::spawn(async move {
        while let Some(job) = jobs.recv().await {
            match vfs.read(job.ino, fh, job.offset, job.size).await {
                Ok(data) => job.reply.data(&data),
                Err(e) => job.reply.error(errno(&e)),
            }
            // After the answer: a read answered at once from now on comes after this one.
            waiting.fetch_sub(1, Ordering::Release);
        }
    });
}

/// `FOPEN_DIRECT_IO` for an `O_DIRECT` open, as Mountpoint: every read then comes to the
/// file system (no stale pages, no copy into the page cache).
fn open_flags(flags: i32) -> FopenFlags {
    if flags & libc::O_DIRECT != 0 {
        FopenFlags::FOPEN_DIRECT_IO
    } else {
        FopenFlags::empty()
    }
}

fn time(t: TimeOrNow) -> SystemTime {
    match t {
        TimeOrNow::SpecificTime(t) => t,
        TimeOrNow::Now => SystemTime::now(),
    }
}

type VfsResult<T> = sos_vfs::Result<T>;

impl SosFs {
    fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.runtime.spawn(task);
    }

    /// Runs `job` as a task and answers with the entry it gives, or its errno.
    fn reply_entry(
        &self,
        reply: ReplyEntry,
        job: impl std::future::Future<Output = VfsResult<FileAttr>> + Send + 'static,
    ) {
        let ttl = self.ttl;
        self.spawn(async move {
            match job.await {
                Ok(attr) => reply.entry(&ttl.for_kind(attr.kind), &fuse_attr(&attr), Generation(0)),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    /// Runs `job` as a task and answers with the attributes it gives, or its errno.
    fn reply_attr(
        &self,
        reply: ReplyAttr,
        job: impl std::future::Future<Output = VfsResult<FileAttr>> + Send + 'static,
    ) {
        let ttl = self.ttl;
        self.spawn(async move {
            match job.await {
                Ok(attr) => reply.attr(&ttl.for_kind(attr.kind), &fuse_attr(&attr)),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    /// Runs `job` as a task and answers ok, or its errno.
    fn reply_empty(
        &self,
        reply: ReplyEmpty,
        job: impl std::future::Future<Output = VfsResult<()>> + Send + 'static,
    ) {
        self.spawn(async move {
            match job.await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }
}

impl Filesystem for SosFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        // Reads and writes of up to 1 MiB per request where the kernel allows it (it caps
        // read-ahead at what it offered): fewer round trips through the kernel per MiB.
        // A refusal leaves the kernel's value, which works, only slower.
        let _ = config.set_max_readahead(MAX_REQUEST);
        let _ = config.set_max_write(MAX_REQUEST);
        // The kernel keeps FUSE's read-ahead at 128 KiB whatever `max_readahead` says; the
        // mount's own setting can raise it (root only).
        self.read_ahead.clone().apply_when_mounted();
        if self.allow_overwrite {
            // Without it the kernel strips O_TRUNC from `open` (and truncates with
            // `setattr` after), so a file could not be replaced. As Mountpoint, refuse to
            // mount rather than fail every overwrite.
            config
                .add_capabilities(InitFlags::FUSE_ATOMIC_O_TRUNC)
                .map_err(|_| {
                    std::io::Error::other(
                        "--allow-overwrite needs the kernel's FUSE_ATOMIC_O_TRUNC capability",
                    )
                })?;
        }
        Ok(())
    }

    fn destroy(&mut self) {
        let vfs = self.vfs.clone();
        self.runtime.block_on(vfs.shutdown());
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name_: &OsStr, reply: ReplyEntry) {
        // Names that are not UTF-8 cannot be keys here: EINVAL, as Mountpoint.
        let Some(name) = name(name_) else {
            return reply.error(Errno::EINVAL);
        };
        let vfs = self.vfs.clone();
        self.reply_entry(reply, async move { vfs.lookup(parent.0, &name).await });
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        let vfs = self.vfs.clone();
        self.reply_attr(reply, async move { vfs.getattr(ino.0).await });
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut changes = SetAttr::default();
        if let Some(m) = mode {
            changes = changes.with_mode(m);
        }
        if let Some(u) = uid {
            changes = changes.with_uid(u);
        }
        if let Some(g) = gid {
            changes = changes.with_gid(g);
        }
        if let Some(s) = size {
            changes = changes.with_size(s);
        }
        if let Some(t) = atime {
            changes = changes.with_atime(time(t));
        }
        if let Some(t) = mtime {
            changes = changes.with_mtime(time(t));
        }
        let vfs = self.vfs.clone();
        self.reply_attr(reply, async move { vfs.setattr(ino.0, &changes).await });
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name_: &OsStr,
        _mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        if self.read_only {
            return reply.error(Errno::EROFS);
        }
        let Some(name) = name(name_) else {
            return reply.error(Errno::EINVAL);
        };
        let vfs = self.vfs.clone();
        self.reply_entry(reply, async move { vfs.mkdir(parent.0, &name).await });
    }

    fn mknod(
        &self,
        _req: &Request,
        parent: INodeNo,
        name_: &OsStr,
        mode: u32,
        _umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        if self.read_only {
            return reply.error(Errno::EROFS);
        }
        let Some(name) = name(name_) else {
            return reply.error(Errno::EINVAL);
        };
        let vfs = self.vfs.clone();
        self.reply_entry(reply, async move { vfs.mknod(parent.0, &name, mode).await });
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name_: &OsStr, reply: ReplyEmpty) {
        if self.read_only {
            return reply.error(Errno::EROFS);
        }
        let Some(name) = name(name_) else {
            return reply.error(Errno::EINVAL);
        };
        let vfs = self.vfs.clone();
        self.reply_empty(reply, async move { vfs.unlink(parent.0, &name).await });
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name_: &OsStr, reply: ReplyEmpty) {
        if self.read_only {
            return reply.error(Errno::EROFS);
        }
        let Some(name) = name(name_) else {
            return reply.error(Errno::EINVAL);
        };
        let vfs = self.vfs.clone();
        self.reply_empty(reply, async move { vfs.rmdir(parent.0, &name).await });
    }

    fn open(&self, req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let writes = flags.0 & libc::O_ACCMODE != libc::O_RDONLY;
        if self.read_only && writes {
            return reply.error(Errno::EROFS);
        }
        let (vfs, readers, openers, pid) = (
            self.vfs.clone(),
            self.readers.clone(),
            self.openers.clone(),
            req.pid(),
        );
        self.spawn(async move {
            match vfs.open(ino.0, flags.0).await {
                Ok(fh) => {
                    opened(&vfs, &readers, &openers, fh, pid);
                    reply.opened(FileHandle(fh), open_flags(flags.0));
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    /// `open(O_CREAT)` of a new name: `mknod` then `open`, as the kernel does for
    /// Mountpoint (which has no `create`): a failing `open` (`O_SYNC`, or `O_RDONLY` on
    /// the new, empty file) leaves the file made, as there.
    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name_: &OsStr,
        mode: u32,
        _umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        if self.read_only {
            return reply.error(Errno::EROFS);
        }
        let Some(name) = name(name_) else {
            return reply.error(Errno::EINVAL);
        };
        let (vfs, ttl, readers, openers, pid) = (
            self.vfs.clone(),
            self.ttl,
            self.readers.clone(),
            self.openers.clone(),
            req.pid(),
        );
        self.spawn(async move {
            #[allow(clippy::useless_conversion)] // `mode_t` is u16 on macOS
            let regular = u32::from(libc::S_IFREG);
            let made = vfs.mknod(parent.0, &name, regular | (mode & 0o7777)).await;
            let result = match made {
                Ok(attr) => vfs.open(attr.ino, flags).await.map(|fh| (attr, fh)),
                Err(e) => Err(e),
            };
            match result {
                Ok((attr, fh)) => {
                    opened(&vfs, &readers, &openers, fh, pid);
                    reply.created(
                        &ttl.for_kind(attr.kind),
                        &fuse_attr(&attr),
                        Generation(0),
                        FileHandle(fh),
                        open_flags(flags),
                    );
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let queue = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&fh.0)
            .cloned();
        if let Some(queue) = &queue
            && queue.waiting.load(Ordering::Acquire) == 0
        {
            // Nothing of this file waits: a read whose bytes are already prefetched is
            // answered here, without handing it to a task (two thread wake-ups fewer per
            // read). In the runtime's context, so that the prefetcher starts its next GETs.
            let _runtime = self.runtime.enter();
            if let Some(result) = self.vfs.try_read(ino.0, fh.0, offset, size) {
                return match result {
                    Ok(data) => reply.data(&data),
                    Err(e) => reply.error(errno(&e)),
                };
            }
        }
        let job = ReadJob {
            ino: ino.0,
            offset,
            size,
            reply,
        };
        let job = match queue {
            Some(queue) => {
                queue.waiting.fetch_add(1, Ordering::AcqRel);
                match queue.jobs.send(job) {
                    Ok(()) => return,
                    Err(tokio::sync::mpsc::error::SendError(job)) => {
                        queue.waiting.fetch_sub(1, Ordering::AcqRel);
                        job
                    }
                }
            }
            None => job,
        };
        // Not a queued reader (a handle opened for writing): the VFS answers EBADF.
        let vfs = self.vfs.clone();
        self.spawn(async move {
            match vfs.read(job.ino, fh.0, job.offset, job.size).await {
                Ok(data) => job.reply.data(&data),
                Err(e) => job.reply.error(errno(&e)),
            }
        });
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: fuser::WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let vfs = self.vfs.clone();
        let data = data.to_vec();
        self.spawn(async move {
            match vfs.write(ino.0, fh.0, offset, &data).await {
                Ok(n) => reply.written(n),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn flush(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // The close of the process that opened the file completes its upload, when bytes
        // were written (as Mountpoint), so the file exists when `close` returns and a
        // failed upload is reported to `close`; other closes only mark the handle closed.
        let opener = self
            .openers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&fh.0)
            .copied();
        let by_opener = opener.is_some_and(|pid| same_process(pid, req.pid()));
        let vfs = self.vfs.clone();
        self.reply_empty(reply, async move {
            if by_opener {
                vfs.flush(ino.0, fh.0).await
            } else {
                vfs.flush_from_other_process(ino.0, fh.0).await
            }
        });
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let vfs = self.vfs.clone();
        self.reply_empty(reply, async move { vfs.fsync(ino.0, fh.0).await });
    }

    fn release(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.openers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&fh.0);
        // The queue's task ends once the reads already queued are answered.
        self.readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&fh.0);
        let vfs = self.vfs.clone();
        self.reply_empty(reply, async move { vfs.release(ino.0, fh.0).await });
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let vfs = self.vfs.clone();
        self.spawn(async move {
            match vfs.opendir(ino.0).await {
                Ok(fh) => reply.opened(FileHandle(fh), FopenFlags::empty()),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        reply: ReplyDirectory,
    ) {
        // Offset 0 again after entries were given (rewinddir): listed afresh, as
        // Mountpoint, in a task. Otherwise answered here from the listing.
        if offset == 0 {
            let vfs = self.vfs.clone();
            self.spawn(async move {
                match vfs.rewinddir(ino.0, fh.0).await {
                    Ok(()) => fill_dir(&vfs, ino, fh, offset, reply),
                    Err(e) => reply.error(errno(&e)),
                }
            });
            return;
        }
        fill_dir(&self.vfs, ino, fh, offset, reply);
    }

    fn releasedir(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        match self.vfs.releasedir(ino.0, fh.0) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(errno(&e)),
        }
    }

    fn statfs(&self, _req: &Request, ino: INodeNo, reply: ReplyStatfs) {
        let s = self.vfs.statfs(ino.0);
        reply.statfs(
            s.blocks,
            s.blocks_free,
            s.blocks_available,
            s.files,
            s.files_free,
            s.block_size,
            s.max_name_length,
            s.fragment_size,
        );
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name_: &OsStr,
        newparent: INodeNo,
        newname_: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        if self.read_only {
            return reply.error(Errno::EROFS);
        }
        let (Some(name), Some(newname)) = (name(name_), name(newname_)) else {
            return reply.error(Errno::EINVAL);
        };
        let vfs = self.vfs.clone();
        self.reply_empty(reply, async move {
            vfs.rename(parent.0, &name, newparent.0, &newname, flags.bits())
                .await
        });
    }
}

/// Answers a `readdir` from the directory handle's listing, handing entries over without
/// copying it, until the reply is full.
fn fill_dir(
    vfs: &Vfs<SosStorage>,
    ino: INodeNo,
    fh: FileHandle,
    offset: u64,
    mut reply: ReplyDirectory,
) {
    let result = vfs.readdir_with(ino.0, fh.0, offset, |entry| {
        let kind = match entry.attr.kind {
            FileKind::Directory => FileType::Directory,
            _ => FileType::RegularFile,
        };
        !reply.add(INodeNo(entry.attr.ino), entry.offset, kind, &entry.name)
    });
    match result {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(errno(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_ttl_values() {
        let minimal = metadata_ttl("minimal").unwrap();
        assert_eq!(minimal, MetadataTtl::MINIMAL);
        assert_eq!(minimal.lookups, Duration::ZERO);
        assert_eq!(minimal.for_kind(FileKind::File), Duration::from_millis(100));
        assert_eq!(
            minimal.for_kind(FileKind::Directory),
            Duration::from_secs(1)
        );
        let five = metadata_ttl("5").unwrap();
        assert_eq!(five.lookups, Duration::from_secs(5));
        assert_eq!(five.for_kind(FileKind::File), Duration::from_secs(5));
        assert!(metadata_ttl("indefinite").unwrap().lookups > Duration::from_secs(1 << 30));
        for bad in ["", "-1", "1.5", "forever"] {
            assert!(metadata_ttl(bad).is_err(), "{bad}");
        }
        // The default is Mountpoint's.
        let args = Args::try_parse_from(["sos-mount", "bucket", "/mnt"]).unwrap();
        assert_eq!(args.metadata_ttl, MetadataTtl::MINIMAL);
        assert_eq!(args.negative_metadata_ttl, None);
        // Mountpoint's option names are accepted.
        let args = Args::try_parse_from([
            "sos-mount",
            "--negative-metadata-ttl",
            "0",
            "--write-part-size",
            "5242880",
            "--allow-other",
            "--auto-unmount",
            "bucket",
            "/mnt",
        ])
        .unwrap();
        assert_eq!(args.negative_metadata_ttl.unwrap().lookups, Duration::ZERO);
        assert_eq!(args.write_part_size, Some(5 * 1024 * 1024));
        assert!(args.allow_other && args.auto_unmount && !args.allow_root);
    }
}
