//! Running the binary with a clean environment, from the crate root.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The crate root (where `fixtures/` is).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `trailscan ARGS` run in the crate root, with no colour or terminal hints from outside.
pub fn trailscan(args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("trailscan").unwrap();
    cmd.current_dir(root());
    for v in ["NO_COLOR", "COLUMNS", "TERM", "CLICOLOR_FORCE"] {
        cmd.env_remove(v);
    }
    // No archive index from the user's cache: the accounting in snapshots is a full scan's.
    cmd.env("TRAILSCAN_INDEX_DIR", root().join("target/no-index-in-tests"));
    cmd.args(args);
    cmd
}

/// The same as a plain `std::process::Command`, for tests that manage the child themselves.
pub fn std_command(args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("trailscan"));
    cmd.current_dir(root());
    for v in ["NO_COLOR", "COLUMNS", "TERM", "CLICOLOR_FORCE"] {
        cmd.env_remove(v);
    }
    // No archive index from the user's cache: the accounting in snapshots is a full scan's.
    cmd.env("TRAILSCAN_INDEX_DIR", root().join("target/no-index-in-tests"));
    cmd.args(args);
    cmd
}

/// Runs and returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = trailscan(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `--format jsonl` output parsed into values.
pub fn jsonl(stdout: &str) -> Vec<serde_json::Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The count printed by `--count`.
pub fn count(args: &[&str]) -> u64 {
    let mut a = args.to_vec();
    a.push("--count");
    let (code, out, err) = run(&a);
    assert!(code == 0 || code == 1, "{args:?}: exit {code}: {err}");
    out.trim().parse().unwrap()
}

/// The fixture manifest: path -> (kind, records, CreateUser count).
pub fn manifest() -> Vec<(String, String, Option<u64>, Option<u64>)> {
    let text = std::fs::read_to_string(root().join("fixtures/manifest.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, f)| {
            (
                k.clone(),
                f["kind"].as_str().unwrap().to_string(),
                f["records"].as_u64(),
                f["create_user"].as_u64(),
            )
        })
        .collect()
}

/// Copies `src` (a fixture file) to `dir/name`.
pub fn copy_fixture(src: &str, dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    if let Some(p) = to.parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    std::fs::copy(root().join(src), &to).unwrap();
    to
}
