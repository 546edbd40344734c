//! A fault-injecting HTTP/1.1 proxy on loopback, for retry tests.
//!
//! [`FaultProxy`] listens on `127.0.0.1:0` and relays every client connection to one upstream
//! server over a connection of its own, byte for byte: request and response heads are not
//! rewritten (so signatures stay valid) and bodies are streamed through 64 KiB buffers, never
//! held whole. Keep-alive works on both sides: the proxy finds the end of each request and
//! response (`Content-Length`, `Transfer-Encoding: chunked` with trailers, no body for `HEAD`,
//! `1xx`, `204` and `304`, or the end of the connection).
//!
//! Faults queued with [`FaultProxy::push_fault`] are consumed one per HTTP request, in the
//! order request heads arrive (over all connections); with an empty queue requests pass
//! through untouched. See [`Fault`] for what each one does to the connection.
//!
//! `Expect: 100-continue` is relayed, not handled: the head goes upstream as is, while the
//! proxy relays the upstream's interim `100 Continue` (or its early final answer) to the
//! client and pipes the body whenever the client sends it. When the final answer comes before
//! the whole request body was relayed, the proxy closes the client connection after it.
//!
//! The upstream sees the client's `Host` header, that is the proxy's address. A server that
//! routes on `Host` has to accept it: [`EmbeddedS3`](crate::EmbeddedS3) takes any
//! `127.0.0.1:PORT` as path-style, as do the RADOS Gateway and Garage.
//!
//! Anything malformed (a head over 64 KiB, a bad chunk size, conflicting `Content-Length`s, a
//! request with a non-chunked `Transfer-Encoding`, an upgrade) closes the connection. When the
//! upstream cannot be reached, the client connection is closed without an answer. An upstream
//! connection that the upstream closes while idle is replaced before the next request; one it
//! closes at the very moment a request is forwarded is not (the client then sees the
//! connection close, as it would talking to that server directly).

use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// Size of the read buffer of each side of a connection (and so of every relayed piece).
const IO_BUFFER: usize = 64 * 1024;
/// Longest request or response head, and longest trailer section.
const MAX_HEAD: usize = 64 * 1024;
/// Longest chunk-size or trailer line.
const MAX_LINE: usize = 8 * 1024;
/// Most empty lines accepted before a request line.
const MAX_LEADING_BLANK_LINES: usize = 8;
/// How long to wait for the upstream's TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// After a `Connection: close` answer: how long to swallow what the client still sends, so
/// that closing does not reset the connection before the client has read the answer.
const LINGER: Duration = Duration::from_secs(1);

/// The `RequestId` (and `x-amz-request-id`) of the answers the proxy makes up.
pub const FAULT_REQUEST_ID: &str = "fault-proxy";

/// A fault injected into one HTTP request by a [`FaultProxy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Read the whole request (head and body), then reset the connection (TCP RST, no answer):
    /// the client sees "connection reset" while waiting for the response. The request never
    /// reaches the upstream.
    ResetBeforeResponse,
    /// Like [`Fault::ResetBeforeResponse`] but closes the connection cleanly (FIN): the client
    /// sees the connection end before any response byte ("incomplete message").
    CloseBeforeResponse,
    /// Forward the request, relay the upstream's response head whole and the first `n` bytes
    /// of its body as they are on the wire (for a chunked body, chunk-size lines count), then
    /// close the connection (FIN): the client gets fewer body bytes than announced. A body of
    /// `n` bytes or fewer is relayed whole, and the connection is closed after it all the same.
    TruncateResponse(usize),
    /// Read the whole request without forwarding it and answer `503 Service Unavailable`
    /// with the S3 XML error `SlowDown` (`Content-Type: application/xml`, `Content-Length`
    /// set). The connection stays usable unless the request asked for `Connection: close`.
    SlowDown,
    /// Like [`Fault::SlowDown`] with `500 Internal Server Error` and the S3 XML error
    /// `InternalError`.
    InternalError,
    /// Like [`Fault::InternalError`] but with `200 OK`: the answer S3 gives when a copy
    /// (`CopyObject`, `UploadPartCopy`) or a `CompleteMultipartUpload` fails after the
    /// status line went out.
    InternalErrorAfterOk,
    /// Answer `200 OK` with a `<CopyObjectResult>` that never closes: what the RADOS Gateway
    /// sends when a copy fails after its first progress bytes went out.
    UnfinishedAfterOk,
    /// Read the whole request without forwarding it and answer `403 Forbidden` with the S3
    /// XML error `RequestTimeTooSkewed` and a `Date` header this far ahead of the local
    /// clock: a server whose clock differs from the client's.
    ClockAhead(Duration),
    /// Wait this long once the request head has arrived, then forward the request normally.
    /// A client that times out meanwhile does not stop it: the upstream still gets the head
    /// (and acts on a request without body), as a slow server would.
    Delay(Duration),
}

/// A loopback HTTP/1.1 proxy in front of one upstream server that injects queued [`Fault`]s.
///
/// It runs on the tokio runtime it was started on. Dropping it stops the listener and ends
/// every connection it relays.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy on `127.0.0.1:0` in front of `upstream`: `HOST:PORT` (e.g.
    /// `127.0.0.1:7480`) or `http://HOST:PORT` (as [`EmbeddedS3::endpoint`] gives it). The
    /// name is resolved once, here (IPv4 preferred). The proxy's tasks are spawned on the
    /// current tokio runtime.
    ///
    /// # Errors
    /// Not called within a tokio runtime, an `https://` upstream, a name that does not
    /// resolve, or the listener could not be bound.
    ///
    /// [`EmbeddedS3::endpoint`]: crate::EmbeddedS3::endpoint
    pub async fn start(upstream: &str) -> io::Result<Self> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let upstream = resolve(upstream).await?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            faults: Mutex::new(VecDeque::new()),
            requests_seen: AtomicUsize::new(0),
            faults_injected: AtomicUsize::new(0),
        });
        let task = runtime.spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(Self { addr, shared, task })
    }

    /// The socket address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port the proxy listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The upstream address requests are forwarded to.
    pub fn upstream(&self) -> SocketAddr {
        self.shared.upstream
    }

    /// Queues `fault` for the next request that arrives after those already queued.
    pub fn push_fault(&self, fault: Fault) {
        self.shared.faults().push_back(fault);
    }

    /// How many queued faults no request has consumed yet.
    pub fn pending_faults(&self) -> usize {
        self.shared.faults().len()
    }

    /// How many request heads have arrived, faulted or not. A request is counted before its
    /// answer is sent, so the count is up to date once the client has its response.
    pub fn requests_seen(&self) -> usize {
        self.shared.requests_seen.load(Ordering::SeqCst)
    }

    /// How many requests consumed a fault (counted like [`FaultProxy::requests_seen`]).
    pub fn faults_injected(&self) -> usize {
        self.shared.faults_injected.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // The accept task owns the connection tasks (a JoinSet): aborting it ends them too.
        self.task.abort();
    }
}

