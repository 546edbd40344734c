"""Signing vectors from botocore, the signer inside the `aws` CLI, for `tests/botocore.rs`.

What it does: builds real botocore S3 clients (signature versions `s3v4` and `s3`), calls S3
operations on them and `generate_presigned_url`, with the clock frozen and fixed keys. A
`before-send` handler records the final request botocore would put on the wire (URL, headers with
`Authorization`, body) and answers with a canned 200 response, so no network is used. Wrappers
around botocore's own signer methods record what it hashed: the V4 canonical request and string to
sign, the V2 string to sign, and the URL handed to the pre-signers. Everything is written as JSON
to stdout; the script then checks its output (unique names, every field present, V4 signatures
recomputed with hmac/hashlib from the recorded string to sign, V4 canonical requests rebuilt from
the recorded URL and headers, V2 signatures recomputed) and exits non-zero on any failure.

Per scheme, what a case holds:
* v4-header: `url` and `body_hex` as sent; `headers` = exactly the headers botocore signed, minus
  `host` (botocore never sets Host: it signs the URL's host, without a default port). Unsigned
  headers it sends (User-Agent, amz-sdk-*, Expect, Content-Length) are left out.
* v4-query: `url` = the URL given to the pre-signer, before any X-Amz-* parameter; `headers` =
  the headers it signed besides host (Content-Type for a pre-signed PUT that names one).
* v2-header: `headers` = the headers HmacV1 reads (Date, Content-MD5, Content-Type, x-amz-*),
  including the `Date` botocore set; no `x-amz-date` is ever sent (botocore's V2 signer writes its
  Date line even when x-amz-date is present, which the AWS documentation disagrees with).
* v2-query: `url` before signing, `expires` the Expires epoch, `headers` the signed Content-Type
  / Content-MD5 / x-amz-* headers except x-amz-security-token (the session token is in the
  credentials; botocore moves all of these into the query string).

botocore behaviour these vectors pin down: S3 keys are encoded as every byte but
A-Z a-z 0-9 - _ . ~ and `/` (so `+` is %2B, `~` stays, `//` and a leading `/` stay, no dot-segment
or slash normalisation); query values likewise (`+` %2B, `/` %2F, `~` kept); a valueless
sub-resource (`?acl`) is signed as `acl=` and a pre-signed URL rewrites it to `?acl=`; V4 header
values are trimmed and every whitespace run (tabs too) becomes one space, V2 only trims the ends;
Host is never sent as a header, the URL's host is signed (port kept unless default). V2 on a
path-style request for a bucket alone (`http://127.0.0.1:9000/my-bucket?cors`) signs the resource
`/my-bucket/?cors`, with a slash the URL does not have: botocore sets auth_path to `/{Bucket}/` on
purpose, "to generate a signature that the server will accept" (cases `*-path-style`).

Generated with botocore 1.43.11 (Python 3.11). Rerun from the workspace root:

    python3 sos-auth/tests/vectors/gen_botocore.py > sos-auth/tests/vectors/botocore.json

The output is deterministic (fixed clock, keys and inputs; the random amz-sdk-invocation-id and
the User-Agent are unsigned and dropped).
"""

import base64
import calendar
import datetime
import email.utils
import hashlib
import hmac
import json
import sys
import time as _time
import types
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import botocore
import botocore.auth
import botocore.config
import botocore.session
from botocore.awsrequest import AWSResponse

T1 = datetime.datetime(2026, 1, 2, 3, 4, 5)
T2 = datetime.datetime(2013, 5, 24, 0, 0, 0)

AWS = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
EXO = ("EXO0123456789abcdef", "EXOsecretKEY+/=")
TOKEN = "FwoGZXIvYXdzEBYaDH+token/with=chars"
TOKEN2 = "IQoJb3JpZ2luX2VjEMv//////////wEaCXVzLWVhc3QtMSJHMEUCIQ=="

LOCAL = "http://127.0.0.1:9000"
AWS_EP = "https://s3.amazonaws.com"
GVA = "https://sos-ch-gva-2.exo.io"
FRA = "https://sos-de-fra-1.exo.io"

BUCKET = "my-bucket"

K_SPACES = "dir/sub dir/file name.txt"
K_UNICODE = "café/日本語/ファイル 😀.txt"
K_PLUS = "a+b=c d.txt"
K_TILDE = "~user/file~1.txt"
K_RESERVED = "a&b?c#d%e.txt"
K_DOUBLE = "a//b///c.txt"
K_TRAILING = "folder/sub/"
K_LEADING = "/leading.txt"
K_SUBDELIMS = "!$'()*,;:@[].txt"
K_PERCENT = "literal%20percent.txt"

BODY = b"Welcome to Amazon S3."
UPLOAD_ID = "VXBsb2FkIElE+/=.abc~x"
DELETE = {"Objects": [{"Key": K_SPACES}, {"Key": K_UNICODE}, {"Key": "plain.txt"}], "Quiet": True}

