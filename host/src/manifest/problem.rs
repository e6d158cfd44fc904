//! One problem found in a manifest, with where it is and what might fix it.

use std::fmt;

/// A path into the manifest, rendered as `nodes[2].params.factor`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location(Vec<Step>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

impl Location {
    /// The whole manifest.
    pub fn root() -> Self {
        Location(Vec::new())
    }

    /// This location, one key further in.
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Key(key.to_owned()));
        Location(steps)
    }

    /// The first key and the first index of the path (`nodes[2].id` gives `nodes` and 2):
    /// enough to put problems in document order.
    pub fn head(&self) -> (Option<&str>, Option<usize>) {
        let key = match self.0.first() {
            Some(Step::Key(k)) => Some(k.as_str()),
            _ => None,
        };
        let index = match self.0.get(1) {
            Some(Step::Index(i)) => Some(*i),
            _ => None,
        };
        (key, index)
    }

    /// This location, one array element further in.
    #[must_use]
    pub fn index(&self, i: usize) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Index(i));
        Location(steps)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("manifest");
        }
        for (i, step) in self.0.iter().enumerate() {
            match step {
                Step::Key(k) if i == 0 => write!(f, "{k}")?,
                Step::Key(k) => write!(f, ".{k}")?,
                Step::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// One thing wrong with a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where it is.
    pub location: Location,
    /// What is wrong.
    pub message: String,
    /// A likely fix, where one is known ("did you mean ...").
    pub help: Option<String>,
}

impl Problem {
    /// A problem without a suggestion.
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        Problem {
            location,
            message: message.into(),
            help: None,
        }
    }

    /// Adds a suggestion.
    #[must_use]
    pub fn with_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// The problem as it is printed under `error:`: `  - <location>: <message>`, then the help
    /// on its own line.
    pub fn render(&self) -> String {
        let (location, message) = (escape(&self.location.to_string()), escape(&self.message));
        match &self.help {
            Some(help) => format!("  - {location}: {message}\n      help: {}", escape(help)),
            None => format!("  - {location}: {message}"),
        }
    }
}

/// `text` with control characters escaped (`\n`, `\u{1b}`), so that a manifest's strings
/// cannot forge output lines or drive the terminal (DESIGN §8).
pub fn escape(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

/// The known names closest to `name`, best first, at most three: the basis of every "did you
/// mean" in the host.
pub fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let lower = name.to_lowercase();
    let mut scored: Vec<(f64, &str)> = known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(&lower, &k.to_lowercase()), k))
        .filter(|(score, _)| *score >= 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, k)| k).collect()
}

/// "did you mean "a" or "b"?", or nothing when no known name is close.
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let names = closest(name, known);
    if names.is_empty() {
        return None;
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    Some(format!("did you mean {}?", quoted.join(" or ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_problems_escape_control_characters() {
        let p = Problem::new(
            Location::root().key("nodes").index(0).key("node_type"),
            "unknown node type \"a\n  - fake: injected\u{1b}[2J\"",
        );
        let rendered = p.render();
        assert_eq!(rendered.lines().count(), 1, "{rendered}");
        assert!(
            rendered.contains("a\\n  - fake: injected\\u{1b}[2J"),
            "{rendered}"
        );
    }

    #[test]
    fn location_renders_keys_and_indexes() {
        let loc = Location::root()
            .key("nodes")
            .index(2)
            .key("params")
            .key("factor");
        assert_eq!(loc.to_string(), "nodes[2].params.factor");
        assert_eq!(Location::root().to_string(), "manifest");
    }

    #[test]
    fn closest_ranks_near_names_first_and_drops_far_ones() {
        let known = ["Multiply", "Add", "PassThrough", "Range"];
        assert_eq!(closest("Multipy", known), vec!["Multiply"]);
        assert_eq!(closest("passthru", known), vec!["PassThrough"]);
        assert!(closest("Zebra", known).is_empty());
    }
}
