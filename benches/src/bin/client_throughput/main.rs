//! Client throughput: sos-client next to curl and, with `--features peers`, aws-sdk-s3,
//! object_store and rust-s3, doing the same transfers against one local S3 server (the
//! embedded s3s-fs, or an endpoint from `SOS_BENCH_ENDPOINT`). See README.md, "Client
//! throughput".
//!
//! ```sh
//! cargo run --release -p sos-benches --features peers --bin client_throughput
//! cargo run --release -p sos-benches --bin client_throughput -- --quick
//! ```
//!
//! Every client case runs in a child process (this binary again, with `--child TOOL CASE`),
//! so that each reports its own peak RSS (`VmHWM`) and starts with a fresh connection pool;
//! the embedded server stays in the parent. curl runs as a child process too.

// A report tool: the table it prints on stdout is its output.
#![allow(clippy::print_stdout)]

#[cfg(feature = "peers")]
mod peers;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use sos_client::{Checksum, Client, Credentials, Endpoint, PayloadSigning};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Res<T> = Result<T, Error>;

const MIB: u64 = 1 << 20;

// ---------------------------------------------------------------------------------------
// What is measured

/// A client under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tool {
    /// sos-client with its defaults (V4, payload hashed: whole body in memory, signed
    /// chunks for files over http; Content-MD5 on bodies in memory).
    Sos,
    /// sos-client with `PayloadSigning::Unsigned` and no checksum (what curl sends here).
    SosUnsigned,
    Curl,
    AwsSdkS3,
    ObjectStore,
    RustS3,
}

const TOOLS: [Tool; 6] = [
    Tool::Sos,
    Tool::SosUnsigned,
    Tool::Curl,
    Tool::AwsSdkS3,
    Tool::ObjectStore,
    Tool::RustS3,
];

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Sos => "sos",
            Tool::SosUnsigned => "sos-unsigned",
            Tool::Curl => "curl",
            Tool::AwsSdkS3 => "aws-sdk-s3",
            Tool::ObjectStore => "object_store",
            Tool::RustS3 => "rust-s3",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        TOOLS.into_iter().find(|t| t.name() == name)
    }

    fn is_peer(self) -> bool {
        matches!(self, Tool::AwsSdkS3 | Tool::ObjectStore | Tool::RustS3)
    }

    /// Whether the tool can do the case (the same work as the others).
    fn supports(self, case: Case) -> bool {
        match self {
            Tool::Sos | Tool::AwsSdkS3 => true,
            // Only uploads differ from `sos`.
            Tool::SosUnsigned => matches!(
                case,
                Case::PutFile | Case::PutMem | Case::Upload | Case::Small
            ),
            Tool::Curl => matches!(case, Case::PutFile | Case::Get),
            // No single-request upload from a file: `put` takes bytes in memory (object_store),
            // and a file goes through multipart above 8 MiB (rust-s3's `put_object_stream`).
            Tool::ObjectStore | Tool::RustS3 => case != Case::PutFile,
        }
    }
}

/// A transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Case {
    /// One PUT of the big file, streamed from disk.
    PutFile,
    /// One PUT of the big file, from memory (read before the clock starts).
    PutMem,
    /// One GET of the big object, bytes counted and dropped.
    Get,
    /// The huge file, as a multipart upload of `part_size` parts, `concurrency` in flight.
    Upload,
    /// The huge object into a file, in ranged GETs of `part_size`, `concurrency` in flight.
    Download,
    /// `small_count` objects of `small_size` bytes, PUT then GET, `small_concurrency` in
    /// flight.
    Small,
}

const CASES: [Case; 6] = [
    Case::PutFile,
    Case::PutMem,
    Case::Get,
    Case::Upload,
    Case::Download,
    Case::Small,
];

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::PutFile => "put-file",
            Case::PutMem => "put-mem",
            Case::Get => "get",
            Case::Upload => "upload",
            Case::Download => "download",
            Case::Small => "small",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        CASES.into_iter().find(|c| c.name() == name)
    }

    /// The labels of what the case measures (the small-object case measures two phases).
    fn labels(self) -> &'static [&'static str] {
        match self {
            Case::Small => &["small-put", "small-get"],
            Case::PutFile => &["put-file"],
            Case::PutMem => &["put-mem"],
            Case::Get => &["get"],
            Case::Upload => &["upload"],
            Case::Download => &["download"],
        }
    }
}

/// Everything a case needs, passed from the parent to its children in `SOS_BENCH_*`
/// variables.
#[derive(Clone, Debug)]
struct Ctx {
    endpoint: String,
    access_key: String,
    secret_key: String,
    region: String,
    bucket: String,
    work_dir: PathBuf,
    big: u64,
    huge: u64,
    part_size: u64,
    concurrency: usize,
    small_count: usize,
    small_size: usize,
    small_concurrency: usize,
}

