//! Arbitrary bytes as `~/.aws/credentials`, `~/.aws/config` and `~/.s3cfg`: the chain must
//! answer with credentials or an error naming the file and line, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sos_auth::{CredentialsChain, StaticEnvironment};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let env = StaticEnvironment::new()
        .with_home("/h")
        .with_file("/h/.aws/credentials", text.clone())
        .with_file("/h/.aws/config", text.clone())
        .with_file("/h/.s3cfg", text);
    let _ = CredentialsChain::new().resolve(&env);
    let _ = CredentialsChain::new().with_profile("p").resolve(&env);
});
