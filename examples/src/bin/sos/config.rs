//! The client, from the user's files, the environment and the flags (flags win).

use std::path::{Path, PathBuf};

use sos_auth::{Environment, SystemEnvironment};
use sos_client::{Addressing, Client, ClientBuilder, Endpoint, SignatureVersion, Zone};

use crate::Failure;
use crate::args::Global;

/// The system environment, with `--config` standing for `$S3CMD_CONFIG`.
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
    if let Some(path) = &global.config
        && !path.exists()
    {
        return Err(Failure::Usage(format!(
            "the configuration file {} does not exist",
            path.display()
        )));
    }
    let env = CliEnvironment {
        s3cfg: global.config.clone(),
    };
    let mut builder =
        ClientBuilder::from_environment_in(&env, global.profile.as_deref()).map_err(|e| {
            Failure::Usage(format!(
                "{e}\n(set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or EXOSCALE_API_KEY/\
                 EXOSCALE_API_SECRET, use --profile, or write ~/.s3cfg)"
            ))
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
