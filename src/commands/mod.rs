//! One module per subcommand.

pub mod audit;
pub mod export;
pub mod index;
pub mod report;
pub mod rules;
pub mod search;
pub mod sql;
pub mod summary;
pub mod test_pattern;
pub mod timeline;
pub mod trace;
pub mod verify;

/// How a command ended, mapped to grep-like exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Something matched (0).
    Found,
    /// Nothing matched (1).
    NotFound,
    /// An error, even if something matched (2).
    Error,
    /// `audit`: no finding at or above `--fail-on`; `rules validate`: valid (0).
    Clean,
    /// `audit`: findings at or above `--fail-on` (1).
    Findings,
}

impl Outcome {
    /// Found, not found, or error when anything could not be read.
    #[must_use]
    pub fn of(found: bool, errored: bool) -> Outcome {
        match (found, errored) {
            (_, true) => Outcome::Error,
            (true, false) => Outcome::Found,
            (false, false) => Outcome::NotFound,
        }
    }

    /// The process exit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Outcome::Found | Outcome::Clean => 0,
            Outcome::NotFound | Outcome::Findings => 1,
            Outcome::Error => 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(Outcome::of(true, false).code(), 0);
        assert_eq!(Outcome::of(false, false).code(), 1);
        assert_eq!(Outcome::of(true, true).code(), 2);
        assert_eq!(Outcome::of(false, true).code(), 2);
    }
}
