#!/usr/bin/python3
"""DevOps commands benchmark: what `cloudya` adds on top of the tools it drives.
  1. Listing: `deploy list` (the built-in templates plus BENCH_TEMPLATES of the user's),
     `app list`, `deploy list-deployments` over BENCH_RECORDS recorded deployments.
  2. Runner overhead: `deploy template` (init, plan, apply, output) against running the same
     four tool commands directly, with tests/tf_standin.py and, when it is on PATH, the real
     terraform (a template of terraform_data only: no provider, no network).
  3. `app install` of the test application on this machine against `ansible-playbook` run
     directly with the same inventory and variables.
Wall times are p50/p95 over BENCH_RUNS runs (fewer for the slow cases); RSS from GNU time.
Writes the section between <!-- devops:begin --> and <!-- devops:end --> of bench/RESULTS.md.
Env: CLOUDYA_BUILD (default <repo>/build), BENCH_RUNS (default 50), BENCH_TEMPLATES (200),
BENCH_RECORDS (1000), BENCH_RESULTS.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from cli import measure  # noqa: E402

BUILD = os.environ.get("CLOUDYA_BUILD", os.path.join(ROOT, "build"))
CLI = os.path.join(BUILD, "cloudya")
RUNS = int(os.environ.get("BENCH_RUNS", "50"))
NTPL = int(os.environ.get("BENCH_TEMPLATES", "200"))
NREC = int(os.environ.get("BENCH_RECORDS", "1000"))
RESULTS = os.environ.get("BENCH_RESULTS", os.path.join(HERE, "RESULTS.md"))
STANDIN = os.path.join(ROOT, "tests", "tf_standin.py")
TEMPLATES = os.path.join(ROOT, "tests", "cli", "templates")
SECTION = "devops"


def timed(argv, env, cwd=None):
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return (time.perf_counter() - t0) * 1000


def pct(walls):
    walls = sorted(walls)
    return {"p50": walls[len(walls) // 2], "p95": walls[max(0, int(len(walls) * 0.95) - 1)]}


def make_home(terraform):
    home = tempfile.mkdtemp(prefix="cloudya-bench-devops.")
    tdir = os.path.join(home, "templates")
    shutil.copytree(TEMPLATES, tdir)
    with open(os.path.join(home, "config.json"), "w") as f:
        json.dump({"terraform_path": terraform, "ansible_path": "ansible-playbook",
                   "templates_dir": tdir}, f)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDYA_")}
    env.update({"CLOUDYA_HOME": home, "NO_COLOR": "1"})
    return home, env


def runner_overhead(terraform, runs):
    """cloudya deploy template vs the same four commands run directly, each in a fresh copy."""
    home, env = make_home(terraform)
    tool = shutil.which(terraform) or terraform
    cl, direct = [], []
    try:
        for i in range(runs):
            cl.append(timed([CLI, "deploy", "template", "local/host", "--params",
                             "label=b%d" % i], env))
            ws = tempfile.mkdtemp(prefix="cloudya-bench-ws.")
            src = os.path.join(TEMPLATES, "terraform", "local", "host")
            for f in os.listdir(src):
                shutil.copy(os.path.join(src, f), ws)
            with open(os.path.join(ws, "terraform.tfvars.json"), "w") as f:
                json.dump({"label": "d%d" % i}, f)
            t = 0.0
            for args in (["init", "-input=false", "-no-color"],
                         ["plan", "-input=false", "-no-color", "-var-file=terraform.tfvars.json",
                          "-out=tfplan"],
                         ["apply", "-input=false", "-no-color", "-auto-approve", "tfplan"],
                         ["output", "-json", "-no-color"]):
                t += timed([tool] + args, env, cwd=ws)
            direct.append(t)
            shutil.rmtree(ws, ignore_errors=True)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return pct(cl), pct(direct)


def ansible_overhead(runs):
    home, env = make_home(STANDIN)
    cl, direct = [], []
    try:
        for i in range(runs):
            target = os.path.join(home, "out%d" % i)
            cl.append(timed([CLI, "app", "install", "hello-file", "--platform", "local",
                             "--params", "target_dir=" + target], env))
            app = sorted(d for d in os.listdir(os.path.join(home, "deployments"))
                         if d.startswith("app-"))[-1]
            ws = os.path.join(home, "deployments", app)
            # the same run again, directly, on a fresh target
            direct_target = target + "-direct"
            with open(os.path.join(ws, "vars.yml")) as f:
                text = f.read().replace(target, direct_target)
            with open(os.path.join(ws, "vars-direct.yml"), "w") as f:
                f.write(text)
            direct.append(timed(["ansible-playbook", "-i", "inventory.ini", "-e",
                                 "@vars-direct.yml", "playbook.yml"], env, cwd=ws))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return pct(cl), pct(direct)


def main():
    if not os.access(CLI, os.X_OK):
        sys.exit("no cloudya binary at %s: build first (make)" % CLI)
    rows = []
    home, env = make_home(STANDIN)
    try:
        tdir = os.path.join(home, "templates", "terraform", "bench")
        src = os.path.join(TEMPLATES, "terraform", "local", "host")
        for i in range(NTPL):
            shutil.copytree(src, os.path.join(tdir, "t%03d" % i))
        deps = os.path.join(home, "deployments")
        os.makedirs(deps)
        for i in range(NREC):
            rid = "dep-%08x" % i
            os.makedirs(os.path.join(deps, rid))
            with open(os.path.join(deps, rid, "record.json"), "w") as f:
                json.dump({"id": rid, "kind": "deployment", "template": "local/host",
                           "provider": "local", "status": "applied",
                           "created_at": "2026-11-%02dT10:%02d:%02dZ" % (1 + i % 28, i % 60, i % 60),
                           "steps": [{"name": s, "status": "ok", "ms": 100, "exit_code": 0}
                                     for s in ("init", "plan", "apply", "output")],
                           "outputs": {"hosts": ["203.0.113.%d" % (i % 250)], "ssh_user": "admin"},
                           "params": {"label": "x%d" % i}}, f)
        ntpl = len(json.loads(subprocess.run([CLI, "deploy", "list", "-o", "json"], env=env,
                                             capture_output=True, text=True, check=True).stdout))
        for label, argv in [
            ("`cloudya deploy list` (%d templates)" % ntpl, [CLI, "deploy", "list"]),
            ("`cloudya app list`", [CLI, "app", "list"]),
            ("`cloudya deploy list-deployments` (%d records)" % NREC,
             [CLI, "deploy", "list-deployments"]),
            ("`cloudya deploy list-deployments -o json` (%d records)" % NREC,
             [CLI, "deploy", "list-deployments", "-o", "json"]),
        ]:
            m = measure(argv, env, runs=RUNS)
            rows.append(("listing", label, "%.2f ms" % m["p50"], "%.2f ms" % m["p95"],
                         "%.1f MiB" % (m["rss"] / 1024.0)))
            print(rows[-1])
    finally:
        shutil.rmtree(home, ignore_errors=True)

    tools = [("tests/tf_standin.py", STANDIN)]
    if shutil.which("terraform"):
        tools.append(("terraform " + subprocess.run(["terraform", "version"], capture_output=True,
                                                     text=True).stdout.split()[1], "terraform"))
    for name, tool in tools:
        n = max(5, RUNS // 5)
        c, d = runner_overhead(tool, n)
        rows.append(("deploy (%s, %d runs)" % (name, n), "`cloudya deploy template local/host`",
                     "%.0f ms" % c["p50"], "%.0f ms" % c["p95"], ""))
        rows.append(("deploy (%s, %d runs)" % (name, n), "the 4 tool commands run directly",
                     "%.0f ms" % d["p50"], "%.0f ms" % d["p95"], ""))
        print(rows[-2], rows[-1])
    if shutil.which("ansible-playbook"):
        n = max(5, RUNS // 10)
        c, d = ansible_overhead(n)
        rows.append(("app (ansible-core, %d runs)" % n, "`cloudya app install hello-file --platform local`",
                     "%.0f ms" % c["p50"], "%.0f ms" % c["p95"], ""))
        rows.append(("app (ansible-core, %d runs)" % n, "`ansible-playbook` run directly",
                     "%.0f ms" % d["p50"], "%.0f ms" % d["p95"], ""))
        print(rows[-2], rows[-1])
    model = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    lines = ["<!-- %s:begin -->" % SECTION, "## DevOps commands: `bench/devops.py`", "",
             "Recorded %s on %d CPUs (%s). Listings run %d times in a row (output to /dev/null); "
             "the deploy and app rows compare `cloudya` with the same tool commands run by hand, "
             "so the difference is what the runner adds (template copy, variables file, record "
             "writes, the lock, streaming and logging)." % (time.strftime("%Y-%m-%d %H:%M"),
                                                             os.cpu_count(), model, RUNS), "",
             "| what | command | p50 | p95 | peak RSS |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %s | %s | %s | %s |" % r)
    lines.append("<!-- %s:end -->" % SECTION)
    sec = tempfile.NamedTemporaryFile("w", delete=False, suffix=".md")
    sec.write("\n".join(lines) + "\n")
    sec.close()
    subprocess.run(["bash", "-c", '. "%s/lib.sh"; write_section "$1" "$2" "$3"' % HERE, "x",
                    RESULTS, SECTION, sec.name], check=True)
    os.unlink(sec.name)


if __name__ == "__main__":
    main()
