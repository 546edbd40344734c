"""Credential-file cases read by the reference implementations, for `tests/credentials.rs`.

Each case is a set of files (`~/.aws/credentials`, `~/.aws/config`, `~/.s3cfg`, or another
path), environment variables and an optional `--profile`. The script runs every case in its own
process, with a fresh temporary HOME:
* AWS cases through botocore (the `aws` CLI's library): `Session(profile=...)`, then
  `get_credentials()` (access key, secret, token, and which provider answered) and, in a second
  session, `get_scoped_config()` (`region`, `s3.addressing_style`) and the S3 endpoint URL the
  files give (`ConfiguredEndpointProvider`, without the `AWS_ENDPOINT_URL*` variables);
* s3cfg cases through s3cmd's own parser (`S3.Config.Config().read_config_file`), from the
  test-tools venv.

It writes, per case, `expect`, what sos-auth must yield: the reference's result in sos-auth's
terms (an empty value is none; botocore's ConfigParseError is a ConfigFile error, its
PartialCredentialsError an IncompleteCredentials one), except for the cases of `DEVIATIONS`,
where sos-auth follows another rule on purpose: `why` says which, and the reference's own
result is kept beside it (`botocore` or `s3cmd`). An error of a malformed
file is expected to name the file and line (botocore's configparser reports the line; where the
reference reads the file, the deviation gives it).

Generated with botocore 1.43.11 and s3cmd 2.4.0 (Python 3.11). Rerun from the workspace root:

    python3 sos-auth/tests/vectors/gen_credential_files.py > sos-auth/tests/vectors/credential_files.json

The output is deterministic. The script exits non-zero when a case fails to run.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

# ---------------------------------------------------------------------------------------------
# The corpus.

CASES = []
P = "aws_access_key_id = AK\naws_secret_access_key = SK\n"
E = {"AWS_ACCESS_KEY_ID": "AKE", "AWS_SECRET_ACCESS_KEY": "SKE"}
CRED, CONF, S3CFG = "~/.aws/credentials", "~/.aws/config", "~/.s3cfg"


def aws(name, cred=None, conf=None, env=None, profile=None, files=None):
    f = dict(files or {})
    if cred is not None:
        f[CRED] = cred
    if conf is not None:
        f[CONF] = conf
    case = {"name": name, "kind": "aws", "files": f, "env": env or {}}
    if profile is not None:
        case["profile"] = profile
    CASES.append(case)


def s3(name, text, env=None):
    CASES.append({"name": name, "kind": "s3cfg", "files": {S3CFG: text}, "env": env or {}})


# The credentials file: separators, comments, whitespace, line ends.
aws("cred-basic", "[default]\n" + P)
aws("cred-no-spaces", "[default]\naws_access_key_id=AK\naws_secret_access_key=SK\n")
aws("cred-many-spaces", "[default]\naws_access_key_id    =    AK   \naws_secret_access_key\t=\tSK\t\n")
aws("cred-colon", "[default]\naws_access_key_id: AK\naws_secret_access_key :SK\n")
aws("cred-colon-in-value", "[default]\naws_access_key_id = AK\naws_secret_access_key = a:b:c\n")
aws("cred-eq-in-value", "[default]\naws_access_key_id = AK\naws_secret_access_key = abc=def==\n")
aws("cred-eq-and-colon", "[default]\naws_access_key_id: AK=1\naws_secret_access_key = S:K\n")
aws("cred-percent", "[default]\naws_access_key_id = AK\naws_secret_access_key = ab%cd%(x)s%%\n")
aws("cred-inline-hash", "[default]\naws_access_key_id = AK\naws_secret_access_key = SK # my note\n")
aws("cred-inline-semicolon", "[default]\naws_access_key_id = AK\naws_secret_access_key = SK ; note\n")
aws("cred-inline-comment-tab", "[default]\naws_access_key_id = AK\t# key\naws_secret_access_key = SK\n")
aws("cred-inline-comment-only", "[default]\n" + P + "aws_session_token = # none\n")
aws("cred-hash-in-value", "[default]\naws_access_key_id = AK\naws_secret_access_key = S#K;x\n")
aws("cred-comment-lines", "# top\n; top2\n[default]\n# c\n  # indented\n;c\n" + P + "# end\n")
aws("cred-header-hash-comment", "[default] # main\n" + P)
aws("cred-header-semicolon-comment", "[default];main\n" + P)
aws("cred-header-junk", "[default] junk\n" + P)
aws("cred-header-spaces", "[ default ]\n" + P)
aws("cred-header-trailing-space", "[default ]\n" + P)
aws("cred-header-double-bracket", "[default]]\n" + P)
aws("cred-key-case-mixed", "[default]\nAWS_Access_Key_ID = AK\nAws_Secret_Access_Key = SK\n")
aws("cred-key-case-upper", "[default]\nAWS_ACCESS_KEY_ID = AK\nAWS_SECRET_ACCESS_KEY = SK\nAWS_SESSION_TOKEN = TK\n")
aws("cred-section-case", "[Default]\n" + P)
aws("cred-crlf", "[default]\r\naws_access_key_id = AK\r\naws_secret_access_key = SK\r\n")
aws("cred-cr", "[default]\raws_access_key_id = AK\raws_secret_access_key = SK\r")
aws("cred-bom", "\ufeff[default]\n" + P)
aws("cred-no-trailing-newline", "[default]\naws_access_key_id = AK\naws_secret_access_key = SK")
aws("cred-tabs", "[default]\n\taws_access_key_id\t=\tAK\n\taws_secret_access_key\t=\tSK\n")
aws("cred-indented-file", "  [default]\n  aws_access_key_id = AK\n  aws_secret_access_key = SK\n")
aws("cred-indented-header-only", "  [default]\n" + P)
aws("cred-blank-lines", "\n[default]\n\n\naws_access_key_id = AK\n\n\naws_secret_access_key = SK\n\n")
aws("cred-unicode-value", "[default]\naws_access_key_id = AKé\naws_secret_access_key = SK✓\n")
aws("cred-nbsp-after-value", "[default]\naws_access_key_id = AK\u00a0\naws_secret_access_key = SK\n")
aws("cred-quoted-values", "[default]\naws_access_key_id = \"AK\"\naws_secret_access_key = 'SK'\n")
aws("cred-key-with-spaces", "[default]\naws access key id = X\n" + P)
aws("cred-empty-file", "")
aws("cred-only-comments", "# nothing\n; here\n")
# Continuation lines.
aws("cred-continuation-key-line", "[default]\naws_access_key_id = AK\n  aws_secret_access_key = SK\n")
aws("cred-continuation-value", "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n  more\n")
aws("cred-continuation-after-blank", "[default]\naws_access_key_id = AK\n\n  aws_secret_access_key = SK\n")
aws("cred-continuation-after-comment", "[default]\naws_access_key_id = AK\n# c\n  aws_secret_access_key = SK\n")
aws("cred-continuation-tab", "[default]\naws_access_key_id = AK\n\taws_secret_access_key = SK\n")
aws("cred-dedent-after-indented-key", "[default]\n  aws_access_key_id = AK\naws_secret_access_key = SK\n")
# Empty, missing and repeated keys; tokens.
aws("cred-empty-secret", "[default]\naws_access_key_id = AK\naws_secret_access_key =\n")
aws("cred-empty-key", "[default]\naws_access_key_id =\naws_secret_access_key = SK\n")
aws("cred-empty-token", "[default]\n" + P + "aws_session_token =\n")
aws("cred-security-token", "[default]\n" + P + "aws_security_token = TS\n")
aws("cred-both-tokens", "[default]\n" + P + "aws_session_token = TK\naws_security_token = TS\n")
aws("cred-empty-security-token", "[default]\n" + P + "aws_security_token =\naws_session_token = TK\n")
aws("cred-only-token", "[default]\naws_session_token = TK\n")
aws("cred-missing-secret", "[default]\naws_access_key_id = AK\n")
aws("cred-missing-key", "[default]\naws_secret_access_key = SK\n")
aws("cred-dup-key", "[default]\naws_access_key_id = AK1\naws_access_key_id = AK2\naws_secret_access_key = SK\n")
aws("cred-dup-key-case", "[default]\naws_access_key_id = AK1\nAWS_ACCESS_KEY_ID = AK2\naws_secret_access_key = SK\n")
aws("cred-dup-section", "[default]\naws_access_key_id = AK\n[other]\nx = y\n[default]\naws_secret_access_key = SK\n")
aws("cred-dup-section-same-key", "[default]\n" + P + "[default]\naws_access_key_id = AK2\n")
# Section names.
aws("cred-profile-prefix", "[profile x]\n" + P, profile="x")
aws("cred-profile-prefix-full-name", "[profile x]\n" + P, profile="profile x")
aws("cred-section-spaces", "[my profile]\n" + P, profile="my profile")
aws("cred-section-dots", "[a.b.c]\n" + P, profile="a.b.c")
aws("cred-section-quotes", "[\"q\"]\n" + P, profile="q")
aws("cred-section-quotes-literal", "[\"q\"]\n" + P, profile="\"q\"")
aws("cred-section-unicode", "[prôfil]\n" + P, profile="prôfil")
aws("cred-DEFAULT", "[DEFAULT]\n" + P)
aws("cred-DEFAULT-inherited", "[DEFAULT]\naws_access_key_id = AKD\n[x]\naws_secret_access_key = SK\n", profile="x")
aws("cred-region-and-nested", "[default]\n" + P + "region = ch-gva-2\ns3 =\n  addressing_style = path\n")
# Malformed credentials files.
aws("cred-junk-line", "[default]\n" + P + "this is junk\n")
aws("cred-key-before-section", "aws_access_key_id = AK\n[default]\naws_secret_access_key = SK\n")
aws("cred-unclosed-header", "[default\n" + P)
aws("cred-empty-header", "[]\n" + P)
aws("cred-valueless-key", "[default]\n" + P + "region\n")
# The config file.
aws("conf-default", None, "[default]\n" + P + "region = ch-gva-2\n")
aws("conf-profile-default", None, "[profile default]\n" + P + "region = de-fra-1\n")
aws("conf-default-then-profile-default", None, "[default]\naws_access_key_id = AK1\naws_secret_access_key = SK1\nregion = r1\n[profile default]\naws_access_key_id = AK2\naws_secret_access_key = SK2\n")
aws("conf-profile-default-then-default", None, "[profile default]\naws_access_key_id = AK2\naws_secret_access_key = SK2\nregion = r2\n[default]\naws_access_key_id = AK1\naws_secret_access_key = SK1\n")
aws("conf-profile-x", None, "[profile x]\n" + P + "region = at-vie-1\n", profile="x")
aws("conf-profile-x-by-env", None, "[profile x]\n" + P, env={"AWS_PROFILE": "x"})
aws("conf-bare-x", None, "[x]\n" + P, profile="x")
aws("conf-quoted-single", None, "[profile 'my name']\n" + P + "region = r\n", profile="my name")
aws("conf-quoted-double", None, "[profile \"my name\"]\n" + P + "region = r\n", profile="my name")
aws("conf-quoted-apostrophe", None, "[profile 'it'\"'\"'s']\n" + P, profile="it's")
aws("conf-escaped-space", None, "[profile my\\ name]\n" + P, profile="my name")
aws("conf-unquoted-space", None, "[profile my name]\n" + P, profile="my name")
aws("conf-two-spaces", None, "[profile  x]\n" + P, profile="x")
aws("conf-tab", None, "[profile\tx]\n" + P, profile="x")
aws("conf-spaces-around", None, "[ profile x ]\n" + P, profile="x")
aws("conf-trailing-space", None, "[profile x ]\n" + P, profile="x")
aws("conf-profilex", None, "[profilex]\n" + P, profile="x")
aws("conf-profilex-y", None, "[profilex y]\n" + P, profile="y")
aws("conf-partial-quote", None, "[profile \"x]\n" + P, profile="\"x")
aws("conf-quote-in-middle", None, "[profile a\"b\"c]\n" + P, profile="abc")
aws("conf-profile-hash", None, "[profile x # comment]\n" + P, profile="x")
aws("conf-profile-dots", None, "[profile a.b]\n" + P, profile="a.b")
aws("conf-dup-section", None, "[profile x]\naws_access_key_id = AK\n[profile x]\naws_secret_access_key = SK\n", profile="x")
aws("conf-token", None, "[default]\n" + P + "aws_session_token = TK\n")
# Config settings: region, endpoint_url, services sections, nested s3 settings.
aws("conf-settings", None, "[profile x]\n" + P + "region = de-fra-1\nendpoint_url = https://sos-de-fra-1.exo.io\ns3 =\n    addressing_style = path\n", profile="x")
aws("conf-inline-comments", None, "[default]\n" + P + "region = ch-gva-2 # Geneva\nendpoint_url = https://sos-ch-gva-2.exo.io ; zone\n")
aws("conf-nested-colon", None, "[default]\n" + P + "s3 =\n  addressing_style: virtual\n")
aws("conf-nested-upper", None, "[default]\n" + P + "s3 =\n  Addressing_Style = virtual\n")
aws("conf-nested-endpoint", None, "[default]\n" + P + "s3 =\n  endpoint_url = https://nested.example\n")
aws("conf-nested-blank-line", None, "[default]\n" + P + "s3 =\n\n  addressing_style = path\n")
aws("conf-nested-tab", None, "[default]\n" + P + "s3 =\n\taddressing_style = path\n")
aws("conf-nested-then-key", None, "[default]\ns3 =\n  addressing_style = path\n" + P)
aws("conf-nested-deeper", None, "[default]\n" + P + "s3 =\n  addressing_style = path\n    more\n")
aws("conf-nested-inline-value", None, "[default]\n" + P + "s3 = x\n  addressing_style = path\n")
aws("conf-nested-inline-comment", None, "[default]\n" + P + "s3 = # nested\n  addressing_style = path\n")
aws("conf-endpoint-empty", None, "[default]\n" + P + "endpoint_url =\nregion =\n")
aws("conf-services", None, "[default]\n" + P + "services = exo\n[services exo]\ns3 =\n  endpoint_url = https://svc.example\n")
aws("conf-services-and-global", None, "[default]\n" + P + "endpoint_url = https://global.example\nservices = exo\n[services exo]\ns3 =\n  endpoint_url = https://svc.example\n")
aws("conf-services-other-service", None, "[default]\n" + P + "endpoint_url = https://global.example\nservices = exo\n[services exo]\nsqs =\n  endpoint_url = https://sqs.example\n")
aws("conf-services-empty-endpoint", None, "[default]\n" + P + "endpoint_url = https://global.example\nservices = exo\n[services exo]\ns3 =\n  endpoint_url =\n")
aws("conf-services-quoted", None, "[default]\n" + P + "services = my svc\n[services 'my svc']\ns3 =\n  endpoint_url = https://q.example\n")
aws("conf-services-in-credentials", "[default]\n" + P + "services = exo\n", "[services exo]\ns3 =\n  endpoint_url = https://svc.example\n")
aws("conf-services-missing", None, "[default]\n" + P + "services = nope\n")
# Both files.
aws("both-credentials-win", "[default]\naws_access_key_id = AKC\naws_secret_access_key = SKC\n", "[default]\naws_access_key_id = AKF\naws_secret_access_key = SKF\n")
aws("both-tokens-from-one-file", "[default]\naws_access_key_id = AKC\naws_secret_access_key = SKC\naws_session_token = TC\n", "[default]\naws_access_key_id = AKF\naws_secret_access_key = SKF\naws_session_token = TF\n")
aws("both-region-credentials-win", "[default]\n" + P + "region = r-cred\n", "[default]\nregion = r-conf\n")
aws("both-section-without-keys", "[default]\nregion = r\n", "[default]\n" + P)
aws("both-half-pair-in-credentials", "[default]\naws_access_key_id = AKC\n", "[default]\n" + P)
aws("both-secret-only-in-credentials", "[default]\naws_secret_access_key = SKC\n", "[default]\n" + P)
aws("both-token-in-config", "[default]\n" + P, "[default]\naws_session_token = TK\n")
aws("both-profile-x", "[x]\n" + P, "[profile x]\nregion = r-x\nendpoint_url = http://127.0.0.1:9\n", profile="x")
aws("both-keys-in-config-only", "[y]\n" + P, "[profile x]\n" + P.replace("AK", "AKX"), profile="x")
aws("both-wrong-prefixes", "[profile x]\n" + P, "[x]\nregion = r\n", profile="x")
aws("both-malformed-credentials", "[default]\njunk\n", "[default]\n" + P)
aws("both-malformed-config", "[default]\n" + P, "[default]\njunk\n")
# The environment and the chain's order.
aws("env-only", env=dict(E))
aws("env-before-files", "[default]\n" + P, env=dict(E))
aws("env-explicit-profile", "[x]\n" + P, env=dict(E), profile="x")
aws("env-aws-profile-exists", "[x]\n" + P, env=dict(E, AWS_PROFILE="x"))
aws("env-aws-profile-missing", "[x]\n" + P, env=dict(E, AWS_PROFILE="nope"))
aws("env-aws-profile-missing-no-files", env=dict(E, AWS_PROFILE="nope"))
aws("env-key-only", "[default]\n" + P, env={"AWS_ACCESS_KEY_ID": "AKE"})
aws("env-secret-only", "[default]\n" + P, env={"AWS_SECRET_ACCESS_KEY": "SKE"})
aws("env-empty-key", "[default]\n" + P, env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "SKE"})
aws("env-empty-secret", "[default]\n" + P, env={"AWS_ACCESS_KEY_ID": "AKE", "AWS_SECRET_ACCESS_KEY": ""})
aws("env-session-token", env=dict(E, AWS_SESSION_TOKEN="TE"))
aws("env-both-tokens", env=dict(E, AWS_SESSION_TOKEN="TE", AWS_SECURITY_TOKEN="TS"))
aws("env-empty-security-token", env=dict(E, AWS_SESSION_TOKEN="TE", AWS_SECURITY_TOKEN=""))
aws("env-legacy-names", "[default]\n" + P, env={"AWS_ACCESS_KEY": "AKL", "AWS_SECRET_KEY": "SKL"})
aws("env-legacy-names-only", env={"AWS_ACCESS_KEY": "AKL", "AWS_SECRET_KEY": "SKL"})
aws("env-default-profile-first", "[x]\n" + P + "[y]\naws_access_key_id = AKY\naws_secret_access_key = SKY\n", env={"AWS_DEFAULT_PROFILE": "x", "AWS_PROFILE": "y"})
aws("env-profile-empty", "[default]\n" + P, env={"AWS_PROFILE": ""})
aws("env-default-profile-empty", "[x]\n" + P, env={"AWS_DEFAULT_PROFILE": "", "AWS_PROFILE": "x"})
aws("env-profile-without-keys", None, "[profile x]\nregion = r\n", env={"AWS_PROFILE": "x"})
aws("env-explicit-profile-without-keys", None, "[profile x]\nregion = r\n", env=dict(E), profile="x")
aws("env-exoscale", "[default]\n" + P, env={"EXOSCALE_API_KEY": "EXO", "EXOSCALE_API_SECRET": "EXOS"})
aws("nothing")
# File locations.
ALT = {"~/alt/creds": "[default]\n" + P}
aws("path-absolute", files=ALT, env={"AWS_SHARED_CREDENTIALS_FILE": "{HOME}/alt/creds"})
aws("path-tilde", files=ALT, env={"AWS_SHARED_CREDENTIALS_FILE": "~/alt/creds"})
aws("path-dollar-home", files=ALT, env={"AWS_SHARED_CREDENTIALS_FILE": "$HOME/alt/creds"})
aws("path-braced-home", files=ALT, env={"AWS_SHARED_CREDENTIALS_FILE": "${HOME}/alt/creds"})
aws("path-other-variable", files=ALT, env={"AWS_SHARED_CREDENTIALS_FILE": "$MYDIR/creds", "MYDIR": "{HOME}/alt"})
aws("path-variable-inside", files=ALT, env={"AWS_SHARED_CREDENTIALS_FILE": "{HOME}/${SUB}/creds", "SUB": "alt"})
aws("path-unset-variable", "[default]\n" + P, env={"AWS_SHARED_CREDENTIALS_FILE": "$NOPE_DIR/creds"})
aws("path-missing-file", "[default]\n" + P, env={"AWS_SHARED_CREDENTIALS_FILE": "{HOME}/nope"})
aws("path-empty", "[default]\n" + P, env={"AWS_SHARED_CREDENTIALS_FILE": ""})
aws("path-config-tilde", files={"~/alt/conf": "[profile x]\n" + P}, env={"AWS_CONFIG_FILE": "~/alt/conf"}, profile="x")
aws("path-config-empty", None, "[default]\n" + P, env={"AWS_CONFIG_FILE": ""})

# s3cmd's file.
SEED = "[default]\nhost_base = sos.exo.io\nhost_bucket = %(bucket)s.sos.exo.io\naccess_key = EXOK\nsecret_key = EXOS\nuse_https = True\nsignature_v2 = True\n"
s3("s3-seed", SEED)
for v in ["True", "TRUE", "yes", "on", "1", "False", "no", "off", "0", "", "maybe", "\"True\"", "True # c"]:
    label = v.replace(" # c", "-comment").replace("\"", "quoted-") or "empty"
    s3("s3-bool-" + label, "[default]\naccess_key = K\nsecret_key = S\nsignature_v2 = %s\nuse_https = %s\n" % (v, v))
s3("s3-host-https-prefix", "[default]\naccess_key = K\nsecret_key = S\nhost_base = https://sos.exo.io\nhost_bucket = https://%(bucket)s.sos.exo.io\n")
s3("s3-host-trailing-slash", "[default]\naccess_key = K\nsecret_key = S\nhost_base = sos.exo.io/\nhost_bucket = sos.exo.io/\n")
s3("s3-host-port", "[default]\naccess_key = K\nsecret_key = S\nhost_base = 127.0.0.1:7480\nhost_bucket = 127.0.0.1:7480\nuse_https = False\n")
s3("s3-secret-percent", "[default]\naccess_key = K\nsecret_key = a%b%(bucket)s%%\n")
s3("s3-secret-eq", "[default]\naccess_key = K\nsecret_key = a=b==\n")
s3("s3-secret-hash", "[default]\naccess_key = K\nsecret_key = a#b ;c # d\n")
s3("s3-secret-colon", "[default]\naccess_key = K\nsecret_key = a:b\n")
s3("s3-dollar-inside", "[default]\naccess_key = K\nsecret_key = ab$cd\n")
s3("s3-quoted-double", "[default]\naccess_key = \"K\"\nsecret_key = \" S S \"\nhost_base = \"sos.exo.io\"\n")
s3("s3-quoted-single", "[default]\naccess_key = 'K'\nsecret_key = 'S'\n")
s3("s3-quoted-trailing-space", "[default]\naccess_key = \"K\"   \nsecret_key = \"S\"\t\n")
s3("s3-quoted-inner", "[default]\naccess_key = \"K\"x\"\nsecret_key = \"a\"b\"\n")
s3("s3-quote-one-side", "[default]\naccess_key = \"K\nsecret_key = S\"\n")
s3("s3-quoted-empty", "[default]\naccess_key = K\nsecret_key = S\naccess_token = \"\"\nbucket_location = \"\"\n")
s3("s3-key-case", "[default]\nACCESS_KEY = K\nSecret_Key = S\n")
s3("s3-colon-separator", "[default]\naccess_key: K\nsecret_key: S\n")
s3("s3-dash-key", "[default]\naccess-key = K\naccess_key = K2\nsecret_key = S\n")
s3("s3-semicolon-comment", "[default]\n; comment\naccess_key = K\nsecret_key = S\n")
s3("s3-indented-comment", "[default]\n   # comment\naccess_key = K\nsecret_key = S\n")
s3("s3-indented-key", "[default]\naccess_key = K\n    secret_key = S\n")
s3("s3-indented-after-empty", "[default]\naccess_token =\n    access_key = K\nsecret_key = S\n")
s3("s3-indented-all", "   [default]\n   access_key = K\n   secret_key = S\n")
s3("s3-keys-before-section", "access_key = K\nsecret_key = S\n")
s3("s3-keys-before-and-in-section", "access_key = K0\n[default]\nsecret_key = S\n")
s3("s3-sections-later-wins", "[default]\naccess_key = K1\nsecret_key = S1\n[other]\naccess_key = K2\n")
s3("s3-dup-keys", "[default]\naccess_key = K1\naccess_key = K2\nsecret_key = S\n")
s3("s3-dup-section", "[default]\naccess_key = K1\n[x]\nsecret_key = S\n[default]\naccess_key = K3\n")
s3("s3-crlf", "[default]\r\naccess_key = K\r\nsecret_key = S\r\nuse_https = False\r\n")
s3("s3-bom", "\ufeff[default]\naccess_key = K\nsecret_key = S\n")
s3("s3-no-trailing-newline", "[default]\naccess_key = K\nsecret_key = S")
s3("s3-tabs", "[default]\naccess_key\t=\tK\t\nsecret_key\t= S\n")
s3("s3-spaces-in-value", "[default]\naccess_key =   K   \nsecret_key = S S  \n")
s3("s3-access-token", "[default]\naccess_key = K\nsecret_key = S\naccess_token = T\n")
s3("s3-access-token-empty", "[default]\naccess_key = K\nsecret_key = S\naccess_token =\n")
s3("s3-missing-secret", "[default]\naccess_key = K\n")
s3("s3-missing-key", "[default]\nsecret_key = S\n")
s3("s3-empty-keys", "[default]\naccess_key =\nsecret_key =\nhost_base = h\n")
s3("s3-env-reference", "[default]\naccess_key = $MY_KEY\nsecret_key = $MY_SECRET\nhost_base = $MY_HOST\n", env={"MY_KEY": "KE", "MY_SECRET": "SE", "MY_HOST": "https://h.example"})
s3("s3-env-reference-unset", "[default]\naccess_key = K\nsecret_key = S\nhost_base = $NOPE_HOST\n")
s3("s3-env-reference-bool", "[default]\naccess_key = K\nsecret_key = S\nuse_https = $MY_HTTPS\n", env={"MY_HTTPS": "no"})
s3("s3-env-reference-empty-bool", "[default]\naccess_key = K\nsecret_key = S\nuse_https = $MY_HTTPS\n", env={"MY_HTTPS": ""})
s3("s3-env-reference-chain", "[default]\naccess_key = $A1\nsecret_key = S\n", env={"A1": "$A2", "A2": "KE"})
s3("s3-env-reference-quoted", "[default]\naccess_key = \"$MY_KEY\"\nsecret_key = S\n", env={"MY_KEY": "KE"})
s3("s3-bucket-location", "[default]\naccess_key = K\nsecret_key = S\nbucket_location = ch-gva-2\n")
s3("s3-bucket-location-empty", "[default]\naccess_key = K\nsecret_key = S\nbucket_location =\n")
s3("s3-empty", "")
s3("s3-unicode", "[default]\naccess_key = Ké\nsecret_key = S✓\n")
s3("s3-dumped", "[default]\naccess_key = K\naccess_token = \nadd_encoding_exts = \nbucket_location = US\nca_certs_file = \ncloudfront_host = cloudfront.amazonaws.com\nhost_base = sos-ch-gva-2.exo.io\nhost_bucket = %(bucket)s.sos-ch-gva-2.exo.io\nsecret_key = S\nsignature_v2 = False\nuse_https = True\n")
s3("s3-junk-line", "[default]\naccess_key = K\nsecret_key = S\nthis is junk\n")
s3("s3-unclosed-header", "[default\naccess_key = K\nsecret_key = S\n")
s3("s3-empty-header", "[]\naccess_key = K\nsecret_key = S\n")
s3("s3-header-junk", "[default] junk\naccess_key = K\nsecret_key = S\n")
s3("s3-continuation-line", "[default]\naccess_key = K\nsecret_key = S\n  continued\n")

# ---------------------------------------------------------------------------------------------
# Where sos-auth follows another rule than the reference, on purpose: what it yields, and why.

INLINE = ("a `#` or `;` after a blank ends a value, as in the AWS SDKs' shared profile-file rules "
          "(\"Comments adjacent to values are included in the value\" only without the blank); "
          "botocore's configparser keeps the comment in the value")
TRIM = ("blanks inside the brackets are trimmed, as in the AWS SDKs' profile-file rules "
        "(\"profile name with extra whitespace\"); botocore keeps them in the name")
MERGE = ("a repeated section is merged and a repeated key's last value wins, as in the AWS SDKs' "
         "profile-file rules (\"Duplicate profiles in the same file merge properties\"); botocore's "
         "configparser (strict) refuses the file")
EMPTY_VAR = "an empty variable is an unset one (botocore takes the empty value)"
MALFORMED = "a malformed line is an error naming the file and line (s3cmd warns and skips it)"


def creds(ak, sk, token=None, source="credentials"):
    return {"access_key": ak, "secret_key": sk, "session_token": token, "source": source}


def error(kind, file=None, line=None):
    e = {"error": kind}
    if file is not None:
        e["file"], e["line"] = file, line
    return e


# botocore's ConfigParseError for a nested line without `=` names no line: the offending one.
UNNAMED_LINES = {"conf-nested-deeper": 6, "conf-nested-colon": 5}

NO_SETTINGS = {"region": None, "endpoint_url": None, "addressing_style": None}
DEVIATIONS = {
    "cred-inline-hash": ({"credentials": creds("AK", "SK")}, INLINE),
    "cred-inline-semicolon": ({"credentials": creds("AK", "SK")}, INLINE),
    "cred-inline-comment-tab": ({"credentials": creds("AK", "SK")}, INLINE),
    "cred-inline-comment-only": ({"credentials": creds("AK", "SK")}, INLINE),
    "conf-inline-comments": ({"settings": {"region": "ch-gva-2", "endpoint_url": "https://sos-ch-gva-2.exo.io", "addressing_style": None}}, INLINE),
    "conf-nested-inline-comment": ({"settings": dict(NO_SETTINGS, addressing_style="path")},
                                   INLINE + "; `s3 = # nested` is then an empty value, so the lines below are nested settings"),
    "cred-header-junk": ({"credentials": error("ConfigFile", CRED, 1), "settings": error("ConfigFile", CRED, 1)},
                         "text after a header's `]` that is not a comment is an error (configparser ignores it)"),
    "cred-header-double-bracket": ({"credentials": error("ConfigFile", CRED, 1), "settings": error("ConfigFile", CRED, 1)},
                                   "text after a header's `]` that is not a comment is an error (configparser makes the name `default]`)"),
    "cred-header-spaces": ({"credentials": creds("AK", "SK")}, TRIM),
    "cred-header-trailing-space": ({"credentials": creds("AK", "SK")}, TRIM),
    "conf-spaces-around": ({"credentials": creds("AK", "SK", source="config"), "settings": NO_SETTINGS}, TRIM),
    "cred-bom": ({"credentials": creds("AK", "SK"), "settings": NO_SETTINGS},
                 "a UTF-8 byte-order mark (Windows editors) is skipped; botocore fails to parse the file"),
    "cred-empty-secret": ({"credentials": error("IncompleteCredentials")},
                          "an empty key or secret is a missing one (botocore would sign with it)"),
    "cred-empty-key": ({"credentials": error("IncompleteCredentials")},
                       "an empty key or secret is a missing one (botocore would sign with it)"),
    "cred-empty-security-token": ({"credentials": creds("AK", "SK", "TK")},
                                  "an empty token is no token and the next name is read, as botocore does for the "
                                  "environment; for files botocore takes the first name present, even empty"),
    "cred-dup-key": ({"credentials": creds("AK2", "SK"), "settings": NO_SETTINGS}, MERGE),
    "cred-dup-key-case": ({"credentials": creds("AK2", "SK"), "settings": NO_SETTINGS}, MERGE),
    "cred-dup-section": ({"credentials": creds("AK", "SK"), "settings": NO_SETTINGS}, MERGE),
    "cred-dup-section-same-key": ({"credentials": creds("AK2", "SK"), "settings": NO_SETTINGS}, MERGE),
    "conf-dup-section": ({"credentials": creds("AK", "SK", source="config"), "settings": NO_SETTINGS}, MERGE),
    "cred-DEFAULT-inherited": ({"credentials": None},
                               "`[DEFAULT]` is an ordinary section; configparser gives its keys to every section, "
                               "the AWS SDKs' rules do not (\"[default] does not provide inherited default values\")"),
    "conf-nested-colon": ({"credentials": creds("AK", "SK", source="config"), "settings": dict(NO_SETTINGS, addressing_style="virtual")},
                          "a nested setting may use `:` like any other (botocore splits nested lines on `=` only and fails)"),
    "conf-nested-upper": ({"settings": dict(NO_SETTINGS, addressing_style="virtual")},
                          "nested keys are lower-cased like the others (botocore keeps their case and misses the setting)"),
    "conf-profilex-y": ({"credentials": error("ProfileNotFound"), "settings": NO_SETTINGS},
                        "`[profilex y]` is not a profile: the header must be `profile` and one name (botocore only checks "
                        "that it starts with `profile` and splits in two; the AWS SDKs ignore it)"),
    "conf-services-missing": ({"settings": error("ConfigFile", CONF, 4)},
                              "a missing `[services NAME]` section spoils the endpoint only, reported at the `services =` "
                              "line when the endpoint is needed (botocore raises InvalidConfigError when it creates a client)"),
    "env-profile-empty": ({"credentials": creds("AK", "SK"), "settings": NO_SETTINGS}, EMPTY_VAR),
    "env-default-profile-empty": ({"credentials": creds("AK", "SK"), "settings": NO_SETTINGS}, EMPTY_VAR),
    "path-empty": ({"credentials": creds("AK", "SK")}, EMPTY_VAR + ", so the default file is read"),
    "path-config-empty": ({"credentials": creds("AK", "SK", source="config")}, EMPTY_VAR + ", so the default file is read"),
    "env-exoscale": ({"credentials": creds("EXO", "EXOS", source="exoscale")},
                     "EXOSCALE_API_KEY/EXOSCALE_API_SECRET come after the AWS_* variables and before the files (sos-auth's own source)"),
    "s3-host-trailing-slash": ({"s3cfg": {"host_base": "sos.exo.io", "host_bucket": "sos.exo.io"}},
                               "a trailing `/` of a host is dropped (s3cmd would put it in the Host header)"),
    "s3-quoted-trailing-space": ({"s3cfg": {"access_key": "K", "secret_key": "S"}},
                                 "a value in double quotes is unquoted after trimming; s3cmd strips the last character before "
                                 "trimming and leaves `K\"` when blanks follow the closing quote"),
    "s3-key-case": ({"s3cfg": {"access_key": "K", "secret_key": "S"}},
                    "keys are case-insensitive, as in the AWS files (s3cmd ignores `ACCESS_KEY`)"),
    "s3-colon-separator": ({"s3cfg": {"access_key": "K", "secret_key": "S"}},
                           "`key: value` is read as in the AWS files (s3cmd warns and skips the line)"),
    "s3-missing-secret": ({"s3cfg": error("IncompleteCredentials")},
                          "a key without its secret (or the reverse) is an error (s3cmd signs with an empty one)"),
    "s3-missing-key": ({"s3cfg": error("IncompleteCredentials")},
                       "a key without its secret (or the reverse) is an error (s3cmd falls back to other sources)"),
    "s3-junk-line": ({"s3cfg": error("ConfigFile", S3CFG, 4)}, MALFORMED),
    "s3-unclosed-header": ({"s3cfg": error("ConfigFile", S3CFG, 1)}, MALFORMED),
    "s3-empty-header": ({"s3cfg": error("ConfigFile", S3CFG, 1)}, MALFORMED),
    "s3-header-junk": ({"s3cfg": error("ConfigFile", S3CFG, 1)}, "text after a header's `]` that is not a comment is an error (s3cmd ignores it)"),
    "s3-continuation-line": ({"s3cfg": error("ConfigFile", S3CFG, 4)}, MALFORMED),
}

# ---------------------------------------------------------------------------------------------
# Running one case (in its own process: botocore and s3cmd keep state in the process).

S3CFG_KEYS = ["access_key", "secret_key", "access_token", "host_base", "host_bucket",
              "signature_v2", "use_https", "bucket_location"]
UNSET = "\x00unset"


def configparser_line(exc):
    """The line a configparser error names (the first, for a ParsingError)."""
    err = getattr(exc, "kwargs", {}).get("error")
    if getattr(err, "errors", None):
        return err.errors[0][0]
    return getattr(err, "lineno", None)


def run_one(case, home):
    out = {}
    if case["kind"] == "aws":
        import botocore.session
        from botocore.configprovider import ConfiguredEndpointProvider

        def failure(e):
            kind = type(e).__name__
            if kind == "ConfigParseError":
                return error(kind, e.kwargs["path"].replace(home, "~"), configparser_line(e))
            return error(kind)

        session = botocore.session.Session(profile=case.get("profile"))
        try:
            c = session.get_credentials()
            source = {"env": "env", "shared-credentials-file": "credentials", "config-file": "config"}
            out["credentials"] = None if c is None else creds(c.access_key, c.secret_key, c.token, source.get(c.method, c.method))
        except Exception as e:  # noqa: BLE001 - every failure is a result
            out["credentials"] = failure(e)
        session = botocore.session.Session(profile=case.get("profile"))
        try:
            scoped = session.get_scoped_config()
            s3 = scoped.get("s3")
            environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
            out["settings"] = {
                "region": scoped.get("region"),
                "endpoint_url": ConfiguredEndpointProvider(session.full_config, scoped, "s3", environ).provide(),
                "addressing_style": s3.get("addressing_style") if isinstance(s3, dict) else None,
            }
        except Exception as e:  # noqa: BLE001
            out["settings"] = failure(e)
    else:
        sys.path.insert(0, case["site_packages"])
        from S3.Config import Config

        for key in ["host_base", "host_bucket", "bucket_location"]:
            setattr(Config, key, UNSET)
        try:
            Config().read_config_file(os.path.join(home, ".s3cfg"))
            out["s3cfg"] = {k: getattr(Config, k) for k in S3CFG_KEYS}
        except Exception as e:  # noqa: BLE001
            out["s3cfg"] = {"error": type(e).__name__, "message": str(e)}
    return out


def in_our_terms(case, ref):
    """The reference result as sos-auth states it (which the deviations then override)."""
    if case["kind"] == "aws":
        for part in ref.values():
            if part and part.get("error") == "ConfigParseError" and part["line"] is None:
                part["line"] = UNNAMED_LINES[case["name"]]
        expect = {}
        c = ref["credentials"]
        mapping = {"ConfigParseError": "ConfigFile", "PartialCredentialsError": "IncompleteCredentials"}
        if c is not None and "error" in c:
            c = dict(c, error=mapping.get(c["error"], c["error"]))
        elif c is not None and not c["session_token"]:
            c = dict(c, session_token=None)  # an empty token is none: botocore sends nothing for it
        expect["credentials"] = c
        s = ref["settings"]
        if "error" in s:
            s = NO_SETTINGS if s["error"] == "ProfileNotFound" else dict(s, error=mapping.get(s["error"], s["error"]))
        else:
            s = {k: v or None for k, v in s.items()}
        expect["settings"] = s
        return expect
    r = ref["s3cfg"]
    if "error" in r:
        # s3cmd refuses a boolean: the line is the setting's (its last, as later ones win).
        option = re.search(r"option '(\w+)'", r["message"]).group(1)
        lines = case["files"][S3CFG].splitlines()
        line = max(i + 1 for i, l in enumerate(lines) if l.strip().startswith(option))
        return {"s3cfg": error("ConfigFile", S3CFG, line)}
    r = {k: (None if v in (UNSET, "") else v) for k, v in r.items()}
    if r["access_key"] is None and r["secret_key"] is None:
        r["access_token"] = None  # no credentials, no token
    return {"s3cfg": r}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(run_one(json.loads(sys.stdin.read()), sys.argv[2]), ensure_ascii=False))
        return
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    venv = os.path.join(root, "target", "test-tools", "venv")
    site = glob.glob(os.path.join(venv, "lib", "python3*", "site-packages"))
    if not site:
        sys.exit(f"s3cmd's venv not found at {venv}: run the test tooling's set-up first")
    import botocore

    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    assert set(DEVIATIONS) <= set(names), set(DEVIATIONS) - set(names)
    out = []
    for case in CASES:
        home = tempfile.mkdtemp(prefix="credfiles-")
        try:
            for path, text in case["files"].items():
                full = home + path[1:]
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "w", encoding="utf-8", newline="") as f:
                    f.write(text)
            env = {"HOME": home, "PATH": os.environ.get("PATH", ""), "AWS_EC2_METADATA_DISABLED": "true",
                   "BOTO_CONFIG": os.path.join(home, "no-boto-config"), "LANG": "C.UTF-8"}
            env.update({k: v.replace("{HOME}", home) for k, v in case["env"].items()})
            python = sys.executable if case["kind"] == "aws" else os.path.join(venv, "bin", "python")
            one = dict(case, site_packages=site[0])
            p = subprocess.run([python, os.path.abspath(__file__), "--one", home], input=json.dumps(one),
                               env=env, capture_output=True, text=True, check=False)
            if p.returncode != 0:
                sys.exit(f"{case['name']}: {p.stderr}")
            ref = json.loads(p.stdout)
        finally:
            shutil.rmtree(home)
        expect = in_our_terms(case, ref)
        record = {"name": case["name"]}
        if case["files"]:
            record["files"] = case["files"]
        if case["env"]:
            record["env"] = case["env"]
        if "profile" in case:
            record["profile"] = case["profile"]
        if case["name"] in DEVIATIONS:
            record["botocore" if case["kind"] == "aws" else "s3cmd"] = ref
            override, why = DEVIATIONS[case["name"]]
            for key, value in override.items():
                if key == "s3cfg" and "error" not in value and "error" not in expect["s3cfg"]:
                    expect["s3cfg"] = dict(expect["s3cfg"], **value)
                else:
                    expect[key] = value
            record["why"] = why
        record["expect"] = expect
        out.append(record)
    s3cmd = glob.glob(os.path.join(site[0], "s3cmd-*.dist-info"))
    s3cmd_version = os.path.basename(s3cmd[0])[len("s3cmd-"):-len(".dist-info")] if s3cmd else None
    header = {"generator": "gen_credential_files.py", "botocore_version": botocore.__version__,
              "s3cmd_version": s3cmd_version, "cases": len(out)}
    lines = [json.dumps(r) for r in out]
    print("{\"about\": " + json.dumps(header) + ",\n\"cases\": [\n" + ",\n".join(lines) + "\n]}")


if __name__ == "__main__":
    main()
