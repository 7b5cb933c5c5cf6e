#!/usr/bin/env python3
"""Writes the 60 benchmark Sigma rules in this folder (rule-NN.yml), shaped like SigmaHQ's
CloudTrail rules (rules/cloud/aws/cloudtrail/): eventSource + eventName selections, filters
under `not`, `contains` on userAgent and on requestParameters objects, `startswith`,
`endswith`, `exists`, `null`, `re`, `cidr` and lists of maps. Written for trailscan's benchmark
(not copied from SigmaHQ, whose rules are under the Detection Rule License). Deterministic:
re-running gives the same files."""
import uuid

SPECS = [
    # (title, source, names, extra selection lines, filter lines, level)
    ("S3 bucket deleted", "s3", ["DeleteBucket"], [], [], "medium"),
    ("S3 bucket policy changed", "s3", ["PutBucketPolicy", "DeleteBucketPolicy"], [], [], "medium"),
    ("S3 public access block weakened", "s3", ["PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock"], [], [], "high"),
    ("S3 bucket versioning suspended", "s3", ["PutBucketVersioning"], ["requestParameters.VersioningConfiguration.Status: Suspended"], [], "medium"),
    ("S3 bucket ACL opened to everyone", "s3", ["PutBucketAcl"], ["requestParameters|contains: 'AllUsers'"], [], "high"),
    ("S3 bucket encryption removed", "s3", ["DeleteBucketEncryption"], [], [], "high"),
    ("S3 lifecycle tampering", "s3", ["PutBucketLifecycle", "PutBucketLifecycleConfiguration"], [], [], "medium"),
    ("S3 bucket enumeration by a user", "s3", ["ListBuckets"], ["userIdentity.type: IAMUser"], [], "low"),
    ("CloudTrail logging stopped or deleted", "cloudtrail", ["StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors"], [], [], "high"),
    ("CloudTrail trail created", "cloudtrail", ["CreateTrail"], [], [], "low"),
    ("Config recorder disabled", "config", ["DeleteDeliveryChannel", "StopConfigurationRecorder", "DeleteConfigurationRecorder"], [], [], "high"),
    ("GuardDuty detector deleted or updated", "guardduty", ["DeleteDetector", "UpdateDetector"], [], [], "high"),
    ("GuardDuty IP set created", "guardduty", ["CreateIPSet"], [], [], "high"),
    ("Security Hub findings archived", "securityhub", ["BatchUpdateFindings", "DeleteInsight", "UpdateFindings", "UpdateInsight"], [], [], "high"),
    ("VPC flow logs deleted", "ec2", ["DeleteFlowLogs"], [], [], "high"),
    ("EBS default encryption disabled", "ec2", ["DisableEbsEncryptionByDefault"], [], [], "medium"),
    ("EC2 user data changed", "ec2", ["ModifyInstanceAttribute"], ["requestParameters.attribute: userData"], [], "high"),
    ("EC2 instance user data read", "ec2", ["DescribeInstanceAttribute"], ["requestParameters.attribute: userData"], [], "medium"),
    ("EC2 password data read", "ec2", ["GetPasswordData"], [], ["errorCode|exists: true"], "medium"),
    ("Security group ingress from anywhere", "ec2", ["AuthorizeSecurityGroupIngress"], ["requestParameters|contains: '0.0.0.0/0'"], [], "high"),
    ("Security group modified", "ec2", ["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress"], [], ["userIdentity.arn|contains: 'terraform'"], "medium"),
    ("Network ACL entry created", "ec2", ["CreateNetworkAclEntry", "ReplaceNetworkAclEntry"], [], [], "low"),
    ("Route added", "ec2", ["CreateRoute", "ReplaceRoute"], [], [], "low"),
    ("Snapshot shared", "ec2", ["ModifySnapshotAttribute"], ["requestParameters.createVolumePermission|contains: 'add'"], [], "high"),
    ("AMI shared", "ec2", ["ModifyImageAttribute"], ["requestParameters.launchPermission|contains: 'add'"], [], "high"),
    ("EC2 key pair imported", "ec2", ["ImportKeyPair"], [], [], "medium"),
    ("Unusual instance types launched", "ec2", ["RunInstances"], ["requestParameters.instanceType|startswith: ['p3.', 'p4d.', 'g4dn.', 'x1e.']"], [], "medium"),
    ("Instances launched by a new role", "ec2", ["RunInstances"], ["userIdentity.sessionContext.sessionIssuer.userName|endswith: '-ci'"], [], "low"),
    ("Serial console access enabled", "ec2", ["EnableSerialConsoleAccess"], [], [], "high"),
    ("IAM access key created for another user", "iam", ["CreateAccessKey"], ["requestParameters.userName|exists: true"], [], "medium"),
    ("IAM user created", "iam", ["CreateUser"], [], [], "low"),
    ("IAM login profile created or updated", "iam", ["CreateLoginProfile", "UpdateLoginProfile"], [], [], "medium"),
    ("IAM admin policy attached", "iam", ["AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy"], ["requestParameters.policyArn|endswith: '/AdministratorAccess'"], [], "high"),
    ("IAM inline policy with a wildcard action", "iam", ["PutUserPolicy", "PutRolePolicy", "PutGroupPolicy"], ["requestParameters.policyDocument|contains: '\"Action\":\"*\"'"], [], "high"),
    ("IAM trust policy updated", "iam", ["UpdateAssumeRolePolicy"], [], [], "medium"),
    ("IAM role deleted", "iam", ["DeleteRole", "DeleteRolePolicy"], [], [], "low"),
    ("IAM SAML provider deleted", "iam", ["DeleteSAMLProvider"], [], [], "medium"),
    ("IAM policy version set as default", "iam", ["SetDefaultPolicyVersion", "CreatePolicyVersion"], [], [], "medium"),
    ("IAM user deleted", "iam", ["DeleteUser"], [], [], "low"),
    ("Credential report generated", "iam", ["GenerateCredentialReport", "GetCredentialReport"], [], ["userIdentity.type: AWSService"], "low"),
    ("Root account used", None, None, ["userIdentity.type: Root"], ["eventType: AwsServiceEvent", "userIdentity.invokedBy|exists: true"], "medium"),
    ("Console login without MFA", "signin", ["ConsoleLogin"], ["additionalEventData.MFAUsed: 'No'"], [], "medium"),
    ("Console login failure", "signin", ["ConsoleLogin"], ["responseElements.ConsoleLogin: Failure"], [], "low"),
    ("GetSigninToken abuse", "signin", ["GetSigninToken"], [], ["userAgent|contains: 'Jersey/${project.version}'"], "medium"),
    ("STS federation token issued", "sts", ["GetFederationToken"], [], [], "medium"),
    ("STS session token for a user", "sts", ["GetSessionToken"], ["userIdentity.type: IAMUser"], [], "low"),
    ("KMS key scheduled for deletion", "kms", ["ScheduleKeyDeletion", "DisableKey"], [], [], "high"),
    ("KMS key material imported", "kms", ["ImportKeyMaterial"], [], [], "medium"),
    ("KMS key policy changed", "kms", ["PutKeyPolicy"], [], [], "medium"),
    ("Secrets read in bulk", "secretsmanager", ["BatchGetSecretValue"], [], [], "medium"),
    ("Secret value read by a user", "secretsmanager", ["GetSecretValue"], ["userIdentity.type: IAMUser"], [], "low"),
    ("SSM parameters decrypted", "ssm", ["GetParameter", "GetParameters"], ["requestParameters.withDecryption: 'true'"], [], "low"),
    ("SSM command sent", "ssm", ["SendCommand"], ["requestParameters.documentName|re: '^AWS-Run(Shell|PowerShell)Script$'"], [], "medium"),
    ("Lambda function URL created", "lambda", ["CreateFunctionUrlConfig20211031"], [], [], "medium"),
    ("Lambda layer attached", "lambda", ["UpdateFunctionConfiguration20150331v2"], ["requestParameters.layers|exists: true"], [], "low"),
    ("Log group deleted", "logs", ["DeleteLogGroup", "DeleteLogStream"], [], [], "medium"),
    ("Offensive tool user agent", None, None, ["userAgent|contains: ['kali', 'parrot', 'pentoo', 'pacu', 'trufflehog', 'S3 Browser']"], [], "high"),
    ("Access denied burst source", None, None, ["errorCode: ['AccessDenied', 'UnauthorizedOperation', 'Client.UnauthorizedOperation']", "sourceIPAddress|cidr: ['198.51.100.0/24', '203.0.113.0/24']"], [], "medium"),
    ("Organization left or account removed", "organizations", ["LeaveOrganization", "RemoveAccountFromOrganization"], [], [], "high"),
    ("Region enabled", "account", ["EnableRegion"], [], [], "medium"),
]
assert len(SPECS) == 60, len(SPECS)

