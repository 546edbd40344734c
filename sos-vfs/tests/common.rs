//! The storages the tests run on (memory, and the RADOS Gateway with the `sos-client`
//! feature), and helpers that drive a `Vfs` the way a kernel would.

use std::collections::BTreeMap;
use std::future::Future;

use sos_vfs::{Error, FileKind, ListRequest, MemoryStorage, Storage, Vfs, VfsOptions};

/// A storage the tests can also inspect.
pub(crate) trait Backend: Storage + Clone + 'static {
    /// Whether keys with a NUL can be stored.
    const NUL_KEYS: bool;
    /// Whether keys longer than S3's 1024 bytes can be stored (Garage's can).
    const LONG_KEYS: bool;
    /// Keys of the multipart uploads in progress under `prefix`.
    fn pending_uploads(&self, prefix: &str) -> impl Future<Output = Vec<String>> + Send;
    /// Stores any key, even one the `Storage` cannot send (`.` and `..` segments).
    fn put_any(&self, key: &str, data: &[u8]) -> impl Future<Output = ()> + Send;
}

impl Backend for MemoryStorage {
    const NUL_KEYS: bool = true;
    const LONG_KEYS: bool = true;
    async fn pending_uploads(&self, prefix: &str) -> Vec<String> {
        MemoryStorage::pending_uploads(self)
            .into_iter()
            .filter(|k| k.starts_with(prefix))
            .collect()
    }

    async fn put_any(&self, key: &str, data: &[u8]) {
        self.put(key, data.to_vec().into()).await.unwrap();
    }
}

#[cfg(feature = "sos-client")]
impl Backend for sos_vfs::SosStorage {
    // A NUL cannot be written in the XML of a listing.
    const NUL_KEYS: bool = false;
    // The gateway refuses them (`InvalidObjectName`; a HEAD answers 400).
    const LONG_KEYS: bool = false;
    async fn pending_uploads(&self, prefix: &str) -> Vec<String> {
        self.client()
            .list_multipart_uploads(self.bucket(), Some(prefix))
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.key)
            .collect()
    }

    async fn put_any(&self, key: &str, data: &[u8]) {
        let dot_segments = key.split('/').any(|s| s == "." || s == "..");
        if !dot_segments {
            return self
                .put(key, data.to_vec().into())
                .await
                .unwrap_or_else(|e| panic!("put `{}`: {e}", key.escape_debug()));
        }
        // sos-client refuses such keys (its URL stack would remove the segments): send a
        // pre-signed PUT (which escapes them) byte for byte.
        let presigned = self
            .client()
            .presigner()
            .put_object(self.bucket(), key)
            .sign()
            .unwrap();
        let mut request = http::Request::put(presigned.url)
            .body(data.to_vec())
            .unwrap();
        request.headers_mut().extend(presigned.headers);
        let response = tokio::task::spawn_blocking(move || sos_testing::raw::send(&request))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            response.status,
            200,
            "raw PUT of `{key}`: {}",
            response.text()
        );
    }
}

/// A storage and the key prefix one test (or one property-test case) owns.
#[derive(Clone)]
pub(crate) struct Fixture<S> {
    pub(crate) storage: S,
    pub(crate) prefix: String,
}

/// In memory, with S3's 5 MiB minimum part size.
pub(crate) fn memory() -> Fixture<MemoryStorage> {
    Fixture {
        storage: MemoryStorage::new(),
        prefix: "test/".to_owned(),
    }
}

/// A new bucket on the RADOS Gateway (`None`, said loudly, when it is not running and
/// `SOS_TEST_ALLOW_MISSING_SERVERS=1`; otherwise the test fails and says how to start it).
#[cfg(feature = "sos-client")]
pub(crate) async fn gateway(test: &str) -> Option<Fixture<sos_vfs::SosStorage>> {
    use sos_client::{Addressing, Client, Credentials, Endpoint, RetryConfig};
    let server = sos_testing::rados_gateway()?;
    let endpoint = Endpoint::parse(&server.endpoint)
        .unwrap()
        .with_region(server.region.clone())
        .with_addressing(Addressing::Path);
    let client = Client::builder()
        .endpoint(endpoint)
        .credentials(Credentials::new(
            server.access_key.clone(),
            server.secret_key.clone(),
        ))
        .retry(RetryConfig::default().with_base_delay(std::time::Duration::from_millis(20)))
        .build()
        .unwrap();
    let bucket = sos_testing::unique_name("vfs");
    client
        .create_bucket(&bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("radosgw: create bucket {bucket} for {test}: {e}"));
    Some(Fixture {
        storage: sos_vfs::SosStorage::new(client, bucket),
        prefix: format!("{}/", test.replace('_', "-")),
    })
}

#[cfg(feature = "sos-client")]
impl Fixture<sos_vfs::SosStorage> {
    /// Deletes the bucket and everything in it.
    pub(crate) async fn remove_bucket(&self) {
        let client = self.storage.client();
        let bucket = self.storage.bucket();
        let keys = all_keys(&self.storage, "").await;
        if !keys.is_empty() {
            let out = client.delete_objects(bucket, &keys).await.unwrap();
            assert!(out.errors.is_empty(), "{:?}", out.errors);
        }
        for upload in client.list_multipart_uploads(bucket, None).await.unwrap() {
            let upload = sos_client::MultipartUpload {
                bucket: bucket.to_owned(),
                key: upload.key,
                upload_id: upload.upload_id,
            };
            client.abort_multipart_upload(&upload).await.unwrap();
        }
        client.delete_bucket(bucket).await.unwrap();
    }
}

