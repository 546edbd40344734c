//! The inputs the benchmarks (`benches/`) and the allocation test (`tests/`) share; see
//! README.md.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Request;

/// The object URL every signing benchmark signs.
pub const URL: &str = "https://examplebucket.s3.amazonaws.com/photos/2026/puppy%20dog.jpg";
/// The access key of the AWS examples.
pub const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
/// The secret key of the AWS examples.
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// The region of the credential scope.
pub const REGION: &str = "ch-gva-2";

/// The signing time: 2026-01-02T03:04:05Z.
pub fn time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_323_045)
}

/// `GET URL` with `range: bytes=0-1023`, with room for the headers a signer adds, so that
/// what is measured (time or allocations) is the signer's own work, not the header map
/// growing.
pub fn request() -> Request<()> {
    let mut req = Request::new(());
    *req.uri_mut() = http::Uri::from_static(URL);
    req.headers_mut().insert(
        http::header::RANGE,
        http::HeaderValue::from_static("bytes=0-1023"),
    );
    req.headers_mut().reserve(8);
    req
}
