//! Property tests: every type to XML (and JSON, and headers) and back; the parsers accept
//! the variations real servers produce (whitespace, prefixes, attribute order); and they
//! never panic, whatever they are given.

use http::Method;
use proptest::prelude::*;
use sos_acl::{
    AccessControlPolicy, AclHeaders, CannedAcl, CorsConfiguration, CorsRequest, CorsRule, Grant,
    Grantee, Group, Owner, Permission,
};

/// Text as servers carry it: no control characters, no surrounding whitespace (the parser
/// trims values), XML's special characters and non-ASCII included.
fn text() -> impl Strategy<Value = String> {
    "[^\\x00-\\x20\\x7f]([^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]{0,18}[^\\x00-\\x20\\x7f])?"
}

/// ACL values: `text()` with whitespace around it, which the ACL parser keeps (they are
/// `xsd:string`s to S3).
fn acl_text() -> impl Strategy<Value = String> {
    ("[ \t\n\r]{0,2}", text(), "[ \t\n\r]{0,2}").prop_map(|(a, t, b)| format!("{a}{t}{b}"))
}

fn maybe_text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some(String::new())),
        acl_text().prop_map(Some)
    ]
}

fn group() -> impl Strategy<Value = Group> {
    prop_oneof![
        Just(Group::AllUsers),
        Just(Group::AuthenticatedUsers),
        Just(Group::LogDelivery),
        acl_text().prop_map(|s| Group::from_uri(&format!("urn:{s}"))),
    ]
}

fn grantee() -> impl Strategy<Value = Grantee> {
    prop_oneof![
        (acl_text(), maybe_text()).prop_map(|(id, name)| match name {
            Some(n) => Grantee::user_named(id, n),
            None => Grantee::user(id),
        }),
        acl_text().prop_map(Grantee::email),
        group().prop_map(Grantee::Group),
    ]
}

fn permission() -> impl Strategy<Value = Permission> {
    prop::sample::select(Permission::ALL.to_vec())
}

fn policy() -> impl Strategy<Value = AccessControlPolicy> {
    (
        prop_oneof![Just(String::new()), acl_text()],
        maybe_text(),
        prop::collection::vec((grantee(), permission()), 0..8),
    )
        .prop_map(|(id, name, grants)| {
            let mut owner = Owner::new(id);
            owner.display_name = name;
            AccessControlPolicy::new(owner)
                .with_grants(grants.into_iter().map(|(g, p)| Grant::new(g, p)))
        })
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        prop::sample::select(vec![
            Method::GET,
            Method::PUT,
            Method::POST,
            Method::DELETE,
            Method::HEAD
        ]),
        "[A-Z]{1,8}".prop_map(|m| Method::from_bytes(m.as_bytes()).unwrap()),
    ]
}

fn rule() -> impl Strategy<Value = CorsRule> {
    (
        prop::option::of(text()),
        prop::collection::vec(text(), 0..4),
        prop::collection::vec(method(), 0..4),
        prop::collection::vec(text(), 0..4),
        prop::collection::vec(text(), 0..3),
        prop::option::of(any::<u32>()),
    )
        .prop_map(|(id, origins, methods, headers, expose, max_age)| {
            let mut r = CorsRule::new()
                .with_allowed_origins(origins)
                .with_allowed_methods(methods)
                .with_allowed_headers(headers)
                .with_expose_headers(expose);
            r.id = id;
            r.max_age_seconds = max_age;
            r
        })
}

fn cors() -> impl Strategy<Value = CorsConfiguration> {
    prop::collection::vec(rule(), 0..5).prop_map(|rules| CorsConfiguration::new().with_rules(rules))
}

