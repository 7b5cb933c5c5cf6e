//! `--help` of every command, as a snapshot: wording changes show up in review.

use crate::util::run;

#[test]
fn help_snapshots() {
    for cmd in [
        &["--help"][..],
        &["search", "--help"],
        &["summary", "--help"],
        &["audit", "--help"],
        &["test-pattern", "--help"],
        &["rules", "--help"],
        &["verify", "--help"],
        &["trace", "--help"],
        &["timeline", "--help"],
        &["search", "-h"],
    ] {
        let (code, out, _) = run(cmd);
        assert_eq!(code, 0);
        let name = cmd.join("_").replace('-', "");
        insta::assert_snapshot!(name, out);
    }
}

#[test]
fn help_completions_and_man() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, _) = run(&["completions", shell]);
        assert_eq!(code, 0);
        assert!(out.contains("trailscan") && out.contains("search"), "{shell}");
    }
    let (code, out, _) = run(&["man"]);
    assert_eq!(code, 0);
    assert!(out.contains(".TH trailscan 1"));
}