#[derive(Debug)]
struct Shared {
    upstream: SocketAddr,
    faults: Mutex<VecDeque<Fault>>,
    requests_seen: AtomicUsize,
    faults_injected: AtomicUsize,
}

impl Shared {
    fn faults(&self) -> std::sync::MutexGuard<'_, VecDeque<Fault>> {
        // The queue stays consistent whatever panicked while holding the lock.
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one arrived request and takes its fault, if any is queued.
    fn next_fault(&self) -> Option<Fault> {
        self.requests_seen.fetch_add(1, Ordering::SeqCst);
        let fault = self.faults().pop_front();
        if fault.is_some() {
            self.faults_injected.fetch_add(1, Ordering::SeqCst);
        }
        fault
    }
}

async fn resolve(upstream: &str) -> io::Result<SocketAddr> {
    if upstream.starts_with("https://") {
        return Err(io::Error::other(format!(
            "fault proxy: {upstream}: only plain HTTP upstreams are supported"
        )));
    }
    let authority = upstream
        .strip_prefix("http://")
        .unwrap_or(upstream)
        .trim_end_matches('/');
    let mut addrs: Vec<SocketAddr> = tokio::net::lookup_host(authority).await?.collect();
    addrs.sort_by_key(|a| !a.is_ipv4());
    addrs
        .into_iter()
        .next()
        .ok_or_else(|| io::Error::other(format!("fault proxy: {authority} does not resolve")))
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => {
                    connections.spawn(serve(socket, Arc::clone(&shared)));
                }
                // Out of file descriptors or similar: do not spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next() => {}
        }
    }
}

async fn serve(socket: TcpStream, shared: Arc<Shared>) {
    // Heads and bodies go out in separate writes; Nagle would delay the second one.
    let _ = socket.set_nodelay(true);
    let (r, w) = socket.into_split();
    let mut conn = Connection {
        client_r: BufReader::with_capacity(IO_BUFFER, r),
        client_w: w,
        upstream: None,
        shared,
    };
    match conn.run().await {
        Ok(End::Graceful) => conn.close_gracefully().await,
        Ok(End::Reset) => conn.reset(),
        // Dropping the halves closes the connection (FIN).
        Ok(End::Abrupt) | Err(_) => {}
    }
}

/// How a client connection ends.
enum End {
    /// After a complete answer: FIN, then swallow what the client still sends for a while.
    Graceful,
    /// FIN right away.
    Abrupt,
    /// RST.
    Reset,
}

struct Upstream {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
}

impl Upstream {
    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connecting upstream"))??;
        stream.set_nodelay(true)?;
        let (r, w) = stream.into_split();
        Ok(Self {
            r: BufReader::with_capacity(IO_BUFFER, r),
            w,
        })
    }
}

struct Connection {
    client_r: BufReader<OwnedReadHalf>,
    client_w: OwnedWriteHalf,
    /// Opened at the first forwarded request, kept while both sides keep the connection alive.
    upstream: Option<Upstream>,
    shared: Arc<Shared>,
}

impl Connection {
    async fn run(&mut self) -> io::Result<End> {
        loop {
            let Some(request) = self.next_request().await? else {
                return Ok(End::Abrupt);
            };
            let keep_alive = match self.shared.next_fault() {
                None => self.forward(&request, None).await?,
                Some(Fault::Delay(delay)) => {
                    tokio::time::sleep(delay).await;
                    self.forward(&request, None).await?
                }
                Some(Fault::TruncateResponse(n)) => {
                    let n = u64::try_from(n).unwrap_or(u64::MAX);
                    self.forward(&request, Some(n)).await?;
                    return Ok(End::Abrupt);
                }
                Some(Fault::ResetBeforeResponse) => {
                    self.discard_body(&request).await?;
                    return Ok(End::Reset);
                }
                Some(Fault::CloseBeforeResponse) => {
                    self.discard_body(&request).await?;
                    return Ok(End::Abrupt);
                }
                Some(Fault::SlowDown) => self.answer(&request, &SLOW_DOWN, "").await?,
                Some(Fault::InternalError) => self.answer(&request, &INTERNAL_ERROR, "").await?,
                Some(Fault::InternalErrorAfterOk) => {
                    self.answer(&request, &INTERNAL_ERROR_AFTER_OK, "").await?
                }
                Some(Fault::UnfinishedAfterOk) => {
                    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CopyObjectResult>\n";
                    self.answer_with(&request, "200 OK", body, "").await?
                }
                Some(Fault::ClockAhead(ahead)) => {
                    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + ahead);
                    let date = format!("Date: {date}\r\n");
                    self.answer(&request, &TOO_SKEWED, &date).await?
                }
            };
            if !keep_alive {
                return Ok(End::Graceful);
            }
        }
    }

    /// The next request head from the client; `None` when the client closed between requests.
    /// Meanwhile, an idle upstream connection that the upstream closes is dropped (a new one
    /// is opened for the next forwarded request).
    async fn next_request(&mut self) -> io::Result<Option<Request>> {
        let read = read_head(&mut self.client_r);
        tokio::pin!(read);
        let head = loop {
            tokio::select! {
                // Upstream first: a connection it closed is not used for the next request.
                biased;
                () = upstream_activity(self.upstream.as_mut()) => {}
                head = &mut read => break head?,
            }
            // Either closed or sent something unasked: it cannot be used for a next request.
            self.upstream = None;
        };
        head.map(Request::parse).transpose()
    }

    /// Forwards `request` and relays the response (the first `truncate_after` body bytes
    /// only, when set). Returns whether the client connection stays usable.
    async fn forward(
        &mut self,
        request: &Request,
        truncate_after: Option<u64>,
    ) -> io::Result<bool> {
        let upstream = match self.upstream.take() {
            Some(upstream) => upstream,
            None => Upstream::connect(self.shared.upstream).await?,
        };
        let upstream = self.upstream.insert(upstream);
        upstream.w.write_all(&request.head).await?;

        // The body and the response are relayed at the same time: the response may start
        // before the body was sent (`100 Continue`, or an early error).
        let (response, body_complete) = {
            let mut no_budget = None;
            let send_body = relay_body(
                &mut self.client_r,
                &mut upstream.w,
                request.body,
                &mut no_budget,
            );
            let relay =
                relay_response(&mut upstream.r, &mut self.client_w, request, truncate_after);
            tokio::pin!(send_body, relay);
            let mut body_done = false;
            let mut body_complete = false;
            let response = loop {
                tokio::select! {
                    biased;
                    sent = &mut send_body, if !body_done => {
                        body_done = true;
                        match sent {
                            Ok(()) => body_complete = true,
                            // The client is gone or sent a malformed body.
                            Err(Failure::Source(e)) => return Err(e),
                            // The upstream stopped reading: it may still answer.
                            Err(Failure::Sink(_) | Failure::Truncated) => {}
                        }
                    }
                    response = &mut relay => break response?,
                }
            };
            (response, body_complete)
        };
        let keep_alive = body_complete && !response.close && !request.close;
        if !keep_alive {
            self.upstream = None;
        }
        Ok(keep_alive)
    }

    /// Reads and drops the request body, sending `100 Continue` first when the client waits
    /// for it.
    async fn discard_body(&mut self, request: &Request) -> io::Result<()> {
        if request.body == Body::Empty {
            return Ok(());
        }
        if request.expect_continue {
            self.client_w.write_all(CONTINUE).await?;
        }
        relay_body(
            &mut self.client_r,
            &mut tokio::io::sink(),
            request.body,
            &mut None,
        )
        .await
        .map_err(io::Error::from)
    }

    /// Answers with a made-up S3 error, without forwarding. Returns whether the client
    /// connection stays usable.
    async fn answer(
        &mut self,
        request: &Request,
        canned: &Canned,
        extra_headers: &str,
    ) -> io::Result<bool> {
        self.answer_with(request, canned.status, &canned.body(), extra_headers)
            .await
    }

    /// Answers `status` with the XML `body`, without forwarding.
    async fn answer_with(
        &mut self,
        request: &Request,
        status: &str,
        body: &str,
        extra_headers: &str,
    ) -> io::Result<bool> {
        self.discard_body(request).await?;
        let mut out = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\
             x-amz-request-id: {FAULT_REQUEST_ID}\r\nServer: sos-fault-proxy\r\n{extra_headers}",
            body.len()
        );
        if request.close {
            out.push_str("Connection: close\r\n");
        }
        out.push_str("\r\n");
        if !request.is_head_method {
            out.push_str(body);
        }
        self.client_w.write_all(out.as_bytes()).await?;
        Ok(!request.close)
    }

    async fn close_gracefully(mut self) {
        let _ = self.client_w.shutdown().await;
        let mut sink = tokio::io::sink();
        let _ =
            tokio::time::timeout(LINGER, tokio::io::copy_buf(&mut self.client_r, &mut sink)).await;
    }

    fn reset(self) {
        // A zero linger time makes closing the socket send RST. Forgetting the write half
        // keeps it from sending FIN first; dropping the read half then closes the socket.
        let _ = self.client_w.as_ref().set_zero_linger();
        self.client_w.forget();
        drop(self.client_r);
    }
}