/// Every key under `prefix`, all pages.
pub(crate) async fn all_keys<S: Storage>(storage: &S, prefix: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let request = ListRequest::new(prefix).with_continuation(token);
        let page = storage.list(&request).await.unwrap();
        keys.extend(page.objects.into_iter().map(|o| o.key));
        match page.next {
            Some(next) => token = Some(next),
            None => return keys,
        }
    }
}

impl<S: Backend> Fixture<S> {
    /// A file system on this fixture's prefix.
    pub(crate) fn vfs(&self, options: VfsOptions) -> Vfs<S> {
        Vfs::new(
            self.storage.clone(),
            options.with_prefix(self.prefix.clone()),
        )
        .unwrap()
    }

    /// Stores a key below the prefix, through the storage (not the file system).
    pub(crate) async fn put(&self, key: &str, data: &[u8]) {
        self.storage
            .put_any(&format!("{}{key}", self.prefix), data)
            .await;
    }

    /// Deletes a key below the prefix, through the storage.
    pub(crate) async fn delete(&self, key: &str) {
        self.storage
            .delete(&format!("{}{key}", self.prefix))
            .await
            .unwrap();
    }

    /// The keys below the prefix, without it.
    pub(crate) async fn keys(&self) -> Vec<String> {
        all_keys(&self.storage, &self.prefix)
            .await
            .into_iter()
            .map(|k| k[self.prefix.len()..].to_owned())
            .collect()
    }

    /// The multipart uploads in progress below the prefix.
    pub(crate) async fn pending_uploads(&self) -> Vec<String> {
        self.storage.pending_uploads(&self.prefix).await
    }
}

/// `(parent path, name)` of a path.
pub(crate) fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// Creates a file, writes `data` in pieces of `piece` bytes, releases it.
pub(crate) async fn write_file<S: Storage + 'static>(
    vfs: &Vfs<S>,
    path: &str,
    data: &[u8],
    piece: usize,
) -> Result<(), Error> {
    let (parent, name) = split(path);
    let parent = vfs.lookup_path(parent).await?;
    let (attr, fh) = vfs.create(parent.ino, name).await?;
    write_all(vfs, attr.ino, fh, data, piece).await?;
    vfs.release(attr.ino, fh).await
}

/// Writes `data` from offset 0 in pieces of `piece` bytes.
pub(crate) async fn write_all<S: Storage + 'static>(
    vfs: &Vfs<S>,
    ino: u64,
    fh: u64,
    data: &[u8],
    piece: usize,
) -> Result<(), Error> {
    let mut offset = 0;
    for chunk in data.chunks(piece.max(1)) {
        let n = vfs.write(ino, fh, offset, chunk).await?;
        assert_eq!(n as usize, chunk.len());
        offset += chunk.len() as u64;
    }
    Ok(())
}

/// Opens a file and reads it whole, `piece` bytes at a time.
pub(crate) async fn read_file<S: Storage + 'static>(
    vfs: &Vfs<S>,
    path: &str,
    piece: u32,
) -> Result<Vec<u8>, Error> {
    let attr = vfs.lookup_path(path).await?;
    let fh = vfs.open(attr.ino, libc::O_RDONLY).await?;
    let mut out = Vec::new();
    loop {
        let data = vfs.read(attr.ino, fh, out.len() as u64, piece).await?;
        if data.is_empty() {
            break;
        }
        out.extend_from_slice(&data);
    }
    vfs.release(attr.ino, fh).await?;
    Ok(out)
}

/// The names and kinds in a directory, without `.` and `..`.
pub(crate) async fn names<S: Storage + 'static>(
    vfs: &Vfs<S>,
    path: &str,
) -> Result<Vec<(String, FileKind)>, Error> {
    let dir = vfs.lookup_path(path).await?;
    Ok(vfs
        .readdir_all(dir.ino)
        .await?
        .into_iter()
        .filter(|e| e.name != "." && e.name != "..")
        .map(|e| (e.name, e.attr.kind))
        .collect())
}

/// Just the names of [`names`].
pub(crate) async fn name_list<S: Storage + 'static>(vfs: &Vfs<S>, path: &str) -> Vec<String> {
    names(vfs, path)
        .await
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

/// The whole tree: every path, `None` for a directory, the contents for a file (empty
/// for a file made by `mknod` and not written yet, which cannot be read: `EPERM`).
pub(crate) async fn tree<S: Storage + 'static>(vfs: &Vfs<S>) -> BTreeMap<String, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![String::new()];
    while let Some(dir) = dirs.pop() {
        for (name, kind) in names(vfs, &dir).await.unwrap() {
            let path = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            match kind {
                FileKind::Directory => {
                    dirs.push(path.clone());
                    out.insert(path, None);
                }
                FileKind::File => {
                    let data = match read_file(vfs, &path, 64 * 1024).await {
                        Ok(data) => data,
                        Err(e) if e.errno() == libc::EPERM => Vec::new(),
                        Err(e) => panic!("read `{path}`: {e}"),
                    };
                    out.insert(path, Some(data));
                }
            }
        }
    }
    out
}

/// The errno of a result (0 for success).
pub(crate) fn errno<T>(result: &Result<T, Error>) -> i32 {
    result.as_ref().err().map_or(0, Error::errno)
}

/// Deterministic bytes.
pub(crate) fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Runs a test body on memory and on the RADOS Gateway (each in its own test).
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                super::$name(&crate::common::memory()).await;
            }

            #[cfg(feature = "sos-client")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn radosgw() {
                let Some(fixture) = crate::common::gateway(stringify!($name)).await else {
                    return;
                };
                super::$name(&fixture).await;
                fixture.remove_bucket().await;
            }
        }
    )*};
}
pub(crate) use on_both;
