//! What CloudTrail records about credentials: the events that issue them ([`Issuance`]) and
//! the events made with them ([`Event`]), read from parsed records.
//!
//! Links are made by credential only: an issuing event names its caller's access key
//! (`userIdentity.accessKeyId`) and returns the new one
//! (`responseElements.credentials.accessKeyId`, or `responseElements.accessKey.accessKeyId`
//! for `CreateAccessKey`); later events carry the key they were made with.

use crate::record::{actor, time};
use crate::summary::actions::{self, text_at};
use serde::Serialize;
use serde_json::Value;

/// The events that can issue credentials (with their `eventSource`).
pub const ISSUING: [(&str, &str); 10] = [
    ("sts.amazonaws.com", "AssumeRole"),
    ("sts.amazonaws.com", "AssumeRoleWithSAML"),
    ("sts.amazonaws.com", "AssumeRoleWithWebIdentity"),
    ("sts.amazonaws.com", "GetSessionToken"),
    ("sts.amazonaws.com", "GetFederationToken"),
    ("iam.amazonaws.com", "CreateAccessKey"),
    ("signin.amazonaws.com", "ConsoleLogin"),
    // Console federation (a custom broker or the Identity Center portal): a sign-in token made
    // from the caller's session.
    ("signin.amazonaws.com", "GetSigninToken"),
    // IAM Identity Center's access portal: role credentials for a permission set in an account
    // (CLI, SDK) and console federation into it. CloudTrail records neither the key nor the
    // session: the role session is linked by inference ([`SsoGrant`]).
    ("sso.amazonaws.com", "GetRoleCredentials"),
    ("sso.amazonaws.com", "Federate"),
];

/// The EventBridge pattern of the issuing events (the first pass of a trace).
#[must_use]
pub fn issuing_pattern() -> Value {
    let names: Vec<&str> = ISSUING.iter().map(|(_, n)| *n).collect();
    let mut sources: Vec<&str> = ISSUING.iter().map(|(s, _)| *s).collect();
    sources.sort_unstable();
    sources.dedup();
    serde_json::json!({ "eventName": names, "eventSource": sources })
}

/// The fields that make the links of an issuing event: enough to build the graph. The rest
/// ([`ISSUANCE_FIELDS`]) is read only for the issuances in the trace.
pub const LINK_FIELDS: [&str; 12] = [
    "eventSource",
    "eventName",
    "eventID",
    "eventTime",
    "recipientAccountId",
    "errorCode",
    "userIdentity.accessKeyId",
    "userIdentity.arn",
    "userIdentity.accountId",
    "responseElements.credentials.accessKeyId",
    "responseElements.accessKey.accessKeyId",
    "responseElements.ConsoleLogin",
];

/// The record fields [`Issuance::from_record`] reads (to keep when projecting).
pub const ISSUANCE_FIELDS: [&str; 19] = [
    "eventSource",
    "eventName",
    "eventID",
    "eventTime",
    "sourceIPAddress",
    "userAgent",
    "recipientAccountId",
    "awsRegion",
    "errorCode",
    "userIdentity",
    "requestParameters",
    "responseElements",
    "additionalEventData.MFAUsed",
    "sharedEventID",
    "errorMessage",
    "readOnly",
    "eventType",
    "serviceEventDetails",
    "additionalEventData.UserName",
];

