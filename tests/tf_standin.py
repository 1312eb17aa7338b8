#!/usr/bin/python3
"""A stand-in for the Terraform 1.5 command line, for the tests of the `cloudya` runner
(src/cli): Terraform/OpenTofu cannot be installed on the test machines and no provider
registry or cloud is reachable. Standard library only (Debian's /usr/bin/python3).

    tf_standin.py [-chdir=DIR] version|init|plan|apply|destroy|output|validate [flags]

It reads the *.tf files of the working directory with a small HCL parser (variable, locals,
resource, data, output, terraform { required_providers } blocks), checks variables the way
Terraform does, and keeps a real version-4 `terraform.tfstate` (with `.backup`) whose
resources carry deterministic fake attributes derived from a hash of the instance address:
  id -> "<short>-<hex8>" (i-, vpc-, subnet-, sg- ... or the type's last word),
  an attribute with an "ip..." word or named "address" -> "203.0.113.<n>", with a "dns"
  word -> "ec2-203-0-113-<n>.compute.example", anything else -> "<address>.<attr path>";
  except that an attribute set in the resource's own block reads back as that value (as a
  provider echoes its arguments): aws_vpc.main.cidr_block gives var.vpc_cidr's value.
Output expressions support literals, templates, var./local./count./each. references,
resource references (T.N.attr, T.N[0].attr, T.N[*].attr, for expressions), common
operators and functions; an expression it cannot evaluate yields its raw source text.

Behaviours worth knowing (as real Terraform 1.5 has them, unless marked "stand-in"):
- An undeclared variable in a -var-file / auto-loaded file is a WARNING (stdout), only an
  undeclared -var on the command line is an error.
- `apply` without a plan file and without -auto-approve shows the plan and reads the
  answer from stdin even with -input=false: EOF -> "Error: error asking for approval: EOF",
  anything but "yes" -> "Apply cancelled."; both exit 1.
- Configurations that use only built-in resources (terraform_data) need no `init`.
- stand-in: the plan file written by -out is JSON (variables, planned changes, prior state
  lineage and serial); resources are only created or destroyed, a changed argument never
  plans an update ("0 to change").
- stand-in: the lock is an exclusive flock() AND lockf() on .terraform.tfstate.lock.info
  (Terraform locks terraform.tfstate itself and writes the .info file next to it); the file
  is removed on unlock; -lock=false and -lock-timeout=DURATION are honoured.
- Colours (ANSI bold/green on summary lines) only when stdout is a tty and -no-color is
  absent; without -no-color, diagnostics are drawn in Terraform's box style. As in
  Terraform, an exact "-no-color" is accepted anywhere (even after the plan file), any
  other flag after the first positional argument is an error.

Test hooks (environment):
  TF_STANDIN_FAIL=<subcommand>[,...]   fail in that subcommand with a provider-style error
      on stderr, exit 1: init (registry unreachable), plan (no AWS credentials), apply
      ("creating EC2 Instance: ... UnauthorizedOperation"; the first half of the planned
      changes are made and saved in the state first), destroy (the same, "terminating"),
      output, validate.
  TF_STANDIN_SLEEP=<subcommand>:<seconds>[,...]  sleep in the middle of that subcommand
      (apply/destroy: after the first half of the changes, lock held). SIGINT or SIGTERM
      prints "Interrupt received. ..." and the command ends with "Error: operation
      canceled" (state saved), exit 1; a second signal exits at once.
  TF_STANDIN_LOG=<file>  append one JSON line per invocation:
      {"argv": [arguments after the program name], "prog": argv[0], "cwd": ...,
       "env": {TF_*, AWS_*, GOOGLE_*, ARM_*, OS_*, PM_*, VSPHERE_*, NUTANIX_* that are set}}
Also honoured: TF_DATA_DIR, TF_INPUT, TF_CLI_ARGS, TF_CLI_ARGS_<command>, TF_VAR_<name>,
terraform.tfvars[.json] and *.auto.tfvars[.json].
"""

import base64
import datetime
import fcntl
import glob
import hashlib
import ipaddress
import json
import os
import re
import shlex
import signal
import socket
import sys
import textwrap
import time
import uuid

VERSION = "1.5.7"
PLATFORM = "linux_amd64"
STATE = "terraform.tfstate"
LOCKINFO = ".terraform.tfstate.lock.info"
LOCKFILE = ".terraform.lock.hcl"
LOG_PREFIXES = ("TF_", "AWS_", "GOOGLE_", "ARM_", "OS_", "PM_", "VSPHERE_", "NUTANIX_")
PROVIDER_VERSIONS = {"hashicorp/aws": "5.31.0", "hashicorp/google": "5.10.0",
                     "hashicorp/azurerm": "3.85.0", "telmate/proxmox": "2.9.14",
                     "hashicorp/vsphere": "2.6.1", "nutanix/nutanix": "1.9.5",
                     "terraform-provider-openstack/openstack": "1.54.1",
                     "hashicorp/null": "3.2.2", "hashicorp/random": "3.6.0",
                     "hashicorp/local": "2.4.1", "hashicorp/tls": "4.0.5"}
SHORT_IDS = {"aws_instance": "i", "aws_vpc": "vpc", "aws_subnet": "subnet",
             "aws_security_group": "sg", "aws_internet_gateway": "igw",
             "aws_nat_gateway": "nat", "aws_route_table": "rtb", "aws_eip": "eipalloc",
             "aws_key_pair": "key", "aws_ami": "ami", "aws_network_interface": "eni",
             "aws_route_table_association": "rtbassoc", "aws_volume_attachment": "vai",
             "aws_ebs_volume": "vol"}
BUILTIN = "terraform.io/builtin/terraform"
HR = "\u2500" * 77

PLAIN = True            # -no-color given: plain diagnostics
COLOR = False           # ANSI sequences allowed (tty and no -no-color)
INTERRUPTED = [0]
WARNINGS = []           # shown at the end of the command, like Terraform does
SOURCES = {}            # file name -> lines, for diagnostic snippets


# ---------------------------------------------------------------- output and diagnostics

class TfError(Exception):
    """One or more error diagnostics: the command prints them and exits 1."""
    def __init__(self, *diags):
        super().__init__(diags[0]["summary"] if diags else "error")
        self.diags = list(diags)


def diag(summary, detail="", src=None, sev="Error"):
    """src: (file, line, ' in output "x"' or "", 'with T.N' or "")."""
    return {"sev": sev, "summary": summary, "detail": detail, "src": src}


def out(s="", end="\n"):
    sys.stdout.write(s + end)
    sys.stdout.flush()


def ansi(s, *codes):
    return ("".join("\x1b[%sm" % c for c in codes) + s + "\x1b[0m") if COLOR else s


def render_diag(d):
    lines = ["%s: %s" % (d["sev"], d["summary"]), ""]
    if d.get("src"):
        fn, ln, ctx, with_ = d["src"]
        if with_:
            lines.append("  with %s," % with_)
        lines.append("  on %s line %d%s:" % (fn, ln, ctx))
        text = SOURCES.get(fn, [])
        lines.append("%4d: %s" % (ln, text[ln - 1].rstrip() if 0 < ln <= len(text) else ""))
        lines.append("")
    width = 78 if PLAIN else 76
    for para in d["detail"].split("\n"):
        if not para or para.startswith(" "):
            lines.append(para)
        else:
            lines.extend(textwrap.wrap(para, width, break_long_words=False,
                                       break_on_hyphens=False))
    while lines and not lines[-1]:
        lines.pop()
    if PLAIN:
        return "\n" + "\n".join(lines) + "\n"
    col = "31" if d["sev"] == "Error" else "33"
    bar = ansi("\u2502", col) + " "
    return (ansi("\u2577", col) + "\n" + "".join(bar + l + "\n" for l in lines)
            + ansi("\u2575", col) + "\n")


def emit(diags):
    for d in diags:
        if d["sev"] == "Error":
            sys.stderr.write(render_diag(d))
            sys.stderr.flush()
        else:
            out(render_diag(d), end="")


def go_json(v, indent=2, sort=False):
    """JSON the way Go's encoding/json writes it (HTML characters escaped)."""
    s = json.dumps(v, indent=indent, ensure_ascii=False, sort_keys=sort)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ---------------------------------------------------------------- HCL lexer and parser

class HclError(Exception):
    def __init__(self, summary, detail, fn, line):
        super().__init__(summary)
        self.d = diag(summary, detail, (fn, line, "", ""))


NUM_RE = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?")
IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
HEREDOC_RE = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")
PUNCT = ("...", "==", "!=", "<=", ">=", "&&", "||", "=>")


def skip_interp(src, i, fn, line):
    """Index of the '}' closing an interpolation whose body starts at i."""
    depth = 0
    while i < len(src):
        c = src[i]
        if c == '"':
            i = skip_quoted(src, i + 1, fn, line)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise HclError("Unterminated template string", "No closing marker was found for the "
                   "string.", fn, line)


def skip_quoted(src, i, fn, line):
    """Index just past the '"' closing a quoted string whose body starts at i."""
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif c == "\n":
            break
        elif src.startswith("$${", i) or src.startswith("%%{", i):
            i += 3
        elif src.startswith("${", i):
            i = skip_interp(src, i + 2, fn, line) + 1
        else:
            i += 1
    raise HclError("Unterminated template string", "No closing marker was found for the "
                   "string.", fn, line)


ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def template_parts(raw, escapes, fn, line):
    """A template's pieces: literal strings and ("expr", text, line) interpolations."""
    parts, buf, i = [], [], 0
    while i < len(raw):
        c = raw[i]
        if escapes and c == "\\" and i + 1 < len(raw):
            e = raw[i + 1]
            if e in "uU":
                n = 4 if e == "u" else 8
                buf.append(chr(int(raw[i + 2:i + 2 + n], 16)))
                i += 2 + n
                continue
            buf.append(ESCAPES.get(e, e))
            i += 2
        elif raw.startswith("$${", i) or raw.startswith("%%{", i):
            buf.append(raw[i + 1:i + 3])
            i += 3
        elif raw.startswith("${", i):
            j = skip_interp(raw, i + 2, fn, line)
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(("expr", raw[i + 2:j].strip("~ \t\n"), line + raw.count("\n", 0, i)))
            i = j + 1
        else:
            buf.append(c)
            i += 1
    if buf or not parts:
        parts.append("".join(buf))
    return parts


def lex(src, fn, line=1):
    """Tokens (kind, value, line, start, end); kinds: nl id num str p eof."""
    toks, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if c == "\n":
            toks.append(("nl", None, line, i, i + 1))
            line += 1
            i += 1
        elif c in " \t\r\ufeff":
            i += 1
        elif c == "#" or src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            if j < 0:
                raise HclError("Unterminated comment", "There is no closing marker for this "
                               "comment.", fn, line)
            line += src.count("\n", i, j)
            i = j + 2
        elif c == '"':
            j = skip_quoted(src, i + 1, fn, line)
            toks.append(("str", template_parts(src[i + 1:j - 1], True, fn, line), line, i, j))
            i = j
        elif src.startswith("<<", i) and HEREDOC_RE.match(src, i):
            m = HEREDOC_RE.match(src, i)
            body, j, nlines = [], m.end(), 1
            while True:
                k = src.find("\n", j)
                row = src[j:] if k < 0 else src[j:k]
                if row.strip() == m.group(2):
                    break
                if k < 0:
                    raise HclError("Unterminated template string", "No closing marker was "
                                   "found for the heredoc %s." % m.group(2), fn, line)
                body.append(row)
                j, nlines = k + 1, nlines + 1
            if m.group(1):
                ind = min((len(r) - len(r.lstrip()) for r in body if r.strip()), default=0)
                body = [r[ind:] for r in body]
            text = "".join(r + "\n" for r in body)
            end = j + len(row)
            toks.append(("str", template_parts(text, False, fn, line + 1), line, i, end))
            line += nlines
            i = end
        elif c.isdigit():
            m = NUM_RE.match(src, i)
            t = m.group()
            toks.append(("num", int(t) if t.isdigit() else float(t), line, i, m.end()))
            i = m.end()
        elif c.isalpha() or c == "_":
            m = IDENT_RE.match(src, i)
            toks.append(("id", m.group(), line, i, m.end()))
            i = m.end()
        else:
            p = next((p for p in PUNCT if src.startswith(p, i)), None)
            if p is None and c not in "{}[](),=:.?!+-*/%<>":
                raise HclError("Invalid character", "This character is not used within the "
                               "language.", fn, line)
            p = p or c
            toks.append(("p", p, line, i, i + len(p)))
            i += len(p)
    toks.append(("eof", None, line, n, n))
    return toks


