//! VFS throughput: a sequential read of a big object through `sos_vfs::Vfs` and through the
//! `sos-mount` FUSE mount (`dd`), next to a direct GET of the same object in the same run;
//! and the listing of a directory of 10 000 objects through `readdir`, next to the raw
//! ListObjectsV2 pages. See README.md, "VFS throughput".
//!
//! ```sh
//! set -a; source target/test-servers/radosgw/env; set +a    # else: embedded s3s-fs
//! cargo build --release -p sos-examples --bin sos-mount        # for the FUSE rows
//! cargo run --release -p sos-benches --bin vfs_throughput
//! cargo run --release -p sos-benches --bin vfs_throughput -- --quick
//! ```
//!
//! Options: `--size-mib N` (default 512), `--objects N` (default 10 000), `--runs N` (reads,
//! default 3), `--list-runs N` (default 5), `--windows 8,32,64` (prefetch windows in MiB),
//! `--embedded` (ignore `SOS_TEST_RGW_*`), `--no-fuse`, `--quick` (64 MiB, 2 000 objects,
//! one read run, three listing runs), `--trace-fuse` (one more `dd` with `sos-mount` behind
//! a loopback proxy that records the `Range` of every GET it sends). The FUSE program is
//! `SOS_MOUNT_BIN`, else `target/release/sos-mount`.

// A report tool: the tables it prints on stdout are its output.
#![allow(clippy::print_stdout)]

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use sos_client::{Client, Credentials, Endpoint};
use sos_vfs::{
    DEFAULT_PREFETCH_WINDOW, ListPage, ListRequest, ObjectMeta, ROOT_INO, SosStorage, Storage,
    UploadedPart, Vfs, VfsOptions,
};

type Error = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, Error>;

const MIB: u64 = 1 << 20;
const KIB: u32 = 1 << 10;
const BIG_KEY: &str = "big.bin";
const DIR: &str = "dir";

// ---------------------------------------------------------------------------------------
// Options and the server

#[derive(Debug, Clone)]
struct Opts {
    size: u64,
    objects: usize,
    runs: usize,
    list_runs: usize,
    windows: Vec<u64>,
    embedded: bool,
    fuse: bool,
    trace_fuse: bool,
}

fn parse_args() -> Res<Opts> {
    let mut o = Opts {
        size: 512 * MIB,
        objects: 10_000,
        runs: 3,
        list_runs: 5,
        windows: vec![DEFAULT_PREFETCH_WINDOW, 32 * MIB, 64 * MIB],
        embedded: false,
        fuse: true,
        trace_fuse: false,
    };
    let mut args = std::env::args().skip(1);
    let value = |args: &mut std::iter::Skip<std::env::Args>, name: &str| {
        args.next().ok_or_else(|| format!("{name} needs a value"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => {
                o.size = 64 * MIB;
                o.objects = 2_000;
                o.runs = 1;
                o.list_runs = 3;
            }
            "--size-mib" => o.size = value(&mut args, &arg)?.parse::<u64>()? * MIB,
            "--objects" => o.objects = value(&mut args, &arg)?.parse()?,
            "--runs" => o.runs = value(&mut args, &arg)?.parse()?,
            "--list-runs" => o.list_runs = value(&mut args, &arg)?.parse()?,
            "--windows" => {
                o.windows = value(&mut args, &arg)?
                    .split(',')
                    .map(|w| w.trim().parse::<u64>().map(|m| m * MIB))
                    .collect::<Result<_, _>>()?;
            }
            "--embedded" => o.embedded = true,
            "--no-fuse" => o.fuse = false,
            "--trace-fuse" => o.trace_fuse = true,
            other => return Err(format!("unknown argument `{other}` (see the file's doc)").into()),
        }
    }
    if o.size == 0 || o.runs == 0 || o.list_runs == 0 || o.objects == 0 {
        return Err("sizes, counts and runs must be positive".into());
    }
    Ok(o)
}

/// Where the server is, with the keys it accepts. The embedded one lives as long as this.
struct Server {
    name: String,
    endpoint: String,
    access_key: String,
    secret_key: String,
    region: String,
    embedded: Option<sos_testing::EmbeddedS3>,
}

fn server(opts: &Opts) -> Res<Server> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    if !opts.embedded
        && let (Some(endpoint), Some(access_key), Some(secret_key)) = (
            var("SOS_TEST_RGW_ENDPOINT"),
            var("SOS_TEST_RGW_ACCESS_KEY"),
            var("SOS_TEST_RGW_SECRET_KEY"),
        )
    {
        return Ok(Server {
            name: format!("Ceph RADOS Gateway (memstore) at {endpoint}, from SOS_TEST_RGW_*"),
            endpoint,
            access_key,
            secret_key,
            region: var("SOS_TEST_RGW_REGION").unwrap_or_else(|| "us-east-1".to_owned()),
            embedded: None,
        });
    }
    let embedded = sos_testing::EmbeddedS3::start()?;
    Ok(Server {
        name: format!(
            "embedded s3s-fs 0.14.1 at {} (in this process, on a temporary directory)",
            embedded.endpoint()
        ),
        endpoint: embedded.endpoint(),
        access_key: embedded.access_key().to_owned(),
        secret_key: embedded.secret_key().to_owned(),
        region: "us-east-1".to_owned(),
        embedded: Some(embedded),
    })
}

