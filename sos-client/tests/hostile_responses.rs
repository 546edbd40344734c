//! A server that answers what no S3 server should: truncated error documents, listings that
//! lie about where the next page starts, numbers and dates out of range, huge bodies. The
//! client answers with a value or a typed error, and does not loop. No S3 server is needed:
//! the answers come from a small HTTP server on 127.0.0.1.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sos_client::{Client, Credentials, Endpoint, Error, ErrorCode, MultipartUpload, RetryConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// An answer: status, headers, body.
type Answer = (u16, Vec<(&'static str, String)>, Vec<u8>);

/// A server on 127.0.0.1 that answers each request with `answer(request line)`, then closes
/// the connection; and a client of it that does not retry.
async fn serve(answer: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Client {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let line = head.lines().next().unwrap_or("");
                let (status, headers, body) = answer(line);
                let mut out = format!("HTTP/1.1 {status} X\r\nconnection: close\r\n");
                let mut length = Some(body.len().to_string());
                for (name, value) in headers {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = Some(value.clone());
                    }
                    if !name.eq_ignore_ascii_case("content-length") {
                        out.push_str(&format!("{name}: {value}\r\n"));
                    }
                }
                if let Some(length) = length {
                    out.push_str(&format!("content-length: {length}\r\n"));
                }
                out.push_str("\r\n");
                let _ = socket.write_all(out.as_bytes()).await;
                if !line.starts_with("HEAD ") {
                    let _ = socket.write_all(&body).await;
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    Client::builder()
        .endpoint(Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap())
        .credentials(Credentials::new("AKID", "secret"))
        .retry(RetryConfig::disabled())
        .read_timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn xml(status: u16, body: impl Into<Vec<u8>>) -> Answer {
    (
        status,
        vec![("content-type", "application/xml".to_owned())],
        body.into(),
    )
}

fn invalid_response<T: std::fmt::Debug>(result: sos_client::Result<T>) -> String {
    match result {
        Err(Error::InvalidResponse(message)) => message,
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn truncated_or_huge_error_documents_keep_the_status() {
    let client = serve(|line| {
        let huge = line.contains("/huge");
        let body = if huge {
            // 8 MiB of an error that never closes: read up to 1 MiB.
            let mut body = b"<Error><Code>NoSuchKey</Code><Message>".to_vec();
            body.resize(8 << 20, b'x');
            body
        } else {
            b"<Error><Code>SlowDown</Code><Mess".to_vec()
        };
        xml(if huge { 404 } else { 503 }, body)
    })
    .await;
    let err = client.get_object("b", "k").bytes().await.unwrap_err();
    // The code comes from the status: the document cannot be read.
    assert_eq!(err.code(), Some(&ErrorCode::ServiceUnavailable), "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    let started = Instant::now();
    let err = client.get_object("b", "huge").bytes().await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NoSuchKey), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn an_error_cut_short_after_a_200_is_an_invalid_response() {
    let client = serve(|_| xml(200, "<Error><Code>InternalError</Code><Message>We enc")).await;
    invalid_response(client.list_buckets().await);
    let upload = MultipartUpload {
        bucket: "b".into(),
        key: "k".into(),
        upload_id: "u".into(),
    };
    invalid_response(client.list_parts(&upload).await);
}

/// An XML answer larger than any S3 document (33 MiB) is refused, not parsed (a parsed
/// document costs many times its size).
#[tokio::test]
async fn oversized_xml_answers_are_refused() {
    let client = serve(|_| {
        let mut body = b"<ListAllMyBucketsResult><Owner><ID>".to_vec();
        body.resize(33 << 20, b'x');
        body.extend_from_slice(b"</ID></Owner></ListAllMyBucketsResult>");
        xml(200, body)
    })
    .await;
    let message = invalid_response(client.list_buckets().await);
    assert!(message.contains("bytes"), "{message}");
}

/// A listing whose pages name `next` (from the continuation token of the request).
fn listing(
    next: impl Fn(&str) -> Option<&'static str> + Send + Sync + 'static,
) -> impl Fn(&str) -> Answer + Send + Sync + 'static {
    move |line: &str| {
        let token = line
            .split(['?', '&', ' '])
            .find_map(|p| p.strip_prefix("continuation-token="))
            .unwrap_or("");
        let more = match next(token) {
            Some("") => "<IsTruncated>true</IsTruncated>".to_owned(),
            Some(t) => format!(
                "<IsTruncated>true</IsTruncated><NextContinuationToken>{t}</NextContinuationToken>"
            ),
            None => "<IsTruncated>false</IsTruncated>".to_owned(),
        };
        xml(
            200,
            format!(
                "<ListBucketResult><KeyCount>1000</KeyCount>{more}\
                 <Contents><Key>after-{token}</Key><Size>1</Size></Contents></ListBucketResult>"
            ),
        )
    }
}

async fn pages(client: &Client) -> (usize, Option<Error>) {
    let mut pages = client.list_objects("b").pages();
    let mut n = 0;
    while let Some(page) = pages.next().await {
        match page {
            Ok(_) => n += 1,
            Err(e) => return (n, Some(e)),
        }
        assert!(n < 100, "the listing does not end");
    }
    (n, None)
}

#[tokio::test]
async fn listings_that_lie_about_the_next_page_end_with_an_error() {
    // Truncated without a token: an error, not a listing that ends early.
    let client = serve(listing(|_| Some(""))).await;
    let (n, err) = pages(&client).await;
    assert_eq!(n, 0);
    assert!(matches!(err, Some(Error::InvalidResponse(_))), "{err:?}");
    // Tokens in a circle: an error at the first one given again, not an endless listing.
    let client = serve(listing(|token| Some(if token == "a" { "b" } else { "a" }))).await;
    let (n, err) = pages(&client).await;
    assert_eq!(n, 2);
    assert!(matches!(err, Some(Error::InvalidResponse(_))), "{err:?}");
    // An honest server: three pages, whatever its `KeyCount` says.
    let client = serve(listing(|token| match token {
        "" => Some("a"),
        "a" => Some("b"),
        _ => None,
    }))
    .await;
    let keys: Vec<String> = client
        .list_objects("b")
        .objects()
        .map(|o| o.unwrap().key)
        .collect()
        .await;
    assert_eq!(keys, ["after-", "after-a", "after-b"]);
}

#[tokio::test]
async fn numbers_and_dates_out_of_range() {
    let client = serve(|line| {
        if line.contains("list-type=2") {
            xml(
                200,
                "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>\
                 <Size>18446744073709551616</Size></Contents></ListBucketResult>",
            )
        } else if line.contains("uploadId=") {
            xml(
                200,
                "<ListPartsResult><IsTruncated>true</IsTruncated>\
                 <NextPartNumberMarker>4294967296</NextPartNumberMarker></ListPartsResult>",
            )
        } else {
            // Year 0 (which panicked), a 30th of February, a 25th hour.
            xml(
                200,
                "<ListAllMyBucketsResult><Buckets>\
                 <Bucket><Name>a</Name><CreationDate>0000-01-01T00:00:00Z</CreationDate></Bucket>\
                 <Bucket><Name>b</Name><CreationDate>2026-02-30T00:00:00Z</CreationDate></Bucket>\
                 <Bucket><Name>c</Name><CreationDate>2026-01-01T25:00:00Z</CreationDate></Bucket>\
                 </Buckets></ListAllMyBucketsResult>",
            )
        }
    })
    .await;
    let message = invalid_response(client.list_objects("b").page(None).await);
    assert!(message.contains("Size"), "{message}");
    let upload = MultipartUpload {
        bucket: "b".into(),
        key: "k".into(),
        upload_id: "u".into(),
    };
    invalid_response(client.list_parts(&upload).await);
    let buckets = client.list_buckets().await.unwrap();
    assert_eq!(buckets.len(), 3);
    assert!(buckets[0].creation_date.is_some());
    assert!(buckets[1].creation_date.is_none() && buckets[2].creation_date.is_none());
}

#[tokio::test]
async fn hostile_headers_of_a_head() {
    let client = serve(|_| {
        (
            200,
            vec![
                ("content-length", "18446744073709551615".to_owned()),
                ("etag", "\"".to_owned()),
                ("last-modified", "Sun, 31 Feb 2026 25:61:61 GMT".to_owned()),
                ("x-amz-meta-", "empty name".to_owned()),
                ("x-amz-meta-a", "x".repeat(64 << 10)),
            ],
            Vec::new(),
        )
    })
    .await;
    let info = client.head_object("b", "k").await.unwrap();
    assert_eq!(info.content_length, u64::MAX);
    assert_eq!(info.etag.as_deref(), Some(""));
    assert_eq!(info.last_modified, None);
    assert_eq!(info.metadata.user_metadata()["a"].len(), 64 << 10);
}
