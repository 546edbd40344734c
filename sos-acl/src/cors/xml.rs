//! The `CORSConfiguration` XML document.

use std::fmt::Write as _;

use http::Method;

use super::{CorsConfiguration, CorsRule};
use crate::Result;
use crate::xml::{DECLARATION, Loc, S3_NAMESPACE, parse_document, push_element, single};

pub(super) fn parse(xml: &[u8]) -> Result<CorsConfiguration> {
    let root = parse_document(xml, "CORSConfiguration")?;
    let loc = Loc::root(&root);
    let mut rules = Vec::new();
    for (i, el) in root.children_named("CORSRule").enumerate() {
        let rule_loc = loc.child(el, Some(i + 1));
        let texts = |name: &'static str| -> Vec<String> {
            el.children_named(name)
                .map(|c| c.value().to_owned())
                .collect()
        };
        let mut allowed_methods = Vec::new();
        for (j, m) in el.children_named("AllowedMethod").enumerate() {
            let value = m.value();
            let method = Method::from_bytes(value.as_bytes()).map_err(|_| {
                rule_loc
                    .child(m, Some(j + 1))
                    .invalid(value, "not an HTTP method")
            })?;
            allowed_methods.push(method);
        }
        let max_age_seconds = match single(el, &rule_loc, "MaxAgeSeconds")? {
            Some(m) => {
                let value = m.value();
                Some(value.parse::<u32>().map_err(|_| {
                    rule_loc
                        .child(m, None)
                        .invalid(value, "a number of seconds (0 to 4294967295)")
                })?)
            }
            None => None,
        };
        rules.push(CorsRule {
            id: single(el, &rule_loc, "ID")?.map(|e| e.value().to_owned()),
            allowed_origins: texts("AllowedOrigin"),
            allowed_methods,
            allowed_headers: texts("AllowedHeader"),
            expose_headers: texts("ExposeHeader"),
            max_age_seconds,
        });
    }
    Ok(CorsConfiguration { rules })
}

pub(super) fn write(config: &CorsConfiguration) -> String {
    let mut out = String::with_capacity(128 + config.rules.len() * 256);
    out.push_str(DECLARATION);
    out.push_str(r#"<CORSConfiguration xmlns=""#);
    out.push_str(S3_NAMESPACE);
    out.push_str(r#"">"#);
    for rule in &config.rules {
        out.push_str("<CORSRule>");
        if let Some(id) = &rule.id {
            push_element(&mut out, "ID", id);
        }
        for o in &rule.allowed_origins {
            push_element(&mut out, "AllowedOrigin", o);
        }
        for m in &rule.allowed_methods {
            push_element(&mut out, "AllowedMethod", m.as_str());
        }
        for h in &rule.allowed_headers {
            push_element(&mut out, "AllowedHeader", h);
        }
        for h in &rule.expose_headers {
            push_element(&mut out, "ExposeHeader", h);
        }
        if let Some(s) = rule.max_age_seconds {
            let _ = write!(out, "<MaxAgeSeconds>{s}</MaxAgeSeconds>");
        }
        out.push_str("</CORSRule>");
    }
    out.push_str("</CORSConfiguration>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    /// The example of the S3 API reference (PutBucketCors), pretty-printed.
    const AWS_EXAMPLE: &str = r#"<CORSConfiguration>
 <CORSRule>
   <AllowedOrigin>http://www.example.com</AllowedOrigin>

   <AllowedMethod>PUT</AllowedMethod>
   <AllowedMethod>POST</AllowedMethod>
   <AllowedMethod>DELETE</AllowedMethod>

   <AllowedHeader>*</AllowedHeader>

   <MaxAgeSeconds>3000</MaxAgeSeconds>
   <ExposeHeader>x-amz-server-side-encryption</ExposeHeader>
   <ExposeHeader>x-amz-request-id</ExposeHeader>
   <ExposeHeader>x-amz-id-2</ExposeHeader>
 </CORSRule>
 <CORSRule>
   <AllowedOrigin>*</AllowedOrigin>
   <AllowedMethod>GET</AllowedMethod>
 </CORSRule>
</CORSConfiguration>"#;

    #[test]
    fn aws_example() {
        let c = parse(AWS_EXAMPLE.as_bytes()).unwrap();
        assert_eq!(c.rules.len(), 2);
        assert_eq!(
            c.rules[0].allowed_methods,
            [Method::PUT, Method::POST, Method::DELETE]
        );
        assert_eq!(c.rules[0].expose_headers.len(), 3);
        assert_eq!(c.rules[0].max_age_seconds, Some(3000));
        assert_eq!(c.rules[1].allowed_origins, ["*"]);
        assert_eq!(parse(write(&c).as_bytes()).unwrap(), c);
    }

    #[test]
    fn bad_values_say_where() {
        let doc = AWS_EXAMPLE.replace("3000", "soon");
        let err = parse(doc.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidValue { value, path, .. }
                if value == "soon" && path.starts_with("CORSConfiguration/CORSRule[1]/MaxAgeSeconds (byte ")),
            "{err:?}"
        );
        let doc = AWS_EXAMPLE.replace("<AllowedMethod>GET", "<AllowedMethod>G T");
        let err = parse(doc.as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("CORSRule[2]/AllowedMethod[1]"),
            "{err}"
        );
        let doc = AWS_EXAMPLE.replace(
            "<MaxAgeSeconds>3000",
            "<MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2",
        );
        assert!(matches!(
            parse(doc.as_bytes()),
            Err(Error::DuplicateElement {
                element: "MaxAgeSeconds",
                ..
            })
        ));
        assert!(matches!(
            parse(b"<AccessControlPolicy/>"),
            Err(Error::UnexpectedRoot {
                expected: "CORSConfiguration",
                ..
            })
        ));
    }
}