fn client(server: &Server) -> Res<Client> {
    Ok(Client::builder()
        .endpoint(Endpoint::parse(&server.endpoint)?.with_region(server.region.clone()))
        .credentials(Credentials::new(
            server.access_key.clone(),
            server.secret_key.clone(),
        ))
        .build()?)
}

// ---------------------------------------------------------------------------------------
// A storage that counts what the VFS asks

#[derive(Debug, Default)]
struct Counters {
    gets: AtomicU64,
    get_bytes: AtomicU64,
    get_nanos: AtomicU64,
    heads: AtomicU64,
    lists: AtomicU64,
}

impl Counters {
    /// Counts one GET, finished, that started at `started`.
    fn get_done(&self, started: Instant) {
        self.gets.fetch_add(1, Ordering::Relaxed);
        self.get_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }

    fn reset(&self) {
        for c in [
            &self.gets,
            &self.get_bytes,
            &self.get_nanos,
            &self.heads,
            &self.lists,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// `SosStorage` with request counters: how many GETs the VFS sent, of what size, and how
/// long each took from request to the last byte collected.
#[derive(Debug, Clone)]
struct Counted {
    inner: SosStorage,
    counters: Arc<Counters>,
}

impl Storage for Counted {
    async fn list(&self, request: &ListRequest) -> sos_vfs::Result<ListPage> {
        self.counters.lists.fetch_add(1, Ordering::Relaxed);
        self.inner.list(request).await
    }

    async fn head(&self, key: &str) -> sos_vfs::Result<Option<ObjectMeta>> {
        self.counters.heads.fetch_add(1, Ordering::Relaxed);
        self.inner.head(key).await
    }

    async fn get(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
        if_match: Option<&str>,
    ) -> sos_vfs::Result<Bytes> {
        let started = Instant::now();
        let data = self.inner.get(key, range, if_match).await?;
        let c = &self.counters;
        c.get_bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
        c.get_done(started);
        Ok(data)
    }

    async fn get_into<F>(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
        if_match: Option<&str>,
        mut sink: F,
    ) -> sos_vfs::Result<()>
    where
        F: FnMut(Bytes) + Send,
    {
        let started = Instant::now();
        let c = &self.counters;
        // Counted as they arrive: a GET stopped early (a skipped range) still fetched them.
        self.inner
            .get_into(key, range, if_match, |piece| {
                c.get_bytes.fetch_add(piece.len() as u64, Ordering::Relaxed);
                sink(piece);
            })
            .await?;
        c.get_done(started);
        Ok(())
    }

    async fn put(&self, key: &str, data: Bytes) -> sos_vfs::Result<()> {
        self.inner.put(key, data).await
    }

    async fn create_multipart_upload(&self, key: &str) -> sos_vfs::Result<String> {
        self.inner.create_multipart_upload(key).await
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
    ) -> sos_vfs::Result<UploadedPart> {
        self.inner
            .upload_part(key, upload_id, part_number, data)
            .await
    }

    async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> sos_vfs::Result<()> {
        self.inner
            .complete_multipart_upload(key, upload_id, parts)
            .await
    }

    async fn abort_multipart_upload(&self, key: &str, upload_id: &str) -> sos_vfs::Result<()> {
        self.inner.abort_multipart_upload(key, upload_id).await
    }

    async fn delete(&self, key: &str) -> sos_vfs::Result<()> {
        self.inner.delete(key).await
    }
}

struct Ctx {
    client: Client,
    bucket: String,
    counters: Arc<Counters>,
}

impl Ctx {
    fn vfs(&self, window: u64) -> Res<Arc<Vfs<Counted>>> {
        let storage = Counted {
            inner: SosStorage::new(self.client.clone(), self.bucket.clone()),
            counters: Arc::clone(&self.counters),
        };
        Ok(Arc::new(Vfs::new(
            storage,
            VfsOptions::default().with_prefetch_window(window),
        )?))
    }

    /// `GETs n, mean size, mean time` since the last reset.
    fn get_summary(&self) -> String {
        let c = &self.counters;
        let n = c.gets.load(Ordering::Relaxed);
        if n == 0 {
            return String::new();
        }
        let bytes = c.get_bytes.load(Ordering::Relaxed);
        let nanos = c.get_nanos.load(Ordering::Relaxed);
        format!(
            "{n} GETs, mean {:.2} MiB in {:.1} ms",
            bytes as f64 / n as f64 / MIB as f64,
            nanos as f64 / n as f64 / 1e6
        )
    }
}

// ---------------------------------------------------------------------------------------
// Reading

/// One timed read of the whole object: bytes, seconds, and how long the reader waited on
/// reads that took over 1 ms (reads that missed the prefetch buffer).
struct ReadRun {
    bytes: u64,
    secs: f64,
    stalled: f64,
}

async fn direct_get(ctx: &Ctx) -> Res<ReadRun> {
    let started = Instant::now();
    let mut body = ctx
        .client
        .get_object(&ctx.bucket, BIG_KEY)
        .send()
        .await?
        .body;
    let mut bytes = 0u64;
    while let Some(chunk) = body.next().await {
        bytes += chunk?.len() as u64;
    }
    Ok(ReadRun {
        bytes,
        secs: started.elapsed().as_secs_f64(),
        stalled: 0.0,
    })
}

/// Ranged GETs of `chunk` bytes, `depth` of them in flight (1: one after the other): the
/// prefetcher's request pattern without the VFS. Each body is collected whole into one
/// buffer (as `Storage::get` does), or, with `collect` false, its pieces are counted as they
/// arrive and dropped (as the direct GET).
async fn ranged_gets(
    ctx: &Ctx,
    size: u64,
    chunk: u64,
    depth: usize,
    collect: bool,
) -> Res<ReadRun> {
    let started = Instant::now();
    let get = |start: u64| {
        let (client, bucket) = (ctx.client.clone(), ctx.bucket.clone());
        let end = (start + chunk).min(size);
        tokio::spawn(async move {
            let get = client.get_object(&bucket, BIG_KEY).range(start..end);
            if collect {
                return get.bytes().await.map(|b| b.len() as u64);
            }
            let mut body = get.send().await?.body;
            let mut n = 0u64;
            while let Some(piece) = body.next().await {
                n += piece?.len() as u64;
            }
            Ok(n)
        })
    };
    let (mut bytes, mut next) = (0u64, 0u64);
    let mut inflight = VecDeque::new();
    // Bounded: `next` grows to the size, then the queue drains.
    while next < size || !inflight.is_empty() {
        while inflight.len() < depth.max(1) && next < size {
            inflight.push_back(get(next));
            next += chunk;
        }
        if let Some(task) = inflight.pop_front() {
            bytes += task.await??;
        }
    }
    Ok(ReadRun {
        bytes,
        secs: started.elapsed().as_secs_f64(),
        stalled: 0.0,
    })
}

/// Opens the object through a fresh `Vfs` and reads it sequentially, `read_size` bytes at
/// a time, one read at a time (what one `read(2)` loop on a FUSE file without kernel
/// read-ahead would send).
async fn vfs_read(ctx: &Ctx, window: u64, read_size: u32) -> Res<ReadRun> {
    let vfs = ctx.vfs(window)?;
    let file = vfs.lookup(ROOT_INO, BIG_KEY).await?;
    ctx.counters.reset();
    let started = Instant::now();
    let fh = vfs.open(file.ino, libc::O_RDONLY).await?;
    let mut offset = 0u64;
    let mut stalled = Duration::ZERO;
    // Bounded: each pass reads at least one byte or ends the loop.
    loop {
        let t = Instant::now();
        let data = vfs.read(file.ino, fh, offset, read_size).await?;
        let took = t.elapsed();
        if took > Duration::from_millis(1) {
            stalled += took;
        }
        if data.is_empty() {
            break;
        }
        offset += data.len() as u64;
    }
    vfs.release(file.ino, fh).await?;
    Ok(ReadRun {
        bytes: offset,
        secs: started.elapsed().as_secs_f64(),
        stalled: stalled.as_secs_f64(),
    })
}

/// As [`vfs_read`], but with `depth` reads in flight, each a task of the multi-threaded
/// runtime: what `sos-mount` does when the kernel sends asynchronous read-ahead requests
/// (fuser asks for `FUSE_ASYNC_READ`) and spawns one task per request.
async fn vfs_read_concurrent(ctx: &Ctx, window: u64, read_size: u32, depth: usize) -> Res<ReadRun> {
    let vfs = ctx.vfs(window)?;
    let file = vfs.lookup(ROOT_INO, BIG_KEY).await?;
    ctx.counters.reset();
    let started = Instant::now();
    let ino = file.ino;
    let fh = vfs.open(ino, libc::O_RDONLY).await?;
    let mut inflight = VecDeque::new();
    let (mut next, mut bytes) = (0u64, 0u64);
    // Bounded: `next` grows to the size, then the queue drains.
    while next < file.size || !inflight.is_empty() {
        while inflight.len() < depth && next < file.size {
            let (vfs, offset) = (Arc::clone(&vfs), next);
            inflight.push_back(tokio::spawn(async move {
                vfs.read(ino, fh, offset, read_size).await
            }));
            next += u64::from(read_size);
        }
        if let Some(task) = inflight.pop_front() {
            bytes += task.await??.len() as u64;
        }
    }
    vfs.release(ino, fh).await?;
    Ok(ReadRun {
        bytes,
        secs: started.elapsed().as_secs_f64(),
        stalled: 0.0,
    })
}

// ---------------------------------------------------------------------------------------
// The FUSE mount

/// `sos-mount --foreground` on a temporary directory; unmounted and stopped when dropped.
struct Mount {
    dir: tempfile::TempDir,
    child: Child,
}

fn is_mounted(dir: &Path) -> bool {
    let Ok(dir) = dir.canonicalize() else {
        return false;
    };
    let dir = dir.to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/self/mountinfo").is_ok_and(|info| {
        info.lines()
            .any(|line| line.split(' ').nth(4) == Some(dir.as_str()))
    })
}

fn mount_program() -> PathBuf {
    std::env::var_os("SOS_MOUNT_BIN").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/sos-mount"),
        PathBuf::from,
    )
}

