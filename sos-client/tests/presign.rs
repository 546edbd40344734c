//! Pre-signed URLs made from a client's own endpoint and credentials, used by curl.

use std::process::Command;
use std::time::Duration;

use sos_client::Addressing;

use crate::common::{self, data, remove_bucket};

fn curl(args: &[&str]) -> (u16, Vec<u8>) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "30", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl runs");
    let mut body = out.stdout;
    let split = body.iter().rposition(|&b| b == b'\n').unwrap_or(0);
    let status = String::from_utf8_lossy(&body[split + 1..])
        .trim()
        .parse()
        .unwrap_or(0);
    body.truncate(split);
    (status, body)
}

#[tokio::test]
async fn presigned_urls_from_the_client_work_with_curl() {
    for target in common::all() {
        for &version in target.versions {
            for addressing in [Addressing::Path, Addressing::VirtualHost] {
                let label = format!("{} {version:?} {addressing:?}", target.name);
                let client = target.client_with(version, addressing);
                let bucket = target.bucket(&client, "sos-presign").await;
                let content = data(100_000, 21);
                let dir = tempfile::tempdir().unwrap();
                let file = dir.path().join("up.bin");
                std::fs::write(&file, &content).unwrap();
                let resolve = format!("*:{}:127.0.0.1", target.port);

                let put = client
                    .presigner()
                    .put_object(&bucket, "shared/up load.bin")
                    .expires_in(Duration::from_secs(300))
                    .sign()
                    .unwrap();
                let file_arg = file.to_string_lossy().into_owned();
                let (status, body) = curl(&["--resolve", &resolve, "-T", &file_arg, &put.url]);
                assert_eq!(status, 200, "{label}: {}", String::from_utf8_lossy(&body));
                let got = client
                    .get_object(&bucket, "shared/up load.bin")
                    .bytes()
                    .await
                    .unwrap();
                assert!(got == content, "{label}");

                let get = client
                    .presigner()
                    .get_object(&bucket, "shared/up load.bin")
                    .sign()
                    .unwrap();
                let (status, body) = curl(&["--resolve", &resolve, &get.url]);
                assert_eq!(status, 200, "{label}");
                assert!(body == content, "{label}");
                // Another method with the same URL is refused.
                let (status, _) = curl(&["--resolve", &resolve, "-X", "DELETE", &get.url]);
                assert_eq!(status, 403, "{label}");
                remove_bucket(&client, &bucket).await;
            }
        }
    }
}