class Attr:
    def __init__(self, name, ast, raw, fn, line):
        self.name, self.ast, self.raw, self.fn, self.line = name, ast, raw, fn, line


class Block:
    def __init__(self, btype, labels, body, fn, line):
        self.type, self.labels, self.body, self.fn, self.line = btype, labels, body, fn, line

    def attrs(self):
        return {a.name: a for a in self.body if isinstance(a, Attr)}

    def blocks(self, name):
        return [b for b in self.body if isinstance(b, Block) and b.type == name]


def parse_body(toks, i, src, fn, closing):
    """Attributes and blocks from toks[i]; returns (items, next index)."""
    items = []
    while True:
        kind, val, line, start, _ = toks[i]
        if kind == "nl":
            i += 1
            continue
        if kind == "eof":
            if closing:
                raise HclError("Unclosed configuration block", "There is no closing brace "
                               "for this block before the end of the file. This may be caused "
                               "by incorrect brace nesting elsewhere in this file.", fn, line)
            return items, i
        if (kind, val) == ("p", "}") and closing:
            return items, i + 1
        if kind != "id":
            raise HclError("Argument or block definition required", "An argument or block "
                           "definition is required here.", fn, line)
        i += 1
        if toks[i][:2] == ("p", "="):
            j = k = i + 1
            depth = 0
            while True:
                tk, tv = toks[k][:2]
                if tk == "eof" or (depth == 0 and (tk == "nl" or (tk, tv) == ("p", "}"))):
                    break
                if tk == "p" and tv in "([{":
                    depth += 1
                elif tk == "p" and tv in ")]}":
                    depth -= 1
                k += 1
            if k == j:
                raise HclError("Invalid expression", "Expected the start of an expression, "
                               "but found an invalid expression token.", fn, line)
            ast = ExprParser(toks[j:k] + [("eof", None, line, 0, 0)], fn).parse_all()
            items.append(Attr(val, ast, src[toks[j][3]:toks[k - 1][4]], fn, line))
            i = k
            continue
        labels = []
        while toks[i][0] in ("str", "id"):
            v = toks[i][1]
            labels.append(v if toks[i][0] == "id" else "".join(
                p if isinstance(p, str) else "${%s}" % p[1] for p in v))
            i += 1
        if toks[i][:2] != ("p", "{"):
            raise HclError("Invalid block definition", "Either a quoted string block label "
                           "or an opening brace (\"{\") is expected here.", fn, toks[i][2])
        body, i = parse_body(toks, i + 1, src, fn, True)
        items.append(Block(val, labels, body, fn, line))


def parse_hcl(src, fn):
    SOURCES[fn] = src.split("\n")
    return parse_body(lex(src, fn), 0, src, fn, False)[0]


BINOPS = [("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%")]


