#!/usr/bin/env python3
"""Build the trailscan test fixtures under fixtures/ from /work/shared/datasets.

Deterministic: fixed file selection, gzip with mtime=0, fixed random seed.
stdlib only. Run from anywhere:  python3 scripts/make_fixtures.py [SRC] [OUT]
Writes fixtures/archive, fixtures/shapes, fixtures/broken, fixtures/stratus and
fixtures/manifest.json. fixtures/README.md is written by hand (it documents the
choices made here) but its count tables are printed by this script (--table).
"""
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import sys
import uuid
from datetime import datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "/work/shared/datasets"
OUT = os.path.join(HERE, "..", "fixtures")
ARCH = os.path.join(OUT, "archive")

INV = os.path.join(SRC, "invictus-ir-aws-dataset")
INV_FILE_ACCT = "218007301253"  # account in the upstream file names
INV_ACCT = "123837392027"  # recipientAccountId inside the records
ORG = "o-exampleorg1"
TSFMT = "%Y-%m-%dT%H:%M:%SZ"

# Invictus files NOT copied as account A; they feed the re-mapped accounts instead
# (so no eventID appears twice in the archive).
REMAP_B = [  # -> account 222233334444, us-east-1 -> eu-west-1
    ("20230710T1200Z_iLj9fb7yyUG9X4Bf", timedelta(hours=36)),  # 11:5x -> 23:5x on 07-11, delivered 07-12 00:00
    ("20230710T1210Z_6CICdbJQM3beT7n3", timedelta(days=2)),  # -> 2023-07-12 12:0x
]
REMAP_C = [  # -> account 555566667777 (organization trail), us-east-1 -> ap-southeast-2
    ("20230710T1215Z_nBsuPO1qSTEVerMD", timedelta(days=3)),  # -> 2023-07-13
]
ACCT_B, REGION_B = "222233334444", "eu-west-1"
ACCT_C, REGION_C = "555566667777", "ap-southeast-2"
# Invictus files dropped entirely (size budget): none of them holds a CreateUser.
DROP = ["20230710T1205Z_zs3JGxETHr59VpkX", "20230710T1235Z_YbVFCP9AYzJDhHV9"]
# Invictus files written uncompressed (.json), as uncompressed delivery files.
PLAIN = ["20230710T1150Z_1vnLavRRp0ek1mP4", "20230710T1230Z_GyyPwrInk2rgv8V0"]
# Stratus Red Team detonation files placed (unchanged records) in the organization trail.
STRATUS_ORG = [
    "aws.persistence.iam-create-admin-user.json",
    "aws.defense-evasion.cloudtrail-stop.json",
    "aws.defense-evasion.cloudtrail-delete.json",
    "aws.defense-evasion.organizations-leave.json",
    "aws.initial-access.console-login-without-mfa.json",
    "aws.credential-access.secretsmanager-retrieve-secrets.json",
]

manifest = {}


def rel(p):
    return os.path.relpath(p, OUT).replace(os.sep, "/")


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def note(path, kind, records, create_user, **extra):
    e = {"kind": kind, "records": records, "create_user": create_user}
    e.update(extra)
    manifest[rel(path)] = e


def rand16(key):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    h = hashlib.sha256(key.encode()).digest()
    return "".join(alphabet[b % 62] for b in h[:16])


def ptime(s):
    return datetime.strptime(s, TSFMT)


def dumps(o):
    return json.dumps(o, separators=(",", ":"), ensure_ascii=False)


def records_doc(texts):
    return ('{"Records":[' + ",".join(texts) + "]}").encode("utf-8")


def n_cu(recs):
    return sum(1 for r in recs if r.get("eventName") == "CreateUser")


def ct_path(acct, region, stamp, suffix, org=False, ext=".json.gz", kind="CloudTrail"):
    base = os.path.join(ARCH, "AWSLogs", ORG, acct) if org else os.path.join(ARCH, "AWSLogs", acct)
    name = "%s_%s_%s_%s_%s%s" % (acct, kind, region, stamp.strftime("%Y%m%dT%H%MZ"), suffix, ext)
    return os.path.join(base, kind, region, stamp.strftime("%Y/%m/%d"), name)


