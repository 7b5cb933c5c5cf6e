#!/usr/bin/env python3
"""Build fixtures/trace/: credential chains for `trailscan trace`, in the S3 delivery layout.

GENERATED records, written field for field the way CloudTrail writes them, following AWS's
documented example records (CloudTrail User Guide "CloudTrail record contents", the IAM User
Guide's "Logging IAM and AWS STS API calls with AWS CloudTrail" examples for AssumeRole,
AssumeRoleWithSAML, AssumeRoleWithWebIdentity, GetSessionToken and cross-account calls with
sharedEventID) and the real records in /work/shared/datasets (sans-504 CreateAccessKey and
service AssumeRole, invictus ConsoleLogin and EC2 instance-role events with ec2RoleDelivery,
stratus GetFederationToken). Identifiers are AWS documentation placeholders (accounts
111122223333, 444455556666, 999988887777; keys ending in EXAMPLE-like suffixes; addresses in
192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24).

Deterministic (gzip mtime=0, ids derived from hashes). stdlib only.
Run: python3 scripts/make_trace_fixtures.py   (rewrites fixtures/trace/AWSLogs)
"""
import gzip
import hashlib
import json
import os
import shutil
import uuid
from datetime import datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "trace")

DEV, PROD, OUTSIDE = "111122223333", "444455556666", "999988887777"
T0 = datetime(2024, 3, 4, 9, 0, 0)
CLI = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off command/{}"
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"

records = []
counter = [0]


def uid(tag):
    counter[0] += 1
    h = hashlib.sha256(f"{tag}/{counter[0]}".encode()).digest()
    return str(uuid.UUID(bytes=h[:16], version=4))


def ts(minutes, seconds=0):
    return (T0 + timedelta(minutes=minutes, seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def expiry(minutes, hours=1):
    t = T0 + timedelta(minutes=minutes, hours=hours)
    return t.strftime("%b %-d, %Y, %-I:%M:%S %p")


def user(name, acct, key=None, session=None):
    u = {
        "type": "IAMUser",
        "principalId": "AIDA" + hashlib.sha1(name.encode()).hexdigest()[:17].upper(),
        "arn": f"arn:aws:iam::{acct}:user/{name}",
        "accountId": acct,
    }
    if key:
        u["accessKeyId"] = key
    u["userName"] = name
    if session:  # session credentials of an IAM user (GetSessionToken, console)
        u["sessionContext"] = {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": session[0], "mfaAuthenticated": session[1]},
        }
    return u


def role_id(role):
    return "AROA" + hashlib.sha1(role.encode()).hexdigest()[:17].upper()


def assumed(role, sess, acct, key, created, mfa="false", source_identity=None, ec2=False, web=None):
    ctx = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": role_id(role),
            "arn": f"arn:aws:iam::{acct}:role/{role}",
            "accountId": acct,
            "userName": role,
        },
        "webIdFederationData": web or {},
        "attributes": {"creationDate": created, "mfaAuthenticated": mfa},
    }
    if source_identity:
        ctx["sourceIdentity"] = source_identity
    if ec2:
        ctx["ec2RoleDelivery"] = "2.0"
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id(role)}:{sess}",
        "arn": f"arn:aws:sts::{acct}:assumed-role/{role}/{sess}",
        "accountId": acct,
        "accessKeyId": key,
        "sessionContext": ctx,
    }


def rec(ident, minute, source, name, recipient, ip, ua, req=None, resp=None, region="us-east-1",
        error=None, read_only=False, extra=None, second=0):
    r = {
        "eventVersion": "1.09",
        "userIdentity": ident,
        "eventTime": ts(minute, second),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": ua,
    }
    if error:
        r["errorCode"], r["errorMessage"] = error
    r["requestParameters"] = req
    r["responseElements"] = resp
    r["requestID"] = uid("req")
    r["eventID"] = uid("event")
    r["readOnly"] = read_only
    r["eventType"] = "AwsApiCall"
    r["managementEvent"] = True
    r["recipientAccountId"] = recipient
    r["eventCategory"] = "Management"
    host = source.replace(".amazonaws.com", f".{region}.amazonaws.com") if source.startswith("sts") else source
    r["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": host}
    if extra:
        r.update(extra)
    records.append(r)
    return r