class ExprParser:
    """Recursive descent over one expression's tokens, giving a tuple AST."""

    def __init__(self, toks, fn):
        self.t = [t for t in toks if t[0] != "nl"]
        self.i, self.fn = 0, fn

    def peek(self, k=0):
        return self.t[min(self.i + k, len(self.t) - 1)]

    def is_p(self, v, k=0):
        return self.peek(k)[:2] == ("p", v)

    def take(self, v):
        if not self.is_p(v):
            self.fail("Missing %r" % v)
        self.i += 1

    def fail(self, what="Invalid expression"):
        raise HclError("Invalid expression", what + ": expected the start of an expression, "
                       "but found an invalid expression token.", self.fn, self.peek()[2])

    def parse_all(self):
        e = self.expr()
        if self.peek()[0] != "eof":
            raise HclError("Extra characters after expression", "An expression was "
                           "successfully parsed, but extra characters were found after it.",
                           self.fn, self.peek()[2])
        return e

    def expr(self):
        c = self.binary(0)
        if self.is_p("?"):
            self.i += 1
            a = self.expr()
            self.take(":")
            return ("cond", c, a, self.expr())
        return c

    def binary(self, level):
        if level == len(BINOPS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[0] == "p" and self.peek()[1] in BINOPS[level]:
            op = self.peek()[1]
            self.i += 1
            left = ("bin", op, left, self.binary(level + 1))
        return left

    def unary(self):
        if self.is_p("!") or self.is_p("-"):
            op = self.peek()[1]
            self.i += 1
            return ("un", op, self.unary())
        return self.postfix(self.primary())

    def postfix(self, node):
        while True:
            line = self.peek()[2]
            if self.is_p(".") and self.peek(1)[0] == "id":
                node = ("get", node, self.peek(1)[1], line)
                self.i += 2
            elif self.is_p(".") and self.peek(1)[0] == "num":
                node = ("idx", node, ("lit", self.peek(1)[1]))
                self.i += 2
            elif (self.is_p(".") and self.is_p("*", 1)) or (self.is_p("[") and self.is_p("*", 1)):
                full = self.is_p("[")
                self.i += 3 if full else 2
                ops = []
                while True:
                    if self.is_p(".") and self.peek(1)[0] == "id":
                        ops.append(("get", self.peek(1)[1]))
                        self.i += 2
                    elif full and self.is_p("["):
                        self.i += 1
                        ops.append(("idx", self.expr()))
                        self.take("]")
                    else:
                        break
                node = ("splat", node, ops)
            elif self.is_p("["):
                self.i += 1
                k = self.expr()
                self.take("]")
                node = ("idx", node, k)
            else:
                return node

    def primary(self):
        kind, val, line = self.peek()[:3]
        self.i += 1
        if kind == "num":
            return ("lit", val)
        if kind == "str":
            if all(isinstance(p, str) for p in val):
                return ("lit", "".join(val))
            parts = [p if isinstance(p, str) else
                     ExprParser(lex(p[1], self.fn, p[2]), self.fn).parse_all() for p in val]
            if len(parts) == 1:
                return ("interp", parts[0])
            return ("tmpl", parts)
        if kind == "id":
            if val in ("true", "false", "null"):
                return ("lit", {"true": True, "false": False, "null": None}[val])
            if self.is_p("("):
                self.i += 1
                args, expand = [], False
                while not self.is_p(")"):
                    args.append(self.expr())
                    if self.is_p("..."):
                        expand = True
                        self.i += 1
                    if not self.is_p(")"):
                        self.take(",")
                self.i += 1
                return ("call", val, args, expand, line)
            return ("ref", val, line)
        if (kind, val) == ("p", "("):
            e = self.expr()
            self.take(")")
            return e
        if (kind, val) == ("p", "["):
            if self.peek()[:2] == ("id", "for"):
                return self.for_expr("]")
            items = []
            while not self.is_p("]"):
                items.append(self.expr())
                if not self.is_p("]"):
                    self.take(",")
            self.i += 1
            return ("list", items)
        if (kind, val) == ("p", "{"):
            if self.peek()[:2] == ("id", "for"):
                return self.for_expr("}")
            items = []
            while not self.is_p("}"):
                if self.peek()[0] == "id" and (self.is_p("=", 1) or self.is_p(":", 1)):
                    key = ("lit", self.peek()[1])
                    self.i += 1
                else:
                    key = self.expr()
                if not (self.is_p("=") or self.is_p(":")):
                    self.fail("Missing key/value separator")
                self.i += 1
                items.append((key, self.expr()))
                if self.is_p(","):
                    self.i += 1
            self.i += 1
            return ("obj", items)
        self.i -= 1
        self.fail()

    def for_expr(self, close):
        self.i += 1
        names = [self.peek()[1]]
        self.i += 1
        if self.is_p(","):
            names.append(self.peek(1)[1])
            self.i += 2
        if self.peek()[:2] != ("id", "in"):
            self.fail("Invalid 'for' expression")
        self.i += 1
        coll = self.expr()
        self.take(":")
        kexpr = self.expr()
        vexpr, group = None, False
        if close == "}":
            self.take("=>")
            vexpr = self.expr()
            if self.is_p("..."):
                group = True
                self.i += 1
        cond = None
        if self.peek()[:2] == ("id", "if"):
            self.i += 1
            cond = self.expr()
        self.take(close)
        return ("for", close, names, coll, kexpr, vexpr, cond, group)


# ---------------------------------------------------------------- values and types

class Unknown:
    def __repr__(self):
        return "(known after apply)"


UNKNOWN = Unknown()


class Unsupported(Exception):
    pass


class TList(list):
    """A list with a cty type: ["list", T] or ["set", T]."""
    def __init__(self, items, ty):
        super().__init__(items)
        self.ty = ty


class TMap(dict):
    def __init__(self, items, ty):
        super().__init__(items)
        self.ty = ty


def type_of(v):
    if isinstance(v, (TList, TMap)):
        return v.ty
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return ["tuple", [type_of(x) for x in v]]
    if isinstance(v, dict):
        return ["object", {k: type_of(x) for k, x in sorted(v.items())}]
    return "dynamic"


def unify(types):
    types = [t for t in types]
    return types[0] if types and all(t == types[0] for t in types) else (
        "string" if types and all(isinstance(t, str) and t != "dynamic" for t in types)
        else "dynamic")


def type_name(t):
    if isinstance(t, str):
        return "any" if t == "dynamic" else t
    if t[0] in ("list", "set", "map"):
        return "%s of %s" % (t[0], type_name(t[1]))
    return t[0]


def fmt_num(v):
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def to_str(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return fmt_num(v)
    if isinstance(v, str):
        return v
    raise Unsupported("not a string")


def convert(v, t):
    """v converted to type t (a cty type in JSON form); ValueError(cty message) if not."""
    if v is None or v is UNKNOWN or t in ("dynamic", None):
        return v
    if isinstance(t, list) and t[0] == "optional":
        return convert(v, t[1])
    if t == "string":
        if isinstance(v, (list, dict)):
            raise ValueError("string required")
        return to_str(v)
    if t == "number":
        if isinstance(v, bool) or isinstance(v, (list, dict)):
            raise ValueError("a number is required")
        if isinstance(v, str):
            try:
                f = float(v.strip())
            except ValueError:
                raise ValueError("a number is required") from None
            return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f
        return v
    if t == "bool":
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v in ("true", "false", "1", "0"):
            return v in ("true", "1")
        raise ValueError("a bool is required")
    kind = t[0]
    if kind in ("list", "set"):
        if not isinstance(v, list):
            raise ValueError("%s required" % type_name(t))
        items = [convert(x, t[1]) for x in v]
        if kind == "set":
            items = [x for n, x in enumerate(items) if x not in items[:n]]
        return TList(items, t)
    if kind == "map":
        if not isinstance(v, dict):
            raise ValueError("%s required" % type_name(t))
        return TMap({k: convert(x, t[1]) for k, x in v.items()}, t)
    if kind == "tuple":
        if not isinstance(v, list) or len(v) != len(t[1]):
            raise ValueError("tuple required")
        return [convert(x, et) for x, et in zip(v, t[1])]
    if kind == "object":
        if not isinstance(v, dict):
            raise ValueError("object required")
        res = {}
        for k, at in t[1].items():
            if k in v:
                res[k] = convert(v[k], at)
            elif isinstance(at, list) and at[0] == "optional":
                res[k] = at[2] if len(at) > 2 else None
            else:
                raise ValueError('attribute "%s" is required' % k)
        return res
    return v


def parse_type(ast):
    """A `type = ...` constraint as a cty type in JSON form."""
    if ast[0] == "ref" and ast[1] in ("string", "number", "bool", "any"):
        return "dynamic" if ast[1] == "any" else ast[1]
    if ast[0] == "call":
        name, args = ast[1], ast[2]
        if name in ("list", "set", "map") and len(args) == 1:
            return [name, parse_type(args[0])]
        if name == "tuple" and args and args[0][0] == "list":
            return ["tuple", [parse_type(a) for a in args[0][1]]]
        if name == "object" and args and args[0][0] == "obj":
            return ["object", {k[1]: parse_type(v) for k, v in args[0][1]}]
        if name == "optional" and args:
            opt = ["optional", parse_type(args[0])]
            if len(args) > 1:
                opt.append(Evaluator(None).value(args[1]))
            return opt
    raise ValueError("invalid type")


def hcl_str(s):
    return json.dumps(s, ensure_ascii=False).replace("${", "$${")


def fmt_value(v, ind=0):
    """A value the way `terraform output` shows it."""
    pad = "  " * (ind + 1)
    if isinstance(v, str):
        return hcl_str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return fmt_num(v)
    if v is None:
        return "null"
    if isinstance(v, list):
        body = "[]" if not v else "[\n" + "".join(
            "%s%s,\n" % (pad, fmt_value(x, ind + 1)) for x in v) + "  " * ind + "]"
        return ("to%s(%s)" % (v.ty[0], body)) if isinstance(v, TList) else body
    if isinstance(v, dict):
        w = max((len(hcl_str(k)) for k in v), default=0)
        body = "{}" if not v else "{\n" + "".join(
            "%s%-*s = %s\n" % (pad, w, hcl_str(k), fmt_value(x, ind + 1))
            for k, x in sorted(v.items())) + "  " * ind + "}"
        return ("tomap(%s)" % body) if isinstance(v, TMap) else body
    return str(v)


def fmt_change(v, ind, mark):
    """A value in a plan, with +/- markers on list elements."""
    pad = "  " * ind
    if isinstance(v, Unknown):
        return "(known after apply)"
    if isinstance(v, list) and v:
        return "[\n" + "".join("%s    %s %s,\n" % (pad, mark, fmt_change(x, ind + 2, mark))
                               for x in v) + pad + "  ]"
    if isinstance(v, dict) and v:
        w = max(len(hcl_str(k)) for k in v)
        return "{\n" + "".join("%s    %s %-*s = %s\n" % (pad, mark, w, hcl_str(k),
                                                        fmt_change(x, ind + 2, mark))
                               for k, x in sorted(v.items())) + pad + "  }"
    return fmt_value(v)


# ---------------------------------------------------------------- evaluation

class NS:
    def __init__(self, kind, name=None):
        self.kind, self.name = kind, name


class ResRef:
    def __init__(self, res):
        self.res = res


class Inst:
    def __init__(self, res, key):
        self.res, self.key = res, key
        self.addr = res.addr(key)


class Fake:
    def __init__(self, inst, path):
        self.inst, self.path = inst, path


def short_id(rtype):
    return SHORT_IDS.get(rtype) or re.sub(r"_v\d+$", "", rtype).split("_")[-1]


def fake_attr(addr, rtype, path):
    h = hashlib.sha256(addr.encode()).hexdigest()
    names = [p for p in path if isinstance(p, str)]
    last = names[-1] if names else "id"
    words = last.lower().split("_")
    n = int(h[8:12], 16) % 254 + 1
    if last == "id":
        return "%s-%s" % (short_id(rtype), h[:8])
    if "dns" in words:
        return "ec2-203-0-113-%d.compute.example" % n
    if any(w.startswith("ip") for w in words) or last == "address":
        return "203.0.113.%d" % n
    return addr + "." + ".".join(str(p) for p in path)


def fn_format(f, *args):
    args, res = list(args), []
    for m in re.finditer(r"%%|%[-+ #0-9.]*([a-zA-Z])|[^%]+", f):
        t = m.group()
        if t == "%%":
            res.append("%")
        elif t.startswith("%"):
            a = args.pop(0)
            res.append(json.dumps(a) if m.group(1) == "q" else
                       str(int(a)) if m.group(1) == "d" else to_str(a))
        else:
            res.append(t)
    return "".join(res)


def L(v):
    """v when it is a list: functions that want one refuse a string (which Python would
    happily iterate)."""
    if not isinstance(v, list):
        raise TypeError("list required")
    return v


def fn_cidrsubnet(prefix, newbits, num):
    net = ipaddress.ip_network(prefix, strict=False)
    return str(list(net.subnets(prefixlen_diff=int(newbits)))[int(num)])


FUNCS = {
    "length": lambda x: len(x), "lower": lambda s: s.lower(), "upper": lambda s: s.upper(),
    "join": lambda sep, *ls: sep.join(to_str(x) for lst in ls for x in L(lst)),
    "split": lambda sep, s: s.split(sep), "concat": lambda *ls: [x for lst in ls for x in L(lst)],
    "tolist": lambda v: TList(list(L(v)), ["list", unify([type_of(x) for x in v])]),
    "toset": lambda v: TList(sorted(set(L(v)), key=str), ["set", unify([type_of(x) for x in v])]),
    "tomap": lambda v: TMap(v, ["map", unify([type_of(x) for x in v.values()])]),
    "tostring": to_str, "tonumber": lambda v: convert(v, "number"),
    "tobool": lambda v: convert(v, "bool"), "format": fn_format,
    "element": lambda lst, i: L(lst)[int(i) % len(lst)],
    "coalesce": lambda *a: next(x for x in a if x not in (None, "")),
    "compact": lambda lst: [x for x in L(lst) if x not in (None, "")],
    "flatten": lambda lst: [y for x in L(lst) for y in (x if isinstance(x, list) else [x])],
    "merge": lambda *ms: {k: v for m in ms for k, v in m.items()},
    "keys": lambda m: sorted(m), "values": lambda m: [m[k] for k in sorted(m)],
    "lookup": lambda m, k, *d: m[k] if k in m or not d else d[0],
    "contains": lambda lst, v: v in lst, "replace": lambda s, a, b: s.replace(a, b),
    "trimspace": lambda s: s.strip(), "jsonencode": lambda v: json.dumps(v, separators=(",", ":")),
    "cidrsubnet": fn_cidrsubnet,
    "cidrhost": lambda p, n: str(ipaddress.ip_network(p, strict=False)[int(n)]),
    "min": min, "max": max, "abs": abs,
    "distinct": lambda lst: [x for i, x in enumerate(L(lst)) if x not in lst[:i]],
    "sort": lambda lst: sorted(L(lst)), "reverse": lambda lst: list(reversed(L(lst))),
    "slice": lambda lst, a, b: L(lst)[int(a):int(b)],
    "base64encode": lambda s: base64.b64encode(s.encode()).decode(),
    "md5": lambda s: hashlib.md5(s.encode()).hexdigest(),
    "sha256": lambda s: hashlib.sha256(s.encode()).hexdigest(),
    "nonsensitive": lambda v: v, "sensitive": lambda v: v,
}


class World:
    """What expressions see: the configuration, variable values and the known instances."""
    def __init__(self, cfg, vals, known):
        self.cfg, self.vals, self.known = cfg, vals, known
        self.echoing = set()


class Evaluator:
    def __init__(self, world, ctx=None, where=""):
        self.w, self.ctx, self.where = world, dict(ctx or {}), where
        self.sensitive = False
        self.locals_busy = set()

    def value(self, node):
        return self.realize(self.ev(node))

    def realize(self, x):
        if isinstance(x, Fake):
            echo = self.configured(x)
            if echo is not None:
                return echo
            if x.inst.res.mode == "managed" and x.inst.addr not in self.w.known:
                return UNKNOWN
            return fake_attr(x.inst.addr, x.inst.res.type, x.path)
        if isinstance(x, Inst):
            rid = self.realize(Fake(x, ["id"]))
            return UNKNOWN if rid is UNKNOWN else {"id": rid}
        if isinstance(x, ResRef):
            insts = self.instances(x.res)
            if x.res.count is None and x.res.for_each is None:
                return self.realize(insts[0])
            return [self.realize(i) for i in insts]
        if isinstance(x, NS):
            raise Unsupported("namespace")
        if isinstance(x, TList):
            return TList([self.realize(i) for i in x], x.ty)
        if isinstance(x, list):
            return [self.realize(i) for i in x]
        if isinstance(x, TMap):
            return TMap({k: self.realize(v) for k, v in x.items()}, x.ty)
        if isinstance(x, dict):
            return {k: self.realize(v) for k, v in x.items()}
        return x

    def configured(self, x):
        """The value a resource's own configuration gives an attribute (as a provider echoes
        its arguments), or None."""
        res, path = x.inst.res, x.path
        if len(path) != 1 or path[0] not in res.attrs:
            return None
        key = (x.inst.addr, path[0])
        if key in self.w.echoing:
            return None
        self.w.echoing.add(key)
        e = Evaluator(self.w, self.w.cfg.each_ctx(res, x.inst.key, self.w))
        e.fn = res.fn
        try:
            v = e.value(res.attrs[path[0]].ast)
        except (Unsupported, TfError, LookupError, TypeError, ValueError, ZeroDivisionError,
                AttributeError):
            return None
        finally:
            self.w.echoing.discard(key)
        self.sensitive |= e.sensitive
        return None if v is UNKNOWN else v

    def instances(self, res):
        return [Inst(res, k) for k in self.w.cfg.keys_of(res, self.w)]

    def err(self, summary, detail, line):
        ctx = self.where
        return TfError(diag(summary, detail, (self.fn, line, ctx, "")))

    def ev(self, n):
        k = n[0]
        if k == "lit":
            return n[1]
        if k == "interp":
            return self.ev(n[1])
        if k == "tmpl":
            vals = [p if isinstance(p, str) else self.value(p) for p in n[1]]
            if any(v is UNKNOWN for v in vals):
                return UNKNOWN
            return "".join(to_str(v) for v in vals)
        if k == "list":
            return [self.ev(x) for x in n[1]]
        if k == "obj":
            return {to_str(self.value(a)): self.ev(b) for a, b in n[1]}
        if k == "ref":
            return self.ref(n[1], n[2])
        if k == "get":
            return self.get(self.ev(n[1]), n[2], n[3])
        if k == "idx":
            return self.idx(self.ev(n[1]), self.value(n[2]))
        if k == "splat":
            base = self.ev(n[1])
            if isinstance(base, ResRef):
                items = self.instances(base.res)
            elif base is None:
                items = []
            elif isinstance(base, list):
                items = base
            else:
                items = [base]
            res = []
            for it in items:
                for op in n[2]:
                    it = (self.get(it, op[1], 0) if op[0] == "get"
                          else self.idx(it, self.value(op[1])))
                res.append(it)
            return res
        if k == "call":
            return self.call(n)
        if k == "un":
            v = self.value(n[2])
            return UNKNOWN if v is UNKNOWN else (not v if n[1] == "!" else -v)
        if k == "bin":
            return self.binop(n[1], self.value(n[2]), self.value(n[3]))
        if k == "cond":
            c = self.value(n[1])
            return UNKNOWN if c is UNKNOWN else self.ev(n[2] if c else n[3])
        if k == "for":
            return self.for_expr(n)
        raise Unsupported(k)

    def ref(self, name, line):
        if name in self.ctx:
            return self.ctx[name]
        if name in ("var", "local", "count", "each", "path", "terraform", "data", "module", "self"):
            if self.w is None:
                raise self.err("Variables not allowed", "Variables may not be used here.", line)
            return NS(name)
        if self.w is None:
            raise self.err("Variables not allowed", "Variables may not be used here.", line)
        return NS("restype", name)

    def get(self, obj, name, line):
        if isinstance(obj, NS):
            cfg = self.w.cfg
            if obj.kind == "var":
                if name not in cfg.vars:
                    raise self.err("Reference to undeclared input variable", 'An input variable '
                                   'with the name "%s" has not been declared. This variable can '
                                   'be declared with a variable "%s" {} block.' % (name, name),
                                   line)
                if cfg.vars[name]["sensitive"]:
                    self.sensitive = True
                return self.w.vals.get(name)
            if obj.kind == "local":
                if name not in cfg.locals:
                    raise self.err("Reference to undeclared local value", 'A local value with '
                                   'the name "%s" has not been declared.' % name, line)
                if name in self.locals_busy:
                    raise Unsupported("cycle")
                self.locals_busy.add(name)
                try:
                    return self.ev(cfg.locals[name].ast)
                finally:
                    self.locals_busy.discard(name)
            if obj.kind in ("count", "each"):
                key = "%s.%s" % (obj.kind, name)
                if key not in self.ctx:
                    raise Unsupported(key)
                return self.ctx[key]
            if obj.kind == "path":
                return "."
            if obj.kind == "terraform" and name == "workspace":
                return "default"
            if obj.kind == "data":
                return NS("datatype", name)
            if obj.kind in ("restype", "datatype"):
                mode = "data" if obj.kind == "datatype" else "managed"
                res = cfg.res_index.get((mode, obj.name, name))
                if res is None:
                    raise self.err("Reference to undeclared resource", 'A %s resource "%s" "%s" '
                                   'has not been declared in the root module.' % (
                                       "data" if mode == "data" else "managed", obj.name,
                                       name), line)
                return ResRef(res)
            raise Unsupported(obj.kind)
        if isinstance(obj, ResRef):
            if obj.res.count is not None or obj.res.for_each is not None:
                raise self.err("Missing resource instance key", "Because %s has \"%s\" set, its "
                               "attributes must be accessed on specific instances." % (
                                   obj.res.addr(None), "count" if obj.res.count else "for_each"),
                               line)
            return Fake(Inst(obj.res, None), [name])
        if isinstance(obj, Inst):
            return Fake(obj, [name])
        if isinstance(obj, Fake):
            return Fake(obj.inst, obj.path + [name])
        if obj is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        raise Unsupported("get")

    def idx(self, obj, key):
        if key is UNKNOWN or obj is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, ResRef):
            keys = self.w.cfg.keys_of(obj.res, self.w)
            if key not in keys and not (isinstance(key, float) and int(key) in keys):
                raise Unsupported("no such instance")
            return Inst(obj.res, int(key) if isinstance(key, float) else key)
        if isinstance(obj, Fake):
            return Fake(obj.inst, obj.path + [key])
        if isinstance(obj, list):
            return obj[int(key)]
        if isinstance(obj, dict):
            return obj[to_str(key)]
        raise Unsupported("index")

    def call(self, n):
        name, args, expand = n[1], n[2], n[3]
        if name in ("try", "can"):
            for a in args:
                try:
                    v = self.value(a)
                    return True if name == "can" else v
                except (Unsupported, TfError, LookupError, TypeError, ValueError):
                    if name == "can":
                        return False
            raise Unsupported("try")
        if name not in FUNCS:
            raise Unsupported(name)
        vals = [self.value(a) for a in args]
        if expand and vals:
            vals = vals[:-1] + list(vals[-1])
        if any(v is UNKNOWN for v in vals):
            return UNKNOWN
        try:
            return FUNCS[name](*vals)
        except Exception as e:
            raise Unsupported(str(e)) from None

    def binop(self, op, a, b):
        if a is UNKNOWN or b is UNKNOWN:
            return UNKNOWN
        if op in ("==", "!="):
            return (a == b) == (op == "==")
        if op in ("&&", "||"):
            return (a and b) if op == "&&" else (a or b)
        a, b = convert(a, "number"), convert(b, "number")
        r = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
             "/": lambda: a / b, "%": lambda: a % b, "<": lambda: a < b, ">": lambda: a > b,
             "<=": lambda: a <= b, ">=": lambda: a >= b}[op]()
        return int(r) if isinstance(r, float) and r.is_integer() and op != "/" else r

    def for_expr(self, n):
        _, close, names, coll, kexpr, vexpr, cond, group = n
        c = self.ev(coll)
        if isinstance(c, ResRef):
            c = self.instances(c.res) if (c.res.count is not None or c.res.for_each is None) \
                else {i.key: i for i in self.instances(c.res)}
        c = c if isinstance(c, (list, dict)) else self.realize(c)
        if c is UNKNOWN:
            return UNKNOWN
        pairs = list(c.items()) if isinstance(c, dict) else list(enumerate(c))
        res_l, res_m = [], {}
        saved = dict(self.ctx)
        try:
            for key, val in pairs:
                if len(names) == 2:
                    self.ctx[names[0]], self.ctx[names[1]] = key, val
                else:
                    self.ctx[names[0]] = val
                if cond is not None and not self.value(cond):
                    continue
                if close == "]":
                    res_l.append(self.ev(kexpr))
                else:
                    k = to_str(self.value(kexpr))
                    v = self.ev(vexpr)
                    if group:
                        res_m.setdefault(k, []).append(v)
                    else:
                        res_m[k] = v
        finally:
            self.ctx = saved
        return res_l if close == "]" else res_m

    fn = ""


