//! The fixture table in `host/tests/fixtures/manifests/`: every `valid-*` manifest loads, every
//! `invalid-*` manifest fails with exactly the problems its `.expected` file lists.

use std::path::{Path, PathBuf};

use remotemedia_host::manifest::{Format, parse_text, schema};
use remotemedia_host::{HostError, Pipeline, Registry};

/// Fewer fixtures than this means the folder was emptied or moved, not that all is well.
const MIN_VALID: usize = 10;
const MIN_INVALID: usize = 25;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifests")
}

/// The manifests (`.json` and `.toml`) whose file name starts with `prefix`, sorted.
fn manifests(prefix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fixture_files()
        .into_iter()
        .filter(|path| {
            let ext = path.extension().and_then(|e| e.to_str());
            name(path).starts_with(prefix) && matches!(ext, Some("json" | "toml"))
        })
        .collect();
    found.sort();
    found
}

fn fixture_files() -> Vec<PathBuf> {
    std::fs::read_dir(fixture_dir())
        .expect("the fixture folder exists")
        .map(|entry| entry.expect("the fixture folder is readable").path())
        .collect()
}

fn name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Fails once, naming every fixture that mismatched, so one run shows every failure.
fn assert_no_mismatches(mismatches: &[String]) {
    assert!(
        mismatches.is_empty(),
        "{} fixture(s) mismatched:\n\n{}",
        mismatches.len(),
        mismatches.join("\n\n")
    );
}

#[test]
fn every_valid_fixture_loads() {
    let fixtures = manifests("valid-");
    assert!(
        fixtures.len() >= MIN_VALID,
        "only {} valid fixtures",
        fixtures.len()
    );
    let registry = Registry::builtin();
    let mismatches: Vec<String> = fixtures
        .iter()
        .filter_map(|path| match Pipeline::load(path, &registry) {
            Ok(_) => None,
            Err(HostError::Manifest { problems, .. }) => {
                let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
                Some(format!("{}: rejected:\n{}", name(path), lines.join("\n")))
            }
            Err(other) => Some(format!("{}: failed: {other}", name(path))),
        })
        .collect();
    assert_no_mismatches(&mismatches);
}

#[test]
fn every_invalid_fixture_reports_exactly_its_expected_problems() {
    let fixtures = manifests("invalid-");
    assert!(
        fixtures.len() >= MIN_INVALID,
        "only {} invalid fixtures",
        fixtures.len()
    );
    let registry = Registry::builtin();
    let mut mismatches = Vec::new();
    for path in &fixtures {
        let expected_path = path.with_extension("expected");
        let Ok(expected_text) = std::fs::read_to_string(&expected_path) else {
            mismatches.push(format!("{}: no {}", name(path), name(&expected_path)));
            continue;
        };
        let expected: Vec<&str> = expected_text.lines().collect();
        let actual: Vec<String> = match Pipeline::load(path, &registry) {
            Ok(_) => vec!["<loaded without error>".to_owned()],
            Err(HostError::Manifest { problems, .. }) => {
                problems.iter().map(ToString::to_string).collect()
            }
            Err(other) => vec![format!("<not a manifest error: {other}>")],
        };
        if actual != expected {
            mismatches.push(format!(
                "{}:\n  expected:\n    {}\n  actual:\n    {}",
                name(path),
                expected.join("\n    "),
                actual.join("\n    ")
            ));
        }
    }
    assert_no_mismatches(&mismatches);
}

#[test]
fn every_expected_file_belongs_to_an_invalid_fixture() {
    let orphans: Vec<String> = fixture_files()
        .into_iter()
        .filter(|path| path.extension().and_then(|e| e.to_str()) == Some("expected"))
        .filter(|path| {
            !["json", "toml"]
                .iter()
                .any(|ext| path.with_extension(ext).exists())
        })
        .map(|path| name(&path))
        .collect();
    assert!(orphans.is_empty(), "no manifest beside: {orphans:?}");
}

#[test]
fn committed_schema_accepts_every_valid_fixture() {
    let mut mismatches = Vec::new();
    for path in manifests("valid-") {
        let text = std::fs::read_to_string(&path).unwrap();
        let problems = match parse_text(&text, Format::from_path(&path)) {
            Ok(doc) => schema::check(&doc),
            Err(problem) => vec![problem],
        };
        if !problems.is_empty() {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            mismatches.push(format!("{}: {}", name(&path), lines.join("; ")));
        }
    }
    assert_no_mismatches(&mismatches);
}

#[test]
fn toml_fixture_gives_the_same_manifest_as_its_json_twin() {
    let registry = Registry::builtin();
    for stem in ["valid-linear-chain", "valid-fan-out"] {
        let load = |ext: &str| {
            let path = fixture_dir().join(format!("{stem}.{ext}"));
            // The resolved form: names, parameters, resolved types, edges by index.
            format!("{:?}", Pipeline::load(&path, &registry).unwrap().resolved())
        };
        assert_eq!(load("json"), load("toml"), "{stem}");
    }
}