def creds(key, minute, hours=1):
    return {"accessKeyId": key, "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLETOKEN" + key[-6:],
            "expiration": expiry(minute, hours)}


def assume_role(ident, minute, caller_acct, role_acct, role, sess, new_key, ip, ua, region="us-east-1",
                error=None, source_identity=None, both=True, second=0, logged_in=None):
    """An AssumeRole call; cross-account calls are logged in both accounts with one sharedEventID."""
    role_arn = f"arn:aws:iam::{role_acct}:role/{role}"
    req = {"roleArn": role_arn, "roleSessionName": sess, "durationSeconds": 3600}
    if source_identity:
        req["sourceIdentity"] = source_identity
    resp = None
    if not error:
        resp = {"credentials": creds(new_key, minute),
                "assumedRoleUser": {"assumedRoleId": f"{role_id(role)}:{sess}",
                                    "arn": f"arn:aws:sts::{role_acct}:assumed-role/{role}/{sess}"}}
        if source_identity:
            resp["sourceIdentity"] = source_identity
    extra = {"resources": [{"accountId": role_acct, "type": "AWS::IAM::Role", "ARN": role_arn}]}
    shared = uid("shared") if caller_acct != role_acct and both else None
    if shared:
        extra["sharedEventID"] = shared
    out = [rec(ident, minute, "sts.amazonaws.com", "AssumeRole", logged_in or caller_acct, ip, ua, req, resp,
               region=region, error=error, read_only=True, extra=dict(extra), second=second)]
    if shared:
        out.append(rec(ident, minute, "sts.amazonaws.com", "AssumeRole", role_acct, ip, ua, req, resp,
                       region=region, error=error, read_only=True, extra=dict(extra), second=second))
    return out


# --- Keys -------------------------------------------------------------------------------
ALICE_KEY = "AKIAIOSFODNN7EXAMPLE"          # alice's long-term key (created before the archive)
ALICE_STS = "ASIAQRSTUVWXSESSION1"          # GetSessionToken
CROSS = "ASIAQRSTUVWXCROSSAC1"              # alice -> prod CrossAccountAdmin
CHAIN = "ASIAQRSTUVWXCHAINED1"              # -> DataPipeline (role chaining)
BACKDOOR = "AKIAQRSTUVWXBACKDOOR"           # CreateAccessKey for user svc-reporting, then used
BOB_KEY = "AKIAI44QH8DHBEXAMPLE"            # decoy: bob's long-term key
BOB_CROSS = "ASIAQRSTUVWXDECOYBOB"          # decoy: bob -> the same CrossAccountAdmin role
CI_KEY = "ASIAQRSTUVWXDECOYCI1"             # decoy: CI runner session in prod
CI_CHAIN = "ASIAQRSTUVWXDECOYCI2"           # decoy: CI -> the same DataPipeline role
SAML = "ASIAQRSTUVWXSAMLCAR1"               # AssumeRoleWithSAML
WEB = "ASIAQRSTUVWXWEBIDGH1"                # AssumeRoleWithWebIdentity
EC2 = "ASIAQRSTUVWXEC2INST1"                # EC2 instance role
LAMBDA = "ASIAQRSTUVWXLAMBDA01"             # service-assumed, credentials not recorded
DAVE_CONSOLE = "ASIAQRSTUVWXCONSOLE1"       # dave's console session (inferred)
DAVE_CONSOLE2 = "ASIAQRSTUVWXCONSOLE2"      # dave's later console session (another login)
DAVE_NEW = "AKIAQRSTUVWXDAVENEW1"           # created in the console session, then used
VENDOR_PARENT = "ASIAQRSTUVWXVENDOR00"      # issued in an account not in the archive
VENDOR = "ASIAQRSTUVWXVENDOR01"             # vendor -> prod VendorAccess

ATTACK_IP, ALICE_IP, BOB_IP, DAVE_IP = "198.51.100.77", "203.0.113.10", "203.0.113.20", "192.0.2.50"

