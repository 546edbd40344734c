//! `Owner`, `Grant`, `AccessControlPolicy`, and the questions asked of a policy.

use serde::{Deserialize, Serialize};

use super::{Grantee, Group, Permission};
use crate::Result;

/// The owner of a bucket or object: a canonical user id and, in server answers, a display
/// name.
///
/// ```
/// use sos_acl::Owner;
///
/// let owner = Owner::new("75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a")
///     .with_display_name("mtd");
/// assert_eq!(owner.display_name.as_deref(), Some("mtd"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Owner {
    /// The canonical user id. Empty when the document names no owner: S3's model makes
    /// `Owner` optional and Garage sends none. Written back as `<Owner><ID></ID></Owner>`,
    /// which the RADOS Gateway takes as "the current owner" (it refuses a document without
    /// `Owner`).
    #[serde(rename = "ID", default)]
    pub id: String,
    /// The display name, when the server gives one.
    #[serde(
        rename = "DisplayName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
}

impl Owner {
    /// An owner without display name.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            display_name: None,
        }
    }

    /// Sets the display name.
    #[must_use]
    pub fn with_display_name(mut self, display_name: impl Into<String>) -> Self {
        self.display_name = Some(display_name.into());
        self
    }

    /// The owner as a grantee (a canonical user with the same id and display name).
    pub fn as_grantee(&self) -> Grantee {
        Grantee::CanonicalUser {
            id: self.id.clone(),
            display_name: self.display_name.clone(),
        }
    }
}

/// One entry of an access control list: a grantee and a permission.
///
/// ```
/// use sos_acl::{Grant, Grantee, Permission};
///
/// let grant = Grant::new(Grantee::ALL_USERS, Permission::Read);
/// assert!(grant.grantee.is_everyone());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Grant {
    /// Who.
    #[serde(rename = "Grantee")]
    pub grantee: Grantee,
    /// What.
    #[serde(rename = "Permission")]
    pub permission: Permission,
}

impl Grant {
    /// A grant of `permission` to `grantee`.
    pub fn new(grantee: impl Into<Grantee>, permission: Permission) -> Self {
        Self {
            grantee: grantee.into(),
            permission,
        }
    }
}

/// Who sends a request, for [`AccessControlPolicy::allows`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requester<'a> {
    /// An unsigned request.
    Anonymous,
    /// A request signed with a key of the account with this canonical user id.
    User(&'a str),
}

/// The ACL of a bucket or object: its owner and its grants, as `GET ?acl` answers and
/// `PUT ?acl` takes.
///
/// ```
/// use sos_acl::{AccessControlPolicy, CannedAcl, Grantee, Owner, Permission, Requester};
///
/// let owner = Owner::new("owner-id").with_display_name("owner");
/// let acl = CannedAcl::PublicRead.expand_for_bucket(&owner);
/// assert!(acl.readable_by_everyone());
/// assert!(!acl.writable_by_everyone());
/// assert!(acl.allows(Requester::User("owner-id"), Permission::Write));
///
/// // XML in and out, as S3 sends and accepts it.
/// let xml = acl.to_xml();
/// assert!(xml.contains(r#"xsi:type="Group""#));
/// assert_eq!(AccessControlPolicy::from_xml(&xml)?, acl);
///
/// // Who holds a permission (FULL_CONTROL implies the others).
/// let readers: Vec<&Grantee> = acl.grantees_with(Permission::Read).collect();
/// assert_eq!(readers.len(), 2);
/// # Ok::<(), sos_acl::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccessControlPolicy {
    /// The owner of the resource (an empty id when the document names none).
    #[serde(rename = "Owner", default)]
    pub owner: Owner,
    /// The grants, in document order.
    #[serde(rename = "Grants", default)]
    pub grants: Vec<Grant>,
}

impl AccessControlPolicy {
    /// A policy with no grants (the owner keeps its implicit rights to the ACL itself).
    pub fn new(owner: Owner) -> Self {
        Self {
            owner,
            grants: Vec::new(),
        }
    }

