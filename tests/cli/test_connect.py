"""`cloudya connect` end to end: the real binary, no daemon. Every provider through
--params/--secret-stdin; credentials.yaml mode 0600 and read back independently of the
binary; secrets never in stdout/stderr; the listing and its JSON; bad input (unknown
provider with a did-you-mean, bad URL, unknown key, a secret on the command line); aws, gcloud
and az faked on PATH (and absent: saved, "cannot verify", exit 0); Proxmox, vSphere, Nutanix
and Keystone verified against tests/cloud_standin.py with right and wrong credentials (wrong:
exit 1, the file unchanged) and an unreachable port (saved, exit 0)."""
import json
import os
import pty
import re
import select
import socket
import stat
import subprocess
import time

import pytest

from conftest import CliEnv, base_cli_env, cli_binary, run_cli

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(os.path.dirname(HERE), "cloud_standin.py")
ESC = "\x1b["

USER, PASSWORD = "cloud-admin", "Pw-right-4242"
TOKEN_ID, TOKEN_SECRET = "root@pam!cloudya", "5e1f0c2a-1111-2222-3333-444455556666"
WRONG = "Wrong-secret-9898"


# ---- helpers ---------------------------------------------------------------------------

def ok(p):
    assert p.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout, p.stderr)
    return p


def fails(p, code, *words):
    assert p.returncode == code, "expected exit %d, got %d\nstdout: %s\nstderr: %s" % (
        code, p.returncode, p.stdout, p.stderr)
    for w in words:
        assert w in p.stderr, "%r not in stderr: %s" % (w, p.stderr)
    assert ESC not in p.stderr, "colour on a pipe: %r" % p.stderr
    return p


def no_secret(p, *secrets):
    for s in secrets:
        assert s not in p.stdout and s not in p.stderr, "secret %r printed:\n%s\n%s" % (
            s, p.stdout, p.stderr)


def unquote(text):
    """A double-quoted YAML scalar as cloudya writes it (the escapes it uses)."""
    assert text.startswith('"') and text.endswith('"'), text
    out, i, body = [], 0, text[1:-1]
    simple = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "0": "\0"}
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if e in simple:
            out.append(simple[e])
            i += 2
        elif e == "x":
            out.append(chr(int(body[i + 2:i + 4], 16)))
            i += 4
        elif e == "u":
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        else:
            raise AssertionError("unexpected escape in %r" % text)
    return "".join(out)


def scalar(text):
    if text.startswith('"'):
        return unquote(text)
    return {"true": True, "false": False, "null": None}.get(text, text)


def read_creds(home):
    """credentials.yaml as {provider: {key: value}}, read without the binary: the file is
    a mapping of mappings of scalars, one `key: value` per line, two spaces of indent."""
    path = os.path.join(home, "credentials.yaml")
    out, section = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if not line or line.startswith("#"):
                continue
            if not line.startswith(" "):
                name, _, rest = line.partition(":")
                section = out.setdefault(scalar(name) if name.startswith('"') else name, {})
                assert rest.strip() in ("", "{}"), line
                continue
            assert line.startswith("  ") and section is not None, line
            m = re.match(r'^  ("(?:[^"\\]|\\.)*"|[^:]+): (.*)$', line)
            assert m, line
            key = unquote(m.group(1)) if m.group(1).startswith('"') else m.group(1)
            section[key] = scalar(m.group(2))
    return out


def file_bytes(home):
    with open(os.path.join(home, "credentials.yaml"), "rb") as f:
        return f.read()


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def env(tmp_path, cli_bin):
    """A fresh CLOUDYA_HOME; PATH is a folder of its own (no aws, gcloud or az unless a
    test puts a fake one there: env.bin); no provider variables or proxies inherited."""
    home = tmp_path / "home"
    home.mkdir()
    e = CliEnv(base_cli_env(str(home)))
    for k in list(e):
        if k.startswith(("AWS_", "GOOGLE_", "CLOUDSDK_", "ARM_", "AZURE_", "OS_", "PM_",
                         "VSPHERE_", "NUTANIX_")) or k.lower().endswith("_proxy"):
            del e[k]
    bindir = tmp_path / "bin"
    bindir.mkdir()
    e["PATH"] = str(bindir)
    e.home = str(home)
    e.bin = str(bindir)
    e.tmp = tmp_path
    return e


