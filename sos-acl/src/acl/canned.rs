//! `CannedAcl`: the `x-amz-acl` shorthands and what they expand to.

use std::fmt;
use std::str::FromStr;

use http::HeaderName;
use serde::{Deserialize, Serialize};

use super::{AccessControlPolicy, Grant, Grantee, Owner, Permission};
use crate::{Error, Result};

/// `x-amz-acl`
pub const X_AMZ_ACL: HeaderName = HeaderName::from_static("x-amz-acl");

/// A canned ACL, sent as `x-amz-acl` when a bucket or object is created or its ACL replaced.
///
/// ```
/// use sos_acl::{CannedAcl, Owner};
///
/// let acl: CannedAcl = "public-read".parse()?;
/// let me = Owner::new("me");
/// let policy = acl.expand_for_object(&me, &Owner::new("bucket-owner"));
/// assert!(policy.readable_by_everyone());
/// assert_eq!(policy.grants.len(), 2); // me: FULL_CONTROL, AllUsers: READ
/// # Ok::<(), sos_acl::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CannedAcl {
    /// `private`: the owner gets `FULL_CONTROL`, no one else has access. The default.
    Private,
    /// `public-read`: the owner gets `FULL_CONTROL`, `AllUsers` get `READ`.
    PublicRead,
    /// `public-read-write`: the owner gets `FULL_CONTROL`, `AllUsers` get `READ` and `WRITE`.
    PublicReadWrite,
    /// `authenticated-read`: the owner gets `FULL_CONTROL`, `AuthenticatedUsers` get `READ`.
    AuthenticatedRead,
    /// `bucket-owner-read` (objects): the object owner gets `FULL_CONTROL`, the bucket owner
    /// `READ`. S3 ignores it on a bucket.
    BucketOwnerRead,
    /// `bucket-owner-full-control` (objects): the object owner and the bucket owner both get
    /// `FULL_CONTROL`. S3 ignores it on a bucket.
    BucketOwnerFullControl,
}

impl CannedAcl {
    /// The six canned ACLs.
    pub const ALL: [CannedAcl; 6] = [
        CannedAcl::Private,
        CannedAcl::PublicRead,
        CannedAcl::PublicReadWrite,
        CannedAcl::AuthenticatedRead,
        CannedAcl::BucketOwnerRead,
        CannedAcl::BucketOwnerFullControl,
    ];

    /// The `x-amz-acl` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            CannedAcl::Private => "private",
            CannedAcl::PublicRead => "public-read",
            CannedAcl::PublicReadWrite => "public-read-write",
            CannedAcl::AuthenticatedRead => "authenticated-read",
            CannedAcl::BucketOwnerRead => "bucket-owner-read",
            CannedAcl::BucketOwnerFullControl => "bucket-owner-full-control",
        }
    }

    /// The `x-amz-acl` header value.
    pub const fn header_value(self) -> http::HeaderValue {
        http::HeaderValue::from_static(self.as_str())
    }

    /// The ACL an object gets when created with this canned ACL by `object_owner` in a
    /// bucket of `bucket_owner`. The object owner's `FULL_CONTROL` comes first; a grant that
    /// would repeat it (the bucket owner being the object owner) is left out.
    pub fn expand_for_object(
        self,
        object_owner: &Owner,
        bucket_owner: &Owner,
    ) -> AccessControlPolicy {
        let mut grants = vec![Grant::new(
            object_owner.as_grantee(),
            Permission::FullControl,
        )];
        let same_owner = object_owner.id == bucket_owner.id;
        match self {
            CannedAcl::Private => {}
            CannedAcl::PublicRead => grants.push(Grant::new(Grantee::ALL_USERS, Permission::Read)),
            CannedAcl::PublicReadWrite => {
                grants.push(Grant::new(Grantee::ALL_USERS, Permission::Read));
                grants.push(Grant::new(Grantee::ALL_USERS, Permission::Write));
            }
            CannedAcl::AuthenticatedRead => {
                grants.push(Grant::new(Grantee::AUTHENTICATED_USERS, Permission::Read));
            }
            CannedAcl::BucketOwnerRead if !same_owner => {
                grants.push(Grant::new(bucket_owner.as_grantee(), Permission::Read));
            }
            CannedAcl::BucketOwnerFullControl if !same_owner => {
                grants.push(Grant::new(
                    bucket_owner.as_grantee(),
                    Permission::FullControl,
                ));
            }
            CannedAcl::BucketOwnerRead | CannedAcl::BucketOwnerFullControl => {}
        }
        AccessControlPolicy {
            owner: object_owner.clone(),
            grants,
        }
    }

    /// The ACL a bucket gets with this canned ACL. `bucket-owner-read` and
    /// `bucket-owner-full-control` mean nothing on a bucket and give the same as `private`.
    pub fn expand_for_bucket(self, owner: &Owner) -> AccessControlPolicy {
        self.expand_for_object(owner, owner)
    }
}

impl fmt::Display for CannedAcl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CannedAcl {
    type Err = Error;

    /// Parses an `x-amz-acl` value (exact, surrounding spaces ignored).
    ///
    /// # Errors
    /// [`Error::UnknownCannedAcl`] for anything but the six names.
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        CannedAcl::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| Error::UnknownCannedAcl(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Requester;

    #[test]
    fn names_round_trip() {
        for c in CannedAcl::ALL {
            assert_eq!(c.as_str().parse::<CannedAcl>().unwrap(), c);
            assert_eq!(c.to_string(), c.as_str());
            assert_eq!(c.header_value(), c.as_str());
        }
        assert_eq!(
            "log-delivery-write".parse::<CannedAcl>(),
            Err(Error::UnknownCannedAcl("log-delivery-write".into()))
        );
    }

    #[test]
    fn expansions() {
        let me = Owner::new("me");
        let them = Owner::new("them");
        let anon = |c: CannedAcl| {
            let p = c.expand_for_object(&me, &them);
            (p.readable_by_everyone(), p.writable_by_everyone())
        };
        assert_eq!(anon(CannedAcl::Private), (false, false));
        assert_eq!(anon(CannedAcl::PublicRead), (true, false));
        assert_eq!(anon(CannedAcl::PublicReadWrite), (true, true));
        assert_eq!(anon(CannedAcl::AuthenticatedRead), (false, false));

        let p = CannedAcl::AuthenticatedRead.expand_for_object(&me, &them);
        assert!(p.allows(Requester::User("anyone"), Permission::Read));

        let p = CannedAcl::BucketOwnerRead.expand_for_object(&me, &them);
        assert!(p.allows(Requester::User("them"), Permission::Read));
        assert!(!p.allows(Requester::User("them"), Permission::Write));
        let p = CannedAcl::BucketOwnerFullControl.expand_for_object(&me, &them);
        assert!(p.allows(Requester::User("them"), Permission::Write));

        for c in [
            CannedAcl::BucketOwnerRead,
            CannedAcl::BucketOwnerFullControl,
        ] {
            assert_eq!(
                c.expand_for_bucket(&me),
                CannedAcl::Private.expand_for_bucket(&me)
            );
        }
    }
}
