//! One short string for "who did it", across every CloudTrail identity type.

use serde_json::Value;
use std::borrow::Cow;

/// The part of an ARN after the first `/` (`assumed-role/Admin/alice` → `Admin/alice`).
fn arn_resource(arn: &str) -> Option<&str> {
    let res = arn.splitn(6, ':').nth(5)?;
    Some(res.split_once('/').map_or(res, |(_, rest)| rest))
}

/// The record fields [`actor`] reads (to keep when projecting).
pub const ACTOR_FIELDS: [&str; 8] = [
    "userIdentity.type",
    "userIdentity.userName",
    "userIdentity.arn",
    "userIdentity.sessionContext.sessionIssuer.userName",
    "userIdentity.invokedBy",
    "userIdentity.accountId",
    "userIdentity.principalId",
    "userIdentity.onBehalfOf.userId",
];

/// Who acted in `record`: `alice` (IAM user), `Admin/alice` (role/session), `root`,
/// `ec2.amazonaws.com` (a service), `account 111122223333`, or the best identifier there is.
#[must_use]
pub fn actor(record: &Value) -> String {
    let Some(ui) = record.get("userIdentity").filter(|u| u.is_object()) else {
        return "-".to_string();
    };
    actor_of(|i| {
        let path = ACTOR_FIELDS[i].strip_prefix("userIdentity.").unwrap_or(ACTOR_FIELDS[i]);
        let mut cur = ui;
        for p in path.split('.') {
            cur = cur.get(p)?;
        }
        cur.as_str().filter(|s| !s.is_empty())
    })
    .into_owned()
}

/// [`actor`] from the fields of an identity object: `field(i)` is the non-empty string at
/// `ACTOR_FIELDS[i]`, if there is one.
pub fn actor_of<'a>(field: impl Fn(usize) -> Option<&'a str>) -> Cow<'a, str> {
    let [kind, user, arn, issuer, invoked_by, account, principal, on_behalf] =
        [0, 1, 2, 3, 4, 5, 6, 7].map(&field);
    let found: Option<Cow<'a, str>> = match kind.unwrap_or("") {
        "IAMUser" => user.or_else(|| arn.and_then(arn_resource)).map(Cow::Borrowed),
        "AssumedRole" | "FederatedUser" => arn.and_then(arn_resource).or(issuer).map(Cow::Borrowed),
        "Root" => Some(Cow::Borrowed("root")),
        "AWSService" => invoked_by.map(Cow::Borrowed),
        "AWSAccount" => account
            .map(|a| Cow::Owned(format!("account {a}")))
            .or_else(|| principal.map(Cow::Borrowed)),
        "IdentityCenterUser" => on_behalf.or(user).map(Cow::Borrowed),
        _ => user.map(Cow::Borrowed),
    };
    found
        .or_else(|| arn.or(principal).or(invoked_by).map(Cow::Borrowed))
        .unwrap_or(Cow::Borrowed("-"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identity_types() {
        let cases = [
            (
                json!({"type":"IAMUser","userName":"alice","arn":"arn:aws:iam::1:user/alice"}),
                "alice",
            ),
            (
                json!({"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/Admin/bob","sessionContext":{"sessionIssuer":{"userName":"Admin"}}}),
                "Admin/bob",
            ),
            (json!({"type":"FederatedUser","arn":"arn:aws:sts::1:federated-user/carol"}), "carol"),
            (json!({"type":"Root","arn":"arn:aws:iam::1:root"}), "root"),
            (json!({"type":"AWSService","invokedBy":"ec2.amazonaws.com"}), "ec2.amazonaws.com"),
            (json!({"type":"AWSAccount","accountId":"111122223333"}), "account 111122223333"),
            (json!({"type":"SAMLUser","userName":"dave@example.com"}), "dave@example.com"),
            (json!({"type":"WebIdentityUser","userName":"cognito:x"}), "cognito:x"),
            (json!({"type":"IdentityCenterUser","onBehalfOf":{"userId":"u-1"}}), "u-1"),
            (json!({"type":"Unknown","principalId":"p"}), "p"),
            (json!({}), "-"),
        ];
        for (ui, want) in cases {
            assert_eq!(actor(&json!({ "userIdentity": ui })), want, "{ui}");
        }
        assert_eq!(actor(&json!({"eventName":"x"})), "-");
    }
}