impl Ctx {
    fn to_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SOS_BENCH_ENDPOINT", self.endpoint.clone()),
            ("SOS_BENCH_ACCESS_KEY", self.access_key.clone()),
            ("SOS_BENCH_SECRET_KEY", self.secret_key.clone()),
            ("SOS_BENCH_REGION", self.region.clone()),
            ("SOS_BENCH_BUCKET", self.bucket.clone()),
            (
                "SOS_BENCH_WORK_DIR",
                self.work_dir.to_string_lossy().into_owned(),
            ),
            ("SOS_BENCH_BIG", self.big.to_string()),
            ("SOS_BENCH_HUGE", self.huge.to_string()),
            ("SOS_BENCH_PART_SIZE", self.part_size.to_string()),
            ("SOS_BENCH_CONCURRENCY", self.concurrency.to_string()),
            ("SOS_BENCH_SMALL_COUNT", self.small_count.to_string()),
            ("SOS_BENCH_SMALL_SIZE", self.small_size.to_string()),
            (
                "SOS_BENCH_SMALL_CONCURRENCY",
                self.small_concurrency.to_string(),
            ),
        ]
    }

    fn from_env() -> Res<Self> {
        let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
        let num = |name: &str| -> Res<u64> { Ok(var(name)?.parse()?) };
        Ok(Self {
            endpoint: var("SOS_BENCH_ENDPOINT")?,
            access_key: var("SOS_BENCH_ACCESS_KEY")?,
            secret_key: var("SOS_BENCH_SECRET_KEY")?,
            region: var("SOS_BENCH_REGION")?,
            bucket: var("SOS_BENCH_BUCKET")?,
            work_dir: PathBuf::from(var("SOS_BENCH_WORK_DIR")?),
            big: num("SOS_BENCH_BIG")?,
            huge: num("SOS_BENCH_HUGE")?,
            part_size: num("SOS_BENCH_PART_SIZE")?,
            concurrency: usize::try_from(num("SOS_BENCH_CONCURRENCY")?)?,
            small_count: usize::try_from(num("SOS_BENCH_SMALL_COUNT")?)?,
            small_size: usize::try_from(num("SOS_BENCH_SMALL_SIZE")?)?,
            small_concurrency: usize::try_from(num("SOS_BENCH_SMALL_CONCURRENCY")?)?,
        })
    }

    fn big_file(&self) -> PathBuf {
        self.work_dir.join("big.bin")
    }

    fn huge_file(&self) -> PathBuf {
        self.work_dir.join("huge.bin")
    }

    fn download_file(&self, tool: Tool) -> PathBuf {
        self.work_dir.join(format!("download-{}.bin", tool.name()))
    }

    /// The key a tool writes for a case; the reading cases read the shared `src/` objects.
    fn key(tool: Tool, case: Case) -> String {
        format!("{}/{}", tool.name(), case.name())
    }

    fn small_key(tool: Tool, i: usize) -> String {
        format!("{}/small/{i:05}", tool.name())
    }

    fn sos_client(&self, signing: PayloadSigning) -> Res<Client> {
        Ok(Client::builder()
            .endpoint(Endpoint::parse(&self.endpoint)?.with_region(self.region.clone()))
            .credentials(Credentials::new(
                self.access_key.clone(),
                self.secret_key.clone(),
            ))
            .payload_signing(signing)
            .build()?)
    }
}

/// The shared objects the reading cases read.
const SRC_BIG: &str = "src/big";
const SRC_HUGE: &str = "src/huge";

// ---------------------------------------------------------------------------------------
// The clients, one trait

/// The operations a client does in the cases. Each runs inside the child process's
/// runtime; a default body is "not supported" (the parent never asks for those).
pub(crate) trait S3Tool {
    async fn put_file(&self, _key: &str, _path: &Path) -> Res<()> {
        Err("not supported".into())
    }
    async fn put_mem(&self, key: &str, data: Bytes) -> Res<()>;
    /// Streams the object, counting the bytes and dropping them.
    async fn get(&self, key: &str) -> Res<u64>;
    async fn upload(&self, key: &str, path: &Path, part: u64, concurrency: usize) -> Res<()>;
    /// Downloads into `path`; returns the bytes written.
    async fn download(&self, key: &str, path: &Path, part: u64, concurrency: usize) -> Res<u64>;
    /// Reads a small object whole.
    async fn get_small(&self, key: &str) -> Res<u64>;
}

struct Sos {
    client: Client,
    bucket: String,
    /// `Auto` for `sos`; `None` for `sos-unsigned`, which then sends what curl sends.
    checksum: Checksum,
}

impl S3Tool for Sos {
    async fn put_file(&self, key: &str, path: &Path) -> Res<()> {
        self.client
            .put_object(&self.bucket, key)
            .file(path)
            .checksum(self.checksum)
            .send()
            .await?;
        Ok(())
    }

    async fn put_mem(&self, key: &str, data: Bytes) -> Res<()> {
        self.client
            .put_object(&self.bucket, key)
            .body(data)
            .checksum(self.checksum)
            .send()
            .await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Res<u64> {
        let mut object = self.client.get_object(&self.bucket, key).send().await?;
        let mut n = 0;
        while let Some(chunk) = object.body.next().await {
            n += chunk?.len() as u64;
        }
        Ok(n)
    }

    async fn upload(&self, key: &str, path: &Path, part: u64, concurrency: usize) -> Res<()> {
        self.client
            .upload(&self.bucket, key)
            .part_size(part)
            .concurrency(concurrency)
            .checksum(self.checksum)
            .file(path)
            .await?;
        Ok(())
    }

    async fn download(&self, key: &str, path: &Path, part: u64, concurrency: usize) -> Res<u64> {
        self.client
            .download(&self.bucket, key)
            .part_size(part)
            .concurrency(concurrency)
            .to_file(path)
            .await?;
        Ok(tokio::fs::metadata(path).await?.len())
    }

    async fn get_small(&self, key: &str) -> Res<u64> {
        Ok(self
            .client
            .get_object(&self.bucket, key)
            .bytes()
            .await?
            .len() as u64)
    }
}

// Helpers the peers share: the same part arithmetic and file writes as sos-client's
// transfer manager, so that only the clients differ.

/// Runs `part(offset, len)` over `0..size` in `part_size` pieces, `concurrency` at once;
/// returns the sum of what the parts return.
#[cfg_attr(not(feature = "peers"), allow(dead_code))]
pub(crate) async fn in_parts<F, Fut>(
    size: u64,
    part_size: u64,
    concurrency: usize,
    part: F,
) -> Res<u64>
where
    F: Fn(u64, u64) -> Fut,
    Fut: Future<Output = Res<u64>>,
{
    let parts = size.div_ceil(part_size);
    let counts: Vec<u64> = futures_util::stream::iter(0..parts)
        .map(|i| {
            let offset = i * part_size;
            part(offset, part_size.min(size - offset))
        })
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
    Ok(counts.iter().sum())
}

/// Creates `path` with `size` bytes (sparse), for parts to be written into.
#[cfg_attr(not(feature = "peers"), allow(dead_code))]
pub(crate) async fn create_sized(path: &Path, size: u64) -> Res<()> {
    let file = tokio::fs::File::create(path).await?;
    file.set_len(size).await?;
    Ok(())
}

/// Writes a body stream into `path` at `offset`; returns the bytes written.
#[cfg_attr(not(feature = "peers"), allow(dead_code))]
pub(crate) async fn write_at<S, E>(path: &Path, offset: u64, mut body: S) -> Res<u64>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<Error>,
{
    let mut file = tokio::fs::OpenOptions::new().write(true).open(path).await?;
    file.seek(std::io::SeekFrom::Start(offset)).await?;
    let mut written = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(Into::into)?;
        file.write_all(&chunk).await?;
        written += chunk.len() as u64;
    }
    file.flush().await?;
    Ok(written)
}

