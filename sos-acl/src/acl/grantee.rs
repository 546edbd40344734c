//! `Grantee` and the predefined S3 `Group`s.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A predefined S3 group, named by its URI.
///
/// ```
/// use sos_acl::Group;
///
/// assert_eq!(Group::from_uri("http://acs.amazonaws.com/groups/global/AllUsers"), Group::AllUsers);
/// assert_eq!(Group::LogDelivery.uri(), "http://acs.amazonaws.com/groups/s3/LogDelivery");
/// // Any other URI is kept as it is.
/// let other = Group::from_uri("http://example.com/groups/staff");
/// assert_eq!(other.uri(), "http://example.com/groups/staff");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    /// Everyone, including anonymous requests:
    /// `http://acs.amazonaws.com/groups/global/AllUsers`.
    AllUsers,
    /// Any request signed by some account's key:
    /// `http://acs.amazonaws.com/groups/global/AuthenticatedUsers`.
    AuthenticatedUsers,
    /// The log delivery service: `http://acs.amazonaws.com/groups/s3/LogDelivery`.
    LogDelivery,
    /// Any other group URI, kept exactly as given.
    Other(String),
}

impl Group {
    /// URI of [`Group::AllUsers`].
    pub const ALL_USERS_URI: &'static str = "http://acs.amazonaws.com/groups/global/AllUsers";
    /// URI of [`Group::AuthenticatedUsers`].
    pub const AUTHENTICATED_USERS_URI: &'static str =
        "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
    /// URI of [`Group::LogDelivery`].
    pub const LOG_DELIVERY_URI: &'static str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

    /// The group a URI names; exact comparison, unknown URIs become [`Group::Other`].
    pub fn from_uri(uri: &str) -> Group {
        match uri {
            Self::ALL_USERS_URI => Group::AllUsers,
            Self::AUTHENTICATED_USERS_URI => Group::AuthenticatedUsers,
            Self::LOG_DELIVERY_URI => Group::LogDelivery,
            other => Group::Other(other.to_owned()),
        }
    }

    /// The group's URI.
    pub fn uri(&self) -> &str {
        match self {
            Group::AllUsers => Self::ALL_USERS_URI,
            Group::AuthenticatedUsers => Self::AUTHENTICATED_USERS_URI,
            Group::LogDelivery => Self::LOG_DELIVERY_URI,
            Group::Other(uri) => uri,
        }
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.uri())
    }
}

/// Who a grant is for. In XML, the `xsi:type` of `<Grantee>` says which kind.
///
/// ```
/// use sos_acl::{Grantee, Group};
///
/// let user = Grantee::user("75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a");
/// assert_eq!(user.xsi_type(), "CanonicalUser");
/// assert_eq!(Grantee::ALL_USERS, Grantee::Group(Group::AllUsers));
/// assert!(Grantee::ALL_USERS.is_everyone());
/// assert_eq!(Grantee::email("a@example.com").to_string(), "emailAddress=a@example.com");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "GranteeRepr", into = "GranteeRepr")]
#[non_exhaustive]
pub enum Grantee {
    /// An account, by canonical user id (`xsi:type="CanonicalUser"`).
    CanonicalUser {
        /// The canonical user id.
        id: String,
        /// The display name servers add in their answers; ignored when they read a grant.
        display_name: Option<String>,
    },
    /// An account, by e-mail address (`xsi:type="AmazonCustomerByEmail"`). Servers turn it
    /// into a canonical user when they store the ACL.
    Email(String),
    /// A predefined group (`xsi:type="Group"`).
    Group(Group),
}

impl Grantee {
    /// Everyone, anonymous requests included.
    pub const ALL_USERS: Grantee = Grantee::Group(Group::AllUsers);
    /// Every authenticated request.
    pub const AUTHENTICATED_USERS: Grantee = Grantee::Group(Group::AuthenticatedUsers);

    /// A canonical user without display name.
    pub fn user(id: impl Into<String>) -> Grantee {
        Grantee::CanonicalUser {
            id: id.into(),
            display_name: None,
        }
    }

    /// A canonical user with a display name.
    pub fn user_named(id: impl Into<String>, display_name: impl Into<String>) -> Grantee {
        Grantee::CanonicalUser {
            id: id.into(),
            display_name: Some(display_name.into()),
        }
    }

