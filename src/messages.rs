//! Diagnostics on stderr: one `trailscan: ` line each, sanitised for the terminal (file names
//! and record text can hold escape sequences too).

use crate::output::sanitize;
use std::io::Write;

/// Prints one diagnostic line.
pub fn error(text: &str) {
    if MUTED.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "trailscan: {}", sanitize::terminal(text));
}

static MUTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Runs `f` with diagnostics not printed: for a second pass over files whose problems the
/// first pass already named (`report`), which compares the two passes' accounting instead.
pub fn muted<R>(f: impl FnOnce() -> R) -> R {
    use std::sync::atomic::Ordering;
    MUTED.store(true, Ordering::Relaxed);
    let r = f();
    MUTED.store(false, Ordering::Relaxed);
    r
}