/// An independent writer that produces the variations servers send: optional declaration,
/// pretty-printing, a prefix on every element, another prefix for the XSI namespace, the
/// `xsi:type` attribute before its namespace declaration, `'` quotes, no `Owner` (Garage).
fn write_policy_variant(p: &AccessControlPolicy, prefix: &str, xsi: &str, pretty: bool) -> String {
    let nl = if pretty { "\n  " } else { "" };
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('\r', "&#xD;")
            .replace('\'', "&apos;")
    };
    let e = |name: &str, v: &str| format!("{nl}<{prefix}{name}>{}</{prefix}{name}>", esc(v));
    let decl = if prefix.is_empty() {
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    } else {
        ""
    };
    let ns = if prefix.is_empty() {
        " xmlns='http://s3.amazonaws.com/doc/2006-03-01/'".to_owned()
    } else {
        format!(
            " xmlns:{}='http://s3.amazonaws.com/doc/2006-03-01/'",
            prefix.trim_end_matches(':')
        )
    };
    let mut out = format!("{decl}<!-- variant -->{nl}<{prefix}AccessControlPolicy{ns}>");
    // An unnamed owner is left out, as Garage does.
    if !(p.owner.id.is_empty() && p.owner.display_name.is_none()) {
        out += &format!("{nl}<{prefix}Owner>{}", e("ID", &p.owner.id));
        if let Some(n) = &p.owner.display_name {
            out += &e("DisplayName", n);
        }
        out += &format!("{nl}</{prefix}Owner>");
    }
    out += &format!("{nl}<{prefix}AccessControlList>");
    for g in &p.grants {
        out += &format!(
            "{nl}<{prefix}Grant>{nl}<{prefix}Grantee {xsi}:type='{}' xmlns:{xsi}='http://www.w3.org/2001/XMLSchema-instance'>",
            g.grantee.xsi_type()
        );
        match &g.grantee {
            Grantee::CanonicalUser { id, display_name } => {
                // Display name first: element order inside Grantee does not matter.
                if let Some(n) = display_name {
                    out += &e("DisplayName", n);
                }
                out += &e("ID", id);
            }
            Grantee::Email(a) => out += &e("EmailAddress", a),
            Grantee::Group(gr) => out += &e("URI", gr.uri()),
            _ => unreachable!(),
        }
        out += &format!(
            "{nl}</{prefix}Grantee>{}{nl}</{prefix}Grant>",
            e("Permission", g.permission.as_str())
        );
    }
    out += &format!("{nl}</{prefix}AccessControlList>{nl}</{prefix}AccessControlPolicy>\n");
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn acl_xml_round_trip(p in policy()) {
        let xml = p.to_xml();
        prop_assert_eq!(AccessControlPolicy::from_xml(&xml).unwrap(), p);
    }

    #[test]
    fn acl_xml_variants_parse_the_same(
        p in policy(),
        prefix in prop::sample::select(vec!["", "s3:", "ns2:"]),
        xsi in prop::sample::select(vec!["xsi", "i", "xs"]),
        pretty in any::<bool>(),
    ) {
        let xml = write_policy_variant(&p, prefix, xsi, pretty);
        let parsed = AccessControlPolicy::from_xml(&xml);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&p), "{}\n{:?}", xml, parsed);
    }

    #[test]
    fn acl_json_round_trip(p in policy()) {
        let json = serde_json::to_string(&p).unwrap();
        prop_assert_eq!(serde_json::from_str::<AccessControlPolicy>(&json).unwrap(), p);
    }

    #[test]
    fn acl_headers_round_trip(p in policy()) {
        // The header form has no display names and cannot carry `"` in a value.
        let grants: Vec<Grant> = p.grants.iter()
            .filter(|g| !g.grantee.to_string().contains(['"', '\r', '\n']))
            .map(|g| match &g.grantee {
                Grantee::CanonicalUser { id, .. } => Grant::new(Grantee::user(id.clone()), g.permission),
                other => Grant::new(other.clone(), g.permission),
            })
            .collect();
        let headers = AclHeaders::Grants(grants.clone()).to_headers().unwrap();
        let back = AclHeaders::from_headers(&headers).unwrap();
        let mut expected = grants;
        // Written one header per permission, in Permission::ALL order.
        expected.sort_by_key(|g| Permission::ALL.iter().position(|p| *p == g.permission));
        if expected.is_empty() {
            prop_assert_eq!(back, None);
        } else {
            prop_assert_eq!(back, Some(AclHeaders::Grants(expected)));
        }
    }

    #[test]
    fn cors_xml_round_trip(c in cors()) {
        let xml = c.to_xml();
        prop_assert_eq!(CorsConfiguration::from_xml(&xml).unwrap(), c);
    }

    #[test]
    fn cors_json_round_trip(c in cors()) {
        let json = serde_json::to_string(&c).unwrap();
        prop_assert_eq!(serde_json::from_str::<CorsConfiguration>(&json).unwrap(), c);
    }

    #[test]
    fn cors_xml_pretty_and_prefixed(c in cors()) {
        let xml = c.to_xml()
            .replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<?xml version=\"1.0\"?>\n")
            .replace("xmlns=", "xmlns:p=")
            .replace("<C", "\n <p:C").replace("</C", "\n </p:C")
            .replace("<A", "\n  <p:A").replace("</A", "</p:A")
            .replace("<E", "\n  <p:E").replace("</E", "</p:E")
            .replace("<M", "\n  <p:M").replace("</M", "</p:M")
            .replace("<ID", "\n  <p:ID").replace("</ID", "</p:ID");
        let parsed = CorsConfiguration::from_xml(&xml);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&c), "{}", xml);
    }

    #[test]
    fn parsers_never_panic_on_strings(s in ".{0,300}") {
        let _ = AccessControlPolicy::from_xml(&s);
        let _ = CorsConfiguration::from_xml(&s);
    }

    #[test]
    fn parsers_never_panic_on_bytes(b in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = AccessControlPolicy::from_xml(&b);
        let _ = CorsConfiguration::from_xml(&b);
    }

    #[test]
    fn parsers_never_panic_on_damaged_documents(
        p in policy(),
        c in cors(),
        cut in any::<prop::sample::Index>(),
        insert in "[<>/&;=\"' a-zA-Z:]{0,12}",
        delete in 0usize..20,
    ) {
        for doc in [p.to_xml(), c.to_xml()] {
            let mut bytes = doc.into_bytes();
            let at = cut.index(bytes.len() + 1);
            let end = (at + delete).min(bytes.len());
            bytes.splice(at..end, insert.bytes());
            let _ = AccessControlPolicy::from_xml(&bytes);
            let _ = CorsConfiguration::from_xml(&bytes);
        }
    }

    #[test]
    fn header_parser_never_panics(v in ".{0,200}", name in prop::sample::select(vec![
        "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-full-control", "x-amz-acl", "x-amz-grant-x",
    ])) {
        if let Ok(value) = http::HeaderValue::from_str(&v) {
            let mut h = http::HeaderMap::new();
            h.insert(http::HeaderName::from_static(name), value);
            let _ = AclHeaders::from_headers(&h);
        }
    }

    #[test]
    fn evaluation_is_first_match(
        c in cors(),
        pick in any::<prop::sample::Index>(),
        random_origin in ".{0,30}",
        random_method in "[A-Z]{1,7}",
        extra_header in "[a-zA-Z-]{0,12}",
        preflight in any::<bool>(),
    ) {
        // Origins, methods and headers taken from the configuration itself, so that rules
        // match often; a random one otherwise.
        let origins: Vec<&str> = c.rules.iter().flat_map(|r| r.allowed_origins.iter().map(String::as_str)).collect();
        let methods: Vec<&str> = c.rules.iter().flat_map(|r| r.allowed_methods.iter().map(Method::as_str)).collect();
        let allowed: Vec<&str> = c.rules.iter().flat_map(|r| r.allowed_headers.iter().map(String::as_str)).collect();
        let origin = if origins.is_empty() { random_origin.as_str() } else { origins[pick.index(origins.len())] };
        let method = if methods.is_empty() { random_method.as_str() } else { methods[pick.index(methods.len())] };
        let headers = if allowed.is_empty() { extra_header.clone() } else { format!("{}, {extra_header}", allowed[pick.index(allowed.len())]) };
        let req = if preflight {
            CorsRequest::preflight(origin, method).with_request_headers(&headers)
        } else {
            CorsRequest::actual(origin, method)
        };
        let single = |r: &CorsRule| CorsConfiguration::new().with_rule(r.clone()).evaluate(&req).is_allowed();
        match c.evaluate(&req).allowed() {
            Some(a) => {
                let i = a.rule_index();
                prop_assert!(single(&c.rules[i]), "the chosen rule alone allows the request");
                prop_assert!(!c.rules[..i].iter().any(single), "no earlier rule allows it");
                prop_assert!(a.rule().allowed_methods.iter().any(|m| m.as_str() == method));
                let h = c.evaluate(&req).headers();
                if !headers.contains(|c: char| c.is_control() && c != '\t') {
                    let any_header = headers.split(',').any(|h| !h.trim_matches([' ', '\t']).is_empty());
                    prop_assert_eq!(h.contains_key("access-control-allow-headers"), preflight && any_header);
                }
            }
            None => prop_assert!(!c.rules.iter().any(single), "no rule allows it"),
        }
    }
}

