//! The error type for pattern text that cannot be used.

/// Why a pattern was rejected.
///
/// Display is either `"<path>: <reason>"` (the pattern is JSON but not a valid
/// event pattern; `<path>` is the dotted field path, `(root)` for the pattern
/// itself) or `"JSON syntax error at line L, column C: <reason>"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct PatternError {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Syntax { line: usize, column: usize, reason: String },
    Invalid { path: String, reason: String },
}

impl PatternError {
    pub(crate) fn syntax(line: usize, column: usize, reason: &str) -> Self {
        PatternError { kind: Kind::Syntax { line, column, reason: reason.to_string() } }
    }

    pub(crate) fn invalid(path: &str, reason: impl Into<String>) -> Self {
        PatternError { kind: Kind::Invalid { path: path.to_string(), reason: reason.into() } }
    }

    fn render(&self) -> String {
        match &self.kind {
            Kind::Syntax { line, column, reason } => {
                format!("JSON syntax error at line {line}, column {column}: {reason}")
            }
            Kind::Invalid { path, reason } => {
                let p = if path.is_empty() { "(root)" } else { path };
                format!("{p}: {reason}")
            }
        }
    }
}
