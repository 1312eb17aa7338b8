"""The assistant end to end: POST /api/command (offline answers in French and English, the
validator's ratings, supervised runs in the real sandbox on the real Docker Engine), the token
accounting (GET /api/tokens/info, the ledger, 402, the plan gate, an administrator's credit),
the audit rows, and the LLM provider path against tests/llm_standin.py (a local server that
speaks the chat-completions wire format), including its failures and the offline fallback.
"""
import json
import os
import subprocess
import sys
import time

import pytest

import helpers
from helpers import RFC3339_UTC_RE, assert_error

STANDIN = os.path.join(helpers.REPO, "tests", "llm_standin.py")
ANSWER_KEYS = {"command_id", "action", "explanation", "risk", "risk_reason", "output",
               "exit_code", "execution_status", "source", "note", "matched", "lang", "entry",
               "token_usage"}
USAGE_KEYS = {"prompt_tokens", "completion_tokens", "total_tokens", "remaining_balance"}


@pytest.fixture(scope="module")
def ad(tmp_path_factory, cloudyad_binary):
    with helpers.module_daemon(tmp_path_factory, "assistant") as d:
        yield d


def ask(d, token, text, mode="dry_run", **extra):
    body = {"user_input": text, "execution_mode": mode}
    body.update(extra)
    return d.post("/api/command", token=token, json=body)


def ok(r):
    assert r.status_code == 200, "%d: %s" % (r.status_code, r.text[:800])
    return r.json()


def answer(d, token, text, **extra):
    j = ok(ask(d, token, text, **extra))
    assert set(j) == ANSWER_KEYS, j
    assert set(j["token_usage"]) == USAGE_KEYS, j
    return j


def tokens(d, token):
    return ok(d.get("/api/tokens/info", token=token))


def set_plan(d, client_id, plan):
    r = d.request("PATCH", "/api/admin/clients/" + client_id, token=d.admin_token,
                  json={"plan": plan})
    return ok(r)


def pro_user(d):
    u = d.new_user()
    set_plan(d, u["user"]["clientId"], "pro")
    return u


# ---- answers ----------------------------------------------------------------------------------

# (request, expected lang, substrings the action must hold): the five domains, both languages.
REQUESTS = [
    ("scale my deployment web to 5 replicas", "en", ["kubectl", "scale", "web", "5"]),
    ("Créer un bucket S3 sécurisé", "fr", ["aws s3"]),
    ("liste les pods du namespace monitoring", "fr", ["kubectl get pod", "monitoring"]),
    ("show the logs of pod api-7f9c", "en", ["kubectl logs", "api-7f9c"]),
    ("initialiser terraform dans ce dossier", "fr", ["terraform init"]),
    ("show me the terraform plan", "en", ["terraform plan"]),
    ("list running docker containers", "en", ["docker ps"]),
    ("construire une image docker nommée monapp", "fr", ["docker build"]),
    ("how much disk space is left", "en", ["df"]),
    ("redémarrer le service nginx", "fr", ["systemctl restart nginx"]),
    ("list my ec2 instances in eu-west-3", "en", ["aws ec2 describe-instances", "eu-west-3"]),
    ("voir les ports en écoute sur la machine", "fr", ["ss"]),
]


@pytest.mark.parametrize("text,lang,parts", REQUESTS)
def test_requests_get_fitting_commands(ad, text, lang, parts):
    u = ad.new_user()
    j = answer(ad, u["token"], text)
    assert j["matched"] is True, j
    assert j["lang"] == lang, j
    for p in parts:
        assert p in j["action"], (p, j["action"])
    assert j["execution_status"] == "dry_run" and j["output"] == "" and j["exit_code"] is None
    assert j["source"] == "offline" and j["note"] is None
    assert j["command_id"].startswith("c_") and j["entry"]
    assert len(j["explanation"]) > 40
    # the explanation is in the request's language
    if lang == "fr":
        assert "Bonne pratique" in j["explanation"], j["explanation"]
    else:
        assert "Best practice" in j["explanation"], j["explanation"]
    assert j["risk"] in ("safe", "warning", "dangerous", "forbidden")