    /// An account by e-mail address.
    pub fn email(address: impl Into<String>) -> Grantee {
        Grantee::Email(address.into())
    }

    /// The `xsi:type` of this grantee: `CanonicalUser`, `AmazonCustomerByEmail` or `Group`.
    pub fn xsi_type(&self) -> &'static str {
        match self {
            Grantee::CanonicalUser { .. } => "CanonicalUser",
            Grantee::Email(_) => "AmazonCustomerByEmail",
            Grantee::Group(_) => "Group",
        }
    }

    /// Whether this is the `AllUsers` group.
    pub fn is_everyone(&self) -> bool {
        matches!(self, Grantee::Group(Group::AllUsers))
    }

    /// Whether two grantees name the same account or group (display names ignored).
    pub fn same_identity(&self, other: &Grantee) -> bool {
        self.identity() == other.identity()
    }

    /// (kind, id / address / URI): what identifies the grantee.
    pub(crate) fn identity(&self) -> (u8, &str) {
        match self {
            Grantee::CanonicalUser { id, .. } => (0, id),
            Grantee::Email(address) => (1, address),
            Grantee::Group(group) => (2, group.uri()),
        }
    }
}

impl fmt::Display for Grantee {
    /// The header form without quotes: `id=…`, `emailAddress=…`, `uri=…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grantee::CanonicalUser { id, .. } => write!(f, "id={id}"),
            Grantee::Email(address) => write!(f, "emailAddress={address}"),
            Grantee::Group(group) => write!(f, "uri={group}"),
        }
    }
}

impl From<Group> for Grantee {
    fn from(group: Group) -> Self {
        Grantee::Group(group)
    }
}

/// The JSON shape of the AWS CLI and SDKs: `{"Type": "CanonicalUser", "ID": …,
/// "DisplayName": …}`, `{"Type": "AmazonCustomerByEmail", "EmailAddress": …}`,
/// `{"Type": "Group", "URI": …}`.
#[derive(Serialize, Deserialize)]
struct GranteeRepr {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(
        rename = "DisplayName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    display_name: Option<String>,
    #[serde(
        rename = "EmailAddress",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    email: Option<String>,
    #[serde(rename = "URI", default, skip_serializing_if = "Option::is_none")]
    uri: Option<String>,
}

impl TryFrom<GranteeRepr> for Grantee {
    type Error = String;

    fn try_from(r: GranteeRepr) -> Result<Self, String> {
        match r.kind.as_str() {
            "CanonicalUser" => Ok(Grantee::CanonicalUser {
                id: r.id.ok_or("a CanonicalUser grantee needs an ID")?,
                display_name: r.display_name,
            }),
            "AmazonCustomerByEmail" => Ok(Grantee::Email(
                r.email
                    .ok_or("an AmazonCustomerByEmail grantee needs an EmailAddress")?,
            )),
            "Group" => Ok(Grantee::Group(Group::from_uri(
                &r.uri.ok_or("a Group grantee needs a URI")?,
            ))),
            other => Err(format!("unknown grantee type `{other}`")),
        }
    }
}

impl From<Grantee> for GranteeRepr {
    fn from(g: Grantee) -> Self {
        let mut r = GranteeRepr {
            kind: g.xsi_type().to_owned(),
            id: None,
            display_name: None,
            email: None,
            uri: None,
        };
        match g {
            Grantee::CanonicalUser { id, display_name } => {
                r.id = Some(id);
                r.display_name = display_name;
            }
            Grantee::Email(address) => r.email = Some(address),
            Grantee::Group(group) => r.uri = Some(group.uri().to_owned()),
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_round_trip_through_their_uri() {
        for g in [
            Group::AllUsers,
            Group::AuthenticatedUsers,
            Group::LogDelivery,
            Group::Other("urn:x".into()),
        ] {
            assert_eq!(Group::from_uri(g.uri()), g);
        }
        // Exact comparison: https is another group.
        assert_eq!(
            Group::from_uri("https://acs.amazonaws.com/groups/global/AllUsers"),
            Group::Other("https://acs.amazonaws.com/groups/global/AllUsers".into())
        );
    }

    #[test]
    fn identity_ignores_display_names() {
        assert!(Grantee::user("a").same_identity(&Grantee::user_named("a", "Alice")));
        assert!(!Grantee::user("a").same_identity(&Grantee::email("a")));
    }
}
