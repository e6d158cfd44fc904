//! Reading manifest text, JSON or TOML, into one JSON document.

use std::path::Path;

use serde_json::Value as Json;

use super::problem::{Location, Problem};

/// The text format of a manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON text.
    Json,
    /// TOML text with the same structure.
    Toml,
}

impl Format {
    /// `.toml` files are TOML; everything else is read as JSON.
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("toml") => Format::Toml,
            _ => Format::Json,
        }
    }
}

/// Parses manifest text. A syntax error comes back as one [`Problem`] naming line and column.
///
/// # Errors
/// The syntax error.
pub fn parse_text(text: &str, format: Format) -> Result<Json, Problem> {
    match format {
        Format::Json => {
            // serde reads an integer beyond u64 as a float: refuse it, never round it (one in
            // u64 but beyond i64 is kept exactly, and validation reports it where it is).
            if let Some((literal, at)) = crate::value::oversized_integer(text)
                && literal.parse::<u64>().is_err()
            {
                let (line, column) = line_col(text, at);
                return Err(Problem::new(
                    Location::root(),
                    format!(
                        "integer {literal} is out of range ({} to {}) (line {line}, column {column})",
                        i64::MIN,
                        i64::MAX
                    ),
                ));
            }
            serde_json::from_str(text).map_err(|e| {
                let (message, line, column) = crate::value::Value::json_error_parts(&e);
                Problem::new(
                    Location::root(),
                    format!("not valid JSON: {message} (line {line}, column {column})"),
                )
            })
        }
        Format::Toml => {
            let table: toml::Table = toml::from_str(text).map_err(|e| {
                let at = e
                    .span()
                    .map(|span| {
                        let (line, col) = line_col(text, span.start);
                        format!(" (line {line}, column {col})")
                    })
                    .unwrap_or_default();
                Problem::new(
                    Location::root(),
                    format!("not valid TOML: {}{at}", e.message()),
                )
            })?;
            serde_json::to_value(table).map_err(|e| {
                Problem::new(
                    Location::root(),
                    format!("TOML value has no JSON form: {e}"),
                )
            })
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_json_give_the_same_document() {
        let toml_text = r#"
            version = "v1"
            [[nodes]]
            id = "m"
            node_type = "Multiply"
            params = { factor = 2 }
        "#;
        let json_text =
            r#"{"version":"v1","nodes":[{"id":"m","node_type":"Multiply","params":{"factor":2}}]}"#;
        assert_eq!(
            parse_text(toml_text, Format::Toml).unwrap(),
            parse_text(json_text, Format::Json).unwrap()
        );
    }

    #[test]
    fn an_integer_beyond_64_bits_in_a_manifest_is_refused_not_rounded() {
        let text = "{\"version\": \"v1\",\n \"x\": 123456789012345678901234567890}";
        let problem = parse_text(text, Format::Json).unwrap_err();
        assert_eq!(
            problem.message,
            "integer 123456789012345678901234567890 is out of range (-9223372036854775808 to 9223372036854775807) (line 2, column 7)"
        );
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err =
            parse_text("{\n  \"version\": \"v1\",\n  nodes: []\n}", Format::Json).unwrap_err();
        assert!(err.message.contains("line 3, column 3"), "{}", err.message);
        let err = parse_text("version = \"v1\"\nnodes = [", Format::Toml).unwrap_err();
        assert!(err.message.starts_with("not valid TOML"), "{}", err.message);
        assert!(err.message.contains("line 2"), "{}", err.message);
    }

    #[test]
    fn format_follows_the_extension() {
        assert_eq!(Format::from_path(Path::new("a/b.TOML")), Format::Toml);
        assert_eq!(Format::from_path(Path::new("a/b.json")), Format::Json);
        assert_eq!(Format::from_path(Path::new("manifest")), Format::Json);
    }
}