# --- 1. alice: key -> GetSessionToken -> cross-account AssumeRole -> chained AssumeRole ----
alice = user("alice", DEV, ALICE_KEY)
rec(alice, 0, "s3.amazonaws.com", "ListBuckets", DEV, ALICE_IP, CLI.format("s3.ls"), {"Host": "s3.amazonaws.com"}, None, read_only=True)
rec(alice, 1, "sts.amazonaws.com", "GetSessionToken", DEV, ALICE_IP, CLI.format("sts.get-session-token"),
    {"durationSeconds": 43200, "serialNumber": f"arn:aws:iam::{DEV}:mfa/alice"},
    {"credentials": creds(ALICE_STS, 1, 12)}, read_only=True)
alice_sts = user("alice", DEV, ALICE_STS, (ts(1), "true"))
rec(alice_sts, 2, "sts.amazonaws.com", "GetCallerIdentity", DEV, ALICE_IP, CLI.format("sts.get-caller-identity"), None, None, read_only=True)
assume_role(alice_sts, 3, DEV, PROD, "CrossAccountAdmin", "alice", CROSS, ALICE_IP, CLI.format("sts.assume-role"),
            source_identity="alice")
cross = assumed("CrossAccountAdmin", "alice", PROD, CROSS, ts(3), mfa="true", source_identity="alice")
rec(cross, 4, "iam.amazonaws.com", "ListRoles", PROD, ALICE_IP, CLI.format("iam.list-roles"), {"maxItems": 100}, None, read_only=True)
assume_role(cross, 5, PROD, PROD, "DataPipeline", "alice-chain", CHAIN, ATTACK_IP, CLI.format("sts.assume-role"),
            source_identity="alice")
