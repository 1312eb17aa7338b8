"""Tests of tests/tf_standin.py, the Terraform 1.5 stand-in the runner's tests drive:
its command-line contract (subcommands, flags, messages, exit codes), its state file, its
lock and its test hooks. Every test works in its own tmp_path with a small configuration.

    /usr/bin/python3 -m pytest -q tests/cli/test_tf_standin.py
"""
import fcntl
import hashlib
import json
import os
import pty
import re
import signal
import subprocess
import time

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TF = os.path.join(TESTS, "tf_standin.py")

MAIN_TF = r'''
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = var.region  # credentials come from the environment
}

resource "aws_vpc" "main" {
  cidr_block = var.vpc_cidr
  tags = {
    Name = "${var.name}-vpc"
  }
}

resource "aws_instance" "web" {
  count         = var.instance_count
  ami           = "ami-0abcdef"
  instance_type = "t3.micro"
  subnet_id     = aws_vpc.main.id
}
'''

VARIABLES_TF = r'''
variable "region" {
  description = "AWS region"
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "A name"
  type        = string
}

variable "vpc_cidr" {
  type    = string
  default = "10.0.0.0/16"
  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "The vpc_cidr must be a CIDR block."
  }
}

variable "instance_count" {
  type    = number
  default = 2
}

variable "zones" {
  type    = list(string)
  default = ["a", "b"]
}

variable "public" {
  type    = bool
  default = false
}

variable "password" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
'''

OUTPUTS_TF = r'''
output "hosts" {
  value = aws_instance.web[*].public_ip
}

output "ssh_user" {
  value = "ubuntu"
}

output "vpc_id" {
  value = aws_vpc.main.id
}

output "greeting" {
  value = "hello ${var.name} in ${var.region}"
}

output "zones" {
  value = var.zones
}

output "password" {
  value     = var.password
  sensitive = true
}
'''


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TF_STANDIN_", "TF_VAR_", "TF_CLI_ARGS"))
           and k not in ("TF_DATA_DIR", "TF_INPUT", "NO_COLOR")}
    env.update(extra or {})
    return env


def tf(cwd, *args, env=None, stdin=None, timeout=30):
    """Runs the stand-in in cwd; returns the CompletedProcess (text)."""
    return subprocess.run([TF] + [str(a) for a in args], cwd=str(cwd), env=clean_env(env),
                          input=stdin if stdin is not None else "", capture_output=True,
                          text=True, timeout=timeout)


def flat(text):
    """Text with its line wrapping undone (Terraform wraps diagnostics at 78 columns)."""
    return " ".join(text.split())


def ok(p):
    assert p.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout,
                                                                      p.stderr)
    return p


def write(d, name, text):
    with open(os.path.join(str(d), name), "w") as f:
        f.write(text)


def load_state(d):
    with open(os.path.join(str(d), "terraform.tfstate")) as f:
        return json.load(f)


def fake(addr, rtype, attr):
    """The documented fake attribute values, computed independently of the stand-in."""
    h = hashlib.sha256(addr.encode()).hexdigest()
    n = int(h[8:12], 16) % 254 + 1
    if attr == "id":
        short = {"aws_instance": "i", "aws_vpc": "vpc", "aws_eip": "eipalloc"}
        return short.get(rtype, rtype.split("_")[-1]) + "-" + h[:8]
    if "dns" in attr.split("_"):
        return "ec2-203-0-113-%d.compute.example" % n
    if any(w.startswith("ip") for w in attr.split("_")):
        return "203.0.113.%d" % n
    return "%s.%s" % (addr, attr)


@pytest.fixture
def tfdir(tmp_path):
    """A directory holding the AWS-like configuration, not yet initialized."""
    write(tmp_path, "main.tf", MAIN_TF)
    write(tmp_path, "variables.tf", VARIABLES_TF)
    write(tmp_path, "outputs.tf", OUTPUTS_TF)
    return tmp_path


@pytest.fixture
def inited(tfdir):
    ok(tf(tfdir, "init", "-input=false", "-no-color"))
    write(tfdir, "terraform.tfvars.json", json.dumps({"name": "demo"}))
    return tfdir


VF = "-var-file=terraform.tfvars.json"


def applied(d):
    ok(tf(d, "plan", "-input=false", "-no-color", VF, "-out=tfplan"))
    return ok(tf(d, "apply", "-input=false", "-no-color", "-auto-approve", "tfplan"))


# ---- version, init --------------------------------------------------------------------------

def test_version_forms(tmp_path):
    for flag in ("version", "-version", "--version", "-v"):
        p = ok(tf(tmp_path, flag))
        first, second = p.stdout.splitlines()[:2]
        assert first.startswith("Terraform v1.5.7 ") and "(cloudya test stand-in)" in first
        assert second == "on linux_amd64"
    v = json.loads(ok(tf(tmp_path, "version", "-json")).stdout)
    assert v["terraform_version"] == "1.5.7" and v["platform"] == "linux_amd64"
    assert v["provider_selections"] == {} and v["terraform_outdated"] is False


def test_init_in_empty_directory(tmp_path):
    p = ok(tf(tmp_path, "init", "-input=false", "-no-color"))
    assert p.stdout.startswith("Terraform initialized in an empty directory!")
    assert os.listdir(str(tmp_path)) == []


