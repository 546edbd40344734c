//! A blocking HTTP/1.1 client that writes the request exactly as given.
//!
//! Signing tests need the bytes on the wire to be the bytes that were signed: general HTTP
//! clients normalise paths (`a/../b`), re-encode characters or add headers. This one writes
//! the method, the request target (path and query of the URI, untouched), the headers in the
//! map's order and the body, with `Connection: close`, and reads one response. It connects
//! only to loopback addresses; names under `localhost` (`bucket.s3.localhost`) resolve to
//! `127.0.0.1` as RFC 6761 says, without the system resolver.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// A response: status, headers (names lowercased, in order) and the whole body.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Header names lowercased, values as received, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 (lossy), for assertions and messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `<Code>` of an S3 XML error body, if there is one.
    pub fn s3_error_code(&self) -> Option<String> {
        let text = self.text();
        let start = text.find("<Code>")? + "<Code>".len();
        let end = text[start..].find("</Code>")? + start;
        Some(text[start..end].to_owned())
    }
}

/// Sends `request` and reads the response (30 s timeouts).
///
/// The request target is the URI's path and query as given; the `Host` header is the one in
/// the request's headers if set, otherwise the URI's authority.
///
/// # Errors
/// Connection or I/O failure, a non-loopback target, or a malformed response.
pub fn send(request: &http::Request<Vec<u8>>) -> std::io::Result<RawResponse> {
    let uri = request.uri();
    let authority = uri
        .authority()
        .ok_or_else(|| std::io::Error::other("request URI has no authority"))?;
    let default_port = if uri.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    let addr = resolve_loopback(
        authority.host(),
        authority.port_u16().unwrap_or(default_port),
    )?;

    let mut head = Vec::with_capacity(512);
    let target = uri.path_and_query().map_or("/", |pq| pq.as_str());
    write!(head, "{} {} HTTP/1.1\r\n", request.method(), target)?;
    if !request.headers().contains_key(http::header::HOST) {
        write!(head, "host: {authority}\r\n")?;
    }
    for (name, value) in request.headers() {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    if !request.headers().contains_key(http::header::CONTENT_LENGTH)
        && (!request.body().is_empty()
            || matches!(*request.method(), http::Method::PUT | http::Method::POST))
    {
        write!(head, "content-length: {}\r\n", request.body().len())?;
    }
    head.extend_from_slice(b"connection: close\r\n\r\n");

    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = &stream;
    writer.write_all(&head)?;
    writer.write_all(request.body())?;
    writer.flush()?;
    read_response(
        BufReader::new(stream),
        request.method() == http::Method::HEAD,
    )
}

fn resolve_loopback(host: &str, port: u16) -> std::io::Result<SocketAddr> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let lower = host.to_ascii_lowercase(); // host names are case-insensitive
    if lower == "localhost" || lower.ends_with(".localhost") {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    let addr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("{host} does not resolve")))?;
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other(format!(
            "refusing to connect to {addr}: tests only talk to loopback addresses"
        )));
    }
    Ok(addr)
}

fn read_response(mut reader: impl BufRead, is_head: bool) -> std::io::Result<RawResponse> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let trimmed = line.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() {
            break;
        }
        if let Some((n, v)) = trimmed.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if !is_head && status != 204 && status != 304 {
        if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                line.clear();
                reader.read_line(&mut line)?;
                let size_text = line.trim().split(';').next().unwrap_or("");
                let size = usize::from_str_radix(size_text, 16)
                    .map_err(|_| std::io::Error::other(format!("bad chunk size {line:?}")))?;
                if size == 0 {
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                reader.read_exact(&mut body[start..])?;
                line.clear();
                reader.read_line(&mut line)?;
            }
        } else if let Some(len) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
            body.resize(len, 0);
            reader.read_exact(&mut body)?;
        } else {
            reader.read_to_end(&mut body)?;
        }
    }
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}
