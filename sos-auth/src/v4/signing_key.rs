//! The SigV4 signing key and its cache.
//!
//! Deriving the key costs four HMAC-SHA256 runs; it depends only on the secret and on the
//! (date, region, service) scope, so a signer keeps it for the day. The cache stores the
//! HMAC *keyed state* (inner and outer pads already absorbed), so signing with a cached key
//! costs two compressions fewer than re-keying each time, and for the latest second signed
//! in, the state with the first block of that second's strings to sign absorbed: one
//! compression fewer again for every signature after the first of a second.
//!
//! The cache is shared by every thread that signs with one signer, behind a lock. Each
//! thread also keeps the key of the last second and scope it signed in, so that a busy
//! signer takes the lock once per second per thread rather than once per request: with
//! requests signed on two threads at once, the lock's cache line went back and forth
//! between the cores on every signature (17 % of the throughput of two threads).

use std::cell::RefCell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use zeroize::Zeroize;

use super::string_to_sign::{StringToSignKey, first_block};
use crate::Secret;
use crate::sha256::{HmacKey, MacPrefix};
use crate::time::AmzDate;

/// How many (date, region, service) scopes one cache keeps.
const CACHE_CAPACITY: usize = 16;

/// The derived SigV4 key of one scope: `HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region),
/// service), "aws4_request")`.
#[derive(Clone)]
pub struct SigningKey {
    key: [u8; 32],
    mac: HmacKey,
}

impl SigningKey {
    /// Derives the key for `date` (`YYYYMMDD`), `region` and `service`.
    pub fn derive(secret: &Secret, date: &str, region: &str, service: &str) -> Self {
        let mut prefixed =
            zeroize::Zeroizing::new(Vec::with_capacity(4 + secret.expose_secret().len()));
        prefixed.extend_from_slice(b"AWS4");
        prefixed.extend_from_slice(secret.expose_secret().as_bytes());
        let mut k = hmac(&prefixed, date.as_bytes());
        for part in [region.as_bytes(), service.as_bytes(), b"aws4_request"] {
            let next = hmac(&k, part);
            k.zeroize();
            k = next;
        }
        Self::from_bytes(k)
    }

    /// A key from its 32 bytes.
    pub fn from_bytes(key: [u8; 32]) -> Self {
        let mac = HmacKey::new(&key);
        Self { key, mac }
    }

    /// The raw key bytes (secret material).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.key
    }

    /// The keyed HMAC-SHA256 that signs strings to sign.
    pub(crate) fn mac(&self) -> &HmacKey {
        &self.mac
    }

    /// `hex(HMAC(key, message))`, the signature of a string to sign.
    pub fn sign(&self, message: &[u8]) -> String {
        String::from_utf8_lossy(&crate::encoding::hex32(&self.mac.mac(message))).into_owned()
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

pub(crate) fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    HmacKey::new(key).mac(message)
}

struct Entry {
    date: [u8; 8],
    region: Box<str>,
    service: Box<str>,
    key: SigningKey,
    /// The latest second signed in, with the first block of its strings to sign absorbed.
    second: Option<([u8; 16], MacPrefix)>,
}

/// Signing keys by (date, region, service), shared by the signers made from one
/// [`SigV4Signer`](super::SigV4Signer) (clones and [`for_region`](super::SigV4Signer::for_region)).
pub struct SigningKeyCache {
    /// Tells this cache's keys apart in the threads' [`LAST_KEY`]: unique for the life of
    /// the process (an address could be reused by a cache of other credentials).
    id: u64,
    entries: Mutex<Vec<Entry>>,
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            entries: Mutex::default(),
        }
    }
}

impl Drop for SigningKeyCache {
    fn drop(&mut self) {
        // Other threads' copies go when they sign with another key or end; this thread's
        // goes now.
        let _ = LAST_KEY.try_with(|last| {
            if let Ok(mut last) = last.try_borrow_mut()
                && last.as_ref().is_some_and(|l| l.cache == self.id)
            {
                *last = None;
            }
        });
    }
}

/// The string-to-sign key this thread used last, and for what.
struct ThreadKey {
    cache: u64,
    /// `x-amz-date`: the key is valid for that second (its first block is absorbed).
    second: [u8; 16],
    region: Box<str>,
    service: Box<str>,
    key: StringToSignKey,
}

thread_local! {
    /// This thread's last string-to-sign key (secret material: zeroed when replaced).
    static LAST_KEY: RefCell<Option<ThreadKey>> = const { RefCell::new(None) };
}

impl std::fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.entries.lock().map_or(0, |e| e.len());
        f.debug_struct("SigningKeyCache")
            .field("entries", &len)
            .finish()
    }
}

