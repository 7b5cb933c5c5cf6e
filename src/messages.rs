//! Diagnostics on stderr: one `trailscan: ` line each, sanitised for the terminal (file names
//! and record text can hold escape sequences too).

use crate::output::sanitize;
use std::io::Write;

/// Prints one diagnostic line.
pub fn error(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "trailscan: {}", sanitize::terminal(text));
}