def test_nothing_fits_is_said_honestly(ad):
    u = ad.new_user()
    for text in ("écris-moi un poème sur la mer", "what is the weather in Paris tomorrow",
                 "xq zzv plorf"):
        j = answer(ad, u["token"], text)
        assert j["matched"] is False and j["action"] == "" and j["command_id"] is None, j
        assert j["explanation"], j
        assert j["token_usage"]["total_tokens"] >= 1


def test_followup_uses_the_context(ad):
    u = ad.new_user()
    first = "scale my deployment web to 5 replicas"
    j = answer(ad, u["token"], "and with 10 replicas?", context=[first])
    assert "--replicas=10" in j["action"] and "web" in j["action"], j["action"]


def test_parameters_never_carry_shell_syntax(ad):
    u = ad.new_user()
    for text in ('create an s3 bucket named "x; rm -rf /"', "create a bucket named $(reboot)",
                 "créer un bucket nommé `id`", "scale deployment a|b to 3 replicas"):
        j = answer(ad, u["token"], text)
        for bad in (";", "$(", "`", "|", "rm -rf"):
            assert bad not in j["action"], (text, j["action"])


def test_dangerous_actions_are_rated_with_a_reason(ad):
    u = ad.new_user()
    j = answer(ad, u["token"], "destroy all my terraform infrastructure")
    assert "terraform destroy" in j["action"], j
    assert j["risk"] in ("dangerous", "forbidden") and j["risk_reason"], j
    j = answer(ad, u["token"], "supprimer le namespace staging")
    assert "kubectl delete" in j["action"] and j["risk"] in ("dangerous", "forbidden"), j
    assert j["risk_reason"], j


def test_requests_to_destroy_everything_are_refused(ad):
    u = ad.new_user()
    for text, lang in (("delete everything on the server", "en"),
                       ("supprimer tous les fichiers du disque", "fr"),
                       ("format the disk /dev/sda", "en"),
                       ("efface tout sur la machine", "fr")):
        j = answer(ad, u["token"], text)
        assert j["action"] == "" and j["command_id"] is None and j["matched"] is False, j
        assert j["risk"] == "forbidden" and j["execution_status"] == "rejected", j
        assert j["risk_reason"] and j["lang"] == lang, j
    # ordinary deletions with "all" still get their command
    j = answer(ad, u["token"], "supprimer tous les conteneurs arrêtés")
    assert j["action"].startswith("docker container prune"), j


# ---- tokens ------------------------------------------------------------------------------------


def test_tokens_info_of_a_new_account(ad):
    u = ad.new_user()
    t = tokens(ad, u["token"])
    assert set(t) == {"plan", "balance", "monthly_allowance", "used_this_period", "period_start",
                      "period_end", "execution_allowed"}
    assert t["plan"] == "free" and t["balance"] == 1000 and t["monthly_allowance"] == 1000
    assert t["used_this_period"] == 0 and t["execution_allowed"] is False
    assert RFC3339_UTC_RE.match(t["period_start"]) and RFC3339_UTC_RE.match(t["period_end"])
    assert t["period_start"][8:] == "01T00:00:00Z" and t["period_end"][8:] == "01T00:00:00Z"
    assert_error(ad.get("/api/tokens/info"), 401, "unauthenticated")


