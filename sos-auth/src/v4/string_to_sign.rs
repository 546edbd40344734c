//! Steps 2 and 3 of SigV4: the string to sign and its HMAC with the signing key.
//!
//! ```text
//! AWS4-HMAC-SHA256 \n YYYYMMDDTHHMMSSZ \n YYYYMMDD/region/service/aws4_request \n hex(sha256(canonical request))
//! ```

use super::canonical_request::CanonicalRequest;
use crate::encoding::hex32;
use crate::inline_list::{ByteSink, StackBuf};
use crate::sha256::{HmacKey, MacPrefix, sha256};
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
    write_before_hash(date, region, service, emit);
    emit.put(request_hash);
}

/// The part of the string to sign before the request hash: the same for every request
/// signed at `date` (to the second) in the scope.
fn write_before_hash(date: &AmzDate, region: &str, service: &str, emit: &mut impl ByteSink) {
    emit.put(ALGORITHM.as_bytes());
    emit.put(b"\n");
    emit.put(date.as_bytes());
    emit.put(b"\n");
    write_scope(date, region, service, emit);
    emit.put(b"\n");
}

/// The first 64 bytes of every string to sign at `date` (to the second) in `region` and
/// `service`, when the part before the request hash is that long (it is for every region
/// and service name of more than five letters together: `us-east-1` and `s3` make 68).
pub(crate) fn first_block(date: &AmzDate, region: &str, service: &str) -> Option<[u8; 64]> {
    let mut buf = StackBuf::<128>::new();
    write_before_hash(date, region, service, &mut buf);
    buf.as_slice().get(..64)?.try_into().ok()
}

/// The key a string to sign is signed with: the day's key and, when one is known, the
/// key with the first block of this second's strings to sign absorbed (see
/// [`first_block`]): a busy signer's strings to sign of one second all begin alike, and
/// this skips one of the nine compressions of a header signature.
#[derive(Clone, Debug)]
pub(crate) struct StringToSignKey {
    key: HmacKey,
    first_block: Option<MacPrefix>,
}

impl StringToSignKey {
    /// Signs with `key` alone.
    pub(crate) fn new(key: HmacKey) -> Self {
        Self {
            key,
            first_block: None,
        }
    }

    /// Signs with `key`, whose strings to sign begin with the block `prefix` absorbed.
    /// `prefix` must come from [`HmacKey::absorb_block`] of `key` over the [`first_block`]
    /// of the date, region and service that the strings to sign will carry.
    pub(crate) fn with_first_block(key: HmacKey, prefix: MacPrefix) -> Self {
        Self {
            key,
            first_block: Some(prefix),
        }
    }
}

/// The hex signature: the keyed MAC over the string to sign.
pub(crate) fn signature(
    key: &StringToSignKey,
    date: &AmzDate,
    region: &str,
    service: &str,
    request_hash: &[u8; 64],
) -> [u8; 64] {
    // Gathered first, then absorbed in one call: each `update` has a fixed cost.
    let mut buf = StackBuf::<256>::new();
    write_string_to_sign(date, region, service, request_hash, &mut buf);
    let text = buf.as_slice();
    let mac = match (&key.first_block, text.get(64..)) {
        (Some(prefix), Some(rest)) => key.key.mac_after(prefix, rest),
        _ => key.key.mac(text),
    };
    hex32(&mac)
}
