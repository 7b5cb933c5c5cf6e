//! The catalogue of security-relevant actions and how each reads in plain words.
//!
//! Each [`Action`] maps an `eventName` (and its `eventSource`) to a verb, a noun, the
//! `requestParameters`/`responseElements` paths of the object acted on and, for actions with a
//! second party ("attached policy X **to user** Y"), the path of that target. Records that are
//! not in the table but were made by the root user (and are not read-only) are notable too.

use super::time_text;
use crate::record::{actor, time};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A verb in the past tense ("created") and the bare infinitive ("create", after "tried to").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verb {
    /// "created".
    pub past: &'static str,
    /// "create".
    pub base: &'static str,
}

const fn verb(past: &'static str, base: &'static str) -> Verb {
    Verb { past, base }
}

const CREATE: Verb = verb("created", "create");
const DELETE: Verb = verb("deleted", "delete");
const UPDATE: Verb = verb("updated", "update");
const CHANGE: Verb = verb("changed", "change");
const ATTACH: Verb = verb("attached", "attach");
const DETACH: Verb = verb("detached", "detach");
const PUT: Verb = verb("put", "put");
const ADD: Verb = verb("added", "add");
const REMOVE: Verb = verb("removed", "remove");
const ENABLE: Verb = verb("enabled", "enable");
const DISABLE: Verb = verb("disabled", "disable");
const DEACTIVATE: Verb = verb("deactivated", "deactivate");
const STOP: Verb = verb("stopped", "stop");
const START: Verb = verb("started", "start");
const SCHEDULE_DELETION: Verb = verb("scheduled deletion of", "schedule deletion of");
const OPEN: Verb = verb("opened", "open");
const REVOKE: Verb = verb("revoked", "revoke");
const REPLACE: Verb = verb("replaced", "replace");
const LEAVE: Verb = verb("left", "leave");
const INVITE: Verb = verb("invited", "invite");
const SIGN_IN: Verb = verb("signed in to", "sign in to");

/// What kind of change an action is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Users, groups, roles, policies.
    Iam,
    /// Passwords and access keys.
    Credentials,
    /// MFA devices.
    Mfa,
    /// CloudTrail and other logging.
    Logging,
    /// Console sign-ins.
    ConsoleLogin,
    /// Anything else done as the root user.
    Root,
    /// KMS keys.
    Kms,
    /// Security groups and network ACLs.
    Network,
    /// AWS Organizations.
    Organizations,
}

/// One catalogue row.
#[derive(Debug, Clone, Copy)]
pub struct Action {
    /// `eventSource`.
    pub source: &'static str,
    /// `eventName`.
    pub event: &'static str,
    /// What kind of change.
    pub category: Category,
    /// The verb.
    pub verb: Verb,
    /// What is acted on ("IAM user").
    pub noun: &'static str,
    /// Paths of the object's name or id, the first present wins.
    pub object: &'static [&'static str],
    /// A second party: the preposition phrase ("to user") and its paths.
    pub target: Option<(&'static str, &'static [&'static str])>,
}

const IAM: &str = "iam.amazonaws.com";
const TRAIL: &str = "cloudtrail.amazonaws.com";
const KMS: &str = "kms.amazonaws.com";
const EC2: &str = "ec2.amazonaws.com";
const ORGS: &str = "organizations.amazonaws.com";

const USER: &[&str] = &["requestParameters.userName"];
const GROUP: &[&str] = &["requestParameters.groupName"];
const ROLE: &[&str] = &["requestParameters.roleName"];
const POLICY_ARN: &[&str] = &["requestParameters.policyArn"];
const POLICY_NAME: &[&str] = &["requestParameters.policyName"];
const TRAIL_NAME: &[&str] = &["requestParameters.name", "requestParameters.trailName"];
const KEY: &[&str] = &["requestParameters.keyId"];
const SG: &[&str] = &[
    "requestParameters.groupId",
    "requestParameters.groupName",
    "requestParameters.ModifySecurityGroupRulesRequest.GroupId",
];
const NACL: &[&str] =
    &["requestParameters.networkAclId", "responseElements.networkAcl.networkAclId"];
const NONE: &[&str] = &[];

const fn a(
    source: &'static str,
    event: &'static str,
    category: Category,
    verb: Verb,
    noun: &'static str,
    object: &'static [&'static str],
) -> Action {
    Action { source, event, category, verb, noun, object, target: None }
}

