//! ACL and CORS benchmarks: parse and write a 100-rule CORS configuration and a 100-grant
//! ACL, and evaluate preflights against the 100-rule configuration (target: < 2 µs).
//!
//! The configuration: 100 rules, rule `i` allowing `https://app{i}.example.com` and
//! `https://*.tenant{i}.example.org`, methods GET/PUT/POST, headers `x-amz-*`,
//! `content-type`, `content-md5`, two expose headers and a max age. The preflights: one that
//! the last rule answers (every rule tried, the worst case), one in the middle, and one that
//! no rule answers (origin refused everywhere).
//!
//! `cargo bench -p sos-benches --bench acl`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::Method;
use sos_acl::{
    AccessControlPolicy, CorsConfiguration, CorsRequest, CorsRule, Grant, Grantee, Owner,
    Permission,
};

fn cors_config() -> CorsConfiguration {
    CorsConfiguration::new().with_rules((0..100).map(|i| {
        CorsRule::new()
            .with_id(format!("rule-{i}"))
            .with_allowed_origins([
                format!("https://app{i}.example.com"),
                format!("https://*.tenant{i}.example.org"),
            ])
            .with_allowed_methods([Method::GET, Method::PUT, Method::POST])
            .with_allowed_headers(["x-amz-*", "content-type", "content-md5"])
            .with_expose_headers(["ETag", "x-amz-request-id"])
            .with_max_age_seconds(3000)
    }))
}

fn acl() -> AccessControlPolicy {
    let owner = Owner::new("75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a")
        .with_display_name("owner");
    AccessControlPolicy::new(owner.clone()).with_grants((0..100).map(|i| match i % 4 {
        0 => Grant::new(
            Grantee::user_named(format!("{i:064x}"), format!("user {i}")),
            Permission::Read,
        ),
        1 => Grant::new(Grantee::ALL_USERS, Permission::Read),
        2 => Grant::new(
            Grantee::email(format!("user{i}@example.com")),
            Permission::WriteAcp,
        ),
        _ => Grant::new(owner.as_grantee(), Permission::FullControl),
    }))
}

fn parse_and_write(c: &mut Criterion) {
    let cors = cors_config();
    let cors_xml = cors.to_xml();
    let policy = acl();
    let acl_xml = policy.to_xml();

    let mut g = c.benchmark_group("cors-100-rules");
    g.throughput(Throughput::Bytes(cors_xml.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| CorsConfiguration::from_xml(black_box(&cors_xml)).unwrap())
    });
    g.bench_function("write", |b| b.iter(|| black_box(&cors).to_xml()));
    g.bench_function("validate", |b| {
        b.iter(|| black_box(&cors).validate().unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("acl-100-grants");
    g.throughput(Throughput::Bytes(acl_xml.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| AccessControlPolicy::from_xml(black_box(&acl_xml)).unwrap())
    });
    g.bench_function("write", |b| b.iter(|| black_box(&policy).to_xml()));
    g.finish();
}

fn evaluate(c: &mut Criterion) {
    let cors = cors_config();
    let headers = "content-type, x-amz-date, x-amz-content-sha256";
    let last = CorsRequest::preflight("https://x.tenant99.example.org", "PUT")
        .with_request_headers(headers);
    let middle =
        CorsRequest::preflight("https://app50.example.com", "PUT").with_request_headers(headers);
    let refused =
        CorsRequest::preflight("https://evil.example.net", "PUT").with_request_headers(headers);
    assert_eq!(cors.evaluate(&last).allowed().unwrap().rule_index(), 99);
    assert_eq!(cors.evaluate(&middle).allowed().unwrap().rule_index(), 50);
    assert!(!cors.evaluate(&refused).is_allowed());

    let mut g = c.benchmark_group("cors-preflight-100-rules");
    g.bench_function("match-last-rule", |b| {
        b.iter(|| black_box(&cors).evaluate(black_box(&last)).is_allowed())
    });
    g.bench_function("match-last-rule+headers", |b| {
        b.iter(|| black_box(&cors).evaluate(black_box(&last)).headers())
    });
    g.bench_function("match-rule-50", |b| {
        b.iter(|| black_box(&cors).evaluate(black_box(&middle)).is_allowed())
    });
    g.bench_function("refused", |b| {
        b.iter(|| black_box(&cors).evaluate(black_box(&refused)).is_allowed())
    });
    g.finish();
}

criterion_group!(benches, parse_and_write, evaluate);
criterion_main!(benches);