// ---------------------------------------------------------------------------------------
// The child: one case of one tool

/// One measurement, printed by the child as a `RESULT` line.
#[derive(Clone, Debug)]
struct Measure {
    label: &'static str,
    bytes: u64,
    ops: u64,
    secs: f64,
    /// CPU time (user + system) of the client process while the clock ran.
    cpu: f64,
    /// CPU time of the parent process meanwhile: the embedded server's (about zero with an
    /// external server).
    server_cpu: f64,
}

/// Wall clock and CPU times of the client (this process) and of the server (the parent).
struct Clock {
    start: Instant,
    cpu: f64,
    server_cpu: f64,
}

impl Clock {
    fn start() -> Self {
        Self {
            cpu: cpu_secs("self").0,
            server_cpu: cpu_secs(&std::os::unix::process::parent_id().to_string()).0,
            start: Instant::now(),
        }
    }

    fn stop(&self, label: &'static str, bytes: u64, ops: u64) -> Measure {
        let secs = self.start.elapsed().as_secs_f64();
        Measure {
            label,
            bytes,
            ops,
            secs,
            cpu: cpu_secs("self").0 - self.cpu,
            server_cpu: cpu_secs(&std::os::unix::process::parent_id().to_string()).0
                - self.server_cpu,
        }
    }
}

/// User + system CPU seconds of a process and of its waited-for children, from
/// `/proc/PID/stat` (in clock ticks: 1/100 s on Linux).
fn cpu_secs(pid: &str) -> (f64, f64) {
    const TICKS: f64 = 100.0;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command name, in parentheses, come the fields from the third: utime is the
    // 14th, stime, cutime, cstime follow.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    match fields[..] {
        [utime, stime, cutime, cstime] => ((utime + stime) / TICKS, (cutime + cstime) / TICKS),
        _ => (0.0, 0.0),
    }
}

fn child(args: &[String]) -> Res<()> {
    let [tool, case] = args else {
        return Err("usage: --child TOOL CASE".into());
    };
    let tool = Tool::parse(tool).ok_or_else(|| format!("unknown tool {tool}"))?;
    let case = Case::parse(case).ok_or_else(|| format!("unknown case {case}"))?;
    let ctx = Ctx::from_env()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // The work runs in a task of the runtime, as in a service, not on the thread blocked on
    // it: the connection's task and the task reading its body then share a worker instead of
    // waking each other across threads for every chunk (a third of a GET's client CPU, with
    // hyper-based clients). The same for every tool.
    let measures = runtime.block_on(async move {
        tokio::spawn(async move { run_tool(tool, case, &ctx).await.map_err(|e| e.to_string()) })
            .await
    })??;
    drop(runtime);
    let hwm = proc_status_kib("VmHWM");
    let mut out = std::io::stdout().lock();
    for m in measures {
        writeln!(
            out,
            "RESULT {} {} {} {:.6} {:.2} {:.2} {}",
            m.label, m.bytes, m.ops, m.secs, m.cpu, m.server_cpu, hwm
        )?;
    }
    Ok(())
}

async fn run_tool(tool: Tool, case: Case, ctx: &Ctx) -> Res<Vec<Measure>> {
    match tool {
        Tool::Sos | Tool::SosUnsigned => {
            let signing = if tool == Tool::Sos {
                PayloadSigning::Auto
            } else {
                PayloadSigning::Unsigned
            };
            let sos = Sos {
                client: ctx.sos_client(signing)?,
                bucket: ctx.bucket.clone(),
                checksum: if tool == Tool::Sos {
                    Checksum::Auto
                } else {
                    Checksum::None
                },
            };
            run_case(&sos, tool, case, ctx).await
        }
        #[cfg(feature = "peers")]
        Tool::AwsSdkS3 => run_case(&peers::AwsSdkS3::new(ctx), tool, case, ctx).await,
        #[cfg(feature = "peers")]
        Tool::ObjectStore => run_case(&peers::ObjectStore::new(ctx)?, tool, case, ctx).await,
        #[cfg(feature = "peers")]
        Tool::RustS3 => run_case(&peers::RustS3::new(ctx)?, tool, case, ctx).await,
        other => Err(format!("{} is not built in (the `peers` feature)", other.name()).into()),
    }
}