def test_each_request_costs_tokens_and_the_ledger_has_them(ad):
    u = ad.new_user()
    text = "list running docker containers"
    j = answer(ad, u["token"], text)
    use = j["token_usage"]
    # offline: about one token per word, as the seed says
    assert use["prompt_tokens"] == len(text.split())
    assert use["completion_tokens"] == len(j["action"].split()) + len(j["explanation"].split())
    assert use["total_tokens"] == use["prompt_tokens"] + use["completion_tokens"]
    assert use["remaining_balance"] == 1000 - use["total_tokens"]
    t = tokens(ad, u["token"])
    assert t["balance"] == use["remaining_balance"] and t["used_this_period"] == use["total_tokens"]
    db = ad.db()
    rows = db.execute("SELECT kind, delta, balance, ref FROM token_ledger WHERE client_id = ? "
                      "ORDER BY id", (u["user"]["clientId"],)).fetchall()
    assert [tuple(r) for r in rows] == [("open", 1000, 1000, ""),
                                       ("usage", -use["total_tokens"], t["balance"],
                                        j["command_id"])]


def test_spent_balance_answers_402(ad):
    u = ad.new_user()
    last = None
    for _ in range(200):
        r = ask(ad, u["token"], "explain how to configure an s3 backend for terraform state")
        if r.status_code == 402:
            break
        last = ok(r)
    else:
        pytest.fail("the balance never ran out")
    assert last is not None and last["token_usage"]["remaining_balance"] == 0
    assert_error(r, 402, "insufficient_tokens")
    assert "free" in r.json()["error"]
    t = tokens(ad, u["token"])
    assert t["balance"] == 0 and t["used_this_period"] == 1000
    # an administrator's credit makes it usable again
    cid = u["user"]["clientId"]
    c = ok(ad.request("PATCH", "/api/admin/clients/" + cid, token=ad.admin_token,
                      json={"creditTokens": 500}))
    assert c["tokens"]["balance"] == 500
    assert tokens(ad, u["token"])["balance"] == 500
    answer(ad, u["token"], "list pods")
    audit = ok(ad.get("/api/admin/audit", token=ad.admin_token,
                      params={"clientId": cid, "action": "admin.client.update"}))
    assert any("creditTokens=500" in (a["detail"] or "") for a in audit)


def test_plan_change_raises_the_allowance(ad):
    u = ad.new_user()
    answer(ad, u["token"], "list pods")
    before = tokens(ad, u["token"])
    c = set_plan(ad, u["user"]["clientId"], "enterprise")
    assert c["tokens"]["monthlyAllowance"] == 200000
    t = tokens(ad, u["token"])
    assert t["plan"] == "enterprise" and t["monthly_allowance"] == 200000
    assert t["balance"] == before["balance"] + 199000 and t["execution_allowed"] is True


# ---- supervised runs ------------------------------------------------------------------------


def test_execution_needs_the_pro_plan(ad):
    u = ad.new_user()
    j = answer(ad, u["token"], "show the kernel version")
    r = ask(ad, u["token"], None, mode="supervised", command_id=j["command_id"])
    assert_error(r, 403, "plan_required")
    assert "Pro" in r.json()["error"]


def test_supervised_run_in_the_sandbox(ad):
    u = pro_user(ad)
    j = answer(ad, u["token"], "show the kernel version")
    assert j["risk"] == "safe" and "uname" in j["action"], j
    balance = j["token_usage"]["remaining_balance"]
    r = ok(ask(ad, u["token"], None, mode="supervised", command_id=j["command_id"]))
    assert r["execution_status"] == "executed" and r["exit_code"] == 0, r
    assert r["action"] == j["action"] and r["output"].strip(), r
    assert r["source"] == "sandbox"
    assert r["token_usage"]["remaining_balance"] < balance
    # once
    assert_error(ask(ad, u["token"], None, mode="supervised", command_id=j["command_id"]), 409,
                 "already_executed")
    # another tenant's command does not exist for this one
    v = pro_user(ad)
    assert_error(ask(ad, v["token"], None, mode="supervised", command_id=j["command_id"]), 404,
                 "not_found")
    # nothing of it is left on the Engine
    left = helpers.docker("ps", "-a", "-q", "--filter", "label=org.cloudya.sandbox.tenant=" +
                          u["user"]["clientId"]).strip()
    assert left == ""
    rows = ok(ad.get("/api/admin/audit", token=ad.admin_token,
                     params={"clientId": u["user"]["clientId"], "action": "assistant.command"}))
    details = [a["detail"] or "" for a in rows]
    assert any("status=executed" in d and "risk=safe" in d for d in details), details
    assert any("status=dry_run" in d for d in details), details


