"""The local DevOps commands: `deploy`, `app` and `stack` run by the real `cloudya` binary.

Terraform and OpenTofu cannot be installed on the test machines, so the deployment runner is
driven through tests/tf_standin.py, a stand-in that implements the part of Terraform's
command-line contract the runner relies on (subcommands, flags, exit codes, a state file,
`output -json`, the state lock); when a real `terraform` is on PATH, one more test runs the
same flow with it (the test template uses only Terraform's built-in terraform_data). Ansible
is Debian's ansible-core, run for real against this machine (connection local).
No daemon is needed: these commands run on the user's machine.
"""
import json
import os
import shutil
import signal
import stat
import subprocess
import time

import pytest

from conftest import base_cli_env, cli_binary, run_cli, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
STANDIN = os.path.join(ROOT, "tests", "tf_standin.py")
SECRET = "s3cr3t-Value-77"


def need_ansible():
    if shutil.which("ansible-playbook") is None:
        pytest.fail("ansible-playbook is not installed (scripts/deps.sh test installs "
                    "ansible-core)", pytrace=False)


class Dv:
    """A CLOUDYA_HOME with config.json pointing at the stand-in and the test templates."""

    def __init__(self, tmp_path, terraform=STANDIN):
        self.home = str(tmp_path / "home")
        os.makedirs(self.home)
        self.templates = os.path.join(self.home, "templates")
        shutil.copytree(os.path.join(HERE, "templates"), self.templates)
        self.set_config(terraform_path=terraform, ansible_path="ansible-playbook",
                        templates_dir=self.templates, log_level="INFO")
        self.env = base_cli_env(self.home)
        self.tflog = str(tmp_path / "tf.log")
        self.env["TF_STANDIN_LOG"] = self.tflog
        self.out = str(tmp_path / "out")

    def set_config(self, **kw):
        with open(os.path.join(self.home, "config.json"), "w") as f:
            json.dump(kw, f)

    def run(self, *args, env=None, **kw):
        e = dict(self.env)
        e.update(env or {})
        return run_cli(e, *args, **kw)

    def json(self, *args, **kw):
        p = self.run(*args, "--output", "json", **kw)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    def record(self, rid):
        with open(os.path.join(self.home, "deployments", rid, "record.json")) as f:
            return json.load(f)

    def records(self):
        d = os.path.join(self.home, "deployments")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def tf_calls(self):
        if not os.path.exists(self.tflog):
            return []
        with open(self.tflog) as f:
            return [json.loads(line) for line in f if line.strip()]


@pytest.fixture
def dv(tmp_path):
    return Dv(tmp_path)


def deploy_host(dv, params="label=web", **kw):
    p = dv.run("deploy", "template", "local/host", "--params", params, "--output", "json", **kw)
    return p, (json.loads(p.stdout) if p.stdout.strip() else None)


# ---- deploy ---------------------------------------------------------------------------------

def test_deploy_list_shows_builtin_and_user_templates(dv):
    tpls = {t["id"]: t for t in dv.json("deploy", "list")}
    for tid in ("aws/vpc", "aws/ec2", "gcp/vm", "azure/vm"):
        assert tpls[tid]["source"] == "built-in", tpls[tid]
        assert "error" not in tpls[tid], tpls[tid]
        assert tpls[tid]["provider"] == tid.split("/")[0]
    assert tpls["local/host"]["source"] == "user"
    vpc = {p["name"]: p for p in tpls["aws/vpc"]["parameters"]}
    assert vpc["region"]["default"] == "us-east-1" and vpc["vpc_cidr"]["type"] == "cidr"
    p = dv.run("deploy", "list")
    assert p.returncode == 0 and "aws/ec2" in p.stdout and "local/host" in p.stdout
    assert "REQUIRES" in p.stdout and "ssh_public_key" in p.stdout


def test_deploy_show_template(dv):
    t = dv.json("deploy", "show", "aws/ec2")
    names = [p["name"] for p in t["parameters"]]
    assert "instance_type" in names and "ssh_public_key" in names
    p = dv.run("deploy", "show", "aws/ec2")
    assert p.returncode == 0 and "instance_type" in p.stdout and "t2.micro" in p.stdout