/// Whether `s` looks like an access key id as AWS writes them (`AKIA…`, `ASIA…`: upper-case
/// letters and digits), not a redacted or masked one (`HIDDEN_DUE_TO_SECURITY_REASONS`,
/// `AKIA****`).
#[must_use]
pub fn is_key(s: &str) -> bool {
    s.len() >= 16
        && s.len() <= 128
        && s.starts_with('A')
        && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Who made a call, as its `userIdentity` says.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Caller {
    /// `userIdentity.accessKeyId`, when it is a key.
    pub key: Option<String>,
    /// `userIdentity.type`.
    pub identity_type: Option<String>,
    /// `userIdentity.arn`.
    pub arn: Option<String>,
    /// `userIdentity.accountId`.
    pub account: Option<String>,
    /// `userIdentity.invokedBy` (AWS services).
    pub invoked_by: Option<String>,
    /// `userIdentity.sessionContext.attributes.creationDate`.
    pub session_created: Option<String>,
    /// `userIdentity.sessionContext.sourceIdentity`.
    pub source_identity: Option<String>,
    /// `userIdentity.principalId` (`AROA…:session`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// `userIdentity.userName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// `userIdentity.onBehalfOf.userId`: the IAM Identity Center user a call or a role
    /// session was made for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    /// The computed actor (`alice`, `Role/session`, `ec2.amazonaws.com`).
    pub actor: String,
}

impl Caller {
    fn of(v: &Value) -> Caller {
        let t = |p: &str| text_at(v, p);
        Caller {
            key: t("userIdentity.accessKeyId").filter(|k| is_key(k)),
            identity_type: t("userIdentity.type"),
            arn: t("userIdentity.arn"),
            account: t("userIdentity.accountId"),
            invoked_by: t("userIdentity.invokedBy"),
            session_created: t("userIdentity.sessionContext.attributes.creationDate"),
            source_identity: t("userIdentity.sessionContext.sourceIdentity"),
            principal_id: t("userIdentity.principalId"),
            user_name: t("userIdentity.userName"),
            on_behalf_of: t("userIdentity.onBehalfOf.userId"),
            actor: actor::actor(v),
        }
    }

    /// The Identity Center role session this caller is, when its ARN is that of a role
    /// Identity Center provisioned (`assumed-role/AWSReservedSSO_<permission set>_<hash>/<name>`).
    #[must_use]
    pub fn sso_session(&self) -> Option<SsoSession<'_>> {
        let arn = self.arn.as_deref()?;
        let mut parts = arn.splitn(6, ':');
        let (_, _, service, _, account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if service != "sts" {
            return None;
        }
        let (role, session) = resource.strip_prefix("assumed-role/")?.split_once('/')?;
        let (permission_set, _hash) = role.strip_prefix("AWSReservedSSO_")?.rsplit_once('_')?;
        Some(SsoSession { account, role, permission_set, session })
    }
}

/// A role session of IAM Identity Center, read from its ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsoSession<'a> {
    /// The account the role is in.
    pub account: &'a str,
    /// `AWSReservedSSO_<permission set>_<hash>`.
    pub role: &'a str,
    /// The permission set's name.
    pub permission_set: &'a str,
    /// The session name: the Identity Center user's name.
    pub session: &'a str,
}

/// What an Identity Center access-portal call (`GetRoleCredentials`, `Federate`) gave out:
/// credentials for a permission set in an account, to a user.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SsoGrant {
    /// The account (`serviceEventDetails.account_id`, or `requestParameters.accountId`).
    pub account: String,
    /// The permission set (`serviceEventDetails.role_name`, or `requestParameters.roleName`).
    pub permission_set: String,
    /// The user's name (`userIdentity.userName`, or `additionalEventData.UserName`).
    pub user: Option<String>,
    /// The user's id in the identity store (`userIdentity.onBehalfOf.userId`).
    pub user_id: Option<String>,
    /// `userIdentity.onBehalfOf.identityStoreArn`.
    pub identity_store: Option<String>,
}

impl SsoGrant {
    /// Whether `caller`, a session of the role `s`, is what this grant gave out: same account,
    /// same permission set, same user (by identity-store id when both records carry it, else
    /// by name: Identity Center names the session after the user). `None` when not; else how
    /// the user was matched, in words.
    #[must_use]
    pub fn matches(&self, caller: &Caller, s: &SsoSession<'_>) -> Option<String> {
        if s.account != self.account || s.permission_set != self.permission_set {
            return None;
        }
        if let (Some(a), Some(b)) = (&self.user_id, &caller.on_behalf_of) {
            return (a == b).then(|| format!("same Identity Center user id {a}"));
        }
        let user = self.user.as_deref()?;
        user.eq_ignore_ascii_case(s.session)
            .then(|| format!("session name {} is the Identity Center user's name", s.session))
    }
}

/// What an issuing event issued.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum Issued {
    /// A credential, by its access key id.
    Key(String),
    /// A console session (no key is recorded; later events are linked by inference).
    ConsoleSession,
    /// The response names credentials but not a usable key id (what was written instead).
    Redacted(String),
    /// No `responseElements` (or none naming credentials) on a successful call.
    NotRecorded,
    /// IAM Identity Center gave out role credentials (`GetRoleCredentials`) or a console
    /// session (`Federate`) that CloudTrail does not record.
    Sso,
    /// The call failed: nothing was issued.
    Nothing,
}

