//! The `AccessControlPolicy` XML document.

use super::{AccessControlPolicy, Grant, Grantee, Group, Owner, Permission};
use crate::xml::{
    DECLARATION, Element, Loc, S3_NAMESPACE, XSI_NAMESPACE, parse_document, push_element,
    push_escaped, required, single,
};
use crate::{Error, Result};

pub(super) fn parse(xml: &[u8]) -> Result<AccessControlPolicy> {
    let root = parse_document(xml, "AccessControlPolicy")?;
    let loc = Loc::root(&root);

    let owner_el = required(&root, &loc, "Owner")?;
    let owner_loc = loc.child(owner_el, None);
    let owner = Owner {
        id: required(owner_el, &owner_loc, "ID")?.value().to_owned(),
        display_name: single(owner_el, &owner_loc, "DisplayName")?.map(|e| e.value().to_owned()),
    };

    let list = required(&root, &loc, "AccessControlList")?;
    let list_loc = loc.child(list, None);
    let mut grants = Vec::new();
    for (i, grant) in list.children_named("Grant").enumerate() {
        let grant_loc = list_loc.child(grant, Some(i + 1));
        let grantee_el = required(grant, &grant_loc, "Grantee")?;
        let grantee = parse_grantee(grantee_el, &grant_loc.child(grantee_el, None))?;
        let permission_el = required(grant, &grant_loc, "Permission")?;
        let value = permission_el.value();
        let permission = value
            .parse::<Permission>()
            .map_err(|_| Error::UnknownPermission {
                value: value.to_owned(),
                path: grant_loc.child(permission_el, None).describe(),
            })?;
        grants.push(Grant {
            grantee,
            permission,
        });
    }
    Ok(AccessControlPolicy { owner, grants })
}

fn parse_grantee(el: &Element<'_>, loc: &Loc<'_>) -> Result<Grantee> {
    let id = single(el, loc, "ID")?;
    let email = single(el, loc, "EmailAddress")?;
    let uri = single(el, loc, "URI")?;
    let kind = match el.xsi_type.as_deref() {
        // A QName value (`xsi:type="s3:Group"`) names the same type.
        Some(t) => {
            let t = t.trim();
            t.rsplit_once(':').map_or(t, |(_, local)| local)
        }
        // No xsi:type: tolerated when exactly one identifying element says which kind.
        None => match (id, email, uri) {
            (Some(_), None, None) => "CanonicalUser",
            (None, Some(_), None) => "AmazonCustomerByEmail",
            (None, None, Some(_)) => "Group",
            _ => {
                return Err(Error::MalformedGrantee {
                    path: loc.describe(),
                    reason: "no xsi:type, and not exactly one of ID, EmailAddress, URI".into(),
                });
            }
        },
    };
    let need = |found: Option<&Element<'_>>, name: &str| {
        found
            .map(|e| e.value().to_owned())
            .ok_or_else(|| Error::MalformedGrantee {
                path: loc.describe(),
                reason: format!("a {kind} grantee needs <{name}>"),
            })
    };
    match kind {
        "CanonicalUser" => Ok(Grantee::CanonicalUser {
            id: need(id, "ID")?,
            display_name: single(el, loc, "DisplayName")?.map(|e| e.value().to_owned()),
        }),
        "AmazonCustomerByEmail" => Ok(Grantee::Email(need(email, "EmailAddress")?)),
        "Group" => Ok(Grantee::Group(Group::from_uri(&need(uri, "URI")?))),
        other => Err(Error::UnknownGranteeType {
            value: other.to_owned(),
            path: loc.describe(),
        }),
    }
}