async fn run_case<T: S3Tool>(t: &T, tool: Tool, case: Case, ctx: &Ctx) -> Res<Vec<Measure>> {
    let key = Ctx::key(tool, case);
    let measures = match case {
        Case::PutFile => {
            let clock = Clock::start();
            t.put_file(&key, &ctx.big_file()).await?;
            vec![clock.stop("put-file", ctx.big, 1)]
        }
        Case::PutMem => {
            let data = Bytes::from(tokio::fs::read(ctx.big_file()).await?);
            let clock = Clock::start();
            t.put_mem(&key, data).await?;
            vec![clock.stop("put-mem", ctx.big, 1)]
        }
        Case::Get => {
            let clock = Clock::start();
            let n = t.get(SRC_BIG).await?;
            let m = clock.stop("get", n, 1);
            if n != ctx.big {
                return Err(format!("GET gave {n} bytes of {}", ctx.big).into());
            }
            vec![m]
        }
        Case::Upload => {
            let clock = Clock::start();
            t.upload(&key, &ctx.huge_file(), ctx.part_size, ctx.concurrency)
                .await?;
            vec![clock.stop("upload", ctx.huge, 1)]
        }
        Case::Download => {
            let path = ctx.download_file(tool);
            let clock = Clock::start();
            let n = t
                .download(SRC_HUGE, &path, ctx.part_size, ctx.concurrency)
                .await?;
            let m = clock.stop("download", n, 1);
            if n != ctx.huge {
                return Err(format!("the download wrote {n} bytes of {}", ctx.huge).into());
            }
            vec![m]
        }
        Case::Small => {
            let data = Bytes::from(pseudo_random(ctx.small_size, 7));
            let keys: Vec<String> = (0..ctx.small_count)
                .map(|i| Ctx::small_key(tool, i))
                .collect();
            let total = (ctx.small_count * ctx.small_size) as u64;
            let ops = ctx.small_count as u64;
            let clock = Clock::start();
            // Owned keys: a future borrowing from the stream's items is not `Send` for
            // `tokio::spawn` (rustc cannot prove it for every lifetime).
            futures_util::stream::iter(keys.iter().cloned())
                .map(|k| {
                    let data = data.clone();
                    async move { t.put_mem(&k, data).await }
                })
                .buffer_unordered(ctx.small_concurrency)
                .try_collect::<Vec<()>>()
                .await?;
            let put = clock.stop("small-put", total, ops);
            let clock = Clock::start();
            let got: Vec<u64> = futures_util::stream::iter(keys.iter().cloned())
                .map(|k| async move { t.get_small(&k).await })
                .buffer_unordered(ctx.small_concurrency)
                .try_collect()
                .await?;
            let get = clock.stop("small-get", got.iter().sum(), ops);
            if get.bytes != total {
                return Err(format!("small GETs gave {} bytes of {total}", get.bytes).into());
            }
            vec![put, get]
        }
    };
    Ok(measures)
}

/// Where the embedded server keeps its objects: `SOS_BENCH_SERVER_DIR`, else `/dev/shm` when
/// memory has room for the largest moment of a run (the source objects, an upload being
/// assembled from its parts: about 4.5 GiB, a tenth of that with `--quick`), else the
/// temporary directory. On a disk, s3s-fs's three files and renames per PUT make the small
/// objects' rate follow the file system's journal (the same client measured 1.3 to 2.6
/// thousand PUTs/s from run to run); in memory the server's cost is the same for every client
/// and the table compares the clients.
fn server_data_dir(quick: bool) -> PathBuf {
    if let Some(dir) = std::env::var_os("SOS_BENCH_SERVER_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let shm = Path::new("/dev/shm");
    let needed_kib = if quick { 512 } else { 6 * 1024 } * 1024;
    let available_kib = kib_field("/proc/meminfo", "MemAvailable");
    if shm.is_dir() && available_kib >= needed_kib {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    }
}

/// A field of `/proc/self/status` in KiB (`VmHWM`: peak resident set).
fn proc_status_kib(field: &str) -> u64 {
    kib_field("/proc/self/status", field)
}

/// A `Field: N kB` line of a `/proc` file, in KiB (0 when missing).
fn kib_field(file: &str, field: &str) -> u64 {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let rest = line.strip_prefix(field)?.strip_prefix(':')?;
                rest.trim().strip_suffix("kB")?.trim().parse().ok()
            })
        })
        .unwrap_or(0)
}

/// Incompressible bytes (splitmix64), the same for the same seed.
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut out = vec![0u8; len];
    fill_random(&mut out, seed);
    out
}

fn fill_random(buf: &mut [u8], seed: u64) {
    let mut state = seed;
    for chunk in buf.chunks_mut(8) {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
    }
}

// ---------------------------------------------------------------------------------------
// The parent: server, data, children, table

struct Options {
    quick: bool,
    repeat: usize,
    tools: Vec<Tool>,
    cases: Vec<Case>,
}