def test_config_json_written_with_defaults(tmp_path):
    home = str(tmp_path / "fresh")
    p = run_cli(base_cli_env(home), "deploy", "list")
    assert p.returncode == 0, p.stderr
    cfg = os.path.join(home, "config.json")
    assert stat.S_IMODE(os.stat(cfg).st_mode) == 0o600
    c = json.load(open(cfg))
    assert c["terraform_path"] == "terraform" and c["ansible_path"] == "ansible-playbook"
    assert c["templates_dir"] == os.path.join(home, "templates")
    assert "aws/vpc" in p.stdout  # the built-in templates are found from the binary


def test_deploy_template_runs_init_plan_apply_and_records(dv):
    p, rec = deploy_host(dv, "label=web,replicas=2,zones=a,b,token=" + SECRET)
    assert p.returncode == 0, p.stderr
    assert SECRET not in p.stdout and SECRET not in p.stderr
    assert rec["status"] == "applied" and rec["template"] == "local/host"
    assert [s["name"] for s in rec["steps"]] == ["init", "plan", "apply", "output"]
    assert all(s["status"] == "ok" and s["exit_code"] == 0 for s in rec["steps"])
    assert rec["outputs"]["hosts"] == ["localhost"]
    assert rec["outputs"]["label"] == "web" and rec["outputs"]["zones"] == ["a", "b"]
    assert rec["outputs"]["token"] == "(sensitive)"
    assert rec["params"]["token"] == "********" and rec["params"]["replicas"] == 2
    # the progress went to standard error with --output json, with the tool's own output
    assert "==> [1/3] terraform init" in p.stderr and "Apply complete!" in p.stderr
    ws = rec["workspace"]
    assert ws == os.path.join(dv.home, "deployments", rec["id"])
    assert stat.S_IMODE(os.stat(ws).st_mode) == 0o700
    tfvars = os.path.join(ws, "terraform.tfvars.json")
    assert stat.S_IMODE(os.stat(tfvars).st_mode) == 0o600
    v = json.load(open(tfvars))
    assert v == {"label": "web", "host": "localhost", "replicas": 2, "zones": ["a", "b"],
                 "cidr": "10.0.0.0/16", "public": False, "token": SECRET}
    assert os.path.exists(os.path.join(ws, "main.tf"))  # a copy of the template
    log = open(os.path.join(ws, "deploy.log")).read()
    assert "Apply complete!" in log and "<== exit 0" in log
    with open(os.path.join(ws, "record.json")) as f:
        assert SECRET not in f.read()
    calls = [c["argv"] for c in dv.tf_calls()]
    assert calls[0][0] == "init" and "-input=false" in calls[0]
    assert calls[1][0] == "plan" and "-var-file=terraform.tfvars.json" in calls[1] \
        and "-out=tfplan" in calls[1]
    assert calls[2][0] == "apply" and "-auto-approve" in calls[2] and "tfplan" in calls[2]
    assert calls[3][:2] == ["output", "-json"]
    assert all(c["cwd"] == ws for c in dv.tf_calls())
    env = dv.tf_calls()[2]["env"]
    assert env.get("TF_IN_AUTOMATION") == "1" and env.get("TF_INPUT") == "0"
    lst = dv.json("deploy", "list-deployments")
    assert [d["id"] for d in lst] == [rec["id"]] and lst[0]["status"] == "applied"
    p = dv.run("deploy", "list-deployments")
    assert rec["id"] in p.stdout and "applied" in p.stdout and "localhost" in p.stdout
    show = dv.json("deploy", "show", rec["id"])
    assert show["id"] == rec["id"] and show["outputs"]["hosts"] == ["localhost"]
    p = dv.run("deploy", "show", rec["id"])
    assert "steps:" in p.stdout and "hosts = localhost" in p.stdout


