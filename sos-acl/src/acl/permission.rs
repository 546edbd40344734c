//! `Permission`: what a grant allows.

use std::fmt;
use std::str::FromStr;

use http::HeaderName;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A permission S3 grants. What each means depends on the resource:
///
/// | | on a bucket | on an object |
/// |---|---|---|
/// | `READ` | list the objects | read the object and its metadata |
/// | `WRITE` | create, overwrite and delete objects | (not applicable) |
/// | `READ_ACP` | read the bucket's ACL | read the object's ACL |
/// | `WRITE_ACP` | replace the bucket's ACL | replace the object's ACL |
/// | `FULL_CONTROL` | all of the above | all of the above |
///
/// ```
/// use sos_acl::Permission;
///
/// let p: Permission = "READ_ACP".parse()?;
/// assert_eq!(p, Permission::ReadAcp);
/// assert!(Permission::FullControl.implies(Permission::Write));
/// assert!(!Permission::Read.implies(Permission::ReadAcp));
/// assert!("DELETE".parse::<Permission>().is_err());
/// # Ok::<(), sos_acl::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    /// `READ`
    #[serde(rename = "READ")]
    Read,
    /// `WRITE`
    #[serde(rename = "WRITE")]
    Write,
    /// `READ_ACP`
    #[serde(rename = "READ_ACP")]
    ReadAcp,
    /// `WRITE_ACP`
    #[serde(rename = "WRITE_ACP")]
    WriteAcp,
    /// `FULL_CONTROL`: implies the four others.
    #[serde(rename = "FULL_CONTROL")]
    FullControl,
}

impl Permission {
    /// The five permissions, in the order of the S3 documentation.
    pub const ALL: [Permission; 5] = [
        Permission::Read,
        Permission::Write,
        Permission::ReadAcp,
        Permission::WriteAcp,
        Permission::FullControl,
    ];

    /// The XML form: `READ`, `WRITE`, `READ_ACP`, `WRITE_ACP`, `FULL_CONTROL`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "READ",
            Permission::Write => "WRITE",
            Permission::ReadAcp => "READ_ACP",
            Permission::WriteAcp => "WRITE_ACP",
            Permission::FullControl => "FULL_CONTROL",
        }
    }

    /// Whether holding `self` gives `other`: the same permission, or `FULL_CONTROL`.
    pub fn implies(self, other: Permission) -> bool {
        self == other || self == Permission::FullControl
    }

    /// The request header that grants this permission: `x-amz-grant-read`,
    /// `x-amz-grant-write`, `x-amz-grant-read-acp`, `x-amz-grant-write-acp`,
    /// `x-amz-grant-full-control`.
    pub const fn grant_header(self) -> HeaderName {
        HeaderName::from_static(match self {
            Permission::Read => "x-amz-grant-read",
            Permission::Write => "x-amz-grant-write",
            Permission::ReadAcp => "x-amz-grant-read-acp",
            Permission::WriteAcp => "x-amz-grant-write-acp",
            Permission::FullControl => "x-amz-grant-full-control",
        })
    }

    /// The permission an `x-amz-grant-*` header name grants (case-insensitive), if it is one.
    pub fn from_grant_header(name: &str) -> Option<Permission> {
        Permission::ALL
            .into_iter()
            .find(|p| p.grant_header().as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = Error;

    /// Parses the XML form, exactly (S3 is case-sensitive here).
    ///
    /// # Errors
    /// [`Error::UnknownPermission`] for anything else.
    fn from_str(s: &str) -> Result<Self> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| Error::UnknownPermission {
                value: s.to_owned(),
                path: "Permission".to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_headers() {
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>().unwrap(), p);
            assert_eq!(
                Permission::from_grant_header(p.grant_header().as_str()),
                Some(p)
            );
            assert!(Permission::FullControl.implies(p));
            assert!(p.implies(p));
        }
        assert_eq!(
            Permission::from_grant_header("X-Amz-Grant-Read-Acp"),
            Some(Permission::ReadAcp)
        );
        assert_eq!(Permission::from_grant_header("x-amz-grant-delete"), None);
        assert!(!Permission::Write.implies(Permission::Read));
        assert!("read".parse::<Permission>().is_err());
    }
}
