"""Browser POST form vectors from botocore (`generate_presigned_post`, the clock frozen).

For each case, botocore signs a POST policy from the same inputs our `PostPolicy` takes:
endpoint, addressing, region, V4 or V2, session token, bucket, key (exact or a prefix with
`${filename}`), expiry, content-length-range, acl, success action, Content-Type (exact or
starts-with), metadata and other fields. `tests/post.rs` checks that our form has the same
URL, the same fields with the same values, the same conditions (botocore writes its own
order, spacing and `\\u` escapes, and its expiration without milliseconds) and the same
expiration, and that our signers give botocore's signature over botocore's policy.

The signing time has milliseconds: botocore, like us, states whole seconds.

Generated with botocore 1.43.11. Rerun:
    python3 sos-presign/tests/vectors/gen_botocore_post.py > sos-presign/tests/vectors/botocore_post.json
"""

import datetime
import json
import random
import sys
from unittest import mock

import botocore
import botocore.auth
import botocore.session
import botocore.signers
from botocore.config import Config

TIME = datetime.datetime(2026, 1, 2, 3, 4, 5, 750000)
ACCESS, SECRET = "EXO0123456789abcdef", "EXOsecretKEY+/="
TOKEN = "FQoGZXIvYXdzEXAMPLE+/=TOKEN"

ENDPOINTS = [
    ("https://sos-ch-gva-2.exo.io", "ch-gva-2", ("path", "virtual")),
    ("https://sos-de-fra-1.exo.io", "de-fra-1", ("path", "virtual")),
    # botocore makes `my-bucket-1.127.0.0.1` for virtual-host on an IP: path only.
    ("http://127.0.0.1:7480", "us-east-1", ("path",)),
]

VALUES = [
    "plain",
    "a b  c",
    "Jürg Müller",
    "日本語",
    "😀 emoji",
    'quo"te',
    "back\\slash",
    "a$b",
    "tab\there",
    "a+b=c&d;e",
    "<tag>",
    "",
]

PREFIXES = ["", "uploads/", "user 42/", "ü/😀/", 'q"/', "a$b/"]
EXACT_KEYS = ["photo.jpg", "dir/sub dir/file.txt", "日本/ファイル.txt", "$literal", "a+b=c"]
FIELDS = [
    ("Cache-Control", "max-age=60"),
    ("Content-Disposition", 'attachment; filename="a b.txt"'),
    ("Content-Encoding", "gzip"),
    ("Expires", "Thu, 01 Dec 2094 16:00:00 GMT"),
    ("x-amz-storage-class", "STANDARD"),
]


def client(endpoint, region, addressing, version, token):
    session = botocore.session.get_session()
    return session.create_client(
        "s3",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
        config=Config(signature_version="s3v4" if version == "V4" else "s3",
                      s3={"addressing_style": addressing}),
    )


def case(rng, n):
    endpoint, region, addressings = ENDPOINTS[n % len(ENDPOINTS)]
    c = {
        "name": f"post-{n}",
        "endpoint": endpoint,
        "region": region,
        "addressing": addressings[(n // len(ENDPOINTS)) % len(addressings)],
        "version": "V2" if n % 4 == 3 else "V4",
        "session_token": TOKEN if n % 5 == 2 else None,
        "bucket": "my-bucket-1",
        "expires_in": rng.choice([1, 60, 3600, 86400 * 30]),
    }
    if rng.random() < 0.5:
        c["key"] = {"exact": rng.choice(EXACT_KEYS)}
    else:
        c["key"] = {"starts_with": rng.choice(PREFIXES)}
    if rng.random() < 0.4:
        c["range"] = sorted([rng.choice([0, 1, 1024, 10 << 20, 5 << 30]) for _ in range(2)])
    if rng.random() < 0.3:
        c["acl"] = rng.choice(["private", "public-read", "bucket-owner-full-control"])
    r = rng.random()
    if r < 0.25:
        c["status"] = rng.choice([200, 201, 204])
    elif r < 0.4:
        c["redirect"] = rng.choice(["https://example.com/done", "https://example.com/d?a=1&b=ü"])
    r = rng.random()
    if r < 0.25:
        c["content_type"] = {"exact": rng.choice(["image/png", "text/plain; charset=utf-8"])}
    elif r < 0.5:
        c["content_type"] = {"starts_with": rng.choice(["image/", "", "text/"])}
    names = rng.sample(["uploader", "Mixed-Case", "a_b", "note"], rng.randint(0, 2))
    c["metadata"] = [[name, rng.choice(VALUES)] for name in names]
    c["fields"] = [list(f) for f in rng.sample(FIELDS, rng.choice([0, 0, 1, 2]))]
    return c


def sign(c):
    fields, conditions = {}, []
    if "acl" in c:
        fields["acl"] = c["acl"]
        conditions.append({"acl": c["acl"]})
    if "status" in c:
        fields["success_action_status"] = str(c["status"])
        conditions.append({"success_action_status": str(c["status"])})
    if "redirect" in c:
        fields["success_action_redirect"] = c["redirect"]
        conditions.append({"success_action_redirect": c["redirect"]})
    content_type = c.get("content_type", {})
    if "exact" in content_type:
        fields["Content-Type"] = content_type["exact"]
        conditions.append({"Content-Type": content_type["exact"]})
    if "starts_with" in content_type:
        conditions.append(["starts-with", "$Content-Type", content_type["starts_with"]])
    for name, value in c["metadata"]:
        fields["x-amz-meta-" + name] = value
        conditions.append({"x-amz-meta-" + name: value})
    for name, value in c["fields"]:
        fields[name] = value
        conditions.append({name: value})
    if "range" in c:
        conditions.append(["content-length-range", *c["range"]])
    key = c["key"].get("exact")
    if key is None:
        key = c["key"]["starts_with"] + "${filename}"
    s3 = client(c["endpoint"], c["region"], c["addressing"], c["version"], c["session_token"])
    with mock.patch.object(botocore.signers, "get_current_datetime", lambda *a, **k: TIME), \
         mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: TIME):
        post = s3.generate_presigned_post(c["bucket"], key, Fields=fields, Conditions=conditions,
                                          ExpiresIn=c["expires_in"])
    return {"url": post["url"], "fields": [[k, v] for k, v in post["fields"].items()]}


def main():
    rng = random.Random(2026)
    cases = []
    for n in range(120):
        c = case(rng, n)
        c["botocore"] = sign(c)
        cases.append(c)
    head = json.dumps({"generator": "gen_botocore_post.py", "botocore_version": botocore.__version__,
                       "access_key": ACCESS, "secret_key": SECRET,
                       "time": TIME.strftime("%Y%m%dT%H%M%SZ"),
                       "time_millis": TIME.microsecond // 1000}, ensure_ascii=False)
    # One case a line: the policies are long base64 strings.
    print(head[:-1] + ', "cases": [')
    print(",\n".join(json.dumps(c, ensure_ascii=False) for c in cases))
    print("]}")


if __name__ == "__main__":
    main()
