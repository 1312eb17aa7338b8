#!/usr/bin/python3
"""A local stand-in for an OpenAI-compatible chat-completions provider, for the tests of
src/assistant/llm.c (no model runs here and no provider is reachable).

    python3 tests/llm_standin.py --port 0 --port-file F [--key K] [--host 127.0.0.1]

It speaks the real wire format: POST /v1/chat/completions (OpenAI, Ollama, vLLM style, with
"Authorization: Bearer K" when started with --key) and
POST /openai/deployments/<name>/chat/completions?api-version=V (Azure style: "api-key: K").
Answers are chat.completion objects; errors are {"error": {"message", "type", "code"}} with
the provider's statuses. Test control:

    POST   /_control   {"mode": "ok" | "error500" | "error401" | "rate429" | "slow" |
                        "malformed" | "not_json_content" | "fenced" | "huge",
                        "delay_s": N, "answer": {"action": ..., "explanation": ...},
                        "message": "<error message>", "omit_usage": true}
                       (every field optional; each POST replaces the whole behaviour)
    GET    /_requests  the chat requests received: [{method, path, query, headers, body}]
    DELETE /_requests  forgets them

In "ok" mode without a configured answer, the action is the command of the FIRST knowledge
entry found in the system message (so a test sees that the context was passed) and the
explanation starts with "(stand-in)". Standard library only (Debian's /usr/bin/python3).
It exits by itself when the process that started it goes away.
"""

import argparse
import json
import os
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BODY_MAX = 4 * 1024 * 1024
REQUESTS_KEPT = 200
MODES = ("ok", "error500", "error401", "rate429", "slow", "malformed", "not_json_content",
         "fenced", "huge")
SLOW_DEFAULT_S = 5.0
API_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
AZURE_PATH_RE = re.compile(r"^/openai/deployments/([A-Za-z0-9._-]+)/chat/completions$")
KB_BLOCK_RE = re.compile(r"```json\s*\n(.*?)\n```", re.S)
COMMAND_RE = re.compile(r'"command"\s*:\s*"((?:[^"\\]|\\.)*)"')


class State:
    def __init__(self, key):
        self.key = key
        self.lock = threading.Lock()
        self.behaviour = {"mode": "ok"}
        self.requests = []

    def get(self):
        with self.lock:
            return dict(self.behaviour)

    def set(self, b):
        with self.lock:
            self.behaviour = b

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)
            del self.requests[:-REQUESTS_KEPT]

    def listing(self):
        with self.lock:
            return list(self.requests)

    def reset(self):
        with self.lock:
            self.requests = []


def words(text):
    return len(text.split())


def first_kb_command(messages):
    """The command of the first knowledge entry in the system message, or None."""
    for m in messages:
        if not isinstance(m, dict) or m.get("role") != "system":
            continue
        content = m.get("content")
        if not isinstance(content, str):
            continue
        block = KB_BLOCK_RE.search(content)
        if block:
            try:
                entries = json.loads(block.group(1))
                for e in entries:
                    if isinstance(e, dict) and isinstance(e.get("command"), str):
                        return e["command"]
            except ValueError:
                pass
        found = COMMAND_RE.search(content)
        if found:
            return json.loads('"' + found.group(1) + '"')
    return None


