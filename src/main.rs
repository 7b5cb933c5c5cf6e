use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use trailscan::{cli::Cli, messages};

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stop = AtomicBool::new(false);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = trailscan::run(&cli, &mut out, &stop).and_then(|o| {
        out.flush()?;
        Ok(o)
    });
    match result {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            messages::error(&format!("{e:#}"));
            ExitCode::from(2)
        }
    }
}
