//! The header form of an ACL: `x-amz-acl`, or `x-amz-grant-*` lists.

use http::{HeaderMap, HeaderValue};

use super::{AccessControlPolicy, CannedAcl, Grant, Grantee, Group, Owner, Permission, X_AMZ_ACL};
use crate::{Error, Result};

/// The ACL a request sets through its headers (`PUT` of a bucket or object, `PUT ?acl`
/// without body): either a canned ACL (`x-amz-acl`) or explicit grants, one header per
/// permission listing grantees as `id="…"`, `uri="…"` or `emailAddress="…"`:
///
/// ```text
/// x-amz-grant-read: uri="http://acs.amazonaws.com/groups/global/AllUsers", id="abc123"
/// x-amz-grant-full-control: emailAddress="admin@example.com"
/// ```
///
/// ```
/// use sos_acl::{AclHeaders, CannedAcl, Grant, Grantee, Owner, Permission};
///
/// let grants = AclHeaders::Grants(vec![
///     Grant::new(Grantee::ALL_USERS, Permission::Read),
///     Grant::new(Grantee::user("abc123"), Permission::FullControl),
/// ]);
/// let headers = grants.to_headers()?;
/// assert_eq!(
///     headers["x-amz-grant-read"],
///     r#"uri="http://acs.amazonaws.com/groups/global/AllUsers""#
/// );
/// assert_eq!(AclHeaders::from_headers(&headers)?, Some(grants));
///
/// // What the resource's ACL will be:
/// let me = Owner::new("abc123");
/// let policy = AclHeaders::Canned(CannedAcl::PublicRead).expand_for_bucket(&me);
/// assert!(policy.readable_by_everyone());
/// # Ok::<(), sos_acl::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AclHeaders {
    /// `x-amz-acl`.
    Canned(CannedAcl),
    /// `x-amz-grant-*`. Display names are not part of this form and are dropped.
    Grants(Vec<Grant>),
}

impl AclHeaders {
    /// Reads the ACL headers of a request: `Ok(None)` when there are none.
    ///
    /// Several headers of the same name are read as one list, as HTTP says, and empty items
    /// of a list (`id="a", , id="b"`, a trailing comma) are skipped, as HTTP says too (RFC
    /// 9110, section 5.6.1) and the RADOS Gateway does. Values may be quoted (`id="…"`, as S3
    /// documents) or not (`id=…`, as the AWS CLI sends them); key names are matched without
    /// regard to case.
    ///
    /// # Errors
    /// [`Error::ConflictingAclHeaders`] when both forms are present,
    /// [`Error::UnknownCannedAcl`], [`Error::UnknownPermission`] for an `x-amz-grant-*`
    /// header S3 does not define, and [`Error::InvalidGrantHeader`] naming the header and the
    /// item of its list that cannot be read.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<AclHeaders>> {
        let canned = match headers.get(X_AMZ_ACL) {
            Some(v) => Some(
                v.to_str()
                    .map_err(|_| {
                        Error::UnknownCannedAcl(String::from_utf8_lossy(v.as_bytes()).into_owned())
                    })?
                    .parse::<CannedAcl>()?,
            ),
            None => None,
        };
        let mut grants = Vec::new();
        let mut any_grant_header = false;
        for name in headers.keys() {
            let Some(rest) = name.as_str().strip_prefix("x-amz-grant-") else {
                continue;
            };
            let permission = Permission::from_grant_header(name.as_str()).ok_or_else(|| {
                Error::UnknownPermission {
                    value: rest.to_owned(),
                    path: format!("header {name}"),
                }
            })?;
            any_grant_header = true;
            let mut item = 0;
            for value in headers.get_all(name) {
                let text = std::str::from_utf8(value.as_bytes()).map_err(|_| {
                    Error::InvalidGrantHeader {
                        header: name.to_string(),
                        reason: "the value is not UTF-8".into(),
                    }
                })?;
                parse_grantees(text, &mut item, |grantee| {
                    grants.push(Grant::new(grantee, permission))
                })
                .map_err(|reason| Error::InvalidGrantHeader {
                    header: name.to_string(),
                    reason,
                })?;
            }
            // A list with no grantee (an empty value, only commas): the gateway answers 400.
            if item == 0 {
                return Err(Error::InvalidGrantHeader {
                    header: name.to_string(),
                    reason: "no grantee".into(),
                });
            }
        }
        match (canned, any_grant_header) {
            (Some(_), true) => Err(Error::ConflictingAclHeaders),
            (Some(c), false) => Ok(Some(AclHeaders::Canned(c))),
            (None, true) => Ok(Some(AclHeaders::Grants(grants))),
            (None, false) => Ok(None),
        }
    }

    /// The headers of this ACL, values quoted as S3 documents them.
    ///
    /// # Errors
    /// [`Error::InvalidHeaderValue`] when an id, address or URI cannot be written in a quoted
    /// header value (it contains `"` or a control character).
    pub fn to_headers(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        match self {
            AclHeaders::Canned(c) => {
                headers.insert(X_AMZ_ACL, c.header_value());
            }
            AclHeaders::Grants(grants) => {
                for permission in Permission::ALL {
                    let mut value = String::new();
                    for grant in grants.iter().filter(|g| g.permission == permission) {
                        if !value.is_empty() {
                            value.push_str(", ");
                        }
                        let (key, text) = match &grant.grantee {
                            Grantee::CanonicalUser { id, .. } => ("id", id.as_str()),
                            Grantee::Email(address) => ("emailAddress", address.as_str()),
                            Grantee::Group(group) => ("uri", group.uri()),
                        };
                        if text.contains('"') {
                            return Err(Error::InvalidHeaderValue {
                                header: permission.grant_header().to_string(),
                                reason: format!("{key} `{text}` contains a double quote"),
                            });
                        }
                        value.push_str(key);
                        value.push_str("=\"");
                        value.push_str(text);
                        value.push('"');
                    }
                    if value.is_empty() {
                        continue;
                    }
                    let value =
                        HeaderValue::try_from(value).map_err(|_| Error::InvalidHeaderValue {
                            header: permission.grant_header().to_string(),
                            reason: "a grantee contains a control character".into(),
                        })?;
                    headers.insert(permission.grant_header(), value);
                }
            }
        }
        Ok(headers)
    }

    /// Replaces the ACL headers of `headers` (`x-amz-acl` and every `x-amz-grant-*`) with
    /// these. On error, `headers` is unchanged.
    ///
    /// # Errors
    /// As [`to_headers`](Self::to_headers).
    pub fn apply_to(&self, headers: &mut HeaderMap) -> Result<()> {
        let new = self.to_headers()?;
        headers.remove(X_AMZ_ACL);
        for p in Permission::ALL {
            headers.remove(p.grant_header());
        }
        for (name, value) in &new {
            headers.append(name.clone(), value.clone());
        }
        Ok(())
    }

    /// The ACL an object gets from these headers when `object_owner` writes it into a bucket
    /// of `bucket_owner`: the canned ACL's expansion, or exactly the grants (S3 then adds no
    /// grant for the owner, who keeps its implicit `READ_ACP`/`WRITE_ACP`).
    pub fn expand_for_object(
        &self,
        object_owner: &Owner,
        bucket_owner: &Owner,
    ) -> AccessControlPolicy {
        match self {
            AclHeaders::Canned(c) => c.expand_for_object(object_owner, bucket_owner),
            AclHeaders::Grants(grants) => AccessControlPolicy {
                owner: object_owner.clone(),
                grants: grants.clone(),
            },
        }
    }

    /// The ACL a bucket of `owner` gets from these headers.
    pub fn expand_for_bucket(&self, owner: &Owner) -> AccessControlPolicy {
        self.expand_for_object(owner, owner)
    }
}