/// One event that issued (or tried to issue) a credential.
#[derive(Debug, Clone, Serialize)]
pub struct Issuance {
    /// `eventName`.
    pub event_name: String,
    /// `eventSource`.
    pub event_source: String,
    /// `eventID`.
    pub event_id: Option<String>,
    /// `eventTime` as written.
    pub time: Option<String>,
    /// For ordering: nanoseconds since the epoch (`i64::MAX` when unknown).
    #[serde(skip)]
    pub sort: i64,
    /// Who called.
    pub caller: Caller,
    /// `sourceIPAddress`.
    pub source_ip: Option<String>,
    /// `userAgent`.
    pub user_agent: Option<String>,
    /// `recipientAccountId`: the account whose trail logged it.
    pub account: Option<String>,
    /// `awsRegion`.
    pub region: Option<String>,
    /// `errorCode` (or `Failure` for a failed console sign-in).
    pub error: Option<String>,
    /// What it issued.
    pub issued: Issued,
    /// `requestParameters.roleArn` (the role assumed).
    pub role_arn: Option<String>,
    /// The session's ARN: `responseElements.assumedRoleUser.arn`,
    /// `responseElements.federatedUser.arn`, or for a console sign-in the caller's ARN.
    pub session_arn: Option<String>,
    /// `responseElements.assumedRoleUser.assumedRoleId`.
    pub assumed_role_id: Option<String>,
    /// `sourceIdentity` kept through role chaining (response or request).
    pub source_identity: Option<String>,
    /// SAML or web identity provider (`responseElements.issuer` / `provider`, or the request's
    /// `principalArn` / `providerId`).
    pub provider: Option<String>,
    /// SAML `subject` or `subjectFromWebIdentityToken`.
    pub subject: Option<String>,
    /// `CreateAccessKey`: the user the key was created for.
    pub for_user: Option<String>,
    /// `ConsoleLogin`: `additionalEventData.MFAUsed`.
    pub mfa_used: Option<String>,
    /// Identity Center access-portal calls: what was given out, to whom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso: Option<SsoGrant>,
    /// The accounts whose trails logged this same call (cross-account calls are logged twice).
    pub logged_in: Vec<String>,
    /// Read in full ([`ISSUANCE_FIELDS`]), not only its links ([`LINK_FIELDS`]).
    #[serde(skip)]
    pub detailed: bool,
    /// The file it was read from (pass 1's walk order).
    #[serde(skip)]
    pub file: usize,
    /// Its index among the file's records (with `file`, its place in the walk).
    #[serde(skip)]
    pub record: u64,
}

/// The `eventSource` and `eventName` of an issuing event ([`ISSUING`]); `None` when the record
/// is not one.
fn issuing(v: &Value) -> Option<(String, String)> {
    let source = text_at(v, "eventSource")?;
    let name = text_at(v, "eventName")?;
    ISSUING.iter().any(|(s, n)| *s == source && *n == name).then_some((source, name))
}