/// Completes when the upstream connection, idle between requests, closes or sends something;
/// never when there is none.
async fn upstream_activity(upstream: Option<&mut Upstream>) {
    match upstream {
        Some(upstream) => {
            let _ = upstream.r.fill_buf().await;
        }
        None => std::future::pending().await,
    }
}

/// Relays interim responses, then the final response with its body (the first
/// `truncate_after` body bytes only, when set; then fails with [`Failure::Truncated`]).
async fn relay_response(
    upstream: &mut BufReader<OwnedReadHalf>,
    client: &mut OwnedWriteHalf,
    request: &Request,
    truncate_after: Option<u64>,
) -> io::Result<Response> {
    loop {
        let head = read_head(upstream).await?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "upstream closed the connection before answering",
            )
        })?;
        let response = Response::parse(head, request)?;
        if response.status == 101 {
            return Err(malformed("protocol upgrades are not supported"));
        }
        client.write_all(&response.head).await?;
        if response.status < 200 {
            continue;
        }
        let mut budget = truncate_after;
        relay_body(upstream, client, response.body, &mut budget).await?;
        return Ok(response);
    }
}

/// How a request or response body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Empty,
    Length(u64),
    Chunked,
    /// Responses only: the body ends with the connection.
    UntilClose,
}

struct Request {
    head: Vec<u8>,
    is_head_method: bool,
    body: Body,
    expect_continue: bool,
    /// The client will not send another request on this connection.
    close: bool,
}

impl Request {
    fn parse(head: Vec<u8>) -> io::Result<Self> {
        let fields = Fields::parse(&head)?;
        let mut parts = fields.start_line.split(|&b| b == b' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("bad request line"));
        };
        if method.is_empty() || target.is_empty() {
            return Err(malformed("bad request line"));
        }
        let http10 = http_1_0(version)?;
        let framing = Framing::of(&fields.headers)?;
        let body = match (framing.chunked, framing.content_length) {
            (Some(true), _) => Body::Chunked,
            (Some(false), _) => {
                return Err(malformed("request transfer coding other than chunked"));
            }
            (None, Some(0) | None) => Body::Empty,
            (None, Some(n)) => Body::Length(n),
        };
        let close = if http10 {
            !framing.keep_alive
        } else {
            framing.close
        };
        let is_head_method = method == b"HEAD";
        let expect_continue = framing.expect_continue;
        Ok(Self {
            head,
            is_head_method,
            body,
            expect_continue,
            close,
        })
    }
}

struct Response {
    head: Vec<u8>,
    status: u16,
    body: Body,
    /// The upstream closes the connection after this response.
    close: bool,
}

impl Response {
    fn parse(head: Vec<u8>, request: &Request) -> io::Result<Self> {
        let fields = Fields::parse(&head)?;
        let mut parts = fields.start_line.splitn(3, |&b| b == b' ');
        let (Some(version), Some(status)) = (parts.next(), parts.next()) else {
            return Err(malformed("bad status line"));
        };
        let http10 = http_1_0(version)?;
        let status = match status {
            [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
                u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
            }
            _ => return Err(malformed("bad status code")),
        };
        let framing = Framing::of(&fields.headers)?;
        let body = if status < 200 || status == 204 || status == 304 || request.is_head_method {
            Body::Empty
        } else {
            match (framing.chunked, framing.content_length) {
                (Some(true), _) => Body::Chunked,
                (Some(false), _) | (None, None) => Body::UntilClose,
                (None, Some(0)) => Body::Empty,
                (None, Some(n)) => Body::Length(n),
            }
        };
        let close = body == Body::UntilClose
            || if http10 {
                !framing.keep_alive
            } else {
                framing.close
            };
        Ok(Self {
            head,
            status,
            body,
            close,
        })
    }
}

/// `true` for HTTP/1.0, `false` for HTTP/1.1, an error otherwise.
fn http_1_0(version: &[u8]) -> io::Result<bool> {
    match version {
        b"HTTP/1.1" => Ok(false),
        b"HTTP/1.0" => Ok(true),
        _ => Err(malformed("unsupported HTTP version")),
    }
}

/// The start line and header fields of a head (values trimmed, bytes as received).
struct Fields<'a> {
    start_line: &'a [u8],
    headers: Vec<(&'a [u8], &'a [u8])>,
}