impl SigningKeyCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The keyed MAC for the scope, derived on a miss.
    pub(crate) fn mac(&self, secret: &Secret, date: &[u8], region: &str, service: &str) -> HmacKey {
        self.with_entry(secret, date, region, service, |e| e.key.mac().clone())
    }

    /// The key for the strings to sign at `date` in the scope: the day's key, with the
    /// first block of the strings of this second absorbed (kept for the latest second
    /// seen, so that the signatures of one second after the first skip that compression).
    /// This thread's last key when it is the one; else the shared cache's, which then
    /// becomes this thread's last.
    pub(crate) fn string_to_sign_key(
        &self,
        secret: &Secret,
        date: &AmzDate,
        region: &str,
        service: &str,
    ) -> StringToSignKey {
        let second = date.as_bytes();
        let is_for =
            |l: &ThreadKey| l.cache == self.id && *l.region == *region && *l.service == *service;
        // `try_with`/`try_borrow`: from a thread-local's destructor, or re-entered, the
        // shared cache answers alone.
        let kept = LAST_KEY.try_with(|last| {
            let last = last.try_borrow().ok()?;
            let last = last.as_ref()?;
            (is_for(last) && last.second == *second).then(|| last.key.clone())
        });
        if let Ok(Some(key)) = kept {
            return key;
        }
        let key = self.shared_string_to_sign_key(secret, date, region, service);
        let _ = LAST_KEY.try_with(|last| {
            let Ok(mut last) = last.try_borrow_mut() else {
                return;
            };
            match &mut *last {
                Some(l) if is_for(l) => {
                    l.second = *second;
                    l.key = key.clone();
                }
                other => {
                    *other = Some(ThreadKey {
                        cache: self.id,
                        second: *second,
                        region: region.into(),
                        service: service.into(),
                        key: key.clone(),
                    });
                }
            }
        });
        key
    }

    /// [`string_to_sign_key`](Self::string_to_sign_key) from the shared cache.
    fn shared_string_to_sign_key(
        &self,
        secret: &Secret,
        date: &AmzDate,
        region: &str,
        service: &str,
    ) -> StringToSignKey {
        self.with_entry(secret, &date.as_bytes()[..8], region, service, |e| {
            let key = e.key.mac().clone();
            if let Some((second, prefix)) = &e.second
                && second == date.as_bytes()
            {
                return StringToSignKey::with_first_block(key, prefix.clone());
            }
            match first_block(date, region, service) {
                Some(block) => {
                    let prefix = key.absorb_block(&block);
                    e.second = Some((*date.as_bytes(), prefix.clone()));
                    StringToSignKey::with_first_block(key, prefix)
                }
                None => StringToSignKey::new(key),
            }
        })
    }

    /// Runs `f` on the scope's entry, derived and inserted on a miss.
    fn with_entry<R>(
        &self,
        secret: &Secret,
        date: &[u8],
        region: &str,
        service: &str,
        f: impl FnOnce(&mut Entry) -> R,
    ) -> R {
        let date_bytes: [u8; 8] = date.try_into().unwrap_or([b'0'; 8]);
        let date = std::str::from_utf8(date).unwrap_or("00000000");
        let fresh = || Entry {
            date: date_bytes,
            region: region.into(),
            service: service.into(),
            key: SigningKey::derive(secret, date, region, service),
            second: None,
        };
        let Ok(mut entries) = self.entries.lock() else {
            // A poisoned lock only means another thread panicked mid-insert; derive afresh.
            return f(&mut fresh());
        };
        if let Some(i) = entries
            .iter()
            .position(|e| e.date == date_bytes && &*e.region == region && &*e.service == service)
        {
            return f(&mut entries[i]);
        }
        if entries.len() >= CACHE_CAPACITY {
            // Evict the oldest date: yesterday's keys are the ones that will not come back.
            if let Some(oldest) = entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.date)
                .map(|(i, _)| i)
            {
                entries.swap_remove(oldest);
            }
        }
        entries.push(fresh());
        let last = entries.len() - 1;
        f(&mut entries[last])
    }

    /// Number of cached scopes.
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_documented_signing_key() {
        // "Examples of how to derive a signing key for Signature Version 4" (AWS General Reference).
        let key = SigningKey::derive(
            &Secret::from("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            "20120215",
            "us-east-1",
            "iam",
        );
        let hex = crate::encoding::hex32(key.as_bytes());
        assert_eq!(
            std::str::from_utf8(&hex).unwrap(),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn the_stored_first_block_gives_the_signature_of_the_full_string_to_sign() {
        use super::super::string_to_sign::signature;
        let secret = Secret::from("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let cache = SigningKeyCache::new();
        let hash = [b'a'; 64];
        // Long enough scopes (the block is kept) and short ones (it is not).
        for (region, service) in [("us-east-1", "s3"), ("ch-gva-2", "s3"), ("x", "s3")] {
            for unix in [1_767_323_045, 1_767_323_045, 1_767_323_046, 1_767_323_045] {
                let date =
                    AmzDate::new(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix));
                let day = std::str::from_utf8(&date.as_bytes()[..8]).unwrap();
                let plain = StringToSignKey::new(
                    SigningKey::derive(&secret, day, region, service)
                        .mac()
                        .clone(),
                );
                let cached = cache.string_to_sign_key(&secret, &date, region, service);
                assert_eq!(
                    signature(&cached, &date, region, service, &hash),
                    signature(&plain, &date, region, service, &hash),
                    "{region} {service} {unix}"
                );
            }
            let kept = cache.with_entry(&secret, b"20260102", region, service, |e| {
                e.second.as_ref().map(|(second, _)| *second)
            });
            let expected = (region != "x").then_some(*b"20260102T030405Z");
            assert_eq!(kept, expected, "{region}");
        }
    }

    /// The signature of `hash` with the key derived afresh, and with `cache`'s.
    fn signatures(
        cache: &SigningKeyCache,
        secret: &str,
        unix: u64,
        region: &str,
    ) -> ([u8; 64], [u8; 64]) {
        use super::super::string_to_sign::signature;
        let secret = Secret::from(secret);
        let date = AmzDate::new(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix));
        let day = std::str::from_utf8(&date.as_bytes()[..8]).unwrap();
        let plain =
            StringToSignKey::new(SigningKey::derive(&secret, day, region, "s3").mac().clone());
        let cached = cache.string_to_sign_key(&secret, &date, region, "s3");
        let hash = [b'7'; 64];
        (
            signature(&cached, &date, region, "s3", &hash),
            signature(&plain, &date, region, "s3", &hash),
        )
    }

    #[test]
    fn a_threads_last_key_is_never_another_caches_or_scopes() {
        let a = SigningKeyCache::new();
        let b = SigningKeyCache::new();
        // Alternating caches (other secrets), regions and seconds on one thread.
        for unix in [1_767_323_045, 1_767_323_045, 1_767_323_046, 1_767_409_445] {
            for (cache, secret, region) in [
                (&a, "secret-a", "ch-gva-2"),
                (&b, "secret-b", "ch-gva-2"),
                (&a, "secret-a", "ch-gva-2"),
                (&a, "secret-a", "de-fra-1"),
                (&a, "secret-a", "ch-gva-2"),
            ] {
                let (cached, plain) = signatures(cache, secret, unix, region);
                assert_eq!(cached, plain, "{secret} {region} {unix}");
            }
        }
        // A cache made after one is dropped (maybe at the same address) starts afresh.
        drop(b);
        let c = SigningKeyCache::new();
        let (cached, plain) = signatures(&c, "secret-c", 1_767_409_445, "ch-gva-2");
        assert_eq!(cached, plain);
        // Other threads: their own last keys, the same signatures.
        std::thread::scope(|s| {
            for region in ["ch-gva-2", "de-fra-1"] {
                let a = &a;
                s.spawn(move || {
                    for unix in [1_767_409_445, 1_767_409_446, 1_767_409_446] {
                        let (cached, plain) = signatures(a, "secret-a", unix, region);
                        assert_eq!(cached, plain, "{region} {unix}");
                    }
                });
            }
        });
        let (cached, plain) = signatures(&a, "secret-a", 1_767_409_446, "ch-gva-2");
        assert_eq!(cached, plain);
    }

    #[test]
    fn a_dropped_cache_leaves_no_key_on_its_thread() {
        let cache = SigningKeyCache::new();
        let _ = signatures(&cache, "secret", 1_767_323_045, "ch-gva-2");
        let kept = |id| LAST_KEY.with(|l| l.borrow().as_ref().is_some_and(|l| l.cache == id));
        let id = cache.id;
        assert!(kept(id));
        drop(cache);
        assert!(!kept(id));
    }

    #[test]
    fn cache_keys_by_scope_and_evicts_oldest() {
        let cache = SigningKeyCache::new();
        let s = Secret::from("x");
        for day in 10..30 {
            let _ = cache.mac(&s, format!("201301{day}").as_bytes(), "r", "s3");
        }
        assert_eq!(cache.len(), CACHE_CAPACITY);
        let _ = cache.mac(&s, b"20130129", "r", "s3");
        assert_eq!(cache.len(), CACHE_CAPACITY);
        let _ = cache.mac(&s, b"20130129", "other", "s3");
        assert_eq!(cache.len(), CACHE_CAPACITY);
        let entries = cache.entries.lock().unwrap();
        assert!(
            entries
                .iter()
                .all(|e| &e.date != b"20130110" && &e.date != b"20130111")
        );
    }
}
