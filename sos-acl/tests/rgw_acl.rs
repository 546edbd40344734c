//! ACL semantics judged by the RADOS Gateway: for each canned ACL and a set of explicit
//! grants (sent as headers and as an XML body), what our model says about anonymous read and
//! write (and about the second test user) is what the gateway does with such requests. And
//! the wire forms read side by side: tables of `PUT ?acl` bodies and grant header lists, each
//! read by the gateway and by this crate, the differences listed one by one; every ACL the
//! gateway hands out written back by this crate and stored unchanged.

use http::{Method, StatusCode};
use sos_acl::{
    AccessControlPolicy, AclHeaders, CannedAcl, Grant, Grantee, Group, Owner, Permission, Requester,
};

use crate::support::{OTHER_EMAIL, OTHER_ID, OWNER_ID, Rgw, Who};

fn owner() -> Owner {
    Owner::new(OWNER_ID)
}

fn allowed(status: u16) -> bool {
    match status {
        200 | 204 => true,
        403 => false,
        other => panic!("unexpected status {other}"),
    }
}

/// What the gateway did, next to what the model predicts, for one access.
struct Check<'a> {
    label: String,
    failures: &'a mut Vec<String>,
}

impl Check<'_> {
    fn expect(&mut self, what: &str, model: bool, response: &sos_testing::raw::RawResponse) {
        let got = allowed(response.status);
        if got != model {
            self.failures.push(format!(
                "{}: {what}: the model says {}, the gateway answered {} {}",
                self.label,
                if model { "allowed" } else { "denied" },
                response.status,
                response.s3_error_code().unwrap_or_default()
            ));
        }
    }
}

/// The ACL the gateway stores, with e-mail grantees as it turns them: the canonical user.
fn as_stored(policy: &AccessControlPolicy) -> AccessControlPolicy {
    let mut p = policy.clone();
    for g in &mut p.grants {
        if g.grantee == Grantee::email(OTHER_EMAIL) {
            g.grantee = Grantee::user(OTHER_ID);
        }
    }
    p
}

