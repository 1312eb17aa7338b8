"""`cloudya diagnose system | service | deployment` against this machine, with problems the
tests make for real: a tmpfs filled to the last block, a zombie process, a Docker socket that
answers nobody, an nginx (Debian's) stopped or with a broken configuration, a failed
deployment. `--explain` goes to a real cloudyad whose LLM provider is the local stand-in,
and what it receives is checked for secrets."""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import base_cli_env, run_cli, read_config, wait_for
from hostfix import full_tmpfs, nginx, nginx_pids, no_foreign_nginx  # noqa: F401 (fixtures)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
import helpers  # noqa: E402

SYSTEM_CHECKS = ["disk_space", "inodes", "memory", "oom_kills", "load", "swap", "systemd_failed",
                 "zombies", "time_sync", "dns", "open_files", "docker", "docker_disk"]
STATUSES = {"ok", "warn", "fail", "skip"}


@pytest.fixture
def env(tmp_path):
    home = str(tmp_path / "home")
    os.makedirs(home)
    return base_cli_env(home)


def diagnose(env, *args, timeout=90):
    p = run_cli(env, "diagnose", *args, "--output", "json", timeout=timeout)
    assert p.stdout.strip(), p.stderr
    return p, json.loads(p.stdout)


def by_id(result):
    return {c["id"]: c for c in result["checks"]}


# ---- system ---------------------------------------------------------------------------------------

def test_system_json_is_complete(env):
    p, r = diagnose(env, "system")
    ids = [c["id"] for c in r["checks"]]
    assert ids == SYSTEM_CHECKS, ids
    for c in r["checks"]:
        assert c["status"] in STATUSES and c["title"] and c["message"], c
        if c["status"] in ("warn", "fail"):
            assert c["hint"], c
    failed = [c for c in r["checks"] if c["status"] == "fail"]
    assert p.returncode == (1 if failed else 0), (p.returncode, failed)
    assert r["status"] == ("fail" if failed else r["status"])
    assert r["counts"]["ok"] + r["counts"]["warn"] + r["counts"]["fail"] + r["counts"]["skip"] == 13
    c = by_id(r)
    assert c["docker"]["status"] == "ok", c["docker"]  # the suite's dockerd runs
    assert str(os.cpu_count()) in c["load"]["message"]


def test_system_text_checklist(env):
    p = run_cli(env, "diagnose", "system", timeout=90)
    assert p.returncode in (0, 1), p.stderr
    assert "Diagnosis of system" in p.stdout
    assert "\u2713" in p.stdout  # ✓
    assert "ok," in p.stdout and "failed" in p.stdout


def test_system_finds_a_full_tmpfs(env, full_tmpfs):
    p, r = diagnose(env, "system")
    disk = by_id(r)["disk_space"]
    assert disk["status"] == "fail" and full_tmpfs in disk["message"], disk
    assert p.returncode == 1
    assert full_tmpfs in r["cause"] or "disk" in r["cause"].lower(), r["cause"]
    p = run_cli(env, "diagnose", "system", timeout=90)
    assert p.returncode == 1 and "\u2717" in p.stdout and full_tmpfs in p.stdout


def test_system_finds_a_zombie(env):
    code = ("import os, time\n"
            "pid = os.fork()\n"
            "if pid == 0: os._exit(0)\n"
            "print(pid, flush=True)\n"
            "time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        wait_for(lambda: open("/proc/%d/stat" % child).read().split(")")[-1].split()[0] == "Z",
                 10, "the zombie")
        p, r = diagnose(env, "system")
        z = by_id(r)["zombies"]
        assert z["status"] in ("warn", "fail") and str(parent.pid) in (z["message"] + z["detail"]), z
    finally:
        parent.kill()
        parent.wait()


def test_system_docker_unreachable(env, tmp_path):
    e = dict(env)
    e["DOCKER_HOST"] = "unix://" + str(tmp_path / "nobody.sock")
    open(str(tmp_path / "nobody.sock"), "w").close()  # a file, not a socket anyone serves
    p, r = diagnose(e, "system")
    d = by_id(r)["docker"]
    assert d["status"] == "fail" and "nobody.sock" in d["message"], d
    assert by_id(r)["docker_disk"]["status"] == "skip"
    assert p.returncode == 1