NS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")
for i, (title, source, names, extra, filters, level) in enumerate(SPECS, 1):
    lines = [
        f"title: {title}",
        f"id: {uuid.uuid5(NS, 'trailscan-bench-' + str(i))}",
        "status: experimental",
        "description: Benchmark rule shaped like SigmaHQ's CloudTrail rules (written for trailscan).",
        "author: trailscan benchmark",
        "date: 2026-12-07",
        "tags:",
        "    - attack.defense-evasion",
        "logsource:",
        "    product: aws",
        "    service: cloudtrail",
        "detection:",
        "    selection:",
    ]
    if source:
        lines.append(f"        eventSource: {source}.amazonaws.com")
    if names:
        if len(names) == 1:
            lines.append(f"        eventName: {names[0]}")
        else:
            lines.append("        eventName:")
            lines += [f"            - {n}" for n in names]
    lines += [f"        {e}" for e in extra]
    if filters:
        for j, f in enumerate(filters):
            lines += [f"    filter_{j}:", f"        {f}"]
        lines.append("    condition: selection and not 1 of filter_*")
    else:
        lines.append("    condition: selection")
    lines += ["falsepositives:", "    - Administration", f"level: {level}"]
    with open(f"rule-{i:02}.yml", "w") as fh:
        fh.write("\n".join(lines) + "\n")