def write_records_file(path, texts, src, **extra):
    data = records_doc(texts)
    recs = [json.loads(t) for t in texts]
    write(path, gz(data) if path.endswith(".gz") else data)
    note(path, "records", len(recs), n_cu(recs), source=src, **extra)
    return recs


def window_groups(recs):
    """Group records by (account, region, 5-minute window); stamp = window end."""
    groups = {}
    for r in recs:
        t = ptime(r["eventTime"])
        w = t.replace(minute=t.minute - t.minute % 5, second=0) + timedelta(minutes=5)
        groups.setdefault((r["recipientAccountId"], r["awsRegion"], w), []).append(r)
    return sorted(groups.items())


ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def remap_text(t, acct, region, delta):
    t = t.replace(INV_ACCT, acct).replace("us-east-1", region)
    return ISO.sub(lambda m: (ptime(m.group(0)) + delta).strftime(TSFMT), t)


# ---------------------------------------------------------------- archive
def build_archive():
    files = sorted(f for f in os.listdir(INV) if f.endswith(".json"))
    remap_keys = {k: d for k, d in REMAP_B + REMAP_C}
    for f in files:
        key = f[len(INV_FILE_ACCT) + len("_CloudTrail_us-east-1_"):-5]
        raw = open(os.path.join(INV, f), "rb").read()
        recs = json.loads(raw)["Records"]
        stamp = datetime.strptime(key.split("_")[0], "%Y%m%dT%H%MZ")
        suffix = key.split("_")[1]
        if key in DROP:
            continue
        if key in remap_keys:
            delta = remap_keys[key]
            is_b = key in dict(REMAP_B)
            acct, region = (ACCT_B, REGION_B) if is_b else (ACCT_C, REGION_C)
            texts = [remap_text(dumps(r), acct, region, delta) for r in recs]
            path = ct_path(acct, region, stamp + delta, rand16("remap" + key), org=not is_b)
            write_records_file(path, texts, "invictus-ir %s (re-mapped)" % f, generated=False,
                               remapped={"account": [INV_ACCT, acct], "region": ["us-east-1", region],
                                         "time_shift_hours": delta.total_seconds() / 3600})
            continue
        plain = key in PLAIN
        path = ct_path(INV_ACCT, "us-east-1", stamp, suffix, ext=".json" if plain else ".json.gz")
        write(path, raw if plain else gz(raw))  # upstream bytes, unchanged
        note(path, "records", len(recs), n_cu(recs), source="invictus-ir " + f, generated=False)

    # flaws2 and trailscraper: upstream .json.gz files copied byte for byte
    fl = os.path.join(SRC, "flaws2-cloud", "AWSLogs", "653711331788", "CloudTrail", "us-east-1", "2018", "11", "28")
    for f in sorted(os.listdir(fl)):
        raw = open(os.path.join(fl, f), "rb").read()
        path = os.path.join(ARCH, "AWSLogs", "653711331788", "CloudTrail", "us-east-1", "2018", "11", "28", f)
        write(path, raw)
        recs = json.loads(gzip.decompress(raw))["Records"]
        note(path, "records", len(recs), n_cu(recs), source="flaws2 " + f, generated=False)
    ts = os.path.join(SRC, "trailscraper-fixtures")
    for f in sorted(os.listdir(ts)):
        raw = open(os.path.join(ts, f), "rb").read()
        path = os.path.join(ARCH, "AWSLogs", "111111111111", "CloudTrail", "eu-central-1", "2017", "12", "11", f)
        write(path, raw)
        recs = json.loads(gzip.decompress(raw))["Records"]
        note(path, "records", len(recs), n_cu(recs), source="trailscraper " + f, generated=False)

    # stratus records, unchanged, regrouped into the organization trail by delivery window
    srecs = []
    for f in STRATUS_ORG:
        for r in json.load(open(os.path.join(SRC, "stratus-red-team-detonation-logs", f))):
            r["__src"] = f
            srecs.append(r)
    for (acct, region, stamp), grp in window_groups(srecs):
        srcs = sorted({r.pop("__src") for r in grp})
        grp.sort(key=lambda r: r["eventTime"])
        path = ct_path(acct, region, stamp, rand16("stratus%s%s%s" % (acct, region, stamp)), org=True)
        write_records_file(path, [dumps(r) for r in grp], "stratus-red-team " + ",".join(srcs), generated=False)

    # planted, generated CreateUser records
    for p in planted():
        r = p
        t = ptime(r["eventTime"])
        stamp = t.replace(minute=t.minute - t.minute % 5, second=0) + timedelta(minutes=5)
        org = r["recipientAccountId"] == ACCT_C
        path = ct_path(r["recipientAccountId"], r["awsRegion"], stamp, rand16("planted" + r["eventID"]), org=org)
        write_records_file(path, [dumps(r)], "GENERATED (planted CreateUser, based on invictus-ir CreateUser)",
                           generated=True)

    # Insight records (awsdocs examples), one file per account/day
    ins = [json.loads(l) for l in open(os.path.join(SRC, "awsdocs-examples", "records.jsonl"), encoding="utf-8")
           if json.loads(l).get("eventType") == "AwsCloudTrailInsight"]
    byday = {}
    for r in ins:
        byday.setdefault((r["recipientAccountId"], r["awsRegion"], r["eventTime"][:10]), []).append(r)
    for (acct, region, day), grp in sorted(byday.items()):
        t = max(ptime(r["eventTime"]) for r in grp)
        stamp = t.replace(minute=t.minute - t.minute % 5, second=0) + timedelta(minutes=5)
        path = ct_path(acct, region, stamp, rand16("insight" + acct + day), kind="CloudTrail-Insight")
        write_records_file(path, [dumps(r) for r in grp], "awsdocs-examples records.jsonl (Insight records)",
                           generated=False, insight=True)

    # digest files: real examples, gzipped, stored at their own digestS3Object key
    for f in [os.path.join(SRC, "awsdocs-examples", "digest-example-1.json"),
              os.path.join(SRC, "awsdocs-examples", "digest-example-2.json"),
              os.path.join(SRC, "llm-guard-digest",
                           "327878933619_CloudTrail-Digest_ap-northeast-1_llm-guard-trail_us-west-2_20231015T230404Z.json")]:
        raw = open(f, "rb").read()
        key = json.loads(raw)["digestS3Object"]
        path = os.path.join(ARCH, key)
        write(path, gz(raw))
        note(path, "digest", 0, 0, source=os.path.relpath(f, SRC), generated=False)