fn parse_options(args: &[String]) -> Res<Options> {
    let env_flag = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0");
    let mut options = Options {
        quick: env_flag("SOS_BENCH_QUICK"),
        repeat: 1,
        tools: TOOLS
            .into_iter()
            .filter(|t| cfg!(feature = "peers") || !t.is_peer())
            .collect(),
        cases: CASES.to_vec(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--repeat" => {
                options.repeat = args.next().ok_or("--repeat N")?.parse()?;
                options.repeat = options.repeat.max(1);
            }
            "--tools" => {
                let list = args.next().ok_or("--tools a,b")?;
                options.tools = list
                    .split(',')
                    .map(|t| Tool::parse(t).ok_or_else(|| format!("unknown tool {t}")))
                    .collect::<Result<_, _>>()?;
            }
            "--cases" => {
                let list = args.next().ok_or("--cases a,b")?;
                options.cases = list
                    .split(',')
                    .map(|c| Case::parse(c).ok_or_else(|| format!("unknown case {c}")))
                    .collect::<Result<_, _>>()?;
            }
            "-h" | "--help" => {
                println!(
                    "client_throughput [--quick] [--repeat N] [--tools {}] [--cases {}]\n\
                     env: SOS_BENCH_QUICK=1, SOS_BENCH_PART_MIB (8), SOS_BENCH_CONCURRENCY (8),\n\
                     SOS_BENCH_SMALL_COUNT (1000), SOS_BENCH_SMALL_CONCURRENCY (32),\n\
                     SOS_BENCH_ENDPOINT/ACCESS_KEY/SECRET_KEY/REGION (an external server instead\n\
                     of the embedded s3s-fs), SOS_BENCH_BUCKET (an existing bucket there),\n\
                     SOS_BENCH_SERVER_DIR (where the embedded server keeps its data; default\n\
                     /dev/shm when it has the room, else the temporary directory)",
                    TOOLS.map(Tool::name).join(","),
                    CASES.map(Case::name).join(",")
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other} (see --help)").into()),
        }
    }
    if !cfg!(feature = "peers") && options.tools.iter().any(|t| t.is_peer()) {
        return Err("the peer clients need `--features peers`".into());
    }
    Ok(options)
}

/// The repeats of one label of one tool: the best, and every run's wall time (for the
/// median, which one lucky or unlucky run does not move).
#[derive(Clone, Debug)]
struct Outcome {
    best: Measure,
    all_secs: Vec<f64>,
    peak_rss_kib: u64,
}

impl Outcome {
    /// The median run's wall time (the mean of the two middle ones for an even count).
    fn median_secs(&self) -> f64 {
        let mut secs = self.all_secs.clone();
        secs.sort_by(f64::total_cmp);
        match secs.len() {
            0 => self.best.secs,
            n if n % 2 == 1 => secs[n / 2],
            n => (secs[n / 2 - 1] + secs[n / 2]) / 2.0,
        }
    }
}

