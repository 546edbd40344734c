//! The `AccessControlPolicy` XML document.
//!
//! Values are read as the document has them, surrounding whitespace included: in the S3
//! schema they are `xsd:string`s, whose whitespace is data (the RADOS Gateway and botocore
//! keep it: `<ID> test</ID>` is not the user `test` to the gateway). The `xsi:type` attribute
//! is a QName, whose surrounding whitespace XML Schema collapses.

use super::{AccessControlPolicy, Grant, Grantee, Group, Owner, Permission};
use crate::xml::{
    DECLARATION, Element, Loc, S3_NAMESPACE, XSI_NAMESPACE, parse_document, push_element,
    push_escaped, required, single,
};
use crate::{Error, Result};

pub(super) fn parse(xml: &[u8]) -> Result<AccessControlPolicy> {
    let root = parse_document(xml, "AccessControlPolicy")?;
    let loc = Loc::root(&root);

    // `Owner` is optional in S3's model (botocore reads a document without it) and Garage
    // sends none: the owner is then unnamed, an empty id.
    let owner = match single(&root, &loc, "Owner")? {
        Some(owner_el) => {
            let owner_loc = loc.child(owner_el, None);
            Owner {
                id: required(owner_el, &owner_loc, "ID")?.text().to_owned(),
                display_name: single(owner_el, &owner_loc, "DisplayName")?
                    .map(|e| e.text().to_owned()),
            }
        }
        None => Owner::new(""),
    };

    let list = required(&root, &loc, "AccessControlList")?;
    let list_loc = loc.child(list, None);
    let mut grants = Vec::new();
    for (i, grant) in list.children_named("Grant").enumerate() {
        let grant_loc = list_loc.child(grant, Some(i + 1));
        let grantee_el = required(grant, &grant_loc, "Grantee")?;
        let grantee = parse_grantee(grantee_el, &grant_loc.child(grantee_el, None))?;
        let permission_el = required(grant, &grant_loc, "Permission")?;
        let value = permission_el.text();
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
            .map(|e| e.text().to_owned())
            .ok_or_else(|| Error::MalformedGrantee {
                path: loc.describe(),
                reason: format!("a {kind} grantee needs <{name}>"),
            })
    };
    match kind {
        "CanonicalUser" => Ok(Grantee::CanonicalUser {
            id: need(id, "ID")?,
            display_name: single(el, loc, "DisplayName")?.map(|e| e.text().to_owned()),
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
    fn documentation_shaped_policy_with_every_grantee_kind() {
        // The shape of the S3 user guide's sample ACL and PutObjectAcl examples: indented,
        // blank lines between grants, a space after an element, a group, LogDelivery, an
        // e-mail grantee.
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Owner>
    <ID>owner-id</ID>
    <DisplayName>owner-name</DisplayName>
  </Owner>
  <AccessControlList>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">
        <ID>owner-id</ID>
        <DisplayName>owner-name</DisplayName>
      </Grantee>
      <Permission>FULL_CONTROL</Permission>
    </Grant>

    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
               xsi:type="AmazonCustomerByEmail">
        <EmailAddress>someone@example.com</EmailAddress>
      </Grantee>
      <Permission>WRITE_ACP</Permission>
    </Grant>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">
        <URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>~
      </Grantee>
      <Permission>READ</Permission>
    </Grant>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">
        <URI>http://acs.amazonaws.com/groups/s3/LogDelivery</URI>
      </Grantee>
      <Permission>WRITE</Permission>
    </Grant>

  </AccessControlList>
</AccessControlPolicy>"#
            .replace('~', " ");
        let p = parse(doc.as_bytes()).unwrap();
        let owner = Owner::new("owner-id").with_display_name("owner-name");
        assert_eq!(p.owner, owner);
        assert_eq!(
            p.grants,
            [
                Grant::new(owner.as_grantee(), Permission::FullControl),
                Grant::new(Grantee::email("someone@example.com"), Permission::WriteAcp),
                Grant::new(Grantee::ALL_USERS, Permission::Read),
                Grant::new(Group::LogDelivery, Permission::Write),
            ]
        );
        assert_eq!(parse(write(&p).as_bytes()).unwrap(), p);
        // The user guide's first example spells the type `Canonical User`: no such type.
        let typo = doc.replacen(
            r#"xsi:type="CanonicalUser""#,
            r#"xsi:type="Canonical User""#,
            1,
        );
        assert!(matches!(
            parse(typo.as_bytes()),
            Err(Error::UnknownGranteeType { value, .. }) if value == "Canonical User"
        ));
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
    fn missing_owner_is_an_unnamed_owner_missing_permission_an_error() {
        // Garage sends no <Owner>; S3's model makes it optional.
        let p =
            parse(br#"<AccessControlPolicy><AccessControlList/></AccessControlPolicy>"#).unwrap();
        assert_eq!(p.owner, Owner::new(""));
        // Written back with an empty <ID>, which reads back the same.
        assert!(write(&p).contains("<Owner><ID></ID></Owner>"));
        assert_eq!(parse(write(&p).as_bytes()).unwrap(), p);
        // An <Owner> without <ID> is still an error (the gateway refuses it too).
        let err = parse(
            br#"<AccessControlPolicy><Owner><DisplayName>x</DisplayName></Owner><AccessControlList/></AccessControlPolicy>"#,
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::MissingElement { element: "ID", .. }),
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
    fn values_keep_their_whitespace_types_do_not() {
        // The gateway: `<ID> test</ID>` is another user, `<Permission> READ </Permission>`
        // an invalid permission; `xsi:type=" Group "` is a QName, collapsed.
        let doc = S3_DOC
            .replace(
                "<ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>\n    <DisplayName>",
                "<ID> 75aa\n</ID>\n    <DisplayName>",
            )
            .replace("<DisplayName>CustomersName@amazon.com</DisplayName>\n  </Owner>", "<DisplayName> name </DisplayName></Owner>")
            .replace(r#"xsi:type="CanonicalUser""#, r#"xsi:type=" CanonicalUser ""#);
        let p = parse(doc.as_bytes()).unwrap();
        assert_eq!(p.owner.id, " 75aa\n");
        assert_eq!(p.owner.display_name.as_deref(), Some(" name "));
        assert_eq!(parse(write(&p).as_bytes()).unwrap(), p);
        let doc = S3_DOC.replace(
            "<Permission>FULL_CONTROL</Permission>",
            "<Permission> FULL_CONTROL\n</Permission>",
        );
        assert!(matches!(
            parse(doc.as_bytes()),
            Err(Error::UnknownPermission { value, .. }) if value == " FULL_CONTROL\n"
        ));
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
