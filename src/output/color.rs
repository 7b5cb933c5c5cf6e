//! Colour on terminals only: `--color auto|always|never`, and `NO_COLOR` (<https://no-color.org>)
//! respected under `auto`. Decided once per run; colour is added at the very edge, after
//! sanitising, so data can never smuggle escape sequences through it.

use std::sync::atomic::{AtomicBool, Ordering};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether to colour, for a choice, a `NO_COLOR` value and whether stdout is a terminal.
#[must_use]
pub fn resolve(choice: ColorChoice, no_color: Option<&str>, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && no_color.is_none_or(str::is_empty),
    }
}

/// Sets the decision for this run.
pub fn set(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Whether output is coloured.
#[must_use]
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Failures, high severities.
    Red,
    /// Medium severities.
    Yellow,
    /// Low severities, informational.
    Cyan,
    /// Headings.
    Bold,
}

/// `text` (already sanitised) wrapped in the style's SGR codes when colour is on.
#[must_use]
pub fn paint(text: &str, style: Style) -> String {
    if !enabled() {
        return text.to_string();
    }
    let code = match style {
        Style::Red => "31",
        Style::Yellow => "33",
        Style::Cyan => "36",
        Style::Bold => "1",
    };
    format!("\u{1b}[{code}m{text}\u{1b}[0m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices() {
        assert!(resolve(ColorChoice::Auto, None, true));
        assert!(!resolve(ColorChoice::Auto, None, false));
        assert!(!resolve(ColorChoice::Auto, Some("1"), true));
        assert!(resolve(ColorChoice::Auto, Some(""), true));
        assert!(resolve(ColorChoice::Always, Some("1"), false));
        assert!(!resolve(ColorChoice::Never, None, true));
    }
}
