//! Steps 2 and 3 of SigV4: the string to sign and its HMAC with the signing key.
//!
//! ```text
//! AWS4-HMAC-SHA256 \n YYYYMMDDTHHMMSSZ \n YYYYMMDD/region/service/aws4_request \n hex(sha256(canonical request))
//! ```

use super::canonical_request::CanonicalRequest;
use crate::encoding::hex32;
use crate::inline_list::{ByteSink, StackBuf};
use crate::sha256::{HmacKey, sha256};
use crate::time::AmzDate;

/// The algorithm name of SigV4.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// `YYYYMMDD/region/service/aws4_request`, fed to `emit`.
pub(crate) fn write_scope(date: &AmzDate, region: &str, service: &str, emit: &mut impl ByteSink) {
    emit.put(&date.as_bytes()[..8]);
    emit.put(b"/");
    emit.put(region.as_bytes());
    emit.put(b"/");
    emit.put(service.as_bytes());
    emit.put(b"/aws4_request");
}

/// `hex(sha256(canonical request))`.
pub(crate) fn canonical_request_hash(
    canonical: &CanonicalRequest<'_>,
    extra_query: &str,
) -> [u8; 64] {
    let mut buf = StackBuf::<640>::new();
    canonical.write(extra_query, &mut buf);
    hex32(&sha256(buf.as_slice()))
}

/// Feeds the string to sign to `emit`.
pub(crate) fn write_string_to_sign(
    date: &AmzDate,
    region: &str,
    service: &str,
    request_hash: &[u8; 64],
    emit: &mut impl ByteSink,
) {
    emit.put(ALGORITHM.as_bytes());
    emit.put(b"\n");
    emit.put(date.as_bytes());
    emit.put(b"\n");
    write_scope(date, region, service, emit);
    emit.put(b"\n");
    emit.put(request_hash);
}

/// The hex signature: the keyed MAC over the string to sign.
pub(crate) fn signature(
    mac: &HmacKey,
    date: &AmzDate,
    region: &str,
    service: &str,
    request_hash: &[u8; 64],
) -> [u8; 64] {
    // Gathered first, then absorbed in one call: each `update` has a fixed cost.
    let mut buf = StackBuf::<256>::new();
    write_string_to_sign(date, region, service, request_hash, &mut buf);
    hex32(&mac.mac(buf.as_slice()))
}
