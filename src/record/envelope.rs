//! The EventBridge view of a CloudTrail record: what an EventBridge rule sees when CloudTrail
//! delivers the record to the default event bus.
//!
//! | envelope key  | taken from |
//! |---------------|------------|
//! | `version`     | `"0"` |
//! | `id`          | `eventID` |
//! | `detail-type` | `eventType`: `AwsApiCall` → `AWS API Call via CloudTrail`, `AwsConsoleSignIn` → `AWS Console Sign In via CloudTrail`, `AwsConsoleAction` → `AWS Console Action via CloudTrail`, `AwsServiceEvent` → `AWS Service Event via CloudTrail`, `AwsCloudTrailInsight` → `AWS Insight via CloudTrail`; absent for other types |
//! | `source`      | `aws.` + the first label of `eventSource` (`iam.amazonaws.com` → `aws.iam`), except `monitoring.amazonaws.com` → `aws.cloudwatch` |
//! | `account`     | `recipientAccountId` |
//! | `time`        | `eventTime` |
//! | `region`      | `awsRegion` |
//! | `resources`   | `[]` |
//! | `detail`      | the record |

use serde_json::{Map, Value};

/// The envelope keys whose presence at a pattern's top level means "match the envelope".
pub const ENVELOPE_KEYS: [&str; 3] = ["source", "detail-type", "detail"];

/// Record fields the envelope is built from (to keep when projecting).
pub const ENVELOPE_INPUTS: [&str; 6] =
    ["eventID", "eventType", "eventSource", "recipientAccountId", "eventTime", "awsRegion"];

/// `detail-type` for a CloudTrail `eventType`.
#[must_use]
pub fn detail_type(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "AwsApiCall" => "AWS API Call via CloudTrail",
        "AwsConsoleSignIn" => "AWS Console Sign In via CloudTrail",
        "AwsConsoleAction" => "AWS Console Action via CloudTrail",
        "AwsServiceEvent" => "AWS Service Event via CloudTrail",
        "AwsCloudTrailInsight" => "AWS Insight via CloudTrail",
        _ => return None,
    })
}

/// EventBridge `source` for a CloudTrail `eventSource`.
#[must_use]
pub fn source(event_source: &str) -> String {
    match event_source {
        "monitoring.amazonaws.com" => "aws.cloudwatch".to_string(),
        s => format!("aws.{}", s.split('.').next().unwrap_or(s)),
    }
}

/// Wraps `record` (possibly projected, but with [`ENVELOPE_INPUTS`] kept) in its envelope.
#[must_use]
pub fn wrap(record: Value) -> Value {
    let text = |k: &str| record.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut env = Map::new();
    env.insert("version".into(), "0".into());
    if let Some(id) = text("eventID") {
        env.insert("id".into(), id.into());
    }
    if let Some(dt) = text("eventType").as_deref().and_then(detail_type) {
        env.insert("detail-type".into(), dt.into());
    }
    if let Some(s) = text("eventSource") {
        env.insert("source".into(), source(&s).into());
    }
    if let Some(a) = text("recipientAccountId") {
        env.insert("account".into(), a.into());
    }
    if let Some(t) = text("eventTime") {
        env.insert("time".into(), t.into());
    }
    if let Some(r) = text("awsRegion") {
        env.insert("region".into(), r.into());
    }
    env.insert("resources".into(), Value::Array(Vec::new()));
    env.insert("detail".into(), record);
    Value::Object(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wraps_like_eventbridge() {
        let rec = json!({"eventID":"e1","eventType":"AwsApiCall","eventSource":"iam.amazonaws.com","recipientAccountId":"111122223333","eventTime":"2024-03-01T10:00:00Z","awsRegion":"us-east-1","eventName":"CreateUser"});
        let env = wrap(rec.clone());
        assert_eq!(
            env,
            json!({"version":"0","id":"e1","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","account":"111122223333","time":"2024-03-01T10:00:00Z","region":"us-east-1","resources":[],"detail":rec})
        );
        assert_eq!(source("monitoring.amazonaws.com"), "aws.cloudwatch");
        assert_eq!(source("signin.amazonaws.com"), "aws.signin");
        assert_eq!(detail_type("AwsConsoleSignIn"), Some("AWS Console Sign In via CloudTrail"));
        assert_eq!(wrap(json!({})), json!({"version":"0","resources":[],"detail":{}}));
    }
}