impl<'a> Fields<'a> {
    fn parse(head: &'a [u8]) -> io::Result<Self> {
        let mut lines = head.split(|&b| b == b'\n').map(trim_line_end);
        let start_line = lines.next().unwrap_or_default();
        let mut headers = Vec::new();
        for line in lines {
            let Some(&first) = line.first() else { break };
            if first == b' ' || first == b'\t' {
                return Err(malformed("obsolete header line folding"));
            }
            let colon = line
                .iter()
                .position(|&b| b == b':')
                .ok_or_else(|| malformed("header line without a colon"))?;
            let name = &line[..colon];
            if name.is_empty() || name.iter().any(u8::is_ascii_whitespace) {
                return Err(malformed("bad header name"));
            }
            headers.push((name, trim_ows(&line[colon + 1..])));
        }
        Ok(Self {
            start_line,
            headers,
        })
    }
}

/// What the headers say about the message's length and the connection.
#[derive(Default)]
struct Framing {
    content_length: Option<u64>,
    /// Whether the last transfer coding is `chunked`, when there is a `Transfer-Encoding`.
    chunked: Option<bool>,
    close: bool,
    keep_alive: bool,
    expect_continue: bool,
}

impl Framing {
    fn of(headers: &[(&[u8], &[u8])]) -> io::Result<Self> {
        let mut framing = Self::default();
        for &(name, value) in headers {
            if name.eq_ignore_ascii_case(b"content-length") {
                for item in value.split(|&b| b == b',').map(trim_ows) {
                    let n = parse_decimal(item)?;
                    if framing.content_length.is_some_and(|prev| prev != n) {
                        return Err(malformed("conflicting Content-Length values"));
                    }
                    framing.content_length = Some(n);
                }
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                for coding in value.split(|&b| b == b',').map(trim_ows) {
                    if !coding.is_empty() {
                        framing.chunked = Some(coding.eq_ignore_ascii_case(b"chunked"));
                    }
                }
            } else if name.eq_ignore_ascii_case(b"connection") {
                for option in value.split(|&b| b == b',').map(trim_ows) {
                    framing.close |= option.eq_ignore_ascii_case(b"close");
                    framing.keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
                }
            } else if name.eq_ignore_ascii_case(b"expect") {
                framing.expect_continue |= value.eq_ignore_ascii_case(b"100-continue");
            }
        }
        Ok(framing)
    }
}

fn parse_decimal(digits: &[u8]) -> io::Result<u64> {
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(malformed("bad Content-Length"));
    }
    Ok(digits.iter().fold(0, |n, &d| n * 10 + u64::from(d - b'0')))
}

fn chunk_size(line: &[u8]) -> io::Result<u64> {
    let line = trim_line_end(line);
    let size = line.split(|&b| b == b';').next().unwrap_or_default();
    let size = trim_ows(size);
    if size.is_empty() || size.len() > 15 || !size.iter().all(u8::is_ascii_hexdigit) {
        return Err(malformed("bad chunk size"));
    }
    Ok(size.iter().fold(0, |n, &d| {
        // Only hex digits remain, so `to_digit` cannot fail.
        n * 16 + u64::from(char::from(d).to_digit(16).unwrap_or(0))
    }))
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn malformed(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("fault proxy: {what}"))
}

/// Reads one line (up to and including `\n`, at most `limit` bytes) onto `out`. `Ok(false)`
/// when the input ended before the line started.
async fn read_line_into<R>(r: &mut R, out: &mut Vec<u8>, limit: usize) -> io::Result<bool>
where
    R: AsyncBufRead + Unpin,
{
    let start = out.len();
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return if out.len() == start {
                Ok(false)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "fault proxy: connection closed within a line",
                ))
            };
        }
        let (take, complete) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if out.len() - start + take > limit {
            return Err(malformed("line too long"));
        }
        out.extend_from_slice(&buf[..take]);
        r.consume(take);
        if complete {
            return Ok(true);
        }
    }
}

/// Reads a message head (start line to the empty line, included; empty lines before it are
/// skipped). `None` when the input ended before the head started.
async fn read_head<R>(r: &mut R) -> io::Result<Option<Vec<u8>>>
where
    R: AsyncBufRead + Unpin,
{
    let mut head = Vec::with_capacity(1024);
    let mut blank_lines = 0;
    loop {
        let start = head.len();
        if !read_line_into(r, &mut head, MAX_HEAD - start).await? {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "fault proxy: connection closed within a message head",
                ))
            };
        }
        if trim_line_end(&head[start..]).is_empty() {
            if start > 0 {
                return Ok(Some(head));
            }
            head.clear();
            blank_lines += 1;
            if blank_lines > MAX_LEADING_BLANK_LINES {
                return Err(malformed("too many empty lines"));
            }
        }
    }
}

/// Why relaying a body stopped.
enum Failure {
    /// Reading failed, ended early or found malformed framing.
    Source(io::Error),
    /// Writing failed.
    Sink(io::Error),
    /// The byte budget ran out.
    Truncated,
}

impl From<Failure> for io::Error {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Source(e) | Failure::Sink(e) => e,
            Failure::Truncated => io::Error::other("fault proxy: response truncated"),
        }
    }
}

/// Copies one body from `r` to `w` as it is on the wire, writing at most `budget` bytes
/// when that is set.
async fn relay_body<R, W>(
    r: &mut R,
    w: &mut W,
    body: Body,
    budget: &mut Option<u64>,
) -> Result<(), Failure>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    match body {
        Body::Empty => Ok(()),
        Body::Length(n) => copy_exact(r, w, n, budget).await,
        Body::Chunked => copy_chunked(r, w, budget).await,
        Body::UntilClose => loop {
            let buf = r.fill_buf().await.map_err(Failure::Source)?;
            if buf.is_empty() {
                return Ok(());
            }
            let n = buf.len();
            put(w, buf, budget).await?;
            r.consume(n);
        },
    }
}

async fn put<W>(w: &mut W, data: &[u8], budget: &mut Option<u64>) -> Result<(), Failure>
where
    W: AsyncWrite + Unpin,
{
    let Some(left) = budget else {
        return w.write_all(data).await.map_err(Failure::Sink);
    };
    let take = data.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
    w.write_all(&data[..take]).await.map_err(Failure::Sink)?;
    *left -= take as u64;
    if take < data.len() {
        Err(Failure::Truncated)
    } else {
        Ok(())
    }
}

async fn copy_exact<R, W>(
    r: &mut R,
    w: &mut W,
    len: u64,
    budget: &mut Option<u64>,
) -> Result<(), Failure>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut remaining = len;
    while remaining > 0 {
        let buf = r.fill_buf().await.map_err(Failure::Source)?;
        if buf.is_empty() {
            return Err(Failure::Source(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "fault proxy: connection closed within a body",
            )));
        }
        let take = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        put(w, &buf[..take], budget).await?;
        r.consume(take);
        remaining -= take as u64;
    }
    Ok(())
}

