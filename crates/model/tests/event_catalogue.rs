//! The event catalogue `proto-docs/events.md` documents exactly the event types of
//! `idp_model::events::types`: a type added to the code without its row, or a row
//! left behind after a type was removed, fails here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use idp_model::events::types;

/// The event types named in the first cell of the catalogue's table rows. A row may
/// abbreviate further types of the same aggregate as `` `.updated` ``.
fn documented(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let Some(first) = line.strip_prefix("| `") else {
            continue;
        };
        let cell = format!("`{}", first.split(" | ").next().unwrap_or(""));
        let mut aggregate = String::new();
        for name in cell.split(',').map(|n| n.trim().trim_matches('`')) {
            if let Some(suffix) = name.strip_prefix('.') {
                assert!(
                    !aggregate.is_empty(),
                    "abbreviated type without a full one: {line}"
                );
                out.insert(format!("{aggregate}.{suffix}"));
            } else if let Some((agg, _)) = name.split_once('.') {
                aggregate = agg.to_string();
                out.insert(name.to_string());
            }
        }
    }
    out
}

#[test]
fn the_catalogue_documents_every_event_type_and_no_other() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto-docs/events.md");
    let text = std::fs::read_to_string(path).expect("proto-docs/events.md");
    let documented = documented(&text);
    let code: BTreeSet<String> = types::ALL.iter().map(|t| t.to_string()).collect();
    let missing: Vec<_> = code.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&code).collect();
    assert!(
        missing.is_empty(),
        "event types without a row in proto-docs/events.md: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "rows of proto-docs/events.md naming no event type of the code: {unknown:?}"
    );
}

#[test]
fn abbreviated_rows_are_expanded() {
    let rows = "| `a.created`, `.updated` | x | y |\n| `b.deleted` | x | y |\nnot a row `c.d`\n";
    let got: Vec<String> = documented(rows).into_iter().collect();
    assert_eq!(got, ["a.created", "a.updated", "b.deleted"]);
}
