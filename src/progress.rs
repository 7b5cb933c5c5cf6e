//! A progress bar on stderr for scans longer than a moment, when stderr is a terminal.
//!
//! The bar counts compressed bytes and files done. The total is not known up front (the walk
//! is lazy), so a background thread walks the same paths with the same pruning and sums the
//! file sizes; once it is done the bar gains a length, a percentage and an ETA. Nothing is drawn
//! for the first half second, so quick runs print nothing extra.

use crate::source::{Input, PruneRules, WalkItem, Walker};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const DELAY: Duration = Duration::from_millis(500);

/// The bar of one scan (inert when disabled).
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    shown: bool,
    files: u64,
    cancel: Arc<AtomicBool>,
}

impl Progress {
    /// A bar for a scan of `paths`, or an inert one when `enabled` is false.
    #[must_use]
    pub fn new(enabled: bool, paths: &[PathBuf], rules: &PruneRules) -> Progress {
        let cancel = Arc::new(AtomicBool::new(false));
        let mut p = Progress { bar: None, started: Instant::now(), shown: false, files: 0, cancel };
        if !enabled {
            return p;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {wide_bar} {percent}% ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let (total_bar, cancel, paths, rules) =
            (bar.clone(), p.cancel.clone(), paths.to_vec(), rules.clone());
        std::thread::spawn(move || {
            let mut total = 0u64;
            for item in Walker::new(paths, rules) {
                if cancel.load(Ordering::Relaxed) {
                    return;
                }
                if let WalkItem::File(Input::Path(path), _) = item {
                    total += std::fs::metadata(&path).map_or(0, |m| m.len());
                }
            }
            total_bar.set_length(total);
        });
        p.bar = Some(bar);
        p
    }

    /// One file done, of `bytes` on disk.
    pub fn file_done(&mut self, bytes: u64) {
        let Some(bar) = &self.bar else { return };
        self.files += 1;
        bar.inc(bytes);
        bar.set_message(format!("{} files", self.files));
        if !self.shown && self.started.elapsed() >= DELAY {
            self.shown = true;
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(120));
        }
    }

    /// Runs `f` (which prints to stderr) with the bar out of the way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) if self.shown => bar.suspend(f),
            _ => f(),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
