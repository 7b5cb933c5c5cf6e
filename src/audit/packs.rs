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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_load_with_unique_ids_and_documentation() {
        let rules = all().unwrap();
        assert!(rules.len() >= 45, "{}", rules.len());
        for (i, r) in rules.iter().enumerate() {
            assert!(!rules[..i].iter().any(|o| o.id == r.id), "duplicate {}", r.id);
            assert!(!r.references.is_empty(), "{}: no reference", r.id);
            if r.origin == "threats" {
                assert!(
                    r.tags
                        .iter()
                        .any(|t| t.starts_with('T') && t[1..5].chars().all(|c| c.is_ascii_digit())),
                    "{}: no ATT&CK id",
                    r.id
                );
            } else {
                assert!(r.description.contains("Metric filter:"), "{}: no metric filter", r.id);
            }
        }
        assert_eq!(names(), ["cis", "threats"]);
        assert!(load("nope").is_err());
        let seed = rules.iter().find(|r| r.id == "iam-create-user").unwrap();
        let want: serde_json::Value = serde_json::from_str(
            r#"{"source":["aws.iam"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["iam.amazonaws.com"],"eventName":["CreateUser"]}}"#,
        )
        .unwrap();
        assert_eq!(serde_json::from_str::<serde_json::Value>(&seed.pattern_text).unwrap(), want);
        assert_eq!(seed.pattern.view, crate::query::View::Envelope);
    }

    #[test]
    fn cis_pack_covers_every_monitoring_control() {
        let cis = load("cis").unwrap();
        for n in 1..=15 {
            assert!(cis.iter().any(|r| r.id.starts_with(&format!("cis-4.{n}-"))), "CIS 4.{n}");
        }
    }

    fn check(rules: &[Rule]) {
        let mut problems = Vec::new();
        for r in rules {
            assert!(!r.examples_match.is_empty(), "{}: no positive example", r.id);
            assert!(!r.examples_no_match.is_empty(), "{}: no negative example", r.id);
            problems.extend(r.check_examples().into_iter().map(|p| format!("{}: {p}", r.id)));
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn every_rule_has_examples_that_behave() {
        check(&all().unwrap());
    }
}
