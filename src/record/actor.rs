//! One short string for "who did it", across every CloudTrail identity type.

use serde_json::Value;

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().filter(|s| !s.is_empty())
}

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
    let arn = s(ui, &["arn"]);
    let found = match s(ui, &["type"]).unwrap_or("") {
        "IAMUser" => s(ui, &["userName"]).or_else(|| arn.and_then(arn_resource)).map(str::to_owned),
        "AssumedRole" | "FederatedUser" => arn
            .and_then(arn_resource)
            .map(str::to_owned)
            .or_else(|| s(ui, &["sessionContext", "sessionIssuer", "userName"]).map(str::to_owned)),
        "Root" => Some("root".to_string()),
        "AWSService" => s(ui, &["invokedBy"]).map(str::to_owned),
        "AWSAccount" => s(ui, &["accountId"])
            .map(|a| format!("account {a}"))
            .or_else(|| s(ui, &["principalId"]).map(str::to_owned)),
        "IdentityCenterUser" => {
            s(ui, &["onBehalfOf", "userId"]).or_else(|| s(ui, &["userName"])).map(str::to_owned)
        }
        _ => s(ui, &["userName"]).map(str::to_owned),
    };
    found
        .or_else(|| arn.map(str::to_owned))
        .or_else(|| s(ui, &["principalId"]).map(str::to_owned))
        .or_else(|| s(ui, &["invokedBy"]).map(str::to_owned))
        .unwrap_or_else(|| "-".to_string())
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