    /// Adds a grant.
    #[must_use]
    pub fn with_grant(mut self, grant: Grant) -> Self {
        self.grants.push(grant);
        self
    }

    /// Adds grants.
    #[must_use]
    pub fn with_grants(mut self, grants: impl IntoIterator<Item = Grant>) -> Self {
        self.grants.extend(grants);
        self
    }

    /// Parses an `AccessControlPolicy` document (the body of `GET ?acl`).
    ///
    /// Values are taken as written, surrounding whitespace included (they are strings to S3
    /// and to the RADOS Gateway: `<ID> test</ID>` is not the user `test`). A document without
    /// `<Owner>` (Garage's) gives an owner with an empty id.
    ///
    /// # Errors
    /// [`Error::MalformedXml`](crate::Error::MalformedXml) for XML that is not well-formed,
    /// [`Error::UnexpectedRoot`](crate::Error::UnexpectedRoot),
    /// [`Error::MissingElement`](crate::Error::MissingElement) (no `AccessControlList`, an
    /// `Owner` without `ID`, a grant without `Permission`, ...),
    /// [`Error::DuplicateElement`](crate::Error::DuplicateElement),
    /// [`Error::UnknownPermission`](crate::Error::UnknownPermission),
    /// [`Error::UnknownGranteeType`](crate::Error::UnknownGranteeType) and
    /// [`Error::MalformedGrantee`](crate::Error::MalformedGrantee), each with the element's
    /// path and byte offset.
    pub fn from_xml(xml: impl AsRef<[u8]>) -> Result<Self> {
        super::xml::parse(xml.as_ref())
    }

    /// Checks what S3 checks before taking a policy that sos-acl can express: at most
    /// [`MAX_GRANTS`](crate::MAX_GRANTS) grants (the RADOS Gateway answers more with
    /// `400 LimitExceeded`). Who the grantees are only the server can tell.
    ///
    /// ```
    /// use sos_acl::{AccessControlPolicy, Error, Grant, Grantee, Owner, Permission};
    /// let grant = Grant::new(Grantee::ALL_USERS, Permission::Read);
    /// let policy = AccessControlPolicy::new(Owner::new("me")).with_grants(vec![grant; 101]);
    /// assert_eq!(policy.validate(), Err(Error::TooManyGrants { count: 101 }));
    /// ```
    ///
    /// # Errors
    /// [`Error::TooManyGrants`](crate::Error::TooManyGrants).
    pub fn validate(&self) -> Result<()> {
        if self.grants.len() > crate::MAX_GRANTS {
            return Err(crate::Error::TooManyGrants {
                count: self.grants.len(),
            });
        }
        Ok(())
    }

    /// The XML document `PUT ?acl` takes: declaration, S3 namespace, `Owner` (always, even
    /// with an empty id: the RADOS Gateway refuses a document without it), `xmlns:xsi` and
    /// `xsi:type` on every `<Grantee>`.
    pub fn to_xml(&self) -> String {
        super::xml::write(self)
    }

