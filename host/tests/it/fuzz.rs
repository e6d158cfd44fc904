//! Mutated manifests: thousands of derandomized mutations of the fixture manifests never
//! panic, and each one either validates (and builds, and draws) or fails with located
//! problems.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use remotemedia_host::Pipeline;
use remotemedia_host::Registry;
use remotemedia_host::cli::{GraphFormat, render_graph};
use remotemedia_host::manifest::{Format, parse_text};
use serde_json::{Value as Json, json};

/// Mutations per fixture.
const ROUNDS: usize = 80;

/// A small deterministic generator (xorshift64*): the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap()
    }
}

/// Values a mutation may put anywhere: every JSON kind, edge numbers, hostile strings.
fn odd_value(rng: &mut Rng) -> Json {
    match rng.below(18) {
        0 => Json::Null,
        1 => json!(true),
        2 => json!(0),
        3 => json!(-1),
        4 => json!(i64::MAX),
        5 => json!(u64::MAX),
        6 => json!(1.5e308),
        7 => json!(-0.0),
        8 => json!(""),
        9 => json!("PassThrough"),
        10 => json!("Multipy"),
        11 => json!("os:system"),
        12 => json!("a\n  - fake: forged\u{1b}[2J"),
        13 => json!("x".repeat(2_000)),
        14 => json!([]),
        15 => json!({}),
        16 => json!({"from": "a", "to": "b"}),
        _ => (0..100).fold(json!(1), |inner, _| json!([inner])),
    }
}

/// Every place in `doc`, as a path of keys and indexes.
fn places(doc: &Json, at: &mut Vec<Json>, out: &mut Vec<Vec<Json>>) {
    out.push(at.clone());
    match doc {
        Json::Object(map) => {
            for (k, v) in map {
                at.push(json!(k));
                places(v, at, out);
                at.pop();
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                at.push(json!(i));
                places(v, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn at_path<'a>(doc: &'a mut Json, path: &[Json]) -> &'a mut Json {
    path.iter().fold(doc, |node, step| match (node, step) {
        (Json::Object(map), Json::String(k)) => map.get_mut(k).unwrap(),
        (Json::Array(items), Json::Number(i)) => {
            &mut items[usize::try_from(i.as_u64().unwrap()).unwrap()]
        }
        _ => unreachable!("paths come from the document"),
    })
}

/// One mutation: replace a value, delete a key or an entry, duplicate an entry, or add an
/// unknown field.
fn mutate(doc: &mut Json, rng: &mut Rng) {
    let mut all = Vec::new();
    places(doc, &mut Vec::new(), &mut all);
    let path = all[rng.below(all.len())].clone();
    let target = at_path(doc, &path);
    match rng.below(4) {
        0 => *target = odd_value(rng),
        1 => match target {
            Json::Object(map) if !map.is_empty() => {
                let key = map.keys().nth(rng.below(map.len())).unwrap().clone();
                map.remove(&key);
            }
            Json::Array(items) if !items.is_empty() => {
                items.remove(rng.below(items.len()));
            }
            other => *other = odd_value(rng),
        },
        2 => match target {
            Json::Array(items) if !items.is_empty() => {
                let copy = items[rng.below(items.len())].clone();
                items.push(copy);
            }
            other => *other = odd_value(rng),
        },
        _ => match target {
            Json::Object(map) => {
                map.insert("unexpected".into(), odd_value(rng));
            }
            other => *other = json!({"version": "v1", "nodes": [other.clone()]}),
        },
    }
}

fn fixtures() -> Vec<Json> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifests");
    let mut docs: Vec<Json> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| {
            let path = entry.unwrap().path();
            let format = match path.extension()?.to_str()? {
                "json" => Format::Json,
                "toml" => Format::Toml,
                _ => return None,
            };
            parse_text(&std::fs::read_to_string(&path).ok()?, format).ok()
        })
        .collect();
    docs.sort_by_key(ToString::to_string); // a stable order: the same mutations each run
    docs
}

#[test]
fn mutated_manifests_never_panic_and_fail_with_located_problems() {
    let registry = Registry::builtin();
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let (mut valid, mut invalid) = (0, 0);
    for fixture in fixtures() {
        for _ in 0..ROUNDS {
            let mut doc = fixture.clone();
            for _ in 0..=rng.below(3) {
                mutate(&mut doc, &mut rng);
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                Pipeline::from_document(&doc, "<fuzz>", &registry).map(|pipeline| {
                    render_graph(&pipeline, GraphFormat::Dot);
                    render_graph(&pipeline, GraphFormat::Mermaid);
                })
            }));
            let Ok(outcome) = outcome else {
                panic!("validation panicked on {doc}");
            };
            match outcome {
                Ok(()) => valid += 1,
                Err(error) => {
                    invalid += 1;
                    assert_eq!(error.exit_code(), 2, "{error} for {doc}");
                    let details = error.details();
                    assert!(!details.is_empty(), "no problem listed for {doc}");
                    for line in &details {
                        assert!(line.starts_with("  - "), "{line:?} for {doc}");
                        assert!(!line.contains('\u{1b}'), "{line:?} for {doc}");
                    }
                }
            }
        }
    }
    // The mutations reach both outcomes, or the test would say little.
    assert!(
        valid >= 20 && invalid >= 1000 && valid + invalid >= 3000,
        "{valid} valid, {invalid} invalid"
    );
}

#[test]
fn a_wide_fan_in_draws_every_node_and_edge_in_both_formats() {
    // 20k nodes into one: drawing looked each edge's ends up by scanning the nodes, which
    // made this quadratic (19 s for mermaid); edges now carry their ends' indexes.
    let n = 20_000;
    let mut nodes: Vec<Json> = (0..n)
        .map(|i| json!({"id": format!("n{i}"), "node_type": "PassThrough"}))
        .collect();
    nodes.push(json!({"id": "sink", "node_type": "PassThrough"}));
    let connections: Vec<Json> = (0..n)
        .map(|i| json!({"from": format!("n{i}"), "to": "sink"}))
        .collect();
    let doc = json!({"version": "v1", "nodes": nodes, "connections": connections});
    let pipeline = Pipeline::from_document(&doc, "<fan-in>", &Registry::builtin()).unwrap();
    let mermaid = render_graph(&pipeline, GraphFormat::Mermaid);
    assert_eq!(mermaid.lines().filter(|l| l.contains("-->")).count(), n);
    assert!(mermaid.contains(&format!("n{} --> n{n}", n - 1)));
    let dot = render_graph(&pipeline, GraphFormat::Dot);
    assert_eq!(dot.lines().filter(|l| l.contains(" -> ")).count(), n);
}
