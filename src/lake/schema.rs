//! The lake's table: Athena's documented CloudTrail table (`CREATE EXTERNAL TABLE cloudtrail_logs`,
//! Amazon Athena User Guide, "Create the table for CloudTrail logs in Athena using partition
//! projection"), column for column, in its order and with its lower-case names, plus
//! `managementevent` and the optional `raw` column.
//!
//! This one description serves the Parquet writer (which column holds which record field, as
//! what type), the DDL printer, and the SQL translator (which pattern paths are columns, which
//! live inside JSON text, and which the table does not hold at all).

/// A column's type, as Athena's DDL writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// `STRING`: the record's string value. A JSON number or boolean in that place keeps its
    /// JSON text (`true`, `1.5`), as Hive's JsonSerDe reads it.
    String,
    /// `STRING` holding JSON text: the record's own text for the field, exactly as delivered
    /// (`requestparameters`, `responseelements`, ...). In the lake, as in Athena's table over
    /// the raw files, a JSON `null` and a missing key are both SQL `NULL` (every column type
    /// reads them so); `raw` tells them apart.
    Json,
    /// `BOOLEAN` (only `managementevent`; Athena's table has no boolean column).
    Boolean,
    /// `STRUCT<...>` of the given fields.
    Struct(&'static [Column]),
    /// `ARRAY<STRUCT<...>>` of the given fields (`resources`).
    ArrayOfStruct(&'static [Column]),
    /// `MAP<STRING,STRING>` (`webidfederationdata.attributes`).
    MapStringString,
}

/// One column (or struct field): its name in the table and the record key it is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The name in the table: lower-case, as Athena's DDL writes it.
    pub name: &'static str,
    /// The record's key for this field, spelled as CloudTrail spells it (`userIdentity`,
    /// `sourceIPAddress`). Athena's JsonSerDe matches keys case-insensitively.
    pub key: &'static str,
    /// Its type.
    pub ty: Type,
}

const fn col(name: &'static str, key: &'static str, ty: Type) -> Column {
    Column { name, key, ty }
}

const fn s(name: &'static str, key: &'static str) -> Column {
    col(name, key, Type::String)
}

const ON_BEHALF_OF: &[Column] = &[s("userid", "userId"), s("identitystorearn", "identityStoreArn")];

const ATTRIBUTES: &[Column] =
    &[s("mfaauthenticated", "mfaAuthenticated"), s("creationdate", "creationDate")];

const SESSION_ISSUER: &[Column] = &[
    s("type", "type"),
    s("principalid", "principalId"),
    s("arn", "arn"),
    s("accountid", "accountId"),
    s("username", "userName"),
];

const WEB_ID_FEDERATION_DATA: &[Column] = &[
    s("federatedprovider", "federatedProvider"),
    col("attributes", "attributes", Type::MapStringString),
];

const SESSION_CONTEXT: &[Column] = &[
    col("attributes", "attributes", Type::Struct(ATTRIBUTES)),
    col("sessionissuer", "sessionIssuer", Type::Struct(SESSION_ISSUER)),
    s("ec2roledelivery", "ec2RoleDelivery"),
    col("webidfederationdata", "webIdFederationData", Type::Struct(WEB_ID_FEDERATION_DATA)),
];

const USER_IDENTITY: &[Column] = &[
    s("type", "type"),
    s("principalid", "principalId"),
    s("arn", "arn"),
    s("accountid", "accountId"),
    s("invokedby", "invokedBy"),
    s("accesskeyid", "accessKeyId"),
    s("username", "userName"),
    col("onbehalfof", "onBehalfOf", Type::Struct(ON_BEHALF_OF)),
    col("sessioncontext", "sessionContext", Type::Struct(SESSION_CONTEXT)),
];

const RESOURCE: &[Column] = &[s("arn", "ARN"), s("accountid", "accountId"), s("type", "type")];

const ADDENDUM: &[Column] = &[
    s("reason", "reason"),
    s("updatedfields", "updatedFields"),
    s("originalrequestid", "originalRequestID"),
    s("originaleventid", "originalEventID"),
];

const TLS_DETAILS: &[Column] = &[
    s("tlsversion", "tlsVersion"),
    s("ciphersuite", "cipherSuite"),
    s("clientprovidedhostheader", "clientProvidedHostHeader"),
];

