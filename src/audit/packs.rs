//! The built-in rule packs, compiled into the binary from `rules/*.yaml`.

use super::rule::{Rule, parse_text};

/// (pack name, what it covers, rule file text).
pub const PACKS: [(&str, &str, &str); 2] = [
    (
        "cis",
        "CIS AWS Foundations Benchmark monitoring controls (section 4 of v3.0.0)",
        include_str!("../../rules/cis.yaml"),
    ),
    (
        "threats",
        "attacker techniques seen in CloudTrail (MITRE ATT&CK, Stratus Red Team)",
        include_str!("../../rules/threats.yaml"),
    ),
];

/// The names of the built-in packs.
#[must_use]
pub fn names() -> Vec<&'static str> {
    PACKS.iter().map(|p| p.0).collect()
}

/// The rules of one built-in pack (their `origin` is the pack name).
pub fn load(name: &str) -> anyhow::Result<Vec<Rule>> {
    let Some((_, _, text)) = PACKS.iter().find(|p| p.0 == name) else {
        anyhow::bail!("unknown pack {name:?} (built-in packs: {})", names().join(", "));
    };
    parse_text(text, name, false)
        .map_err(|e| anyhow::anyhow!("built-in pack {name} is invalid:\n{}", e.join("\n")))
}

/// Every built-in rule, pack by pack.
pub fn all() -> anyhow::Result<Vec<Rule>> {
    let mut out = Vec::new();
    for (name, _, _) in PACKS {
        out.extend(load(name)?);
    }
    Ok(out)
}
