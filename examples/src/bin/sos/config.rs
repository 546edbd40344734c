//! The client, from the user's files, the environment and the flags (flags win).

use std::path::{Path, PathBuf};

use sos_auth::{Environment, S3cfg, SystemEnvironment};
use sos_client::{Addressing, Client, ClientBuilder, Endpoint, SignatureVersion, Zone};

use crate::Failure;
use crate::args::Global;

/// The system environment, with `--config` standing for `$S3CMD_CONFIG` (a file without
/// keys: they come from the environment or `~/.aws`, the host from the file).
struct CliEnvironment {
    s3cfg: Option<PathBuf>,
}

impl Environment for CliEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        if name == "S3CMD_CONFIG"
            && let Some(path) = &self.s3cfg
        {
            return Some(path.to_string_lossy().into_owned());
        }
        SystemEnvironment.var(name)
    }

    fn read_file(&self, path: &Path) -> std::io::Result<Option<String>> {
        SystemEnvironment.read_file(path)
    }

    fn home_dir(&self) -> Option<PathBuf> {
        SystemEnvironment.home_dir()
    }
}

pub(crate) fn client(global: &Global) -> Result<Client, Failure> {
    let mut from_file = None;
    if let Some(path) = &global.config {
        if !path.is_file() {
            return Err(Failure::Usage(format!(
                "the configuration file {} does not exist",
                path.display()
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
        // Its `$NAME` values read the environment, as s3cmd's do.
        let cfg = S3cfg::parse_in(path.clone(), &text, &SystemEnvironment)
            .map_err(|e| Failure::Usage(e.to_string()))?;
        // A file given with `--config` that holds keys is the configuration, as it is for
        // s3cmd: the `AWS_*` and `EXOSCALE_*` keys and the `~/.aws` files would otherwise
        // come first in the credentials chain, and a profile's `endpoint_url` before the
        // file's `host_base`.
        if cfg.credentials.is_some() && global.profile.is_none() {
            from_file =
                Some(ClientBuilder::from_s3cfg(&cfg).map_err(|e| Failure::Usage(e.to_string()))?);
        }
    }
    let env = CliEnvironment {
        s3cfg: global.config.clone(),
    };
    let from_environment = || {
        ClientBuilder::from_environment_in(&env, global.profile.as_deref()).map_err(|e| {
            let hint = match &e {
                sos_client::Error::Auth(sos_auth::Error::CredentialsNotFound { .. }) => {
                    " (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or EXOSCALE_API_KEY/\
                     EXOSCALE_API_SECRET, use --profile, or write ~/.s3cfg)"
                }
                _ => "",
            };
            Failure::Usage(format!("{e}{hint}"))
        })
    };
    let mut builder = match from_file {
        Some(builder) => builder,
        None => from_environment()?,
    };
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