async fn copy_chunked<R, W>(r: &mut R, w: &mut W, budget: &mut Option<u64>) -> Result<(), Failure>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut line = Vec::with_capacity(64);
    loop {
        let size = read_framing_line(r, &mut line).await?;
        let size = chunk_size(size).map_err(Failure::Source)?;
        put(w, &line, budget).await?;
        if size == 0 {
            break;
        }
        copy_exact(r, w, size, budget).await?;
        let end = read_framing_line(r, &mut line).await?;
        if !trim_line_end(end).is_empty() {
            return Err(Failure::Source(malformed("chunk longer than its size")));
        }
        put(w, &line, budget).await?;
    }
    // Trailer fields, then the empty line.
    let mut trailers = 0;
    loop {
        let trailer = read_framing_line(r, &mut line).await?;
        let last = trim_line_end(trailer).is_empty();
        trailers += line.len();
        if trailers > MAX_HEAD {
            return Err(Failure::Source(malformed("trailers too long")));
        }
        put(w, &line, budget).await?;
        if last {
            return Ok(());
        }
    }
}

/// Reads one chunk-size, chunk-end or trailer line into `line` (cleared first).
async fn read_framing_line<'l, R>(r: &mut R, line: &'l mut Vec<u8>) -> Result<&'l [u8], Failure>
where
    R: AsyncBufRead + Unpin,
{
    line.clear();
    if read_line_into(r, line, MAX_LINE)
        .await
        .map_err(Failure::Source)?
    {
        Ok(line)
    } else {
        Err(Failure::Source(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "fault proxy: connection closed within a chunked body",
        )))
    }
}

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// An S3 error the proxy answers with by itself.
struct Canned {
    status: &'static str,
    code: &'static str,
    message: &'static str,
}

impl Canned {
    fn body(&self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>\
             <RequestId>{FAULT_REQUEST_ID}</RequestId></Error>",
            self.code, self.message
        )
    }
}

const SLOW_DOWN: Canned = Canned {
    status: "503 Service Unavailable",
    code: "SlowDown",
    message: "Please reduce your request rate.",
};

const TOO_SKEWED: Canned = Canned {
    status: "403 Forbidden",
    code: "RequestTimeTooSkewed",
    message: "The difference between the request time and the server's time is too large.",
};

const INTERNAL_ERROR: Canned = Canned {
    status: "500 Internal Server Error",
    code: "InternalError",
    message: "We encountered an internal error. Please try again.",
};