const fn at(
    source: &'static str,
    event: &'static str,
    category: Category,
    verb: Verb,
    noun: &'static str,
    object: &'static [&'static str],
    target: (&'static str, &'static [&'static str]),
) -> Action {
    Action { source, event, category, verb, noun, object, target: Some(target) }
}

use Category::{ConsoleLogin, Credentials, Iam, Kms, Logging, Mfa, Network, Organizations};

/// The catalogue.
pub const CATALOGUE: &[Action] = &[
    // IAM principals and policies.
    a(IAM, "CreateUser", Iam, CREATE, "IAM user", USER),
    a(IAM, "DeleteUser", Iam, DELETE, "IAM user", USER),
    a(IAM, "CreateGroup", Iam, CREATE, "IAM group", GROUP),
    a(IAM, "DeleteGroup", Iam, DELETE, "IAM group", GROUP),
    at(IAM, "AddUserToGroup", Iam, ADD, "user", USER, ("to group", GROUP)),
    at(IAM, "RemoveUserFromGroup", Iam, REMOVE, "user", USER, ("from group", GROUP)),
    a(IAM, "CreateRole", Iam, CREATE, "IAM role", ROLE),
    a(IAM, "DeleteRole", Iam, DELETE, "IAM role", ROLE),
    a(IAM, "UpdateAssumeRolePolicy", Iam, UPDATE, "trust policy of role", ROLE),
    a(IAM, "CreatePolicy", Iam, CREATE, "IAM policy", POLICY_NAME),
    a(IAM, "DeletePolicy", Iam, DELETE, "IAM policy", POLICY_ARN),
    a(IAM, "CreatePolicyVersion", Iam, CREATE, "a new version of policy", POLICY_ARN),
    a(IAM, "SetDefaultPolicyVersion", Iam, CHANGE, "the default version of policy", POLICY_ARN),
    at(IAM, "AttachUserPolicy", Iam, ATTACH, "policy", POLICY_ARN, ("to user", USER)),
    at(IAM, "AttachGroupPolicy", Iam, ATTACH, "policy", POLICY_ARN, ("to group", GROUP)),
    at(IAM, "AttachRolePolicy", Iam, ATTACH, "policy", POLICY_ARN, ("to role", ROLE)),
    at(IAM, "DetachUserPolicy", Iam, DETACH, "policy", POLICY_ARN, ("from user", USER)),
    at(IAM, "DetachGroupPolicy", Iam, DETACH, "policy", POLICY_ARN, ("from group", GROUP)),
    at(IAM, "DetachRolePolicy", Iam, DETACH, "policy", POLICY_ARN, ("from role", ROLE)),
    at(IAM, "PutUserPolicy", Iam, PUT, "inline policy", POLICY_NAME, ("on user", USER)),
    at(IAM, "PutGroupPolicy", Iam, PUT, "inline policy", POLICY_NAME, ("on group", GROUP)),
    at(IAM, "PutRolePolicy", Iam, PUT, "inline policy", POLICY_NAME, ("on role", ROLE)),
    at(IAM, "DeleteUserPolicy", Iam, DELETE, "inline policy", POLICY_NAME, ("of user", USER)),
    at(IAM, "DeleteGroupPolicy", Iam, DELETE, "inline policy", POLICY_NAME, ("of group", GROUP)),
    at(IAM, "DeleteRolePolicy", Iam, DELETE, "inline policy", POLICY_NAME, ("of role", ROLE)),
    // Credentials.
    a(IAM, "CreateLoginProfile", Credentials, CREATE, "a console password for user", USER),
    a(IAM, "UpdateLoginProfile", Credentials, CHANGE, "the console password of user", USER),
    a(IAM, "DeleteLoginProfile", Credentials, DELETE, "the console password of user", USER),
    at(
        IAM,
        "CreateAccessKey",
        Credentials,
        CREATE,
        "access key",
        &["responseElements.accessKey.accessKeyId"],
        ("for user", &["requestParameters.userName", "responseElements.accessKey.userName"]),
    ),
    at(
        IAM,
        "UpdateAccessKey",
        Credentials,
        UPDATE,
        "access key",
        &["requestParameters.accessKeyId"],
        ("of user", USER),
    ),
    at(
        IAM,
        "DeleteAccessKey",
        Credentials,
        DELETE,
        "access key",
        &["requestParameters.accessKeyId"],
        ("of user", USER),
    ),
    // MFA.
    a(
        IAM,
        "CreateVirtualMFADevice",
        Mfa,
        CREATE,
        "virtual MFA device",
        &["requestParameters.virtualMFADeviceName"],
    ),
    a(
        IAM,
        "DeleteVirtualMFADevice",
        Mfa,
        DELETE,
        "virtual MFA device",
        &["requestParameters.serialNumber"],
    ),
    at(
        IAM,
        "EnableMFADevice",
        Mfa,
        ENABLE,
        "MFA device",
        &["requestParameters.serialNumber"],
        ("for user", USER),
    ),
    at(
        IAM,
        "DeactivateMFADevice",
        Mfa,
        DEACTIVATE,
        "MFA device",
        &["requestParameters.serialNumber"],
        ("of user", USER),
    ),
    at(
        IAM,
        "ResyncMFADevice",
        Mfa,
        verb("resynced", "resync"),
        "MFA device",
        &["requestParameters.serialNumber"],
        ("of user", USER),
    ),
    // Logging.
    a(TRAIL, "StopLogging", Logging, STOP, "logging of trail", TRAIL_NAME),
    a(TRAIL, "StartLogging", Logging, START, "logging of trail", TRAIL_NAME),
    a(TRAIL, "CreateTrail", Logging, CREATE, "trail", TRAIL_NAME),
    a(TRAIL, "DeleteTrail", Logging, DELETE, "trail", TRAIL_NAME),
    a(TRAIL, "UpdateTrail", Logging, UPDATE, "trail", TRAIL_NAME),
    a(TRAIL, "PutEventSelectors", Logging, CHANGE, "the event selectors of trail", TRAIL_NAME),
    a(TRAIL, "PutInsightSelectors", Logging, CHANGE, "the Insights selectors of trail", TRAIL_NAME),
    a(
        EC2,
        "DeleteFlowLogs",
        Logging,
        DELETE,
        "VPC flow logs",
        &[
            "requestParameters.DeleteFlowLogsRequest.FlowLogId.content",
            "requestParameters.DeleteFlowLogsRequest.FlowLogId",
        ],
    ),
    a(
        "config.amazonaws.com",
        "StopConfigurationRecorder",
        Logging,
        STOP,
        "AWS Config recorder",
        &["requestParameters.configurationRecorderName"],
    ),
    a(
        "guardduty.amazonaws.com",
        "DeleteDetector",
        Logging,
        DELETE,
        "GuardDuty detector",
        &["requestParameters.detectorId"],
    ),
    a(
        "route53resolver.amazonaws.com",
        "DeleteResolverQueryLogConfig",
        Logging,
        DELETE,
        "DNS query logging config",
        &["requestParameters.resolverQueryLogConfigId"],
    ),
    // Console sign-in: the MFA use is added by `describe`.
    a("signin.amazonaws.com", "ConsoleLogin", ConsoleLogin, SIGN_IN, "the console", NONE),
    // KMS.
    a(KMS, "DisableKey", Kms, DISABLE, "KMS key", KEY),
    a(KMS, "ScheduleKeyDeletion", Kms, SCHEDULE_DELETION, "KMS key", KEY),
    a(KMS, "PutKeyPolicy", Kms, CHANGE, "the key policy of KMS key", KEY),
    // Security groups and network ACLs.
    a(
        EC2,
        "CreateSecurityGroup",
        Network,
        CREATE,
        "security group",
        &["requestParameters.groupName"],
    ),
    a(EC2, "DeleteSecurityGroup", Network, DELETE, "security group", SG),
    a(EC2, "AuthorizeSecurityGroupIngress", Network, OPEN, "ingress on security group", SG),
    a(EC2, "AuthorizeSecurityGroupEgress", Network, OPEN, "egress on security group", SG),
    a(EC2, "RevokeSecurityGroupIngress", Network, REVOKE, "ingress on security group", SG),
    a(EC2, "RevokeSecurityGroupEgress", Network, REVOKE, "egress on security group", SG),
    a(EC2, "ModifySecurityGroupRules", Network, CHANGE, "the rules of security group", SG),
    a(EC2, "CreateNetworkAcl", Network, CREATE, "network ACL", NACL),
    a(EC2, "DeleteNetworkAcl", Network, DELETE, "network ACL", NACL),
    a(EC2, "CreateNetworkAclEntry", Network, ADD, "an entry to network ACL", NACL),
    a(EC2, "DeleteNetworkAclEntry", Network, DELETE, "an entry of network ACL", NACL),
    a(EC2, "ReplaceNetworkAclEntry", Network, REPLACE, "an entry of network ACL", NACL),
    a(
        EC2,
        "ReplaceNetworkAclAssociation",
        Network,
        CHANGE,
        "the network ACL association",
        &["requestParameters.associationId"],
    ),
    // Organizations.
    a(ORGS, "LeaveOrganization", Organizations, LEAVE, "the organization", NONE),
    a(ORGS, "DeleteOrganization", Organizations, DELETE, "the organization", NONE),
    a(
        ORGS,
        "CreateAccount",
        Organizations,
        CREATE,
        "member account",
        &["requestParameters.accountName"],
    ),
    a(
        ORGS,
        "RemoveAccountFromOrganization",
        Organizations,
        REMOVE,
        "account",
        &["requestParameters.accountId"],
    ),
    a(
        ORGS,
        "InviteAccountToOrganization",
        Organizations,
        INVITE,
        "account",
        &["requestParameters.target.id"],
    ),
    a(
        ORGS,
        "CreatePolicy",
        Organizations,
        CREATE,
        "organization policy",
        &["requestParameters.name"],
    ),
    a(
        ORGS,
        "DeletePolicy",
        Organizations,
        DELETE,
        "organization policy",
        &["requestParameters.policyId"],
    ),
    at(
        ORGS,
        "AttachPolicy",
        Organizations,
        ATTACH,
        "organization policy",
        &["requestParameters.policyId"],
        ("to", &["requestParameters.targetId"]),
    ),
    at(
        ORGS,
        "DetachPolicy",
        Organizations,
        DETACH,
        "organization policy",
        &["requestParameters.policyId"],
        ("from", &["requestParameters.targetId"]),
    ),
    a(
        ORGS,
        "DisablePolicyType",
        Organizations,
        DISABLE,
        "policy type",
        &["requestParameters.policyType"],
    ),
];

/// The catalogue row for an event, if any.
#[must_use]
pub fn find(source: &str, event: &str) -> Option<&'static Action> {
    static BY_EVENT: std::sync::LazyLock<HashMap<&'static str, Vec<&'static Action>>> =
        std::sync::LazyLock::new(|| {
            let mut m: HashMap<&'static str, Vec<&'static Action>> = HashMap::default();
            CATALOGUE.iter().for_each(|a| m.entry(a.event).or_default().push(a));
            m
        });
    BY_EVENT.get(event)?.iter().copied().find(|a| a.source == source)
}