def evaluate(world, attr, ctx=None, where=""):
    """(value, sensitive) of an attribute; its raw source text when it cannot be evaluated."""
    e = Evaluator(world, ctx, where)
    e.fn = attr.fn
    try:
        return e.value(attr.ast), e.sensitive
    except (Unsupported, LookupError, TypeError, ValueError, ZeroDivisionError,
            StopIteration, AttributeError):
        return attr.raw, e.sensitive


# ---------------------------------------------------------------- configuration

MISSING = object()


class Resource:
    def __init__(self, block, mode):
        self.mode, self.type, self.name = mode, block.labels[0], block.labels[1]
        self.fn, self.line, self.block = block.fn, block.line, block
        a = block.attrs()
        self.count, self.for_each = a.get("count"), a.get("for_each")
        self.attrs = {k: v for k, v in a.items()
                      if k not in ("count", "for_each", "provider", "depends_on")}
        self.local_provider = self.type.split("_")[0]

    def addr(self, key):
        base = ("data." if self.mode == "data" else "") + "%s.%s" % (self.type, self.name)
        if key is None:
            return base
        return base + ("[%d]" % key if isinstance(key, int) else "[%s]" % json.dumps(key))


def var_range(fn, line):
    text = SOURCES[fn][line - 1]
    return "%s:%d,1-%d" % (fn, line, len(text.split("{")[0].rstrip()) + 1)


class Config:
    """The root module: every *.tf file of the working directory."""

    def __init__(self):
        self.files = sorted(glob.glob("*.tf"))
        self.vars, self.locals, self.outputs, self.resources = {}, {}, [], []
        self.res_index, self.providers = {}, {}
        seen, errs = {}, []
        for fn in self.files:
            try:
                with open(fn, encoding="utf-8") as f:
                    items = parse_hcl(f.read(), fn)
            except HclError as e:
                errs.append(e.d)
                continue
            for b in items:
                if not isinstance(b, Block):
                    continue
                want = {"variable": 1, "output": 1, "resource": 2, "data": 2,
                        "provider": 1, "module": 1}.get(b.type, 0)
                if len(b.labels) != want:
                    errs.append(diag("Missing name for %s" % b.type if len(b.labels) < want
                                     else "Extraneous label for %s" % b.type,
                                     "All %s blocks must have %d labels." % (b.type, want),
                                     (fn, b.line, "", "")))
                    continue
                key = (b.type, tuple(b.labels))
                if b.type in ("variable", "output", "resource", "data") and key in seen:
                    what = {"variable": "variable", "output": "output"}.get(b.type, "resource")
                    errs.append(diag("Duplicate %s declaration" % what if what != "resource" else
                                     "Duplicate %s %s configuration" % (
                                         "managed resource" if b.type == "resource" else "data",
                                         '"%s" "%s"' % tuple(b.labels)),
                                     "A %s named %s was already declared at %s. %s names must be "
                                     "unique within a module." % (what, json.dumps(b.labels[-1]),
                                                                  var_range(*seen[key]),
                                                                  what.capitalize()),
                                     (fn, b.line, "", "")))
                    continue
                seen[key] = (fn, b.line)
                getattr(self, "load_" + b.type, lambda b, e: None)(b, errs)
        if errs:
            raise TfError(*errs)

    def load_variable(self, b, errs):
        a = b.attrs()
        v = {"name": b.labels[0], "type": "dynamic", "default": MISSING, "fn": b.fn,
             "line": b.line, "sensitive": False, "description": ""}
        try:
            if "type" in a:
                v["type"] = parse_type(a["type"].ast)
        except ValueError:
            errs.append(diag("Invalid type specification", "The type constraint is not valid.",
                             (b.fn, a["type"].line, "", "")))
        for k in ("sensitive", "description"):
            if k in a:
                v[k] = Evaluator(None).value(a[k].ast)
        if "default" in a:
            try:
                v["default"] = convert(Evaluator(None).value(a["default"].ast), v["type"])
            except TfError as e:
                errs.extend(e.diags)
            except ValueError as e:
                errs.append(diag("Invalid default value for variable", "This default value is "
                                 "not compatible with the variable's type constraint: %s." % e,
                                 (b.fn, a["default"].line, "", "")))
        self.vars[v["name"]] = v

    def load_locals(self, b, errs):
        self.locals.update(b.attrs())

    def load_output(self, b, errs):
        a = b.attrs()
        if "value" not in a:
            errs.append(diag('Missing required argument', 'The argument "value" is required, '
                             'but no definition was found.', (b.fn, b.line, "", "")))
            return
        sens = a.get("sensitive")
        self.outputs.append({"name": b.labels[0], "attr": a["value"], "fn": b.fn, "line": b.line,
                             "sensitive": bool(sens and Evaluator(None).value(sens.ast))})

    def load_resource(self, b, errs, mode="managed"):
        r = Resource(b, mode)
        self.res_index[(mode, r.type, r.name)] = r
        if mode == "managed":
            self.resources.append(r)

    def load_data(self, b, errs):
        self.load_resource(b, errs, "data")

    def load_terraform(self, b, errs):
        for rp in b.blocks("required_providers"):
            for name, attr in rp.attrs().items():
                try:
                    spec = Evaluator(None).value(attr.ast)
                except (TfError, Unsupported):
                    spec = {}
                spec = spec if isinstance(spec, dict) else {"version": spec}
                self.providers[name] = spec

    def provider_fqns(self):
        """{fqn: version constraint} of the providers the configuration needs (not built in)."""
        res = {}
        names = {r.local_provider for r in self.res_index.values()} | set(self.providers)
        for name in sorted(names):
            if name == "terraform":
                continue
            spec = self.providers.get(name, {})
            src = spec.get("source", "hashicorp/" + name).lower()
            fqn = src if src.count("/") == 2 else "registry.terraform.io/" + src
            res[fqn] = spec.get("version", "")
        return res

    def keys_of(self, res, world):
        """The instance keys of a resource: [None], [0..n-1] or for_each keys."""
        if res.count is not None:
            v, _ = evaluate(world, res.count)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0:
                return list(range(int(v)))
            if isinstance(v, str) and v.isdigit():
                return list(range(int(v)))
            return [0]
        if res.for_each is not None:
            v, _ = evaluate(world, res.for_each)
            if isinstance(v, dict):
                return sorted(v)
            if isinstance(v, list):
                return sorted(set(to_str(x) for x in v))
            return [None]
        return [None]

    def each_ctx(self, res, key, world):
        if res.count is not None:
            return {"count.index": key}
        if res.for_each is not None:
            v, _ = evaluate(world, res.for_each)
            return {"each.key": key, "each.value": v.get(key) if isinstance(v, dict) else key}
        return {}


# ---------------------------------------------------------------- variables