impl Mount {
    fn start(server: &Server, endpoint: &str, bucket: &str, extra: &[&str]) -> Res<Mount> {
        let program = mount_program();
        if !program.is_file() {
            return Err(format!(
                "{} not found: cargo build --release -p sos-examples --bin sos-mount, or set \
                 SOS_MOUNT_BIN",
                program.display()
            )
            .into());
        }
        if !Path::new("/dev/fuse").exists() {
            return Err("/dev/fuse is missing".into());
        }
        let dir = tempfile::tempdir()?;
        let child = Command::new(&program)
            .args(["--endpoint-url", endpoint])
            .args(["--region", &server.region])
            .arg("--read-only")
            .arg("--foreground")
            .args(extra)
            .arg(bucket)
            .arg(dir.path())
            .env("AWS_ACCESS_KEY_ID", &server.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &server.secret_key)
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut mount = Mount { dir, child };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if is_mounted(mount.dir.path()) {
                return Ok(mount);
            }
            if let Some(status) = mount.child.try_wait()? {
                return Err(format!("sos-mount exited ({status}) before mounting").into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("sos-mount did not mount within 30 s".into())
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if is_mounted(self.dir.path()) {
            let _ = Command::new("fusermount3")
                .arg("-u")
                .arg(self.dir.path())
                .status();
        }
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if is_mounted(self.dir.path()) {
            let _ = Command::new("fusermount3")
                .args(["-u", "-z"])
                .arg(self.dir.path())
                .status();
        }
    }
}

/// `dd if=MNT/big.bin of=/dev/null bs=1M` (with `iflag=direct` when `direct`: no page
/// cache), timed; checks that every byte came.
fn dd(mount: &Mount, size: u64, direct: bool) -> Res<ReadRun> {
    let file = mount.path().join(BIG_KEY);
    let started = Instant::now();
    let out = Command::new("dd")
        .arg(format!("if={}", file.display()))
        .args(["of=/dev/null", "bs=1M"])
        .args(direct.then_some("iflag=direct"))
        .output()?;
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let copied = stderr
        .lines()
        .find_map(|l| l.split_once(" bytes").map(|(n, _)| n.trim().to_owned()))
        .and_then(|n| n.parse::<u64>().ok());
    if !out.status.success() || copied != Some(size) {
        return Err(format!("dd failed ({}): {stderr}", out.status).into());
    }
    Ok(ReadRun {
        bytes: size,
        secs,
        stalled: 0.0,
    })
}

/// `ls -f`-like: every name of the directory through the mount.
fn fuse_list(mount: &Mount) -> Res<usize> {
    let mut n = 0;
    for entry in std::fs::read_dir(mount.path().join(DIR))? {
        entry?;
        n += 1;
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------
// A loopback proxy that records the ranges of the GETs going through it

/// The `(start, end)` of each GET seen by the proxy (`None`: no `Range`).
type RangeLog = Arc<std::sync::Mutex<Vec<Option<(u64, u64)>>>>;

/// Forwards connections to `upstream`, and records `(start, end)` of every `range: bytes=`
/// header sent upstream (`None` for a GET without one). Requests of a read-only mount
/// have no bodies, so everything sent upstream is request heads.
async fn logging_proxy(
    upstream: std::net::SocketAddr,
    log: RangeLog,
) -> Res<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (mut from_client, mut to_client) = client.into_split();
                let (mut from_server, mut to_server) = server.into_split();
                let back = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                });
                let mut buf = vec![0u8; 64 * 1024];
                let mut line = Vec::new();
                let mut get = false;
                while let Ok(n) = from_client.read(&mut buf).await {
                    if n == 0 || to_server.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    for &b in &buf[..n] {
                        if b != b'\n' {
                            line.push(b);
                            continue;
                        }
                        let text = String::from_utf8_lossy(&line)
                            .trim_end()
                            .to_ascii_lowercase();
                        line.clear();
                        let mut log = log
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        if text.starts_with("get ") {
                            get = true;
                        } else if let Some(range) = text.strip_prefix("range: bytes=") {
                            let parsed = range.split_once('-').and_then(|(a, b)| {
                                Some((a.parse().ok()?, b.parse::<u64>().ok()? + 1))
                            });
                            if get {
                                log.push(parsed);
                                get = false;
                            }
                        } else if text.is_empty() && get {
                            log.push(None);
                            get = false;
                        }
                    }
                }
                let _ = to_server.shutdown().await;
                let _ = back.await;
            });
        }
    });
    Ok((addr, task))
}