type Results = Vec<((Tool, &'static str), Result<Outcome, String>)>;

fn parent(args: &[String]) -> Res<()> {
    let options = parse_options(args)?;
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let part_mib: u64 = env("SOS_BENCH_PART_MIB").map_or(Ok(8), |v| v.parse())?;
    let concurrency: usize = env("SOS_BENCH_CONCURRENCY").map_or(Ok(8), |v| v.parse())?;
    let small_count = env("SOS_BENCH_SMALL_COUNT").map(|v| v.parse::<usize>());
    let small_concurrency: usize =
        env("SOS_BENCH_SMALL_CONCURRENCY").map_or(Ok(32), |v| v.parse())?;

    // The server: external, or the embedded s3s-fs in this process.
    let mut embedded = None;
    let (endpoint, access_key, secret_key, server_name) = match env("SOS_BENCH_ENDPOINT") {
        Some(endpoint) => (
            endpoint.clone(),
            env("SOS_BENCH_ACCESS_KEY").ok_or("SOS_BENCH_ACCESS_KEY is not set")?,
            env("SOS_BENCH_SECRET_KEY").ok_or("SOS_BENCH_SECRET_KEY is not set")?,
            format!("external {endpoint}"),
        ),
        None => {
            let server = sos_testing::EmbeddedS3::start_in(&server_data_dir(options.quick))?;
            let out = (
                server.endpoint(),
                server.access_key().to_owned(),
                server.secret_key().to_owned(),
                format!(
                    "embedded s3s-fs on {} (in the parent process, 2 runtime threads; data in {})",
                    server.endpoint(),
                    server.data_dir().display()
                ),
            );
            embedded = Some(server);
            out
        }
    };
    let own_bucket = env("SOS_BENCH_BUCKET").is_none();
    let work = tempfile::Builder::new()
        .prefix("sos-client-throughput-")
        .tempdir()?;
    let ctx = Ctx {
        endpoint,
        access_key,
        secret_key,
        region: env("SOS_BENCH_REGION").unwrap_or_else(|| "us-east-1".to_owned()),
        bucket: env("SOS_BENCH_BUCKET")
            .unwrap_or_else(|| format!("sos-bench-{}", std::process::id())),
        work_dir: work.path().to_owned(),
        big: if options.quick { 32 } else { 256 } * MIB,
        huge: if options.quick { 128 } else { 1024 } * MIB,
        part_size: part_mib * MIB,
        concurrency,
        small_count: small_count.unwrap_or(Ok(if options.quick { 200 } else { 1000 }))?,
        small_size: 4096,
        small_concurrency,
    };

    let load_before = load_average();
    eprintln!("server: {server_name}");
    eprintln!("work dir: {}", ctx.work_dir.display());
    let start = Instant::now();
    write_data_file(&ctx.big_file(), ctx.big, 1)?;
    write_data_file(&ctx.huge_file(), ctx.huge, 2)?;
    eprintln!("data files written in {:.1?}", start.elapsed());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let client = ctx.sos_client(PayloadSigning::Unsigned)?;
    runtime.block_on(async {
        if own_bucket {
            client.create_bucket(&ctx.bucket).send().await?;
        }
        client
            .put_object(&ctx.bucket, SRC_BIG)
            .file(ctx.big_file())
            .send()
            .await?;
        client
            .upload(&ctx.bucket, SRC_HUGE)
            .part_size(16 * MIB)
            .file(ctx.huge_file())
            .await?;
        Ok::<_, Error>(())
    })?;
    eprintln!("source objects uploaded ({:.1?} so far)", start.elapsed());

    let curl = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::piped())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .nth(1)
                .map(str::to_owned)
        });
    if curl.is_none() && options.tools.contains(&Tool::Curl) {
        eprintln!("curl not found: its cases are skipped");
    }

    let exe = std::env::current_exe()?;
    let mut results: Results = Vec::new();
    for &case in &options.cases {
        let mut tools: Vec<Tool> = options
            .tools
            .iter()
            .copied()
            .filter(|&t| t.supports(case) && (t != Tool::Curl || curl.is_some()))
            .collect();
        // Per tool: the best run of each label, or the first failure.
        let mut outcomes: Vec<(Tool, Vec<Option<Outcome>>, Option<String>)> = tools
            .iter()
            .map(|&t| (t, vec![None; case.labels().len()], None))
            .collect();
        for round in 0..options.repeat {
            if round > 0 && !tools.is_empty() {
                // Another order each round, so that no tool always follows the same one.
                tools.rotate_left(1);
            }
            for &tool in &tools {
                let Some((_, best, failure)) = outcomes.iter_mut().find(|(t, ..)| *t == tool)
                else {
                    continue;
                };
                if failure.is_some() {
                    continue;
                }
                match run_once(&exe, &ctx, &runtime, &client, tool, case) {
                    Ok((measures, hwm)) => {
                        for (slot, m) in best.iter_mut().zip(measures) {
                            eprintln!(
                                "{:<13} {:<10} {:>8.1} MiB/s {:>7.3} s  CPU {:>5.2} s, server {:>5.2} s  peak RSS {} MiB",
                                tool.name(),
                                m.label,
                                mib_per_s(&m),
                                m.secs,
                                m.cpu,
                                m.server_cpu,
                                hwm / 1024
                            );
                            let peak = slot.as_ref().map_or(hwm, |o| o.peak_rss_kib.max(hwm));
                            let mut all_secs =
                                slot.as_ref().map_or_else(Vec::new, |o| o.all_secs.clone());
                            all_secs.push(m.secs);
                            let best = match slot.take() {
                                Some(o) if o.best.secs <= m.secs => o.best,
                                _ => m,
                            };
                            *slot = Some(Outcome {
                                best,
                                all_secs,
                                peak_rss_kib: peak,
                            });
                        }
                    }
                    Err(e) => {
                        eprintln!("{:<13} {:<10} FAILED: {e}", tool.name(), case.name());
                        *failure = Some(e.to_string());
                    }
                }
            }
        }
        for (tool, mut best, failure) in outcomes {
            for (i, label) in case.labels().iter().enumerate() {
                let outcome = match (&failure, best[i].take()) {
                    (None, Some(o)) => Ok(o),
                    (Some(e), _) => Err(e.clone()),
                    (None, None) => Err("no result".to_owned()),
                };
                results.push(((tool, label), outcome));
            }
        }
    }
    let load_after = load_average();

    if own_bucket {
        runtime.block_on(async {
            let _ = client
                .delete_objects(&ctx.bucket, [SRC_BIG, SRC_HUGE])
                .await;
            if embedded.is_none() {
                let _ = client.delete_bucket(&ctx.bucket).await;
            }
        });
    }
    drop(runtime);

    let report = report(
        &options,
        &ctx,
        &server_name,
        curl.as_deref(),
        &results,
        (&load_before, &load_after),
    );
    print!("{report}");
    drop(embedded);
    Ok(())
}

/// One run of one case by one tool, then its check and clean-up.
fn run_once(
    exe: &Path,
    ctx: &Ctx,
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    tool: Tool,
    case: Case,
) -> Res<(Vec<Measure>, u64)> {
    // The dirty pages of the previous run are written back now, not during this one.
    let _ = Command::new("sync").status();
    let run = if tool == Tool::Curl {
        run_curl(ctx, case)?
    } else {
        run_child(exe, ctx, tool, case)?
    };
    runtime.block_on(verify_and_clean(client, ctx, tool, case))?;
    Ok(run)
}

fn run_child(exe: &Path, ctx: &Ctx, tool: Tool, case: Case) -> Res<(Vec<Measure>, u64)> {
    let output = Command::new(exe)
        .args(["--child", tool.name(), case.name()])
        .envs(ctx.to_env())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("the child failed ({})", output.status).into());
    }
    let mut measures = Vec::new();
    let mut hwm = 0;
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("RESULT ") else {
            continue;
        };
        let fields: Vec<&str> = rest.split(' ').collect();
        let [label, bytes, ops, secs, cpu, server_cpu, peak] = fields[..] else {
            return Err(format!("a malformed result line: {line}").into());
        };
        let label = case
            .labels()
            .iter()
            .copied()
            .find(|l| *l == label)
            .ok_or_else(|| format!("an unexpected result {label}"))?;
        measures.push(Measure {
            label,
            bytes: bytes.parse()?,
            ops: ops.parse()?,
            secs: secs.parse()?,
            cpu: cpu.parse()?,
            server_cpu: server_cpu.parse()?,
        });
        hwm = peak.parse()?;
    }
    if measures.len() != case.labels().len() {
        return Err(format!("the child gave {} results: {stdout}", measures.len()).into());
    }
    Ok((measures, hwm))
}