def test_init_creates_data_dir_and_lock_file(tfdir):
    p = ok(tf(tfdir, "init", "-input=false", "-no-color"))
    assert "Initializing the backend..." in p.stdout
    assert '- Finding hashicorp/aws versions matching "~> 5.0"...' in p.stdout
    assert "- Installed hashicorp/aws v5.31.0 (signed by HashiCorp)" in p.stdout
    assert "Terraform has created a lock file .terraform.lock.hcl" in p.stdout
    assert "Terraform has been successfully initialized!" in p.stdout
    plugin = tfdir / ".terraform/providers/registry.terraform.io/hashicorp/aws/5.31.0/linux_amd64"
    assert plugin.is_dir() and os.listdir(str(plugin))
    lock = (tfdir / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws" {' in lock
    assert 'version     = "5.31.0"' in lock and 'constraints = "~> 5.0"' in lock
    again = ok(tf(tfdir, "init", "-input=false", "-no-color"))
    assert "- Reusing previous version of hashicorp/aws from the dependency lock file" \
        in again.stdout
    assert "- Using previously-installed hashicorp/aws v5.31.0" in again.stdout
    up = ok(tf(tfdir, "init", "-input=false", "-no-color", "-upgrade"))
    assert "Finding hashicorp/aws versions" in up.stdout
    v = json.loads(ok(tf(tfdir, "version", "-json")).stdout)
    assert v["provider_selections"] == {"registry.terraform.io/hashicorp/aws": "5.31.0"}


def test_plan_apply_destroy_refused_before_init(tfdir):
    for args in (["plan"], ["apply", "-auto-approve"], ["destroy", "-auto-approve"]):
        p = tf(tfdir, *args, "-input=false", "-no-color", "-var", "name=x")
        assert p.returncode == 1
        assert "Error: Inconsistent dependency lock file" in flat(p.stderr)
        assert "provider registry.terraform.io/hashicorp/aws: required by this configuration" \
            in flat(p.stderr) and "terraform init" in flat(p.stderr)
    ok(tf(tfdir, "init", "-no-color"))
    os.rename(str(tfdir / ".terraform"), str(tfdir / "moved"))
    p = tf(tfdir, "plan", "-input=false", "-no-color", "-var", "name=x")
    assert p.returncode == 1 and "Error: Required plugins are not installed" in flat(p.stderr)
    assert "terraform init" in flat(p.stderr)
    assert not (tfdir / "terraform.tfstate").exists()


def test_builtin_only_configuration_needs_no_init(tmp_path):
    write(tmp_path, "main.tf", 'resource "terraform_data" "x" {\n  input = "a"\n}\n')
    p = ok(tf(tmp_path, "apply", "-input=false", "-no-color", "-auto-approve"))
    assert "terraform_data.x: Creation complete after 0s [id=data-" in p.stdout
    st = load_state(tmp_path)
    assert st["resources"][0]["provider"] == 'provider["terraform.io/builtin/terraform"]'


# ---- plan and variables ---------------------------------------------------------------------

def test_plan_lists_resources_and_summary(inited):
    p = ok(tf(inited, "plan", "-input=false", "-no-color", VF))
    assert "  # aws_vpc.main will be created" in p.stdout
    assert "  # aws_instance.web[0] will be created" in p.stdout
    assert "  # aws_instance.web[1] will be created" in p.stdout
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in p.stdout
    assert '  + greeting = "hello demo in us-east-1"' in p.stdout
    assert "  + password = (sensitive value)" in p.stdout
    assert "  + vpc_id   = (known after apply)" in p.stdout
    assert not (inited / "terraform.tfstate").exists()
    p = ok(tf(inited, "plan", "-input=false", "-no-color", VF, "-var", "instance_count=5"))
    assert "Plan: 6 to add, 0 to change, 0 to destroy." in p.stdout
    p = ok(tf(inited, "plan", "-input=false", "-no-color", VF, "-var", "instance_count=0"))
    assert "Plan: 1 to add," in p.stdout and "aws_instance" not in p.stdout


def test_literal_count_and_single_line_blocks(tmp_path):
    write(tmp_path, "main.tf", 'variable "n" { default = 1 }\n'
          'resource "terraform_data" "a" {\n  count = 3\n}\n'
          'resource "terraform_data" "b" { input = var.n }\n'
          'data "terraform_remote_state" "x" {\n  backend = "local"\n}\n')
    p = ok(tf(tmp_path, "plan", "-input=false", "-no-color"))
    assert "Plan: 4 to add, 0 to change, 0 to destroy." in p.stdout
    assert "terraform_data.a[2] will be created" in p.stdout


def test_var_files_json_and_tfvars_in_order(inited):
    write(inited, "a.tfvars", '# comment\nname = "from-tfvars"\ninstance_count = 1\n'
          'zones = [\n  "x",\n  "y", # trailing\n]\npublic = true\n')
    write(inited, "b.json", json.dumps({"instance_count": "3", "zones": ["j"]}))
    p = ok(tf(inited, "plan", "-input=false", "-no-color", "-var-file=a.tfvars",
              "-var-file", "b.json", "-out=tfplan"))
    plan = json.load(open(str(inited / "tfplan")))
    v = plan["variables"]
    assert v["name"] == "from-tfvars" and v["instance_count"] == 3 and v["zones"] == ["j"]
    assert v["public"] is True and v["region"] == "us-east-1"
    assert "Plan: 4 to add" in p.stdout
    # a later -var wins over an earlier file
    ok(tf(inited, "plan", "-input=false", "-no-color", "-var-file=a.tfvars", "-var",
          "name=cli", "-out=tfplan"))
    assert json.load(open(str(inited / "tfplan")))["variables"]["name"] == "cli"


def test_auto_loaded_files_and_env_variables(inited):
    os.remove(str(inited / "terraform.tfvars.json"))
    ok(tf(inited, "plan", "-input=false", "-no-color", "-out=p1", env={"TF_VAR_name": "env"}))
    assert json.load(open(str(inited / "p1")))["variables"]["name"] == "env"
    write(inited, "terraform.tfvars", 'name = "auto"\n')
    write(inited, "z.auto.tfvars.json", '{"region": "eu-west-3"}')
    ok(tf(inited, "plan", "-input=false", "-no-color", "-out=p2", env={"TF_VAR_name": "env"}))
    v = json.load(open(str(inited / "p2")))["variables"]
    assert v["name"] == "auto" and v["region"] == "eu-west-3"


def test_undeclared_variable(inited):
    p = tf(inited, "plan", "-input=false", "-no-color", VF, "-var", "nosuch=1")
    assert p.returncode == 1
    assert "Error: Value for undeclared variable" in flat(p.stderr)
    assert 'A variable named "nosuch" was assigned on the command line' in flat(p.stderr)
    # from a file it is only a warning (stdout), like Terraform
    write(inited, "extra.json", json.dumps({"name": "n", "stray": 1}))
    p = ok(tf(inited, "plan", "-input=false", "-no-color", "-var-file=extra.json"))
    assert "Warning: Value for undeclared variable" in p.stdout
    assert 'variable named "stray"' in flat(p.stdout) and '"extra.json"' in flat(p.stdout)


def test_required_variable_missing(tfdir):
    ok(tf(tfdir, "init", "-no-color"))
    p = tf(tfdir, "plan", "-input=false", "-no-color")
    assert p.returncode == 1 and p.stdout == ""
    assert "Error: No value for required variable" in flat(p.stderr)
    assert "on variables.tf line 8:" in flat(p.stderr) and 'variable "name" {' in flat(p.stderr)
    assert 'The root module input variable "name" is not set' in flat(p.stderr)
    # with input allowed, Terraform asks on stdin
    p = ok(tf(tfdir, "plan", "-no-color", "-out=tfplan", stdin="typed\n"))
    assert "var.name\n  A name\n\n  Enter a value: " in p.stdout
    assert json.load(open(str(tfdir / "tfplan")))["variables"]["name"] == "typed"
    p = tf(tfdir, "plan", "-no-color", env={"TF_INPUT": "0"}, stdin="typed\n")
    assert p.returncode == 1 and "No value for required variable" in flat(p.stderr)


def test_invalid_number_values(inited):
    p = tf(inited, "plan", "-input=false", "-no-color", VF, "-var", "instance_count=many")
    assert p.returncode == 1
    assert "Error: Invalid value for input variable" in flat(p.stderr)
    assert 'Unsuitable value for var.instance_count set using -var="instance_count=..."' \
        in flat(p.stderr) and "a number is required" in flat(p.stderr)
    write(inited, "bad.json", json.dumps({"name": "n", "instance_count": "many"}))
    p = tf(inited, "plan", "-input=false", "-no-color", "-var-file=bad.json")
    assert p.returncode == 1 and "on bad.json line 1:" in flat(p.stderr)
    assert "not suitable for var.instance_count declared at variables.tf:" in flat(p.stderr)
    p = tf(inited, "plan", "-input=false", "-no-color", VF, "-var", "public=maybe")
    assert p.returncode == 1 and "a bool is required" in flat(p.stderr)
    p = tf(inited, "plan", "-input=false", "-no-color", VF, "-var", "zones=notalist")
    assert p.returncode == 1 and "Invalid value for input variable" in flat(p.stderr)
    p = ok(tf(inited, "plan", "-input=false", "-no-color", VF, "-var", 'zones=["q"]',
              "-out=tfplan"))
    assert json.load(open(str(inited / "tfplan")))["variables"]["zones"] == ["q"]


def test_bad_variable_files(inited):
    p = tf(inited, "plan", "-input=false", "-no-color", "-var-file=missing.tfvars")
    assert p.returncode == 1 and "Error: Failed to read variables file" in flat(p.stderr)
    assert "Given variables file missing.tfvars does not exist." in flat(p.stderr)
    write(inited, "broken.json", '{"name": ')
    p = tf(inited, "plan", "-input=false", "-no-color", "-var-file=broken.json")
    assert p.returncode == 1 and "Error: Failed to read variables file" in flat(p.stderr)
    write(inited, "list.json", '["name"]')
    p = tf(inited, "plan", "-input=false", "-no-color", "-var-file=list.json")
    assert p.returncode == 1 and "Error: Root value must be object" in flat(p.stderr)
    write(inited, "broken.tfvars", 'name = "unterminated\n')
    p = tf(inited, "plan", "-input=false", "-no-color", "-var-file=broken.tfvars")
    assert p.returncode == 1 and "Error: Unterminated template string" in flat(p.stderr)
    write(inited, "ref.tfvars", 'name = var.other\n')
    p = tf(inited, "plan", "-input=false", "-no-color", "-var-file=ref.tfvars")
    assert p.returncode == 1 and "Error: Variables not allowed" in flat(p.stderr)


def test_plan_out_file(inited):
    p = ok(tf(inited, "plan", "-input=false", "-no-color", VF, "-out=tfplan"))
    assert "Saved the plan to: tfplan" in p.stdout
    plan = json.load(open(str(inited / "tfplan")))
    assert plan["variables"]["name"] == "demo" and plan["prior_state"] is None
    assert plan["creates"] == ["aws_vpc.main", "aws_instance.web[0]", "aws_instance.web[1]"]
    assert {r["action"] for r in plan["resources"]} == {"create"}


def test_configuration_errors(tmp_path):
    write(tmp_path, "main.tf", 'output "a" {\n  value = var.nope\n}\n'
          'output "b" {\n  value = aws_instance.nope.id\n}\n')
    p = tf(tmp_path, "plan", "-input=false", "-no-color")
    assert p.returncode == 1
    assert "Error: Reference to undeclared input variable" in flat(p.stderr)
    assert 'on main.tf line 2, in output "a":' in flat(p.stderr)
    assert "Error: Reference to undeclared resource" in flat(p.stderr)
    write(tmp_path, "main.tf", 'variable "s" {\n  default = "x"\n  sensitive = true\n}\n'
          'output "leak" {\n  value = "${var.s}!"\n}\n')
    p = tf(tmp_path, "plan", "-input=false", "-no-color")
    assert p.returncode == 1 and "Error: Output refers to sensitive values" in flat(p.stderr)
    write(tmp_path, "main.tf", 'variable "n" {\n  type = number\n  default = "abc"\n}\n')
    p = tf(tmp_path, "plan", "-input=false", "-no-color")
    assert p.returncode == 1 and "Error: Invalid default value for variable" in flat(p.stderr)
    write(tmp_path, "main.tf", 'variable "a" {}\nvariable "a" {}\n')
    p = tf(tmp_path, "plan", "-input=false", "-no-color")
    assert p.returncode == 1 and "Error: Duplicate variable declaration" in flat(p.stderr)
    write(tmp_path, "main.tf", 'resource "terraform_data" "x" {\n  input = "a"\n')
    p = tf(tmp_path, "plan", "-input=false", "-no-color")
    assert p.returncode == 1 and "Error: Unclosed configuration block" in flat(p.stderr)
    os.remove(str(tmp_path / "main.tf"))
    p = tf(tmp_path, "plan", "-input=false", "-no-color")
    assert p.returncode == 1 and "Error: No configuration files" in flat(p.stderr)


def test_hcl_syntax_is_read(tmp_path):
    write(tmp_path, "main.tf", r'''
# hash comment
// slash comment
/* block
   comment { with braces } */
variable "multi" {
  description = "has # and // and { inside"
  type = list(object({
    name = string
    size = optional(number, 1)
  }))
  default = [
    { name = "a" },
    {
      name = "b",
      size = 2
    },
  ]
  validation {
    condition     = length(var.multi) > 0
    error_message = "Needs one."
  }
}
variable "word" { default = "it's \"quoted\"" }
output "script" {
  value = <<-EOT
    echo ${var.word}
    echo $${LITERAL}
  EOT
}
output "sizes" { value = [for m in var.multi : m.size] }
output "names" { value = join(",", [for m in var.multi : upper(m.name)]) }
output "cond" { value = length(var.multi) > 1 ? "many" : "one" }
output "math" { value = 2 * 3 + 1 }
''')
    ok(tf(tmp_path, "apply", "-input=false", "-no-color", "-auto-approve"))
    outs = json.loads(ok(tf(tmp_path, "output", "-json")).stdout)
    assert outs["script"]["value"] == 'echo it\'s "quoted"\necho ${LITERAL}\n'
    assert outs["sizes"]["value"] == [1, 2]
    assert outs["names"]["value"] == "A,B"
    assert outs["cond"]["value"] == "many" and outs["math"]["value"] == 7


# ---- apply, state, outputs ------------------------------------------------------------------

def test_apply_without_approval_is_refused(inited):
    p = tf(inited, "apply", "-input=false", "-no-color", VF)
    assert p.returncode == 1
    assert "Do you want to perform these actions?" in p.stdout
    assert "Error: error asking for approval: EOF" in flat(p.stderr)
    p = tf(inited, "apply", "-input=false", "-no-color", VF, stdin="no\n")
    assert p.returncode == 1 and "Apply cancelled." in p.stdout
    assert not (inited / "terraform.tfstate").exists()
    p = ok(tf(inited, "apply", "-input=false", "-no-color", VF, stdin="yes\n"))
    assert "Apply complete! Resources: 3 added, 0 changed, 0 destroyed." in p.stdout


def test_apply_plan_file_writes_state(inited):
    p = applied(inited)
    web0, vpc = "aws_instance.web[0]", "aws_vpc.main"
    assert "aws_vpc.main: Creating..." in p.stdout
    assert "aws_vpc.main: Creation complete after 0s [id=%s]" % fake(vpc, "aws_vpc", "id") \
        in p.stdout
    assert "%s: Creation complete after 0s [id=%s]" % (web0, fake(web0, "aws_instance", "id")) \
        in p.stdout
    assert "Apply complete! Resources: 3 added, 0 changed, 0 destroyed." in p.stdout
    tail = p.stdout.split("Apply complete!")[1]
    assert "\nOutputs:\n\n" in tail
    assert 'greeting = "hello demo in us-east-1"' in tail and "password = <sensitive>" in tail
    assert 'hosts = [\n  "%s",\n' % fake(web0, "aws_instance", "public_ip") in tail
    st = load_state(inited)
    assert st["version"] == 4 and st["terraform_version"] == "1.5.7" and st["serial"] == 1
    assert re.fullmatch(r"[0-9a-f-]{36}", st["lineage"])
    assert st["outputs"]["password"] == {"value": "hunter2", "type": "string",
                                         "sensitive": True}
    assert st["outputs"]["zones"]["type"] == ["list", "string"]
    assert st["outputs"]["hosts"]["type"] == ["tuple", ["string", "string"]]
    assert "sensitive" not in st["outputs"]["ssh_user"]
    res = {r["name"]: r for r in st["resources"]}
    assert res["web"]["mode"] == "managed" and res["web"]["type"] == "aws_instance"
    assert res["web"]["provider"] == 'provider["registry.terraform.io/hashicorp/aws"]'
    insts = res["web"]["instances"]
    assert [i["index_key"] for i in insts] == [0, 1]
    assert insts[1]["attributes"]["id"] == fake("aws_instance.web[1]", "aws_instance", "id")
    assert insts[0]["attributes"]["subnet_id"] == fake(vpc, "aws_vpc", "id")
    assert res["main"]["instances"][0]["attributes"]["tags"] == {"Name": "demo-vpc"}
    assert not (inited / ".terraform.tfstate.lock.info").exists()
    assert not (inited / "terraform.tfstate.backup").exists()


def test_second_run_adds_only_missing_resources(inited):
    applied(inited)
    p = ok(tf(inited, "plan", "-input=false", "-no-color", VF))
    assert "aws_vpc.main: Refreshing state... [id=vpc-" in p.stdout
    assert "No changes. Your infrastructure matches the configuration." in p.stdout
    p = ok(tf(inited, "apply", "-input=false", "-no-color", "-auto-approve", VF,
              "-var", "instance_count=3"))
    assert "Apply complete! Resources: 1 added, 0 changed, 0 destroyed." in p.stdout
    assert "aws_instance.web[2]: Creating..." in p.stdout and "web[0]: Creating" not in p.stdout
    assert load_state(inited)["serial"] == 2
    assert json.load(open(str(inited / "terraform.tfstate.backup")))["serial"] == 1
    p = ok(tf(inited, "plan", "-input=false", "-no-color", VF, "-var", "instance_count=1"))
    assert "Plan: 0 to add, 0 to change, 2 to destroy." in p.stdout
    assert "  # aws_instance.web[2] will be destroyed" in p.stdout


def test_stale_plan_is_refused(inited):
    ok(tf(inited, "plan", "-input=false", "-no-color", VF, "-out=old"))
    applied(inited)
    p = tf(inited, "apply", "-input=false", "-no-color", "-auto-approve", "old")
    assert p.returncode == 1 and "Error: Saved plan is stale" in flat(p.stderr)
    p = tf(inited, "apply", "-input=false", "-no-color", "-auto-approve", VF, "tfplan")
    assert p.returncode == 1
    assert "Error: Can't set variables when applying a saved plan" in flat(p.stderr)
    p = tf(inited, "apply", "-input=false", "-no-color", "nosuchplan")
    assert p.returncode == 1 and 'Failed to load "nosuchplan" as a plan file' in flat(p.stderr)


def test_output_command(inited):
    assert ok(tf(inited, "output", "-json")).stdout.strip() == "{}"
    p = ok(tf(inited, "output", "-no-color"))
    assert "Warning: No outputs found" in p.stdout
    applied(inited)
    outs = json.loads(ok(tf(inited, "output", "-json")).stdout)
    assert sorted(outs) == ["greeting", "hosts", "password", "ssh_user", "vpc_id", "zones"]
    assert outs["ssh_user"] == {"sensitive": False, "type": "string", "value": "ubuntu"}
    assert outs["password"] == {"sensitive": True, "type": "string", "value": "hunter2"}
    assert outs["hosts"]["value"] == [fake("aws_instance.web[%d]" % i, "aws_instance",
                                           "public_ip") for i in (0, 1)]
    assert outs["zones"] == {"sensitive": False, "type": ["list", "string"],
                             "value": ["a", "b"]}
    assert ok(tf(inited, "output", "ssh_user")).stdout == '"ubuntu"\n'
    assert ok(tf(inited, "output", "-raw", "vpc_id")).stdout == fake("aws_vpc.main", "aws_vpc",
                                                                     "id")
    assert ok(tf(inited, "output", "password")).stdout == '"hunter2"\n'
    assert json.loads(ok(tf(inited, "output", "-json", "zones")).stdout) == ["a", "b"]
    p = tf(inited, "output", "-no-color", "-raw", "hosts")
    assert p.returncode == 1 and "Error: Unsupported value for raw output" in flat(p.stderr)
    p = tf(inited, "output", "-no-color", "nope")
    assert p.returncode == 1 and 'Error: Output "nope" not found' in flat(p.stderr)
    p = ok(tf(inited, "output", "-no-color"))
    assert 'password = <sensitive>' in p.stdout and 'zones = tolist([\n  "a",' in p.stdout


def test_output_expressions(tmp_path):
    write(tmp_path, "main.tf", r'''
variable "name" { default = "n1" }
variable "port" {
  type    = number
  default = 8080
}
resource "aws_instance" "vm" {
  ami = "x"
}
resource "aws_eip" "ip" {
  count = 2
}
output "tmpl" { value = "${var.name}:${var.port}" }
output "ref" { value = var.port }
output "num" { value = 42 }
output "flag" { value = true }
output "list" { value = [var.name, 1, false] }
output "id" { value = aws_instance.vm.id }
output "pub" { value = aws_instance.vm.public_ip }
output "dns" { value = aws_instance.vm.public_dns }
output "arn" { value = aws_instance.vm.arn }
output "nested" { value = aws_instance.vm.network_interface[0].private_ip }
output "splat" { value = aws_eip.ip[*].id }
output "one" { value = aws_eip.ip[1].public_ip }
output "raw" { value = someday(var.name) }
output "echo" { value = aws_instance.vm.ami }
output "addr" { value = aws_eip.ip[0].address }
''')
    write(tmp_path, "versions.tf", "")
    ok(tf(tmp_path, "init", "-no-color"))
    ok(tf(tmp_path, "apply", "-input=false", "-no-color", "-auto-approve"))
    o = {k: v["value"] for k, v in json.loads(ok(tf(tmp_path, "output", "-json")).stdout).items()}
    vm = "aws_instance.vm"
    assert o["tmpl"] == "n1:8080" and o["ref"] == 8080 and o["num"] == 42 and o["flag"] is True
    assert o["list"] == ["n1", 1, False]
    assert o["id"] == fake(vm, "aws_instance", "id") and o["id"].startswith("i-")
    assert re.fullmatch(r"203\.0\.113\.\d+", o["pub"]) and o["pub"] == fake(vm, "x", "public_ip")
    assert o["dns"] == fake(vm, "x", "public_dns") and o["dns"].endswith(".compute.example")
    assert o["arn"] == "aws_instance.vm.arn"
    assert o["nested"] == fake(vm, "x", "private_ip")
    assert o["splat"] == [fake("aws_eip.ip[%d]" % i, "aws_eip", "id") for i in (0, 1)]
    assert o["one"] == fake("aws_eip.ip[1]", "x", "public_ip")
    assert o["raw"] == "someday(var.name)"
    assert o["echo"] == "x"                 # an argument of the resource reads back as set
    assert o["addr"] == fake("aws_eip.ip[0]", "x", "public_ip")


def test_destroy(inited):
    applied(inited)
    p = tf(inited, "destroy", "-input=false", "-no-color", VF)
    assert p.returncode == 1 and "Do you really want to destroy all resources?" in p.stdout
    assert "Error: error asking for approval: EOF" in flat(p.stderr)
    os.rename(str(inited / "terraform.tfvars.json"), str(inited / "vars.json"))
    p = tf(inited, "destroy", "-input=false", "-no-color", "-auto-approve")
    assert p.returncode == 1 and "Error: No value for required variable" in flat(p.stderr)
    p = ok(tf(inited, "destroy", "-input=false", "-no-color", "-auto-approve",
              "-var-file=vars.json"))
    vpc_id = fake("aws_vpc.main", "aws_vpc", "id")
    assert "aws_vpc.main: Destroying... [id=%s]" % vpc_id in p.stdout
    assert "aws_vpc.main: Destruction complete after 0s" in p.stdout
    assert "Destroy complete! Resources: 3 destroyed." in p.stdout
    assert p.stdout.index("web[0]: Destroying") < p.stdout.index("aws_vpc.main: Destroying")
    st = load_state(inited)
    assert st["resources"] == [] and st["outputs"] == {} and st["serial"] == 2
    assert ok(tf(inited, "output", "-json")).stdout.strip() == "{}"
    p = ok(tf(inited, "destroy", "-input=false", "-no-color", "-auto-approve",
              "-var-file=vars.json"))
    assert "No changes. No objects need to be destroyed." in p.stdout
    assert "Destroy complete! Resources: 0 destroyed." in p.stdout


# ---- command line ---------------------------------------------------------------------------

def test_unknown_subcommand_and_flag(tmp_path):
    p = tf(tmp_path, "frobnicate")
    assert p.returncode == 1 and 'Terraform has no command named "frobnicate".' in flat(p.stderr)
    for cmd in ("plan", "apply", "init", "output", "destroy"):
        p = tf(tmp_path, cmd, "-no-color", "-frob")
        assert p.returncode == 1 and "flag provided but not defined: -frob" in flat(p.stderr)
    p = tf(tmp_path, "plan", "-input=maybe")
    assert p.returncode == 1 and 'invalid boolean value "maybe" for -input' in flat(p.stderr)
    # like Terraform, only an exact -no-color is taken from anywhere in the arguments
    p = tf(tmp_path, "output", "--no-color")
    assert p.returncode == 1 and "flag provided but not defined: -no-color" in flat(p.stderr)


def test_flags_after_the_plan_file(inited):
    ok(tf(inited, "plan", "-input=false", VF, "-out=tfplan", "-no-color"))
    p = tf(inited, "apply", "-input=false", "-auto-approve", "tfplan", "-no-color")
    assert p.returncode == 0 and "Apply complete! Resources: 3 added" in p.stdout
    ok(tf(inited, "plan", "-input=false", VF, "-out=tfplan", "-no-color"))
    p = tf(inited, "apply", "-input=false", "tfplan", "-auto-approve", "-no-color")
    assert p.returncode == 1 and "Error: Too many command line arguments" in flat(p.stderr)


def test_chdir(inited, tmp_path_factory):
    other = tmp_path_factory.mktemp("elsewhere")
    p = ok(tf(other, "-chdir=%s" % inited, "plan", "-input=false", "-no-color", VF))
    assert "Plan: 3 to add" in p.stdout
    p = tf(other, "-chdir=/no/such/dir", "plan")
    assert p.returncode == 1 and "Error handling -chdir option" in flat(p.stderr)


def run_on_pty(cwd, *args):
    master, slave = pty.openpty()
    proc = subprocess.Popen([TF] + list(args), cwd=str(cwd), env=clean_env(),
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    data = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    os.close(master)
    proc.wait(timeout=30)
    return data.decode()


def test_colours_only_on_a_terminal(inited):
    text = run_on_pty(inited, "apply", "-input=false", "-auto-approve", VF)
    assert "\x1b[1m\x1b[32mApply complete! Resources: 3 added" in text
    assert "\x1b[1mPlan:\x1b[0m 3 to add" in text
    text = run_on_pty(inited, "plan", "-input=false", "-no-color", VF)
    assert "\x1b[" not in text and "No changes." in text
    p = tf(inited, "plan", "-input=false", VF)          # colour allowed but not a tty
    assert "\x1b[" not in p.stdout
    os.remove(str(inited / "terraform.tfvars.json"))
    p = tf(inited, "plan", "-input=false")              # diagnostics drawn in a box
    assert "\u2502 Error: No value for required variable" in flat(p.stderr)
    assert "\x1b[" not in flat(p.stderr)


# ---- lock -----------------------------------------------------------------------------------

def test_lock_held_by_another_process(inited):
    fd = os.open(str(inited / ".terraform.tfstate.lock.info"), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        for args in (["plan"], ["apply", "-auto-approve"], ["destroy", "-auto-approve"]):
            p = tf(inited, *args, "-input=false", "-no-color", VF)
            assert p.returncode == 1 and "Error: Error acquiring the state lock" in flat(p.stderr)
            assert "-lock=false" in flat(p.stderr)
        t0 = time.monotonic()
        p = tf(inited, "plan", "-input=false", "-no-color", VF, "-lock-timeout=1s")
        assert p.returncode == 1 and time.monotonic() - t0 >= 1.0
        ok(tf(inited, "plan", "-input=false", "-no-color", VF, "-lock=false"))
    finally:
        os.close(fd)
    ok(tf(inited, "plan", "-input=false", "-no-color", VF))


def wait_until(pred, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sleep_holds_the_lock_and_interrupt_saves_state(inited, sig):
    proc = subprocess.Popen([TF, "apply", "-input=false", "-no-color", "-auto-approve", VF],
                            cwd=str(inited), env=clean_env({"TF_STANDIN_SLEEP": "apply:30"}),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        lockinfo = inited / ".terraform.tfstate.lock.info"
        wait_until(lambda: lockinfo.exists() and lockinfo.read_text().strip())
        assert json.loads(lockinfo.read_text())["Operation"] == "OperationTypeApply"
        time.sleep(0.3)
        p = tf(inited, "plan", "-input=false", "-no-color", VF)
        assert p.returncode == 1 and "Error: Error acquiring the state lock" in flat(p.stderr)
        assert "Operation: OperationTypeApply" in flat(p.stderr)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1
    assert "Interrupt received.\nPlease wait for Terraform to exit or data loss may occur.\n" \
           "Gracefully shutting down..." in out
    assert "Error: operation canceled" in flat(err)
    st = load_state(inited)
    assert [r["name"] for r in st["resources"]] == ["main"]      # the first half of 3
    assert not lockinfo.exists()
    p = ok(tf(inited, "apply", "-input=false", "-no-color", "-auto-approve", VF))
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in p.stdout


def test_sleep_in_plan(inited):
    t0 = time.monotonic()
    ok(tf(inited, "plan", "-input=false", "-no-color", VF, env={"TF_STANDIN_SLEEP": "plan:1"}))
    assert time.monotonic() - t0 >= 1.0


# ---- hooks ----------------------------------------------------------------------------------

def test_fail_apply_is_partial(inited):
    ok(tf(inited, "plan", "-input=false", "-no-color", VF, "-var", "instance_count=3",
          "-out=tfplan"))
    p = tf(inited, "apply", "-input=false", "-no-color", "-auto-approve", "tfplan",
           env={"TF_STANDIN_FAIL": "apply"})
    assert p.returncode == 1
    assert "Error: creating EC2 Instance: UnauthorizedOperation: You are not authorized" \
        in flat(p.stderr)
    assert "with aws_instance.web[1]," in flat(p.stderr)
    assert "Apply complete" not in p.stdout
    st = load_state(inited)
    names = [(r["name"], len(r["instances"])) for r in st["resources"]]
    assert names == [("main", 1), ("web", 1)]                   # 2 of 4 made
    p = ok(tf(inited, "apply", "-input=false", "-no-color", "-auto-approve", VF,
              "-var", "instance_count=3"))
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in p.stdout


def test_fail_other_subcommands(inited):
    p = tf(inited, "plan", "-input=false", "-no-color", VF, env={"TF_STANDIN_FAIL": "plan"})
    assert p.returncode == 1 and "Error: configuring Terraform AWS Provider" in flat(p.stderr)
    p = tf(inited, "init", "-no-color", env={"TF_STANDIN_FAIL": "init"})
    assert p.returncode == 1 and "Error: Failed to query available provider packages" \
        in flat(p.stderr)
    applied(inited)
    p = tf(inited, "destroy", "-input=false", "-no-color", "-auto-approve", VF,
           env={"TF_STANDIN_FAIL": "destroy"})
    assert p.returncode == 1 and "UnauthorizedOperation" in flat(p.stderr)
    assert "Destroy complete" not in p.stdout
    assert len(state_instances(load_state(inited))) == 2
    p = tf(inited, "output", "-json", env={"TF_STANDIN_FAIL": "output"})
    assert p.returncode == 1 and "Error:" in flat(p.stderr)


def state_instances(st):
    return [i for r in st["resources"] for i in r["instances"]]


def test_invocation_log(inited, tmp_path_factory):
    log = str(tmp_path_factory.mktemp("log") / "calls.jsonl")
    env = {"TF_STANDIN_LOG": log, "AWS_REGION": "eu-west-3", "GOOGLE_PROJECT": "p",
           "ARM_CLIENT_ID": "c", "OS_AUTH_URL": "http://k", "PM_API_URL": "https://pve",
           "VSPHERE_SERVER": "vc", "NUTANIX_ENDPOINT": "pc", "TF_IN_AUTOMATION": "1",
           "UNRELATED": "x", "MY_AWS_THING": "y"}
    ok(tf(inited, "plan", "-input=false", "-no-color", VF, env=env))
    tf(inited, "bogus", env=env)
    lines = [json.loads(x) for x in open(log)]
    assert [x["argv"] for x in lines] == [["plan", "-input=false", "-no-color", VF], ["bogus"]]
    assert lines[0]["cwd"] == str(inited)
    e = lines[0]["env"]
    for k in ("AWS_REGION", "GOOGLE_PROJECT", "ARM_CLIENT_ID", "OS_AUTH_URL", "PM_API_URL",
              "VSPHERE_SERVER", "NUTANIX_ENDPOINT", "TF_IN_AUTOMATION", "TF_STANDIN_LOG"):
        assert e[k] == env[k]
    assert "UNRELATED" not in e and "MY_AWS_THING" not in e and "HOME" not in e


def test_destroy_plan_file_and_detailed_exitcode(inited):
    p = tf(inited, "plan", "-input=false", "-no-color", VF, "-detailed-exitcode")
    assert p.returncode == 2 and "Plan: 3 to add" in p.stdout
    applied(inited)
    assert tf(inited, "plan", "-input=false", "-no-color", VF,
              "-detailed-exitcode").returncode == 0
    p = ok(tf(inited, "plan", "-input=false", "-no-color", VF, "-destroy", "-out=gone"))
    assert "Plan: 0 to add, 0 to change, 3 to destroy." in p.stdout
    assert "  - ssh_user = \"ubuntu\" -> null" in p.stdout
    p = ok(tf(inited, "apply", "-input=false", "-no-color", "gone"))
    assert "Apply complete! Resources: 0 added, 0 changed, 3 destroyed." in p.stdout
    st = load_state(inited)
    assert st["resources"] == [] and st["outputs"] == {}


def test_validate(inited):
    assert "Success! The configuration is valid." in ok(tf(inited, "validate",
                                                           "-no-color")).stdout
    assert json.loads(ok(tf(inited, "validate", "-json")).stdout)["valid"] is True
    write(inited, "bad.tf", 'output "x" {\n  value = var.missing\n}\n')
    p = tf(inited, "validate", "-no-color")
    assert p.returncode == 1 and "Reference to undeclared input variable" in flat(p.stderr)
    v = json.loads(tf(inited, "validate", "-json").stdout)
    assert v["valid"] is False and v["error_count"] == 1


def test_cli_args_and_data_dir_from_environment(tfdir):
    env = {"TF_DATA_DIR": str(tfdir / "data")}
    ok(tf(tfdir, "init", "-no-color", env=env))
    assert (tfdir / "data" / "providers").is_dir() and not (tfdir / ".terraform").exists()
    env["TF_CLI_ARGS_plan"] = "-var name=fromenv -out=envplan"
    ok(tf(tfdir, "plan", "-input=false", "-no-color", env=env))
    assert json.load(open(str(tfdir / "envplan")))["variables"]["name"] == "fromenv"
    p = tf(tfdir, "plan", "-input=false", "-no-color", "-var", "name=x")
    assert p.returncode == 1 and "Required plugins are not installed" in flat(p.stderr)
