//! The checked-in documents equal what the code generates, and they document every
//! endpoint of the reference.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `(METHOD, path)` of every operation of a document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(*m).is_some() {
                out.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn checked_in_documents_equal_the_generated_ones() {
    let dir = repo_root().join("proto-docs/openapi");
    let mut stale = Vec::new();
    for (stem, api) in idp_openapi::documents() {
        let path = dir.join(format!("{stem}.json"));
        let generated = idp_openapi::to_json(&api);
        match std::fs::read_to_string(&path) {
            Ok(checked_in) if checked_in == generated => {}
            Ok(_) => stale.push(format!("{} differs", path.display())),
            Err(e) => stale.push(format!("{} cannot be read: {e}", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "the OpenAPI documents in proto-docs/openapi are not what the code generates; run `make openapi` and commit the result:\n  {}",
        stale.join("\n  ")
    );
}

#[test]
fn documents_are_openapi_3_1_with_unique_operation_ids_and_resolvable_refs() {
    for (stem, api) in idp_openapi::documents() {
        let doc: Value = serde_json::from_str(&idp_openapi::to_json(&api)).unwrap();
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1."),
            "{stem}: {}",
            doc["openapi"]
        );
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let text = doc.to_string();
        for piece in text.split("\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "{stem}: dangling $ref {name}");
        }
        let mut ids = BTreeSet::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for m in METHODS {
                if let Some(op) = item.get(*m) {
                    let id = op["operationId"].as_str().unwrap().to_string();
                    assert!(ids.insert(id.clone()), "{stem}: operationId {id} twice");
                    // Every error answer has a problem body (or, on the token
                    // endpoint, an OAuth error body).
                    for (status, r) in op["responses"].as_object().unwrap() {
                        if status.starts_with('4') || status.starts_with('5') {
                            assert!(
                                r["content"].as_object().is_some_and(|c| !c.is_empty()),
                                "{stem}: {id} {status} has no body"
                            );
                        }
                    }
                    // A bearer-protected operation documents its 401.
                    let secured = op["security"]
                        .as_array()
                        .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
                    if secured {
                        assert!(op["responses"].get("401").is_some(), "{stem}: {id}");
                    }
                }
            }
        }
    }
}

#[test]
fn the_gateway_document_holds_every_service_document() {
    let gateway = operations(&serde_json::to_value(idp_openapi::gateway()).unwrap());
    let public = operations(&serde_json::to_value(idp_openapi::public_identity_v1()).unwrap());
    for (name, api) in [
        ("identity", idp_openapi::identity()),
        ("organization", idp_openapi::organization()),
        ("invitation", idp_openapi::invitation()),
        ("authorization", idp_openapi::authorization()),
    ] {
        let ops = operations(&serde_json::to_value(api).unwrap());
        assert!(!ops.is_empty(), "{name}");
        assert!(
            ops.is_subset(&gateway),
            "{name}: {:?}",
            ops.difference(&gateway)
        );
        if name != "authorization" {
            assert!(ops.is_subset(&public), "{name}");
        }
    }
    assert!(public.iter().all(|(_, p)| p.starts_with("/identity/v1/")));
    for extra in [
        "/healthz",
        "/readyz",
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server/identity/v1",
    ] {
        assert!(gateway.contains(&("GET".into(), extra.into())), "{extra}");
    }
}

/// Turns a reference path such as `/organizations/{id:[a-f0-9]{8}-…}/{action:a|b}`
/// into `/identity/v1/organizations/{id}/{action}`.
fn normalize(path: &str) -> String {
    let mut out = String::from("/identity/v1");
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        if c != '{' {
            out.push(c);
            continue;
        }
        // A template: keep its name, skip its pattern (which may nest braces).
        let mut name = String::new();
        let mut depth = 1;
        let mut in_pattern = false;
        for c in chars.by_ref() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ':' if depth == 1 => in_pattern = true,
                _ if !in_pattern => name.push(c),
                _ => {}
            }
        }
        out.push('{');
        out.push_str(&name);
        out.push('}');
    }
    out
}

#[test]
fn normalize_keeps_template_names_only() {
    assert_eq!(
        normalize("/organizations/{id:[a-fA-F0-9]{8}-[a-fA-F0-9]{4}}/{action:activate|deactivate}"),
        "/identity/v1/organizations/{id}/{action}"
    );
    assert_eq!(
        normalize("/invitations/key/{key:[\\p{Alnum}]{36}}/decline"),
        "/identity/v1/invitations/key/{key}/decline"
    );
    assert_eq!(
        normalize("/identity-providers/{id}"),
        "/identity/v1/identity-providers/{id}"
    );
}

/// The reference's endpoints as checked in: `proto-docs/reference-endpoints.txt`.
fn checked_in_reference() -> Vec<(String, String)> {
    let file = repo_root().join("proto-docs/reference-endpoints.txt");
    let text = std::fs::read_to_string(&file).expect("proto-docs/reference-endpoints.txt");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (m, p) = l.split_once(' ').expect("METHOD /path");
            (m.to_string(), p.to_string())
        })
        .collect()
}

/// The identity API reference lists 58 endpoints (checked in as
/// `proto-docs/reference-endpoints.txt`); every one is documented.
#[test]
fn every_endpoint_of_the_reference_is_documented() {
    let endpoints = checked_in_reference();
    assert_eq!(endpoints.len(), 58, "the reference lists 58 endpoints");
    let documented = operations(&serde_json::to_value(idp_openapi::public_identity_v1()).unwrap());
    let missing: Vec<String> = endpoints
        .iter()
        .filter(|e| !documented.contains(e))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(missing.is_empty(), "not documented: {missing:#?}");
}

/// The checked-in list is the compact reference's (`METHOD /path` lines), when the
/// reference is at hand: in the shared folder beside the checkout, or `IDP_SPEC_DIR`.
/// It lives outside the repository, so a clone without it skips this comparison.
#[test]
fn the_checked_in_endpoint_list_matches_the_reference() {
    let dir = std::env::var("IDP_SPEC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("../shared/spec"));
    let file = dir.join("identity-service-api-compact.txt");
    let spec = match std::fs::read_to_string(&file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "SKIPPED: the reference {} cannot be read ({e}); the checked-in list is used as it is",
                file.display()
            );
            return;
        }
    };
    let mut endpoints = Vec::new();
    for line in spec.lines() {
        let mut words = line.split_whitespace();
        let (Some(method), Some(path)) = (words.next(), words.next()) else {
            continue;
        };
        if METHODS.contains(&method.to_lowercase().as_str()) && path.starts_with('/') {
            endpoints.push((method.to_string(), normalize(path)));
        }
    }
    assert_eq!(
        endpoints,
        checked_in_reference(),
        "proto-docs/reference-endpoints.txt differs from the reference"
    );
}