const INTERNAL_ERROR_AFTER_OK: Canned = Canned {
    status: "200 OK",
    ..INTERNAL_ERROR
};

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    use tokio::io::AsyncReadExt;

    use crate::raw;

    /// A small HTTP/1.1 server with keep-alive, written independently of the proxy's parser.
    /// Every response carries `x-conn` (the upstream connection's number) and `x-seq` (the
    /// request's number on that connection).
    ///
    /// - `GET|HEAD /bytes/N`: `N` bytes, `Content-Length`.
    /// - `GET /chunked`: a chunked body `hello world` with a trailer.
    /// - `GET /until-close`: a body without length, then the connection closes.
    /// - `GET /close-after`: a response with `Content-Length`, then the connection closes.
    /// - `GET /empty`: 204.
    /// - `PUT /upload`: reads the body (`Content-Length` or chunked; `100 Continue` first when
    ///   asked) and answers `received=N`.
    /// - `PUT /reject`: answers 403 at once without reading the body, then closes.
    struct Upstream {
        addr: SocketAddr,
        requests: Arc<AtomicUsize>,
        task: JoinHandle<()>,
    }

    impl Drop for Upstream {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    async fn upstream() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            for conn in 1.. {
                let (socket, _) = listener.accept().await.unwrap();
                connections.spawn(upstream_connection(socket, conn, Arc::clone(&counter)));
            }
        });
        Upstream {
            addr,
            requests,
            task,
        }
    }

    async fn upstream_connection(socket: TcpStream, conn: usize, requests: Arc<AtomicUsize>) {
        let (r, mut w) = socket.into_split();
        let mut r = tokio::io::BufReader::new(r);
        for seq in 1.. {
            let mut request_line = String::new();
            if r.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                return;
            }
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                r.read_line(&mut line).await.unwrap();
                let line = line.trim_end().to_owned();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap();
                headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
            }
            requests.fetch_add(1, Ordering::SeqCst);
            let header = |name: &str| {
                headers
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
            };
            let mut words = request_line.split_whitespace();
            let (method, path) = (words.next().unwrap(), words.next().unwrap());
            let ids = format!("x-conn: {conn}\r\nx-seq: {seq}\r\n");
            if path == "/reject" {
                let body = "rejected";
                let answer = format!(
                    "HTTP/1.1 403 Forbidden\r\n{ids}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                w.write_all(answer.as_bytes()).await.unwrap();
                return;
            }
            if header("expect").is_some() {
                w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await.unwrap();
            }
            let mut received = 0_u64;
            if header("transfer-encoding").is_some() {
                loop {
                    let mut line = String::new();
                    r.read_line(&mut line).await.unwrap();
                    let size = line.trim().split(';').next().unwrap();
                    let Ok(size) = u64::from_str_radix(size, 16) else {
                        return;
                    };
                    if size == 0 {
                        // Trailers, then the empty line.
                        loop {
                            line.clear();
                            if r.read_line(&mut line).await.unwrap() == 0 {
                                return;
                            }
                            if line.trim().is_empty() {
                                break;
                            }
                        }
                        break;
                    }
                    let mut chunk = (&mut r).take(size);
                    received += tokio::io::copy(&mut chunk, &mut tokio::io::sink())
                        .await
                        .unwrap();
                    line.clear();
                    r.read_line(&mut line).await.unwrap();
                }
            } else if let Some(len) = header("content-length") {
                let mut body = (&mut r).take(len.parse().unwrap());
                received = tokio::io::copy(&mut body, &mut tokio::io::sink())
                    .await
                    .unwrap();
            }
            let answer = if let Some(n) = path.strip_prefix("/bytes/") {
                let n: usize = n.parse().unwrap();
                let mut answer =
                    format!("HTTP/1.1 200 OK\r\n{ids}content-length: {n}\r\n\r\n").into_bytes();
                if method != "HEAD" {
                    answer.extend((0..n).map(|i| b'0' + (i % 10) as u8));
                }
                answer
            } else if path == "/chunked" {
                format!(
                    "HTTP/1.1 200 OK\r\n{ids}transfer-encoding: chunked\r\n\r\n\
                     5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-trailer: yes\r\n\r\n"
                )
                .into_bytes()
            } else if path == "/until-close" {
                let answer = format!("HTTP/1.1 200 OK\r\n{ids}\r\nstreamed until close");
                w.write_all(answer.as_bytes()).await.unwrap();
                return;
            } else if path == "/close-after" {
                // Complete, keep-alive as far as the head says, then the connection ends.
                let answer = format!("HTTP/1.1 200 OK\r\n{ids}content-length: 2\r\n\r\nok");
                w.write_all(answer.as_bytes()).await.unwrap();
                return;
            } else if path == "/empty" {
                format!("HTTP/1.1 204 No Content\r\n{ids}\r\n").into_bytes()
            } else if path == "/upload" {
                let body = format!("received={received}");
                format!(
                    "HTTP/1.1 200 OK\r\n{ids}content-length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            } else {
                format!("HTTP/1.1 404 Not Found\r\n{ids}content-length: 0\r\n\r\n").into_bytes()
            };
            w.write_all(&answer).await.unwrap();
        }
    }

    /// A keep-alive client reading responses with its own parser.
    struct Client {
        r: tokio::io::BufReader<OwnedReadHalf>,
        w: OwnedWriteHalf,
    }

    #[derive(Debug)]
    struct Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Reply {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }

        fn text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }
    }

    impl Client {
        async fn connect(proxy: &FaultProxy) -> Self {
            let (r, w) = TcpStream::connect(proxy.addr()).await.unwrap().into_split();
            Self {
                r: tokio::io::BufReader::new(r),
                w,
            }
        }

        async fn send(&mut self, bytes: &[u8]) {
            self.w.write_all(bytes).await.unwrap();
        }

        async fn get(&mut self, path: &str) -> io::Result<Reply> {
            self.send(format!("GET {path} HTTP/1.1\r\nhost: proxy\r\n\r\n").as_bytes())
                .await;
            self.reply(false).await
        }

        /// The next response head (interim ones included), then its body.
        async fn head_only(&mut self) -> io::Result<(u16, Vec<(String, String)>)> {
            let mut line = String::new();
            if self.r.read_line(&mut line).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let status = line.split_whitespace().nth(1).unwrap().parse().unwrap();
            let mut headers = Vec::new();
            loop {
                line.clear();
                self.r.read_line(&mut line).await?;
                let trimmed = line.trim_end();
                if trimmed.is_empty() {
                    return Ok((status, headers));
                }
                let (n, v) = trimmed.split_once(':').unwrap();
                headers.push((n.to_ascii_lowercase(), v.trim().to_owned()));
            }
        }

        async fn reply(&mut self, is_head: bool) -> io::Result<Reply> {
            let (status, headers) = loop {
                let (status, headers) = self.head_only().await?;
                if status >= 200 {
                    break (status, headers);
                }
            };
            let mut reply = Reply {
                status,
                headers,
                body: Vec::new(),
            };
            if is_head || status == 204 {
                return Ok(reply);
            }
            if reply.header("transfer-encoding") == Some("chunked") {
                loop {
                    let mut line = String::new();
                    self.r.read_line(&mut line).await?;
                    let size = line.trim().split(';').next().unwrap();
                    let size = usize::from_str_radix(size, 16).unwrap();
                    if size == 0 {
                        // Trailers, then the empty line.
                        loop {
                            line.clear();
                            self.r.read_line(&mut line).await?;
                            if line.trim().is_empty() {
                                return Ok(reply);
                            }
                            let (n, v) = line.trim().split_once(':').unwrap();
                            reply
                                .headers
                                .push((n.to_ascii_lowercase(), v.trim().to_owned()));
                        }
                    }
                    let start = reply.body.len();
                    reply.body.resize(start + size, 0);
                    self.r.read_exact(&mut reply.body[start..]).await?;
                    line.clear();
                    self.r.read_line(&mut line).await?;
                }
            } else if let Some(len) = reply.header("content-length") {
                reply.body.resize(len.parse().unwrap(), 0);
                self.r.read_exact(&mut reply.body).await?;
            } else {
                self.r.read_to_end(&mut reply.body).await?;
            }
            Ok(reply)
        }

        /// Whether the proxy closed the connection (reads to the end, 5 s at most).
        async fn closed(&mut self) -> bool {
            let mut rest = Vec::new();
            matches!(
                tokio::time::timeout(Duration::from_secs(5), self.r.read_to_end(&mut rest)).await,
                Ok(Ok(_) | Err(_))
            )
        }
    }

    async fn raw_send(request: http::Request<Vec<u8>>) -> io::Result<raw::RawResponse> {
        tokio::task::spawn_blocking(move || raw::send(&request))
            .await
            .unwrap()
    }

    fn raw_get(proxy: &FaultProxy, path: &str) -> http::Request<Vec<u8>> {
        http::Request::get(format!("{}{path}", proxy.endpoint()))
            .body(Vec::new())
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn passes_requests_through_on_one_kept_alive_connection() {
        let upstream = upstream().await;
        let proxy = FaultProxy::start(&format!("http://{}/", upstream.addr))
            .await
            .unwrap();
        assert_eq!(proxy.upstream(), upstream.addr);
        assert_eq!(
            proxy.endpoint(),
            format!("http://127.0.0.1:{}", proxy.port())
        );
        let mut client = Client::connect(&proxy).await;

        let first = client.get("/bytes/10").await.unwrap();
        assert_eq!(first.status, 200);
        assert_eq!(first.body, b"0123456789");
        let second = client.get("/bytes/100000").await.unwrap();
        assert_eq!(second.body.len(), 100_000);
        assert_eq!(second.header("x-conn"), first.header("x-conn"));
        assert_eq!(second.header("x-seq"), Some("2"));

        // Messages without a body and a chunked one keep the framing in step.
        client
            .send(b"HEAD /bytes/5000 HTTP/1.1\r\nhost: proxy\r\n\r\n")
            .await;
        let head = client.reply(true).await.unwrap();
        assert_eq!(head.header("content-length"), Some("5000"));
        assert_eq!(client.get("/empty").await.unwrap().status, 204);
        let chunked = client.get("/chunked").await.unwrap();
        assert_eq!(chunked.text(), "hello world");
        assert_eq!(chunked.header("x-trailer"), Some("yes"));
        let last = client.get("/bytes/3").await.unwrap();
        assert_eq!(last.header("x-conn"), first.header("x-conn"));
        assert_eq!(last.header("x-seq"), Some("6"));

        assert_eq!(proxy.requests_seen(), 6);
        assert_eq!(proxy.faults_injected(), 0);
        assert_eq!(upstream.requests.load(Ordering::SeqCst), 6);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn relays_a_body_until_the_upstream_closes() {
        let upstream = upstream().await;
        let proxy = FaultProxy::start(&upstream.addr.to_string()).await.unwrap();
        let mut client = Client::connect(&proxy).await;
        let reply = client.get("/until-close").await.unwrap();
        assert_eq!(reply.text(), "streamed until close");
        assert!(client.closed().await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn streams_large_and_chunked_request_bodies() {
        let upstream = upstream().await;
        let proxy = FaultProxy::start(&upstream.addr.to_string()).await.unwrap();
        let mut client = Client::connect(&proxy).await;

        let len = 16 * 1024 * 1024 + 3;
        client
            .send(
                format!("PUT /upload HTTP/1.1\r\nhost: proxy\r\ncontent-length: {len}\r\n\r\n")
                    .as_bytes(),
            )
            .await;
        let body = vec![b'x'; len];
        let (_, reply) = tokio::join!(client.w.write_all(&body), async {
            // Read while writing: nothing on either side buffers the whole body.
            let mut line = String::new();
            client.r.read_line(&mut line).await.map(|_| line)
        });
        assert!(reply.unwrap().starts_with("HTTP/1.1 200"));
        // The rest of that response: headers and body.
        let mut rest = Reply {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        };
        loop {
            let mut line = String::new();
            client.r.read_line(&mut line).await.unwrap();
            if line.trim().is_empty() {
                break;
            }
            let (n, v) = line.trim().split_once(':').unwrap();
            rest.headers
                .push((n.to_ascii_lowercase(), v.trim().to_owned()));
        }
        rest.body
            .resize(rest.header("content-length").unwrap().parse().unwrap(), 0);
        client.r.read_exact(&mut rest.body).await.unwrap();
        assert_eq!(rest.text(), format!("received={len}"));

        client
            .send(
                b"PUT /upload HTTP/1.1\r\nhost: proxy\r\ntransfer-encoding: chunked\r\n\r\n\
                  4\r\nabcd\r\n10;name=value\r\n0123456789abcdef\r\n0\r\nx-checksum: 1\r\n\r\n",
            )
            .await;
        let reply = client.reply(false).await.unwrap();
        assert_eq!(reply.text(), "received=20");
        assert_eq!(reply.header("x-seq"), Some("2"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn relays_100_continue_and_early_answers() {
        let upstream = upstream().await;
        let proxy = FaultProxy::start(&upstream.addr.to_string()).await.unwrap();
        let mut client = Client::connect(&proxy).await;

        client
            .send(b"PUT /upload HTTP/1.1\r\nhost: proxy\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n")
            .await;
        let (status, _) = client.head_only().await.unwrap();
        assert_eq!(status, 100);
        client.send(b"hello").await;
        let reply = client.reply(false).await.unwrap();
        assert_eq!(reply.text(), "received=5");

        // A final answer before the body: relayed, then the connection ends.
        client
            .send(b"PUT /reject HTTP/1.1\r\nhost: proxy\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n")
            .await;
        let reply = client.reply(false).await.unwrap();
        assert_eq!(reply.status, 403);
        assert_eq!(reply.text(), "rejected");
        assert!(client.closed().await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slow_down_answers_503_and_keeps_the_connection() {
        let upstream = upstream().await;
        let proxy = FaultProxy::start(&upstream.addr.to_string()).await.unwrap();
        proxy.push_fault(Fault::SlowDown);
        assert_eq!(proxy.pending_faults(), 1);
        let mut client = Client::connect(&proxy).await;

        // With a body the client waits to send until `100 Continue`.
        client
            .send(b"PUT /upload HTTP/1.1\r\nhost: proxy\r\ncontent-length: 3\r\nexpect: 100-continue\r\n\r\n")
            .await;
        assert_eq!(client.head_only().await.unwrap().0, 100);
        client.send(b"abc").await;
        let reply = client.reply(false).await.unwrap();
        assert_eq!(reply.status, 503);
        assert_eq!(reply.header("content-type"), Some("application/xml"));
        assert_eq!(
            reply.header("content-length"),
            Some(reply.body.len().to_string().as_str())
        );
        assert!(reply.text().ends_with(
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>\
             <RequestId>fault-proxy</RequestId></Error>"
        ));
        assert_eq!(upstream.requests.load(Ordering::SeqCst), 0);

        let next = client.get("/bytes/4").await.unwrap();
        assert_eq!(next.status, 200);
        assert_eq!(next.body, b"0123");
        assert_eq!(proxy.requests_seen(), 2);
        assert_eq!(proxy.faults_injected(), 1);
        assert_eq!(proxy.pending_faults(), 0);
        assert_eq!(upstream.requests.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn internal_error_through_the_raw_client() {
        let upstream = upstream().await;
        let proxy = FaultProxy::start(&upstream.addr.to_string()).await.unwrap();
        proxy.push_fault(Fault::InternalError);
        proxy.push_fault(Fault::SlowDown);

        let reply = raw_send(raw_get(&proxy, "/bytes/4")).await.unwrap();
        assert_eq!(reply.status, 500);
        assert_eq!(reply.s3_error_code().as_deref(), Some("InternalError"));
        assert_eq!(reply.header("x-amz-request-id"), Some(FAULT_REQUEST_ID));
        assert_eq!(reply.header("connection"), Some("close"));
        let reply = raw_send(raw_get(&proxy, "/bytes/4")).await.unwrap();
        assert_eq!(reply.status, 503);
        assert_eq!(reply.s3_error_code().as_deref(), Some("SlowDown"));
        let reply = raw_send(raw_get(&proxy, "/bytes/4")).await.unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(proxy.requests_seen(), 3);
        assert_eq!(proxy.faults_injected(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn internal_error_after_ok() {
        let upstream = upstream().await;
        let proxy = FaultProxy::start(&upstream.addr.to_string()).await.unwrap();
        proxy.push_fault(Fault::InternalErrorAfterOk);
        let reply = raw_send(raw_get(&proxy, "/bytes/4")).await.unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.s3_error_code().as_deref(), Some("InternalError"));
        assert_eq!(proxy.faults_injected(), 1);
        proxy.push_fault(Fault::UnfinishedAfterOk);
        let reply = raw_send(raw_get(&proxy, "/bytes/4")).await.unwrap();
        assert_eq!(reply.status, 200);
        assert!(
            reply.text().ends_with("<CopyObjectResult>\n"),
            "{}",
            reply.text()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reset_and_close_before_response() {
        let upstream = upstream().await;
        let proxy = FaultProxy::start(&upstream.addr.to_string()).await.unwrap();

        proxy.push_fault(Fault::ResetBeforeResponse);
        let put = http::Request::put(format!("{}/upload", proxy.endpoint()))
            .body(vec![b'z'; 100_000])
            .unwrap();
        let err = raw_send(put).await.unwrap_err();
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof
            ) || err.to_string().contains("bad status line"),
            "{err:?}"
        );

        proxy.push_fault(Fault::CloseBeforeResponse);
        let mut client = Client::connect(&proxy).await;
        let err = client.get("/bytes/4").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);

        assert_eq!(upstream.requests.load(Ordering::SeqCst), 0);
        let reply = raw_send(raw_get(&proxy, "/bytes/4")).await.unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(proxy.requests_seen(), 3);
        assert_eq!(proxy.faults_injected(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reset_is_a_tcp_reset() {
        let upstream = upstream().await;
        let proxy = FaultProxy::start(&upstream.addr.to_string()).await.unwrap();
        proxy.push_fault(Fault::ResetBeforeResponse);
        let mut client = Client::connect(&proxy).await;
        let err = client.get("/bytes/4").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn truncate_response_sends_part_of_the_body() {
        let upstream = upstream().await;
        let proxy = FaultProxy::start(&upstream.addr.to_string()).await.unwrap();

        proxy.push_fault(Fault::TruncateResponse(100));
        let mut client = Client::connect(&proxy).await;
        client
            .send(b"GET /bytes/1000 HTTP/1.1\r\nhost: proxy\r\n\r\n")
            .await;
        let (status, headers) = client.head_only().await.unwrap();
        assert_eq!(status, 200);
        assert!(headers.contains(&("content-length".to_owned(), "1000".to_owned())));
        let mut body = Vec::new();
        client.r.read_to_end(&mut body).await.unwrap();
        assert_eq!(body.len(), 100);

        // The raw client reads Content-Length bytes: it gets an error.
        proxy.push_fault(Fault::TruncateResponse(0));
        let err = raw_send(raw_get(&proxy, "/bytes/1000")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);

        // Chunked: chunk framing counts.
        proxy.push_fault(Fault::TruncateResponse(3));
        let mut client = Client::connect(&proxy).await;
        client
            .send(b"GET /chunked HTTP/1.1\r\nhost: proxy\r\n\r\n")
            .await;
        client.head_only().await.unwrap();
        let mut body = Vec::new();
        client.r.read_to_end(&mut body).await.unwrap();
        assert_eq!(body, b"5\r\n");

        assert_eq!(proxy.faults_injected(), 3);
        assert_eq!(upstream.requests.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn delay_then_forward() {
        let upstream = upstream().await;
        let proxy = FaultProxy::start(&upstream.addr.to_string()).await.unwrap();
        proxy.push_fault(Fault::Delay(Duration::from_millis(300)));
        let mut client = Client::connect(&proxy).await;
        let started = Instant::now();
        let reply = client.get("/bytes/2").await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(reply.body, b"01");
        let reply = client.get("/bytes/2").await.unwrap();
        assert_eq!(reply.header("x-seq"), Some("2"));
        assert_eq!(proxy.faults_injected(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closes_on_malformed_input() {
        let upstream = upstream().await;
        let proxy = FaultProxy::start(&upstream.addr.to_string()).await.unwrap();

        let mut client = Client::connect(&proxy).await;
        client.send(b"NOT-HTTP\r\n\r\n").await;
        assert!(client.closed().await);

        let mut client = Client::connect(&proxy).await;
        let long = format!("GET / HTTP/1.1\r\nx-long: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        let _ = client.w.write_all(long.as_bytes()).await;
        assert!(client.closed().await);

        let mut client = Client::connect(&proxy).await;
        client
            .send(b"PUT /upload HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n")
            .await;
        assert!(client.closed().await);
        assert_eq!(proxy.requests_seen(), 0);

        // A bad chunk size shows only in the body, after the head went upstream.
        let mut client = Client::connect(&proxy).await;
        client
            .send(b"PUT /upload HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n")
            .await;
        assert!(client.closed().await);
        assert_eq!(proxy.requests_seen(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reconnects_when_the_upstream_closes_an_idle_connection() {
        let upstream = upstream().await;
        let proxy = FaultProxy::start(&upstream.addr.to_string()).await.unwrap();
        let mut client = Client::connect(&proxy).await;
        let first = client.get("/close-after").await.unwrap();
        assert_eq!(first.text(), "ok");
        for _ in 0..3 {
            let next = client.get("/bytes/1").await.unwrap();
            assert_ne!(next.header("x-conn"), first.header("x-conn"));
        }
        // Each client connection has its own upstream connection.
        let mut other = Client::connect(&proxy).await;
        let reply = other.get("/bytes/1").await.unwrap();
        let last = client.get("/bytes/1").await.unwrap();
        assert_ne!(reply.header("x-conn"), last.header("x-conn"));
        assert_eq!(last.header("x-seq"), Some("4"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn works_in_front_of_the_embedded_server() {
        let s3 = crate::EmbeddedS3::start().unwrap();
        let proxy = FaultProxy::start(&s3.endpoint()).await.unwrap();
        proxy.push_fault(Fault::SlowDown);
        let mut client = Client::connect(&proxy).await;
        // s3s routes on Host: send the server's own address.
        let request = format!("GET / HTTP/1.1\r\nhost: {}\r\n\r\n", s3.addr());
        client.send(request.as_bytes()).await;
        assert_eq!(client.reply(false).await.unwrap().status, 503);
        for _ in 0..2 {
            client.send(request.as_bytes()).await;
            let reply = client.reply(false).await.unwrap();
            // Anonymous: refused, by the server itself (hyper, s3s) over one connection.
            assert_eq!(reply.status, 403, "{}", reply.text());
            assert!(reply.text().contains("<Error>"));
            assert_ne!(reply.header("x-amz-request-id"), Some(FAULT_REQUEST_ID));
        }
        assert_eq!(proxy.requests_seen(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_the_proxy_stops_it() {
        let upstream = upstream().await;
        let proxy = FaultProxy::start(&upstream.addr.to_string()).await.unwrap();
        let addr = proxy.addr();
        let mut client = Client::connect(&proxy).await;
        client.get("/bytes/1").await.unwrap();
        drop(proxy);
        assert!(client.closed().await);
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(addr).await.is_ok() {
            assert!(Instant::now() < deadline, "still listening");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn rejects_bad_upstreams() {
        assert!(FaultProxy::start("https://127.0.0.1:1").await.is_err());
        assert!(FaultProxy::start("no-port").await.is_err());
    }

    #[test]
    fn parses_chunk_sizes_and_lengths() {
        assert_eq!(chunk_size(b"1a\r\n").unwrap(), 26);
        assert_eq!(chunk_size(b"0;x=y\r\n").unwrap(), 0);
        assert_eq!(chunk_size(b"FF \r\n").unwrap(), 255);
        assert!(chunk_size(b"\r\n").is_err());
        assert!(chunk_size(b"-1\r\n").is_err());
        assert!(chunk_size(b"1000000000000000\r\n").is_err());
        assert_eq!(parse_decimal(b"42").unwrap(), 42);
        assert!(parse_decimal(b"+4").is_err());
        assert!(parse_decimal(b"99999999999999999999").is_err());
    }

    #[test]
    fn start_needs_a_runtime() {
        let err = futures_lite_block_on(FaultProxy::start("127.0.0.1:1"));
        assert!(err.is_err());
    }

    /// Polls a future to completion without a tokio runtime.
    fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        loop {
            if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
            std::thread::yield_now();
        }
    }
}
