//! How each engine spells what the translator needs: literals, LIKE, regular expressions,
//! casts, JSON, arrays of structs and address types.

/// The SQL dialect to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    /// DuckDB (1.3 or later; the `inet` extension for IPv6 and IPv4-mapped `cidr` tests).
    Duckdb,
    /// Amazon Athena, engine version 3.
    Athena,
    /// Trino.
    Trino,
    /// Apache Spark SQL (3.3 or later).
    Spark,
}

/// The escape character of every LIKE pattern the translator writes.
pub(crate) const LIKE_ESCAPE: char = '!';

impl Dialect {
    /// The name, as on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Duckdb => "duckdb",
            Dialect::Athena => "athena",
            Dialect::Trino => "trino",
            Dialect::Spark => "spark",
        }
    }

    /// Athena and Trino share their SQL (Athena engine 3 is Trino).
    pub(crate) fn is_trino(self) -> bool {
        matches!(self, Dialect::Athena | Dialect::Trino)
    }

    /// A string literal. Standard SQL doubles quotes; Spark reads backslash escapes.
    pub(crate) fn lit(self, s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('\'');
        for c in s.chars() {
            match (self, c) {
                (Dialect::Spark, '\\') => out.push_str("\\\\"),
                (Dialect::Spark, '\'') => out.push_str("\\'"),
                (_, '\'') => out.push_str("''"),
                (_, c) => out.push(c),
            }
        }
        out.push('\'');
        out
    }

    /// `expr LIKE pattern ESCAPE '!'`, where `pattern` is already escaped ([`like_escape`]).
    pub(crate) fn like(self, expr: &str, pattern: &str) -> String {
        format!("{expr} LIKE {} ESCAPE '{LIKE_ESCAPE}'", self.lit(pattern))
    }

    /// Does the regular expression match somewhere in `expr`? (Anchors are the caller's:
    /// `\A` and `\z`, which RE2, Java and Joni read alike.)
    pub(crate) fn regex(self, expr: &str, re: &str) -> String {
        match self {
            Dialect::Duckdb => format!("regexp_matches({expr}, {})", self.lit(re)),
            Dialect::Athena | Dialect::Trino => format!("regexp_like({expr}, {})", self.lit(re)),
            Dialect::Spark => format!("{expr} RLIKE {}", self.lit(re)),
        }
    }

    /// A number's text to DOUBLE, NULL when it is not one.
    pub(crate) fn to_double(self, expr: &str) -> String {
        format!("TRY_CAST({expr} AS DOUBLE)")
    }

    /// A text to BIGINT, NULL when it is not one.
    pub(crate) fn to_bigint(self, expr: &str) -> String {
        format!("TRY_CAST({expr} AS BIGINT)")
    }

    /// The `n`th (1-based) `.`-separated part of `expr`.
    pub(crate) fn split_part(self, expr: &str, n: usize) -> String {
        format!("split_part({expr}, '.', {n})")
    }

    /// Text concatenation.
    pub(crate) fn concat(self, a: &str, b: &str) -> String {
        format!("{a} || {b}")
    }

    /// Is some element of the array-of-structs `arr` such that `pred` (over the element
    /// variable `r`) holds? Never NULL.
    pub(crate) fn any_element(self, arr: &str, pred: &str) -> String {
        match self {
            Dialect::Duckdb => {
                format!("EXISTS (SELECT 1 FROM (SELECT UNNEST({arr}) AS r) AS e WHERE {pred})")
            }
            Dialect::Athena | Dialect::Trino => {
                format!("COALESCE(any_match({arr}, r -> {pred}), FALSE)")
            }
            Dialect::Spark => format!("COALESCE(exists({arr}, r -> {pred}), FALSE)"),
        }
    }

    /// Can this dialect test JSON text exactly, leaf by leaf (event-ruler's flattening)?
    pub(crate) fn json_leaves(self) -> bool {
        !matches!(self, Dialect::Spark)
    }
}

/// Escapes `%`, `_` and the escape character for a LIKE pattern.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_') || c == LIKE_ESCAPE {
            out.push(LIKE_ESCAPE);
        }
        out.push(c);
    }
    out
}

/// Escapes a literal for a regular expression (RE2, Java and Joni alike).
pub(crate) fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.^$|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_escapes() {
        assert_eq!(Dialect::Duckdb.lit("it's \\"), "'it''s \\'");
        assert_eq!(Dialect::Spark.lit("it's \\"), "'it\\'s \\\\'");
        assert_eq!(like_escape("50%_off!"), "50!%!_off!!");
        assert_eq!(regex_escape("a.b*c"), "a\\.b\\*c");
    }
}