# ---- service --------------------------------------------------------------------------------------

def test_service_healthy_nginx(env, nginx):
    nginx.start()
    p, r = diagnose(env, "service", "nginx")
    c = by_id(r)
    assert r["subject"] == "service nginx"
    assert c["installed"]["status"] == "ok" and c["running"]["status"] == "ok", c
    assert c["config"]["status"] == "ok", c["config"]
    assert str(nginx.port) in c["listening"]["message"], c["listening"]
    assert p.returncode == 0, r


def test_service_broken_config(env, nginx):
    nginx.start()
    line = nginx.break_config()
    p, r = diagnose(env, "service", "nginx")
    cfg = by_id(r)["config"]
    assert cfg["status"] == "fail", cfg
    assert "no_such_directive" in cfg["message"] and "%s:%d" % (nginx.conf, line) in cfg["message"]
    assert p.returncode == 1
    assert "config" in r["cause"].lower(), r["cause"]
    assert "nginx -t" in r["advice"], r["advice"]


def test_service_stopped(env, nginx):
    nginx.start()
    nginx.stop()
    no_foreign_nginx()
    p, r = diagnose(env, "service", "nginx")
    c = by_id(r)
    assert c["installed"]["status"] == "ok"
    assert c["running"]["status"] == "fail", c["running"]
    assert p.returncode == 1
    assert "not running" in r["cause"], r["cause"]
    text = run_cli(env, "diagnose", "service", "nginx").stdout
    assert "Most likely cause" in text and "Try:" in text


def test_service_that_does_not_exist(env):
    p, r = diagnose(env, "service", "no-such-service-xyz")
    assert p.returncode == 1
    assert by_id(r)["installed"]["status"] == "fail"
    assert "no-such-service-xyz" in r["cause"]
    p = run_cli(env, "diagnose", "service")
    assert p.returncode == 2
    p = run_cli(env, "diagnose", "service", "../etc/passwd")
    assert p.returncode == 2


# ---- deployment -----------------------------------------------------------------------------------

def test_deployment_failure_is_explained(tmp_path):
    from test_devops import Dv, deploy_host
    dv = Dv(tmp_path)
    p, rec = deploy_host(dv, env={"TF_STANDIN_FAIL": "apply"})
    assert p.returncode == 1
    p = dv.run("diagnose", "deployment", rec["id"], "--output", "json")
    assert p.returncode == 1, p.stderr
    r = json.loads(p.stdout)
    steps = by_id(r)
    assert any(c["status"] == "fail" and "apply" in (c["id"] + c["title"] + c["message"])
               for c in r["checks"]), r["checks"]
    assert "apply" in r["cause"] and "UnauthorizedOperation" in (r["cause"] + json.dumps(steps))
    assert r["advice"], r
    text = dv.run("diagnose", "deployment", rec["id"]).stdout
    assert "apply" in text and "Most likely cause" in text
    # a deployment that went well
    p, ok = deploy_host(dv)
    assert p.returncode == 0
    p = dv.run("diagnose", "deployment", ok["id"], "--output", "json")
    assert p.returncode == 0 and json.loads(p.stdout)["cause"] == ""


def test_deployment_unknown_or_bad_id(env):
    p = run_cli(env, "diagnose", "deployment", "dep-0badf00d")
    assert p.returncode == 1 and "dep-0badf00d" in p.stderr
    p = run_cli(env, "diagnose", "deployment", "not-an-id")
    assert p.returncode == 2


# ---- --explain ------------------------------------------------------------------------------------