pub(super) fn write(policy: &AccessControlPolicy) -> String {
    let mut out = String::with_capacity(256 + policy.grants.len() * 200);
    out.push_str(DECLARATION);
    out.push_str(r#"<AccessControlPolicy xmlns=""#);
    out.push_str(S3_NAMESPACE);
    out.push_str(r#""><Owner>"#);
    push_element(&mut out, "ID", &policy.owner.id);
    if let Some(name) = &policy.owner.display_name {
        push_element(&mut out, "DisplayName", name);
    }
    out.push_str("</Owner><AccessControlList>");
    for grant in &policy.grants {
        out.push_str(r#"<Grant><Grantee xmlns:xsi=""#);
        out.push_str(XSI_NAMESPACE);
        out.push_str(r#"" xsi:type=""#);
        out.push_str(grant.grantee.xsi_type());
        out.push_str(r#"">"#);
        match &grant.grantee {
            Grantee::CanonicalUser { id, display_name } => {
                push_element(&mut out, "ID", id);
                if let Some(name) = display_name {
                    push_element(&mut out, "DisplayName", name);
                }
            }
            Grantee::Email(address) => push_element(&mut out, "EmailAddress", address),
            Grantee::Group(group) => {
                out.push_str("<URI>");
                push_escaped(&mut out, group.uri());
                out.push_str("</URI>");
            }
        }
        out.push_str("</Grantee><Permission>");
        out.push_str(grant.permission.as_str());
        out.push_str("</Permission></Grant>");
    }
    out.push_str("</AccessControlList></AccessControlPolicy>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const S3_DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Owner>
    <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
    <DisplayName>CustomersName@amazon.com</DisplayName>
  </Owner>
  <AccessControlList>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">
        <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
        <DisplayName>CustomersName@amazon.com</DisplayName>
      </Grantee>
      <Permission>FULL_CONTROL</Permission>
    </Grant>
  </AccessControlList>
</AccessControlPolicy>"#;

    #[test]
    fn aws_documentation_example() {
        let p = parse(S3_DOC.as_bytes()).unwrap();
        assert_eq!(
            p.owner.display_name.as_deref(),
            Some("CustomersName@amazon.com")
        );
        assert_eq!(p.grants.len(), 1);
        assert_eq!(p.grants[0].permission, Permission::FullControl);
        assert_eq!(parse(write(&p).as_bytes()).unwrap(), p);
    }

    #[test]
    fn unknown_permission_says_what_and_where() {
        let doc = S3_DOC.replace("FULL_CONTROL", "EVERYTHING");
        let err = parse(doc.as_bytes()).unwrap_err();
        let Error::UnknownPermission { value, path } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(value, "EVERYTHING");
        assert!(
            path.starts_with("AccessControlPolicy/AccessControlList/Grant[1]/Permission (byte "),
            "{path}"
        );
    }

    #[test]
    fn unknown_grantee_type_says_what_and_where() {
        let doc = S3_DOC.replace(r#"xsi:type="CanonicalUser""#, r#"xsi:type="Robot""#);
        let err = parse(doc.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, Error::UnknownGranteeType { value, path }
                if value == "Robot" && path.contains("Grant[1]/Grantee")),
            "{err:?}"
        );
    }

    #[test]
    fn missing_owner_and_missing_permission() {
        let err = parse(br#"<AccessControlPolicy><AccessControlList/></AccessControlPolicy>"#)
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::MissingElement {
                    element: "Owner",
                    ..
                }
            ),
            "{err:?}"
        );
        let doc = S3_DOC.replace("<Permission>FULL_CONTROL</Permission>", "");
        let err = parse(doc.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, Error::MissingElement { element: "Permission", path, .. }
                if path == "AccessControlPolicy/AccessControlList/Grant[1]"),
            "{err:?}"
        );
    }

    #[test]
    fn grantee_without_xsi_type_is_inferred_or_refused() {
        let doc = br#"<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList>
            <Grant><Grantee><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>
            </AccessControlList></AccessControlPolicy>"#;
        let p = parse(doc).unwrap();
        assert_eq!(p.grants[0].grantee, Grantee::ALL_USERS);
        let doc = br#"<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList>
            <Grant><Grantee><ID>x</ID><URI>u</URI></Grantee><Permission>READ</Permission></Grant>
            </AccessControlList></AccessControlPolicy>"#;
        assert!(matches!(parse(doc), Err(Error::MalformedGrantee { .. })));
        let doc = br#"<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList>
            <Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><ID>x</ID></Grantee><Permission>READ</Permission></Grant>
            </AccessControlList></AccessControlPolicy>"#;
        let err = parse(doc).unwrap_err();
        assert!(err.to_string().contains("needs <URI>"), "{err}");
    }

    #[test]
    fn duplicate_permission_is_refused() {
        let doc = S3_DOC.replace(
            "<Permission>FULL_CONTROL</Permission>",
            "<Permission>READ</Permission><Permission>WRITE</Permission>",
        );
        assert!(matches!(
            parse(doc.as_bytes()),
            Err(Error::DuplicateElement {
                element: "Permission",
                ..
            })
        ));
    }
}