# Minimal bodies for operations whose response botocore inspects.
RESPONSES = {
    "ListObjectsV2": b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></ListBucketResult>',
    "ListObjectVersions": b'<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></ListVersionsResult>',
    "ListBuckets": b'<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></ListAllMyBucketsResult>',
    "CreateMultipartUpload": b"<InitiateMultipartUploadResult><UploadId>x</UploadId></InitiateMultipartUploadResult>",
    "CompleteMultipartUpload": b"<CompleteMultipartUploadResult></CompleteMultipartUploadResult>",
    "CopyObject": b"<CopyObjectResult><ETag>&quot;x&quot;</ETag></CopyObjectResult>",
    "UploadPartCopy": b"<CopyPartResult><ETag>&quot;x&quot;</ETag></CopyPartResult>",
    "DeleteObjects": b"<DeleteResult></DeleteResult>",
}


def spec(name, scheme, op, params=None, *, endpoint=LOCAL, style="path", region="us-east-1", keys=AWS,
         token=None, signing=None, at=T1, expires_in=None):
    return dict(name=name, scheme=scheme, op=op, params=params or {}, endpoint=endpoint, style=style,
                region=region, keys=keys, token=token, signing=signing, at=at, expires_in=expires_in)


def v4h(name, op, params=None, **kw):
    return spec(name, "v4-header", op, params, **kw)


def v4q(name, op, params=None, **kw):
    return spec(name, "v4-query", op, params, **kw)


def v2h(name, op, params=None, **kw):
    return spec(name, "v2-header", op, params, **kw)


def v2q(name, op, params=None, **kw):
    return spec(name, "v2-query", op, params, **kw)


B = {"Bucket": BUCKET}


def obj(key, **extra):
    return {"Bucket": BUCKET, "Key": key, **extra}


