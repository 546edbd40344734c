//! The in-process `s3s-fs` server.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use tokio::sync::oneshot;

/// Access key of every embedded server.
pub const ACCESS_KEY: &str = "SOSLOCALACCESSKEY";
/// The domain under which the embedded server answers virtual-host requests:
/// `http://BUCKET.s3.localhost:PORT` (names under `localhost` resolve to loopback).
pub const VIRTUAL_HOST_DOMAIN: &str = "s3.localhost";
/// Secret key of every embedded server.
pub const SECRET_KEY: &str = "sosLocalSecretKey/with+special=chars";

/// An S3 server (`s3s-fs` 0.14.1 over a temporary directory) running on `127.0.0.1` inside
/// this process, on a thread with its own tokio runtime, so both sync and async tests can use
/// it. Signatures (V4 header, V4 query, V2, POST policy) are verified against
/// [`ACCESS_KEY`]/[`SECRET_KEY`]. Dropping it stops the server and deletes the data.
#[derive(Debug)]
pub struct EmbeddedS3 {
    addr: SocketAddr,
    root: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedS3 {
    /// Starts a server on `127.0.0.1:0`, its data in a new directory under the system's
    /// temporary directory.
    ///
    /// # Errors
    /// The temporary directory, the runtime or the listener could not be created.
    pub fn start() -> std::io::Result<Self> {
        Self::start_in(&std::env::temp_dir())
    }

    /// Starts a server on `127.0.0.1:0`, its data in a new directory under `parent` (for
    /// example a memory file system, so that benchmarks measure the clients rather than the
    /// disk's journal).
    ///
    /// # Errors
    /// The directory, the runtime or the listener could not be created.
    pub fn start_in(parent: &std::path::Path) -> std::io::Result<Self> {
        let root = tempfile::Builder::new()
            .prefix("sos-embedded-s3-")
            .tempdir_in(parent)?;
        let fs = s3s_fs::FileSystem::new(root.path())
            .map_err(|e| std::io::Error::other(format!("s3s-fs: {e:?}")))?;
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;

        let mut builder = s3s::service::S3ServiceBuilder::new(crate::acl_store::AclStore::new(fs));
        builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        // Path-style on 127.0.0.1, virtual-host under s3.localhost. (With a
        // single domain, s3s reads any other host name as a CNAME bucket, so path-style
        // requests to `127.0.0.1:PORT` would fail with InvalidBucketName.)
        let port = addr.port();
        let domains = [
            format!("{VIRTUAL_HOST_DOMAIN}:{port}"),
            format!("127.0.0.1:{port}"),
        ];
        let host = s3s::host::MultiDomain::new(domains.iter().map(String::as_str))
            .map_err(|e| std::io::Error::other(format!("s3s domains: {e:?}")))?;
        builder.set_host(LoopbackHost(host));
        let service = builder.build();
        let (shutdown_tx, mut shutdown_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = mpsc::channel::<std::io::Result<()>>();

        let thread = std::thread::Builder::new()
            .name(format!("embedded-s3-{}", addr.port()))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let http = ConnBuilder::new(TokioExecutor::new());
                    loop {
                        tokio::select! {
                            _ = &mut shutdown_rx => break,
                            accepted = listener.accept() => {
                                let Ok((socket, _)) = accepted else { continue };
                                // Small answers must not wait for delayed ACKs (Nagle).
                                let _ = socket.set_nodelay(true);
                                let conn = http
                                    .serve_connection(TokioIo::new(socket), service.clone())
                                    .into_owned();
                                tokio::spawn(async move {
                                    let _ = conn.await;
                                });
                            }
                        }
                    }
                });
                // Dropping the runtime here cancels the connection tasks.
            })?;
        ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("embedded S3 thread died during start-up"))??;
        Ok(Self {
            addr,
            root,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `host:port` for virtual-host requests: `BUCKET.` + this.
    pub fn virtual_host_base(&self) -> String {
        format!("{VIRTUAL_HOST_DOMAIN}:{}", self.addr.port())
    }

    /// The access key the server accepts.
    pub fn access_key(&self) -> &'static str {
        ACCESS_KEY
    }

    /// The secret key the server accepts.
    pub fn secret_key(&self) -> &'static str {
        SECRET_KEY
    }

    /// The directory that holds the buckets (one folder per bucket, one file per object).
    pub fn data_dir(&self) -> &std::path::Path {
        self.root.path()
    }
}

impl Drop for EmbeddedS3 {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Any `127.0.0.1:*` host is path-style (so requests through a loopback proxy, whose `Host`
/// is the proxy's address, work); other names go to the virtual-host domains.
struct LoopbackHost(s3s::host::MultiDomain);

impl s3s::host::S3Host for LoopbackHost {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> s3s::S3Result<s3s::host::VirtualHost<'a>> {
        if host == "127.0.0.1" || host.starts_with("127.0.0.1:") {
            return Ok(s3s::host::VirtualHost::new(host));
        }
        self.0.parse_host_header(host)
    }
}