def test_deploy_human_output(dv):
    p = dv.run("deploy", "template", "local/host", "--params", "label=x")
    assert p.returncode == 0, p.stderr
    assert "==> [3/3] terraform apply" in p.stdout and "applied in" in p.stdout
    assert "Outputs:" in p.stdout and "hosts = localhost" in p.stdout


@pytest.mark.parametrize("tpl,params,words", [
    ("local/hots", "label=x", ["no template named local/hots", "did you mean local/host"]),
    ("nosuch", "label=x", ["not a template name", "provider/name"]),
    ("../etc", "label=x", ["not a template name"]),
    ("local/host", "label", ["\"label\" is not name=value"]),
    ("local/host", "label=x,,host=y", ["empty piece"]),
    ("local/host", "label=x,label=y", ["gives \"label\" twice"]),
    ("local/host", "host=y", ["needs the parameter label", "add label=..."]),
    ("local/host", "label=", ["label", "cannot be empty"]),
    ("local/host", "label=x,replicas=two", ["replicas", "not an integer"]),
    ("local/host", "label=x,replicas=7", ["replicas", "allowed: 1, 2, 3"]),
    ("local/host", "label=x,cidr=10.0.0.1/16", ["host bits", "10.0.0.0/16"]),
    ("local/host", "label=x,cidr=banana", ["not a CIDR block"]),
    ("local/host", "label=x,public=maybe", ["not a boolean"]),
    ("local/host", "label=x,lable=y", ["no parameter \"lable\"", "did you mean \"label\""]),
    ("local/host", "label=x,bad-name=1", ["not a parameter name"]),
])
def test_deploy_bad_input_is_a_clear_error_before_anything_runs(dv, tpl, params, words):
    p = dv.run("deploy", "template", tpl, "--params", params)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    for w in words:
        assert w in p.stderr, (w, p.stderr)
    assert dv.records() == [] and dv.tf_calls() == []


def test_deploy_secret_value_never_echoed_in_errors(dv):
    p = dv.run("deploy", "template", "local/host", "--params", "label=x,token=" + SECRET + ",zz=1")
    assert p.returncode == 2 and SECRET not in p.stderr and SECRET not in p.stdout


def test_deploy_without_terraform_says_how_to_install(dv):
    dv.set_config(terraform_path="no-such-terraform", templates_dir=dv.templates)
    p = dv.run("deploy", "template", "local/host", "--params", "label=x")
    assert p.returncode == 1
    assert "no-such-terraform was not found" in p.stderr
    assert "Terraform" in p.stderr and "OpenTofu" in p.stderr and "config.json" in p.stderr
    assert dv.records() == []


def test_deploy_bad_config_json(dv):
    with open(os.path.join(dv.home, "config.json"), "w") as f:
        f.write("{not json")
    p = dv.run("deploy", "list")
    assert p.returncode == 1 and "config.json is not valid JSON" in p.stderr
    with open(os.path.join(dv.home, "config.json"), "w") as f:
        f.write('{"terraform_path": 3}')
    p = dv.run("deploy", "list")
    assert p.returncode == 1 and "terraform_path" in p.stderr


def test_deploy_failure_is_recorded_then_retried(dv):
    p, rec = deploy_host(dv, env={"TF_STANDIN_FAIL": "apply"})
    assert p.returncode == 1
    assert rec["status"] == "failed" and rec["failed_step"] == "apply"
    assert "UnauthorizedOperation" in rec["error"]
    assert "terraform apply failed" in p.stderr and "UnauthorizedOperation" in p.stderr
    assert "cloudya deploy retry " + rec["id"] in p.stderr
    assert "cloudya deploy destroy " + rec["id"] in p.stderr
    assert dv.record(rec["id"])["status"] == "failed"
    p = dv.run("deploy", "retry", rec["id"], "--output", "json")
    assert p.returncode == 0, p.stderr
    r2 = json.loads(p.stdout)
    assert r2["status"] == "applied" and "error" not in r2
    assert r2["outputs"]["hosts"] == ["localhost"]
    p = dv.run("deploy", "retry", rec["id"])
    assert p.returncode == 2 and "only a failed or interrupted deployment" in p.stderr


