//! Arbitrary `Authorization` headers, dates and pre-signed queries given to the verifier:
//! it must answer with an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sos_auth::{Credentials, Verifier};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let (auth, date, query) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let verifier = Verifier::from_credentials([Credentials::new("AKID", "secret")]).with_host_base("s3.localhost");
    let uri = format!("http://b.s3.localhost/k?{query}");
    let Ok(uri) = uri.parse::<http::Uri>() else { return };
    let mut builder = http::Request::get(uri);
    if let Ok(v) = http::HeaderValue::from_str(auth) {
        builder = builder.header("authorization", v);
    }
    if let Ok(v) = http::HeaderValue::from_str(date) {
        builder = builder.header("x-amz-date", v.clone()).header("date", v);
    }
    if let Ok(req) = builder.body(()) {
        let _ = verifier.verify_at(&req, std::time::UNIX_EPOCH);
    }
});
