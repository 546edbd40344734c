//! Arbitrary bytes as a `CORSConfiguration` document: the parser must answer with a value or
//! an error, never panic. What parses must write back to XML that parses to the same value,
//! validate without panicking, and evaluate a preflight built from its own first origin.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sos_acl::{CorsConfiguration, CorsRequest};

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = CorsConfiguration::from_xml(data) {
        let again = CorsConfiguration::from_xml(config.to_xml()).expect("our own XML parses");
        assert_eq!(again, config);
        let _ = config.violations();
        let origin = config
            .rules
            .first()
            .and_then(|r| r.allowed_origins.first())
            .map_or("http://example.com", String::as_str);
        let request = CorsRequest::preflight(origin, "GET").with_request_headers("x-amz-date, *");
        let _ = config.evaluate(&request).headers();
    }
});