def connect(env, *args, input=""):
    """Runs `cloudya connect ARGS` with standard input a pipe (never the terminal pytest
    may have been started from)."""
    return run_cli(env, "connect", *args, input=input)


def fake_tool(env, name, script):
    path = os.path.join(env.bin, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + script)
    os.chmod(path, 0o755)
    return path


# ---- the stand-in cloud ----------------------------------------------------------------

def start_standin(*extra):
    """Starts tests/cloud_standin.py with the test credentials; returns (process, port)."""
    if not os.path.isfile(STANDIN):
        pytest.fail("no %s (the stand-in of the private clouds' APIs)" % STANDIN, pytrace=False)
    p = subprocess.Popen(["/usr/bin/python3", STANDIN, "--user", USER, "--password", PASSWORD,
                          "--token-id", TOKEN_ID, "--token-secret", TOKEN_SECRET] + list(extra),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    m = re.match(r"^PORT (\d+)$", line.strip())
    if not m:
        stop_standin(p)
        pytest.fail("the stand-in said %r" % line, pytrace=False)
    return p, int(m.group(1))


def stop_standin(p):
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


@pytest.fixture(scope="module")
def cloud():
    """tests/cloud_standin.py on a port of its own (plain HTTP); yields the port."""
    p, port = start_standin()
    try:
        yield port
    finally:
        stop_standin(p)


def free_port():
    """A port nobody listens on (bound then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def private_params(provider, port):
    base = "http://127.0.0.1:%d" % port
    return {
        "proxmox": "api_url=%s/api2/json,token_id=%s" % (base, TOKEN_ID),
        "vmware": "server=%s,username=%s" % (base, USER),
        "nutanix": "endpoint=%s,username=%s" % (base, USER),
        "openstack": "auth_url=%s/v3,username=%s,project_name=demo" % (base, USER),
    }[provider]


def right_secret(provider):
    return TOKEN_SECRET if provider == "proxmox" else PASSWORD


SECRET_KEY = {"proxmox": "token_secret", "vmware": "password", "nutanix": "password",
              "openstack": "password"}


# ---- listing, help, usage errors ------------------------------------------------------

def test_listing_of_an_empty_folder(env):
    out = ok(connect(env)).stdout
    for name in ("aws", "gcp", "azure", "proxmox", "vmware", "nutanix", "openstack"):
        assert re.search(r"^%s\s.*\bno\b" % name, out, re.M), out
    assert "0 of 7 configured" in out
    j = json.loads(ok(connect(env, "--output", "json")).stdout)
    assert [p["provider"] for p in j["providers"]] == [
        "aws", "gcp", "azure", "proxmox", "vmware", "nutanix", "openstack"]
    assert not any(p["configured"] for p in j["providers"])
    assert j["file"] == os.path.join(env.home, "credentials.yaml")
    assert not os.path.exists(j["file"])  # listing writes nothing


def test_help_has_an_example_for_every_provider(env):
    page = ok(run_cli(env, "connect", "--help")).stdout
    assert page.startswith("usage: cloudya connect [<provider>]")
    for name in ("aws", "gcp", "azure", "proxmox", "vmware", "nutanix", "openstack"):
        assert re.search(r"^  .*cloudya connect %s\b" % name, page, re.M), name
    for flag in ("--params", "--secret-stdin", "--no-verify"):
        assert flag in page


@pytest.mark.parametrize("args,code,words", [
    (["proxmx"], 2, ['unknown provider "proxmx"', 'did you mean "proxmox"']),
    (["azur", "--params", "x=y"], 2, ['did you mean "azure"']),
    (["digitalocean"], 2, ['unknown provider "digitalocean"', "aws, gcp, azure"]),
    (["aws", "--params", "region=eu-west-3"], 2,
     ['unknown key "region" for aws', "default_profile, default_region, access_key_id"]),
    (["aws", "--params", "default_region"], 2, ["has no '='"]),
    (["aws", "--params", "default_region=a,default_region=b"], 2, ["given twice"]),
    (["aws", "--params", "default_region=eu west 3"], 2, ["default_region", "one word"]),
    (["proxmox", "--params", "api_url=ftp://pve,token_id=root@pam!x"], 2,
     ["api_url", "only http:// and https://"]),
    (["proxmox", "--params", "api_url=https://pve:8006/nope,token_id=root@pam!x"], 2,
     ["must end with /api2/json"]),
    (["proxmox", "--params", "api_url=https://pve,token_id=root"], 2,
     ["token_id", "USER@REALM!NAME"]),
    (["azure", "--params", "default_subscription=1234"], 2, ["not a UUID"]),
    (["openstack", "--params", "auth_url=https://root:pw@ks/v3"], 2, ["user or password"]),
    (["nutanix", "--params", "endpoint=pc,insecure_tls=maybe"], 2, ["not true or false"]),
    (["--params", "default_region=x"], 2, ["need a provider"]),
    (["aws", "gcp"], 2, ["unexpected argument"]),
])
def test_usage_errors(env, args, code, words):
    p = fails(connect(env, *args), code, *words)
    assert "see `cloudya connect --help`" in p.stderr
    assert not os.path.exists(os.path.join(env.home, "credentials.yaml"))


def test_a_secret_on_the_command_line_is_refused(env):
    p = fails(connect(env, "proxmox", "--params", "token_secret=abc"), 2, "--secret-stdin",
              "never on the command line")
    assert not os.path.exists(os.path.join(env.home, "credentials.yaml"))


def test_without_a_terminal_missing_fields_name_their_flag(env):
    fails(connect(env, "proxmox"), 2, "proxmox needs api_url", "--params api_url=")
    fails(connect(env, "gcp"), 2, "gcp needs default_project", "--params default_project=")
    fails(connect(env, "proxmox", "--params", "api_url=pve,token_id=root@pam!x"), 2,
          "proxmox needs token_secret", "--secret-stdin")
    # a secret piped without --secret-stdin is not read
    fails(connect(env, "vmware", "--params", "server=vc,username=u", input="pw\n"), 2,
          "vmware needs password")
    fails(connect(env, "azure", "--params",
                  "default_subscription=12345678-1234-1234-1234-123456789012,"
                  "client_id=11111111-2222-3333-4444-555555555555"), 2,
          "azure needs client_secret")
    assert not os.path.exists(os.path.join(env.home, "credentials.yaml"))


def test_too_many_secrets_on_standard_input(env):
    fails(connect(env, "proxmox", "--no-verify", "--params", "api_url=pve,token_id=root@pam!x",
                  "--secret-stdin", input="one\ntwo\n"), 2, "more secrets than proxmox takes")
    # aws without access keys takes no secret at all
    fails(connect(env, "aws", "--no-verify", "--secret-stdin", input="stray\n"), 2,
          "more secrets than aws takes")


# ---- public clouds ---------------------------------------------------------------------

def test_aws_without_the_cli_is_saved_and_cannot_be_verified(env):
    p = ok(connect(env, "aws", "--params", "default_region=eu-west-3"))
    assert "cannot verify" in p.stdout and "aws CLI is not installed" in p.stdout
    path = os.path.join(env.home, "credentials.yaml")
    assert mode_of(path) == 0o600
    assert read_creds(env.home) == {
        "aws": {"default_profile": "default", "default_region": "eu-west-3"}}
    # the listing shows it
    out = ok(connect(env)).stdout
    assert re.search(r"^aws\s.*\byes\b.*default_region=eu-west-3", out, re.M), out


def test_a_new_folder_is_made_0700(env):
    e = dict(env)
    home = str(env.tmp / "fresh")
    e["CLOUDYA_HOME"] = home
    ok(run_cli(e, "connect", "gcp", "--params", "default_project=my-project-1", input=""))
    assert mode_of(home) == 0o700
    assert mode_of(os.path.join(home, "credentials.yaml")) == 0o600


def test_aws_keys_from_standard_input(env):
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    p = ok(connect(env, "aws", "--params", "access_key_id=AKIAIOSFODNN7EXAMPLE",
                   "--secret-stdin", input=secret + "\n"))
    no_secret(p, secret)
    assert "********" in p.stdout
    assert read_creds(env.home)["aws"] == {
        "default_profile": "default", "default_region": "us-east-1",
        "access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": secret}
    j = json.loads(ok(connect(env, "-o", "json")).stdout)
    aws = j["providers"][0]
    assert aws["configured"] and aws["fields"]["secret_access_key"] is True
    assert aws["fields"]["access_key_id"] == "AKIAIOSFODNN7EXAMPLE"
    no_secret(connect(env), secret)
    # emptying the key id forgets the secret with it
    ok(connect(env, "aws", "--params", "access_key_id="))
    assert read_creds(env.home)["aws"] == {"default_profile": "default",
                                           "default_region": "us-east-1"}


def test_aws_with_a_fake_cli_verified_and_refused(env):
    log = str(env.tmp / "aws.log")
    fake_tool(env, "aws",
              'echo "$*|${AWS_ACCESS_KEY_ID-}|${AWS_PROFILE-none}|$AWS_REGION" >> %s\n'
              'case "$AWS_SECRET_ACCESS_KEY" in\n'
              '  good-secret) echo \'{"UserId": "AIDA1", "Account": "123456789012", '
              '"Arn": "arn:aws:iam::123456789012:user/ci"}\';;\n'
              '  *) echo; echo "An error occurred (InvalidClientTokenId) when calling the '
              'GetCallerIdentity operation: The security token included in the request is '
              'invalid." >&2; exit 254;;\n'
              'esac\n' % log)
    p = ok(connect(env, "aws", "--params", "access_key_id=AKIAGOOD,default_region=eu-west-3",
                   "--secret-stdin", input="good-secret\n"))
    assert "✓ verified" in p.stdout and "123456789012" in p.stdout
    assert "arn:aws:iam::123456789012:user/ci" in p.stdout
    before = file_bytes(env.home)
    p = fails(connect(env, "aws", "--params", "access_key_id=AKIABAD", "--secret-stdin",
                      input="bad-secret\n"), 1, "refused", "InvalidClientTokenId",
              "nothing was saved")
    no_secret(p, "bad-secret")
    assert file_bytes(env.home) == before
    with open(log) as f:
        calls = f.read()
    # the secret travelled in the environment only; keys mean no profile
    assert "secret" not in calls
    assert calls.splitlines()[0] == "sts get-caller-identity --output json|AKIAGOOD|none|eu-west-3"
    # without keys: the profile
    ok(connect(env, "aws", "--params", "access_key_id=,default_profile=prod", "--no-verify"))
    fake_tool(env, "aws", 'echo "$*|${AWS_PROFILE-none}" >> %s\n'
                          'echo \'{"Account": "1", "Arn": "arn:aws:sts::1:assumed-role/x"}\'\n'
              % log)
    ok(connect(env, "aws"))
    with open(log) as f:
        assert f.read().splitlines()[-1] == "sts get-caller-identity --output json --profile prod|prod"


def test_aws_cli_that_cannot_reach_aws_is_unverified(env):
    fake_tool(env, "aws", "echo 'Could not connect to the endpoint URL: "
                          "\"https://sts.us-east-1.amazonaws.com/\"' >&2; exit 255\n")
    p = ok(connect(env, "aws"))
    assert "cannot verify" in p.stdout and "Could not connect" in p.stdout
    assert "aws" in read_creds(env.home)


def test_gcp_with_a_service_account_key_and_no_gcloud(env):
    key = env.tmp / "sa.json"
    key.write_text(json.dumps({"type": "service_account", "project_id": "my-project-1",
                               "client_email": "tf@my-project-1.iam.gserviceaccount.com",
                               "private_key": "-----BEGIN PRIVATE KEY-----\nMII...\n"}))
    p = ok(connect(env, "gcp", "--params",
                   "default_project=my-project-1,credentials_file=%s" % key))
    assert "cannot verify" in p.stdout and "gcloud is not installed" in p.stdout
    assert "tf@my-project-1.iam.gserviceaccount.com" in p.stdout
    assert "BEGIN PRIVATE KEY" not in p.stdout
    assert read_creds(env.home)["gcp"] == {"default_project": "my-project-1",
                                           "credentials_file": str(key)}
    # a file that is not a service-account key, and one that does not exist
    adc = env.tmp / "adc.json"
    adc.write_text(json.dumps({"type": "authorized_user", "client_id": "x"}))
    fails(connect(env, "gcp", "--params", "credentials_file=%s" % adc), 2,
          "not a service-account key")
    fails(connect(env, "gcp", "--params", "credentials_file=%s" % (env.tmp / "nope.json")), 2,
          "cannot find")


def test_gcp_with_a_fake_gcloud(env):
    fake_tool(env, "gcloud",
              '[ "$1 $2 $3" = "projects describe p-ok" ] && '
              '[ "$CLOUDSDK_CORE_PROJECT" = p-ok ] && '
              'echo \'{"projectId": "p-ok", "name": "Prod", "lifecycleState": "ACTIVE"}\' && exit 0\n'
              'echo "ERROR: (gcloud.projects.describe) [me@example.com] does not have permission '
              'to access projects instance [$3] (or it may not exist)" >&2; exit 1\n')
    p = ok(connect(env, "gcp", "--params", "default_project=p-ok"))
    assert "✓ verified" in p.stdout and "p-ok" in p.stdout
    before = file_bytes(env.home)
    fails(connect(env, "gcp", "--params", "default_project=p-other"), 1,
          "does not have permission", "nothing was saved")
    assert file_bytes(env.home) == before


def test_azure_without_and_with_a_fake_az(env):
    sub = "12345678-1234-1234-1234-123456789012"
    p = ok(connect(env, "azure", "--params", "default_subscription=%s" % sub.upper()))
    assert "cannot verify" in p.stdout and "az CLI is not installed" in p.stdout
    assert read_creds(env.home)["azure"] == {"default_subscription": sub}  # lower case
    fake_tool(env, "az",
              '[ "$4" = %s ] && echo \'{"id": "%s", "name": "Prod", "state": "Enabled", '
              '"tenantId": "t", "user": {"name": "me@example.com"}}\' && exit 0\n'
              'echo "ERROR: Subscription \'$4\' not found. Check the spelling and casing and try '
              'again." >&2; exit 1\n' % (sub, sub))
    p = ok(connect(env, "azure", "--params",
                   "client_id=11111111-2222-3333-4444-555555555555,"
                   "tenant_id=87654321-4321-4321-4321-210987654321",
                   "--secret-stdin", input="sp-secret-value\n"))
    no_secret(p, "sp-secret-value")
    assert "✓ verified" in p.stdout and "me@example.com" in p.stdout
    assert read_creds(env.home)["azure"]["client_secret"] == "sp-secret-value"
    before = file_bytes(env.home)
    fails(connect(env, "azure", "--params",
                  "default_subscription=99999999-1234-1234-1234-123456789012"), 1,
          "not found", "nothing was saved")
    assert file_bytes(env.home) == before


# ---- private clouds against the stand-in ---------------------------------------------------

@pytest.mark.parametrize("provider", ["proxmox", "vmware", "nutanix", "openstack"])
def test_private_cloud_verified_then_refused(env, cloud, provider):
    secret = right_secret(provider)
    p = ok(connect(env, provider, "--params", private_params(provider, cloud), "--secret-stdin",
                   input=secret + "\n"))
    no_secret(p, secret)
    assert "✓ verified" in p.stdout, p.stdout
    saved = read_creds(env.home)[provider]
    assert saved[SECRET_KEY[provider]] == secret
    assert mode_of(os.path.join(env.home, "credentials.yaml")) == 0o600
    j = json.loads(ok(connect(env, "-o", "json")).stdout)
    entry = [x for x in j["providers"] if x["provider"] == provider][0]
    assert entry["configured"] and entry["fields"][SECRET_KEY[provider]] is True
    assert secret not in json.dumps(j)

    # the wrong secret: refused, exit 1, the file as it was
    before = file_bytes(env.home)
    p = fails(connect(env, provider, "--secret-stdin", input=WRONG + "\n"), 1, "refused",
              "nothing was saved")
    no_secret(p, WRONG, secret)
    assert "401" in p.stderr
    assert file_bytes(env.home) == before
    # JSON says the same
    p = connect(env, provider, "--secret-stdin", "--output", "json", input=WRONG + "\n")
    assert p.returncode == 1
    j = json.loads(p.stdout)
    assert j["saved"] is False and j["verification"]["status"] == "failed"
    assert file_bytes(env.home) == before


@pytest.mark.parametrize("provider", ["proxmox", "vmware", "nutanix", "openstack"])
def test_private_cloud_unreachable_is_saved_unverified(env, provider):
    port = free_port()
    p = ok(connect(env, provider, "--params", private_params(provider, port), "--secret-stdin",
                   input=right_secret(provider) + "\n"))
    no_secret(p, right_secret(provider))
    assert "cannot verify" in p.stdout and "could not be reached" in p.stdout
    assert read_creds(env.home)[provider][SECRET_KEY[provider]] == right_secret(provider)


def test_tls_is_verified_unless_insecure_tls(env, tmp_path):
    """A self-signed certificate: not trusted by default (cannot verify, says how to accept
    it), accepted with insecure_tls=true."""
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    p, port = start_standin("--tls-cert", cert, "--tls-key", key)
    try:
        url = "https://127.0.0.1:%d/api2/json" % port
        r = ok(connect(env, "proxmox", "--params", "api_url=%s,token_id=%s" % (url, TOKEN_ID),
                       "--secret-stdin", input=TOKEN_SECRET + "\n"))
        assert "cannot verify" in r.stdout and "insecure_tls=true" in r.stdout, r.stdout
        r = ok(connect(env, "proxmox", "--params", "insecure_tls=true"))
        assert "✓ verified" in r.stdout, r.stdout
        assert read_creds(env.home)["proxmox"]["insecure_tls"] == "true"
    finally:
        stop_standin(p)


def test_a_slow_endpoint_times_out_unverified(env):
    p, port = start_standin("--slow", "12")
    try:
        t0 = time.monotonic()
        r = ok(connect(env, "nutanix", "--params", private_params("nutanix", port),
                       "--secret-stdin", input=PASSWORD + "\n"))
        assert time.monotonic() - t0 < 11.5
        assert "cannot verify" in r.stdout and "timeout" in r.stdout, r.stdout
        assert read_creds(env.home)["nutanix"]["password"] == PASSWORD
    finally:
        stop_standin(p)


def test_private_cloud_json_and_debug_keep_secrets_out(env, cloud):
    e = dict(env)
    e["CLOUDYA_DEBUG"] = "1"
    p = run_cli(e, "connect", "proxmox", "--params", private_params("proxmox", cloud),
                "--secret-stdin", "-o", "json", input=TOKEN_SECRET + "\n")
    ok(p)
    no_secret(p, TOKEN_SECRET)
    assert "GET http://127.0.0.1:%d/api2/json/version" % cloud in p.stderr
    j = json.loads(p.stdout)
    assert j["saved"] is True and j["verification"]["status"] == "verified"
    assert j["fields"]["token_secret"] is True
    assert j["fields"]["api_url"] == "http://127.0.0.1:%d/api2/json" % cloud


def test_stored_secret_is_kept_when_not_given_again(env, cloud):
    ok(connect(env, "openstack", "--params", private_params("openstack", cloud),
               "--secret-stdin", input=PASSWORD + "\n"))
    # change a non-secret field only: the stored password is kept and still verified
    p = ok(connect(env, "openstack", "--params", "region=RegionOne"))
    assert "✓ verified" in p.stdout
    saved = read_creds(env.home)["openstack"]
    assert saved["password"] == PASSWORD and saved["region"] == "RegionOne"
    assert saved["user_domain_name"] == "Default" and saved["project_domain_name"] == "Default"


# ---- the file ------------------------------------------------------------------------------

def test_other_sections_and_unknown_keys_are_kept(env):
    path = os.path.join(env.home, "credentials.yaml")
    with open(path, "w") as f:
        f.write('aws:\n  default_profile: "default"\n  default_region: "us-east-1"\n'
                '  mfa_serial: "arn:aws:iam::1:mfa/me"\n\n'
                'gcp:\n  default_project: "mon-projet-gcp"\n\n'
                'azure:\n  default_subscription: "12345678-1234-1234-1234-123456789012"\n'
                'mycloud:\n  url: "https://x.example"\n')
    os.chmod(path, 0o644)
    p = connect(env)
    ok(p)
    assert "can be read or written by other users" in p.stderr
    p = ok(connect(env, "aws", "--params", "default_region=eu-west-3"))
    assert "rewritten with mode 0600" in p.stderr
    assert mode_of(path) == 0o600
    c = read_creds(env.home)
    assert c["aws"] == {"default_profile": "default", "default_region": "eu-west-3",
                        "mfa_serial": "arn:aws:iam::1:mfa/me"}
    assert c["gcp"] == {"default_project": "mon-projet-gcp"}
    assert c["azure"] == {"default_subscription": "12345678-1234-1234-1234-123456789012"}
    assert c["mycloud"] == {"url": "https://x.example"}


@pytest.mark.parametrize("content,words", [
    ("- aws\n- gcp\n", "mapping of providers"),
    ("aws: [1, 2]\n", '"aws" must be a mapping'),
    ("aws:\n  default_region:\n    nested: 1\n", "must be a single value"),
    ("aws: {\n", "not valid YAML"),
    ("#" * (64 * 1024 + 1), "larger than 64 KiB"),
])
def test_bad_files_are_refused_and_left_alone(env, content, words):
    path = os.path.join(env.home, "credentials.yaml")
    with open(path, "w") as f:
        f.write(content)
    fails(connect(env), 1, words, path)
    fails(connect(env, "aws", "--no-verify"), 1, words)
    with open(path) as f:
        assert f.read() == content


def test_a_directory_in_place_of_the_file_is_refused(env):
    os.mkdir(os.path.join(env.home, "credentials.yaml"))
    fails(connect(env), 1, "not a regular file")


# ---- on a terminal -------------------------------------------------------------------------

def run_in_pty(env, args, inputs, timeout=30):
    """Runs cloudya on a pseudo-terminal, answering each prompt in turn (an input is sent
    when the screen ends with ': '). Returns (exit status, the screen)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(cli_binary(), ["cloudya"] + args, env)
    out, pending = b"", list(inputs)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif pending and out.rstrip(b" ").endswith(b":"):
            os.write(fd, pending.pop(0).encode())
            out += b"\n<sent>\n"
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_prompts_on_a_terminal_with_the_secret_unechoed(env, cloud):
    base = "http://127.0.0.1:%d/api2/json" % cloud
    tty_env = dict(env, TERM="xterm")
    code, screen = run_in_pty(tty_env, ["connect", "proxmox"],
                              [base + "\n", "not-a-token\n", TOKEN_ID + "\n",
                               TOKEN_SECRET + "\n", "\n"])
    assert code == 0, screen
    assert "Proxmox API URL:" in screen and "API token ID:" in screen
    assert "is not a Proxmox API token id" in screen          # asked again
    assert "Accept a self-signed certificate (true/false) [false]:" in screen
    assert TOKEN_SECRET not in screen                          # not echoed, not printed
    assert "✓" in screen and ESC in screen                     # colour on a terminal
    assert read_creds(env.home)["proxmox"]["token_secret"] == TOKEN_SECRET
    # again: the current values are offered, the secret shows as (stored); Enter keeps all
    code, screen = run_in_pty(tty_env, ["connect", "proxmox"], ["\n"] * 4)
    assert code == 0, screen
    assert "[%s]" % base in screen and "[(stored)]" in screen
    assert TOKEN_SECRET not in screen
    assert read_creds(env.home)["proxmox"]["token_secret"] == TOKEN_SECRET


def test_secret_stdin_on_a_terminal_asks_without_echo(env):
    code, screen = run_in_pty(dict(env, TERM="xterm"),
                              ["connect", "vmware", "--no-verify", "--secret-stdin", "--params",
                               "server=vcenter.example.com,username=admin"],
                              ["Typed-Pw-777\n"])
    assert code == 0, screen
    assert "vCenter password:" in screen
    assert "Typed-Pw-777" not in screen
    saved = read_creds(env.home)["vmware"]
    assert saved == {"server": "https://vcenter.example.com", "username": "admin",
                     "password": "Typed-Pw-777", "insecure_tls": "false"}
