//! Access to environment variables and files, behind a trait.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where credential sources read variables and files. [`SystemEnvironment`] is the process;
/// [`StaticEnvironment`] is a fixed map, for tests and for embedding.
pub trait Environment {
    /// The variable's value, `None` when unset or not UTF-8.
    fn var(&self, name: &str) -> Option<String>;
    /// The file's text, `Ok(None)` when it does not exist.
    ///
    /// # Errors
    /// Any other I/O error.
    fn read_file(&self, path: &Path) -> std::io::Result<Option<String>>;
    /// The user's home directory.
    fn home_dir(&self) -> Option<PathBuf>;
}

/// The real process environment and file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEnvironment;

impl Environment for SystemEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn read_file(&self, path: &Path) -> std::io::Result<Option<String>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn home_dir(&self) -> Option<PathBuf> {
        std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    }
}

/// A fixed environment: variables, files and a home directory given up front.
///
/// ```
/// use sos_auth::{CredentialsChain, StaticEnvironment};
/// let env = StaticEnvironment::new()
///     .with_home("/home/exouser")
///     .with_file("/home/exouser/.aws/credentials", "[exomount]\naws_access_key_id = EXO1\naws_secret_access_key = s\n");
/// let resolved = CredentialsChain::new().with_profile("exomount").resolve(&env)?;
/// assert_eq!(resolved.credentials.access_key(), "EXO1");
/// # Ok::<(), sos_auth::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct StaticEnvironment {
    vars: HashMap<String, String>,
    files: HashMap<PathBuf, String>,
    home: Option<PathBuf>,
}

impl std::fmt::Debug for StaticEnvironment {
    // Values and file contents may hold secrets: show names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut vars: Vec<&String> = self.vars.keys().collect();
        vars.sort();
        let mut files: Vec<&PathBuf> = self.files.keys().collect();
        files.sort();
        f.debug_struct("StaticEnvironment")
            .field("vars", &vars)
            .field("files", &files)
            .field("home", &self.home)
            .finish()
    }
}

impl StaticEnvironment {
    /// An empty environment: no variables, no files, no home.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a variable.
    #[must_use]
    pub fn with_var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// Adds a file.
    #[must_use]
    pub fn with_file(mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        self.files.insert(path.into(), text.into());
        self
    }

    /// Sets the home directory.
    #[must_use]
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }
}

impl Environment for StaticEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn read_file(&self, path: &Path) -> std::io::Result<Option<String>> {
        Ok(self.files.get(path).cloned())
    }

    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
    }
}

impl<E: Environment + ?Sized> Environment for &E {
    fn var(&self, name: &str) -> Option<String> {
        (**self).var(name)
    }
    fn read_file(&self, path: &Path) -> std::io::Result<Option<String>> {
        (**self).read_file(path)
    }
    fn home_dir(&self) -> Option<PathBuf> {
        (**self).home_dir()
    }
}