/// Follows a dotted path, descending into strings that hold JSON objects (some exporters
/// write `requestParameters` as a JSON-encoded string). Strings as they are; other values
/// as JSON text; `null` and empty strings are absent.
#[must_use]
pub fn text_at(v: &Value, path: &str) -> Option<String> {
    fn walk(v: &Value, path: &str) -> Option<String> {
        if let Some(x) = v.get(path) {
            return leaf(x);
        }
        if let Value::String(s) = v
            && s.trim_start().starts_with('{')
            && let Ok(inner) = serde_json::from_str::<Value>(s)
        {
            return walk(&inner, path);
        }
        let (head, rest) = path.split_once('.')?;
        let next = v.get(head)?;
        if let Value::String(s) = next
            && let Ok(inner) = serde_json::from_str::<Value>(s)
        {
            return walk(&inner, rest);
        }
        walk(next, rest)
    }
    fn leaf(x: &Value) -> Option<String> {
        match x {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            v => Some(v.to_string()),
        }
    }
    walk(v, path)
}

fn first_at(v: &Value, paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|p| text_at(v, p))
}

/// One notable action, ready to print (kept in the archive index as it is, with
/// `sort_time` beside it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notable {
    /// `eventTime` as RFC 3339 (UTC), when it parses.
    pub time: Option<String>,
    /// For ordering: nanoseconds since the epoch.
    #[serde(skip)]
    pub sort_time: Option<i64>,
    /// The kind of change.
    pub category: Category,
    /// `eventSource`.
    pub event_source: String,
    /// `eventName`.
    pub event_name: String,
    /// Whether the call failed (an `errorCode`, or a console sign-in answered `Failure`).
    pub failed: bool,
    /// `errorCode` (or `Failure` for a failed sign-in without one).
    pub error_code: Option<String>,
    /// `errorMessage`.
    pub error_message: Option<String>,
    /// The computed actor.
    pub actor: String,
    /// `userIdentity.type`.
    pub identity_type: Option<String>,
    /// `userIdentity.accountId`, else `recipientAccountId`.
    pub account: Option<String>,
    /// The verb phrase ("created IAM user").
    pub action: String,
    /// The name or id of the object acted on.
    pub object: Option<String>,
    /// The second party ("to user bob").
    pub target: Option<String>,
    /// For console sign-ins: `additionalEventData.MFAUsed`.
    pub mfa_used: Option<String>,
    /// `sourceIPAddress`.
    pub source_ip: Option<String>,
    /// `awsRegion`.
    pub region: Option<String>,
    /// `userAgent`.
    pub user_agent: Option<String>,
    /// `eventID`.
    pub event_id: Option<String>,
    /// The whole line in plain words, without the time.
    pub description: String,
}