def test_deploy_plan_failure_names_the_step(dv):
    p, rec = deploy_host(dv, env={"TF_STANDIN_FAIL": "plan"})
    assert p.returncode == 1 and rec["failed_step"] == "plan"
    assert [s["name"] for s in rec["steps"]] == ["init", "plan"]


def test_deploy_destroy(dv):
    p, rec = deploy_host(dv)
    assert p.returncode == 0
    rid = rec["id"]
    p = dv.run("deploy", "destroy", rid)
    assert p.returncode == 2 and "--yes" in p.stderr
    assert dv.record(rid)["status"] == "applied"
    p = dv.run("deploy", "destroy", rid, "--yes")
    assert p.returncode == 0, p.stderr
    assert "destroyed" in p.stdout
    r = dv.record(rid)
    assert r["status"] == "destroyed" and r["outputs"] == {} and "destroyed_at" in r
    calls = [c["argv"] for c in dv.tf_calls()]
    assert calls[-1][0] == "destroy" and "-auto-approve" in calls[-1] \
        and "-var-file=terraform.tfvars.json" in calls[-1]
    st = json.load(open(os.path.join(r["workspace"], "terraform.tfstate")))
    assert st["resources"] == []
    p = dv.run("deploy", "destroy", rid, "--yes")
    assert p.returncode == 1 and "already destroyed" in p.stderr
    p = dv.run("deploy", "destroy", "dep-0000beef", "--yes")
    assert p.returncode == 1 and "no deployment dep-0000beef" in p.stderr
    p = dv.run("deploy", "destroy", "nonsense", "--yes")
    assert p.returncode == 2 and "not a deployment id" in p.stderr
    assert dv.json("deploy", "list-deployments")[0]["status"] == "destroyed"


def test_deploy_destroy_failure_is_recorded(dv):
    p, rec = deploy_host(dv)
    p = dv.run("deploy", "destroy", rec["id"], "--yes", env={"TF_STANDIN_FAIL": "destroy"})
    assert p.returncode == 1 and "terraform destroy failed" in p.stderr
    assert dv.record(rec["id"])["status"] == "destroy_failed"
    p = dv.run("deploy", "destroy", rec["id"], "--yes")
    assert p.returncode == 0 and dv.record(rec["id"])["status"] == "destroyed"