def parse_var_file(path):
    """[(name, value, line)] of a .tfvars or .tfvars.json file."""
    disp = path
    if not os.path.isfile(path):
        raise TfError(diag("Failed to read variables file",
                           "Given variables file %s does not exist." % disp))
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise TfError(diag("Failed to read variables file",
                           "Error reading %s: %s" % (disp, e))) from None
    SOURCES[disp] = text.split("\n")
    if path.endswith(".json"):
        try:
            obj = json.loads(text)
        except ValueError as e:
            line = getattr(e, "lineno", 1)
            raise TfError(diag("Failed to read variables file", "The file %s is not valid "
                               "JSON: %s." % (disp, getattr(e, "msg", e)),
                               (disp, line, "", ""))) from None
        if not isinstance(obj, dict):
            raise TfError(diag("Root value must be object", "The root value in a JSON-based "
                               "configuration must be either a JSON object or a JSON array of "
                               "objects.", (disp, 1, "", "")))
        lines = SOURCES[disp]
        return [(k, v, next((n + 1 for n, l in enumerate(lines) if json.dumps(k) in l), 1))
                for k, v in obj.items()]
    try:
        items = parse_hcl(text, disp)
    except HclError as e:
        raise TfError(e.d) from None
    res = []
    for it in items:
        if isinstance(it, Block):
            raise TfError(diag("Unexpected \"%s\" block" % it.type, "Blocks are not allowed "
                               "here.", (disp, it.line, "", "")))
        e = Evaluator(None)
        e.fn = disp
        try:
            res.append((it.name, e.value(it.ast), it.line))
        except Unsupported:
            raise TfError(diag("Invalid expression", "Only literal values are allowed in a "
                               "variables file.", (disp, it.line, "", ""))) from None
    return res


def raw_var_value(v, raw):
    """A -var / TF_VAR_ string as the variable's type wants it."""
    if v["type"] in ("string", "number", "bool", "dynamic"):
        return raw
    toks = lex(raw, "<value for var.%s>" % v["name"])
    return Evaluator(None).value(ExprParser(toks, "<value>").parse_all())


def prompt(question, desc=""):
    out(question)
    if desc:
        out("  " + desc + "\n")
    out("  Enter a value: ", end="")
    line = sys.stdin.readline()
    if not line:
        return None
    out()
    return line.rstrip("\n")


def collect_vars(cfg, opts, input_ok):
    """{name: value} for every declared variable, with Terraform's checks and messages."""
    sources = []   # (name, value, kind, where, line)  kind: env auto file cli
    for k, v in os.environ.items():
        if k.startswith("TF_VAR_"):
            sources.append((k[7:], v, "env", k, 0))
    autos = [f for f in ("terraform.tfvars", "terraform.tfvars.json") if os.path.isfile(f)]
    autos += sorted(glob.glob("*.auto.tfvars") + glob.glob("*.auto.tfvars.json"))
    errs, warns = [], []
    for kind, arg in [("file", f) for f in autos] + opts["vars"]:
        if kind == "file":
            try:
                sources += [(n, v, "file", arg, ln) for n, v, ln in parse_var_file(arg)]
            except TfError as e:
                errs.extend(e.diags)
        else:
            if "=" not in arg:
                errs.append(diag("Invalid -var option", "The given -var option %s is not "
                                 "correctly specified. Must be a variable name and value "
                                 "separated by an equals sign, like -var=\"key=value\"."
                                 % json.dumps(arg)))
                continue
            n, v = arg.split("=", 1)
            sources.append((n.strip(), v, "cli", arg, 0))
    last = {}
    for src in sources:
        last.pop(src[0], None)
        last[src[0]] = src
    vals, undeclared_files = {}, 0
    for name, value, kind, where, line in last.values():
        v = cfg.vars.get(name)
        if v is None:
            if kind == "file":
                undeclared_files += 1
                if undeclared_files <= 3:
                    warns.append(diag("Value for undeclared variable", "The root module does "
                                      "not declare a variable named %s but a value was found in "
                                      "file %s. If you meant to use this value, add a \"variable\" "
                                      "block to the configuration.\n\nTo silence these warnings, "
                                      "use TF_VAR_... environment variables to provide certain "
                                      "\"global\" settings to all configurations in your "
                                      "organization. To reduce the verbosity of these warnings, "
                                      "use the -compact-warnings option." % (
                                          json.dumps(name), json.dumps(where)), sev="Warning"))
            elif kind == "cli":
                errs.append(diag("Value for undeclared variable", "A variable named %s was "
                                 "assigned on the command line, but the root module does not "
                                 "declare a variable of that name. To use this value, add a "
                                 "\"variable\" block to the configuration." % json.dumps(name)))
            continue
        try:
            if kind in ("env", "cli"):
                value = raw_var_value(v, value)
            vals[name] = convert(value, v["type"])
        except (ValueError, HclError, Unsupported, TfError) as e:
            why = str(e) if isinstance(e, ValueError) else "a valid expression is required"
            if kind == "file":
                errs.append(diag("Invalid value for input variable", "The given value is not "
                                 "suitable for var.%s declared at %s: %s." % (
                                     name, var_range(v["fn"], v["line"]), why),
                                 (where, line or 1, "", "")))
            else:
                how = ('set using -var="%s=..."' % name if kind == "cli"
                       else "set using the %s environment variable" % where)
                errs.append(diag("Invalid value for input variable", "Unsuitable value for "
                                 "var.%s %s: %s." % (name, how, why),
                                 (v["fn"], v["line"], "", "")))
    if undeclared_files > 3:
        warns.append(diag("Values for undeclared variables", "In addition to the other similar "
                          "warnings shown, %d other variable(s) defined without being declared."
                          % (undeclared_files - 3), sev="Warning"))
    for name, v in cfg.vars.items():
        if name in vals or errs:
            continue
        if v["default"] is not MISSING:
            vals[name] = v["default"]
            continue
        answer = prompt("var." + name, v["description"]) if input_ok else None
        if answer is not None:
            try:
                vals[name] = convert(raw_var_value(v, answer), v["type"])
                continue
            except (ValueError, HclError, Unsupported) as e:
                errs.append(diag("Invalid value for input variable", "Unsuitable value for "
                                 "var.%s set using an interactive prompt: %s." % (name, e),
                                 (v["fn"], v["line"], "", "")))
                continue
        errs.append(diag("No value for required variable", "The root module input variable "
                         "%s is not set, and has no default value. Use a -var or -var-file "
                         "command line argument to provide a value for this variable."
                         % json.dumps(name), (v["fn"], v["line"], "", "")))
    WARNINGS.extend(warns)
    if errs:
        raise TfError(*errs)
    return vals


# ---------------------------------------------------------------- state, lock, providers

class Canceled(Exception):
    pass


def data_dir():
    return os.environ.get("TF_DATA_DIR") or ".terraform"


def read_state():
    try:
        with open(STATE, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    if not text.strip():
        return None
    try:
        st = json.loads(text)
        if not isinstance(st, dict) or st.get("version") != 4:
            raise ValueError("unsupported state format version %r" % st.get("version"))
        return st
    except (ValueError, AttributeError) as e:
        raise TfError(diag("Failed to load state", "Error loading state: %s" % e)) from None


def state_index(st):
    """{address: instance record} of the managed resource instances in a state, in order."""
    res = {}
    for r in (st or {}).get("resources", []):
        if r.get("mode") != "managed":
            continue
        for inst in r.get("instances", []):
            key = inst.get("index_key")
            addr = "%s.%s" % (r["type"], r["name"]) + (
                "" if key is None else "[%d]" % key if isinstance(key, int) else
                "[%s]" % json.dumps(key))
            res[addr] = {"type": r["type"], "name": r["name"], "key": key,
                         "provider": r.get("provider", ""), "inst": inst}
    return res


class StateWriter:
    """Persists a state the way the local backend does: serial+1, backup of the old file."""

    def __init__(self, st):
        self.existed = st is not None
        self.st = st or {"version": 4, "terraform_version": VERSION, "serial": 0,
                         "lineage": str(uuid.uuid4()), "outputs": {}, "resources": [],
                         "check_results": None}
        self.backed_up = False

    def save(self, recs, outputs):
        groups = {}
        for rec in recs.values():
            g = groups.setdefault((rec["type"], rec["name"]), {
                "mode": "managed", "type": rec["type"], "name": rec["name"],
                "provider": rec["provider"], "instances": []})
            g["instances"].append(rec["inst"])
        st = self.st
        st["terraform_version"] = VERSION
        st["serial"] = int(st.get("serial", 0)) + 1
        st["outputs"], st["resources"] = outputs, list(groups.values())
        if self.existed and not self.backed_up and os.path.exists(STATE):
            with open(STATE, "rb") as f, open(STATE + ".backup", "wb") as b:
                b.write(f.read())
            self.backed_up = True
        tmp = "%s.tmp.%d" % (STATE, os.getpid())
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(go_json(st) + "\n")
        os.replace(tmp, STATE)


def who():
    try:
        import pwd
        user = pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        user = os.environ.get("USER", "unknown")
    return "%s@%s" % (user, socket.gethostname())


class StateLock:
    """The local backend's lock: flock + lockf on .terraform.tfstate.lock.info."""

    def __init__(self):
        self.fd = None

    def acquire(self, operation, timeout):
        deadline = time.monotonic() + timeout
        while True:
            fd = os.open(LOCKINFO, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                if time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise TfError(self.held_diag(e)) from None
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(LOCKINFO))
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            now = datetime.datetime.now(datetime.timezone.utc)
            info = {"ID": str(uuid.uuid4()), "Operation": operation, "Info": "", "Who": who(),
                    "Version": VERSION, "Created": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "Path": STATE}
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(info).encode())
            self.fd = fd
            return

    def held_diag(self, e):
        try:
            with open(LOCKINFO, encoding="utf-8") as f:
                info = json.load(f)
        except (OSError, ValueError):
            info = {}
        created = info.get("Created", "")
        m = re.match(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d(?:\.\d+)?)Z$", created)
        if m:
            created = "%s %s +0000 UTC" % (m.group(1), m.group(2))
        msg = (os.strerror(e.errno) if e.errno else str(e))
        return diag("Error acquiring the state lock", "Error message: %s\nLock Info:\n"
                    "  ID:        %s\n  Path:      %s\n  Operation: %s\n  Who:       %s\n"
                    "  Version:   %s\n  Created:   %s\n  Info:      %s\n\n\nTerraform acquires "
                    "a state lock to protect the state from being written by multiple users at "
                    "the same time. Please resolve the issue above and try again. For most "
                    "commands, you can disable locking with the \"-lock=false\" flag, but this "
                    "is not recommended." % (
                        msg[:1].lower() + msg[1:], info.get("ID", ""), info.get("Path", ""),
                        info.get("Operation", ""), info.get("Who", ""),
                        info.get("Version", ""), created, info.get("Info", "")))

    def release(self):
        if self.fd is not None:
            try:
                os.unlink(LOCKINFO)
            except OSError:
                pass
            os.close(self.fd)
            self.fd = None


def provider_version(fqn, constraint):
    base = PROVIDER_VERSIONS.get(fqn.split("/", 1)[1], "1.0.0")
    m = re.match(r"\s*(=|~>|>=)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", constraint or "")
    if not m:
        return base
    want = [int(m.group(2)), int(m.group(3) or 0), int(m.group(4) or 0)]
    have = [int(x) for x in base.split(".")]
    op = m.group(1) or "="
    if op == "=":
        return "%d.%d.%d" % tuple(want)
    if op == "~>":
        fixed = 1 if m.group(4) is None else 2
        return base if have[:fixed] == want[:fixed] and have >= want else "%d.%d.%d" % tuple(want)
    return base if have >= want else "%d.%d.%d" % tuple(want)


