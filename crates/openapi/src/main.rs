//! Writes the platform's OpenAPI documents (`make openapi`):
//! `idp-openapi [DIR]` writes `DIR/{stem}.json` for every document (default DIR:
//! `proto-docs/openapi`), and removes nothing else.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "proto-docs/openapi".to_string()),
    );
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for (stem, api) in idp_openapi::documents() {
        let path = dir.join(format!("{stem}.json"));
        let json = idp_openapi::to_json(&api);
        let unchanged = std::fs::read_to_string(&path).is_ok_and(|old| old == json);
        if unchanged {
            println!("unchanged {}", path.display());
            continue;
        }
        if let Err(e) = std::fs::write(&path, json) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