/// curl, the reference: one PUT of the big file (`-T`, `UNSIGNED-PAYLOAD`), one GET of the
/// big object into `/dev/null`; the status must be 200. Its CPU time is read from this
/// process's children's times, its peak RSS from GNU time when installed.
fn run_curl(ctx: &Ctx, case: Case) -> Res<(Vec<Measure>, u64)> {
    let key = match case {
        Case::PutFile => Ctx::key(Tool::Curl, case),
        Case::Get => SRC_BIG.to_owned(),
        _ => return Err("not supported".into()),
    };
    let url = format!(
        "{}/{}/{}",
        ctx.endpoint.trim_end_matches('/'),
        ctx.bucket,
        key
    );
    let gnu_time = Path::new("/usr/bin/time");
    let rss_file = ctx.work_dir.join("curl-rss.txt");
    let mut command = if gnu_time.exists() {
        let mut c = Command::new(gnu_time);
        c.arg("-f").arg("%M").arg("-o").arg(&rss_file).arg("curl");
        c
    } else {
        Command::new("curl")
    };
    command
        .arg("-sS")
        .arg("--aws-sigv4")
        .arg(format!("aws:amz:{}:s3", ctx.region))
        .arg("--user")
        .arg(format!("{}:{}", ctx.access_key, ctx.secret_key))
        .arg("-H")
        .arg("x-amz-content-sha256: UNSIGNED-PAYLOAD")
        .arg("-o")
        .arg("/dev/null")
        .arg("-w")
        .arg("%{http_code} %{size_download} %{size_upload}");
    if case == Case::PutFile {
        command.arg("-T").arg(ctx.big_file());
    }
    command.arg(&url).stdin(Stdio::null());
    let (server_before, children_before) = cpu_secs("self");
    let start = Instant::now();
    let output = command.output()?;
    let secs = start.elapsed().as_secs_f64();
    let (server_after, children_after) = cpu_secs("self");
    let hwm = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    let written = String::from_utf8_lossy(&output.stdout).into_owned();
    let fields: Vec<&str> = written.split_whitespace().collect();
    if !output.status.success() || fields.first() != Some(&"200") {
        return Err(format!(
            "curl: {} {written} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    let moved: u64 = match case {
        Case::Get => fields.get(1).ok_or("curl's size_download")?.parse()?,
        _ => fields.get(2).ok_or("curl's size_upload")?.parse()?,
    };
    if moved != ctx.big {
        return Err(format!("curl moved {moved} bytes of {}", ctx.big).into());
    }
    let measure = Measure {
        label: case.labels()[0],
        bytes: moved,
        ops: 1,
        secs,
        cpu: children_after - children_before,
        server_cpu: server_after - server_before,
    };
    Ok((vec![measure], hwm))
}

/// Checks what a case left (sizes of uploaded objects, a downloaded file against the
/// source), then deletes it, so the next run starts from the same state.
async fn verify_and_clean(client: &Client, ctx: &Ctx, tool: Tool, case: Case) -> Res<()> {
    let key = Ctx::key(tool, case);
    match case {
        Case::PutFile | Case::PutMem | Case::Upload => {
            let expected = if case == Case::Upload {
                ctx.huge
            } else {
                ctx.big
            };
            let info = client.head_object(&ctx.bucket, &key).await?;
            client.delete_object(&ctx.bucket, &key).await?;
            if info.content_length != expected {
                return Err(
                    format!("{key} holds {} bytes, not {expected}", info.content_length).into(),
                );
            }
        }
        Case::Download => {
            let path = ctx.download_file(tool);
            let same = same_samples(&path, &ctx.huge_file(), ctx.huge);
            std::fs::remove_file(&path)?;
            if !same? {
                return Err("the downloaded file differs from the source".into());
            }
        }
        Case::Small => {
            let keys = (0..ctx.small_count).map(|i| Ctx::small_key(tool, i));
            let out = client.delete_objects(&ctx.bucket, keys).await?;
            if !out.errors.is_empty() {
                return Err(format!("{} small objects not deleted", out.errors.len()).into());
            }
        }
        Case::Get => {}
    }
    Ok(())
}

/// Compares one MiB at 17 places of two files of `size` bytes (a full compare would read
/// 2 GiB per run).
fn same_samples(a: &Path, b: &Path, size: u64) -> Res<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let (mut fa, mut fb) = (std::fs::File::open(a)?, std::fs::File::open(b)?);
    if fa.metadata()?.len() != size {
        return Ok(false);
    }
    let block = MIB.min(size);
    let (mut ba, mut bb) = (vec![0u8; block as usize], vec![0u8; block as usize]);
    for i in 0..=16 {
        let offset = (size - block) / 16 * i;
        fa.seek(SeekFrom::Start(offset))?;
        fb.seek(SeekFrom::Start(offset))?;
        fa.read_exact(&mut ba)?;
        fb.read_exact(&mut bb)?;
        if ba != bb {
            return Ok(false);
        }
    }
    Ok(true)
}

fn write_data_file(path: &Path, size: u64, seed: u64) -> Res<()> {
    let mut file = std::io::BufWriter::with_capacity(MIB as usize, std::fs::File::create(path)?);
    let mut block = vec![0u8; MIB as usize];
    let mut left = size;
    let mut i = 0;
    while left > 0 {
        let n = left.min(MIB);
        fill_random(&mut block, seed.wrapping_mul(1_000_003).wrapping_add(i));
        file.write_all(&block[..n as usize])?;
        left -= n;
        i += 1;
    }
    file.flush()?;
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn cpu_model() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!("{model}, {cores} cores")
}

fn mib_per_s(m: &Measure) -> f64 {
    m.bytes as f64 / MIB as f64 / m.secs.max(1e-9)
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{} KiB", bytes / 1024)
    }
}