SPECS = [
    # ---- V4, Authorization header -------------------------------------------------------------
    v4h("v4h-get-object-path-local", "get_object", obj("photo.jpg")),
    v4h("v4h-get-object-virtual-aws", "get_object", obj("photo.jpg"), endpoint=AWS_EP, style="virtual"),
    v4h("v4h-get-object-virtual-gva", "get_object", obj("photo.jpg"), endpoint=GVA, style="virtual",
        region="ch-gva-2", keys=EXO),
    v4h("v4h-get-object-path-gva", "get_object", obj("photo.jpg"), endpoint=GVA, region="ch-gva-2", keys=EXO),
    v4h("v4h-get-object-fra", "get_object", obj(K_SPACES), endpoint=FRA, style="virtual", region="de-fra-1",
        keys=EXO),
    v4h("v4h-get-object-local-de-fra-1-2013", "get_object", obj("photo.jpg"), region="de-fra-1", at=T2),
    v4h("v4h-get-object-2013-virtual-aws", "get_object", obj("test.txt", Range="bytes=0-9"),
        endpoint=AWS_EP, style="virtual", at=T2),
    v4h("v4h-get-object-range", "get_object", obj("photo.jpg", Range="bytes=0-9"), endpoint=GVA,
        style="virtual", region="ch-gva-2", keys=EXO),
    v4h("v4h-get-object-key-spaces", "get_object", obj(K_SPACES)),
    v4h("v4h-get-object-key-unicode", "get_object", obj(K_UNICODE), endpoint=GVA, style="virtual",
        region="ch-gva-2", keys=EXO),
    v4h("v4h-get-object-key-plus-equals", "get_object", obj(K_PLUS), endpoint=AWS_EP, style="virtual"),
    v4h("v4h-get-object-key-tilde", "get_object", obj(K_TILDE), endpoint=GVA, region="ch-gva-2", keys=EXO),
    v4h("v4h-get-object-key-reserved", "get_object", obj(K_RESERVED)),
    v4h("v4h-get-object-key-double-slash", "get_object", obj(K_DOUBLE), endpoint=GVA, style="virtual",
        region="ch-gva-2", keys=EXO),
    v4h("v4h-get-object-key-double-slash-path", "get_object", obj(K_DOUBLE)),
    v4h("v4h-get-object-key-trailing-slash", "get_object", obj(K_TRAILING), endpoint=AWS_EP, style="virtual"),
    v4h("v4h-get-object-key-leading-slash", "get_object", obj(K_LEADING), endpoint=GVA, style="virtual",
        region="ch-gva-2", keys=EXO),
    v4h("v4h-get-object-key-sub-delims", "get_object", obj(K_SUBDELIMS)),
    v4h("v4h-get-object-key-literal-percent", "get_object", obj(K_PERCENT), endpoint=AWS_EP, style="virtual"),
    v4h("v4h-get-object-version-id", "get_object", obj("photo.jpg", VersionId="3/L4kqtJl40Nr8X8gdRQBpUMLUo+="),
        endpoint=GVA, style="virtual", region="ch-gva-2", keys=EXO),
    v4h("v4h-get-object-disposition", "get_object",
        obj("report.txt", ResponseContentDisposition='attachment; filename="a b.txt"')),
    v4h("v4h-get-object-disposition-utf8", "get_object",
        obj(K_UNICODE, ResponseContentDisposition="attachment; filename*=UTF-8''r\u00e9sum\u00e9 \u65e5\u672c.pdf",
            ResponseContentType="application/pdf", ResponseCacheControl="no-cache"),
        endpoint=GVA, style="virtual", region="ch-gva-2", keys=EXO),
    v4h("v4h-head-object", "head_object", obj(K_SPACES), endpoint=AWS_EP, style="virtual"),
    v4h("v4h-head-object-local-token", "head_object", obj(K_UNICODE), token=TOKEN),
    v4h("v4h-delete-object", "delete_object", obj(K_PLUS), endpoint=GVA, region="ch-gva-2", keys=EXO),
    v4h("v4h-delete-object-local-2013", "delete_object", obj(K_TILDE), at=T2, keys=EXO, region="ch-gva-2"),
    v4h("v4h-put-object-signed", "put_object", obj("hello.txt", Body=BODY, ContentType="text/plain"),
        endpoint=GVA, style="virtual", region="ch-gva-2", keys=EXO, signing=True),
    v4h("v4h-put-object-unsigned-payload", "put_object", obj("hello.txt", Body=BODY, ContentType="text/plain"),
        endpoint=GVA, style="virtual", region="ch-gva-2", keys=EXO, signing=False),
    v4h("v4h-put-object-local-default", "put_object", obj(K_SPACES, Body=BODY)),
    v4h("v4h-put-object-local-unsigned-payload", "put_object", obj("hello.txt", Body=BODY), signing=False),
    v4h("v4h-put-object-empty-body", "put_object", obj(K_TRAILING, Body=b""), endpoint=AWS_EP,
        style="virtual", signing=True),
    v4h("v4h-put-object-metadata-whitespace", "put_object",
        obj("meta.txt", Body=BODY, Metadata={"note": "  a   b  c ", "Tabbed": "x\ty", "author": "someone"}),
        endpoint=GVA, style="virtual", region="ch-gva-2", keys=EXO, signing=True),
    v4h("v4h-put-object-acl-metadata", "put_object",
        obj(K_UNICODE, Body=BODY, ACL="public-read", ContentType="image/jpeg", CacheControl="max-age=60",
            ContentDisposition='inline; filename="x y.jpg"', Metadata={"a": "1", "b": "two words", "c": "3"},
            Tagging="k1=v1&k 2=v+2"),
        endpoint=AWS_EP, style="virtual", signing=True),
    v4h("v4h-put-object-content-md5", "put_object",
        obj("md5.txt", Body=BODY, ContentMD5=base64.b64encode(hashlib.md5(BODY).digest()).decode()),
        endpoint=GVA, region="ch-gva-2", keys=EXO, signing=True),
    v4h("v4h-put-object-token", "put_object", obj(K_RESERVED, Body=BODY), endpoint=AWS_EP, style="virtual",
        token=TOKEN2, signing=True),
    v4h("v4h-put-object-token-unsigned", "put_object", obj("t.txt", Body=BODY), endpoint=GVA, style="virtual",
        region="ch-gva-2", keys=EXO, token=TOKEN, signing=False),
    v4h("v4h-copy-object-unicode-source", "copy_object",
        obj("copy.txt", CopySource={"Bucket": "src-bucket", "Key": K_UNICODE}, MetadataDirective="REPLACE",
            Metadata={"x": "y"}),
        endpoint=GVA, style="virtual", region="ch-gva-2", keys=EXO),
    v4h("v4h-put-object-acl", "put_object_acl", obj(K_SPACES, ACL="private"), endpoint=AWS_EP, style="virtual"),
    v4h("v4h-get-bucket-acl", "get_bucket_acl", B, endpoint=GVA, style="virtual", region="ch-gva-2", keys=EXO),
    v4h("v4h-get-bucket-acl-local", "get_bucket_acl", B),
    v4h("v4h-get-bucket-cors", "get_bucket_cors", B, endpoint=AWS_EP, style="virtual"),
    v4h("v4h-get-object-acl", "get_object_acl", obj(K_UNICODE), endpoint=GVA, region="ch-gva-2", keys=EXO),
    v4h("v4h-create-multipart-upload", "create_multipart_upload", obj(K_SPACES, ContentType="video/mp4"),
        endpoint=GVA, style="virtual", region="ch-gva-2", keys=EXO),
    v4h("v4h-create-multipart-upload-local", "create_multipart_upload", obj("big.bin")),
    v4h("v4h-upload-part", "upload_part", obj(K_SPACES, Body=BODY, UploadId=UPLOAD_ID, PartNumber=3),
        endpoint=GVA, style="virtual", region="ch-gva-2", keys=EXO, signing=True),
    v4h("v4h-upload-part-local", "upload_part", obj("big.bin", Body=BODY, UploadId=UPLOAD_ID, PartNumber=3)),
    v4h("v4h-list-parts", "list_parts", obj(K_UNICODE, UploadId=UPLOAD_ID, MaxParts=10, PartNumberMarker=2),
        endpoint=AWS_EP, style="virtual"),
    v4h("v4h-abort-multipart-upload", "abort_multipart_upload", obj(K_PLUS, UploadId=UPLOAD_ID)),
    v4h("v4h-delete-objects", "delete_objects", dict(B, Delete=DELETE), endpoint=GVA, style="virtual",
        region="ch-gva-2", keys=EXO),
    v4h("v4h-delete-objects-local", "delete_objects", dict(B, Delete=DELETE)),
    v4h("v4h-list-objects-v2-prefix", "list_objects_v2",
        dict(B, Prefix="dir/sub dir/日本/", Delimiter="/", MaxKeys=100), endpoint=GVA, style="virtual",
        region="ch-gva-2", keys=EXO),
    v4h("v4h-list-objects-v2-start-after", "list_objects_v2",
        dict(B, Prefix="café ", StartAfter="café/a+b~c", MaxKeys=1000), endpoint=AWS_EP, style="virtual"),
    v4h("v4h-list-objects-v2-continuation", "list_objects_v2",
        dict(B, ContinuationToken="1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM+=", Delimiter="/")),
    v4h("v4h-list-objects-v2-token", "list_objects_v2", dict(B, Prefix="a b/c"), endpoint=GVA,
        region="ch-gva-2", keys=EXO, token=TOKEN),
    v4h("v4h-list-object-versions", "list_object_versions", dict(B, Prefix="x", KeyMarker="k y",
        VersionIdMarker="v+1"), endpoint=AWS_EP, style="virtual"),
    v4h("v4h-list-buckets", "list_buckets", {}, endpoint=AWS_EP),
    v4h("v4h-list-buckets-gva", "list_buckets", {}, endpoint=GVA, region="ch-gva-2", keys=EXO, at=T2),
    # ---- V4, pre-signed URLs ------------------------------------------------------------------
    v4q("v4q-get-object-1s", "get_object", obj("photo.jpg"), expires_in=1),
    v4q("v4q-get-object-3600-virtual-aws", "get_object", obj(K_SPACES), endpoint=AWS_EP, style="virtual",
        expires_in=3600),
    v4q("v4q-get-object-604800-gva", "get_object", obj(K_UNICODE), endpoint=GVA, style="virtual",
        region="ch-gva-2", keys=EXO, expires_in=604800),
    v4q("v4q-get-object-token", "get_object", obj(K_PLUS), endpoint=GVA, region="ch-gva-2", keys=EXO,
        token=TOKEN, expires_in=3600),
    v4q("v4q-get-object-token-aws", "get_object", obj("photo.jpg"), endpoint=AWS_EP, style="virtual",
        token=TOKEN2, expires_in=900),
    v4q("v4q-get-object-disposition", "get_object",
        obj(K_RESERVED, ResponseContentDisposition='attachment; filename="a b.txt"'), endpoint=AWS_EP,
        style="virtual", expires_in=3600),
    v4q("v4q-get-object-disposition-utf8", "get_object",
        obj("r.pdf", ResponseContentDisposition="attachment; filename*=UTF-8''r\u00e9sum\u00e9.pdf",
            ResponseContentType="application/pdf"),
        endpoint=GVA, style="virtual", region="ch-gva-2", keys=EXO, expires_in=60),
    v4q("v4q-get-object-double-slash", "get_object", obj(K_DOUBLE), expires_in=3600, region="de-fra-1",
        keys=EXO),
    v4q("v4q-get-object-tilde-2013", "get_object", obj(K_TILDE), endpoint=AWS_EP, style="virtual",
        expires_in=86400, at=T2),
    v4q("v4q-put-object", "put_object", obj(K_SPACES), endpoint=GVA, style="virtual", region="ch-gva-2",
        keys=EXO, expires_in=3600),
    v4q("v4q-put-object-content-type", "put_object", obj("upload.bin", ContentType="application/octet-stream"),
        endpoint=AWS_EP, style="virtual", expires_in=604800),
    v4q("v4q-put-object-local", "put_object", obj("photo.jpg"), expires_in=1),
    v4q("v4q-upload-part", "upload_part", obj(K_SPACES, UploadId=UPLOAD_ID, PartNumber=3), endpoint=GVA,
        region="ch-gva-2", keys=EXO, expires_in=3600),
    v4q("v4q-head-object", "head_object", obj(K_UNICODE), endpoint=AWS_EP, style="virtual", expires_in=1),
    v4q("v4q-head-object-local", "head_object", obj("photo.jpg"), expires_in=604800, token=TOKEN),
    v4q("v4q-delete-object", "delete_object", obj(K_SUBDELIMS), endpoint=GVA, style="virtual",
        region="ch-gva-2", keys=EXO, expires_in=3600),
    v4q("v4q-delete-object-version", "delete_object", obj("photo.jpg", VersionId="v+1/x="), endpoint=FRA,
        region="de-fra-1", keys=EXO, expires_in=604800),
    v4q("v4q-list-objects-v2", "list_objects_v2", dict(B, Prefix="dir/sub dir/", Delimiter="/"),
        endpoint=GVA, style="virtual", region="ch-gva-2", keys=EXO, expires_in=300),
    v4q("v4q-get-bucket-acl", "get_bucket_acl", B, endpoint=AWS_EP, style="virtual", expires_in=3600),
    # ---- V2, Authorization header -------------------------------------------------------------
    v2h("v2h-get-object-path-local", "get_object", obj("photo.jpg")),
    v2h("v2h-get-object-virtual-aws", "get_object", obj("photo.jpg"), endpoint=AWS_EP, style="virtual"),
    v2h("v2h-get-object-virtual-gva", "get_object", obj(K_SPACES), endpoint=GVA, style="virtual", keys=EXO,
        region="ch-gva-2"),
    v2h("v2h-get-object-key-unicode", "get_object", obj(K_UNICODE), endpoint=AWS_EP, style="virtual"),
    v2h("v2h-get-object-key-reserved", "get_object", obj(K_RESERVED), keys=EXO),
    v2h("v2h-get-object-2013", "get_object", obj(K_PLUS), endpoint=AWS_EP, style="virtual", at=T2),
    v2h("v2h-get-object-version-id", "get_object", obj("photo.jpg", VersionId="3/L4kqtJl40Nr8X8gdRQBpUMLUo"),
        endpoint=AWS_EP, style="virtual"),
    v2h("v2h-get-object-response-content-type", "get_object",
        obj("photo.jpg", ResponseContentType="image/jpeg", ResponseContentDisposition="inline")),
    v2h("v2h-get-bucket-acl", "get_bucket_acl", B, endpoint=AWS_EP, style="virtual"),
    v2h("v2h-get-bucket-cors-path-style", "get_bucket_cors", B),
    v2h("v2h-get-object-acl", "get_object_acl", obj(K_SPACES), endpoint=GVA, style="virtual", keys=EXO,
        region="ch-gva-2"),
    v2h("v2h-create-multipart-upload", "create_multipart_upload", obj(K_SPACES), endpoint=AWS_EP,
        style="virtual"),
    v2h("v2h-upload-part", "upload_part", obj("big.bin", Body=BODY, UploadId=UPLOAD_ID, PartNumber=3)),
    v2h("v2h-put-object-md5-type", "put_object",
        obj("hello.txt", Body=BODY, ContentType="text/plain",
            ContentMD5=base64.b64encode(hashlib.md5(BODY).digest()).decode()),
        endpoint=AWS_EP, style="virtual"),
    v2h("v2h-put-object-meta-acl", "put_object",
        obj(K_UNICODE, Body=BODY, ACL="public-read", ContentType="image/jpeg",
            Metadata={"author": "someone", "note": "  a   b  c ", "Z": "last"}),
        endpoint=GVA, style="virtual", keys=EXO, region="ch-gva-2"),
    v2h("v2h-delete-object", "delete_object", obj(K_TILDE)),
    v2h("v2h-head-object-token", "head_object", obj("photo.jpg"), endpoint=AWS_EP, style="virtual",
        token=TOKEN),
    v2h("v2h-list-objects-v2", "list_objects_v2", dict(B, Prefix="dir/", Delimiter="/"), endpoint=AWS_EP,
        style="virtual"),
    # ---- V2, pre-signed URLs ------------------------------------------------------------------
    v2q("v2q-get-object", "get_object", obj("photo.jpg"), expires_in=3600),
    v2q("v2q-get-object-virtual-aws", "get_object", obj(K_SPACES), endpoint=AWS_EP, style="virtual",
        expires_in=60),
    v2q("v2q-get-object-key-unicode", "get_object", obj(K_UNICODE), endpoint=GVA, style="virtual", keys=EXO,
        region="ch-gva-2", expires_in=604800),
    v2q("v2q-get-object-response-content-type", "get_object",
        obj("photo.jpg", ResponseContentType="image/jpeg"), endpoint=AWS_EP, style="virtual", expires_in=3600),
    v2q("v2q-get-object-disposition", "get_object",
        obj("report.txt", ResponseContentDisposition='attachment; filename="a b.txt"'), expires_in=3600),
    v2q("v2q-get-object-version-id", "get_object", obj("photo.jpg", VersionId="3/L4kqtJl40Nr8X8gdRQBpUMLUo"),
        endpoint=AWS_EP, style="virtual", expires_in=1),
    v2q("v2q-get-object-token", "get_object", obj(K_PLUS), endpoint=AWS_EP, style="virtual", token=TOKEN,
        expires_in=3600),
    v2q("v2q-get-object-2013", "get_object", obj("photo.jpg"), endpoint=AWS_EP, style="virtual", at=T2,
        expires_in=3600),
    v2q("v2q-put-object", "put_object", obj(K_SPACES), endpoint=GVA, keys=EXO, region="ch-gva-2",
        expires_in=3600),
    v2q("v2q-put-object-content-type", "put_object", obj("upload.txt", ContentType="text/plain"),
        endpoint=AWS_EP, style="virtual", expires_in=3600),
    v2q("v2q-upload-part", "upload_part", obj("big.bin", UploadId=UPLOAD_ID, PartNumber=3), expires_in=3600),
    v2q("v2q-delete-object", "delete_object", obj(K_TILDE), endpoint=AWS_EP, style="virtual", expires_in=3600),
    v2q("v2q-get-bucket-acl-path-style", "get_bucket_acl", B, expires_in=3600),
    v2q("v2q-head-object", "head_object", obj("photo.jpg"), endpoint=GVA, style="virtual", keys=EXO,
        region="ch-gva-2", expires_in=3600),
]