impl Issuance {
    /// Reads an issuing event; `None` when the record is not one.
    #[must_use]
    pub fn from_record(v: &Value) -> Option<Issuance> {
        let t = |p: &str| text_at(v, p);
        let (source, name) = issuing(v)?;
        let console = name == "ConsoleLogin";
        let signin_token = name == "GetSigninToken";
        let portal = source == "sso.amazonaws.com";
        let login = t("responseElements.ConsoleLogin");
        let error = t("errorCode")
            .or_else(|| {
                (console && login.as_deref() != Some("Success")).then(|| {
                    login.clone().unwrap_or_else(|| "no ConsoleLogin result recorded".to_string())
                })
            })
            .or_else(|| {
                // `"GetSigninToken": "Success"` when recorded; anything else failed.
                t("responseElements.GetSigninToken").filter(|r| signin_token && r != "Success")
            });
        let key_path = if name == "CreateAccessKey" {
            "responseElements.accessKey.accessKeyId"
        } else {
            "responseElements.credentials.accessKeyId"
        };
        let issued = if error.is_some() {
            Issued::Nothing
        } else if console || signin_token {
            // GetSigninToken echoes the caller's own key: what it makes is a console session.
            Issued::ConsoleSession
        } else if portal {
            Issued::Sso
        } else {
            match t(key_path) {
                Some(k) if is_key(&k) => Issued::Key(k),
                Some(other) => Issued::Redacted(other),
                None => Issued::NotRecorded,
            }
        };
        let caller = Caller::of(v);
        let session_arn = if console || signin_token {
            caller.arn.clone()
        } else {
            t("responseElements.assumedRoleUser.arn")
                .or_else(|| t("responseElements.federatedUser.arn"))
                .or_else(|| session_arn_from_request(v))
        };
        let when = t("eventTime");
        let sort = sort_of(when.as_deref());
        let account = t("recipientAccountId");
        Some(Issuance {
            event_id: t("eventID"),
            time: when,
            sort,
            source_ip: t("sourceIPAddress"),
            user_agent: t("userAgent"),
            logged_in: account.iter().cloned().collect(),
            account,
            region: t("awsRegion"),
            error,
            issued,
            role_arn: t("requestParameters.roleArn"),
            session_arn,
            assumed_role_id: t("responseElements.assumedRoleUser.assumedRoleId"),
            source_identity: t("responseElements.sourceIdentity")
                .or_else(|| t("requestParameters.sourceIdentity"))
                .or_else(|| caller.source_identity.clone()),
            provider: t("responseElements.issuer")
                .or_else(|| t("responseElements.provider"))
                .or_else(|| t("requestParameters.principalArn"))
                .or_else(|| t("requestParameters.providerId")),
            subject: t("responseElements.subject")
                .or_else(|| t("responseElements.subjectFromWebIdentityToken")),
            for_user: (name == "CreateAccessKey")
                .then(|| {
                    t("responseElements.accessKey.userName")
                        .or_else(|| t("requestParameters.userName"))
                        .or_else(|| caller.arn.as_deref().and_then(user_of_arn).map(str::to_owned))
                })
                .flatten(),
            mfa_used: console.then(|| t("additionalEventData.MFAUsed")).flatten(),
            sso: portal
                .then(|| {
                    Some(SsoGrant {
                        account: t("serviceEventDetails.account_id")
                            .or_else(|| t("requestParameters.accountId"))?,
                        permission_set: t("serviceEventDetails.role_name")
                            .or_else(|| t("requestParameters.roleName"))?,
                        user: caller
                            .user_name
                            .clone()
                            .or_else(|| t("additionalEventData.UserName")),
                        user_id: caller.on_behalf_of.clone(),
                        identity_store: t("userIdentity.onBehalfOf.identityStoreArn"),
                    })
                })
                .flatten(),
            detailed: true,
            file: usize::MAX,
            record: 0,
            caller,
            event_name: name,
            event_source: source,
        })
    }

    /// Reads only what links an issuing event that returned a key ([`LINK_FIELDS`]: who
    /// called with which key, what it returned, when, where it was logged): the first pass
    /// reads this of every issuing event in the archive, and the rest ([`Issuance::from_record`])
    /// only of those in the trace. Other kinds (console sign-ins, failures, unrecorded or
    /// redacted credentials, Identity Center) are read in full. `None` when not an issuing
    /// event.
    #[must_use]
    pub fn links_from_record(v: &Value) -> Option<Issuance> {
        let t = |p: &str| text_at(v, p);
        let (source, name) = issuing(v)?;
        let key_path = match (source.as_str(), name.as_str()) {
            ("iam.amazonaws.com", "CreateAccessKey") => "responseElements.accessKey.accessKeyId",
            ("sts.amazonaws.com", _) => "responseElements.credentials.accessKeyId",
            _ => return Issuance::from_record(v),
        };
        let key = match t(key_path) {
            Some(k) if is_key(&k) && v.get("errorCode").is_none_or(Value::is_null) => k,
            _ => return Issuance::from_record(v),
        };
        let when = t("eventTime");
        let sort = sort_of(when.as_deref());
        let account = t("recipientAccountId");
        Some(Issuance {
            event_id: t("eventID"),
            time: when,
            sort,
            caller: Caller {
                key: t("userIdentity.accessKeyId").filter(|k| is_key(k)),
                account: t("userIdentity.accountId"),
                ..Caller::default()
            },
            source_ip: None,
            user_agent: None,
            logged_in: account.iter().cloned().collect(),
            account,
            region: None,
            error: None,
            issued: Issued::Key(key),
            role_arn: None,
            session_arn: None,
            assumed_role_id: None,
            source_identity: None,
            provider: None,
            subject: None,
            for_user: None,
            mfa_used: None,
            sso: None,
            detailed: false,
            file: usize::MAX,
            record: 0,
            event_name: name,
            event_source: source,
        })
    }

    /// The new key, if one was recorded.
    #[must_use]
    pub fn key(&self) -> Option<&str> {
        match &self.issued {
            Issued::Key(k) => Some(k),
            _ => None,
        }
    }