/// The table's columns, in Athena's order, then `managementevent` (the lake's addition).
/// `raw` (optional) and the partition columns (`account`, `region`, `dt`) come after these.
pub const COLUMNS: &[Column] = &[
    s("eventversion", "eventVersion"),
    col("useridentity", "userIdentity", Type::Struct(USER_IDENTITY)),
    s("eventtime", "eventTime"),
    s("eventsource", "eventSource"),
    s("eventname", "eventName"),
    s("awsregion", "awsRegion"),
    s("sourceipaddress", "sourceIPAddress"),
    s("useragent", "userAgent"),
    s("errorcode", "errorCode"),
    s("errormessage", "errorMessage"),
    col("requestparameters", "requestParameters", Type::Json),
    col("responseelements", "responseElements", Type::Json),
    col("additionaleventdata", "additionalEventData", Type::Json),
    s("requestid", "requestID"),
    s("eventid", "eventID"),
    s("readonly", "readOnly"),
    col("resources", "resources", Type::ArrayOfStruct(RESOURCE)),
    s("eventtype", "eventType"),
    s("apiversion", "apiVersion"),
    s("recipientaccountid", "recipientAccountId"),
    col("serviceeventdetails", "serviceEventDetails", Type::Json),
    s("sharedeventid", "sharedEventID"),
    s("vpcendpointid", "vpcEndpointId"),
    s("vpcendpointaccountid", "vpcEndpointAccountId"),
    s("eventcategory", "eventCategory"),
    col("addendum", "addendum", Type::Struct(ADDENDUM)),
    s("sessioncredentialfromconsole", "sessionCredentialFromConsole"),
    col("edgedevicedetails", "edgeDeviceDetails", Type::Json),
    col("tlsdetails", "tlsDetails", Type::Struct(TLS_DETAILS)),
    col("managementevent", "managementEvent", Type::Boolean),
];

/// The optional column with the record exactly as delivered (`export --raw`).
pub const RAW: &str = "raw";

/// The Hive partition columns of the lake, in path order: `account=<id>/region=<r>/dt=<date>`.
pub const PARTITIONS: [&str; 3] = ["account", "region", "dt"];

/// Where a record path (EventBridge's dotted path, as CloudTrail spells keys) lives in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A scalar column or struct field: the lower-case column path (`useridentity.arn`).
    Column(Vec<&'static str>, Type),
    /// Inside a JSON text column: the column, and the path within its JSON (record spelling).
    InJson(&'static str, Vec<String>),
    /// A field of the structs in `resources`: the field's column name.
    Resource(&'static str),
    /// The table does not hold it (or not exactly: a struct, a map, a key whose case differs).
    Absent,
}

/// Finds where the dotted record path `path` is held. Keys are matched exactly as CloudTrail
/// spells them: a pattern's `useridentity.arn` is not `userIdentity.arn`.
#[must_use]
pub fn place(path: &str) -> Place {
    let parts: Vec<&str> = path.split('.').collect();
    let mut cols = COLUMNS;
    let mut names: Vec<&'static str> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let Some(c) = cols.iter().find(|c| c.key == *part) else { return Place::Absent };
        names.push(c.name);
        let last = i + 1 == parts.len();
        match c.ty {
            Type::String | Type::Boolean if last => return Place::Column(names, c.ty),
            Type::Json if last => return Place::InJson(c.name, Vec::new()),
            Type::Json => {
                return Place::InJson(
                    c.name,
                    parts[i + 1..].iter().map(|p| (*p).to_string()).collect(),
                );
            }
            Type::Struct(fields) if !last => cols = fields,
            Type::ArrayOfStruct(fields) if i + 2 == parts.len() => {
                return match fields.iter().find(|f| f.key == parts[i + 1]) {
                    Some(f) => Place::Resource(f.name),
                    None => Place::Absent,
                };
            }
            _ => return Place::Absent,
        }
    }
    Place::Absent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places() {
        assert_eq!(place("eventName"), Place::Column(vec!["eventname"], Type::String));
        assert_eq!(
            place("userIdentity.sessionContext.sessionIssuer.userName"),
            Place::Column(
                vec!["useridentity", "sessioncontext", "sessionissuer", "username"],
                Type::String
            )
        );
        assert_eq!(
            place("requestParameters.userName"),
            Place::InJson("requestparameters", vec!["userName".into()])
        );
        assert_eq!(place("requestParameters"), Place::InJson("requestparameters", vec![]));
        assert_eq!(place("resources.ARN"), Place::Resource("arn"));
        assert_eq!(place("resources"), Place::Absent);
        assert_eq!(place("userIdentity"), Place::Absent);
        assert_eq!(place("insightDetails.state"), Place::Absent);
        assert_eq!(place("eventname"), Place::Absent);
        assert_eq!(place("managementEvent"), Place::Column(vec!["managementevent"], Type::Boolean));
    }

    #[test]
    fn names_are_lower_case_and_unique() {
        fn check(cols: &[Column]) {
            let mut seen = std::collections::HashSet::new();
            for c in cols {
                assert_eq!(c.name, c.name.to_ascii_lowercase());
                assert!(seen.insert(c.name), "{}", c.name);
                if let Type::Struct(f) | Type::ArrayOfStruct(f) = c.ty {
                    check(f);
                }
            }
        }
        check(COLUMNS);
    }
}