def start_slow_deploy(dv, seconds=30):
    e = dict(dv.env)
    e["TF_STANDIN_SLEEP"] = "apply:%d" % seconds
    proc = subprocess.Popen([cli_binary(), "deploy", "template", "local/host", "--params",
                             "label=slow"], env=e, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    rid = wait_for(lambda: next(iter(dv.records()), None), what="the deployment's folder")
    wait_for(lambda: any(c["argv"][0] == "apply" for c in dv.tf_calls()), what="apply")
    time.sleep(0.3)
    return proc, rid


def test_concurrent_runs_on_one_deployment_are_refused(dv):
    proc, rid = start_slow_deploy(dv)
    try:
        assert dv.json("deploy", "show", rid)["status"] == "running"
        p = dv.run("deploy", "destroy", rid, "--yes")
        assert p.returncode == 1
        assert "busy" in p.stderr and "another cloudya (process %d)" % proc.pid in p.stderr
    finally:
        proc.kill()
        proc.wait()
    # the killed run left the record "running" with a free lock: it reads as interrupted
    assert dv.json("deploy", "show", rid)["status"] == "interrupted"
    # the tool was told to stop when cloudya died, and releases Terraform's state lock
    ws = os.path.join(dv.home, "deployments", rid)
    wait_for(lambda: not os.path.exists(os.path.join(ws, ".terraform.tfstate.lock.info")),
             timeout=30, what="the tool to stop after cloudya was killed")
    p = dv.run("deploy", "retry", rid)
    assert p.returncode == 0, p.stderr


def test_ctrl_c_is_passed_to_the_tool_and_recorded(dv):
    proc, rid = start_slow_deploy(dv)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Interrupt received" in out  # the stand-in got it and stopped cleanly
    assert "interrupted" in err
    r = dv.record(rid)
    assert r["status"] == "interrupted" and r["steps"][-1]["status"] == "interrupted"


def test_debug_shows_the_tool_invocations(dv):
    p = dv.run("deploy", "template", "local/host", "--params", "label=x,token=" + SECRET,
               env={"CLOUDYA_DEBUG": "1"})
    assert p.returncode == 0, p.stderr
    assert "cloudya: run: (cd " in p.stderr
    assert "plan -input=false -var-file=terraform.tfvars.json -out=tfplan" in p.stderr
    assert "TF_IN_AUTOMATION" in p.stderr
    assert SECRET not in p.stderr and SECRET not in p.stdout


def test_credentials_reach_the_tool_environment(dv):
    with open(os.path.join(dv.home, "credentials.yaml"), "w") as f:
        f.write('aws:\n  default_profile: "team"\n  default_region: "eu-west-3"\n')
    os.chmod(os.path.join(dv.home, "credentials.yaml"), 0o600)
    os.makedirs(os.path.join(dv.templates, "terraform", "aws"), exist_ok=True)
    # the user's copy of a built-in template replaces it
    shutil.copytree(os.path.join(dv.templates, "terraform", "local", "host"),
                    os.path.join(dv.templates, "terraform", "aws", "vpc"))
    mf = os.path.join(dv.templates, "terraform", "aws", "vpc", "manifest.yaml")
    with open(mf) as f:
        text = f.read().replace('provider: "local"', 'provider: "aws"')
    with open(mf, "w") as f:
        f.write(text)
    assert {t["id"]: t for t in dv.json("deploy", "list")}["aws/vpc"]["source"] == "user"
    p = dv.run("deploy", "template", "aws/vpc", "--params", "label=x")
    assert p.returncode == 0, p.stderr
    env = dv.tf_calls()[-1]["env"]
    assert env.get("AWS_PROFILE") == "team" and env.get("AWS_REGION") == "eu-west-3"


@pytest.mark.skipif(shutil.which("terraform") is None, reason="no real terraform on PATH")
def test_real_terraform_end_to_end(tmp_path):
    dv = Dv(tmp_path, terraform="terraform")
    p, rec = deploy_host(dv, "label=real,replicas=2")
    assert p.returncode == 0, p.stderr
    assert rec["status"] == "applied" and rec["outputs"]["hosts"] == ["localhost"]
    assert rec["outputs"]["label"] == "real"
    p = dv.run("deploy", "destroy", rec["id"], "--yes")
    assert p.returncode == 0, p.stderr
    assert dv.record(rec["id"])["status"] == "destroyed"


# ---- app ------------------------------------------------------------------------------------

def test_app_list_and_show(dv):
    apps = {a["id"]: a for a in dv.json("app", "list")}
    for name in ("wordpress", "lamp", "nextcloud"):
        assert apps[name]["source"] == "built-in" and "error" not in apps[name], apps[name]
    assert apps["hello-file"]["source"] == "user"
    wp = dv.json("app", "show", "wordpress")
    params = {p["name"]: p for p in wp["parameters"]}
    assert params["domain"]["required"] and params["admin_password"]["secret"]
    assert "aws" in wp["platforms"]
    p = dv.run("app", "show", "wordpress")
    assert p.returncode == 0 and "admin_password" in p.stdout and "(secret)" in p.stdout
    p = dv.run("app", "show", "wordpres")
    assert p.returncode == 1 and "did you mean wordpress" in p.stderr


def test_builtin_playbooks_pass_ansible_syntax_check(dv):
    need_ansible()
    apps = os.path.join(ROOT, "templates", "apps")
    checked = 0
    for app in sorted(os.listdir(apps)):
        for pb in ("playbook.yml", "uninstall.yml", "status.yml"):
            path = os.path.join(apps, app, pb)
            if not os.path.exists(path):
                assert pb == "status.yml", path
                continue
            r = subprocess.run(["ansible-playbook", "--syntax-check", "-i", "localhost,", path],
                               capture_output=True, text=True, env=dv.env, timeout=120)
            assert r.returncode == 0, (path, r.stdout, r.stderr)
            checked += 1
    assert checked >= 6


def test_app_install_status_uninstall_on_this_machine(dv):
    need_ansible()
    target = os.path.join(dv.out, "site")
    p = dv.run("app", "install", "hello-file", "--platform", "local", "--params",
               "target_dir=%s,message=bonjour,api_key=%s" % (target, SECRET), "--output", "json",
               timeout=180)
    assert p.returncode == 0, p.stderr
    rec = json.loads(p.stdout)
    assert SECRET not in p.stdout and SECRET not in p.stderr
    assert rec["status"] == "installed" and rec["platform"] == "local"
    assert rec["hosts"] == ["localhost"] and rec["params"]["api_key"] == "********"
    assert rec["recap"]["localhost"]["failed"] == 0 and rec["recap"]["localhost"]["ok"] > 0
    hello = open(os.path.join(target, "hello.txt")).read()
    assert "bonjour" in hello and rec["id"] in hello
    key = os.path.join(target, "key.txt")
    assert open(key).read().strip() == SECRET
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    ws = rec["workspace"]
    inv = open(os.path.join(ws, "inventory.ini")).read()
    assert "localhost ansible_connection=local" in inv
    assert stat.S_IMODE(os.stat(os.path.join(ws, "vars.yml")).st_mode) == 0o600
    assert "PLAY RECAP" in open(os.path.join(ws, "install.log")).read()
    assert SECRET not in open(os.path.join(ws, "record.json")).read()

    lst = dv.json("app", "status")
    assert [a["id"] for a in lst] == [rec["id"]] and lst[0]["status"] == "installed"
    p = dv.run("app", "status")
    assert rec["id"] in p.stdout and "installed" in p.stdout
    # a live check with the template's status playbook
    p = dv.run("app", "status", rec["id"], timeout=120)
    assert p.returncode == 0, p.stderr
    assert "healthy" in p.stdout
    os.unlink(os.path.join(target, "hello.txt"))
    p = dv.run("app", "status", rec["id"], timeout=120)
    assert p.returncode == 1 and "is not healthy" in p.stderr and "hello.txt" in p.stderr
    assert dv.record(rec["id"])["check"]["result"] == "unhealthy"

    p = dv.run("app", "uninstall", "--id", rec["id"])
    assert p.returncode == 2 and "--yes" in p.stderr
    p = dv.run("app", "uninstall", "--id", rec["id"], "--yes", timeout=120)
    assert p.returncode == 0, p.stderr
    assert not os.path.exists(key) and not os.path.exists(target)
    assert dv.record(rec["id"])["status"] == "uninstalled"
    p = dv.run("app", "uninstall", "--id", rec["id"], "--yes")
    assert p.returncode == 1 and "already uninstalled" in p.stderr


def test_app_parameters_are_never_evaluated_by_ansible(dv):
    """A value with Jinja syntax (a password may hold braces) reaches the playbook as typed."""
    need_ansible()
    target = os.path.join(dv.out, "jinja")
    msg = "{{ 1+1 }} {% raw %}x\\y'\"z"
    p = dv.run("app", "install", "hello-file", "--platform", "local", "--params",
               "target_dir=%s,message=%s" % (target, msg), timeout=180)
    assert p.returncode == 0, p.stderr
    assert msg in open(os.path.join(target, "hello.txt")).read()


def test_app_install_on_a_deployment(dv):
    need_ansible()
    p, dep = deploy_host(dv)
    assert p.returncode == 0
    target = os.path.join(dv.out, "ondep")
    p = dv.run("app", "install", "hello-file", "--deployment", dep["id"], "--params",
               "target_dir=" + target, "--output", "json", timeout=180)
    assert p.returncode == 0, p.stderr
    rec = json.loads(p.stdout)
    assert rec["deployment_id"] == dep["id"] and rec["platform"] == "local"
    assert rec["hosts"] == ["localhost"]
    assert os.path.exists(os.path.join(target, "hello.txt"))
    assert "Installing on the machines of deployment " + dep["id"] in p.stderr


@pytest.mark.parametrize("args,code,words", [
    (["nosuchapp", "--platform", "local", "--params", "target_dir=/tmp/x"], 2,
     ["no application named nosuchapp"]),
    (["hello-file", "--platform", "gcp", "--params", "target_dir=/tmp/x"], 2,
     ["cannot be installed on gcp", "local, docker, aws"]),
    (["hello-file", "--platform", "mars", "--params", "target_dir=/tmp/x"], 2,
     ["unknown platform \"mars\""]),
    (["hello-file", "--params", "target_dir=/tmp/x"], 2, ["--platform"]),
    (["hello-file", "--platform", "local"], 2, ["needs the parameter target_dir"]),
    (["hello-file", "--platform", "local", "--params", "target_dir=/tmp/x,mode=0777"], 2,
     ["allowed: 0600, 0644"]),
    (["hello-file", "--platform", "aws", "--params", "target_dir=/tmp/x"], 2,
     ["no applied deployment on aws"]),
    (["hello-file", "--deployment", "dep-0000beef", "--params", "target_dir=/tmp/x"], 2,
     ["no deployment dep-0000beef"]),
    (["hello-file", "--deployment", "oops", "--params", "target_dir=/tmp/x"], 2,
     ["not a deployment id"]),
    (["hello-file", "--platform", "local", "--hosts", "a b", "--params", "target_dir=/tmp/x"], 2,
     ["not a host name"]),
])
def test_app_bad_input(dv, args, code, words):
    p = dv.run("app", "install", *args)
    assert p.returncode == code, (p.returncode, p.stderr)
    for w in words:
        assert w in p.stderr, (w, p.stderr)
    assert dv.records() == []


def test_app_on_a_deployment_without_machines(dv):
    p = dv.run("deploy", "template", "local/net", "--output", "json")
    assert p.returncode == 0, p.stderr
    dep = json.loads(p.stdout)["id"]
    p = dv.run("app", "install", "hello-file", "--deployment", dep, "--params", "target_dir=/tmp/x")
    assert p.returncode == 2 and "has no \"hosts\" output" in p.stderr


def test_app_without_ansible_says_how_to_install(dv):
    dv.set_config(terraform_path=STANDIN, ansible_path="/nonexistent/ansible-playbook",
                  templates_dir=dv.templates)
    p = dv.run("app", "install", "hello-file", "--platform", "local", "--params",
               "target_dir=/tmp/x")
    assert p.returncode == 1 and "apt install ansible-core" in p.stderr
    assert dv.records() == []


def test_app_playbook_failure_is_recorded(dv):
    need_ansible()
    p = dv.run("app", "install", "hello-file", "--platform", "local", "--params",
               "target_dir=/proc/cloudya-cannot-write", "--output", "json", timeout=180)
    assert p.returncode == 1
    rec = json.loads(p.stdout)
    assert rec["status"] == "failed" and rec["failed_step"] == "install"
    assert "fatal" in rec["error"] or "FAILED" in rec["error"]
    assert "PLAY RECAP" not in rec["error"]
    assert "cloudya app uninstall --id " + rec["id"] in p.stderr


def test_app_uninstall_bad_ids(dv):
    p = dv.run("app", "uninstall", "--yes")
    assert p.returncode == 2 and "--id" in p.stderr
    p = dv.run("app", "uninstall", "--id", "dep-0000beef", "--yes")
    assert p.returncode == 2 and "not an installation id" in p.stderr
    p = dv.run("app", "uninstall", "--id", "app-0000beef", "--yes")
    assert p.returncode == 1 and "no installation app-0000beef" in p.stderr


# ---- stack ----------------------------------------------------------------------------------

def test_stack_list_shows_presets(dv):
    s = dv.json("stack", "list")
    names = {x["name"]: x for x in s["presets"]}
    assert names["wordpress-aws"]["template"] == "aws/ec2" and names["wordpress-aws"]["app"] == "wordpress"
    assert s["stacks"] == []
    p = dv.run("stack", "list")
    assert p.returncode == 0 and "wordpress-aws" in p.stdout and "none yet" in p.stdout


def test_stack_deploy_infrastructure_then_application(dv):
    need_ansible()
    target = os.path.join(dv.out, "stack")
    p = dv.run("stack", "deploy", "--template", "local/host", "--app", "hello-file",
               "--infra-params", "label=st", "--app-params", "target_dir=" + target,
               "--output", "json", timeout=240)
    assert p.returncode == 0, p.stderr
    st = json.loads(p.stdout)
    assert st["status"] == "deployed" and st["id"].startswith("stack-")
    dep, app = dv.record(st["deployment_id"]), dv.record(st["app_id"])
    assert dep["status"] == "applied" and dep["stack_id"] == st["id"]
    assert app["status"] == "installed" and app["stack_id"] == st["id"]
    assert app["deployment_id"] == dep["id"]
    assert st["outputs"]["hosts"] == ["localhost"]
    assert os.path.exists(os.path.join(target, "hello.txt"))
    lst = dv.json("stack", "list")["stacks"]
    assert [x["id"] for x in lst] == [st["id"]]
    p = dv.run("stack", "list")
    assert st["id"] in p.stdout and "deployed" in p.stdout


def test_stack_application_failure_keeps_the_infrastructure(dv):
    need_ansible()
    p = dv.run("stack", "deploy", "--template", "local/host", "--app", "hello-file",
               "--infra-params", "label=st", "--app-params", "target_dir=/proc/cloudya-no",
               "--output", "json", timeout=240)
    assert p.returncode == 1
    st = json.loads(p.stdout)
    assert st["status"] == "partial" and st["failed_step"] == "application"
    dep = dv.record(st["deployment_id"])
    assert dep["status"] == "applied"
    assert "cloudya app install hello-file --deployment " + dep["id"] in p.stderr
    assert "cloudya deploy destroy " + dep["id"] in p.stderr


def test_stack_infrastructure_failure(dv):
    p = dv.run("stack", "deploy", "--template", "local/host", "--app", "hello-file",
               "--infra-params", "label=st", "--app-params", "target_dir=/tmp/x",
               "--output", "json", env={"TF_STANDIN_FAIL": "apply"})
    assert p.returncode == 1
    st = json.loads(p.stdout)
    assert st["status"] == "failed" and st["failed_step"] == "infrastructure"
    assert "app_id" not in st


@pytest.mark.parametrize("args,words", [
    (["--template", "local/net", "--app", "hello-file", "--app-params", "target_dir=/tmp/x"],
     ["creates no machines"]),
    (["--template", "local/host", "--app", "hello-file", "--infra-params", "label=x"],
     ["needs the parameter target_dir"]),
    (["--template", "local/host", "--app", "hello-file", "--app-params", "target_dir=/tmp/x"],
     ["needs the parameter label"]),
    (["--template", "local/host"], ["--app"]),
    (["wordpress-aws"], ["ssh_public_key"]),
    (["no-such-stack"], ["no preconfigured stack named no-such-stack"]),
])
def test_stack_bad_input_before_anything_runs(dv, args, words):
    p = dv.run("stack", "deploy", *args)
    assert p.returncode == 2, (p.returncode, p.stderr)
    for w in words:
        assert w in p.stderr, (w, p.stderr)
    assert dv.records() == [] and dv.tf_calls() == []


def test_devops_help_pages(dv):
    for cmd in (["deploy", "template"], ["app", "install"], ["stack", "deploy"]):
        p = dv.run(*cmd, "--help")
        assert p.returncode == 0 and "example" in p.stdout.lower(), p.stdout
    p = dv.run("--help")
    assert "deploy template" in p.stdout and "app install" in p.stdout and "stack deploy" in p.stdout