#[test]
fn aws_cli_json_shapes() {
    // The examples of `aws s3api put-bucket-cors` and `put-bucket-acl`.
    let cors: CorsConfiguration = serde_json::from_str(
        r#"{"CORSRules": [{"AllowedOrigins": ["http://www.example.com"], "AllowedHeaders": ["*"],
            "AllowedMethods": ["PUT", "POST", "DELETE"], "MaxAgeSeconds": 3000,
            "ExposeHeaders": ["x-amz-server-side-encryption"]},
            {"AllowedOrigins": ["*"], "AllowedHeaders": ["Authorization"], "AllowedMethods": ["GET"],
             "MaxAgeSeconds": 3000}]}"#,
    )
    .unwrap();
    assert_eq!(cors.rules.len(), 2);
    assert_eq!(
        cors.rules[0].allowed_methods,
        [Method::PUT, Method::POST, Method::DELETE]
    );
    assert!(cors.validate().is_ok());

    let acl: AccessControlPolicy = serde_json::from_str(
        r#"{"Owner": {"DisplayName": "owner", "ID": "abc"},
            "Grants": [{"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                        "Permission": "READ"},
                       {"Grantee": {"Type": "CanonicalUser", "ID": "abc", "DisplayName": "owner"},
                        "Permission": "FULL_CONTROL"},
                       {"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "a@b.c"},
                        "Permission": "WRITE_ACP"}]}"#,
    )
    .unwrap();
    assert!(acl.readable_by_everyone());
    assert_eq!(acl.grants[2].grantee, Grantee::email("a@b.c"));
    let bad = serde_json::from_str::<AccessControlPolicy>(
        r#"{"Owner": {"ID": "a"}, "Grants": [{"Grantee": {"Type": "Robot"}, "Permission": "READ"}]}"#,
    );
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("unknown grantee type `Robot`")
    );
    assert_eq!(
        serde_json::to_string(&CannedAcl::BucketOwnerFullControl).unwrap(),
        "\"bucket-owner-full-control\""
    );
}