def completion(model, content, messages, omit_usage):
    prompt = sum(words(m.get("content", "")) for m in messages
                 if isinstance(m, dict) and isinstance(m.get("content"), str))
    done = words(content)
    body = {
        "id": "chatcmpl-" + uuid.uuid4().hex[:24],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_standin",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }],
    }
    if not omit_usage:
        body["usage"] = {"prompt_tokens": prompt, "completion_tokens": done,
                         "total_tokens": prompt + done}
    return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "llm-standin/1"

    def log_message(self, fmt, *args):  # quiet: the tests read /_requests instead
        pass

    @property
    def state(self):
        return self.server.state

    def send_json(self, status, obj, extra_headers=None):
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (extra_headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def send_error_shape(self, status, message, etype, code, extra_headers=None):
        self.send_json(status, {"error": {"message": message, "type": etype, "param": None,
                                          "code": code}}, extra_headers)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > BODY_MAX:
            return None
        return self.rfile.read(n)

    # ---- control ---------------------------------------------------------------------

    def do_GET(self):
        if urlsplit(self.path).path == "/_requests":
            self.send_json(200, self.state.listing())
        else:
            self.send_error_shape(404, "Unknown path", "invalid_request_error", None)

    def do_DELETE(self):
        if urlsplit(self.path).path == "/_requests":
            self.state.reset()
            self.send_json(200, {"ok": True})
        else:
            self.send_error_shape(404, "Unknown path", "invalid_request_error", None)

    def do_POST(self):
        url = urlsplit(self.path)
        raw = self.read_body()
        if raw is None:
            self.send_error_shape(413, "Request body too large", "invalid_request_error", None)
            return
        if url.path == "/_control":
            self.control(raw)
            return
        azure = AZURE_PATH_RE.match(url.path)
        if url.path != "/v1/chat/completions" and not azure:
            self.send_error_shape(404, "Unknown path " + url.path, "invalid_request_error",
                                  "unknown_url")
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.state.record({"method": "POST", "path": url.path, "query": url.query,
                           "headers": headers, "body": body})
        if azure:
            self.azure(url, headers, body, azure.group(1))
        else:
            self.openai(headers, body)

    def control(self, raw):
        try:
            b = json.loads(raw or b"{}")
        except ValueError:
            self.send_json(400, {"error": "control body is not JSON"})
            return
        if not isinstance(b, dict) or b.get("mode", "ok") not in MODES:
            self.send_json(400, {"error": "mode must be one of " + ", ".join(MODES)})
            return
        b.setdefault("mode", "ok")
        self.state.set(b)
        self.send_json(200, {"ok": True, "behaviour": b})

    # ---- the provider ----------------------------------------------------------------

    def openai(self, headers, body):
        key = self.state.key
        if key is not None and headers.get("authorization") != "Bearer " + key:
            given = headers.get("authorization", "")
            if not given.startswith("Bearer "):
                self.send_error_shape(
                    401, "You didn't provide an API key. You need to provide your API key in an "
                    "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                    "YOUR_KEY).", "invalid_request_error", None)
            else:
                self.send_error_shape(401, "Incorrect API key provided: " + mask(given[7:]) +
                                      ". You can find your API key at "
                                      "https://platform.openai.com/account/api-keys.",
                                      "invalid_request_error", "invalid_api_key")
            return
        self.answer(body, body.get("model") if isinstance(body, dict) else None)

    def azure(self, url, headers, body, deployment):
        version = parse_qs(url.query).get("api-version", [None])[0]
        if version is None or not API_VERSION_RE.match(version):
            self.send_json(404, {"error": {"code": "404", "message": "Resource not found"}})
            return
        key = self.state.key
        if key is not None and headers.get("api-key") != key:
            self.send_json(401, {"error": {
                "code": "401", "message": "Access denied due to invalid subscription key or "
                "wrong API endpoint. Make sure to provide a valid key for an active "
                "subscription and use a correct regional API endpoint for your resource."}})
            return
        self.answer(body, deployment)

    def answer(self, body, model):
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) \
                or not body["messages"]:
            self.send_error_shape(400, "'messages' is a required property",
                                  "invalid_request_error", None)
            return
        if not isinstance(model, str) or not model:
            self.send_error_shape(400, "you must provide a model parameter",
                                  "invalid_request_error", None)
            return
        messages = body["messages"]
        for m in messages:
            if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant") \
                    or not isinstance(m.get("content"), str):
                self.send_error_shape(400, "Invalid 'messages': each needs a role and a "
                                      "string content.", "invalid_request_error", None)
                return
        b = self.state.get()
        mode = b.get("mode", "ok")
        delay = float(b.get("delay_s", SLOW_DEFAULT_S if mode == "slow" else 0))
        if delay > 0:
            time.sleep(delay)
        msg = b.get("message")
        if mode == "error500":
            self.send_error_shape(500, msg or "The server had an error while processing your "
                                  "request. Sorry about that!", "server_error", None)
            return
        if mode == "error401":
            self.send_error_shape(401, msg or "Incorrect API key provided: sk-abc***********xyz. "
                                  "You can find your API key at "
                                  "https://platform.openai.com/account/api-keys.",
                                  "invalid_request_error", "invalid_api_key")
            return
        if mode == "rate429":
            self.send_error_shape(429, msg or "Rate limit reached for " + model + " on requests "
                                  "per min (RPM): Limit 3, Used 3, Requested 1. Please try "
                                  "again in 20s.", "requests", "rate_limit_exceeded",
                                  {"Retry-After": "20"})
            return
        if mode == "malformed":
            self.send_json(200, b'{"id": "chatcmpl-x", "object": "chat.completion", '
                                b'"choices": [{"index": 0, "message": {"role": "assist')
            return
        answer = b.get("answer")
        if not isinstance(answer, dict):
            command = first_kb_command(messages)
            answer = {"action": command if command is not None else "",
                      "explanation": "(stand-in) " +
                      ("the first knowledge entry's command." if command is not None
                       else "no knowledge entry was given.")}
        content = json.dumps(answer, ensure_ascii=False)
        if mode == "not_json_content":
            content = ("Sure! To do that, run `" + str(answer.get("action")) + "`. " +
                       str(answer.get("explanation")))
        elif mode == "fenced":
            content = "Here is the command:\n```json\n" + json.dumps(answer, indent=2) + \
                      "\n```\nHope it helps."
        elif mode == "huge":
            content = json.dumps({"action": answer.get("action"),
                                  "explanation": "x" * (2 * 1024 * 1024)})
        self.send_json(200, completion(model, content, messages, bool(b.get("omit_usage"))))


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hangs up (a timeout test, an answer over its limit) is expected.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def mask(key):
    if len(key) <= 8:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def watch_parent(server, ppid):
    while True:
        time.sleep(0.5)
        if os.getppid() != ppid:
            server.shutdown()
            return


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the port listened on to this file")
    ap.add_argument("--key", help="the API key clients must present")
    args = ap.parse_args()

    server = Server((args.host, args.port), Handler)
    server.state = State(args.key)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    threading.Thread(target=watch_parent, args=(server, os.getppid()), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
