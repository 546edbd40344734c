//! The client, from the user's files, the environment and the flags (flags win).

use std::path::{Path, PathBuf};

use sos_auth::{Environment, S3cfg, SystemEnvironment};
use sos_client::{Addressing, Client, ClientBuilder, Endpoint, SignatureVersion, Zone};

use crate::Failure;
use crate::args::Global;

/// The system environment, with `--config` standing for `$S3CMD_CONFIG`.
///
/// A file given with `--config` is the configuration, as it is for s3cmd: when it holds
/// keys, the `AWS_*` and `EXOSCALE_*` variables and the `~/.aws` files are not read (they
/// would otherwise come first in the credentials chain, and a profile's `endpoint_url`
/// before the file's `host_base`).
struct CliEnvironment {
    s3cfg: Option<PathBuf>,
    only_s3cfg: bool,
}

impl Environment for CliEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        if name == "S3CMD_CONFIG"
            && let Some(path) = &self.s3cfg
        {
            return Some(path.to_string_lossy().into_owned());
        }
        if self.only_s3cfg && (name.starts_with("AWS_") || name.starts_with("EXOSCALE_")) {
            return None;
        }
        SystemEnvironment.var(name)
    }

    fn read_file(&self, path: &Path) -> std::io::Result<Option<String>> {
        SystemEnvironment.read_file(path)
    }

    fn home_dir(&self) -> Option<PathBuf> {
        if self.only_s3cfg {
            // No ~/.aws files; the s3cmd file is found through S3CMD_CONFIG.
            return None;
        }
        SystemEnvironment.home_dir()
    }
}

pub(crate) fn client(global: &Global) -> Result<Client, Failure> {
    let mut only_s3cfg = false;
    if let Some(path) = &global.config {
        if !path.is_file() {
            return Err(Failure::Usage(format!(
                "the configuration file {} does not exist",
                path.display()
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
        let cfg = S3cfg::parse(path.clone(), &text).map_err(|e| Failure::Usage(e.to_string()))?;
        only_s3cfg = cfg.credentials.is_some() && global.profile.is_none();
    }
    let env = CliEnvironment {
        s3cfg: global.config.clone(),
        only_s3cfg,
    };
    let mut builder =
        ClientBuilder::from_environment_in(&env, global.profile.as_deref()).map_err(|e| {
            let hint = match &e {
                sos_client::Error::Auth(sos_auth::Error::CredentialsNotFound { .. }) => {
                    " (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or EXOSCALE_API_KEY/\
                     EXOSCALE_API_SECRET, use --profile, or write ~/.s3cfg)"
                }
                _ => "",
            };
            Failure::Usage(format!("{e}{hint}"))
        })?;
    if let Some(zone) = &global.zone {
        let zone: Zone = zone
            .parse()
            .map_err(|e: sos_presign::Error| Failure::Usage(e.to_string()))?;
        builder = builder.endpoint(Endpoint::zone(zone));
    }
    if let Some(url) = &global.endpoint_url {
        let endpoint = Endpoint::parse(url).map_err(|e| Failure::Usage(e.to_string()))?;
        builder = builder.endpoint(endpoint);
    }
    if let Some(region) = &global.region {
        builder = builder.region(region.clone());
    }
    if global.signature_v2 {
        builder = builder.signature_version(SignatureVersion::V2);
    }
    if global.virtual_host {
        builder = builder.addressing(Addressing::VirtualHost);
    }
    builder.build().map_err(|e| Failure::Usage(e.to_string()))
}
