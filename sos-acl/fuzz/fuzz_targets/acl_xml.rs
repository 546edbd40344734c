//! Arbitrary bytes as an `AccessControlPolicy` document, and as `x-amz-grant-*` header values:
//! the parsers must answer with a value or an error, never panic. What parses must write back
//! to XML that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sos_acl::{AccessControlPolicy, AclHeaders};

fuzz_target!(|data: &[u8]| {
    if let Ok(policy) = AccessControlPolicy::from_xml(data) {
        let again = AccessControlPolicy::from_xml(policy.to_xml()).expect("our own XML parses");
        assert_eq!(again, policy);
        let _ = policy.readable_by_everyone();
        let _ = AclHeaders::Grants(policy.grants).to_headers();
    }
    if let Ok(value) = http::HeaderValue::from_bytes(data) {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-amz-grant-read", value.clone());
        headers.insert("x-amz-grant-full-control", value);
        let _ = AclHeaders::from_headers(&headers);
    }
});