    /// The grantees holding `permission`, directly or through `FULL_CONTROL`, in grant order
    /// (a grantee with both appears twice).
    pub fn grantees_with(&self, permission: Permission) -> impl Iterator<Item = &Grantee> + '_ {
        self.grants
            .iter()
            .filter(move |g| g.permission.implies(permission))
            .map(|g| &g.grantee)
    }

    /// Whether `requester` holds `permission` by this policy alone.
    ///
    /// A grant to `AllUsers` applies to everyone, one to `AuthenticatedUsers` to every
    /// [`Requester::User`], one to a canonical user to that user; e-mail grantees match no
    /// one (servers store them as canonical users). The owner always has `READ_ACP` and
    /// `WRITE_ACP`, as in S3. Bucket policies, and for objects the bucket's ACL, are not
    /// considered: in S3 and SOS an object's ACL is not inherited from its bucket.
    pub fn allows(&self, requester: Requester<'_>, permission: Permission) -> bool {
        if let Requester::User(id) = requester
            && id == self.owner.id
            && matches!(permission, Permission::ReadAcp | Permission::WriteAcp)
        {
            return true;
        }
        self.grants.iter().any(|g| {
            g.permission.implies(permission)
                && match (&g.grantee, requester) {
                    (Grantee::Group(Group::AllUsers), _) => true,
                    (Grantee::Group(Group::AuthenticatedUsers), Requester::User(_)) => true,
                    (Grantee::CanonicalUser { id, .. }, Requester::User(user)) => id == user,
                    _ => false,
                }
        })
    }

    /// Whether an anonymous request may read: the object's content, or the bucket's listing.
    pub fn readable_by_everyone(&self) -> bool {
        self.allows(Requester::Anonymous, Permission::Read)
    }

    /// Whether an anonymous request may write: on a bucket, create, overwrite and delete its
    /// objects. (`WRITE` on an object has no effect in S3.)
    pub fn writable_by_everyone(&self) -> bool {
        self.allows(Requester::Anonymous, Permission::Write)
    }

    /// Whether any grant goes to `AllUsers` or `AuthenticatedUsers` (what the S3 console
    /// calls public).
    pub fn is_public(&self) -> bool {
        self.grants.iter().any(|g| {
            matches!(
                g.grantee,
                Grantee::Group(Group::AllUsers | Group::AuthenticatedUsers)
            )
        })
    }

    /// Whether two policies mean the same: same owner id and the same set of (grantee,
    /// permission) pairs, whatever their order, repetitions and display names. Servers
    /// reorder grants (the RADOS Gateway lists groups first), so compare with this.
    pub fn equivalent(&self, other: &AccessControlPolicy) -> bool {
        self.owner.id == other.owner.id && self.grant_set() == other.grant_set()
    }

    fn grant_set(&self) -> Vec<((u8, &str), Permission)> {
        let mut set: Vec<_> = self
            .grants
            .iter()
            .map(|g| (g.grantee.identity(), g.permission))
            .collect();
        set.sort_unstable();
        set.dedup();
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> AccessControlPolicy {
        AccessControlPolicy::new(Owner::new("o"))
            .with_grant(Grant::new(Grantee::user("o"), Permission::FullControl))
            .with_grant(Grant::new(Grantee::user("u"), Permission::Read))
            .with_grant(Grant::new(
                Grantee::AUTHENTICATED_USERS,
                Permission::ReadAcp,
            ))
            .with_grant(Grant::new(Grantee::email("e@x"), Permission::Write))
    }

    #[test]
    fn allows_follows_grants_groups_and_owner_rights() {
        let p = policy();
        assert!(p.allows(Requester::User("o"), Permission::Write));
        assert!(p.allows(Requester::User("u"), Permission::Read));
        assert!(!p.allows(Requester::User("u"), Permission::Write));
        assert!(p.allows(Requester::User("u"), Permission::ReadAcp));
        assert!(!p.allows(Requester::Anonymous, Permission::ReadAcp));
        assert!(!p.allows(Requester::User("e@x"), Permission::Write));
        assert!(p.is_public());
        assert!(!p.readable_by_everyone());
        // The owner keeps READ_ACP / WRITE_ACP with no grant at all.
        let bare = AccessControlPolicy::new(Owner::new("o"));
        assert!(bare.allows(Requester::User("o"), Permission::WriteAcp));
        assert!(!bare.allows(Requester::User("o"), Permission::Read));
    }

    #[test]
    fn grantees_with_counts_full_control() {
        let p = policy();
        let readers: Vec<_> = p.grantees_with(Permission::Read).collect();
        assert_eq!(readers, [&Grantee::user("o"), &Grantee::user("u")]);
        let writers: Vec<_> = p.grantees_with(Permission::Write).collect();
        assert_eq!(writers, [&Grantee::user("o"), &Grantee::email("e@x")]);
    }

    #[test]
    fn equivalence_ignores_order_repetition_and_names() {
        let mut other = policy();
        other.grants.reverse();
        other
            .grants
            .push(Grant::new(Grantee::user_named("u", "U"), Permission::Read));
        assert!(policy().equivalent(&other));
        other.grants.pop();
        other.grants.pop();
        assert!(!policy().equivalent(&other));
    }
}
