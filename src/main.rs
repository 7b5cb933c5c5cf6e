use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use trailscan::{cli::Cli, engine::Interrupted, messages};

/// Set by the first Ctrl-C: the scan stops and temporary files are removed.
static STOP: AtomicBool = AtomicBool::new(false);

fn has<E: std::error::Error + 'static>(err: &anyhow::Error, test: impl Fn(&E) -> bool) -> bool {
    err.chain().any(|c| c.downcast_ref::<E>().is_some_and(&test))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            // A second Ctrl-C: leave now.
            std::process::exit(130);
        }
    });
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = trailscan::run(&cli, &mut out, &STOP).and_then(|o| {
        out.flush()?;
        Ok(o)
    });
    match result {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) if has::<std::io::Error>(&e, |e| e.kind() == std::io::ErrorKind::BrokenPipe) => {
            ExitCode::SUCCESS
        }
        Err(e) if has::<Interrupted>(&e, |_| true) => {
            messages::error("interrupted");
            ExitCode::from(130)
        }
        Err(e) => {
            messages::error(&format!("{e:#}"));
            ExitCode::from(2)
        }
    }
}