#[test]
fn canned_acls_do_what_the_model_says() {
    let Some(rgw) = Rgw::connect() else { return };
    let mut failures = Vec::new();
    for canned in CannedAcl::ALL {
        let bucket = sos_testing::unique_name("acl-canned");
        let acl = AclHeaders::Canned(canned);
        rgw.create_bucket(&bucket, Some(&acl));
        assert_eq!(
            rgw.put_object(Who::Owner, &bucket, "plain", None).status,
            200
        );
        assert_eq!(
            rgw.put_object(Who::Owner, &bucket, "obj", Some(&acl))
                .status,
            200
        );

        let bucket_acl = canned.expand_for_bucket(&owner());
        let object_acl = canned.expand_for_object(&owner(), &owner());
        // SOS / S3: an object without ACL of its own is private, whatever its bucket says.
        let plain_acl = CannedAcl::Private.expand_for_object(&owner(), &owner());

        // What the gateway stored is what the model expands to (grant order aside), but for
        // one documented difference: bucket-owner-* on a bucket adds a grant to an empty id.
        let stored = rgw.get_acl(Who::Owner, &bucket);
        if matches!(
            canned,
            CannedAcl::BucketOwnerRead | CannedAcl::BucketOwnerFullControl
        ) {
            let extra = Grant::new(
                Grantee::user(""),
                if canned == CannedAcl::BucketOwnerRead {
                    Permission::Read
                } else {
                    Permission::FullControl
                },
            );
            assert!(stored.grants.contains(&extra), "{canned}: {stored:?}");
            assert!(
                bucket_acl.clone().with_grant(extra).equivalent(&stored),
                "{canned}: {stored:?}"
            );
        } else {
            assert!(
                bucket_acl.equivalent(&stored),
                "{canned} bucket: stored {stored:?}, model {bucket_acl:?}"
            );
        }
        let stored = rgw.get_acl(Who::Owner, &format!("{bucket}/obj"));
        assert!(
            object_acl.equivalent(&stored),
            "{canned} object: stored {stored:?}, model {object_acl:?}"
        );

        let mut c = Check {
            label: format!("{canned}"),
            failures: &mut failures,
        };
        let anon = Requester::Anonymous;
        let other = Requester::User(OTHER_ID);
        c.expect(
            "anonymous list",
            bucket_acl.readable_by_everyone(),
            &rgw.simple(Who::Anonymous, Method::GET, &format!("/{bucket}")),
        );
        c.expect(
            "anonymous object read",
            object_acl.readable_by_everyone(),
            &rgw.simple(Who::Anonymous, Method::GET, &format!("/{bucket}/obj")),
        );
        c.expect(
            "anonymous read of an object without ACL",
            plain_acl.readable_by_everyone(),
            &rgw.simple(Who::Anonymous, Method::GET, &format!("/{bucket}/plain")),
        );
        c.expect(
            "anonymous object ACL read",
            object_acl.allows(anon, Permission::ReadAcp),
            &rgw.simple(Who::Anonymous, Method::GET, &format!("/{bucket}/obj?acl")),
        );
        c.expect(
            "second user list",
            bucket_acl.allows(other, Permission::Read),
            &rgw.simple(Who::Other, Method::GET, &format!("/{bucket}")),
        );
        c.expect(
            "second user object read",
            object_acl.allows(other, Permission::Read),
            &rgw.simple(Who::Other, Method::GET, &format!("/{bucket}/obj")),
        );
        // Writing into the bucket (new object, overwrite) is the bucket's WRITE; an object's
        // own WRITE grant (public-read-write) gives nothing.
        c.expect(
            "anonymous overwrite",
            bucket_acl.writable_by_everyone(),
            &rgw.put_object(Who::Anonymous, &bucket, "obj", None),
        );
        c.expect(
            "anonymous write",
            bucket_acl.writable_by_everyone(),
            &rgw.put_object(Who::Anonymous, &bucket, "anon-new", None),
        );
        c.expect(
            "second user write",
            bucket_acl.allows(other, Permission::Write),
            &rgw.put_object(Who::Other, &bucket, "other-new", None),
        );
        rgw.remove_bucket(&bucket);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn object_grant_sets() -> Vec<(&'static str, Vec<Grant>)> {
    use Permission as P;
    vec![
        (
            "AllUsers READ",
            vec![Grant::new(Grantee::ALL_USERS, P::Read)],
        ),
        (
            "AllUsers FULL_CONTROL",
            vec![Grant::new(Grantee::ALL_USERS, P::FullControl)],
        ),
        (
            "AllUsers READ_ACP",
            vec![Grant::new(Grantee::ALL_USERS, P::ReadAcp)],
        ),
        (
            "AllUsers WRITE_ACP",
            vec![Grant::new(Grantee::ALL_USERS, P::WriteAcp)],
        ),
        (
            "AllUsers WRITE",
            vec![Grant::new(Grantee::ALL_USERS, P::Write)],
        ),
        (
            "second user READ",
            vec![Grant::new(Grantee::user(OTHER_ID), P::Read)],
        ),
        (
            "AuthenticatedUsers READ",
            vec![Grant::new(Grantee::AUTHENTICATED_USERS, P::Read)],
        ),
        (
            "e-mail READ",
            vec![Grant::new(Grantee::email(OTHER_EMAIL), P::Read)],
        ),
        (
            "owner FULL_CONTROL, AllUsers READ_ACP, second user WRITE_ACP",
            vec![
                Grant::new(Grantee::user(OWNER_ID), P::FullControl),
                Grant::new(Grantee::ALL_USERS, P::ReadAcp),
                Grant::new(Grantee::user(OTHER_ID), P::WriteAcp),
            ],
        ),
        ("no grant at all", vec![]),
    ]
}

#[test]
fn explicit_object_grants_do_what_the_model_says() {
    let Some(rgw) = Rgw::connect() else { return };
    let bucket = sos_testing::unique_name("acl-grants");
    rgw.create_bucket(&bucket, None);
    let mut failures = Vec::new();
    for (i, (name, grants)) in object_grant_sets().into_iter().enumerate() {
        let acl = AclHeaders::Grants(grants.clone());
        let model = acl.expand_for_object(&owner(), &owner());
        // Two ways in: headers on the PUT, and an XML body on PUT ?acl after a plain PUT.
        let by_header = format!("h{i}");
        let by_body = format!("b{i}");
        if grants.is_empty() {
            // No grant header at all is no ACL header: the object is private.
            assert_eq!(
                rgw.put_object(Who::Owner, &bucket, &by_header, None).status,
                200
            );
        } else {
            let r = rgw.put_object(Who::Owner, &bucket, &by_header, Some(&acl));
            assert_eq!(r.status, 200, "{name}: {}", r.text());
        }
        assert_eq!(
            rgw.put_object(Who::Owner, &bucket, &by_body, None).status,
            200
        );
        let r = rgw.put_acl_xml(Who::Owner, &format!("{bucket}/{by_body}"), &model.to_xml());
        assert_eq!(r.status, 200, "{name}: PUT ?acl {}", r.text());

        for key in [by_header, by_body] {
            let target = format!("{bucket}/{key}");
            let stored = rgw.get_acl(Who::Owner, &target);
            let expected = if grants.is_empty() && key.starts_with('h') {
                CannedAcl::Private.expand_for_object(&owner(), &owner())
            } else {
                as_stored(&model)
            };
            assert!(
                expected.equivalent(&stored),
                "{name} ({key}): stored {stored:?}, model {expected:?}"
            );
            let mut c = Check {
                label: format!("{name} ({key})"),
                failures: &mut failures,
            };
            let path = format!("/{target}");
            c.expect(
                "anonymous read",
                expected.readable_by_everyone(),
                &rgw.simple(Who::Anonymous, Method::GET, &path),
            );
            c.expect(
                "anonymous ACL read",
                expected.allows(Requester::Anonymous, Permission::ReadAcp),
                &rgw.simple(Who::Anonymous, Method::GET, &format!("{path}?acl")),
            );
            c.expect(
                "second user read",
                expected.allows(Requester::User(OTHER_ID), Permission::Read),
                &rgw.simple(Who::Other, Method::GET, &path),
            );
            c.expect(
                "second user ACL read",
                expected.allows(Requester::User(OTHER_ID), Permission::ReadAcp),
                &rgw.simple(Who::Other, Method::GET, &format!("{path}?acl")),
            );
            c.expect(
                "owner read",
                expected.allows(Requester::User(OWNER_ID), Permission::Read),
                &rgw.simple(Who::Owner, Method::GET, &path),
            );
            // An object's WRITE grant does not let anyone overwrite it (the bucket is private).
            c.expect(
                "anonymous overwrite",
                false,
                &rgw.put_object(Who::Anonymous, &bucket, &key, None),
            );
            // WRITE_ACP last, since it replaces the ACL: an anonymous PUT ?acl that makes the
            // object private again.
            let private = CannedAcl::Private
                .expand_for_object(&owner(), &owner())
                .to_xml();
            c.expect(
                "anonymous ACL write",
                expected.allows(Requester::Anonymous, Permission::WriteAcp),
                &rgw.put_acl_xml(Who::Anonymous, &target, &private),
            );
        }
    }
    rgw.remove_bucket(&bucket);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn explicit_bucket_grants_do_what_the_model_says() {
    let Some(rgw) = Rgw::connect() else { return };
    use Permission as P;
    let sets = [
        (
            "AllUsers WRITE",
            vec![Grant::new(Grantee::ALL_USERS, P::Write)],
        ),
        (
            "AllUsers READ + owner",
            vec![
                Grant::new(Grantee::ALL_USERS, P::Read),
                Grant::new(Grantee::user(OWNER_ID), P::FullControl),
            ],
        ),
        (
            "AllUsers FULL_CONTROL",
            vec![Grant::new(Grantee::ALL_USERS, P::FullControl)],
        ),
        (
            "AuthenticatedUsers WRITE + owner",
            vec![
                Grant::new(Grantee::AUTHENTICATED_USERS, P::Write),
                Grant::new(Grantee::user(OWNER_ID), P::FullControl),
            ],
        ),
        (
            "second user READ",
            vec![Grant::new(Grantee::user(OTHER_ID), P::Read)],
        ),
    ];
    let mut failures = Vec::new();
    for (name, grants) in sets {
        let bucket = sos_testing::unique_name("acl-bgrants");
        let acl = AclHeaders::Grants(grants);
        rgw.create_bucket(&bucket, Some(&acl));
        let model = acl.expand_for_bucket(&owner());
        let stored = rgw.get_acl(Who::Owner, &bucket);
        assert!(
            model.equivalent(&stored),
            "{name}: stored {stored:?}, model {model:?}"
        );
        let mut c = Check {
            label: name.to_owned(),
            failures: &mut failures,
        };
        let other = Requester::User(OTHER_ID);
        c.expect(
            "anonymous list",
            model.readable_by_everyone(),
            &rgw.simple(Who::Anonymous, Method::GET, &format!("/{bucket}")),
        );
        c.expect(
            "anonymous write",
            model.writable_by_everyone(),
            &rgw.put_object(Who::Anonymous, &bucket, "anon", None),
        );
        c.expect(
            "second user list",
            model.allows(other, P::Read),
            &rgw.simple(Who::Other, Method::GET, &format!("/{bucket}")),
        );
        c.expect(
            "second user write",
            model.allows(other, P::Write),
            &rgw.put_object(Who::Other, &bucket, "other", None),
        );
        c.expect(
            "anonymous ACL read",
            model.allows(Requester::Anonymous, P::ReadAcp),
            &rgw.simple(Who::Anonymous, Method::GET, &format!("/{bucket}?acl")),
        );
        rgw.remove_bucket(&bucket);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_gateway_refuses_the_log_delivery_group() {
    // A documented difference: S3 accepts grants to LogDelivery; the gateway answers 400
    // InvalidArgument, in headers and in an XML body alike.
    let Some(rgw) = Rgw::connect() else { return };
    let bucket = sos_testing::unique_name("acl-logdelivery");
    rgw.create_bucket(&bucket, None);
    let acl = AclHeaders::Grants(vec![Grant::new(Group::LogDelivery, Permission::Write)]);
    let r = rgw.put_object(Who::Owner, &bucket, "k", Some(&acl));
    assert_eq!(
        StatusCode::from_u16(r.status).unwrap(),
        StatusCode::BAD_REQUEST,
        "{}",
        r.text()
    );
    assert_eq!(r.s3_error_code().as_deref(), Some("InvalidArgument"));
    let xml = acl.expand_for_bucket(&owner()).to_xml();
    let r = rgw.put_acl_xml(Who::Owner, &bucket, &xml);
    assert_eq!(r.status, 400, "{}", r.text());
    rgw.remove_bucket(&bucket);
}

/// How the gateway and our parser read one `PUT ?acl` body or header list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reading {
    /// Both read it, the same grants (e-mail grantees stored as the user they name).
    Same,
    /// Both refuse it.
    BothRefuse,
    /// We read it, the gateway refuses it (our tolerance, or a gateway-specific rule).
    OnlyUs,
    /// The gateway reads it, we refuse it.
    OnlyGateway,
}

impl Reading {
    /// How the two read it: ours parsed (`ours_ok`) and the gateway's answer (200: read,
    /// 400: refused; anything else fails the test). Also whether the gateway read it.
    fn of(ours_ok: bool, gateway: &sos_testing::raw::RawResponse, case: &str) -> (Reading, bool) {
        let gateway_reads = match gateway.status {
            200 => true,
            400 => false,
            other => panic!("{case}: {other} {}", gateway.text()),
        };
        let reading = match (ours_ok, gateway_reads) {
            (true, true) => Reading::Same,
            (false, false) => Reading::BothRefuse,
            (true, false) => Reading::OnlyUs,
            (false, true) => Reading::OnlyGateway,
        };
        (reading, gateway_reads)
    }
}

const XSI_DECL: &str = r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#;
const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";

fn acl_doc(owner: &str, grants: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{owner}<AccessControlList>{grants}</AccessControlList></AccessControlPolicy>"#
    )
}

fn grant(grantee: &str, permission: &str) -> String {
    format!("<Grant>{grantee}<Permission>{permission}</Permission></Grant>")
}

fn group_grantee(attrs: &str, uri: &str) -> String {
    format!("<Grantee {attrs}><URI>{uri}</URI></Grantee>")
}

/// `PUT ?acl` bodies, each with how the gateway and we read it. Grantees that do not exist
/// (unknown users, groups, e-mail addresses) are left out: refusing them is the server's
/// business, not the document's.
fn xml_body_cases() -> Vec<(&'static str, String, Reading)> {
    use Reading::*;
    let owner = "<Owner><ID>test</ID><DisplayName>test user</DisplayName></Owner>";
    let group = group_grantee(&format!(r#"{XSI_DECL} xsi:type="Group""#), ALL_USERS);
    let user2 = format!(r#"<Grantee {XSI_DECL} xsi:type="CanonicalUser"><ID>test2</ID></Grantee>"#);
    let read_all = grant(&group, "READ");
    let doc = |grants: &str| acl_doc(owner, grants);
    let s3_prefixed = doc(&read_all)
        .replace("<", "<s3:")
        .replace("<s3:/", "</s3:")
        .replace("<s3:?xml", "<?xml")
        .replace(r#"xmlns="http"#, r#"xmlns:s3="http"#);
    vec![
        ("as written by this crate", doc(&read_all), Same),
        (
            "no declaration, no namespace",
            doc(&read_all)
                .replace(r#"<?xml version="1.0" encoding="UTF-8"?>"#, "")
                .replace(r#" xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#, ""),
            Same,
        ),
        (
            "xmlns:xsi declared once on the root",
            doc(&read_all.replace(&format!("{XSI_DECL} "), "")).replace(
                "<AccessControlPolicy ",
                &format!("<AccessControlPolicy {XSI_DECL} "),
            ),
            Same,
        ),
        (
            "owner without display name, grantee with an empty one",
            acl_doc(
                "<Owner><ID>test</ID></Owner>",
                &grant(&user2.replace("</ID>", "</ID><DisplayName/>"), "READ"),
            ),
            Same,
        ),
        (
            "a display name with &amp; and another name than the stored one",
            acl_doc(
                "<Owner><ID>test</ID><DisplayName>a &amp; b</DisplayName></Owner>",
                &grant(
                    &user2.replace("</ID>", "</ID><DisplayName>x &lt; y</DisplayName>"),
                    "READ",
                ),
            ),
            Same,
        ),
        (
            "e-mail grantee",
            doc(&grant(
                &format!(
                    r#"<Grantee {XSI_DECL} xsi:type="AmazonCustomerByEmail"><EmailAddress>test2@example.com</EmailAddress></Grantee>"#
                ),
                "WRITE_ACP",
            )),
            Same,
        ),
        (
            "layout, comments, CDATA, a character reference",
            doc(&format!(
                "\n  <!-- c -->\n  {}\n  {}\n",
                read_all.replace(
                    "<Permission>READ",
                    "<Permission><!-- x --><![CDATA[RE]]>&#65;D"
                ),
                grant(&user2, "READ_ACP")
            )),
            Same,
        ),
        (
            "unknown elements",
            doc(&read_all.replace("<URI>", "<Foo>bar</Foo><URI>"))
                .replace("<Owner>", "<Extra/><Owner>"),
            Same,
        ),
        (
            "DOCTYPE without entities, a byte order mark",
            format!(
                "\u{feff}<!DOCTYPE AccessControlPolicy>{}",
                doc(&read_all).replace(r#"<?xml version="1.0" encoding="UTF-8"?>"#, "")
            ),
            Same,
        ),
        (
            "Owner after the list, display name before the id, attributes swapped, ' quotes",
            format!(
                r#"<AccessControlPolicy><AccessControlList>{}</AccessControlList>{owner}</AccessControlPolicy>"#,
                grant(
                    "<Grantee xsi:type='CanonicalUser' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'><DisplayName>d</DisplayName><ID>test2</ID></Grantee>",
                    "WRITE"
                )
            ),
            Same,
        ),
        ("no grant", doc(""), Same),
        (
            "owner with an empty id",
            acl_doc("<Owner><ID></ID></Owner>", &read_all),
            Same,
        ),
        (
            "xsi:type with no xmlns:xsi",
            doc(&grant(
                r#"<Grantee xsi:type="CanonicalUser"><ID>test2</ID></Grantee>"#,
                "READ",
            )),
            Same,
        ),
        (
            "Group with both ID and URI",
            doc(&grant(
                &group.replace("<URI>", "<ID>test2</ID><URI>"),
                "READ",
            )),
            Same,
        ),
        (
            "unknown permission",
            doc(&grant(&group, "DELETE")),
            BothRefuse,
        ),
        (
            "permission with spaces",
            doc(&grant(&group, " READ ")),
            BothRefuse,
        ),
        (
            "no permission",
            doc(&format!("<Grant>{group}</Grant>")),
            BothRefuse,
        ),
        (
            "no grantee",
            doc("<Grant><Permission>READ</Permission></Grant>"),
            BothRefuse,
        ),
        (
            "unknown grantee type",
            doc(&grant(&user2.replace("CanonicalUser", "Robot"), "READ")),
            BothRefuse,
        ),
        (
            "lowercase grantee type",
            doc(&grant(&group.replace(r#""Group""#, r#""group""#), "READ")),
            BothRefuse,
        ),
        (
            "empty grantee type",
            doc(&grant(&group.replace(r#""Group""#, r#""""#), "READ")),
            BothRefuse,
        ),
        (
            "Group without URI",
            doc(&grant(&user2.replace("CanonicalUser", "Group"), "READ")),
            BothRefuse,
        ),
        (
            "unbound xsi:type Group without URI",
            doc(&grant(
                r#"<Grantee xsi:type="Group"><ID>test2</ID></Grantee>"#,
                "READ",
            )),
            BothRefuse,
        ),
        (
            "no AccessControlList",
            r#"<AccessControlPolicy><Owner><ID>test</ID></Owner></AccessControlPolicy>"#.into(),
            BothRefuse,
        ),
        (
            "Owner without ID",
            acl_doc(
                "<Owner><DisplayName>test user</DisplayName></Owner>",
                &read_all,
            ),
            BothRefuse,
        ),
        (
            "another root",
            doc(&read_all).replace("AccessControlPolicy", "CORSConfiguration"),
            BothRefuse,
        ),
        // Our tolerance: what servers might send, which this gateway does not read.
        (
            "no Owner (Garage's answers)",
            acl_doc("", &read_all),
            OnlyUs,
        ),
        ("s3: prefix on every element", s3_prefixed, OnlyUs),
        (
            "XSI namespace under another prefix",
            doc(&grant(
                &group_grantee(
                    r#"xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:type="Group""#,
                    ALL_USERS,
                ),
                "READ",
            )),
            OnlyUs,
        ),
        (
            "no xsi:type (inferred from URI)",
            doc(&grant(&group_grantee("", ALL_USERS), "READ")),
            OnlyUs,
        ),
        (
            "xsi:type as a prefixed QName",
            doc(&grant(
                &group.replace(r#""Group""#, r#""s3:Group""#),
                "READ",
            )),
            OnlyUs,
        ),
        (
            "xsi:type with spaces (XML Schema collapses them)",
            doc(&grant(&group.replace(r#""Group""#, r#"" Group ""#), "READ")),
            OnlyUs,
        ),
        (
            // Values are strings, spaces included: this is not AllUsers but a group the
            // gateway does not know (we read Group::Other; it refuses unknown groups).
            "group URI with line breaks around it",
            doc(&grant(
                &group_grantee(
                    &format!(r#"{XSI_DECL} xsi:type="Group""#),
                    &format!("\n{ALL_USERS}\n"),
                ),
                "READ",
            )),
            OnlyUs,
        ),
        // The gateway's leniency: S3's schema refuses these.
        (
            "lowercase permission",
            doc(&grant(&group, "read")),
            OnlyGateway,
        ),
        (
            "two permissions in a grant (the gateway keeps the first)",
            doc(&format!(
                "<Grant>{group}<Permission>READ</Permission><Permission>WRITE</Permission></Grant>"
            )),
            OnlyGateway,
        ),
        (
            "two grantees in a grant",
            doc(&format!(
                "<Grant>{group}{user2}<Permission>READ</Permission></Grant>"
            )),
            OnlyGateway,
        ),
        (
            "two Owners",
            acl_doc(&format!("{owner}{owner}"), &read_all),
            OnlyGateway,
        ),
        (
            "an entity of the internal DTD (never expanded here)",
            format!(
                r#"<!DOCTYPE AccessControlPolicy [<!ENTITY p "READ">]>{}"#,
                doc(&grant(&group, "&p;")).replace(r#"<?xml version="1.0" encoding="UTF-8"?>"#, "")
            ),
            OnlyGateway,
        ),
    ]
}

#[test]
fn xml_bodies_are_read_as_the_gateway_reads_them() {
    let Some(rgw) = Rgw::connect() else { return };
    let bucket = sos_testing::unique_name("acl-bodies");
    rgw.create_bucket(&bucket, None);
    assert_eq!(rgw.put_object(Who::Owner, &bucket, "k", None).status, 200);
    let target = format!("{bucket}/k");
    let private = CannedAcl::Private
        .expand_for_object(&owner(), &owner())
        .to_xml();
    let mut failures = Vec::new();
    for (name, doc, expected) in xml_body_cases() {
        let reset = rgw.put_acl_xml(Who::Owner, &target, &private);
        assert_eq!(reset.status, 200, "{}", reset.text());
        let r = rgw.put_acl_xml(Who::Owner, &target, &doc);
        let ours = AccessControlPolicy::from_xml(&doc);
        let (got, gateway_reads) = Reading::of(ours.is_ok(), &r, name);
        if got != expected {
            failures.push(format!(
                "{name}: expected {expected:?}, got {got:?} (gateway {} {}, ours {:?})\n{doc}",
                r.status,
                r.s3_error_code().unwrap_or_default(),
                ours.as_ref().err()
            ));
            continue;
        }
        if let (Ok(ours), true) = (&ours, gateway_reads) {
            // What the gateway stored is what we read: same grants, same owner.
            let stored = rgw.get_acl(Who::Owner, &target);
            let mut ours = as_stored(ours);
            ours.owner = owner();
            if !ours.equivalent(&stored) {
                failures.push(format!("{name}: stored {stored:?}, we read {ours:?}"));
            }
        }
    }
    rgw.remove_bucket(&bucket);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `x-amz-grant-read` values, each with how the gateway and we read it.
fn grant_header_cases() -> Vec<(&'static str, Reading)> {
    use Reading::*;
    vec![
        (r#"id="test2""#, Same),
        ("id=test2", Same),
        (r#"ID="test2""#, Same),
        (r#"id = "test2""#, Same),
        (
            r#"id="test2", uri="http://acs.amazonaws.com/groups/global/AllUsers""#,
            Same,
        ),
        (
            r#"id="test2",uri=http://acs.amazonaws.com/groups/global/AllUsers"#,
            Same,
        ),
        (r#"emailAddress="test2@example.com""#, Same),
        ("emailaddress=test2@example.com", Same),
        (
            r#"URI="http://acs.amazonaws.com/groups/global/AuthenticatedUsers""#,
            Same,
        ),
        (r#"id="test2", id="test2""#, Same),
        // Empty items of a list are skipped (RFC 9110 5.6.1).
        (r#"id="test2","#, Same),
        (r#",id="test2""#, Same),
        (
            r#"id="test2",,uri="http://acs.amazonaws.com/groups/global/AllUsers""#,
            Same,
        ),
        ("", BothRefuse),
        (r#"id="""#, BothRefuse),
        ("id=", BothRefuse),
        ("test2", BothRefuse),
        (r#"name="test2""#, BothRefuse),
        // The gateway refuses an item made of spaces (`, ,`), which HTTP's list rule skips.
        (
            r#"id="test2", ,uri="http://acs.amazonaws.com/groups/global/AllUsers""#,
            OnlyUs,
        ),
    ]
}

#[test]
fn grant_headers_are_read_as_the_gateway_reads_them() {
    let Some(rgw) = Rgw::connect() else { return };
    let bucket = sos_testing::unique_name("acl-headers");
    rgw.create_bucket(&bucket, None);
    assert_eq!(rgw.put_object(Who::Owner, &bucket, "k", None).status, 200);
    let target = format!("{bucket}/k");
    let private = CannedAcl::Private
        .expand_for_object(&owner(), &owner())
        .to_xml();
    let mut failures = Vec::new();
    for (value, expected) in grant_header_cases() {
        assert_eq!(rgw.put_acl_xml(Who::Owner, &target, &private).status, 200);
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "x-amz-grant-read",
            http::HeaderValue::from_str(value).unwrap(),
        );
        // PUT ?acl without a body: the headers alone set the ACL.
        let r = rgw.send(
            Who::Owner,
            Method::PUT,
            &format!("/{target}?acl"),
            &headers,
            Vec::new(),
        );
        let ours = AclHeaders::from_headers(&headers);
        let (got, gateway_reads) = Reading::of(ours.is_ok(), &r, value);
        if got != expected {
            failures.push(format!(
                "`{value}`: expected {expected:?}, got {got:?} (gateway {} {}, ours {ours:?})",
                r.status,
                r.s3_error_code().unwrap_or_default(),
            ));
            continue;
        }
        if let (Ok(Some(acl)), true) = (&ours, gateway_reads) {
            let stored = rgw.get_acl(Who::Owner, &target);
            let ours = as_stored(&acl.expand_for_object(&owner(), &owner()));
            // Compared as lists: a grantee named twice is stored twice.
            let key = |p: &AccessControlPolicy| {
                let mut v: Vec<_> = p
                    .grants
                    .iter()
                    .map(|g| (g.grantee.to_string(), g.permission))
                    .collect();
                v.sort();
                v
            };
            if key(&ours) != key(&stored) {
                failures.push(format!("`{value}`: stored {stored:?}, we read {ours:?}"));
            }
        }
    }
    rgw.remove_bucket(&bucket);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn stored_acls_written_back_by_us_are_stored_unchanged() {
    // Every ACL the gateway hands out, read and written again by this crate, is accepted
    // and reads back equal (grant order and display names included) -- but for the
    // bucket-owner-* bucket ACLs: the gateway refuses its own grant to an empty id.
    let Some(rgw) = Rgw::connect() else { return };
    let mut buckets = Vec::new();
    let shared = sos_testing::unique_name("acl-back");
    rgw.create_bucket(
        &shared,
        Some(&AclHeaders::Canned(CannedAcl::PublicReadWrite)),
    );
    for canned in CannedAcl::ALL {
        let bucket = sos_testing::unique_name("acl-back");
        rgw.create_bucket(&bucket, Some(&AclHeaders::Canned(canned)));
        buckets.push(bucket.clone());
        // An object of the second user in the owner's bucket, so that bucket-owner-* name two
        // accounts.
        let key = canned.as_str();
        let r = rgw.put_object(Who::Other, &shared, key, Some(&AclHeaders::Canned(canned)));
        assert_eq!(r.status, 200, "{}", r.text());
        for (who, target) in [
            (Who::Owner, bucket),
            (Who::Other, format!("{shared}/{key}")),
        ] {
            let stored = rgw.get_acl(who, &target);
            let r = rgw.put_acl_xml(who, &target, &stored.to_xml());
            let empty_id_grant = stored.grants.iter().any(|g| g.grantee == Grantee::user(""));
            if empty_id_grant {
                assert!(
                    matches!(
                        canned,
                        CannedAcl::BucketOwnerRead | CannedAcl::BucketOwnerFullControl
                    ) && !target.contains('/'),
                    "{canned} {target}: {stored:?}"
                );
                assert_eq!(r.status, 400, "{canned} {target}: {}", r.text());
                assert_eq!(r.s3_error_code().as_deref(), Some("InvalidArgument"));
                // Without that grant, it is taken.
                let mut fixed = stored.clone();
                fixed.grants.retain(|g| g.grantee != Grantee::user(""));
                let r = rgw.put_acl_xml(who, &target, &fixed.to_xml());
                assert_eq!(r.status, 200, "{canned} {target}: {}", r.text());
                assert_eq!(rgw.get_acl(who, &target), fixed);
            } else {
                assert_eq!(r.status, 200, "{canned} {target}: {}", r.text());
                assert_eq!(rgw.get_acl(who, &target), stored, "{canned} {target}");
            }
        }
    }
    for bucket in buckets {
        rgw.remove_bucket(&bucket);
    }
    rgw.remove_bucket(&shared);
}

#[test]
fn an_unnamed_owner_is_written_as_an_empty_id_which_the_gateway_takes() {
    // A policy read from a document without <Owner> (Garage's) has an empty owner id; we
    // write it as <Owner><ID></ID></Owner>, which the gateway takes as the current owner. A
    // document without <Owner> at all it refuses.
    let Some(rgw) = Rgw::connect() else { return };
    let bucket = sos_testing::unique_name("acl-noowner");
    rgw.create_bucket(&bucket, None);
    assert_eq!(rgw.put_object(Who::Owner, &bucket, "k", None).status, 200);
    let target = format!("{bucket}/k");
    let without_owner = acl_doc(
        "",
        &grant(
            &group_grantee(&format!(r#"{XSI_DECL} xsi:type="Group""#), ALL_USERS),
            "READ",
        ),
    );
    let r = rgw.put_acl_xml(Who::Owner, &target, &without_owner);
    assert_eq!(r.status, 400, "{}", r.text());
    let policy = AccessControlPolicy::from_xml(&without_owner).unwrap();
    assert_eq!(policy.owner, Owner::new(""));
    let r = rgw.put_acl_xml(Who::Owner, &target, &policy.to_xml());
    assert_eq!(r.status, 200, "{}", r.text());
    let stored = rgw.get_acl(Who::Owner, &target);
    assert_eq!(stored.owner.id, OWNER_ID);
    assert!(stored.readable_by_everyone());
    assert_eq!(
        rgw.simple(Who::Anonymous, Method::GET, &format!("/{target}"))
            .status,
        200
    );
    // Another owner than the current one is refused.
    let mut other = policy.clone();
    other.owner = Owner::new(OTHER_ID);
    assert_eq!(
        rgw.put_acl_xml(Who::Owner, &target, &other.to_xml()).status,
        403
    );
    rgw.remove_bucket(&bucket);
}

#[test]
fn the_gateway_refuses_more_grants_than_validation_allows() {
    let Some(rgw) = Rgw::connect() else { return };
    let bucket = sos_testing::unique_name("acl-grants");
    rgw.create_bucket(&bucket, None);
    assert_eq!(rgw.put_object(Who::Owner, &bucket, "k", None).status, 200);
    let target = format!("{bucket}/k");
    let with = |n: usize| {
        AccessControlPolicy::new(owner()).with_grants(vec![
            Grant::new(
                Grantee::ALL_USERS,
                Permission::Read
            );
            n
        ])
    };
    let hundred = with(sos_acl::MAX_GRANTS);
    assert!(hundred.validate().is_ok());
    let r = rgw.put_acl_xml(Who::Owner, &target, &hundred.to_xml());
    assert_eq!(r.status, 200, "100 grants: {}", r.text());
    let too_many = with(sos_acl::MAX_GRANTS + 1);
    assert!(matches!(
        too_many.validate(),
        Err(sos_acl::Error::TooManyGrants { count: 101 })
    ));
    let r = rgw.put_acl_xml(Who::Owner, &target, &too_many.to_xml());
    assert_eq!(r.status, 400, "101 grants: {}", r.text());
    rgw.remove_bucket(&bucket);
}

#[test]
fn canned_acls_outside_the_six_are_refused_by_both() {
    // S3 also has log-delivery-write (buckets) and aws-exec-read; the gateway refuses both
    // (400 InvalidArgument), as it refuses any other name, and so do we.
    let Some(rgw) = Rgw::connect() else { return };
    for name in [
        "log-delivery-write",
        "aws-exec-read",
        "Public-Read",
        "public-read,private",
    ] {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-amz-acl", http::HeaderValue::from_str(name).unwrap());
        let bucket = sos_testing::unique_name("acl-canned-x");
        let r = rgw.send(
            Who::Owner,
            Method::PUT,
            &format!("/{bucket}"),
            &headers,
            Vec::new(),
        );
        assert_eq!(r.status, 400, "{name}: {}", r.text());
        assert_eq!(
            r.s3_error_code().as_deref(),
            Some("InvalidArgument"),
            "{name}"
        );
        assert_eq!(
            AclHeaders::from_headers(&headers),
            Err(sos_acl::Error::UnknownCannedAcl(name.to_owned()))
        );
    }
    // An empty x-amz-acl is no canned ACL to the gateway (the default, private, applies);
    // we refuse it.
    let mut headers = http::HeaderMap::new();
    headers.insert("x-amz-acl", http::HeaderValue::from_static(""));
    let bucket = sos_testing::unique_name("acl-canned-empty");
    let r = rgw.send(
        Who::Owner,
        Method::PUT,
        &format!("/{bucket}"),
        &headers,
        Vec::new(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        rgw.get_acl(Who::Owner, &bucket)
            .equivalent(&CannedAcl::Private.expand_for_bucket(&owner()))
    );
    assert_eq!(
        AclHeaders::from_headers(&headers),
        Err(sos_acl::Error::UnknownCannedAcl(String::new()))
    );
    rgw.remove_bucket(&bucket);
}