chain = assumed("DataPipeline", "alice-chain", PROD, CHAIN, ts(5), mfa="true", source_identity="alice")
rec(chain, 6, "iam.amazonaws.com", "AttachUserPolicy", PROD, ATTACK_IP, CLI.format("iam.attach-user-policy"),
    {"userName": "svc-reporting", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, None, second=20)
rec(chain, 7, "iam.amazonaws.com", "CreateAccessKey", PROD, ATTACK_IP, CLI.format("iam.create-access-key"),
    {"userName": "svc-reporting"},
    {"accessKey": {"userName": "svc-reporting", "accessKeyId": BACKDOOR, "status": "Active",
                   "createDate": "Mar 4, 2024, 9:07:00 AM"}})
# A failed AssumeRole issues nothing.
assume_role(chain, 8, PROD, PROD, "OrgAdmin", "alice-chain", None, ATTACK_IP, CLI.format("sts.assume-role"),
            error=("AccessDenied", f"User: arn:aws:sts::{PROD}:assumed-role/DataPipeline/alice-chain is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{PROD}:role/OrgAdmin"))
backdoor = user("svc-reporting", PROD, BACKDOOR)
rec(backdoor, 20, "sts.amazonaws.com", "GetCallerIdentity", PROD, ATTACK_IP, CLI.format("sts.get-caller-identity"), None, None, read_only=True)
rec(backdoor, 21, "cloudtrail.amazonaws.com", "StopLogging", PROD, ATTACK_IP, CLI.format("cloudtrail.stop-logging"),
    {"name": f"arn:aws:cloudtrail:us-east-1:{PROD}:trail/management-events"}, None)
rec(backdoor, 22, "ec2.amazonaws.com", "DescribeInstances", PROD, ATTACK_IP, CLI.format("ec2.describe-instances"),
    {"instancesSet": {}, "filterSet": {}}, None, read_only=True, region="eu-west-1")

# --- 2. decoys: the same roles assumed with other credentials ---------------------------
bob = user("bob", DEV, BOB_KEY)
assume_role(bob, 10, DEV, PROD, "CrossAccountAdmin", "bob", BOB_CROSS, BOB_IP, CLI.format("sts.assume-role"))
bob_cross = assumed("CrossAccountAdmin", "bob", PROD, BOB_CROSS, ts(10))
rec(bob_cross, 11, "s3.amazonaws.com", "DeleteBucket", PROD, BOB_IP, CLI.format("s3.rb"), {"bucketName": "decoy-bucket", "Host": "decoy-bucket.s3.amazonaws.com"}, None)
ci = assumed("ci-runner", "build-4711", PROD, CI_KEY, ts(12))
assume_role(ci, 12, PROD, PROD, "DataPipeline", "alice-chain", CI_CHAIN, "192.0.2.200", CLI.format("sts.assume-role"), second=30)
ci_chain = assumed("DataPipeline", "alice-chain", PROD, CI_CHAIN, ts(12, 30))
rec(ci_chain, 13, "iam.amazonaws.com", "DeleteUser", PROD, "192.0.2.200", CLI.format("iam.delete-user"), {"userName": "decoy-user"}, None)

# --- 3. SAML federation ------------------------------------------------------------------
saml_user = {"type": "SAMLUser", "principalId": "SampleUkh1i4+ExamplexL/jEvs=:carol@example.com",
             "userName": "carol@example.com", "identityProvider": "bdGOnTesti4+ExamplexL/jEvs="}
rec(saml_user, 30, "sts.amazonaws.com", "AssumeRoleWithSAML", PROD, "203.0.113.30", "aws-internal/3 aws-sdk-java/1.12.667",
    {"sAMLAssertionID": "_c0046cEXAMPLEb9d4b8eEXAMPLE2619aEXAMPLE", "roleSessionName": "carol@example.com",
     "durationSeconds": 3600, "roleArn": f"arn:aws:iam::{PROD}:role/SSOAdmin",
     "principalArn": f"arn:aws:iam::{PROD}:saml-provider/ExampleIdP"},
    {"subjectType": "persistent", "issuer": "https://idp.example.com/saml2", "credentials": creds(SAML, 30),
     "nameQualifier": "SbdGOnUkh1i4+EXAMPLExL/jEvs=", "audience": "https://signin.aws.amazon.com/saml",
     "subject": "carol@example.com",
     "assumedRoleUser": {"assumedRoleId": f"{role_id('SSOAdmin')}:carol@example.com",
                         "arn": f"arn:aws:sts::{PROD}:assumed-role/SSOAdmin/carol@example.com"}},
    read_only=True,
    extra={"resources": [{"accountId": PROD, "type": "AWS::IAM::Role", "ARN": f"arn:aws:iam::{PROD}:role/SSOAdmin"},
                         {"accountId": PROD, "type": "AWS::IAM::SAMLProvider", "ARN": f"arn:aws:iam::{PROD}:saml-provider/ExampleIdP"}]})
saml = assumed("SSOAdmin", "carol@example.com", PROD, SAML, ts(30))
rec(saml, 31, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", PROD, "203.0.113.30", CLI.format("ec2.authorize-security-group-ingress"),
    {"groupId": "sg-0123456789abcdef0", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
     "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
    {"requestId": uid("ec2"), "_return": True})

# --- 4. web identity (GitHub Actions OIDC) ------------------------------------------------
web_user = {"type": "WebIdentityUser", "principalId": "arn:aws:iam::444455556666:oidc-provider/token.actions.githubusercontent.com:sts.amazonaws.com:repo:example/app:ref:refs/heads/main",
            "userName": "repo:example/app:ref:refs/heads/main", "identityProvider": "arn:aws:iam::444455556666:oidc-provider/token.actions.githubusercontent.com"}
rec(web_user, 35, "sts.amazonaws.com", "AssumeRoleWithWebIdentity", PROD, "192.0.2.140", "aws-sdk-js/3.525.0 os/linux/6.5.0 lang/js md/nodejs/20.11.1 api/sts/3.525.0 configure-aws-credentials",
    {"roleArn": f"arn:aws:iam::{PROD}:role/GitHubDeploy", "roleSessionName": "GitHubActions", "durationSeconds": 3600},
    {"credentials": creds(WEB, 35), "subjectFromWebIdentityToken": "repo:example/app:ref:refs/heads/main",
     "assumedRoleUser": {"assumedRoleId": f"{role_id('GitHubDeploy')}:GitHubActions",
                         "arn": f"arn:aws:sts::{PROD}:assumed-role/GitHubDeploy/GitHubActions"},
     "provider": f"arn:aws:iam::{PROD}:oidc-provider/token.actions.githubusercontent.com", "audience": "sts.amazonaws.com"},
    read_only=True,
    extra={"resources": [{"accountId": PROD, "type": "AWS::IAM::Role", "ARN": f"arn:aws:iam::{PROD}:role/GitHubDeploy"}]})
web = assumed("GitHubDeploy", "GitHubActions", PROD, WEB, ts(35),
              web={"federatedProvider": f"arn:aws:iam::{PROD}:oidc-provider/token.actions.githubusercontent.com"})
rec(web, 36, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", PROD, "192.0.2.140", "aws-sdk-js/3.525.0",
    {"functionName": "app-api", "publish": True}, {"functionName": "app-api", "version": "42"})

# --- 5. EC2 instance role, its credentials then used from elsewhere -----------------------
svc = {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}
rec(svc, 40, "sts.amazonaws.com", "AssumeRole", PROD, "ec2.amazonaws.com", "ec2.amazonaws.com",
    {"roleArn": f"arn:aws:iam::{PROD}:role/WebServerRole", "roleSessionName": "i-0abcd1234ef567890"},
    {"credentials": creds(EC2, 40, 6),
     "assumedRoleUser": {"assumedRoleId": f"{role_id('WebServerRole')}:i-0abcd1234ef567890",
                         "arn": f"arn:aws:sts::{PROD}:assumed-role/WebServerRole/i-0abcd1234ef567890"}},
    read_only=True,
    extra={"resources": [{"accountId": PROD, "type": "AWS::IAM::Role", "ARN": f"arn:aws:iam::{PROD}:role/WebServerRole"}]})
ec2 = assumed("WebServerRole", "i-0abcd1234ef567890", PROD, EC2, ts(40), ec2=True)
rec(ec2, 41, "s3.amazonaws.com", "ListBuckets", PROD, "10.0.1.15", "aws-sdk-go/1.50.30 (go1.21.7; linux; amd64)", {"Host": "s3.amazonaws.com"}, None, read_only=True)
rec(ec2, 45, "iam.amazonaws.com", "ListUsers", PROD, ATTACK_IP, CLI.format("iam.list-users"), None, None, read_only=True,
    error=("AccessDenied", f"User: arn:aws:sts::{PROD}:assumed-role/WebServerRole/i-0abcd1234ef567890 is not authorized to perform: iam:ListUsers"))

# --- 6. a service-assumed role whose credentials are not recorded -------------------------
lam = {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"}
rec(lam, 46, "sts.amazonaws.com", "AssumeRole", PROD, "lambda.amazonaws.com", "lambda.amazonaws.com",
    {"roleArn": f"arn:aws:iam::{PROD}:role/ProcessorRole", "roleSessionName": "processor-fn"}, None,
    read_only=True,
    extra={"resources": [{"accountId": PROD, "type": "AWS::IAM::Role", "ARN": f"arn:aws:iam::{PROD}:role/ProcessorRole"}]})
lam_session = assumed("ProcessorRole", "processor-fn", PROD, LAMBDA, ts(46))
rec(lam_session, 47, "secretsmanager.amazonaws.com", "GetSecretValue", PROD, "3.80.12.4", "Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#5.10.209 md/arch#x86_64 lang/python#3.12.2 exec-env/AWS_Lambda_python3.12",
    {"secretId": "prod/db-password"}, None, read_only=True)

# --- 7. console sessions ----------------------------------------------------------------
def console_login(name, minute, ip, result, mfa, second=0):
    r = rec(user(name, DEV), minute, "signin.amazonaws.com", "ConsoleLogin", DEV, ip, BROWSER, None,
            {"ConsoleLogin": result}, second=second,
            extra={"additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
                                           "MobileVersion": "No", "MFAUsed": mfa},
                   "eventType": "AwsConsoleSignIn"})
    if result == "Failure":
        r["errorMessage"] = "Failed authentication"
    r.pop("readOnly")
    r["readOnly"] = False
    return r


console_login("dave", 50, "203.0.113.99", "Failure", "No")
console_login("dave", 51, DAVE_IP, "Success", "Yes")
dave_console = user("dave", DEV, DAVE_CONSOLE, (ts(51, 1), "true"))
rec(dave_console, 52, "iam.amazonaws.com", "CreateAccessKey", DEV, DAVE_IP, "AWS Internal",
    {"userName": "dave"},
    {"accessKey": {"userName": "dave", "accessKeyId": DAVE_NEW, "status": "Active", "createDate": "Mar 4, 2024, 9:52:00 AM"}},
    extra={"sessionCredentialFromConsole": "true"})
dave_new = user("dave", DEV, DAVE_NEW)
rec(dave_new, 58, "s3.amazonaws.com", "ListBuckets", DEV, ATTACK_IP, CLI.format("s3.ls"), {"Host": "s3.amazonaws.com"}, None, read_only=True)
# A second console sign-in an hour later: another session, not part of the first.
console_login("dave", 111, DAVE_IP, "Success", "Yes")
dave_console2 = user("dave", DEV, DAVE_CONSOLE2, (ts(111, 2), "true"))
rec(dave_console2, 112, "iam.amazonaws.com", "DeleteLoginProfile", DEV, DAVE_IP, "AWS Internal", {"userName": "temp-user"}, None,
    extra={"sessionCredentialFromConsole": "true"})

# --- 8. credentials from an account not in the archive ------------------------------------
vendor_parent = assumed("VendorAutomation", "vendor-job", OUTSIDE, VENDOR_PARENT, "2024-03-04T08:30:00Z")
assume_role(vendor_parent, 60, OUTSIDE, PROD, "VendorAccess", "vendor-job", VENDOR, "198.51.100.200",
            CLI.format("sts.assume-role"), both=False, logged_in=PROD)
vendor = assumed("VendorAccess", "vendor-job", PROD, VENDOR, ts(60))
rec(vendor, 61, "s3.amazonaws.com", "GetBucketPolicy", PROD, "198.51.100.200", CLI.format("s3api.get-bucket-policy"),
    {"bucketName": "prod-data", "Host": "prod-data.s3.amazonaws.com", "policy": ""}, None, read_only=True)


# --- 9. IAM Identity Center (SSO) ---------------------------------------------------------
# The Identity Center instance lives in DEV (the management account); the permission set
# AdministratorAccess is provisioned into PROD as the role AWSReservedSSO_AdministratorAccess_<hash>.
# GetRoleCredentials / Federate are logged in DEV (eventType AwsServiceEvent, the account and
# permission set in serviceEventDetails, no credentials); the role session in PROD. The key
# Identity Center hands out is not in any record: the session is linked by inference.
SSO_ROLE = "AWSReservedSSO_AdministratorAccess_7243976e43c75fc5"
SSO_ROLE_PATH = f"aws-reserved/sso.amazonaws.com/us-east-1/{SSO_ROLE}"
STORE = f"arn:aws:identitystore::{DEV}:identitystore/d-9067230c03"
CAROL_ID = "9067230c03-9d976f61-3b89-4b98-88db-2ea3bbc1f3fa"
SSO_CAROL = "ASIAQRSTUVWXSSOCAROL"          # carol's CLI session (aws sso login)
SSO_CAROL_SAML = "ASIAQRSTUVWXSSOSAML1"     # what AssumeRoleWithSAML returned (never used)
SSO_DAN = "ASIAQRSTUVWXSSODAN01"            # decoy: dan, same permission set, 2 s later
SSO_ERIN = "ASIAQRSTUVWXSSOERIN0"           # erin's console federation session
SSO_ERIN_CONSOLE = "ASIAQRSTUVWXSSOERIN1"   # the console's calls


def idc_user(user_id):
    """A portal call made for an Identity Center user, as CloudTrail writes it since 2025."""
    return {"type": "IdentityCenterUser", "accountId": DEV,
            "onBehalfOf": {"userId": user_id, "identityStoreArn": STORE},
            "credentialId": "AAAAAGpEaIMIfeJrfG3s_" + hashlib.sha1(user_id.encode()).hexdigest()}


def idc_unknown(name):
    """A portal call made for an Identity Center user, in the older form (type Unknown)."""
    return {"type": "Unknown", "principalId": f"{DEV}", "accountId": DEV, "userName": name}


def portal(ident, minute, second, name, ip, ua, target, role="AdministratorAccess"):
    r = rec(ident, minute, "sso.amazonaws.com", name, DEV, ip, ua, None, None, read_only=True, second=second,
            extra={"eventType": "AwsServiceEvent",
                   "serviceEventDetails": {"role_name": role, "account_id": target}})
    r.pop("tlsDetails")
    return r


def sso_session(sess, key, created, user_id=None):
    s = assumed(SSO_ROLE, sess, PROD, key, created)
    s["sessionContext"]["sessionIssuer"]["arn"] = f"arn:aws:iam::{PROD}:role/{SSO_ROLE_PATH}"
    if user_id:
        s["onBehalfOf"] = {"userId": user_id, "identityStoreArn": STORE}
    return s


SSO_CLI = "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 api/sso#2.15.30"
CAROL_IP, DAN_IP, ERIN_IP = "203.0.113.40", "203.0.113.41", "203.0.113.42"
# carol: aws sso login, then GetRoleCredentials for PROD / AdministratorAccess.
portal(idc_user(CAROL_ID), 70, 0, "ListAccountRoles", CAROL_IP, SSO_CLI, PROD)["serviceEventDetails"] = {"account_id": PROD}
portal(idc_user(CAROL_ID), 70, 5, "GetRoleCredentials", CAROL_IP, SSO_CLI, PROD)
# Identity Center assumes the role through its SAML provider; the key this returns is not the
# one the session then uses (as observed in real records), so it links nothing.
rec({"type": "SAMLUser", "principalId": "/nQTosBbaHrvuioiTKQkrbl3/WM=:carol@example.com",
     "userName": "carol@example.com", "identityProvider": "/nQTosBbaHrvuioiTKQkrbl3/WM="},
    70, "sts.amazonaws.com", "AssumeRoleWithSAML", PROD, "13.239.101.254",
    "aws-sdk-java/2.25.16 md/io#sync md/http#Apache ua/2.0 api/STS#2.25.x os/Linux lang/java#17.0.10",
    {"sAMLAssertionID": "_4bed2fda-6aac-47f8-8f04-1cf235869c02", "roleSessionName": "carol@example.com",
     "roleArn": f"arn:aws:iam::{PROD}:role/{SSO_ROLE_PATH}",
     "principalArn": f"arn:aws:iam::{PROD}:saml-provider/AWSSSO_9882ccf00912484e_DO_NOT_DELETE",
     "durationSeconds": 43200},
    {"credentials": creds(SSO_CAROL_SAML, 70, 12),
     "assumedRoleUser": {"assumedRoleId": f"{role_id(SSO_ROLE)}:carol@example.com",
                         "arn": f"arn:aws:sts::{PROD}:assumed-role/{SSO_ROLE}/carol@example.com"},
     "subject": "carol@example.com", "subjectType": "persistent",
     "issuer": "https://portal.sso.us-east-1.amazonaws.com/saml/assertion/MTExMTIyMjIzMzMzX2lucy0xZmJjZmIxYzUxMDk3NTZh",
     "audience": "https://signin.aws.amazon.com/saml", "nameQualifier": "/nQTosBbaHrvuioiTKQkrbl3/WM="},
    read_only=True, second=5,
    extra={"resources": [{"accountId": PROD, "type": "AWS::IAM::Role", "ARN": f"arn:aws:iam::{PROD}:role/{SSO_ROLE_PATH}"},
                         {"accountId": PROD, "type": "AWS::IAM::SAMLProvider",
                          "ARN": f"arn:aws:iam::{PROD}:saml-provider/AWSSSO_9882ccf00912484e_DO_NOT_DELETE"}]})
carol_sso = sso_session("carol@example.com", SSO_CAROL, ts(70, 5), CAROL_ID)
rec(carol_sso, 71, "sts.amazonaws.com", "GetCallerIdentity", PROD, CAROL_IP, CLI.format("sts.get-caller-identity"), None, None, read_only=True)
rec(carol_sso, 72, "secretsmanager.amazonaws.com", "GetSecretValue", PROD, CAROL_IP, CLI.format("secretsmanager.get-secret-value"),
    {"secretId": "prod/api-token"}, None, read_only=True)
# dan (decoy): the same permission set in the same account, 2 s later, older record form.
portal(idc_unknown("dan@example.com"), 70, 7, "GetRoleCredentials", DAN_IP, SSO_CLI, PROD)
dan_sso = sso_session("dan@example.com", SSO_DAN, ts(70, 7))
rec(dan_sso, 73, "s3.amazonaws.com", "DeleteBucket", PROD, DAN_IP, CLI.format("s3.rb"),
    {"bucketName": "decoy-sso-bucket", "Host": "decoy-sso-bucket.s3.amazonaws.com"}, None)
# erin: the access portal's console federation (Federate), GetSigninToken and ConsoleLogin in
# PROD with the federation session's key, then the console's own session.
portal(idc_unknown("erin@example.com"), 75, 0, "Federate", ERIN_IP, BROWSER, PROD)
erin_sso = sso_session("erin@example.com", SSO_ERIN, ts(75, 1))
gst = rec(erin_sso, 75, "signin.amazonaws.com", "GetSigninToken", PROD, ERIN_IP, "Jersey/${project.version} (HttpUrlConnection 17.0.12)",
          None, {"credentials": {"accessKeyId": SSO_ERIN}, "GetSigninToken": "Success"}, second=1,
          extra={"additionalEventData": {"MobileVersion": "No", "MFAUsed": "No"}, "eventType": "AwsConsoleSignIn"})
gst.pop("readOnly")
gst["readOnly"] = False
login = rec(erin_sso, 75, "signin.amazonaws.com", "ConsoleLogin", PROD, ERIN_IP, BROWSER, None,
            {"ConsoleLogin": "Success"}, second=2,
            extra={"additionalEventData": {"MobileVersion": "No", "MFAUsed": "No"}, "eventType": "AwsConsoleSignIn"})
erin_console = sso_session("erin@example.com", SSO_ERIN_CONSOLE, ts(75, 3))
rec(erin_console, 76, "iam.amazonaws.com", "CreateUser", PROD, ERIN_IP, "AWS Internal", {"userName": "erin-backup"},
    {"user": {"path": "/", "userName": "erin-backup", "userId": "AIDAQRSTUVWXERINBACK", "arn": f"arn:aws:iam::{PROD}:user/erin-backup",
              "createDate": "Mar 4, 2024, 10:16:00 AM"}},
    extra={"sessionCredentialFromConsole": "true"})


# --- write in the delivery layout ---------------------------------------------------------
def write():
    logs = os.path.join(OUT, "AWSLogs")
    if os.path.isdir(logs):
        shutil.rmtree(logs)
    groups = {}
    written = {}
    for r in records:
        t = datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        window = t.replace(minute=t.minute - t.minute % 5, second=0) + timedelta(minutes=5)
        groups.setdefault((r["recipientAccountId"], r["awsRegion"], window), []).append(r)
    for (acct, region, window), rs in sorted(groups.items()):
        rs.sort(key=lambda r: r["eventTime"])
        stamp = window.strftime("%Y%m%dT%H%MZ")
        suffix = hashlib.sha256(f"{acct}{region}{stamp}".encode()).hexdigest()
        suffix = "".join(c for c in suffix if c.isalnum())[:16]
        folder = os.path.join(logs, acct, "CloudTrail", region, window.strftime("%Y/%m/%d"))
        os.makedirs(folder, exist_ok=True)
        name = f"{acct}_CloudTrail_{region}_{stamp}_{suffix}.json.gz"
        data = json.dumps({"Records": rs}, separators=(",", ":")).encode()
        with open(os.path.join(folder, name), "wb") as f:
            f.write(gzip.compress(data, compresslevel=9, mtime=0))
        rel = os.path.relpath(os.path.join(folder, name), os.path.join(OUT, "..")).replace(os.sep, "/")
        written[rel] = {"kind": "records", "records": len(rs),
                        "create_user": sum(r["eventName"] == "CreateUser" for r in rs),
                        "source": "GENERATED by scripts/make_trace_fixtures.py", "generated": True}
    # fixtures/manifest.json lists every fixture file (tests count records against it):
    # replace the trace/ entries (scripts/make_fixtures.py rewrites the manifest without them;
    # run this script after it).
    path = os.path.join(OUT, "..", "manifest.json")
    with open(path) as f:
        manifest = json.load(f)
    files = {k: v for k, v in manifest["files"].items() if not k.startswith("trace/")}
    files.update(written)
    with open(path, "w") as f:
        json.dump({"files": dict(sorted(files.items()))}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{len(records)} records in {len(groups)} files")


write()