/// The record fields [`is_candidate`] reads.
pub const CANDIDATE_FIELDS: [&str; 4] =
    ["eventSource", "eventName", "userIdentity.type", "readOnly"];

/// Whether [`describe`] could say anything of a record, judged from [`CANDIDATE_FIELDS`]
/// alone (so the rest of the record need only be parsed for candidates).
#[must_use]
pub fn is_candidate(record: &Value) -> bool {
    let text = |p: &str| text_at(record, p);
    let source = text("eventSource").unwrap_or_default();
    let event = text("eventName").unwrap_or_default();
    find(&source, &event).is_some()
        || (text("userIdentity.type").as_deref() == Some("Root")
            && record.get("readOnly") != Some(&Value::Bool(true)))
}

/// The notable action `record` is, if any.
#[must_use]
pub fn describe(record: &Value) -> Option<Notable> {
    let text = |p: &str| text_at(record, p);
    let source = text("eventSource").unwrap_or_default();
    let event = text("eventName").unwrap_or_default();
    let identity_type = text("userIdentity.type");
    let root = identity_type.as_deref() == Some("Root");
    let (category, verb, noun, object, target) = match find(&source, &event) {
        Some(a) => (
            a.category,
            a.verb,
            a.noun.to_string(),
            first_at(record, a.object),
            a.target
                .and_then(|(prep, paths)| first_at(record, paths).map(|t| format!("{prep} {t}"))),
        ),
        None if root && record.get("readOnly") != Some(&Value::Bool(true)) => {
            (Category::Root, verb("called", "call"), event.clone(), None, None)
        }
        None => return None,
    };
    let login_result = text("responseElements.ConsoleLogin");
    let error_code = text("errorCode").or_else(|| {
        (category == Category::ConsoleLogin && login_result.as_deref() == Some("Failure"))
            .then(|| "Failure".to_string())
    });
    let failed = error_code.is_some();
    let mfa_used =
        (category == Category::ConsoleLogin).then(|| text("additionalEventData.MFAUsed")).flatten();
    let actor = actor(record);
    let account = text("userIdentity.accountId").or_else(|| text("recipientAccountId"));
    let source_ip = text("sourceIPAddress");
    let region = text("awsRegion");
    let user_agent = text("userAgent");

    let mut d = String::new();
    if failed {
        d.push_str(&format!("FAILED {}: ", error_code.as_deref().unwrap_or("")));
    }
    d.push_str(&actor);
    let who: Vec<&str> =
        [identity_type.as_deref(), account.as_deref()].into_iter().flatten().collect();
    if !who.is_empty() {
        d.push_str(&format!(" ({})", who.join(", ")));
    }
    if failed {
        d.push_str(&format!(" tried to {}", verb.base));
    } else {
        d.push_str(&format!(" {}", verb.past));
    }
    d.push_str(&format!(" {noun}"));
    if category == Category::Root {
        d.push_str(&format!(" ({source}) as root"));
    }
    if let Some(o) = &object {
        d.push_str(&format!(" {o}"));
    }
    if let Some(t) = &target {
        d.push_str(&format!(" {t}"));
    }
    if category == Category::ConsoleLogin {
        d.push_str(match mfa_used.as_deref() {
            Some("Yes") => " with MFA",
            Some("No") => " without MFA",
            _ => " (MFA use not recorded)",
        });
    }
    if let Some(ip) = &source_ip {
        d.push_str(&format!(" from {ip}"));
    }
    if let Some(r) = &region {
        d.push_str(&format!(" [{r}]"));
    }
    if let Some(ua) = &user_agent {
        d.push_str(&format!(" using {}", shorten(ua, 60)));
    }
    let event_time = text("eventTime");
    let parsed = event_time.as_deref().and_then(time::parse_event_time);
    Some(Notable {
        time: parsed.map(time_text).or(event_time),
        sort_time: parsed.and_then(time::sort_key),
        category,
        event_source: source,
        event_name: event,
        failed,
        error_code,
        error_message: text("errorMessage"),
        actor,
        identity_type,
        account,
        action: format!("{} {noun}", verb.past),
        object,
        target,
        mfa_used,
        source_ip,
        region,
        user_agent,
        event_id: text("eventID"),
        description: d,
    })
}