impl From<CannedAcl> for AclHeaders {
    fn from(c: CannedAcl) -> Self {
        AclHeaders::Canned(c)
    }
}

/// Parses `key=value, key="value", …`, calling `push` for each grantee. `item` counts the
/// items across the header's occurrences (1-based in messages). Empty items (`a, , b`, a
/// trailing comma) are skipped, as HTTP says of lists (RFC 9110, section 5.6.1) and as the
/// RADOS Gateway does.
fn parse_grantees(
    text: &str,
    item: &mut usize,
    mut push: impl FnMut(Grantee),
) -> Result<(), String> {
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if let Some(more) = rest.strip_prefix(',') {
            rest = more;
            continue;
        }
        if rest.is_empty() {
            return Ok(());
        }
        *item += 1;
        let n = *item;
        let Some(eq) = rest.find('=') else {
            return Err(format!("item {n} `{}` is not key=value", rest.trim()));
        };
        let key = rest[..eq].trim_matches([' ', '\t']);
        rest = rest[eq + 1..].trim_start_matches([' ', '\t']);
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let Some(end) = quoted.find('"') else {
                return Err(format!("item {n}: unterminated quoted value"));
            };
            value = &quoted[..end];
            rest = quoted[end + 1..].trim_start_matches([' ', '\t']);
            if !rest.is_empty() && !rest.starts_with(',') {
                return Err(format!(
                    "item {n}: unexpected `{rest}` after the quoted value"
                ));
            }
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim_end_matches([' ', '\t']);
            rest = &rest[end..];
        }
        if value.is_empty() {
            return Err(format!("item {n}: empty value for `{key}`"));
        }
        let grantee = if key.eq_ignore_ascii_case("id") {
            Grantee::user(value)
        } else if key.eq_ignore_ascii_case("uri") {
            Grantee::Group(Group::from_uri(value))
        } else if key.eq_ignore_ascii_case("emailAddress") {
            Grantee::email(value)
        } else {
            return Err(format!(
                "item {n}: unknown grantee type `{key}` (expected id, uri or emailAddress)"
            ));
        };
        push(grantee);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Option<AclHeaders>> {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        AclHeaders::from_headers(&h)
    }

    #[test]
    fn aws_documentation_form() {
        let got = parse(&[(
            "x-amz-grant-read",
            r#"emailAddress="xyz@amazon.com", emailAddress="abc@amazon.com""#,
        ), ("x-amz-grant-write", r#"uri="http://acs.amazonaws.com/groups/s3/LogDelivery", id="111122223333", id="555566667777""#)])
        .unwrap()
        .unwrap();
        let AclHeaders::Grants(grants) = got else {
            panic!()
        };
        assert_eq!(grants.len(), 5);
        assert_eq!(
            grants[0],
            Grant::new(Grantee::email("xyz@amazon.com"), Permission::Read)
        );
        assert_eq!(grants[2], Grant::new(Group::LogDelivery, Permission::Write));
        assert_eq!(
            grants[4],
            Grant::new(Grantee::user("555566667777"), Permission::Write)
        );
    }

    #[test]
    fn aws_cli_unquoted_form_and_repeated_headers() {
        let got = parse(&[
            (
                "x-amz-grant-read",
                "uri=http://acs.amazonaws.com/groups/global/AllUsers, id=test2",
            ),
            ("x-amz-grant-read", "ID = \"x\""),
        ])
        .unwrap();
        assert_eq!(
            got,
            Some(AclHeaders::Grants(vec![
                Grant::new(Grantee::ALL_USERS, Permission::Read),
                Grant::new(Grantee::user("test2"), Permission::Read),
                Grant::new(Grantee::user("x"), Permission::Read),
            ]))
        );
    }

    #[test]
    fn errors_name_header_and_item() {
        let err = parse(&[("x-amz-grant-read", r#"id="a", name="b""#)]).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidGrantHeader {
                header: "x-amz-grant-read".into(),
                reason: "item 2: unknown grantee type `name` (expected id, uri or emailAddress)"
                    .into()
            }
        );
        for bad in [r#"id="a"#, "id=", "justtext", r#"id="a" b"#, "", " , ,"] {
            assert!(
                matches!(
                    parse(&[("x-amz-grant-write", bad)]),
                    Err(Error::InvalidGrantHeader { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            parse(&[("x-amz-grant-delete", "id=a")]),
            Err(Error::UnknownPermission { .. })
        ));
        assert_eq!(
            parse(&[("x-amz-acl", "private"), ("x-amz-grant-read", "id=a")]),
            Err(Error::ConflictingAclHeaders)
        );
        assert_eq!(
            parse(&[("x-amz-acl", "public")]),
            Err(Error::UnknownCannedAcl("public".into()))
        );
        assert_eq!(parse(&[("content-type", "text/plain")]), Ok(None));
    }

    #[test]
    fn empty_list_items_are_skipped() {
        // RFC 9110 5.6.1, and what the gateway does with them.
        for value in [r#"id="a","#, r#"id="a",,"#, r#", id="a""#, r#"id="a" , ,"#] {
            assert_eq!(
                parse(&[("x-amz-grant-read", value)]).unwrap(),
                Some(AclHeaders::Grants(vec![Grant::new(
                    Grantee::user("a"),
                    Permission::Read
                )])),
                "{value}"
            );
        }
        let got = parse(&[("x-amz-grant-read", r#"id=a,,uri="urn:x", ,id=b"#)]).unwrap();
        let Some(AclHeaders::Grants(grants)) = got else {
            panic!("{got:?}")
        };
        assert_eq!(grants.len(), 3);
        // Item numbers in messages count grantees, not empty items.
        assert_eq!(
            parse(&[("x-amz-grant-read", "id=a,, x=b")]),
            Err(Error::InvalidGrantHeader {
                header: "x-amz-grant-read".into(),
                reason: "item 2: unknown grantee type `x` (expected id, uri or emailAddress)"
                    .into()
            })
        );
        // An occurrence that is empty is fine when another one names a grantee.
        assert!(matches!(
            parse(&[("x-amz-grant-read", ""), ("x-amz-grant-read", "id=a")]),
            Ok(Some(AclHeaders::Grants(g))) if g.len() == 1
        ));
        assert_eq!(
            parse(&[("x-amz-grant-write", " ,")]),
            Err(Error::InvalidGrantHeader {
                header: "x-amz-grant-write".into(),
                reason: "no grantee".into()
            })
        );
    }

    #[test]
    fn writing_refuses_quotes_and_leaves_headers_alone_on_error() {
        let bad = AclHeaders::Grants(vec![Grant::new(Grantee::user("a\"b"), Permission::Read)]);
        let mut h = HeaderMap::new();
        h.insert(X_AMZ_ACL, HeaderValue::from_static("private"));
        assert!(matches!(
            bad.apply_to(&mut h),
            Err(Error::InvalidHeaderValue { .. })
        ));
        assert_eq!(h[X_AMZ_ACL], "private");
        AclHeaders::Grants(vec![Grant::new(Grantee::user("a"), Permission::Read)])
            .apply_to(&mut h)
            .unwrap();
        assert!(!h.contains_key(X_AMZ_ACL));
        assert_eq!(h["x-amz-grant-read"], r#"id="a""#);
    }
}
