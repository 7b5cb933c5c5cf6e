//! Every Stratus Red Team detonation log in fixtures/stratus/ raises the finding of its
//! technique, through the real scan path (query, prefilter, engine) and the auditor.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use trailscan::audit::{self, Auditor};
use trailscan::engine::{self, ScanConfig};
use trailscan::query::{Filters, Query};
use trailscan::source::PruneRules;

/// Rule ids raised by one file.
fn fired(file: &str) -> Vec<String> {
    let rules = audit::packs::all().unwrap();
    let texts: Vec<String> = rules.iter().map(|r| r.pattern_text.clone()).collect();
    let query = Query::new(&Filters::default(), &texts, true).unwrap();
    let cfg = ScanConfig {
        paths: vec![PathBuf::from("fixtures/stratus").join(file)],
        prune: PruneRules::default(),
        threads: 1,
        max_file_size: 1 << 30,
        inflate_only: false,
        progress: false,
        validate_hits: true,
        hit_times: true,
        extract: None,
        gate: None,
        stamp_files: false,
    };
    let mut auditor = Auditor::new(&rules);
    let mut ids = Vec::new();
    engine::scan(&cfg, &query, &AtomicBool::new(false), |_, report| {
        assert!(!report.failed, "{file}: {:?}", report.messages);
        for (_, _, raw) in report.hits {
            for f in auditor.record(&raw).unwrap() {
                ids.push(rules[f.rule].id.clone());
            }
        }
        Ok(())
    })
    .unwrap();
    ids.extend(auditor.finish().into_iter().map(|f| rules[f.rule].id.clone()));
    ids.sort();
    ids.dedup();
    ids
}

const TECHNIQUES: [(&str, &str); 35] = [
    ("aws.credential-access.ec2-get-password-data.json", "ec2-get-password-data"),
    ("aws.credential-access.ec2-steal-instance-credentials.json", "ssm-send-command"),
    (
        "aws.credential-access.secretsmanager-batch-retrieve-secrets.json",
        "secretsmanager-batch-read",
    ),
    ("aws.credential-access.secretsmanager-retrieve-secrets.json", "secretsmanager-bulk-read"),
    ("aws.credential-access.ssm-retrieve-securestring-parameters.json", "ssm-parameters-bulk-read"),
    ("aws.defense-evasion.cloudtrail-delete.json", "cloudtrail-delete-trail"),
    ("aws.defense-evasion.cloudtrail-event-selectors.json", "cloudtrail-management-events-off"),
    ("aws.defense-evasion.cloudtrail-stop.json", "cloudtrail-stop-logging"),
    ("aws.defense-evasion.dns-delete-logs.json", "route53-resolver-query-logging-deleted"),
    ("aws.defense-evasion.organizations-leave.json", "organizations-leave"),
    ("aws.defense-evasion.vpc-remove-flow-logs.json", "vpc-flow-logs-deleted"),
    ("aws.discovery.ec2-download-user-data.json", "ec2-user-data-read"),
    ("aws.execution.ec2-launch-unusual-instances.json", "ec2-unusual-instance-type"),
    ("aws.execution.ec2-user-data.json", "ec2-user-data-modified"),
    ("aws.execution.ssm-send-command.json", "ssm-send-command"),
    ("aws.execution.ssm-start-session.json", "ssm-start-session"),
    (
        "aws.exfiltration.ec2-security-group-open-port-22-ingress.json",
        "ec2-security-group-open-to-world",
    ),
    ("aws.exfiltration.ec2-share-ami.json", "ec2-ami-shared"),
    ("aws.exfiltration.ec2-share-ebs-snapshot.json", "ec2-snapshot-shared"),
    ("aws.exfiltration.rds-share-snapshot.json", "rds-snapshot-shared"),
    ("aws.impact.bedrock-invoke-model.json", "bedrock-invoke-model"),
    ("aws.initial-access.console-login-without-mfa.json", "console-login-without-mfa"),
    ("aws.lateral-movement.ec2-instance-connect.json", "ec2-instance-connect-ssh-key"),
    (
        "aws.lateral-movement.ec2-serial-console-send-ssh-public-key.json",
        "ec2-serial-console-ssh-key",
    ),
    ("aws.persistence.iam-backdoor-role.json", "iam-role-trust-policy-updated"),
    ("aws.persistence.iam-backdoor-user.json", "iam-access-key-for-other-user"),
    ("aws.persistence.iam-create-admin-user.json", "iam-admin-policy-attached"),
    ("aws.persistence.iam-create-backdoor-role.json", "iam-admin-policy-attached"),
    ("aws.persistence.iam-create-user-login-profile.json", "iam-login-profile-for-other-user"),
    ("aws.persistence.lambda-backdoor-function.json", "lambda-public-invoke-permission"),
    ("aws.persistence.lambda-layer-extension.json", "lambda-layer-added"),
    ("aws.persistence.lambda-overwrite-code.json", "lambda-code-updated"),
    (
        "aws.persistence.rolesanywhere-create-trust-anchor.json",
        "rolesanywhere-trust-anchor-created",
    ),
    ("aws.persistence.sts-federation-token.json", "sts-federation-token"),
    (
        "aws.privilege-escalation.iam-update-user-login-profile.json",
        "iam-login-profile-for-other-user",
    ),
];

#[test]
fn every_stratus_technique_raises_its_rule() {
    let on_disk = std::fs::read_dir("fixtures/stratus").unwrap().count();
    assert_eq!(on_disk, TECHNIQUES.len(), "a technique file has no expected rule");
    let mut missing = Vec::new();
    for (file, rule) in TECHNIQUES {
        let ids = fired(file);
        if !ids.iter().any(|i| i == rule) {
            missing.push(format!("{file}: expected {rule}, got {ids:?}"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn extra_seed_rule_fires_on_create_user() {
    assert!(
        fired("aws.persistence.iam-create-admin-user.json")
            .contains(&"iam-create-user".to_string())
    );
    assert!(
        !fired("aws.persistence.iam-backdoor-user.json").contains(&"iam-create-user".to_string())
    );
}

#[test]
fn stratus_techniques_raise_cis_rules() {
    for (file, rule) in [
        ("aws.credential-access.ec2-get-password-data.json", "cis-4.1-unauthorized-api-calls"),
        ("aws.defense-evasion.organizations-leave.json", "cis-4.1-unauthorized-api-calls"),
        ("aws.initial-access.console-login-without-mfa.json", "cis-4.2-console-login-without-mfa"),
    ] {
        assert!(fired(file).iter().any(|i| i == rule), "{file}: {rule}");
    }
}