/// At most `max` characters, with `…` when cut.
#[must_use]
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create_user(error: Option<&str>) -> Value {
        let mut r = json!({
            "eventTime": "2024-03-01T10:00:00Z",
            "eventSource": "iam.amazonaws.com",
            "eventName": "CreateUser",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.7",
            "userAgent": "aws-cli/2.15.0",
            "userIdentity": {"type": "IAMUser", "userName": "mallory", "accountId": "444455556666"},
            "requestParameters": {"userName": "backdoor-1"},
            "recipientAccountId": "444455556666",
            "eventID": "e1"
        });
        if let Some(e) = error {
            r["errorCode"] = e.into();
            r["requestParameters"] = Value::Null;
        }
        r
    }

    #[test]
    fn catalogue_rows_are_unique_and_complete() {
        let mut seen = std::collections::HashSet::new();
        for a in CATALOGUE {
            assert!(seen.insert((a.source, a.event)), "{} twice", a.event);
            assert!(a.source.ends_with(".amazonaws.com"));
            for p in a.object.iter().chain(a.target.iter().flat_map(|t| t.1.iter())) {
                assert!(
                    p.starts_with("requestParameters.") || p.starts_with("responseElements."),
                    "{p}"
                );
            }
        }
        for e in ["StopLogging", "DeleteTrail", "PutEventSelectors", "UpdateTrail"] {
            assert!(find(TRAIL, e).is_some(), "{e}");
        }
        assert!(find(IAM, "ConsoleLogin").is_none());
    }

    #[test]
    fn plain_words() {
        let n = describe(&create_user(None)).unwrap();
        assert_eq!(
            n.description,
            "mallory (IAMUser, 444455556666) created IAM user backdoor-1 from 203.0.113.7 \
             [us-east-1] using aws-cli/2.15.0"
        );
        assert_eq!(n.time.as_deref(), Some("2024-03-01T10:00:00Z"));
        let mut failed = create_user(Some("AccessDenied"));
        failed["requestParameters"] = json!({"userName": "backdoor-3"});
        let n = describe(&failed).unwrap();
        assert!(n.failed);
        assert!(
            n.description.starts_with(
                "FAILED AccessDenied: mallory (IAMUser, 444455556666) tried to create IAM user \
                 backdoor-3 from"
            ),
            "{}",
            n.description
        );
    }

    #[test]
    fn targets_logins_root_and_strings() {
        let r = json!({"eventSource":"iam.amazonaws.com","eventName":"AttachUserPolicy",
            "userIdentity":{"type":"Root","accountId":"1"},
            "requestParameters":"{\"userName\":\"bob\",\"policyArn\":\"arn:aws:iam::aws:policy/AdministratorAccess\"}"});
        assert_eq!(
            describe(&r).unwrap().description,
            "root (Root, 1) attached policy arn:aws:iam::aws:policy/AdministratorAccess to user bob"
        );
        let login = json!({"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin",
            "userIdentity":{"type":"IAMUser","userName":"alice"},
            "responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"No"}});
        let n = describe(&login).unwrap();
        assert!(n.failed);
        assert_eq!(
            n.description,
            "FAILED Failure: alice (IAMUser) tried to sign in to the console without MFA"
        );
        let root = json!({"eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy",
            "userIdentity":{"type":"Root"},"readOnly":false});
        assert_eq!(
            describe(&root).unwrap().description,
            "root (Root) called PutBucketPolicy (s3.amazonaws.com) as root"
        );
        let read = json!({"eventSource":"s3.amazonaws.com","eventName":"ListBuckets",
            "userIdentity":{"type":"Root"},"readOnly":true});
        assert!(describe(&read).is_none());
        assert!(describe(&json!({"eventName":"GetObject"})).is_none());
        assert_eq!(shorten("abcdef", 4), "abc…");
    }
}