/// Mounts the bucket through the logging proxy, reads the object once with `dd`, and
/// describes the GETs that made it.
async fn trace_fuse(server: &Server, bucket: &str, size: u64) -> Res<String> {
    let upstream: std::net::SocketAddr = server
        .endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()?;
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (addr, proxy) = logging_proxy(upstream, Arc::clone(&log)).await?;
    let endpoint = format!("http://{addr}");
    let copy = Server {
        name: server.name.clone(),
        endpoint: server.endpoint.clone(),
        access_key: server.access_key.clone(),
        secret_key: server.secret_key.clone(),
        region: server.region.clone(),
        embedded: None,
    };
    let (bucket, cleared) = (bucket.to_owned(), Arc::clone(&log));
    let run = tokio::task::spawn_blocking(move || -> Res<ReadRun> {
        let mount = Mount::start(&copy, &endpoint, &bucket, &[])?;
        cleared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        dd(&mount, size, false)
    })
    .await??;
    proxy.abort();
    let gets = std::mem::take(
        &mut *log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    let ranges: Vec<(u64, u64)> = gets.iter().flatten().copied().collect();
    let fetched: u64 = ranges.iter().map(|(a, b)| b - a).sum();
    let mut sizes: Vec<u64> = ranges.iter().map(|(a, b)| b - a).collect();
    sizes.sort_unstable();
    let jumps = ranges.windows(2).filter(|w| w[1].0 != w[0].1).count();
    let mut by_size: Vec<(u64, usize)> = Vec::new();
    for &s in &sizes {
        match by_size.last_mut() {
            Some((last, n)) if *last == s => *n += 1,
            _ => by_size.push((s, 1)),
        }
    }
    by_size.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    let common = by_size
        .iter()
        .take(6)
        .map(|(s, n)| format!("{n}× {} KiB", s / 1024))
        .collect::<Vec<_>>()
        .join(", ");
    let first = ranges
        .iter()
        .take(40)
        .map(|(a, b)| format!("{}+{}", a / 1024, (b - a) / 1024))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(format!(
        "{:.0} MiB/s; {} GETs ({} without a range: listings); the ranges add up to {:.2}× \
         the object; {} of {} ranges do not start where the previous one ended; most common \
         sizes: {common}; median {} KiB.\n\nThe first GETs (start KiB + length KiB, in the \
         order sent): {first}",
        mib_s(&run),
        gets.len(),
        gets.len() - ranges.len(),
        fetched as f64 / size as f64,
        jumps,
        ranges.len(),
        sizes.get(sizes.len() / 2).copied().unwrap_or(0) / 1024,
    ))
}

// ---------------------------------------------------------------------------------------
// Listing

async fn raw_list(ctx: &Ctx) -> Res<usize> {
    let mut pages = ctx
        .client
        .list_objects(ctx.bucket.clone())
        .prefix(format!("{DIR}/"))
        .delimiter("/")
        .max_pages(10_000)
        .pages();
    let mut n = 0;
    while let Some(page) = pages.next().await {
        let page = page?;
        n += page.objects.len() + page.common_prefixes.len();
    }
    Ok(n)
}

/// The size of a `fuse_dirent` with its name, as the kernel's readdir buffer holds them.
fn dirent_size(name: &str) -> usize {
    (24 + name.len() + 7) & !7
}

/// What one listing through the `Vfs` took, phase by phase (milliseconds).
struct Listed {
    names: usize,
    calls: usize,
    lookup: f64,
    opendir: f64,
    readdir: f64,
}

/// `lookup(dir)`, `opendir`, every entry by `readdir`, `releasedir`. With `buffer`, each
/// `readdir` call takes only the entries that fit a kernel buffer of that many bytes and
/// the next call starts after them, as `sos-mount` answers the kernel; without it one call
/// takes all. `names` leaves out `.` and `..`.
async fn vfs_list(vfs: &Vfs<Counted>, buffer: Option<usize>) -> Res<Listed> {
    let ms = |since: Instant| since.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let dir = vfs.lookup(ROOT_INO, DIR).await?;
    let lookup = ms(started);
    let started = Instant::now();
    let fh = vfs.opendir(dir.ino).await?;
    let opendir = ms(started);
    let (mut offset, mut names, mut calls) = (0u64, 0usize, 0usize);
    let started = Instant::now();
    // Bounded: every call takes at least one entry or ends the loop. Entries are handed
    // over in place (`readdir_with`), as `sos-mount` fills the kernel's buffer.
    loop {
        let (mut used, mut taken, mut refused) = (0, 0usize, false);
        vfs.readdir_with(dir.ino, fh, offset, |entry| {
            if let Some(buffer) = buffer {
                used += dirent_size(&entry.name);
                if used > buffer {
                    refused = true;
                    return false;
                }
            }
            offset = entry.offset;
            taken += 1;
            if entry.name != "." && entry.name != ".." {
                names += 1;
            }
            true
        })?;
        calls += 1;
        if taken == 0 {
            if refused {
                return Err("a directory entry larger than the readdir buffer".into());
            }
            break;
        }
    }
    let readdir = ms(started);
    vfs.releasedir(dir.ino, fh)?;
    Ok(Listed {
        names,
        calls,
        lookup,
        opendir,
        readdir,
    })
}

// ---------------------------------------------------------------------------------------
// Figures

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => f64::midpoint(v[n / 2 - 1], v[n / 2]),
    }
}