def test_supervised_run_of_a_failing_command_reports_its_exit_code(ad):
    u = pro_user(ad)
    j = answer(ad, u["token"], "list the files in /nonexistent-dir with their permissions")
    assert j["risk"] == "safe" and "/nonexistent-dir" in j["action"], j
    r = ok(ask(ad, u["token"], None, mode="supervised", command_id=j["command_id"]))
    assert r["execution_status"] == "failed" and r["exit_code"] != 0, r
    assert "No such file" in r["output"], r


def test_only_safe_actions_run(ad):
    u = pro_user(ad)
    j = answer(ad, u["token"], "créer un bucket S3 nommé mes-sauvegardes")
    assert j["risk"] != "safe", j
    r = ok(ask(ad, u["token"], None, mode="supervised", command_id=j["command_id"]))
    assert r["execution_status"] == "rejected" and r["exit_code"] is None, r
    assert r["risk_reason"] and r["output"] == "", r


def test_a_run_that_cannot_start_loses_nothing(tmp_path_factory, cloudyad_binary):
    """The sandbox image is missing: 503 with the reason, and the command stays runnable
    (a second try is the same 503, not "already executed")."""
    env = {"CLOUDYA_SANDBOX_IMAGE": "cloudya/no-such-sandbox:none"}
    with helpers.module_daemon(tmp_path_factory, "nosandbox", env_extra=env) as d:
        u = pro_user(d)
        j = answer(d, u["token"], "show the kernel version")
        for _ in range(2):
            r = ask(d, u["token"], None, mode="supervised", command_id=j["command_id"])
            assert_error(r, 503, "sandbox_unavailable")
            assert "images.sh sandbox" in r.json()["error"], r.text
        row = d.db().execute("SELECT executed_at FROM assistant_commands WHERE id = ?",
                             (j["command_id"],)).fetchone()
        assert row[0] is None


# ---- bad input ---------------------------------------------------------------------------------