STANDIN = os.path.join(os.path.dirname(HERE), "llm_standin.py")
PLANTED = "Planted-Secret-9f2Q"


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    d = tmp_path_factory.mktemp("standin")
    port_file = str(d / "port")
    p = subprocess.Popen(["/usr/bin/python3", STANDIN, "--port", "0", "--port-file", port_file,
                          "--key", "sk-test-key"], stdout=subprocess.DEVNULL,
                         stderr=open(str(d / "log"), "wb"))
    helpers.wait_for(lambda: os.path.exists(port_file) and open(port_file).read().strip(),
                     what="the stand-in's port")
    yield "http://127.0.0.1:%d" % int(open(port_file).read().strip())
    p.terminate()
    p.wait(5)


@pytest.fixture(scope="module")
def llm_daemon(tmp_path_factory, standin):
    helpers.binary_or_fail()
    env = {"OPENAI_BASE_URL": standin + "/v1", "OPENAI_API_KEY": "sk-test-key",
           "CLOUDYA_LLM_MODEL": "test-model", "CLOUDYA_LLM_TIMEOUT": "5"}
    with helpers.module_daemon(tmp_path_factory, "diag-llm", env_extra=env) as d:
        yield d


def logged_in(d, home):
    env = base_cli_env(home)
    assert run_cli(env, "configure", "--api-url", d.base).returncode == 0
    u = d.new_user(name="Diag User")
    p = run_cli(env, "login", "--email", u["email"], "--password-stdin", input=u["password"] + "\n")
    assert p.returncode == 0, p.stderr
    return env


def planted_record(tmp_path, home):
    """A real failed deployment (the Terraform stand-in refuses the apply) whose error lines
    are then made to hold a password and a stored credential, as a tool may print them."""
    from test_devops import Dv, deploy_host
    os.makedirs(str(tmp_path / "dv"))
    dv = Dv(tmp_path / "dv")
    p, rec = deploy_host(dv, env={"TF_STANDIN_FAIL": "apply"})
    assert p.returncode == 1
    rid = rec["id"]
    src = os.path.join(dv.home, "deployments", rid)
    dst = os.path.join(home, "deployments", rid)
    shutil.copytree(src, dst)
    for name in ("config.json",):
        shutil.copy(os.path.join(dv.home, name), os.path.join(home, name))
    with open(os.path.join(home, "credentials.yaml"), "w") as f:
        f.write('aws:\n  access_key: "AKIAIOSFODNN7EXAMPLE"\n  secret_key: "%s"\n' % PLANTED)
    os.chmod(os.path.join(home, "credentials.yaml"), 0o600)
    leak = "Error: AuthFailure: password=hunter2hunter2 rejected; key %s is not valid" % PLANTED
    path = os.path.join(dst, "record.json")
    r = json.load(open(path))
    r["error"] = leak + "\n" + r["error"]
    json.dump(r, open(path, "w"))
    with open(os.path.join(dst, "deploy.log"), "a") as f:
        f.write(leak + "\n")
    return rid


def test_explain_sends_findings_without_secrets(llm_daemon, standin, tmp_path):
    helpers.http("POST", standin + "/_control", json={"mode": "ok", "answer": {
        "action": "aws sts get-caller-identity",
        "explanation": "(stand-in) The AWS credentials were refused."}}, timeout=5)
    helpers.http("DELETE", standin + "/_requests", timeout=5)
    home = str(tmp_path / "home")
    env = logged_in(llm_daemon, home)
    rid = planted_record(tmp_path, home)
    p = run_cli(env, "diagnose", "deployment", rid, "--explain", timeout=120)
    assert p.returncode == 1, p.stderr  # the deployment failed: the explanation does not change it
    assert "Explanation" in p.stdout and "(stand-in)" in p.stdout, p.stdout + p.stderr
    sent = json.dumps(helpers.http("GET", standin + "/_requests", timeout=5).json())
    assert "apply" in sent and "UnauthorizedOperation" in sent, sent
    for secret in (PLANTED, "hunter2hunter2", "AKIAIOSFODNN7EXAMPLE"):
        assert secret not in sent, secret


def test_explain_without_login_still_checks(env):
    p = run_cli(env, "diagnose", "service", "no-such-service-xyz", "--explain")
    assert p.returncode == 1
    assert "cloudya login" in p.stderr
    assert "no-such-service-xyz" in p.stdout