#[test]
fn hostile_acl_documents_give_typed_errors_quickly() {
    use std::time::{Duration, Instant};
    let doc = |id: &str, inner: &str| {
        format!(
            "<AccessControlPolicy><Owner><ID>{id}</ID></Owner><AccessControlList>{inner}</AccessControlList></AccessControlPolicy>"
        )
    };
    let group = r#"<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>"#;
    let many_attributes: String = (0..100_000).map(|i| format!(" a{i}=\"x\"")).collect();
    let many_namespaces: String = (0..10_000)
        .map(|i| format!(" xmlns:p{i}=\"urn:{i}\""))
        .collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "entity expansion (billion laughs)",
            format!(
                r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>{}"#,
                doc("&c;", "")
            )
            .into_bytes(),
            "unknown entity `&c;`",
        ),
        (
            "external entity",
            format!(
                r#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>{}"#,
                doc("&x;", "")
            )
            .into_bytes(),
            "unknown entity `&x;`",
        ),
        (
            "100 000 attributes on one element (took over a minute)",
            format!("<AccessControlPolicy{many_attributes}/>").into_bytes(),
            "attributes on one element",
        ),
        (
            "10 000 namespace declarations",
            doc("o", &format!("<Grant{many_namespaces}/>")).into_bytes(),
            "attributes on one element",
        ),
        (
            "100 000 levels deep",
            format!(
                "<AccessControlPolicy>{}{}</AccessControlPolicy>",
                "<a>".repeat(100_000),
                "</a>".repeat(100_000)
            )
            .into_bytes(),
            "nested too deeply",
        ),
        (
            "truncated",
            doc("o", group).as_bytes()[..150].to_vec(),
            "malformed XML",
        ),
        (
            "UTF-16",
            doc("o", group)
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect(),
            "malformed XML",
        ),
        (
            "two roots",
            format!("{}{}", doc("o", group), doc("o", group)).into_bytes(),
            "content after the root element",
        ),
    ];
    for (name, bytes, expected) in cases {
        let started = Instant::now();
        let err = AccessControlPolicy::from_xml(&bytes).unwrap_err();
        assert!(
            err.to_string().contains(expected),
            "{name}: {err} (expected {expected:?})"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name}: {:?}",
            started.elapsed()
        );
    }
    // Big but honest documents are read in linear time.
    let started = Instant::now();
    let many = doc("o", &group.repeat(20_000));
    assert_eq!(
        AccessControlPolicy::from_xml(&many).unwrap().grants.len(),
        20_000
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}