    /// Whether the call succeeded but its credential cannot be named (console sessions,
    /// redacted or unrecorded credentials): later events are linked to it by principal and
    /// session creation time, as an inference.
    #[must_use]
    pub fn unkeyed(&self) -> bool {
        matches!(
            self.issued,
            Issued::ConsoleSession | Issued::Redacted(_) | Issued::NotRecorded | Issued::Sso
        )
    }

    /// What the call was, in plain words ("AssumeRole of arn:aws:iam::…:role/Admin").
    #[must_use]
    pub fn what(&self) -> String {
        let mut s = self.event_name.clone();
        if let Some(r) = &self.role_arn {
            s.push_str(&format!(" of {r}"));
        }
        if let Some(u) = &self.for_user {
            s.push_str(&format!(" for user {u}"));
        }
        if let Some(p) = &self.provider {
            s.push_str(&format!(" via {p}"));
        }
        if let Some(sub) = &self.subject {
            s.push_str(&format!(" (subject {sub})"));
        }
        if let Some(m) = &self.mfa_used {
            s.push_str(if m == "Yes" { " with MFA" } else { " without MFA" });
        }
        if let Some(g) = &self.sso {
            s.push_str(&format!(
                " of permission set {} in account {}",
                g.permission_set, g.account
            ));
        }
        s
    }

    /// Where the chain ends above this call when its caller used no key: a plain sentence.
    #[must_use]
    pub fn origin(&self) -> Option<String> {
        if self.caller.key.is_some() {
            return None;
        }
        let c = &self.caller;
        let who = match c.identity_type.as_deref() {
            _ if self.event_source == "sso.amazonaws.com" => {
                let g = self.sso.as_ref();
                let name = g.and_then(|g| g.user.as_deref()).or(c.user_name.as_deref());
                let id = g.and_then(|g| g.user_id.as_deref()).or(c.on_behalf_of.as_deref());
                let mut s = "IAM Identity Center user".to_string();
                if let Some(n) = name {
                    s.push_str(&format!(" {n}"));
                }
                if let Some(i) = id {
                    s.push_str(&format!(" (user id {i}"));
                    if let Some(store) = g.and_then(|g| g.identity_store.as_deref()) {
                        s.push_str(&format!(", identity store {store}"));
                    }
                    s.push(')');
                }
                if name.is_none() && id.is_none() {
                    s.push_str(" (not named in the record)");
                }
                s
            }
            Some("SAMLUser") => format!(
                "SAML federation: provider {}, subject {}",
                self.provider.as_deref().unwrap_or("(not recorded)"),
                self.subject.as_deref().or(c.arn.as_deref()).unwrap_or("(not recorded)")
            ),
            Some("WebIdentityUser") => format!(
                "web identity federation: provider {}, subject {}",
                self.provider.as_deref().unwrap_or("(not recorded)"),
                self.subject.as_deref().unwrap_or("(not recorded)")
            ),
            Some("AWSService") => {
                format!("the AWS service {}", c.invoked_by.as_deref().unwrap_or(&c.actor))
            }
            _ if self.event_name == "ConsoleLogin" => format!(
                "a console sign-in by {} ({})",
                c.actor,
                c.identity_type.as_deref().unwrap_or("identity type not recorded")
            ),
            _ => format!(
                "{} ({}), without an access key recorded",
                c.actor,
                c.identity_type.as_deref().unwrap_or("identity type not recorded")
            ),
        };
        Some(who)
    }
}

