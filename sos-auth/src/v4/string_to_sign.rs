//! Steps 2 and 3 of SigV4: the string to sign and its HMAC with the signing key.
//!
//! ```text
//! AWS4-HMAC-SHA256 \n YYYYMMDDTHHMMSSZ \n YYYYMMDD/region/service/aws4_request \n hex(sha256(canonical request))
//! ```

use hmac::Mac;
use sha2::{Digest, Sha256};

use super::canonical_request::CanonicalRequest;
use super::signing_key::HmacSha256;
use crate::encoding::hex32;
use crate::inline_list::StackBuf;
use crate::time::AmzDate;

/// The algorithm name of SigV4.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// `YYYYMMDD/region/service/aws4_request`, fed to `emit`.
pub(crate) fn write_scope(
    date: &AmzDate,
    region: &str,
    service: &str,
    emit: &mut impl FnMut(&[u8]),
) {
    emit(&date.as_bytes()[..8]);
    emit(b"/");
    emit(region.as_bytes());
    emit(b"/");
    emit(service.as_bytes());
    emit(b"/aws4_request");
}

/// `hex(sha256(canonical request))`.
pub(crate) fn canonical_request_hash(
    canonical: &CanonicalRequest<'_>,
    extra_query: &str,
) -> [u8; 64] {
    let mut buf = StackBuf::<640>::new();
    canonical.write(extra_query, &mut |piece: &[u8]| buf.push(piece));
    hex32(&Sha256::digest(buf.as_slice()).into())
}

/// Feeds the string to sign to `emit`.
pub(crate) fn write_string_to_sign(
    date: &AmzDate,
    region: &str,
    service: &str,
    request_hash: &[u8; 64],
    emit: &mut impl FnMut(&[u8]),
) {
    emit(ALGORITHM.as_bytes());
    emit(b"\n");
    emit(date.as_bytes());
    emit(b"\n");
    write_scope(date, region, service, emit);
    emit(b"\n");
    emit(request_hash);
}

/// The hex signature: the keyed MAC over the string to sign.
pub(crate) fn signature(
    mut mac: HmacSha256,
    date: &AmzDate,
    region: &str,
    service: &str,
    request_hash: &[u8; 64],
) -> [u8; 64] {
    write_string_to_sign(date, region, service, request_hash, &mut |p: &[u8]| {
        mac.update(p)
    });
    hex32(&mac.finalize().into_bytes().into())
}