fn mib_s(run: &ReadRun) -> f64 {
    run.bytes as f64 / MIB as f64 / run.secs
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn human(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{} KiB", bytes / 1024)
    }
}

/// A read row: every run's MiB/s, the median, the best, the median's ratio to the direct
/// GET's median, and notes.
fn read_row(direct: f64, case: &str, runs: &[ReadRun], notes: &str) {
    let speeds: Vec<f64> = runs.iter().map(mib_s).collect();
    let med = median(&speeds);
    let best = speeds.iter().copied().fold(f64::NAN, f64::max);
    let all = speeds
        .iter()
        .map(|s| format!("{s:.0}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "| {case} | {all} | {med:.0} | {best:.0} | {:.0}% | {notes} |",
        100.0 * med / direct
    );
}

/// A case measured in rounds: each run returns what it measured and a note.
type Runner<'a, T> = Box<dyn Fn() -> Res<(T, String)> + 'a>;

// ---------------------------------------------------------------------------------------
// The run

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Res<()> {
    let opts = parse_args()?;
    let server = server(&opts)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let ctx = Ctx {
        client: client(&server)?,
        bucket: sos_testing::unique_name("vfs-bench"),
        counters: Arc::default(),
    };
    println!("# VFS throughput");
    println!("server: {}", server.name);
    println!(
        "object: {} MiB; directory: {} objects; read runs {}; listing runs {}; load average \
         at start {}",
        opts.size / MIB,
        opts.objects,
        opts.runs,
        opts.list_runs,
        load()
    );
    runtime.block_on(ctx.client.create_bucket(&ctx.bucket).send())?;
    let keys: Vec<String> = (0..opts.objects)
        .map(|i| format!("{DIR}/obj-{i:05}"))
        .collect();
    let result = measure(&runtime, &ctx, &server, &opts, &keys);
    // Clean up whatever happened (the gateway keeps everything in memory).
    let cleanup = runtime.block_on(async {
        let all = keys.iter().map(String::as_str).chain([BIG_KEY]);
        let out = ctx.client.delete_objects(&ctx.bucket, all).await?;
        if !out.errors.is_empty() {
            eprintln!("{} keys could not be deleted", out.errors.len());
        }
        ctx.client.delete_bucket(&ctx.bucket).await
    });
    if let Err(e) = &cleanup {
        eprintln!("cleanup of bucket {}: {e}", ctx.bucket);
    }
    if server.embedded.is_none() {
        collect_garbage();
    }
    println!("load average at the end: {}", load());
    result
}

/// The gateway frees the data of deleted objects only in its garbage collection, two hours
/// later by default: on its 2 GiB memstore a few runs of 512 MiB would fill it (and a full
/// OSD drops every write, deletes included). When the gateway is the local test one
/// (`CEPH_CONF` from its env file, `radosgw-admin` installed), collect now.
fn collect_garbage() {
    if std::env::var_os("CEPH_CONF").is_none() {
        println!(
            "note: deleted objects wait for the gateway's garbage collection (CEPH_CONF unset)"
        );
        return;
    }
    let child = Command::new("radosgw-admin")
        .args(["gc", "process", "--include-all"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        println!("note: radosgw-admin not found; deleted objects wait for the gateway's gc");
        return;
    };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if let Ok(Some(status)) = child.try_wait() {
            println!("radosgw-admin gc process --include-all: {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    println!("radosgw-admin gc process did not finish within 120 s (stopped)");
}

fn measure(
    runtime: &tokio::runtime::Runtime,
    ctx: &Ctx,
    server: &Server,
    opts: &Opts,
    keys: &[String],
) -> Res<()> {
    // The data: pseudo-random (xorshift), so nothing on the way can compress it.
    let mut data = Vec::with_capacity(opts.size as usize);
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    while (data.len() as u64) < opts.size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    data.truncate(opts.size as usize);
    let started = Instant::now();
    runtime.block_on(ctx.client.upload(&ctx.bucket, BIG_KEY).bytes(data))?;
    println!(
        "uploaded {BIG_KEY} ({} MiB) in {:.1} s (transfer manager)",
        opts.size / MIB,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    runtime.block_on(put_small(ctx, keys))?;
    println!(
        "created {} objects of 16 bytes under {DIR}/ in {:.1} s (64 PUTs in flight)",
        keys.len(),
        started.elapsed().as_secs_f64()
    );

    // The cases run in rounds (each case once per round), so that a change in the load of
    // the machine touches every case alike.
    let mount = if opts.fuse {
        match Mount::start(server, &server.endpoint, &ctx.bucket, &[]) {
            Ok(m) => Some(m),
            Err(e) => {
                println!("FUSE not measured: {e}");
                None
            }
        }
    } else {
        None
    };
    let mut cases: Vec<(String, Runner<'_, ReadRun>)> = Vec::new();
    cases.push((
        "direct GET, one stream (reference)".to_owned(),
        Box::new(|| Ok((runtime.block_on(direct_get(ctx))?, String::new()))),
    ));
    for &window in &opts.windows {
        for read_size in [128 * KIB, 1024 * KIB] {
            let default = if window == DEFAULT_PREFETCH_WINDOW {
                " (default)"
            } else {
                ""
            };
            cases.push((
                format!(
                    "Vfs, {} reads, window {}{default}",
                    human(u64::from(read_size)),
                    human(window)
                ),
                Box::new(move || {
                    let run = runtime.block_on(vfs_read(ctx, window, read_size))?;
                    let note = format!(
                        "{}; reader waiting {:.0}% of the time",
                        ctx.get_summary(),
                        100.0 * run.stalled / run.secs
                    );
                    Ok((run, note))
                }),
            ));
        }
    }
    if let Some(mount) = &mount {
        cases.push((
            "FUSE (sos-mount), `dd bs=1M`".to_owned(),
            Box::new(|| {
                let note = "sos-mount's default window; the kernel's reads, async read-ahead";
                Ok((dd(mount, opts.size, false)?, note.to_owned()))
            }),
        ));
        cases.push((
            "FUSE (sos-mount), `dd bs=1M iflag=direct` (O_DIRECT: no page cache)".to_owned(),
            Box::new(|| {
                let note = "1 MiB requests straight into dd's buffer";
                Ok((dd(mount, opts.size, true)?, note.to_owned()))
            }),
        ));
    }
    // Why: the prefetcher's request pattern without the VFS, and the VFS under concurrent
    // reads as FUSE sends them.
    let chunk = DEFAULT_PREFETCH_WINDOW / 2;
    let patterns = [
        (chunk, 1, false),
        (chunk, 1, true),
        (chunk, 2, true),
        (chunk, 3, true),
        (4 * chunk, 1, false),
        (4 * chunk, 1, true),
        (4 * chunk, 2, true),
    ];
    for (chunk, depth, collect) in patterns {
        let what = match depth {
            1 if collect => "one at a time (the prefetcher's pattern)".to_owned(),
            1 => "one at a time".to_owned(),
            2 => "2 in flight (the next sent with the current)".to_owned(),
            n => format!("{n} in flight"),
        };
        let how = if collect {
            "collected"
        } else {
            "streamed, not collected"
        };
        cases.push((
            format!(
                "client only: ranged GETs of {}, {how}, {what}",
                human(chunk)
            ),
            Box::new(move || {
                let run = ranged_gets(ctx, opts.size, chunk, depth, collect);
                Ok((runtime.block_on(run)?, String::new()))
            }),
        ));
    }
    for depth in [2, 4] {
        cases.push((
            format!("Vfs, 128 KiB reads, {depth} in flight (tasks), default window"),
            Box::new(move || {
                let window = DEFAULT_PREFETCH_WINDOW;
                let run = runtime.block_on(vfs_read_concurrent(ctx, window, 128 * KIB, depth))?;
                let fetched = ctx.counters.get_bytes.load(Ordering::Relaxed);
                let note = format!(
                    "last run: {}; {:.2}× the object fetched",
                    ctx.get_summary(),
                    fetched as f64 / opts.size as f64
                );
                Ok((run, note))
            }),
        ));
    }
    let mut results: Vec<(Vec<ReadRun>, String)> =
        cases.iter().map(|_| (Vec::new(), String::new())).collect();
    for _ in 0..opts.runs {
        for ((_, case), (runs, note)) in cases.iter().zip(&mut results) {
            let (run, last) = case()?;
            if run.bytes != opts.size {
                return Err(format!("read {} bytes, not {}", run.bytes, opts.size).into());
            }
            runs.push(run);
            *note = last;
        }
    }
    println!();
    println!(
        "## Sequential read of {} MiB ({} rounds)",
        opts.size / MIB,
        opts.runs
    );
    println!();
    println!("| case | runs (MiB/s) | median | best | median vs direct GET | notes (last run) |");
    println!("|---|---|---|---|---|---|");
    let direct = median(&results[0].0.iter().map(mib_s).collect::<Vec<_>>());
    for ((name, _), (runs, note)) in cases.iter().zip(&results) {
        read_row(direct, name, runs, note);
    }
    drop(cases);

    let fresh = |buffer: Option<usize>| -> Res<(usize, String)> {
        let vfs = ctx.vfs(DEFAULT_PREFETCH_WINDOW)?;
        ctx.counters.reset();
        let l = runtime.block_on(vfs_list(&vfs, buffer))?;
        let c = &ctx.counters;
        Ok((
            l.names,
            format!(
                "lookup {:.1} ms (1 HEAD + 1 LIST), opendir {:.1} ms, {} readdir calls {:.1} ms; \
                 {} LIST, {} HEAD in all",
                l.lookup,
                l.opendir,
                l.calls,
                l.readdir,
                c.lists.load(Ordering::Relaxed),
                c.heads.load(Ordering::Relaxed)
            ),
        ))
    };
    // A second mount that caches metadata for a second (kernel entry and attribute TTL, and
    // the Vfs's lookup cache), to show what the lookups and getattrs of `ls` cost.
    let uncached = match &mount {
        Some(_) => Some(Mount::start(
            server,
            &server.endpoint,
            &ctx.bucket,
            &["--metadata-ttl", "0"],
        )?),
        None => None,
    };
    let mut lists: Vec<(&str, Runner<'_, usize>)> = vec![
        (
            "raw ListObjectsV2 pages (`pages()`, 1000 keys a page; reference)",
            Box::new(|| Ok((runtime.block_on(raw_list(ctx))?, String::new()))),
        ),
        (
            "Vfs: lookup + opendir + one readdir (all entries) + releasedir",
            Box::new(|| fresh(None)),
        ),
        (
            "Vfs: the same, readdir in 32 KiB buffers (glibc's getdents size, which recent \
             kernels pass on to FUSE)",
            Box::new(|| fresh(Some(32 * 1024))),
        ),
        (
            "Vfs: the same, readdir in 4 KiB buffers (older kernels: one page per FUSE readdir)",
            Box::new(|| fresh(Some(4096))),
        ),
    ];
    if let (Some(mount), Some(uncached)) = (&mount, &uncached) {
        lists.push((
            "FUSE (sos-mount, default `--metadata-ttl minimal`): `std::fs::read_dir` of MNT/dir \
             (lookup, opendir, readdir…)",
            Box::new(|| Ok((fuse_list(mount)?, String::new()))),
        ));
        lists.push((
            "FUSE (sos-mount --metadata-ttl 0: the kernel keeps nothing either): the same",
            Box::new(|| Ok((fuse_list(uncached)?, String::new()))),
        ));
    }
    let mut times: Vec<(Vec<f64>, String)> =
        lists.iter().map(|_| (Vec::new(), String::new())).collect();
    for _ in 0..opts.list_runs {
        for ((_, case), (ms, note)) in lists.iter().zip(&mut times) {
            let started = Instant::now();
            let (n, last) = case()?;
            ms.push(started.elapsed().as_secs_f64() * 1e3);
            if n != keys.len() {
                return Err(format!("listed {n} names, not {}", keys.len()).into());
            }
            *note = last;
        }
    }
    let names: Vec<&str> = lists.iter().map(|(name, _)| *name).collect();
    let mounted = mount.is_some();
    drop(lists);
    drop(mount);
    drop(uncached);
    println!();
    println!(
        "## Listing a directory of {} objects (delimiter `/`, {} rounds)",
        keys.len(),
        opts.list_runs
    );
    println!();
    println!("| case | runs (ms) | median | median vs raw pages | notes (last run) |");
    println!("|---|---|---|---|---|");
    let raw = median(&times[0].0);
    for (name, (ms, note)) in names.into_iter().zip(&times) {
        let med = median(ms);
        let all = ms
            .iter()
            .map(|t| format!("{t:.1}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!("| {name} | {all} | {med:.1} | {:.2}× | {note} |", med / raw);
    }

    if opts.trace_fuse && mounted {
        let trace = runtime.block_on(trace_fuse(server, &ctx.bucket, opts.size))?;
        println!();
        println!("## The GETs sos-mount sent for one `dd bs=1M` (through a logging proxy)");
        println!();
        println!("{trace}");
    }
    Ok(())
}

/// PUTs 16 bytes under each key, 64 tasks at a time.
async fn put_small(ctx: &Ctx, keys: &[String]) -> Res<()> {
    let keys: Arc<Vec<String>> = Arc::new(keys.to_vec());
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (client, bucket) = (ctx.client.clone(), ctx.bucket.clone());
        let (keys, next) = (Arc::clone(&keys), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            // Bounded: the counter passes the number of keys.
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(key) = keys.get(i) else {
                    return Ok::<(), sos_client::Error>(());
                };
                client
                    .put_object(&bucket, key)
                    .body(Bytes::from_static(b"0123456789abcdef"))
                    .send()
                    .await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}