fn report(
    options: &Options,
    ctx: &Ctx,
    server: &str,
    curl: Option<&str>,
    results: &Results,
    load: (&str, &str),
) -> String {
    let mut out = String::new();
    let tools: Vec<Tool> = options
        .tools
        .iter()
        .copied()
        .filter(|&t| results.iter().any(|((rt, _), _)| *rt == t))
        .collect();
    let budget = ctx.part_size * ctx.concurrency as u64 + 32 * MIB;
    let _ = writeln!(out, "## Client throughput\n");
    let _ = writeln!(out, "- server: {server}");
    let _ = writeln!(out, "- machine: {}", cpu_model());
    let _ = writeln!(
        out,
        "- load average (1, 5, 15 min) before: {}, after: {}",
        load.0, load.1
    );
    let _ = writeln!(
        out,
        "- multipart: {} parts, {} in flight; RSS target ≤ part × concurrency + 32 MiB = {} MiB",
        human(ctx.part_size),
        ctx.concurrency,
        budget / MIB
    );
    let _ = writeln!(
        out,
        "- {} run(s) per cell: throughput best (median), CPU and RSS of the best; curl {}\n",
        options.repeat,
        curl.unwrap_or("not found")
    );

    let big = human(ctx.big);
    let huge = human(ctx.huge);
    let small = format!(
        "{} × {}, {} in flight",
        ctx.small_count,
        human(ctx.small_size as u64),
        ctx.small_concurrency
    );
    let rows: [(&str, String); 7] = [
        ("put-file", format!("PUT {big} from a file, 1 request")),
        ("put-mem", format!("PUT {big} from memory, 1 request")),
        ("get", format!("GET {big}, 1 request, bytes dropped")),
        ("upload", format!("multipart upload of a {huge} file")),
        ("download", format!("parallel download of {huge} to a file")),
        ("small-put", format!("PUT {small}")),
        ("small-get", format!("GET {small}")),
    ];
    let header = |out: &mut String, first: &str| {
        let _ = write!(out, "| {first} |");
        for t in &tools {
            let _ = write!(out, " {} |", t.name());
        }
        let _ = write!(out, "\n|---|");
        for _ in &tools {
            let _ = write!(out, "---:|");
        }
        out.push('\n');
    };
    // One table: a row per case that has results, a cell per tool (`–` for none, `failed`,
    // or what `cell` makes of the outcome; `None` from it is `–` too).
    let table = |out: &mut String,
                 rows: &[(&str, String)],
                 cell: &dyn Fn(&str, &Outcome) -> Option<String>| {
        header(out, "case");
        for (label, title) in rows {
            if !results.iter().any(|((_, l), _)| l == label) {
                continue;
            }
            let _ = write!(out, "| {title} |");
            for &t in &tools {
                let found = results
                    .iter()
                    .find(|((tool, l), _)| *tool == t && l == label)
                    .map(|(_, o)| o);
                let text = match found {
                    Some(Err(_)) => "failed".to_owned(),
                    Some(Ok(o)) => cell(label, o).unwrap_or_else(|| "–".to_owned()),
                    None => "–".to_owned(),
                };
                let _ = write!(out, " {text} |");
            }
            out.push('\n');
        }
    };

    let _ = writeln!(
        out,
        "Throughput, MiB/s (small objects: objects/s), best (median) of the runs:\n"
    );
    table(&mut out, &rows, &|label, o| {
        Some(if label.starts_with("small") {
            format!(
                "{:.0}/s ({:.0}/s)",
                o.best.ops as f64 / o.best.secs.max(1e-9),
                o.best.ops as f64 / o.median_secs().max(1e-9)
            )
        } else {
            format!(
                "{:.0} ({:.0})",
                mib_per_s(&o.best),
                o.best.bytes as f64 / MIB as f64 / o.median_secs().max(1e-9)
            )
        })
    });

    let server_cpu = if server.starts_with("embedded") {
        "the embedded server's"
    } else {
        "this process's (not the external server's)"
    };
    let _ = writeln!(
        out,
        "\nCPU time, client / server (user + system, seconds per GiB moved; small objects: \
         µs per object); the server's is {server_cpu}:\n"
    );
    table(&mut out, &rows, &|label, o| {
        Some(if label.starts_with("small") {
            let per = 1e6 / o.best.ops.max(1) as f64;
            format!("{:.0} / {:.0}", o.best.cpu * per, o.best.server_cpu * per)
        } else {
            let per = (1u64 << 30) as f64 / o.best.bytes.max(1) as f64;
            format!("{:.2} / {:.2}", o.best.cpu * per, o.best.server_cpu * per)
        })
    });

    let _ = writeln!(
        out,
        "\nPeak RSS of the client process (VmHWM; curl: GNU time), MiB:\n"
    );
    // The small objects' one process does both: one row for them.
    let rss_rows: Vec<(&str, String)> = rows
        .iter()
        .filter(|(label, _)| *label != "small-get")
        .map(|(label, title)| {
            let title = if *label == "small-put" {
                format!("{title}, then GET")
            } else {
                title.clone()
            };
            (*label, title)
        })
        .collect();
    table(&mut out, &rss_rows, &|label, o| {
        let peak = o.peak_rss_kib * 1024;
        let mark = match label {
            "upload" | "download" if peak <= budget => " ✓",
            "upload" | "download" => " ✗",
            _ => "",
        };
        (o.peak_rss_kib > 0).then(|| format!("{}{mark}", peak / MIB))
    });
    let failures: Vec<String> = results
        .iter()
        .filter_map(|((t, l), o)| o.as_ref().err().map(|e| format!("{} {l}: {e}", t.name())))
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\nFailures:\n");
        for f in failures {
            let _ = writeln!(out, "- {f}");
        }
    }
    out
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--child") => child(&args[1..]),
        _ => parent(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("client_throughput: {e}");
            ExitCode::FAILURE
        }
    }
}