# ---- capturing what botocore does -------------------------------------------------------------

CAPTURE = {}


def _wrap(cls, method, record):
    original = getattr(cls, method)

    def wrapper(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        record(self, args, kwargs, result)
        return result

    return mock.patch.object(cls, method, wrapper)


def _record(key):
    def record(_self, _args, _kwargs, result):
        CAPTURE.setdefault(key, []).append(result)

    return record


def capture_patches():
    """Wrap botocore's signer methods so each case can read what they hashed."""
    sigv4_mod = botocore.auth.SigV4QueryAuth._modify_request_before_signing
    hmac_add_auth = botocore.auth.HmacV1QueryAuth.add_auth

    def v4_query_modify(self, request):
        # The URL and headers before X-Amz-* are added.
        CAPTURE.setdefault("presign_url", []).append(request.url)
        CAPTURE.setdefault("presign_params", []).append(dict(request.params or {}))
        CAPTURE.setdefault("presign_request", []).append(request)
        return sigv4_mod(self, request)

    def v2_query_add_auth(self, request):
        CAPTURE.setdefault("presign_url", []).append(request.url)
        CAPTURE.setdefault("presign_request", []).append(request)
        return hmac_add_auth(self, request)

    return [
        _wrap(botocore.auth.SigV4Auth, "canonical_request", _record("canonical_request")),
        _wrap(botocore.auth.SigV4Auth, "string_to_sign", _record("string_to_sign")),
        _wrap(botocore.auth.HmacV1Auth, "canonical_string", _record("canonical_string")),
        mock.patch.object(botocore.auth.SigV4QueryAuth, "_modify_request_before_signing", v4_query_modify),
        mock.patch.object(botocore.auth.HmacV1QueryAuth, "add_auth", v2_query_add_auth),
    ]


def frozen(at):
    """Freeze every clock botocore's signers read (checked against botocore/auth.py 1.43)."""
    stamp = calendar.timegm(at.timetuple())

    def formatdate(timeval=None, localtime=False, usegmt=False):
        return email.utils.formatdate(stamp if timeval is None else timeval, localtime, usegmt)

    fake_time = types.SimpleNamespace(
        time=lambda: float(stamp),
        gmtime=lambda secs=None: _time.gmtime(stamp if secs is None else secs),
        strftime=_time.strftime,
    )
    return [
        # SigV4: X-Amz-Date and the scope.
        mock.patch.object(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: at),
        # HmacV1Auth: the Date header (formatdate(usegmt=True)).
        mock.patch.object(botocore.auth, "formatdate", formatdate),
        # HmacV1QueryAuth: Expires = time.time() + expires.
        mock.patch.object(botocore.auth, "time", fake_time),
    ]


class _Raw:
    def __init__(self, body):
        self._body = body

    def stream(self, **_kwargs):
        if self._body:
            yield self._body


def before_send(request, event_name="", **_kwargs):
    CAPTURE.setdefault("sent", []).append(request)
    op = event_name.rsplit(".", 1)[-1]
    return AWSResponse(request.url, 200, {}, _Raw(RESPONSES.get(op, b"")))


_SESSION = botocore.session.get_session()
_CLIENTS = {}


def client(s):
    sig = "s3v4" if s["scheme"].startswith("v4") else "s3"
    # `checksum`: botocore's request_checksum_calculation (the random cases vary it).
    checksum = s.get("checksum", "when_required")
    key = (sig, s["endpoint"], s["style"], s["region"], s["keys"], s["token"], s["signing"], checksum)
    if key not in _CLIENTS:
        s3 = {"addressing_style": s["style"]}
        if s["signing"] is not None:
            s3["payload_signing_enabled"] = s["signing"]
        c = _SESSION.create_client(
            "s3",
            region_name=s["region"],
            endpoint_url=s["endpoint"],
            aws_access_key_id=s["keys"][0],
            aws_secret_access_key=s["keys"][1],
            aws_session_token=s["token"],
            config=botocore.config.Config(
                signature_version=sig,
                s3=s3,
                request_checksum_calculation=checksum,
                response_checksum_validation="when_required",
                retries={"max_attempts": 1},
            ),
        )
        c.meta.events.register("before-send", before_send)
        _CLIENTS[key] = c
    return _CLIENTS[key]


def text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def header_items(headers):
    return [(text(k), text(v)) for k, v in headers.items()]


def only(key):
    values = CAPTURE.get(key, [])
    if len(values) != 1:
        raise AssertionError(f"expected one {key}, botocore gave {len(values)}")
    return values[0]


def body_bytes(body):
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        pos = body.tell()
        data = body.read()
        body.seek(pos)
        return data
    return bytes(body)


def run(s):
    CAPTURE.clear()
    c = client(s)
    patches = frozen(s["at"])
    for p in patches:
        p.start()
    try:
        if s["scheme"].endswith("header"):
            getattr(c, s["op"])(**s["params"])
        else:
            signed_url = c.generate_presigned_url(s["op"], Params=s["params"], ExpiresIn=s["expires_in"])
    finally:
        for p in reversed(patches):
            p.stop()

    at = s["at"]
    stamp = calendar.timegm(at.timetuple())
    case = {
        "name": s["name"],
        "scheme": s["scheme"],
        "method": None,
        "url": None,
        "headers": [],
        "body_hex": "",
        "access_key": s["keys"][0],
        "secret_key": s["keys"][1],
        "session_token": s["token"],
        "region": s["region"] if s["scheme"].startswith("v4") else None,
        "time": at.strftime("%Y%m%dT%H%M%SZ"),
        "expires_in": None,
        "expires": None,
        "expected": {},
    }
    exp = case["expected"]

    if s["scheme"] == "v4-header":
        sent = only("sent")
        items = header_items(sent.headers)
        authorization = dict((k.lower(), v) for k, v in items)["authorization"]
        signed = authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
        headers = [[k, v] for k, v in items if k.lower() in signed and k.lower() != "authorization"]
        missing = set(signed) - {k.lower() for k, _ in headers} - {"host"}
        assert not missing, f"{s['name']}: signed but not sent: {missing}"
        case.update(method=sent.method, url=sent.url, headers=headers, body_hex=body_bytes(sent.body).hex())
        exp.update(
            authorization=authorization,
            canonical_request=only("canonical_request"),
            string_to_sign=only("string_to_sign"),
            signature=authorization.rsplit("Signature=", 1)[1],
            signed_url=None,
        )
    elif s["scheme"] == "v4-query":
        req = only("presign_request")
        url = only("presign_url")
        assert not only("presign_params"), f"{s['name']}: params outside the URL"
        query = parse_qs(urlsplit(signed_url).query, keep_blank_values=True)
        signed = query["X-Amz-SignedHeaders"][0].split(";")
        headers = [[k, v] for k, v in header_items(req.headers) if k.lower() in signed and k.lower() != "host"]
        missing = set(signed) - {k.lower() for k, _ in headers} - {"host"}
        assert not missing, f"{s['name']}: signed but not kept: {missing}"
        assert "X-Amz-" not in url, url
        case.update(method=req.method, url=url, headers=headers, expires_in=int(query["X-Amz-Expires"][0]))
        exp.update(
            authorization=None,
            canonical_request=only("canonical_request"),
            string_to_sign=only("string_to_sign"),
            signature=query["X-Amz-Signature"][0],
            signed_url=signed_url,
        )
    elif s["scheme"] == "v2-header":
        sent = only("sent")
        items = header_items(sent.headers)
        authorization = dict((k.lower(), v) for k, v in items)["authorization"]
        headers = [[k, v] for k, v in items
                   if k.lower() in ("date", "content-md5", "content-type") or k.lower().startswith("x-amz-")]
        assert "x-amz-date" not in {k.lower() for k, _ in headers}
        case.update(method=sent.method, url=sent.url, headers=headers, body_hex=body_bytes(sent.body).hex())
        exp.update(
            authorization=authorization,
            canonical_request=None,
            string_to_sign=only("canonical_string"),
            signature=authorization.split(":", 1)[1],
            signed_url=None,
        )
    else:  # v2-query
        req = only("presign_request")
        url = only("presign_url")
        query = parse_qs(urlsplit(signed_url).query, keep_blank_values=True)
        headers = [[k, v] for k, v in header_items(req.headers)
                   if (k.lower() in ("content-md5", "content-type") or k.lower().startswith("x-amz-"))
                   and k.lower() != "x-amz-security-token"]
        expires = int(query["Expires"][0])
        assert expires == stamp + s["expires_in"], (expires, stamp)
        case.update(method=req.method, url=url, headers=headers, expires=expires)
        exp.update(
            authorization=None,
            canonical_request=None,
            string_to_sign=only("canonical_string"),
            signature=query["Signature"][0],
            signed_url=signed_url,
        )
    return case


# ---- self-check --------------------------------------------------------------------------------

FIELDS = {
    "name": str, "scheme": str, "method": str, "url": str, "headers": list, "body_hex": str,
    "access_key": str, "secret_key": str, "session_token": (str, type(None)), "region": (str, type(None)),
    "time": str, "expires_in": (int, type(None)), "expires": (int, type(None)), "expected": dict,
}
EXPECTED = {
    "authorization": (str, type(None)), "canonical_request": (str, type(None)), "string_to_sign": str,
    "signature": str, "signed_url": (str, type(None)),
}


def v4_key(secret, date, region):
    k = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def rebuild_v4_header_canonical(c):
    """The canonical request from the case's own fields, so the consumer has what it needs."""
    parts = urlsplit(c["url"])
    host = parts.hostname + (f":{parts.port}" if parts.port not in (None, 80, 443) else "")
    headers = {}
    for k, v in c["headers"]:
        headers.setdefault(k.lower(), []).append(" ".join(v.split()))
    headers.setdefault("host", [host])
    pairs = sorted(p.partition("=")[::2] for p in parts.query.split("&")) if parts.query else []
    names = sorted(headers)
    return "\n".join([
        c["method"],
        parts.path or "/",
        "&".join(f"{k}={v}" for k, v in pairs),
        "".join(f"{n}:{','.join(headers[n])}\n" for n in names),
        ";".join(names),
        dict(c["headers"]).get("X-Amz-Content-SHA256") or headers["x-amz-content-sha256"][0],
    ])


def self_check(cases):
    errors = []

    def check(ok, msg):
        if not ok:
            errors.append(msg)

    names = [c["name"] for c in cases]
    check(len(names) == len(set(names)), "duplicate names")
    counts = {}
    for c in cases:
        n = c.get("name", "?")
        counts[c.get("scheme")] = counts.get(c.get("scheme"), 0) + 1
        check(set(c) == set(FIELDS), f"{n}: fields {sorted(c)}")
        check(set(c.get("expected", {})) == set(EXPECTED), f"{n}: expected fields")
        for k, t in FIELDS.items():
            check(isinstance(c.get(k), t), f"{n}: {k} has type {type(c.get(k)).__name__}")
        for k, t in EXPECTED.items():
            check(isinstance(c["expected"].get(k), t), f"{n}: expected.{k}")
        check(all(isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h)
                  for h in c["headers"]), f"{n}: headers")
        check(c["name"].replace("-", "").isalnum() and c["name"] == c["name"].lower(), f"{n}: not kebab")
        check(c["scheme"] in ("v4-header", "v4-query", "v2-header", "v2-query"), f"{n}: scheme")
        check(len(c["time"]) == 16 and c["time"].endswith("Z"), f"{n}: time")
        exp = c["expected"]
        lower = [k.lower() for k, _ in c["headers"]]
        if c["scheme"].startswith("v4"):
            check(c["region"] is not None and exp["canonical_request"] is not None, f"{n}: v4 fields")
            sts = exp["string_to_sign"].split("\n")
            check(sts[:3] == ["AWS4-HMAC-SHA256", c["time"], f"{c['time'][:8]}/{c['region']}/s3/aws4_request"],
                  f"{n}: string to sign head")
            check(sts[3] == hashlib.sha256(exp["canonical_request"].encode()).hexdigest(), f"{n}: cr hash")
            sig = hmac.new(v4_key(c["secret_key"], c["time"][:8], c["region"]), exp["string_to_sign"].encode(),
                           hashlib.sha256).hexdigest()
            check(sig == exp["signature"], f"{n}: V4 signature does not recompute")
        if c["scheme"] == "v4-header":
            check("x-amz-content-sha256" in lower and "x-amz-date" in lower, f"{n}: payload hash / date header")
            check(("x-amz-security-token" in lower) == (c["session_token"] is not None), f"{n}: token header")
            check(c["expires_in"] is None and c["expires"] is None, f"{n}: expiry")
            check(exp["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={c['access_key']}/"), f"{n}: auth")
            check(rebuild_v4_header_canonical(c) == exp["canonical_request"], f"{n}: canonical request "
                  f"does not rebuild from url/headers:\n{rebuild_v4_header_canonical(c)}\n--\n"
                  f"{exp['canonical_request']}")
            check(bytes.fromhex(c["body_hex"]) == b"" or dict((k.lower(), v) for k, v in c["headers"])
                  ["x-amz-content-sha256"] in ("UNSIGNED-PAYLOAD",
                                               hashlib.sha256(bytes.fromhex(c["body_hex"])).hexdigest()),
                  f"{n}: payload hash")
        if c["scheme"] == "v4-query":
            check(c["expires_in"] in range(1, 604801) and c["expires"] is None, f"{n}: expiry")
            check("X-Amz-" not in c["url"] and "host" not in lower, f"{n}: url/headers")
            check(exp["canonical_request"].endswith("\nUNSIGNED-PAYLOAD"), f"{n}: presign payload")
            check(exp["signed_url"].endswith("X-Amz-Signature=" + exp["signature"]), f"{n}: signed url")
            check(("X-Amz-Security-Token=" in exp["signed_url"]) == (c["session_token"] is not None), f"{n}: tok")
        if c["scheme"].startswith("v2"):
            check(c["region"] is None and exp["canonical_request"] is None, f"{n}: v2 fields")
            check("x-amz-date" not in lower, f"{n}: x-amz-date in a V2 case")
            mac = hmac.new(c["secret_key"].encode(), exp["string_to_sign"].encode(), hashlib.sha1).digest()
            check(base64.b64encode(mac).decode() == exp["signature"], f"{n}: V2 signature does not recompute")
        if c["scheme"] == "v2-header":
            date = dict((k.lower(), v) for k, v in c["headers"]).get("date")
            check(date is not None and exp["string_to_sign"].split("\n")[3] == date, f"{n}: Date line")
            check(exp["authorization"] == f"AWS {c['access_key']}:{exp['signature']}", f"{n}: auth")
            check(("x-amz-security-token" in lower) == (c["session_token"] is not None), f"{n}: token header")
        if c["scheme"] == "v2-query":
            check(c["expires"] is not None and c["expires_in"] is None, f"{n}: expiry")
            check(exp["string_to_sign"].split("\n")[3] == str(c["expires"]), f"{n}: Expires line")
            check("Signature=" not in c["url"] and "x-amz-security-token" not in lower, f"{n}: url/headers")
    check(len(cases) >= 60, f"only {len(cases)} cases")
    for scheme, least in (("v4-header", 30), ("v4-query", 10)):
        check(counts.get(scheme, 0) >= least, f"only {counts.get(scheme, 0)} {scheme}")
    check(counts.get("v2-header", 0) + counts.get("v2-query", 0) >= 10, "too few v2")
    return errors, counts


def main():
    patches = capture_patches()
    for p in patches:
        p.start()
    try:
        cases = [run(s) for s in SPECS]
    finally:
        for p in reversed(patches):
            p.stop()
    errors, counts = self_check(cases)
    if errors:
        for e in errors:
            print("self-check:", e, file=sys.stderr)
        sys.exit(1)
    json.dump({"generator": "gen_botocore.py", "botocore_version": botocore.__version__, "cases": cases},
              sys.stdout, indent=1, ensure_ascii=False)
    print()
    print(f"{len(cases)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=sys.stderr)


if __name__ == "__main__":
    main()
