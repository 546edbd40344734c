//! Heap allocations per signature, counted by a global allocator (a test, so CI checks it):
//! V4 header signing with a cached key and V4 pre-signing do at most 3 each.

// `GlobalAlloc` is an unsafe trait: counting allocations means implementing it. The impl only
// forwards to the system allocator and bumps a thread-local counter.
#![allow(unsafe_code)]
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, Method};
use sos_auth::{Credentials, PayloadHash, SigV2Signer, SigV4Signer};
use sos_benches::{URL, request};

struct Counting;

thread_local! {
    // Per thread, so tests running in parallel do not count each other's allocations.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same layout, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

fn creds() -> Credentials {
    Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
}

#[test]
fn v4_header_signing_allocates_at_most_three_times() {
    let t = UNIX_EPOCH + Duration::from_secs(1_767_323_045);
    let signer = SigV4Signer::new(creds(), "ch-gva-2");
    signer
        .sign_at(&mut request(), PayloadHash::EMPTY, t)
        .unwrap(); // warm the key cache
    let mut req = request();
    let n = count(|| signer.sign_at(&mut req, PayloadHash::EMPTY, t).unwrap());
    eprintln!("V4 header signing, cached key: {n} allocations");
    assert!(n <= 3, "{n} allocations");
    assert!(
        n >= 1,
        "the Authorization value at least; is the counter working?"
    );

    let mut req = request();
    let n = count(|| {
        signer
            .sign_at(&mut req, PayloadHash::of(b"body"), t)
            .unwrap()
    });
    eprintln!("V4 header signing, body hash: {n} allocations");
    assert!(n <= 3, "{n} allocations");
}

#[test]
fn v4_presigning_allocates_at_most_three_times() {
    let t = UNIX_EPOCH + Duration::from_secs(1_767_323_045);
    let signer = SigV4Signer::new(creds(), "ch-gva-2");
    let uri: http::Uri = URL.parse().unwrap();
    let headers = HeaderMap::new();
    let _ = signer
        .presign_at(&Method::GET, &uri, &headers, Duration::from_secs(3600), t)
        .unwrap();
    let n = count(|| {
        let _ = signer
            .presign_at(&Method::GET, &uri, &headers, Duration::from_secs(3600), t)
            .unwrap();
    });
    eprintln!("V4 pre-signing: {n} allocations");
    assert!(n <= 3, "{n} allocations");

    // From URL text, as `Presigner` does: the URL passed in is extended in place.
    let n = count(|| {
        let _ = signer
            .presign_url_at(
                &Method::GET,
                URL.to_owned(),
                &headers,
                Duration::from_secs(3600),
                t,
            )
            .unwrap();
    });
    eprintln!("V4 pre-signing from text: {n} allocations");
    assert!(n <= 2, "{n} allocations");

    // The whole builder: the URL is built once and signed in place.
    let presigner = sos_presign::Presigner::new(
        creds(),
        sos_presign::Endpoint::parse("https://sos-ch-gva-2.exo.io").unwrap(),
    );
    let presign = || {
        let _ = presigner
            .get_object("examplebucket", "photos/2026/puppy dog.jpg")
            .sign_at(t)
            .unwrap();
    };
    presign(); // warm the key cache
    let n = count(presign);
    eprintln!("Presigner::get_object: {n} allocations");
    assert!(n <= 1, "{n} allocations");
}

#[test]
fn v2_signing_allocations() {
    let t = UNIX_EPOCH + Duration::from_secs(1_767_323_045);
    let signer = SigV2Signer::new(creds()).with_host_base("s3.amazonaws.com");
    let mut req = request();
    let n = count(|| signer.sign_at(&mut req, t).unwrap());
    eprintln!("V2 header signing: {n} allocations");
    // V2 builds its string to sign as text; no target is set for it.
    assert!(n <= 12, "{n} allocations");
}