def read_lock():
    try:
        with open(LOCKFILE, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return {}
    return dict(re.findall(r'provider\s+"([^"]+)"\s*\{\s*version\s*=\s*"([^"]+)"', text))


def plugin_dir(fqn, version):
    return os.path.join(data_dir(), "providers", fqn, version, PLATFORM)


def check_init(cfg):
    """Terraform's refusal to plan/apply when `init` has not been run for these providers."""
    need = cfg.provider_fqns()
    if not need:
        return
    lock = read_lock()
    missing = [f for f in need if f not in lock]
    if missing:
        fresh = not os.path.exists(LOCKFILE)
        raise TfError(diag("Inconsistent dependency lock file", "The following dependency "
                           "selections recorded in the lock file are inconsistent with the "
                           "current configuration:\n" + "".join(
                               "  - provider %s: required by this configuration but no version "
                               "is selected\n" % f for f in missing) + "\n" + (
                               "To make the initial dependency selections that will initialize "
                               "the dependency lock file, run:\n  terraform init" if fresh else
                               "To update the locked dependency selections to match a changed "
                               "configuration, run:\n  terraform init -upgrade")))
    absent = [f for f in need if not os.path.isdir(plugin_dir(f, lock[f]))]
    if absent:
        raise TfError(diag("Required plugins are not installed", "The installed provider "
                           "plugins are not consistent with the packages selected in the "
                           "dependency lock file:\n" + "".join(
                               "  - %s: there is no package for %s %s cached in %s/providers\n"
                               % (f, f, lock[f], data_dir()) for f in absent) +
                           "\nTerraform uses external plugins to integrate with a variety of "
                           "different infrastructure services. To download the plugins "
                           "required for this configuration, run:\n  terraform init"))


# ---------------------------------------------------------------- hooks

def hook_fail(cmd):
    return cmd in [s.strip() for s in os.environ.get("TF_STANDIN_FAIL", "").split(",")]


def hook_sleep(cmd):
    """Sleeps TF_STANDIN_SLEEP's seconds for cmd; stops early when interrupted."""
    for part in os.environ.get("TF_STANDIN_SLEEP", "").split(","):
        name, _, secs = part.partition(":")
        if name.strip() == cmd:
            end = time.monotonic() + float(secs or 0)
            while time.monotonic() < end and not INTERRUPTED[0]:
                time.sleep(min(0.05, max(0.0, end - time.monotonic())))
    if INTERRUPTED[0]:
        raise Canceled()


def on_signal(signum, frame):
    INTERRUPTED[0] += 1
    if INTERRUPTED[0] == 1:
        out("\nInterrupt received.\nPlease wait for Terraform to exit or data loss may occur."
            "\nGracefully shutting down...\n")
    else:
        out("\nTwo interrupts received. Exiting immediately. Note that data loss may have "
            "occurred.\n")
        os._exit(1)


def log_invocation(argv):
    path = os.environ.get("TF_STANDIN_LOG")
    if not path:
        return
    env = {k: v for k, v in sorted(os.environ.items()) if k.startswith(LOG_PREFIXES)}
    line = json.dumps({"argv": argv[1:], "prog": argv[0], "cwd": os.getcwd(), "env": env})
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def provider_error(action, rec_addr, rtype, res):
    """The provider-style failure TF_STANDIN_FAIL produces for one resource instance."""
    kind = {"aws_vpc": "EC2 VPC", "aws_subnet": "EC2 Subnet",
            "aws_security_group": "Security Group"}.get(rtype, "EC2 Instance")
    rid = fake_attr(rec_addr, rtype, ["id"])
    text = ("creating %s: UnauthorizedOperation" % kind if action == "create" else
            "terminating %s (%s): UnauthorizedOperation" % (kind, rid))
    src = None
    if res is not None:
        src = (res.fn, res.line, ', in resource "%s" "%s"' % (res.type, res.name), rec_addr)
    return diag(text + ": You are not authorized to perform this operation.\n\tstatus code: "
                "403, request id: %s" % uuid.uuid5(uuid.NAMESPACE_URL, rec_addr), "", src)


# ---------------------------------------------------------------- plan and apply

class Exit(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def has_unknown(v):
    if v is UNKNOWN:
        return True
    if isinstance(v, list):
        return any(has_unknown(x) for x in v)
    if isinstance(v, dict):
        return any(has_unknown(x) for x in v.values())
    return False


def eval_outputs(cfg, world):
    """{name: (value, sensitive)} of the configuration's outputs."""
    res, errs = {}, []
    for o in cfg.outputs:
        try:
            v, sens = evaluate(world, o["attr"], where=', in output "%s"' % o["name"])
        except TfError as e:
            errs.extend(e.diags)
            continue
        if sens and not o["sensitive"]:
            errs.append(diag("Output refers to sensitive values", "To reduce the risk of "
                             "accidentally exporting sensitive data that was intended to be only "
                             "internal, Terraform requires that any root module output containing "
                             "sensitive data be explicitly marked as sensitive, to confirm your "
                             "intent.\n\nIf you do intend to export this data, annotate the output "
                             "value as sensitive by adding the following argument:\n"
                             "    sensitive = true", (o["fn"], o["line"], "", "")))
        res[o["name"]] = (v, o["sensitive"])
    if errs:
        raise TfError(*errs)
    return res


def state_outputs(cfg, world):
    res = {}
    for name, (v, sens) in sorted(eval_outputs(cfg, world).items()):
        if v is None or has_unknown(v):
            continue
        res[name] = {"value": v, "type": type_of(v)}
        if sens:
            res[name]["sensitive"] = True
    return res


def compute_plan(cfg, vals, st, destroy, refresh):
    """(creates [(resource, key)], deletes [address], prior {address: record})."""
    prior = state_index(st)
    if refresh:
        for addr, rec in prior.items():
            out("%s: Refreshing state... [id=%s]" % (
                addr, rec["inst"].get("attributes", {}).get("id", "")))
    world = World(cfg, vals, set(prior))
    creates, wanted = [], set()
    if not destroy:
        for r in cfg.resources:
            for key in cfg.keys_of(r, world):
                wanted.add(r.addr(key))
                if r.addr(key) not in prior:
                    creates.append((r, key))
    deletes = [a for a in reversed(list(prior)) if a not in wanted]
    return creates, deletes, prior


def output_changes(prior_out, planned):
    ch = []
    for n in sorted(set(prior_out) | set(planned)):
        old, new = prior_out.get(n), planned.get(n)
        if new is not None and new[0] is None:
            new = None
        if old is None and new is None:
            continue
        sens = new[1] if new else bool(old.get("sensitive"))
        if old is None:
            ch.append(("+", n, None, new[0], sens))
        elif new is None:
            ch.append(("-", n, old.get("value"), None, sens))
        elif has_unknown(new[0]) or old.get("value") != new[0]:
            ch.append(("~", n, old.get("value"), new[0], sens))
    return ch


def show_output_changes(ch):
    out("\nChanges to Outputs:")
    w = max(len(c[1]) for c in ch)
    for mark, n, old, new, sens in ch:
        def f(v, m):
            return "(sensitive value)" if sens else fmt_change(v, 1, m)
        if mark == "+":
            out("  %s %-*s = %s" % (ansi("+", "32"), w, n, f(new, "+")))
        elif mark == "-":
            out("  %s %-*s = %s -> null" % (ansi("-", "31"), w, n, f(old, "-")))
        else:
            out("  %s %-*s = %s -> %s" % (ansi("~", "33"), w, n, f(old, "-"), f(new, "+")))


def key_order(k):
    return (0, k, "") if isinstance(k, int) else (1, 0, k or "")


def show_plan(cfg, world, creates, deletes, prior, destroy, ch):
    """Prints the plan like Terraform; True when it has changes (resources or outputs)."""
    if not creates and not deletes:
        if ch:
            show_output_changes(ch)
            out("\nYou can apply this plan to save these new output values to the Terraform\n"
                "state, without changing any real infrastructure.")
            return True
        if destroy:
            out("\n" + ansi("No changes.", "1", "32") + ansi(" No objects need to be destroyed.",
                                                            "1") +
                "\n\nEither you have not created any objects yet or the existing objects were\n"
                "already deleted outside of Terraform.")
        else:
            out("\n" + ansi("No changes.", "1", "32") +
                ansi(" Your infrastructure matches the configuration.", "1") +
                "\n\nTerraform has compared your real infrastructure against your configuration\n"
                "and found no differences, so no changes are needed.")
        return False
    out("\nTerraform used the selected providers to generate the following execution\n"
        "plan. Resource actions are indicated with the following symbols:")
    if creates:
        out("  %s create" % ansi("+", "32"))
    if deletes:
        out("  %s destroy" % ansi("-", "31"))
    out("\nTerraform will perform the following actions:")
    for r, key in sorted(creates, key=lambda c: (c[0].type, c[0].name, key_order(c[1]))):
        out("\n%s will be created" % ansi("  # " + r.addr(key), "1"))
        out('  %s resource "%s" "%s" {' % (ansi("+", "32"), r.type, r.name))
        rows, ctx = {"id": "(known after apply)"}, cfg.each_ctx(r, key, world)
        for name, a in r.attrs.items():
            v, sens = evaluate(world, a, ctx, ', in resource "%s" "%s"' % (r.type, r.name))
            if v is not None:
                rows[name] = "(sensitive value)" if sens else fmt_change(v, 3, "+")
        w = max(len(k) for k in rows)
        for k in sorted(rows):
            out("      %s %-*s = %s" % (ansi("+", "32"), w, k, rows[k]))
        out("    }")
    for addr in sorted(deletes, key=lambda a: (prior[a]["type"], prior[a]["name"],
                                               key_order(prior[a]["key"]))):
        rec = prior[addr]
        out("\n%s will be destroyed" % ansi("  # " + addr, "1"))
        if not destroy:
            out("  # (because %s is not in configuration)" % addr)
        out('  %s resource "%s" "%s" {' % (ansi("-", "31"), rec["type"], rec["name"]))
        attrs = {k: v for k, v in rec["inst"].get("attributes", {}).items() if v is not None}
        w = max((len(k) for k in attrs), default=0)
        for k in sorted(attrs):
            out("      %s %-*s = %s -> null" % (ansi("-", "31"), w, k,
                                               fmt_change(attrs[k], 3, "-")))
        out("    }")
    out("\n%s %d to add, 0 to change, %d to destroy." % (ansi("Plan:", "1"), len(creates),
                                                          len(deletes)))
    if ch:
        show_output_changes(ch)
    return True


def plain_value(v):
    if v is UNKNOWN:
        return None
    if isinstance(v, list):
        return [plain_value(x) for x in v]
    if isinstance(v, dict):
        return {k: plain_value(x) for k, x in v.items()}
    return v


def provider_addr(cfg, r):
    if r.local_provider == "terraform":
        return 'provider["%s"]' % BUILTIN
    spec = cfg.providers.get(r.local_provider, {})
    src = spec.get("source", "hashicorp/" + r.local_provider).lower()
    return 'provider["%s"]' % (src if src.count("/") == 2 else "registry.terraform.io/" + src)


def perform(cfg, vals, writer, prior, creates, deletes, cmd, destroy):
    """Makes the changes; returns (records, added, destroyed). Saves partial state on failure."""
    recs = dict(prior)
    ops = [("delete", a) for a in deletes] + [("create", c) for c in creates]
    half, added, destroyed = len(ops) // 2, 0, 0

    def save():
        try:
            outs = {} if destroy else state_outputs(cfg, World(cfg, vals, set(recs)))
        except TfError:
            outs = {}
        writer.save(recs, outs)

    try:
        for n in range(len(ops) + 1):
            if n == half:
                hook_sleep(cmd)
                if hook_fail(cmd):
                    if n == len(ops):
                        save()
                        raise TfError(diag("operation failed: UnauthorizedOperation: You are "
                                           "not authorized to perform this operation."))
                    kind, item = ops[n]
                    if kind == "delete":
                        rec = recs[item]
                        out("%s: Destroying... [id=%s]" % (
                            item, rec["inst"].get("attributes", {}).get("id", "")))
                        res = cfg.res_index.get(("managed", rec["type"], rec["name"]))
                        d = provider_error("delete", item, rec["type"], res)
                    else:
                        out("%s: Creating..." % item[0].addr(item[1]))
                        d = provider_error("create", item[0].addr(item[1]), item[0].type, item[0])
                    save()
                    raise TfError(d)
            if n == len(ops):
                break
            if INTERRUPTED[0]:
                raise Canceled()
            kind, item = ops[n]
            if kind == "delete":
                rec = recs.pop(item)
                out("%s: Destroying... [id=%s]" % (
                    item, rec["inst"].get("attributes", {}).get("id", "")))
                out("%s: Destruction complete after 0s" % item)
                destroyed += 1
                continue
            r, key = item
            addr = r.addr(key)
            out("%s: Creating..." % addr)
            world = World(cfg, vals, set(recs) | {addr})
            attrs = {"id": fake_attr(addr, r.type, ["id"])}
            for name, a in r.attrs.items():
                v, _ = evaluate(world, a, cfg.each_ctx(r, key, world))
                attrs.setdefault(name, plain_value(v))
            inst = {"schema_version": 0, "attributes": attrs, "sensitive_attributes": []}
            if key is not None:
                inst = dict({"index_key": key}, **inst)
            recs[addr] = {"type": r.type, "name": r.name, "key": key,
                          "provider": provider_addr(cfg, r), "inst": inst}
            out("%s: Creation complete after 0s [id=%s]" % (addr, attrs["id"]))
            added += 1
    except Canceled:
        save()
        raise TfError(diag("operation canceled")) from None
    return recs, added, destroyed


def confirm(destroy):
    if destroy:
        out("\n" + ansi("Do you really want to destroy all resources?", "1") +
            "\n  Terraform will destroy all your managed infrastructure, as shown above.\n"
            "  There is no undo. Only 'yes' will be accepted to confirm.\n")
    else:
        out("\n" + ansi("Do you want to perform these actions?", "1") +
            "\n  Terraform will perform the actions described above.\n"
            "  Only 'yes' will be accepted to approve.\n")
    out("  " + ansi("Enter a value:", "1") + " ", end="")
    line = sys.stdin.readline()
    if not line:
        out()
        raise TfError(diag("error asking for approval: EOF"))
    if line.strip() != "yes":
        out("\n%s cancelled." % ("Destroy" if destroy else "Apply"))
        raise Exit(1)


def duration(s):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", s or "0s")
    if not m:
        raise TfError(diag("Invalid lock timeout", "Invalid duration %s." % json.dumps(s)))
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def input_ok(opts):
    env = os.environ.get("TF_INPUT", "")
    return opts.get("input", True) and env.lower() not in ("0", "false", "f")


def no_config(what):
    if what == "plan":
        return TfError(diag("No configuration files", "Plan requires configuration to be "
                            "present. Planning without a configuration would mark everything "
                            "for destruction, which is normally not what is desired. If you "
                            "would like to destroy everything, run plan with the -destroy "
                            "option. Otherwise, create a Terraform configuration file (.tf "
                            "file) and try again."))
    return TfError(diag("No configuration files", "Apply requires configuration to be present. "
                        "Applying without a configuration would mark everything for "
                        "destruction, which is normally not what is desired. If you would like "
                        "to destroy everything, run 'terraform destroy' instead."))


def locked(opts, operation):
    lock = StateLock()
    if opts.get("lock", True):
        lock.acquire(operation, duration(opts.get("lock-timeout")))
    return lock


# ---------------------------------------------------------------- commands

def cmd_version(opts, pos):
    sel = read_lock()
    if opts["json"]:
        out(go_json({"terraform_version": VERSION, "platform": PLATFORM,
                     "provider_selections": sel, "terraform_outdated": False}))
        return 0
    out("Terraform v%s (cloudya test stand-in)\non %s" % (VERSION, PLATFORM))
    for fqn, ver in sorted(sel.items()):
        out("+ provider %s v%s" % (fqn, ver))
    return 0


def write_lockfile(sel):
    rows = ["# This file is maintained automatically by \"terraform init\".",
            "# Manual edits may be lost in future updates."]
    for fqn, (ver, cons) in sorted(sel.items()):
        h = hashlib.sha256(("%s %s" % (fqn, ver)).encode()).digest()
        rows += ["", 'provider "%s" {' % fqn, '  version     = "%s"' % ver]
        if cons:
            rows.append('  constraints = %s' % json.dumps(cons))
        rows += ["  hashes = [", '    "h1:%s",' % base64.b64encode(h).decode(),
                 '    "zh:%s",' % h.hex(), "  ]", "}"]
    with open(LOCKFILE, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")


def cmd_init(opts, pos):
    if not glob.glob("*.tf"):
        out(ansi("Terraform initialized in an empty directory!", "1", "32") +
            "\n\nThe directory has no Terraform configuration files. You may begin working\n"
            "with Terraform immediately by creating Terraform configuration files.")
        return 0
    cfg = Config()
    out("\n" + ansi("Initializing the backend...", "1"))
    os.makedirs(data_dir(), exist_ok=True)
    hook_sleep("init")
    out("\n" + ansi("Initializing provider plugins...", "1"))
    provs = cfg.provider_fqns()
    if hook_fail("init"):
        fqn = next(iter(provs), "registry.terraform.io/hashicorp/aws")
        short = fqn.split("/", 1)[1]
        out("- Finding latest version of %s..." % short)
        raise TfError(diag("Failed to query available provider packages", "Could not retrieve "
                           "the list of available versions for provider %s: could not connect "
                           "to registry.terraform.io: failed to request discovery document: Get "
                           "\"https://registry.terraform.io/.well-known/terraform.json\": dial "
                           "tcp: lookup registry.terraform.io: no such host" % short))
    lock = {} if opts["upgrade"] else read_lock()
    sel = {}
    for fqn, cons in provs.items():
        short = fqn.split("/", 1)[1]
        if fqn in lock:
            ver = lock[fqn]
            out("- Reusing previous version of %s from the dependency lock file" % short)
        else:
            ver = provider_version(fqn, cons)
            out('- Finding %s versions matching "%s"...' % (short, cons) if cons
                else "- Finding latest version of %s..." % short)
        path = plugin_dir(fqn, ver)
        if fqn in lock and os.path.isdir(path):
            out("- Using previously-installed %s v%s" % (short, ver))
        else:
            out("- Installing %s v%s..." % (short, ver))
            os.makedirs(path, exist_ok=True)
            binary = os.path.join(path, "terraform-provider-%s_v%s_x5" % (
                short.split("/")[-1], ver))
            with open(binary, "w", encoding="utf-8") as f:
                f.write("#!/bin/sh\necho 'cloudya test stand-in provider'\n")
            os.chmod(binary, 0o755)
            out("- Installed %s v%s (%s)" % (short, ver, "signed by HashiCorp" if short.startswith(
                "hashicorp/") else "signed by a HashiCorp partner, key ID DB9C7B1F3E4F2A01"))
        sel[fqn] = (ver, cons)
    if any(r.local_provider == "terraform" for r in cfg.res_index.values()):
        out("- %s is built in to Terraform" % BUILTIN)
    created = not os.path.exists(LOCKFILE)
    if sel or not created:
        write_lockfile(sel)
    if sel and created:
        out("\nTerraform has created a lock file %s to record the provider\n"
            "selections it made above. Include this file in your version control repository\n"
            "so that Terraform can guarantee to make the same selections by default when\n"
            "you run \"terraform init\" in the future." % ansi(LOCKFILE, "1"))
    out("\n" + ansi("Terraform has been successfully initialized!", "1", "32") + "\n")
    out("You may now begin working with Terraform. Try running \"terraform plan\" to see\n"
        "any changes that are required for your infrastructure. All Terraform commands\n"
        "should now work.\n\nIf you ever set or change modules or backend configuration for "
        "Terraform,\nrerun this command to reinitialize your working directory. If you forget, "
        "other\ncommands will detect it and remind you to do so if necessary.")
    return 0


def cmd_plan(opts, pos):
    if pos:
        raise TfError(diag("Too many command line arguments", "To specify a working directory "
                           "for the plan, use the global -chdir flag."))
    destroy = opts["destroy"]
    if not glob.glob("*.tf") and not destroy:
        raise no_config("plan")
    cfg = Config()
    check_init(cfg)
    lock = locked(opts, "OperationTypePlan")
    try:
        st = read_state()
        vals = collect_vars(cfg, opts, input_ok(opts))
        creates, deletes, prior = compute_plan(cfg, vals, st, destroy, opts["refresh"])
        hook_sleep("plan")
        if hook_fail("plan"):
            raise TfError(diag("configuring Terraform AWS Provider: no valid credential sources "
                               "for Terraform AWS Provider found.", "Please see "
                               "https://registry.terraform.io/providers/hashicorp/aws\nfor more "
                               "information about providing credentials.\n\nAWS Error: failed to "
                               "refresh cached credentials, no EC2 IMDS role found, operation "
                               "error ec2imds: GetMetadata, request canceled, context deadline "
                               "exceeded"))
        world = World(cfg, vals, set(prior) - set(deletes))
        planned = {} if destroy else eval_outputs(cfg, world)
        ch = output_changes((st or {}).get("outputs", {}), planned)
        changes = show_plan(cfg, world, creates, deletes, prior, destroy, ch)
        if opts["out"]:
            plan = {"format": "cloudya-tf-standin-plan", "format_version": 1,
                    "terraform_version": VERSION, "destroy": destroy,
                    "variables": plain_value(vals),
                    "prior_state": [st["lineage"], st["serial"]] if st else None,
                    "creates": [r.addr(k) for r, k in creates], "deletes": deletes,
                    "resources": [{"address": r.addr(k), "type": r.type, "name": r.name,
                                   "index": k, "action": "create"} for r, k in creates] +
                                 [{"address": a, "type": prior[a]["type"],
                                   "name": prior[a]["name"], "index": prior[a]["key"],
                                   "action": "delete"} for a in deletes]}
            with open(opts["out"], "w", encoding="utf-8") as f:
                json.dump(plan, f, indent=2)
            out("\n" + HR + "\n\nSaved the plan to: %s\n\nTo perform exactly these actions, run "
                "the following command to apply:\n    terraform apply %s" % (
                    opts["out"], json.dumps(opts["out"])))
        elif changes:
            out("\n" + HR + "\n\nNote: You didn't use the -out option to save this plan, so "
                "Terraform can't\nguarantee to take exactly these actions if you run "
                "\"terraform apply\" now.")
        return 2 if opts["detailed-exitcode"] and changes else 0
    except Canceled:
        raise TfError(diag("operation canceled")) from None
    finally:
        lock.release()


def load_plan(path):
    try:
        with open(path, encoding="utf-8") as f:
            plan = json.load(f)
        if plan.get("format") != "cloudya-tf-standin-plan":
            raise ValueError("zip: not a valid zip file")
        return plan
    except (OSError, ValueError, AttributeError) as e:
        why = "stat %s: no such file or directory" % path if isinstance(
            e, FileNotFoundError) else "zip: not a valid zip file"
        raise TfError(diag("Failed to load %s as a plan file" % json.dumps(path),
                           "Error: %s" % why)) from None


def cmd_apply(opts, pos, destroy_cmd=False):
    if len(pos) > (0 if destroy_cmd else 1):
        raise TfError(diag("Too many command line arguments", "Expected at most one "
                           "positional argument."))
    planfile = pos[0] if pos else None
    if planfile and opts["vars"]:
        raise TfError(diag("Can't set variables when applying a saved plan", "The -var and "
                           "-var-file options cannot be used when applying a saved plan file, "
                           "because a saved plan includes the variable values that were set "
                           "when it was created."))
    plan = load_plan(planfile) if planfile else None
    destroy = destroy_cmd or opts.get("destroy") or bool(plan and plan["destroy"])
    if not planfile and not destroy and not glob.glob("*.tf"):
        raise no_config("apply")
    cfg = Config()
    check_init(cfg)
    lock = locked(opts, "OperationTypeApply")
    try:
        st = read_state()
        writer = StateWriter(st)
        if plan:
            if plan["prior_state"] != ([st["lineage"], st["serial"]] if st else None):
                raise TfError(diag("Saved plan is stale", "The given plan file can no longer be "
                                   "applied because the state was changed by another operation "
                                   "after the plan was created."))
            vals = {k: convert(v, cfg.vars[k]["type"]) for k, v in plan["variables"].items()
                    if k in cfg.vars}
            prior = state_index(st)
            world = World(cfg, vals, set(prior))
            by_addr = {r.addr(k): (r, k) for r in cfg.resources for k in cfg.keys_of(r, world)}
            creates = [by_addr[a] for a in plan["creates"] if a in by_addr]
            deletes = [a for a in plan["deletes"] if a in prior]
            changes = bool(creates or deletes)
        else:
            vals = collect_vars(cfg, opts, input_ok(opts))
            creates, deletes, prior = compute_plan(cfg, vals, st, destroy, opts["refresh"])
            world = World(cfg, vals, set(prior) - set(deletes))
            planned = {} if destroy else eval_outputs(cfg, world)
            ch = output_changes((st or {}).get("outputs", {}), planned)
            changes = show_plan(cfg, world, creates, deletes, prior, destroy, ch)
            if changes and not opts["auto-approve"]:
                confirm(destroy)
            if changes:
                out()
        recs, added, destroyed = perform(cfg, vals, writer, prior, creates, deletes,
                                         "destroy" if destroy_cmd else "apply", destroy)
        outs = {} if destroy else state_outputs(cfg, World(cfg, vals, set(recs)))
        if st is None or changes or outs != st.get("outputs"):
            writer.save(recs, outs)
        if destroy_cmd:
            out("\n" + ansi("Destroy complete! Resources: %d destroyed." % destroyed, "1", "32"))
            return 0
        out("\n" + ansi("Apply complete! Resources: %d added, 0 changed, %d destroyed." % (
            added, destroyed), "1", "32"))
        if outs:
            out("\n" + ansi("Outputs:", "1", "32") + "\n")
            for name in sorted(outs):
                o = outs[name]
                out("%s = %s" % (name, "<sensitive>" if o.get("sensitive") else
                                 fmt_value(o["value"])))
        return 0
    finally:
        lock.release()


def cmd_destroy(opts, pos):
    return cmd_apply(opts, pos, destroy_cmd=True)


def typed(o):
    v, t = o.get("value"), o.get("type")
    if isinstance(v, list) and isinstance(t, list) and t[0] in ("list", "set"):
        return TList(v, t)
    if isinstance(v, dict) and isinstance(t, list) and t[0] == "map":
        return TMap(v, t)
    return v


def cmd_output(opts, pos):
    if len(pos) > 1:
        raise TfError(diag("Unexpected argument", "The output command expects exactly one "
                           "argument with the name of an output variable or no arguments to "
                           "show all outputs."))
    if hook_fail("output"):
        raise TfError(diag("Failed to load state", "Error loading state: open %s: permission "
                           "denied" % STATE))
    hook_sleep("output")
    if opts["state"]:
        globals()["STATE"] = opts["state"]
    st = read_state()
    outs = (st or {}).get("outputs", {})
    if pos:
        name = pos[0]
        if name not in outs:
            raise TfError(diag("Output %s not found" % json.dumps(name), "The output variable "
                               "requested could not be found in the state file. If you recently "
                               "added this to your configuration, be sure to run `terraform "
                               "apply`, since the state won't be updated with new output "
                               "variables until that command is run."))
        o = outs[name]
        v = o.get("value")
        if opts["json"]:
            out(go_json(v, sort=True))
        elif opts["raw"]:
            if isinstance(v, (str, int, float, bool)):
                sys.stdout.write(to_str(v))
                sys.stdout.flush()
            else:
                t = o.get("type")
                raise TfError(diag("Unsupported value for raw output", "The -raw option only "
                                   "supports strings, numbers, and boolean values, but output "
                                   "value %s is %s.\n\nUse the -json option for machine-readable "
                                   "representations of output values that have complex types." % (
                                       json.dumps(name), "null" if v is None else
                                       t[0] if isinstance(t, list) else t)))
        else:
            out(fmt_value(typed(o)))
        return 0
    if opts["json"]:
        out(go_json({n: {"sensitive": bool(o.get("sensitive")), "type": o.get("type"),
                         "value": o.get("value")} for n, o in outs.items()}, sort=True))
        return 0
    if opts["raw"]:
        raise TfError(diag("Output name required", "You must give the name of a single "
                           "output value when using the -raw option."))
    if not outs:
        emit([diag("No outputs found", "The state file either has no outputs defined, or all "
                   "the defined outputs are empty. Please define an output in your "
                   "configuration with the `output` keyword and run `terraform refresh` for it "
                   "to become available. If you are using interpolation, please verify the "
                   "interpolated value is not empty. You can use the `terraform console` command "
                   "to assist.", sev="Warning")])
        return 0
    for name in sorted(outs):
        o = outs[name]
        out("%s = %s" % (name, "<sensitive>" if o.get("sensitive") else fmt_value(typed(o))))
    return 0


def cmd_validate(opts, pos):
    try:
        cfg = Config()
        check_init(cfg)
        vals = {n: (UNKNOWN if v["default"] is MISSING else v["default"])
                for n, v in cfg.vars.items()}
        world = World(cfg, vals, set())
        eval_outputs(cfg, world)
        for r in cfg.resources:
            for a in list(r.attrs.values()) + [x for x in (r.count, r.for_each) if x]:
                evaluate(world, a, {"count.index": 0, "each.key": "k", "each.value": "v"},
                         ', in resource "%s" "%s"' % (r.type, r.name))
        if hook_fail("validate"):
            raise TfError(diag("Unsupported argument", 'An argument named "bogus" is not '
                               'expected here.', None))
    except TfError as e:
        if not opts["json"]:
            raise
        out(go_json({"format_version": "1.0", "valid": False, "error_count": len(e.diags),
                     "warning_count": 0, "diagnostics": [
                         {"severity": "error", "summary": d["summary"], "detail": d["detail"]}
                         for d in e.diags]}))
        return 1
    if opts["json"]:
        out(go_json({"format_version": "1.0", "valid": True, "error_count": 0,
                     "warning_count": 0, "diagnostics": []}))
    else:
        out(ansi("Success!", "1", "32") + " The configuration is valid.\n")
    return 0


BOOL, STR, MULTI, VAR = "bool", "str", "multi", "var"
COMMON = {"input": BOOL, "lock": BOOL, "lock-timeout": STR,
          "parallelism": STR, "compact-warnings": BOOL}
VARFLAGS = {"var": VAR, "var-file": VAR, "refresh": BOOL, "target": MULTI, "replace": MULTI,
            "state": STR}
FLAGS = {
    "init": dict(COMMON, upgrade=BOOL, reconfigure=BOOL, backend=BOOL, get=BOOL,
                 lockfile=STR, **{"migrate-state": BOOL, "force-copy": BOOL,
                                  "backend-config": MULTI, "plugin-dir": MULTI}),
    "plan": dict(COMMON, **VARFLAGS, out=STR, destroy=BOOL,
                 **{"refresh-only": BOOL, "detailed-exitcode": BOOL}),
    "apply": dict(COMMON, **VARFLAGS, destroy=BOOL, backup=STR,
                  **{"auto-approve": BOOL, "refresh-only": BOOL, "state-out": STR}),
    "destroy": dict(COMMON, **VARFLAGS, backup=STR, **{"auto-approve": BOOL, "state-out": STR}),
    "output": {"json": BOOL, "raw": BOOL, "state": STR},
    "validate": {"json": BOOL},
    "version": {"json": BOOL},
}
DEFAULT_TRUE = ("input", "lock", "refresh", "backend", "get")
GO_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
            "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}
COMMANDS = {"version": cmd_version, "init": cmd_init, "plan": cmd_plan, "apply": cmd_apply,
            "destroy": cmd_destroy, "output": cmd_output, "validate": cmd_validate}


class FlagError(Exception):
    pass


def parse_flags(cmd, args):
    """(options, positional arguments), parsed like Go's flag package."""
    spec = FLAGS[cmd]
    opts = {k: (k in DEFAULT_TRUE) if t == BOOL else [] if t == MULTI else None
            for k, t in spec.items()}
    opts["vars"] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            i += 1
            break
        if not a.startswith("-") or a == "-":
            break
        name, eq, val = a[2 if a.startswith("--") else 1:].partition("=")
        if not name or name.startswith("-") or name.startswith("="):
            raise FlagError("bad flag syntax: %s" % a)
        if name not in spec:
            raise FlagError("flag provided but not defined: -%s" % name)
        if spec[name] == BOOL:
            if eq and val not in GO_BOOLS:
                raise FlagError('invalid boolean value "%s" for -%s: parse error' % (val, name))
            opts[name] = GO_BOOLS[val] if eq else True
        else:
            if not eq:
                if i + 1 >= len(args):
                    raise FlagError("flag needs an argument: -%s" % name)
                i += 1
                val = args[i]
            if spec[name] == VAR:
                opts["vars"].append(("cli" if name == "var" else "file", val))
            elif spec[name] == MULTI:
                opts[name].append(val)
            else:
                opts[name] = val
        i += 1
    return opts, args[i:]


USAGE = """Usage: terraform [global options] <subcommand> [args]

The available commands for execution are listed below.
The primary workflow commands are given first, followed by
less common or more advanced commands.

Main commands:
  init          Prepare your working directory for other commands
  validate      Check whether the configuration is valid
  plan          Show changes required by the current configuration
  apply         Create or update infrastructure
  destroy       Destroy previously-created infrastructure

All other commands:
  output        Show output values from your root module
  version       Show the current Terraform version

Global options (use these before the subcommand, if any):
  -chdir=DIR    Switch to a different working directory before executing the
                given subcommand.
  -help         Show this help output, or the help for a specified subcommand.
  -version      An alias for the "version" subcommand.
"""


def main(argv):
    global PLAIN, COLOR
    log_invocation(argv)
    args = list(argv[1:])
    if args and re.match(r"--?chdir(=|$)", args[0]):
        a = args.pop(0)
        target = a.split("=", 1)[1] if "=" in a else (args.pop(0) if args else "")
        try:
            os.chdir(target)
        except OSError as e:
            sys.stderr.write("Error handling -chdir option: chdir %s: %s\n" % (
                target, e.strerror.lower() if e.strerror else e))
            return 1
    if not args or args[0] in ("-help", "-h", "--help"):
        sys.stdout.write(USAGE)
        return 0 if args else 127
    if args[0] in ("-v", "-version", "--version"):
        args[0] = "version"
    cmd, rest = args[0], args[1:]
    if cmd not in COMMANDS:
        sys.stderr.write("Terraform has no command named \"%s\".\n\nTo see all of Terraform's "
                         "top-level commands, run:\n  terraform -help\n\n" % cmd)
        return 1
    if cmd == "version":
        rest = [a for a in rest if a not in ("-v", "-version", "--version")]
    extra = os.environ.get("TF_CLI_ARGS", "") + " " + os.environ.get("TF_CLI_ARGS_" + cmd, "")
    rest = shlex.split(extra) + rest
    # Like Terraform's Meta.process: an exact "-no-color" is taken from anywhere in the
    # arguments (even after a plan file); "--no-color" or "-no-color=true" are not flags.
    PLAIN = "-no-color" in rest
    rest = [a for a in rest if a != "-no-color"]
    COLOR = not PLAIN and sys.stdout.isatty()
    try:
        opts, pos = parse_flags(cmd, rest)
    except FlagError as e:
        emit([diag("Failed to parse command-line flags", "%s\n\nFor more help on using this "
                   "command, run:\n  terraform %s -help" % (e, cmd))])
        return 1
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        code = COMMANDS[cmd](opts, pos)
        emit(WARNINGS)
        return code
    except TfError as e:
        emit(WARNINGS + e.diags)
        return 1
    except Canceled:
        emit([diag("operation canceled")])
        return 1
    except Exit as e:
        return e.code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