def test_bad_bodies(ad):
    u = ad.new_user()
    t = u["token"]
    post = lambda body: ad.post("/api/command", token=t, json=body)  # noqa: E731
    assert_error(ad.post("/api/command", json={"user_input": "x"}), 401, "unauthenticated")
    for body, field in (({}, "user_input"), ({"user_input": ""}, "user_input"),
                        ({"user_input": "   "}, "blank"),
                        ({"user_input": "é" * 4001}, "user_input"),
                        ({"user_input": 5}, "user_input"),
                        ({"user_input": "ls", "execution_mode": "yolo"}, "execution_mode"),
                        ({"user_input": "ls", "execution_mode": "supervised"}, "command_id"),
                        ({"user_input": "ls", "context": "x"}, "context"),
                        ({"user_input": "ls", "context": ["a"] * 11}, "context"),
                        ({"user_input": "ls", "context": [1]}, "context"),
                        ({"user_input": "ls", "lang": "de"}, "lang"),
                        ({"user_input": "ls", "action": "rm -rf /"}, "action")):
        assert_error(post(body), 400, "invalid_field", field=field)
    for data in (b"", b"{", b"[]", b"{\"user_input\": \"a\", \"user_input\": \"b\"}"):
        assert_error(ad.post("/api/command", token=t, data=data,
                             headers={"Content-Type": "application/json"}), 400, "invalid_json")
    r = ad.post("/api/command", token=t, data=b"{\"user_input\": \"" + b"a" * 70000 + b"\"}",
                headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert_error(ask(ad, t, None, mode="supervised", command_id="c_doesnotexist"), 403,
                 "plan_required")
    assert tokens(ad, t)["used_this_period"] == 0  # nothing was charged for any of it


# ---- the LLM provider (a local stand-in speaking the wire format) ---------------------------


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    d = tmp_path_factory.mktemp("standin")
    port_file = str(d / "port")
    p = subprocess.Popen(["/usr/bin/python3", STANDIN, "--port", "0", "--port-file", port_file,
                          "--key", "sk-test-key"], stdout=subprocess.DEVNULL,
                         stderr=open(str(d / "log"), "wb"))
    helpers.wait_for(lambda: os.path.exists(port_file) and open(port_file).read().strip(),
                     what="the stand-in's port")
    port = int(open(port_file).read().strip())
    yield "http://127.0.0.1:%d" % port
    p.terminate()
    p.wait(5)


def control(url, **behaviour):
    r = helpers.http("POST", url + "/_control", json=behaviour, timeout=5)
    assert r.status_code in (200, 204), r.text


def received(url):
    return helpers.http("GET", url + "/_requests", timeout=5).json()


@pytest.fixture(scope="module")
def llm(tmp_path_factory, cloudyad_binary, standin):
    env = {"OPENAI_BASE_URL": standin + "/v1", "OPENAI_API_KEY": "sk-test-key",
           "CLOUDYA_LLM_MODEL": "test-model", "CLOUDYA_LLM_TIMEOUT": "2"}
    with helpers.module_daemon(tmp_path_factory, "llm", env_extra=env) as d:
        yield d


def test_llm_answers_with_the_knowledge_as_context(llm, standin):
    control(standin, mode="ok")
    helpers.http("DELETE", standin + "/_requests", timeout=5)
    u = llm.new_user()
    j = answer(llm, u["token"], "scale my deployment web to 5 replicas")
    assert j["source"] == "llm" and j["note"] is None, j
    assert j["explanation"].startswith("(stand-in)"), j
    assert j["action"].startswith("kubectl scale"), j  # the first retrieved entry's command
    reqs = received(standin)
    assert len(reqs) == 1
    assert reqs[0]["headers"].get("authorization") == "Bearer sk-test-key"
    body = reqs[0]["body"]
    assert body["model"] == "test-model"
    system = body["messages"][0]["content"]
    assert "kubectl scale" in system
    # the provider's usage is what is charged
    use = j["token_usage"]
    assert use["total_tokens"] == use["prompt_tokens"] + use["completion_tokens"] > 0
    assert tokens(llm, u["token"])["used_this_period"] == use["total_tokens"]


def test_llm_actions_are_validated(llm, standin):
    control(standin, mode="ok", answer={"action": "aws s3 ls; rm -rf /",
                                        "explanation": "lists buckets"})
    u = llm.new_user()
    j = answer(llm, u["token"], "list my buckets")
    assert j["source"] == "llm" and j["risk"] == "forbidden", j
    assert "rm" in j["risk_reason"], j
    # refused: shown with the reason, never runnable (no command id)
    assert j["execution_status"] == "rejected" and j["command_id"] is None, j
    rows = ok(llm.get("/api/admin/audit", token=llm.admin_token,
                      params={"clientId": u["user"]["clientId"], "action": "assistant.command"}))
    assert any(a["result"] == "denied" and "risk=forbidden status=rejected" in (a["detail"] or "")
               for a in rows), rows


def test_llm_failures_fall_back_offline(llm, standin):
    u = llm.new_user()
    for mode in ("error500", "error401", "rate429", "malformed", "not_json_content"):
        control(standin, mode=mode)
        j = answer(llm, u["token"], "list running docker containers")
        assert j["source"] == "offline" and "docker ps" in j["action"], (mode, j)
        assert j["note"] and "LLM provider failed" in j["note"], (mode, j)
        assert "sk-test-key" not in j["note"]
    control(standin, mode="slow", delay_s=10)
    t0 = time.monotonic()
    j = answer(llm, u["token"], "list running docker containers")
    assert time.monotonic() - t0 < 6, "the provider's timeout (2 s) was not applied"
    assert j["source"] == "offline" and j["note"], j
    control(standin, mode="ok")
