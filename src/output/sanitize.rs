//! Making attacker-controlled text safe at the edges: terminals and spreadsheets.
//!
//! CloudTrail fields such as userAgent, requestParameters and error messages are written by
//! whoever calls the API. Nothing from them may reach a terminal as an escape sequence (ESC,
//! CSI, OSC, BEL, backspace, carriage return, bidi overrides) or a spreadsheet as a formula.
//! Sanitising happens at output time only; the data and JSON output stay exact.

use std::borrow::Cow;

/// Characters that reorder text on screen (Trojan Source, CVE-2021-42574).
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi(c)
}

/// For terminals and plain-text output: every control or bidi character becomes `\u{..}`.
#[must_use]
pub fn terminal(s: &str) -> Cow<'_, str> {
    escape(s, is_unsafe)
}

/// For CSV cells: like [`terminal`] but keeping newline and tab, which CSV quoting carries.
#[must_use]
pub fn csv_text(s: &str) -> Cow<'_, str> {
    escape(s, |c| is_unsafe(c) && c != '\n' && c != '\t')
}

fn escape(s: &str, bad: impl Fn(char) -> bool) -> Cow<'_, str> {
    // Printable ASCII, the common case, is safe for every caller: checked a byte at a time.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) || !s.chars().any(&bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// OWASP CSV-injection guidance: a cell starting with `=`, `+`, `-`, `@`, tab or carriage
/// return is prefixed with `'` so spreadsheets show it as text. A lone `-`, `+`, `=` or `@` (as
/// in "no actor") cannot be a formula and is left alone.
#[must_use]
pub fn csv_formula(s: &str) -> Cow<'_, str> {
    if s.starts_with(['\t', '\r']) || (s.len() > 1 && s.starts_with(['=', '+', '-', '@'])) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes() {
        assert_eq!(terminal("plain ünïcode ✓"), "plain ünïcode ✓");
        assert_eq!(terminal("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(terminal("\u{1b}]8;;http://x\u{7}link"), "\\u{1b}]8;;http://x\\u{7}link");
        assert_eq!(terminal("x\u{8}\r\n\t"), "x\\u{8}\\u{d}\\u{a}\\u{9}");
        assert_eq!(terminal("abc\u{202e}cba"), "abc\\u{202e}cba");
        assert_eq!(terminal("\u{9b}2J"), "\\u{9b}2J");
    }

    #[test]
    fn csv_cells() {
        assert_eq!(csv_formula("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for s in ["+1", "-2", "@SUM(1)", "\tx", "\rx"] {
            assert!(csv_formula(s).starts_with('\''), "{s}");
        }
        assert_eq!(csv_formula("CreateUser"), "CreateUser");
        assert_eq!(csv_formula("-"), "-");
        assert_eq!(csv_formula("-1+2"), "'-1+2");
        assert_eq!(csv_text("a\nb\u{1b}c"), "a\nb\\u{1b}c");
    }
}
