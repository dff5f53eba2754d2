//! The event catalogue `proto-docs/events.md` documents exactly the event types of
//! `idp_model::events::Event`, and for each type exactly the fields of its payload
//! struct: a type added to the code without its row, a row left behind after a type
//! was removed, or a field added, renamed or removed on one side only fails here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use idp_model::events::{types, Event};

/// The catalogue's table rows: the event types named in the first cell (a row may
/// abbreviate further types of the same aggregate as `` `.updated` ``), each with
/// the field names of the row's data cell (its second): every backticked word that
/// starts with a lower-case letter (`` `organizationId` ``; not `` `identity.created` ``
/// nor `` `POST /x` ``).
fn rows(text: &str) -> Vec<(Vec<String>, BTreeSet<String>)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(first) = line.strip_prefix("| `") else {
            continue;
        };
        let mut cells = first.split(" | ");
        let cell = format!("`{}", cells.next().unwrap_or(""));
        let data = cells.next().unwrap_or("");
        let mut names = Vec::new();
        let mut aggregate = String::new();
        for name in cell.split(',').map(|n| n.trim().trim_matches('`')) {
            if let Some(suffix) = name.strip_prefix('.') {
                assert!(
                    !aggregate.is_empty(),
                    "abbreviated type without a full one: {line}"
                );
                names.push(format!("{aggregate}.{suffix}"));
            } else if let Some((agg, _)) = name.split_once('.') {
                aggregate = agg.to_string();
                names.push(name.to_string());
            }
        }
        out.push((names, fields_of(data)));
    }
    out
}

fn fields_of(cell: &str) -> BTreeSet<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| {
            w.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && w.chars().all(|c| c.is_ascii_alphanumeric())
        })
        .map(str::to_string)
        .collect()
}

fn documented(text: &str) -> BTreeSet<String> {
    rows(text)
        .into_iter()
        .flat_map(|(names, _)| names)
        .collect()
}

fn catalogue() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto-docs/events.md");
    std::fs::read_to_string(path).expect("proto-docs/events.md")
}

#[test]
fn the_catalogue_documents_every_event_type_and_no_other() {
    let documented = documented(&catalogue());
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
fn the_catalogue_documents_every_field_of_each_payload_and_no_other() {
    let mut drift = BTreeMap::new();
    for (names, doc) in rows(&catalogue()) {
        for name in names {
            let Some(fields) = Event::fields(&name) else {
                continue; // reported by the test above
            };
            let code: BTreeSet<String> = fields.iter().map(|f| f.to_string()).collect();
            let missing: Vec<_> = code.difference(&doc).cloned().collect();
            let unknown: Vec<_> = doc.difference(&code).cloned().collect();
            if !missing.is_empty() || !unknown.is_empty() {
                drift.insert(name, (missing, unknown));
            }
        }
    }
    assert!(
        drift.is_empty(),
        "proto-docs/events.md drifted from the payloads, by type (undocumented fields, documented fields the payload lacks): {drift:#?}"
    );
}

#[test]
fn abbreviated_rows_are_expanded() {
    let rows = "| `a.created`, `.updated` | x | y |\n| `b.deleted` | x | y |\nnot a row `c.d`\n";
    let got: Vec<String> = documented(rows).into_iter().collect();
    assert_eq!(got, ["a.created", "a.updated", "b.deleted"]);
}

#[test]
fn field_names_are_the_backticked_lower_case_words_of_the_data_cell() {
    let got = fields_of(
        "`id`, `type` (`UserIdentity`), as `identity.created`, `POST /x`, `mappingAdded` ({id})",
    );
    let want: BTreeSet<String> = ["id", "type", "mappingAdded"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(got, want);
    let rows = rows("| `a.b` | `x`, `y` | `z` |\n");
    assert_eq!(
        rows[0].1,
        ["x", "y"].iter().map(|s| s.to_string()).collect()
    );
}