/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` from the request of an `AssumeRole*` call
/// (for responses that name no session).
/// The order of an event by its `eventTime` (unreadable or missing ones last).
fn sort_of(when: Option<&str>) -> i64 {
    when.and_then(time::parse_event_time).and_then(time::sort_key).unwrap_or(i64::MAX)
}

fn session_arn_from_request(v: &Value) -> Option<String> {
    let role = text_at(v, "requestParameters.roleArn")?;
    let session = text_at(v, "requestParameters.roleSessionName")?;
    let mut parts = role.splitn(6, ':');
    let (_, partition, _, _, account, resource) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    Some(format!("arn:{partition}:sts::{account}:assumed-role/{name}/{session}"))
}

/// `alice` of `arn:aws:iam::1:user/alice` (or `user/path/alice`).
#[must_use]
pub fn user_of_arn(arn: &str) -> Option<&str> {
    let res = arn.splitn(6, ':').nth(5)?;
    res.strip_prefix("user/").map(|r| r.rsplit('/').next().unwrap_or(r))
}

/// One event made with a credential of the trace.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// For ordering: nanoseconds since the epoch (`i64::MAX` when unknown).
    #[serde(skip)]
    pub sort: i64,
    /// Walk position, for a stable order among equal times.
    #[serde(skip)]
    pub at: (u64, u64),
    /// `eventTime` as written.
    pub time: Option<String>,
    /// Who, and with which key.
    pub caller: Caller,
    /// `eventSource`.
    pub event_source: String,
    /// `eventName`.
    pub event_name: String,
    /// `errorCode`.
    pub error_code: Option<String>,
    /// `sourceIPAddress`.
    pub source_ip: Option<String>,
    /// `userAgent`.
    pub user_agent: Option<String>,
    /// `recipientAccountId`.
    pub account: Option<String>,
    /// `awsRegion`.
    pub region: Option<String>,
    /// `eventID`.
    pub event_id: Option<String>,
    /// `sharedEventID` (the same call logged in another account).
    pub shared_event_id: Option<String>,
    /// The `summary`'s plain-words line, for notable actions.
    pub notable: Option<String>,
    /// For an issuing event: what it issued, in plain words.
    pub issued: Option<String>,
    /// The record itself (kept for `json` and `jsonl`).
    #[serde(skip)]
    pub raw: Option<Box<serde_json::value::RawValue>>,
}

impl Event {
    /// Reads an event; `keep_raw` keeps the record text too.
    #[must_use]
    pub fn from_record(v: &Value, raw: &str, at: (u64, u64), keep_raw: bool) -> Event {
        let t = |p: &str| text_at(v, p);
        let when = t("eventTime");
        let sort = sort_of(when.as_deref());
        let error_code = t("errorCode").or_else(|| {
            (t("eventName").as_deref() == Some("ConsoleLogin")
                && t("responseElements.ConsoleLogin").as_deref() == Some("Failure"))
            .then(|| "Failure".to_string())
        });
        Event {
            sort,
            at,
            time: when,
            caller: Caller::of(v),
            event_source: t("eventSource").unwrap_or_default(),
            event_name: t("eventName").unwrap_or_default(),
            error_code,
            source_ip: t("sourceIPAddress"),
            user_agent: t("userAgent"),
            account: t("recipientAccountId"),
            region: t("awsRegion"),
            event_id: t("eventID"),
            shared_event_id: t("sharedEventID"),
            notable: actions::describe(v).map(|n| n.description),
            issued: Issuance::from_record(v).map(|i| {
                let got = match &i.issued {
                    Issued::Key(k) => format!("issued {k}"),
                    Issued::ConsoleSession => "opened a console session".to_string(),
                    Issued::Redacted(r) => format!("issued credentials recorded as {r:?}"),
                    Issued::NotRecorded => {
                        "issued credentials CloudTrail did not record".to_string()
                    }
                    Issued::Sso => "gave out credentials CloudTrail does not record".to_string(),
                    Issued::Nothing => "issued nothing".to_string(),
                };
                format!("{}: {got}", i.what())
            }),
            raw: keep_raw
                .then(|| serde_json::value::RawValue::from_string(raw.to_string()).ok())
                .flatten(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_and_redactions() {
        assert!(is_key("ASIAWHOJDLGPOEXAMPLE"));
        assert!(is_key("AKIAIOSFODNN7EXAMPLE"));
        assert!(!is_key("HIDDEN_DUE_TO_SECURITY_REASONS"));
        assert!(!is_key("AKIA****************"));
        assert!(!is_key("1111"));
    }

    #[test]
    fn reads_issuing_events() {
        let ok = json!({
            "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole",
            "eventTime": "2024-03-01T10:00:00Z", "recipientAccountId": "111122223333",
            "userIdentity": {"type": "IAMUser", "userName": "alice", "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
                "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333"},
            "requestParameters": {"roleArn": "arn:aws:iam::444455556666:role/Admin", "roleSessionName": "s"},
            "responseElements": {"credentials": {"accessKeyId": "ASIAWHOJDLGPOEXAMPLE"},
                "assumedRoleUser": {"arn": "arn:aws:sts::444455556666:assumed-role/Admin/s"}}
        });
        let i = Issuance::from_record(&ok).unwrap();
        assert_eq!(i.issued, Issued::Key("ASIAWHOJDLGPOEXAMPLE".into()));
        assert_eq!(i.caller.key.as_deref(), Some("AKIAIOSFODNN7EXAMPLE"));
        assert_eq!(
            i.session_arn.as_deref(),
            Some("arn:aws:sts::444455556666:assumed-role/Admin/s")
        );
        assert_eq!(i.what(), "AssumeRole of arn:aws:iam::444455556666:role/Admin");
        assert_eq!(i.origin(), None);

        // The links alone: the same links, nothing else read.
        let l = Issuance::links_from_record(&ok).unwrap();
        assert_eq!((l.key(), l.caller.key.as_deref()), (i.key(), i.caller.key.as_deref()));
        assert_eq!((l.sort, &l.event_name, &l.account), (i.sort, &i.event_name, &i.account));
        assert!(!l.detailed && l.session_arn.is_none());

        let mut failed = ok.clone();
        failed["errorCode"] = json!("AccessDenied");
        assert_eq!(Issuance::from_record(&failed).unwrap().issued, Issued::Nothing);
        // What issued no key is read in full.
        let lf = Issuance::links_from_record(&failed).unwrap();
        assert!(lf.detailed && lf.issued == Issued::Nothing && lf.session_arn.is_some());

        let mut none = ok.clone();
        none["responseElements"] = Value::Null;
        let n = Issuance::from_record(&none).unwrap();
        assert_eq!(n.issued, Issued::NotRecorded);
        // The session is still named from the request.
        assert_eq!(
            n.session_arn.as_deref(),
            Some("arn:aws:sts::444455556666:assumed-role/Admin/s")
        );

        let mut hidden = ok.clone();
        hidden["responseElements"]["credentials"]["accessKeyId"] =
            json!("HIDDEN_DUE_TO_SECURITY_REASONS");
        assert!(matches!(Issuance::from_record(&hidden).unwrap().issued, Issued::Redacted(_)));

        let mut other = ok;
        other["eventName"] = json!("GetCallerIdentity");
        assert!(Issuance::from_record(&other).is_none());
    }

    #[test]
    fn identity_center_grants_and_sessions() {
        // Since 2025: IdentityCenterUser, the grant in serviceEventDetails.
        let new = json!({
            "eventSource": "sso.amazonaws.com", "eventName": "GetRoleCredentials",
            "eventTime": "2026-07-01T00:08:20Z", "eventType": "AwsServiceEvent",
            "userIdentity": {"type": "IdentityCenterUser", "accountId": "607481581596",
                "onBehalfOf": {"userId": "u-1", "identityStoreArn": "arn:aws:identitystore::607481581596:identitystore/d-1"}},
            "requestParameters": null, "responseElements": null,
            "serviceEventDetails": {"role_name": "Dev_Admin", "account_id": "950363612855"}
        });
        let g = Issuance::from_record(&new).unwrap();
        assert_eq!(g.issued, Issued::Sso);
        assert!(g.unkeyed());
        let grant = g.sso.clone().unwrap();
        assert_eq!(
            (grant.account.as_str(), grant.permission_set.as_str()),
            ("950363612855", "Dev_Admin")
        );
        assert_eq!(grant.user_id.as_deref(), Some("u-1"));
        assert!(
            g.origin()
                .unwrap()
                .starts_with("IAM Identity Center user (user id u-1, identity store")
        );
        // Older: type Unknown with the user's name, the grant in requestParameters.
        let old = json!({
            "eventSource": "sso.amazonaws.com", "eventName": "Federate",
            "userIdentity": {"type": "Unknown", "accountId": "1", "userName": "bob@example.com"},
            "requestParameters": {"accountId": "950363612855", "roleName": "Dev_Admin"}
        });
        let o = Issuance::from_record(&old).unwrap();
        assert_eq!(o.sso.as_ref().unwrap().user.as_deref(), Some("bob@example.com"));
        assert_eq!(o.origin().unwrap(), "IAM Identity Center user bob@example.com");
        let mut failed = old.clone();
        failed["errorCode"] = json!("UnauthorizedException");
        assert_eq!(Issuance::from_record(&failed).unwrap().issued, Issued::Nothing);

        // The role session: a permission set with underscores, the hash after the last one.
        let session = |arn: &str, obo: Option<&str>| Caller {
            arn: Some(arn.to_string()),
            on_behalf_of: obo.map(str::to_owned),
            ..Caller::default()
        };
        let c = session(
            "arn:aws:sts::950363612855:assumed-role/AWSReservedSSO_Dev_Admin_7243976e43c75fc5/bob@example.com",
            None,
        );
        let s = c.sso_session().unwrap();
        assert_eq!(
            (s.account, s.permission_set, s.session),
            ("950363612855", "Dev_Admin", "bob@example.com")
        );
        assert!(o.sso.as_ref().unwrap().matches(&c, &s).is_some());
        // Another user, another account, another permission set: no.
        let other = session(
            "arn:aws:sts::950363612855:assumed-role/AWSReservedSSO_Dev_Admin_7243976e43c75fc5/eve@example.com",
            None,
        );
        assert!(o.sso.as_ref().unwrap().matches(&other, &other.sso_session().unwrap()).is_none());
        let acct = session(
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_Admin_7243976e43c75fc5/bob@example.com",
            None,
        );
        assert!(o.sso.as_ref().unwrap().matches(&acct, &acct.sso_session().unwrap()).is_none());
        let ps = session(
            "arn:aws:sts::950363612855:assumed-role/AWSReservedSSO_Dev_7243976e43c75fc5/bob@example.com",
            None,
        );
        assert!(o.sso.as_ref().unwrap().matches(&ps, &ps.sso_session().unwrap()).is_none());
        // By user id when both carry one: a different id is another user, whatever the name.
        let with_id = session(
            "arn:aws:sts::950363612855:assumed-role/AWSReservedSSO_Dev_Admin_7243976e43c75fc5/x",
            Some("u-1"),
        );
        assert!(grant.matches(&with_id, &with_id.sso_session().unwrap()).is_some());
        let wrong_id = session(
            "arn:aws:sts::950363612855:assumed-role/AWSReservedSSO_Dev_Admin_7243976e43c75fc5/x",
            Some("u-2"),
        );
        assert!(grant.matches(&wrong_id, &wrong_id.sso_session().unwrap()).is_none());
        // Not an Identity Center role.
        assert!(session("arn:aws:sts::1:assumed-role/Admin/bob", None).sso_session().is_none());
        assert!(session("arn:aws:iam::1:user/AWSReservedSSO_x_y", None).sso_session().is_none());
    }

    #[test]
    fn signin_tokens_open_console_sessions() {
        let v = json!({
            "eventSource": "signin.amazonaws.com", "eventName": "GetSigninToken",
            "userIdentity": {"type": "AssumedRole", "accessKeyId": "ASIAQRSTUVWXSSOERIN0",
                "arn": "arn:aws:sts::1:assumed-role/R/s"},
            "responseElements": {"credentials": {"accessKeyId": "ASIAQRSTUVWXSSOERIN0"}, "GetSigninToken": "Success"}
        });
        let i = Issuance::from_record(&v).unwrap();
        // Not a new key (it echoes the caller's): a console session of the caller.
        assert_eq!(i.issued, Issued::ConsoleSession);
        assert_eq!(i.session_arn.as_deref(), Some("arn:aws:sts::1:assumed-role/R/s"));
        let mut failed = v;
        failed["responseElements"]["GetSigninToken"] = json!("Failure");
        assert_eq!(Issuance::from_record(&failed).unwrap().issued, Issued::Nothing);
    }

    #[test]
    fn console_sign_in_and_access_keys() {
        let login = json!({
            "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "userIdentity": {"type": "IAMUser", "userName": "bob", "arn": "arn:aws:iam::1:user/bob"},
            "responseElements": {"ConsoleLogin": "Success"}, "additionalEventData": {"MFAUsed": "No"}
        });
        let i = Issuance::from_record(&login).unwrap();
        assert_eq!(i.issued, Issued::ConsoleSession);
        assert_eq!(i.session_arn.as_deref(), Some("arn:aws:iam::1:user/bob"));
        assert!(i.origin().unwrap().starts_with("a console sign-in by bob"));
        let mut failed = login;
        failed["responseElements"]["ConsoleLogin"] = json!("Failure");
        assert_eq!(Issuance::from_record(&failed).unwrap().error.as_deref(), Some("Failure"));

        let key = json!({
            "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey",
            "userIdentity": {"type": "IAMUser", "userName": "bob", "accessKeyId": "AKIAIOSFODNN7EXAMPLE"},
            "requestParameters": {"userName": "carol"},
            "responseElements": {"accessKey": {"userName": "carol", "accessKeyId": "AKIAI44QH8DHBEXAMPLE"}}
        });
        let k = Issuance::from_record(&key).unwrap();
        assert_eq!(k.key(), Some("AKIAI44QH8DHBEXAMPLE"));
        assert_eq!(k.for_user.as_deref(), Some("carol"));
    }
}