def base_createuser():
    f = [x for x in os.listdir(INV) if "ZtUNbBkwAu98FPZb" in x][0]
    for r in json.load(open(os.path.join(INV, f)))["Records"]:
        if r["eventName"] == "CreateUser" and r["requestParameters"]["userName"] == "malicious-iam-user":
            return r
    raise SystemExit("base record not found")


def planted():
    """Three GENERATED CreateUser records (eventIDs feedface-...)."""
    out = []
    specs = [
        # n, time, recipient account, identity, new user, error
        (1, "2023-07-11T09:14:07Z", ACCT_B, "iam", "backdoor-1", None),
        (2, "2023-07-12T16:41:52Z", ACCT_C, "role", "backdoor-2", None),
        (3, "2023-07-13T03:22:10Z", INV_ACCT, "iam", "backdoor-3", "AccessDenied"),
    ]
    for n, when, acct, idt, newuser, err in specs:
        r = json.loads(json.dumps(base_createuser()))
        if idt == "iam":
            r["userIdentity"] = {"type": "IAMUser", "principalId": "AIDAFIXTUREMALLORY%03d" % n,
                                 "arn": "arn:aws:iam::%s:user/mallory" % acct, "accountId": acct,
                                 "accessKeyId": "AKIAFIXTUREMALLORY%02d" % n, "userName": "mallory"}
        else:  # mallory from account B, in account C through the organization access role
            r["userIdentity"] = {
                "type": "AssumedRole", "principalId": "AROAFIXTUREORGACCESS:mallory",
                "arn": "arn:aws:sts::%s:assumed-role/OrganizationAccountAccessRole/mallory" % acct,
                "accountId": acct, "accessKeyId": "ASIAFIXTUREMALLORY%02d" % n,
                "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAFIXTUREORGACCESS",
                                                     "arn": "arn:aws:iam::%s:role/OrganizationAccountAccessRole" % acct,
                                                     "accountId": acct, "userName": "OrganizationAccountAccessRole"},
                                   "webIdFederationData": {},
                                   "attributes": {"creationDate": "2023-07-12T16:40:03Z", "mfaAuthenticated": "false"}}}
        r["eventTime"] = when
        r["awsRegion"] = "us-east-1"  # IAM is global: CloudTrail logs it in us-east-1
        r["sourceIPAddress"] = "203.0.113.66"
        r["userAgent"] = "aws-cli/2.13.0 Python/3.11.4 Linux/6.1.0 exe/x86_64.debian.12 prompt/off command/iam.create-user"
        r["requestParameters"] = {"userName": newuser}
        if err:
            r["errorCode"] = err
            r["errorMessage"] = ("User: arn:aws:iam::%s:user/mallory is not authorized to perform: iam:CreateUser on "
                                 "resource: arn:aws:iam::%s:user/%s because no identity-based policy allows the "
                                 "iam:CreateUser action" % (acct, acct, newuser))
            r["responseElements"] = None
            # keep CloudTrail's key order: errorCode/errorMessage come before requestParameters
            order = list(r.keys())
            keys = [k for k in order if k not in ("errorCode", "errorMessage")]
            i = keys.index("requestParameters")
            keys[i:i] = ["errorCode", "errorMessage"]
            r = {k: r[k] for k in keys}
        else:
            t = ptime(when)
            r["responseElements"] = {"user": {"path": "/", "userName": newuser, "userId": "AIDAFIXTUREBACKDOOR%02d" % n,
                                              "arn": "arn:aws:iam::%s:user/%s" % (acct, newuser),
                                              "createDate": t.strftime("%b %d, %Y ") + t.strftime("%I:%M:%S %p").lstrip("0")}}
        r["requestID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "trailscan-fixture-request-%d" % n))
        r["eventID"] = "feedface-0000-4000-8000-%012d" % n
        r["recipientAccountId"] = acct
        r["tlsDetails"] = dict(r["tlsDetails"], tlsVersion="TLSv1.3", cipherSuite="TLS_AES_128_GCM_SHA256")
        out.append(r)
    return out


# ---------------------------------------------------------------- shapes
def build_shapes():
    S = os.path.join(OUT, "shapes")
    # records.jsonl: first 40 lines of TrailDiscover records.jsonl, as is
    lines = open(os.path.join(SRC, "traildiscover", "records.jsonl"), "rb").read().split(b"\n")
    data = b"\n".join(lines[:40]) + b"\n"
    write(os.path.join(S, "records.jsonl"), data)
    recs = [json.loads(l) for l in lines[:40]]
    note(os.path.join(S, "records.jsonl"), "records", len(recs), n_cu(recs), source="traildiscover records.jsonl lines 1-40")

    # array.json: a Stratus detonation file (bare pretty array), as is
    f = os.path.join(SRC, "stratus-red-team-detonation-logs", "aws.persistence.iam-create-user-login-profile.json")
    raw = open(f, "rb").read()
    write(os.path.join(S, "array.json"), raw)
    recs = json.loads(raw)
    note(os.path.join(S, "array.json"), "records", len(recs), n_cu(recs), source="stratus " + os.path.basename(f))

    # single-record.json: the one record of the Stratus cloudtrail-delete file, as an object
    f = os.path.join(SRC, "stratus-red-team-detonation-logs", "aws.defense-evasion.cloudtrail-delete.json")
    rec = json.load(open(f))[0]
    write(os.path.join(S, "single-record.json"), (json.dumps(rec, indent=2, ensure_ascii=False) + "\n").encode())
    note(os.path.join(S, "single-record.json"), "records", 1, n_cu([rec]), source="stratus " + os.path.basename(f))

    # lookup-events: plaso's JSON lines, and the same events as one aws-cli output document
    f = os.path.join(SRC, "plaso-test-data", "aws_cloudtrail.jsonl")
    raw = open(f, "rb").read()
    write(os.path.join(S, "lookup-events.jsonl"), raw)
    evs = [json.loads(l) for l in raw.decode().splitlines() if l.strip()]
    inner = [json.loads(e["CloudTrailEvent"]) for e in evs]
    note(os.path.join(S, "lookup-events.jsonl"), "records", len(evs), n_cu(inner), source="plaso aws_cloudtrail.jsonl")
    doc = json.dumps({"Events": evs}, indent=4, ensure_ascii=False) + "\n"
    write(os.path.join(S, "lookup-events.json"), doc.encode())
    note(os.path.join(S, "lookup-events.json"), "records", len(evs), n_cu(inner), source="plaso aws_cloudtrail.jsonl, wrapped in {\"Events\":[...]}")

    # eventbridge envelopes, as is
    f = os.path.join(SRC, "awsdocs-examples", "eventbridge-envelopes.jsonl")
    raw = open(f, "rb").read()
    write(os.path.join(S, "eventbridge-envelopes.jsonl"), raw)
    det = [json.loads(l)["detail"] for l in raw.decode().splitlines() if l.strip()]
    note(os.path.join(S, "eventbridge-envelopes.jsonl"), "records", len(det), n_cu(det), source="awsdocs eventbridge-envelopes.jsonl")

    # bom.json: a flaws2 delivery file, decompressed, with a UTF-8 BOM in front
    f = os.path.join(SRC, "flaws2-cloud", "AWSLogs", "653711331788", "CloudTrail", "us-east-1", "2018", "11", "28",
                     "653711331788_CloudTrail_us-east-1_20181128T2310Z_jJW5HfNtz7kOnvcP.json.gz")
    raw = gzip.decompress(open(f, "rb").read())
    write(os.path.join(S, "bom.json"), b"\xef\xbb\xbf" + raw)
    recs = json.loads(raw)["Records"]
    note(os.path.join(S, "bom.json"), "records", len(recs), n_cu(recs), source="flaws2 " + os.path.basename(f) + " + BOM")

    # multi-member.json.gz: one invictus document split in two, each half its own gzip member
    f = os.path.join(INV, [x for x in os.listdir(INV) if "ZtUNbBkwAu98FPZb" in x][0])
    raw = open(f, "rb").read()
    half = len(raw) // 2
    write(os.path.join(S, "multi-member.json.gz"), gz(raw[:half]) + gz(raw[half:]))
    recs = json.loads(raw)["Records"]
    note(os.path.join(S, "multi-member.json.gz"), "records", len(recs), n_cu(recs),
         source="invictus-ir " + os.path.basename(f) + " split into 2 gzip members at byte %d" % half)

    # pretty.json: trailscraper's delivery file, decompressed (pretty-printed upstream)
    f = os.path.join(SRC, "trailscraper-fixtures", os.listdir(os.path.join(SRC, "trailscraper-fixtures"))[0])
    raw = gzip.decompress(open(f, "rb").read())
    write(os.path.join(S, "pretty.json"), raw)
    recs = json.loads(raw)["Records"]
    note(os.path.join(S, "pretty.json"), "records", len(recs), n_cu(recs), source="trailscraper " + os.path.basename(f) + " decompressed")

    # awkward.json
    base = base_createuser()
    t1 = dumps(base)
    edits = [
        ('"eventName":"CreateUser"', '"eventName":"Create\\u0055ser"'),
        ('"arn":"arn:aws:iam::123837392027:user/bert-jan"', '"arn":"arn:aws:iam::123837392027:user\\/bert-jan"'),
        ('"userAgent":"stratus-red-team_', '"userAgent":"\\"quoted\\" stratus-red-team_'),
        ('{"key":"StratusRedTeam","value":"true"}]},"responseElements"',
         '{"key":"StratusRedTeam","value":"true \U0001F980 caf\u00e9"}]},"responseElements"'),
        ('"readOnly":false', '"readOnly":false,"additionalEventData":{"bigInt":9007199254740993,"one":1.0,"tiny":1.5e-7}'),
    ]
    for a, b in edits:
        assert t1.count(a) == 1, a
        t1 = t1.replace(a, b)
    f = invf = [x for x in os.listdir(INV) if "ZtUNbBkwAu98FPZb" in x][0]
    other = next(r for r in json.load(open(os.path.join(INV, f)))["Records"]
                 if r["eventName"] == "AttachUserPolicy")
    other = dict(other)
    other["requestParameters"] = dumps(other["requestParameters"])
    recs = [json.loads(t1), other]
    write(os.path.join(S, "awkward.json"), records_doc([t1, dumps(other)]))
    note(os.path.join(S, "awkward.json"), "records", 2, n_cu(recs),
         source="invictus-ir %s: CreateUser (malicious-iam-user) and AttachUserPolicy, EDITED" % f, generated="edited")

    # digest.json: the real llm-guard digest, as is
    f = os.path.join(SRC, "llm-guard-digest",
                     "327878933619_CloudTrail-Digest_ap-northeast-1_llm-guard-trail_us-west-2_20231015T230404Z.json")
    write(os.path.join(S, "digest.json"), open(f, "rb").read())
    note(os.path.join(S, "digest.json"), "digest", 0, 0, source="llm-guard-digest " + os.path.basename(f))

    # hostile.json: GENERATED from a real AccessDenied record
    f = [x for x in os.listdir(INV) if "1205Z_UljXNp9xLp8nsAGc" in x][0]
    base = next(r for r in json.load(open(os.path.join(INV, f)))["Records"] if r.get("errorCode") == "AccessDenied")
    payloads = [
        ("\x1b[31mRED\x1b[0m \x1b]8;;http://x\x07click\x1b]8;;\x07", "=HYPERLINK(\"http://x\",\"click\")",
         "bell\x07 back\x08\x08space carriage\rreturn"),
        ("+1", "evil\u202egnp.exe", "-2"),
        ("@SUM(1)", "\x1b[2J\x1b[H", "\u202e\x1b]0;title\x07"),
    ]
    texts = []
    for i, (ua, user, msg) in enumerate(payloads, 1):
        r = json.loads(json.dumps(base))
        r["userAgent"] = ua
        r["userIdentity"]["userName"] = user
        r["errorMessage"] = msg
        r["eventID"] = "feedface-0000-4000-9000-%012d" % i
        texts.append(dumps(r))
    write(os.path.join(S, "hostile.json"), records_doc(texts))
    note(os.path.join(S, "hostile.json"), "records", 3, 0,
         source="GENERATED from invictus-ir %s AccessDenied record %s" % (f, base["eventID"]), generated=True)


# ---------------------------------------------------------------- broken
def build_broken():
    B = os.path.join(OUT, "broken")
    f = os.path.join(INV, [x for x in os.listdir(INV) if "1205Z_UljXNp9xLp8nsAGc" in x][0])
    g = gz(open(f, "rb").read())
    write(os.path.join(B, "truncated.json.gz"), g[: len(g) // 2])
    note(os.path.join(B, "truncated.json.gz"), "broken", None, None, source="gzip of invictus-ir %s cut at half" % os.path.basename(f))
    for n in ("empty.json", "empty.json.gz"):
        write(os.path.join(B, n), b"")
        note(os.path.join(B, n), "broken", None, None, source="0 bytes")
    write(os.path.join(B, "not-gzip.json.gz"), b"This is plain text, not gzip data.\n")
    note(os.path.join(B, "not-gzip.json.gz"), "broken", None, None, source="plain text named .gz")
    f = os.path.join(SRC, "datadog-forwarded-stratus-2022", "aws.execution.ec2-user-data.json")
    write(os.path.join(B, "invalid.json"), open(f, "rb").read())
    note(os.path.join(B, "invalid.json"), "broken", None, None, source="datadog-forwarded-stratus-2022 aws.execution.ec2-user-data.json (missing comma upstream)")
    write(os.path.join(B, "records-not-array.json"), b'{"Records":{}}\n')
    note(os.path.join(B, "records-not-array.json"), "broken", None, None, source="hand-written")
    write(os.path.join(B, "garbage.bin"), random.Random(20240707).randbytes(4096))
    note(os.path.join(B, "garbage.bin"), "broken", None, None, source="4096 random bytes, random.Random(20240707)")
    lines = open(os.path.join(SRC, "traildiscover", "records.jsonl"), "rb").read().split(b"\n")
    good = lines[40:45]
    bad = lines[45][: len(lines[45]) // 2]
    data = b"\n".join(good[:3] + [bad] + good[3:5]) + b"\n"
    write(os.path.join(B, "half-valid.jsonl"), data)
    recs = [json.loads(l) for l in good]
    note(os.path.join(B, "half-valid.jsonl"), "broken", None, None, valid_records=5, valid_create_user=n_cu(recs),
         broken_line=4, source="traildiscover records.jsonl lines 41-43, first half of line 46, lines 44-45")


def build_stratus():
    D = os.path.join(SRC, "stratus-red-team-detonation-logs")
    for f in sorted(os.listdir(D)):
        p = os.path.join(OUT, "stratus", f)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        shutil.copyfile(os.path.join(D, f), p)
        recs = json.load(open(p))
        note(p, "records", len(recs), n_cu(recs), source="stratus-red-team " + f)


# ---------------------------------------------------------------- verification
LAYOUT = re.compile(r"^archive/AWSLogs/(?:(o-[a-z0-9]+)/)?(\d{12})/CloudTrail/([^/]+)/(\d{4})/(\d{2})/(\d{2})/"
                    r"(\d{12})_CloudTrail_([^_]+)_(\d{8}T\d{4}Z)_([A-Za-z0-9]{16})\.json(\.gz)?$")


def load_records(path):
    raw = open(path, "rb").read()
    if path.endswith(".gz"):
        d = gzip.GzipFile(fileobj=__import__("io").BytesIO(raw))
        raw = d.read()  # GzipFile reads every member
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode("utf-8")
    name = os.path.basename(path)
    if name.endswith(".jsonl"):
        out = []
        for l in text.splitlines():
            if not l.strip():
                continue
            o = json.loads(l)
            if "CloudTrailEvent" in o:
                o = json.loads(o["CloudTrailEvent"])
            elif "detail" in o and "detail-type" in o:
                o = o["detail"]
            out.append(o)
        return out
    o = json.loads(text)
    if isinstance(o, list):
        return o
    if "Records" in o:
        assert isinstance(o["Records"], list)
        return o["Records"]
    if "Events" in o:
        return [json.loads(e["CloudTrailEvent"]) for e in o["Events"]]
    if "digestS3Object" in o:
        return "digest"
    assert "eventTime" in o and "eventName" in o
    return [o]


def verify():
    files = {}
    for root, _, names in os.walk(OUT):
        for n in names:
            p = os.path.join(root, n)
            # athena/ is hand-written (see README.md), not built here.
            if rel(p) not in ("README.md", "manifest.json") and not rel(p).startswith("athena/"):
                files[rel(p)] = p
    assert set(files) == set(manifest), set(files) ^ set(manifest)
    midnight = 0
    for k, p in sorted(files.items()):
        m = manifest[k]
        if m["kind"] == "broken":
            ok = True
            try:
                load_records(p)
            except Exception:
                ok = False
            if k.endswith("half-valid.jsonl"):
                ok = False if not ok else ok
            assert not ok, "broken file parses: " + k
            continue
        recs = load_records(p)
        if m["kind"] == "digest":
            assert recs == "digest", k
            continue
        assert len(recs) == m["records"], (k, len(recs), m["records"])
        assert n_cu(recs) == m["create_user"], k
        mm = LAYOUT.match(k)
        if "/CloudTrail/" in k:
            assert mm, "bad layout: " + k
        if mm:
            org, acct, region, y, mo, d, facct, fregion, stamp, _, _ = mm.groups()
            assert acct == facct and region == fregion, k
            stamp = datetime.strptime(stamp, "%Y%m%dT%H%MZ")
            assert stamp.strftime("%Y%m%d") == y + mo + d, k
            times = []
            for r in recs:
                assert r["recipientAccountId"] == acct, (k, r["recipientAccountId"])
                assert r["awsRegion"] == region, (k, r["awsRegion"])
                times.append(ptime(r["eventTime"]))
            assert max(times) <= stamp <= max(times) + timedelta(minutes=15), k
            assert min(times) >= stamp - timedelta(minutes=15), k
            assert all(t.date() <= stamp.date() for t in times), k
            if min(times).date() < stamp.date():
                midnight += 1
    assert midnight >= 1
    # eventIDs unique inside the archive
    ids = [r["eventID"] for k, p in files.items() if LAYOUT.match(k) for r in load_records(p)]
    assert len(ids) == len(set(ids)), "duplicate eventID in archive"
    # the multi-member file really has two members, each not a whole document
    raw = open(os.path.join(OUT, "shapes", "multi-member.json.gz"), "rb").read()
    d = __import__("zlib").decompressobj(31)
    first = d.decompress(raw)
    assert d.unused_data.startswith(b"\x1f\x8b")
    try:
        json.loads(first)
        raise AssertionError("first member is a whole document")
    except ValueError:
        pass
    print("verify: %d files ok, %d archive records, %d midnight-crossing file(s)" % (len(files), len(ids), midnight))


def summary():
    """Count tables for fixtures/README.md."""
    print("| path | kind | records | CreateUser |")
    print("|---|---|---|---|")
    for k, v in sorted(manifest.items()):
        print("| `%s` | %s | %s | %s |" % (k, v["kind"], v["records"] if v["records"] is not None else "-",
                                          v["create_user"] if v["create_user"] is not None else "-"))
    print()
    print("| time | account | region | actor | new user | error | file |")
    print("|---|---|---|---|---|---|---|")
    rows = []
    for k, v in manifest.items():
        if v["kind"] == "records" and v["create_user"]:
            for r in load_records(os.path.join(OUT, k)):
                if r.get("eventName") == "CreateUser":
                    rows.append((r["eventTime"], r.get("recipientAccountId"), r.get("awsRegion"),
                                 r["userIdentity"].get("arn"), (r.get("requestParameters") or {}).get("userName"),
                                 r.get("errorCode") or "", k))
    for row in sorted(rows):
        print("| %s | %s | %s | `%s` | %s | %s | `%s` |" % row)


def main():
    for d in ("archive", "shapes", "broken", "stratus"):
        shutil.rmtree(os.path.join(OUT, d), ignore_errors=True)
    build_archive()
    build_shapes()
    build_broken()
    build_stratus()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"files": dict(sorted(manifest.items()))}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    verify()
    if "--table" in sys.argv:
        summary()


if __name__ == "__main__":
    main()
