#!/usr/bin/env python3
"""The remote generation back end (generator/gen_remote.c) through its test
program tests/test_remote.c, against real servers on 127.0.0.1:

  llama     the real llama-server with a small chat model: streamed pieces,
            usage, finish_reason "length", stop strings, the caller stopping
            after N pieces, the API key (right, wrong, missing, from
            ASKDOCS_API_KEY);
  retries   a proxy in front of llama-server that answers 503, then 429 with
            Retry-After, then forwards; one that always answers 503; a 400
            fails at once; connection refused;
  stream    a stand-in server speaking SSE in small slices with CRLF / CR
            line ends and multi-byte UTF-8 cut anywhere, the non-streamed
            JSON fallback, garbage, an error event, a huge line, a reply past
            the answer cap, a truncated stream, what the request carries;
  timeouts  headers then silence, silence before any byte (retried), slow
            but steady pieces (no timeout), a slow reader (no timeout), the
            total limit;
  tls       an https stand-in with a self-signed certificate: refused by
            default, accepted with its CA file or --insecure, a name that does
            not match refused;
  oom       every askdocs allocation of a call failing in turn;
  askdocs   end to end through the askdocs binary: samples/ indexed, then
            `askdocs ask --url` against a second llama-server with the
            bigger chat model (SmolLM2 cites the wrong passage): jsonl
            answers with checked citations through a counting proxy, text
            mode with its Sources block, thorough mode, a wrong API key, a
            server that is down.

Run by ctest: test_remote.py --client BUILD/test_remote --server
llama-server --model GGUF --askdocs BUILD/askdocs --gen-model GGUF. Prints
one line per check and 'N passed, N failed'.
"""
import argparse
import http.client
import http.server
import json
import os
import re
import shutil
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from testlib import (check, finish, free_port, sanitizer_report,
                     serve_in_thread, wait_http)

KEY = "sk-test-0123456789"
CANNED = "Paris is the capital of France \u2014 \u00abUnic\u00f6de\u00bb " \
         "\ud55c\uad6d\uc5b4 \U0001F600 ok."
# deltas of the canned reply: each a whole string (JSON needs that), cut
# so that the multi-byte characters sit on the edges
CANNED_DELTAS = ["Paris is the ", "capital of France \u2014", " \u00ab",
                 "Unic\u00f6", "de\u00bb \ud55c", "\uad6d\uc5b4 ",
                 "\U0001F600", " ok", "."]
assert "".join(CANNED_DELTAS) == CANNED


def chunk(delta=None, finish=None, usage=None, role=False):
    d = {}
    if role:
        d["role"] = "assistant"
    if delta is not None:
        d["content"] = delta
    o = {"id": "chatcmpl-test", "object": "chat.completion.chunk",
         "choices": [{"index": 0, "delta": d, "finish_reason": finish}]}
    if usage is not None:
        o = {"id": "chatcmpl-test", "object": "chat.completion.chunk",
             "choices": [], "usage": usage}
    return json.dumps(o, ensure_ascii=False)


def sse(events, nl="\n"):
    """data: lines of events, a comment and unused fields among them."""
    out = ": keep-alive" + nl + nl
    for i, e in enumerate(events):
        out += f"event: message{nl}id: {i}{nl}data: {e}{nl}{nl}"
    return out.encode("utf-8")


def canned_stream(nl="\n", usage=True, finish="stop"):
    ev = [chunk(role=True)] + [chunk(d) for d in CANNED_DELTAS]
    ev.append(chunk(finish=finish))
    if usage:
        ev.append(chunk(usage={"prompt_tokens": 11, "completion_tokens": 13,
                               "total_tokens": 24}))
    ev.append("[DONE]")
    return sse(ev, nl)


# ------------------------------------------------------- stand-in server
class StandIn(http.server.ThreadingHTTPServer):
    """Speaks the chat API badly or well, by the first path segment:
    /MODE/v1/chat/completions. Records the requests it got."""
    daemon_threads = True

    def __init__(self, upstream=None):
        super().__init__(("127.0.0.1", 0), StandInHandler)
        self.upstream = upstream        # llama-server port for /retry
        self.requests = []
        self.counts = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()   # releases the stalling handlers

    @property
    def port(self):
        return self.server_address[1]

    def handle_error(self, request, client_address):
        pass  # clients that give up (timeouts, aborts, TLS refusals)


class StandInHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, status, body, ctype="text/event-stream", extra=(),
              slices=0, pause=0.0):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if not slices:
            self.wfile.write(body)
            return
        for i in range(0, len(body), slices):
            self.wfile.write(body[i:i + slices])
            self.wfile.flush()
            if pause:
                time.sleep(pause)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        srv = self.server
        parts = self.path.strip("/").split("/")
        mode = parts[0]
        with srv.lock:
            srv.requests.append({"path": self.path,
                                 "headers": dict(self.headers.items()),
                                 "body": body})
            n = srv.counts.get(self.path, 0) + 1
            srv.counts[self.path] = n
        try:
            self.serve_mode(mode, parts, n, body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client went away, as some tests make it do

    def serve_mode(self, mode, parts, n, body):
        srv = self.server
        if mode in ("ok", "echo"):
            self.reply(200, canned_stream(), slices=7)
        elif mode == "crlf":
            self.reply(200, canned_stream("\r\n"), slices=5)
        elif mode == "cr":
            self.reply(200, canned_stream("\r"), slices=3)
        elif mode == "nousage":
            self.reply(200, canned_stream(usage=False))
        elif mode == "length":
            self.reply(200, canned_stream(finish="length"))
        elif mode == "json":
            out = json.dumps({
                "id": "x", "object": "chat.completion",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant",
                                         "content": CANNED}}],
                "usage": {"prompt_tokens": 11, "completion_tokens": 13}})
            self.reply(200, out.encode(), ctype="application/json")
        elif mode == "garbage":
            self.reply(200, b"data: {this is not json\n\n")
        elif mode == "noise":
            self.reply(200, b"\x00\xff\xfe binary noise\nno fields here\n"
                       b"random: stuff\n\n\x7f\x01\n")
        elif mode == "html":     # a web page where the API should be
            self.reply(200, b"<html><body>Sign in</body></html>\n",
                       ctype="text/html; charset=utf-8")
        elif mode == "empty":
            self.reply(200, b"")
        elif mode == "error":
            self.reply(200, sse([chunk("Par"), json.dumps(
                {"error": {"message": "the model ran out of memory",
                           "type": "server_error"}})]))
        elif mode == "hugeline":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b"data: ")
            for _ in range(64):   # 2 MiB without an end of line
                self.wfile.write(b"x" * 32768)
        elif mode == "hugeanswer":  # 80 KiB of text, past the 64 KiB cap
            self.reply(200, sse([chunk("y" * 1024) for _ in range(80)] +
                                [chunk(finish="stop"), "[DONE]"]))
        elif mode == "truncated":
            self.reply(200, sse([chunk("The capital "), chunk("of")]))
        elif mode == "redirect":
            self.reply(302, b"", ctype="text/plain",
                       extra=[("Location", "/ok/v1/chat/completions")])
        elif mode == "status":       # /status/CODE/...
            code = int(parts[1])
            extra = [("Retry-After", "1")] if code == 429 else []
            self.reply(code, json.dumps(
                {"error": {"message": f"stand-in says {code}: max_tokens "
                                      "is too large", "code": code}}).encode(),
                ctype="application/json", extra=extra)
        elif mode == "stallheaders":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b": hello\n\n")
            self.wfile.flush()
            srv.stop.wait(30)
        elif mode == "stallbefore":
            srv.stop.wait(30)
        elif mode == "slow":        # a piece every 0.3 s: never silent long
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for i in range(int(parts[1])):
                self.wfile.write(sse([chunk(f"w{i} ")]))
                self.wfile.flush()
                time.sleep(0.3)
            self.wfile.write(sse([chunk(finish="stop"), "[DONE]"]))
        elif mode == "retry":       # /retry/ID/...: 503, 429, then llama
            if n == 1:
                self.reply(503, b'{"error":{"message":"loading"}}',
                           ctype="application/json")
            elif n == 2:
                self.reply(429, b'{"error":{"message":"slow down"}}',
                           ctype="application/json",
                           extra=[("Retry-After", "1")])
            else:
                self.forward(body)
        elif mode == "fwd":         # /fwd/...: straight to the upstream
            self.forward(body)
        else:
            self.reply(404, b"no such mode", ctype="text/plain")

    def forward(self, body):
        """Pass the request on to llama-server and stream its answer back
        as it comes (the connection close ends it)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.upstream,
                                          timeout=120)
        hdrs = {k: self.headers[k] for k in
                ("Content-Type", "Accept", "Authorization") if k in self.headers}
        conn.request("POST", "/v1/chat/completions", body=body, headers=hdrs)
        resp = conn.getresponse()
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.getheader("Content-Type", ""))
        self.end_headers()
        while True:
            b = resp.read1(65536)
            if not b:
                break
            self.wfile.write(b)
            self.wfile.flush()
        conn.close()


# ------------------------------------------------------------- the client
class Client:
    def __init__(self, exe):
        self.exe = exe
        self.env = {k: v for k, v in os.environ.items()
                    if k.lower() not in ("http_proxy", "https_proxy",
                                         "all_proxy", "askdocs_api_key")}
        self.env["NO_PROXY"] = "*"
        self.reports = []   # sanitizer reports / bad exits

    def run(self, url, *args, env=None, timeout=180):
        e = dict(self.env, **(env or {}))
        t0 = time.monotonic()
        p = subprocess.run([self.exe, url, *args], capture_output=True,
                           env=e, timeout=timeout)
        secs = time.monotonic() - t0
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        res = {}
        for line in reversed(err.splitlines()):
            if line.startswith("{"):
                try:
                    res = json.loads(line)
                except ValueError:
                    pass
                break
        res["text"] = out[:-1] if out.endswith("\n") else out
        res["secs"] = secs
        res["log"] = err
        rep = sanitizer_report(err)
        if p.returncode != 0 or rep or "rc" not in res:
            self.reports.append(f"{url} {args}: exit {p.returncode} {rep} "
                                f"{err[-500:]}")
        return res


def brief(res):
    return json.dumps({k: v for k, v in res.items() if k != "log"})[:600]


# ------------------------------------------------------------------ tests
def llama_tests(c, base, log_path):
    r = c.run(base, "--key", KEY)
    check(r.get("rc") == 0 and r.get("n_pieces", 0) >= 3 and
          "Paris" in r["text"] and r.get("attempts") == 1 and
          r.get("http_status") == 200 and r.get("n_gen_tokens", 0) > 0 and
          r.get("n_prompt_tokens", 0) > 0 and r.get("pieces_utf8"),
          "llama-server: the answer streams in pieces, with usage",
          brief(r))
    check(r.get("n_gen_tokens", 0) >= r.get("n_pieces", 99) - 1 and
          0 < r.get("ttft_ms", 0) <= r.get("elapsed_ms", 0) and
          r.get("first_piece_ms", 0) < r.get("last_piece_ms", 0),
          "llama-server: token count, time to first token, pieces over time",
          brief(r))
    r = c.run(base, "--key", KEY, "--max-tokens", "4")
    check(r.get("rc") == 0 and r.get("finish_length") == 1 and
          r.get("n_gen_tokens") == 4,
          "llama-server: max_tokens is sent, finish_reason length seen",
          brief(r))
    r = c.run(base, "--key", KEY, "--stop", " Paris", "--stop", "zzz")
    check(r.get("rc") == 0 and r["text"].strip() and
          "Paris" not in r["text"] and r.get("finish_length") == 0,
          "llama-server: stop strings are sent", brief(r))
    full = c.run(base, "--key", KEY, "--no-system", "--max-tokens", "200",
                 "--user", "Count from 1 to 100, separated by commas.")
    r = c.run(base, "--key", KEY, "--no-system", "--max-tokens", "200",
              "--user", "Count from 1 to 100, separated by commas.",
              "--stop-after", "3")
    check(full.get("rc") == 0 and full.get("n_pieces", 0) > 20,
          "llama-server: a long answer without a system prompt", brief(full))
    check(r.get("rc") == 0 and r.get("n_pieces") == 3 and
          r.get("error") == "" and
          r.get("elapsed_ms", 1e9) - r.get("last_piece_ms", 0) < 1000 and
          r.get("elapsed_ms", 1e9) < full.get("elapsed_ms", 0),
          "llama-server: the caller stops after 3 pieces, the call ends at "
          "once and returns ok", f"{brief(r)} full {full.get('elapsed_ms')}")
    cancelled = False
    for _ in range(20):   # the server notices the closed connection
        with open(log_path, errors="replace") as f:
            cancelled = "cancel task" in f.read()
        if cancelled:
            break
        time.sleep(0.1)
    check(cancelled, "llama-server: the aborted request's task is cancelled "
          "(its log says 'cancel task')")
    r = c.run(base, "--key", KEY, "--max-tokens", "8")
    check(r.get("rc") == 0 and r.get("n_pieces", 0) > 0,
          "llama-server: still serving after the aborted stream", brief(r))
    for what, args in (("a wrong", ("--key", "sk-wrong")), ("no", ())):
        r = c.run(base, *args)
        check(r.get("rc") == 14 and "401" in r.get("error", "") and
              "API key" in r.get("error", "") and r.get("attempts") == 1 and
              r.get("http_status") == 401 and r.get("secs", 99) < 5 and
              r.get("n_pieces") == 0,
              f"llama-server: {what} API key fails at once naming HTTP 401",
              brief(r))
    check(all(KEY not in x for x in (r.get("error", ""), r.get("log", ""))),
          "the API key appears in no message")
    r = c.run(base, env={"ASKDOCS_API_KEY": KEY})
    check(r.get("rc") == 0 and "Paris" in r["text"],
          "llama-server: the key from ASKDOCS_API_KEY", brief(r))


def retry_tests(c, proxy):
    base = f"http://127.0.0.1:{proxy.port}"
    r = c.run(base + "/retry/a/v1", "--key", KEY, "--backoff", "100")
    got = [x for x in proxy.requests if x["path"].startswith("/retry/a/")]
    check(r.get("rc") == 0 and r.get("attempts") == 3 and
          "Paris" in r["text"] and len(got) == 3 and
          r.get("secs", 0) >= 1.0 and "retry 1 of 3" in r.get("log", ""),
          "503, then 429 with Retry-After: 1, then the answer: retried, the "
          "Retry-After wait kept", brief(r))
    check(len({x["body"] for x in got}) == 1 and
          all(x["headers"].get("Authorization") == "Bearer " + KEY
              for x in got),
          "every attempt sends the same request and key")
    r = c.run(base + "/status/503/v1", "--retries", "1", "--backoff", "50")
    check(r.get("rc") == 14 and r.get("attempts") == 2 and
          "503" in r.get("error", "") and r.get("http_status") == 503 and
          "stand-in says 503" in r.get("error", ""),
          "always 503 with --retries 1: ASKDOCS_ERR_NETWORK naming 503 after "
          "2 attempts", brief(r))
    r = c.run(base + "/status/429/v1", "--retries", "1")
    check(r.get("rc") == 14 and r.get("attempts") == 2 and
          "429" in r.get("error", "") and 1.0 <= r.get("secs", 0) < 10,
          "always 429: retried after its Retry-After, then fails", brief(r))
    n0 = len(proxy.requests)
    r = c.run(base + "/status/400/v1")
    check(r.get("rc") == 14 and r.get("attempts") == 1 and
          len(proxy.requests) == n0 + 1 and "HTTP 400" in r.get("error", "") and
          "max_tokens is too large" in r.get("error", "") and
          r.get("secs", 99) < 5,
          "400 fails at once with the server's message", brief(r))
    r = c.run(base + "/redirect/v1")
    check(r.get("rc") == 14 and "302" in r.get("error", "") and
          r.get("attempts") == 1, "a redirect is not followed", brief(r))
    closed = free_port()
    r = c.run(f"http://127.0.0.1:{closed}/v1", "--retries", "2",
              "--backoff", "50")
    err = r.get("error", "")
    check(r.get("rc") == 14 and r.get("attempts") == 3 and
          f"127.0.0.1:{closed}" in err and "onnect" in err and
          r.get("http_status") == 0 and r.get("secs", 99) < 5,
          "connection refused: retried, then a message naming the url",
          brief(r))


def stream_tests(c, srv):
    base = f"http://127.0.0.1:{srv.port}"
    for mode, what in (("ok", "LF, 7-byte slices"),
                       ("crlf", "CRLF, 5-byte slices"),
                       ("cr", "CR, 3-byte slices")):
        r = c.run(f"{base}/{mode}/v1")
        check(r.get("rc") == 0 and r["text"] == CANNED and
              r.get("n_pieces") == len(CANNED_DELTAS) and
              r.get("pieces_utf8") and r.get("n_gen_tokens") == 13 and
              r.get("n_prompt_tokens") == 11 and r.get("finish_length") == 0,
              f"SSE in {what}: exact text, whole UTF-8 pieces, usage",
              brief(r))
    r = c.run(f"{base}/nousage/v1")
    check(r.get("rc") == 0 and r["text"] == CANNED and
          r.get("n_gen_tokens") == len(CANNED_DELTAS) and
          r.get("n_prompt_tokens") == 0,
          "no usage: the content deltas are counted", brief(r))
    r = c.run(f"{base}/length/v1")
    check(r.get("rc") == 0 and r.get("finish_length") == 1,
          "finish_reason length", brief(r))
    r = c.run(f"{base}/json/v1")
    check(r.get("rc") == 0 and r["text"] == CANNED and
          r.get("n_gen_tokens") == 13,
          "a non-streamed JSON reply is read too", brief(r))
    for mode, rc, words in (
            ("garbage", 14, ("malformed stream", "not a JSON object")),
            ("noise", 14, ("not an event stream",
                           "Content-Type: text/event-stream")),
            ("html", 14, ("not an event stream", "Content-Type: text/html")),
            ("empty", 14, ("an empty reply",)),
            ("error", 14, ("reported an error", "the model ran out of memory")),
            ("hugeline", 14, ("line longer than 1048576",)),
            ("hugeanswer", 4, ("passed 65536 bytes",)),
            ("truncated", 14, ("ended before the reply was complete",))):
        r = c.run(f"{base}/{mode}/v1", "--retries", "3")
        err = r.get("error", "")
        check(r.get("rc") == rc and all(w in err for w in words) and
              f"127.0.0.1:{srv.port}" in err and r.get("attempts") == 1 and
              r.get("secs", 99) < 10,
              f"a {mode} stream: a clear error, not retried", brief(r))
    # what the request carries
    n0 = len(srv.requests)
    r = c.run(f"{base}/echo/v1/", "--key", "k-123", "--model", "m-7",
              "--max-tokens", "77", "--temperature", "0.25", "--stop", "\n\n",
              "--stop", "END")
    req = srv.requests[n0] if len(srv.requests) > n0 else {}
    h = req.get("headers", {})
    try:
        b = json.loads(req.get("body", b"{}"))
    except ValueError:
        b = {}
    check(r.get("rc") == 0 and req.get("path") == "/echo/v1/chat/completions"
          and h.get("Content-Type") == "application/json" and
          h.get("Accept") == "text/event-stream" and
          h.get("Authorization") == "Bearer k-123" and "Expect" not in h,
          "the request: POST {base}/chat/completions, JSON, event-stream, "
          "bearer key", str(h)[:400])
    check(b.get("model") == "m-7" and b.get("stream") is True and
          b.get("max_tokens") == 77 and b.get("temperature") == 0.25 and
          b.get("stop") == ["\n\n", "END"] and
          b.get("stream_options") == {"include_usage": True} and
          b.get("messages") == [
              {"role": "system", "content": "Reply with one short sentence."},
              {"role": "user", "content": "What is the capital of France?"}],
          "the request body: model, messages, stream, max_tokens, "
          "temperature, stop, stream_options", str(b)[:400])
    n0 = len(srv.requests)
    r = c.run(f"{base}/echo/v1/chat/completions", "--no-system")
    req = srv.requests[n0] if len(srv.requests) > n0 else {}
    try:
        b = json.loads(req.get("body", b"{}"))
    except ValueError:
        b = {}
    check(r.get("rc") == 0 and
          req.get("path") == "/echo/v1/chat/completions" and
          "Authorization" not in req.get("headers", {}) and
          b.get("model") == "default" and
          [m["role"] for m in b.get("messages", [])] == ["user"],
          "a full .../chat/completions url is kept; no key, no system "
          "message: none sent", str(req)[:400])
    n0 = len(srv.requests)
    r = c.run(f"http://user:pw-secret@127.0.0.1:{srv.port}/status/400/v1"
              "?token=qs-secret")
    req = srv.requests[n0] if len(srv.requests) > n0 else {}
    check(r.get("rc") == 14 and "HTTP 400" in r.get("error", "") and
          "secret" not in r.get("error", "") + r.get("log", "") and
          req.get("path") == "/status/400/v1/chat/completions?token=qs-secret",
          "a query string stays at the end of the url; messages show neither "
          "it nor a password in the url", f"{brief(r)} {req.get('path')}")
    r = c.run("ftp://127.0.0.1/v1")
    check(r.get("rc") == 9 and r.get("stage") == "create" and
          "http://" in r.get("error", ""), "a non-HTTP url is refused",
          brief(r))


def timeout_tests(c, srv):
    base = f"http://127.0.0.1:{srv.port}"
    r = c.run(f"{base}/stallheaders/v1", "--read-timeout", "1500")
    check(r.get("rc") == 14 and "timeout" in r.get("error", "") and
          "1500 ms" in r.get("error", "") and r.get("attempts") == 1 and
          1.4 <= r.get("secs", 0) < 4.5,
          "headers, then silence: read timeout after 1.5 s, not retried",
          brief(r))
    r = c.run(f"{base}/stallbefore/v1", "--read-timeout", "1000",
              "--retries", "1", "--backoff", "50")
    check(r.get("rc") == 14 and "timeout" in r.get("error", "") and
          r.get("attempts") == 2 and 1.9 <= r.get("secs", 0) < 7,
          "no byte at all: read timeout, retried", brief(r))
    r = c.run(f"{base}/slow/6/v1", "--read-timeout", "1000")
    check(r.get("rc") == 0 and r.get("n_pieces") == 6 and
          r.get("last_piece_ms", 0) - r.get("first_piece_ms", 0) > 1200,
          "steady pieces over 1.5 s with a 1 s read timeout: no timeout, each "
          "piece passed on as it comes", brief(r))
    r = c.run(f"{base}/slow/2/v1", "--read-timeout", "1000",
              "--piece-delay", "1300")
    check(r.get("rc") == 0 and r.get("n_pieces") == 2,
          "a reader slower than the read timeout is no server silence",
          brief(r))
    r = c.run(f"{base}/slow/20/v1", "--total-timeout", "1500")
    check(r.get("rc") == 14 and "imeout" in r.get("error", "") and
          0 < r.get("n_pieces", 0) < 20 and r.get("secs", 99) < 4.5,
          "the total timeout ends a long stream", brief(r))


def tls_tests(c, tmp):
    cert = os.path.join(tmp, "cert.pem")
    key = os.path.join(tmp, "key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1", "-keyout", key,
                        "-out", cert], capture_output=True, timeout=60)
    check(p.returncode == 0, "a self-signed certificate for 127.0.0.1",
          p.stderr.decode()[-300:])
    if p.returncode != 0:
        return
    srv = StandIn()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    serve_in_thread(srv)
    base = f"https://127.0.0.1:{srv.port}/ok/v1"
    try:
        r = c.run(base)
        check(r.get("rc") == 14 and "certificate" in r.get("error", "") and
              r.get("attempts") == 1 and r.get("n_pieces") == 0,
              "TLS: a self-signed server is refused by default", brief(r))
        r = c.run(base, "--ca", cert)
        check(r.get("rc") == 0 and r["text"] == CANNED,
              "TLS: accepted with its CA file", brief(r))
        r = c.run(base, "--insecure")
        check(r.get("rc") == 0 and r["text"] == CANNED and
              "TLS certificate checks are off" in r.get("log", ""),
              "TLS: accepted with --insecure, with a warning", brief(r))
        r = c.run(f"https://localhost:{srv.port}/ok/v1", "--ca", cert)
        check(r.get("rc") == 14 and r.get("attempts") == 1 and
              "localhost" in r.get("error", ""),
              "TLS: a host name the certificate does not name is refused",
              brief(r))
        r = c.run(base, "--ca", os.path.join(tmp, "missing.pem"))
        check(r.get("rc") == 9 and "missing.pem" in r.get("error", ""),
              "TLS: a CA file that cannot be read is refused", brief(r))
    finally:
        srv.stop.set()
        srv.shutdown()
        srv.server_close()


def oom_tests(c, srv):
    base = f"http://127.0.0.1:{srv.port}/ok/v1"
    seen = []
    n = 0
    for n in range(40):
        r = c.run(base, "--key", "k", "--fail-alloc", str(n))
        seen.append(r.get("rc"))
        if r.get("rc") == 0:
            break
    check(seen and seen[-1] == 0 and 1 in seen and
          all(x in (0, 1) for x in seen) and
          all(r2 == 1 for r2 in seen[:-1]),
          f"each of the {n} allocations failing in turn: out of memory, "
          "nothing else", str(seen))


# ------------------------------------------------ askdocs end to end
# (the 0.5B model answers this one with 1 or 2 threads, in both modes; the
# notice period of test_cli.py it refuses with 1)
Q_EN = "What final dividend per share does the Board recommend?"
Q_KO = "2025년 보통주 1주당 현금배당은 얼마인가?"   # a question of test_cli.py


class Askdocs:
    """The askdocs binary with a clean environment: no proxy, no config
    file, no API key or [generate] override unless a run adds one."""

    def __init__(self, exe):
        self.exe = exe
        self.env = {k: v for k, v in os.environ.items()
                    if k.lower() not in ("http_proxy", "https_proxy",
                                         "all_proxy", "askdocs_api_key",
                                         "askdocs_config") and
                    not k.upper().startswith("ASKDOCS_GENERATE_")}
        self.env["NO_PROXY"] = "*"
        self.reports = []   # sanitizer reports

    def start(self, *args, stdin=None, env=None):
        """Start a run; wait() ends it. Files, not pipes, hold its input
        and output: nothing blocks while it runs beside the tests."""
        files = [tempfile.TemporaryFile() for _ in range(3)]
        if stdin:
            files[0].write(stdin)
            files[0].seek(0)
        p = subprocess.Popen([self.exe, *args], stdin=files[0],
                             stdout=files[1], stderr=files[2],
                             env=dict(self.env, **(env or {})))
        p.files, p.what, p.t0 = files, args[:1], time.monotonic()
        return p

    def wait(self, p, timeout=600):
        """(exit status, stdout, stderr, seconds) of a started run."""
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        secs = time.monotonic() - p.t0
        text = []
        for f in p.files[1:]:
            f.seek(0)
            text.append(f.read().decode("utf-8", "replace"))
        for f in p.files:
            f.close()
        out, err = text
        rep = sanitizer_report(err)
        if rep:
            self.reports.append(f"askdocs {p.what}: {rep} {err[-500:]}")
        return p.returncode, out, err, secs

    def run(self, *args, stdin=None, env=None, timeout=600):
        return self.wait(self.start(*args, stdin=stdin, env=env), timeout)


def jsonl_rows(out):
    rows = []
    for line in out.splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError:
                rows.append({"unparsed": line})
    return rows


def questions(*qs):
    return "".join(json.dumps({"id": i, "question": q}, ensure_ascii=False)
                   + "\n" for i, q in qs).encode("utf-8")


def citation_problems(row, chunks):
    """What is wrong with an answer's citations (empty: nothing): every
    [n] of the answer names a passage given and has its citation entry,
    every citation is marked, carries its passage's text (the chunk as
    stored in the index) and a span inside it; refused = no citation."""
    probs = []
    ans = row.get("answer")
    ev = row.get("evidence") or []
    cits = row.get("citations") or []
    if not isinstance(ans, str):
        return ["no answer"]
    marks = {int(m) for m in re.findall(r"\[(\d+)\]", ans)}
    if any(not 1 <= m <= len(ev) for m in marks):
        probs.append(f"markers {sorted(marks)} with {len(ev)} passages")
    if marks != {c.get("n") for c in cits}:
        probs.append(f"markers {sorted(marks)} but citations "
                     f"{[c.get('n') for c in cits]}")
    for c in cits:
        n = c.get("n")
        if not isinstance(n, int) or not 1 <= n <= len(ev):
            probs.append(f"citation n={n} out of range")
            continue
        if (c.get("chunk_id"), c.get("doc")) != (ev[n - 1].get("chunk_id"),
                                                 ev[n - 1].get("doc")):
            probs.append(f"[{n}] is not passage {n}")
        t = c.get("text") or ""
        stored = chunks.get(c.get("chunk_id"))
        if not stored or stored not in t:
            probs.append(f"[{n}] text is not chunk {c.get('chunk_id')}")
        a, b = c.get("span_char_start", -1), c.get("span_char_end", -1)
        if not (isinstance(a, int) and isinstance(b, int) and
                0 <= a < b <= len(t)):
            probs.append(f"[{n}] span {a}..{b} outside {len(t)} chars")
    if row.get("refused") and cits:
        probs.append("refused, yet cited")
    if row.get("refused") is False and not cits:
        probs.append("answered without a citation")
    return probs


def short(row):
    return json.dumps({k: row.get(k) for k in
                       ("id", "answer", "refused", "mode", "rationales",
                        "error", "citations")},
                      ensure_ascii=False)[:900]


def count_tasks(log_path):
    with open(log_path, errors="replace") as f:
        return f.read().count("launch_slot_")


def askdocs_tests(ad, indexed, data, tmp, proxy, port, log_path):
    """indexed: what `askdocs index --data DATA samples/` gave (it runs
    while the servers load)."""
    conf = os.path.join(tmp, "e2e.conf")
    with open(conf, "w") as f:   # the server's context per slot
        f.write("[generate]\nremote_ctx = 4096\n")
    rc, out, err, secs = indexed
    try:
        s = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        s = {}
    check(rc == 0 and s.get("added") == 6 and s.get("failed") == 0 and
          s.get("chunks", 0) > 20,
          f"askdocs indexes samples/ ({secs:.1f} s)", f"{rc} {s} {err[-800:]}")
    if rc != 0:
        return
    db = sqlite3.connect(os.path.join(data, "askdocs.db"))
    chunks = dict(db.execute("select id, text from chunks"))
    db.close()
    key_env = {"ASKDOCS_API_KEY": KEY}
    direct = f"http://127.0.0.1:{port}/v1"
    via = f"http://127.0.0.1:{proxy.port}/fwd/v1"
    common = ("ask", "--data", data, "--config", conf)

    # 1. jsonl on stdin through the counting proxy
    n0, t0 = len(proxy.requests), count_tasks(log_path)
    rc, out, err, secs = ad.run(*common, "--url", via, "--format", "jsonl",
                                stdin=questions(("en", Q_EN), ("ko", Q_KO)),
                                env=key_env)
    rows = jsonl_rows(out)
    check(rc == 0 and [r.get("id") for r in rows] == ["en", "ko"] and
          all(isinstance(r.get("answer"), str) and r["answer"] and
              "error" not in r for r in rows),
          f"ask --url, jsonl: an answer on each line ({secs:.1f} s)",
          f"{rc} {out[-1500:]} {err[-1500:]}")
    for r in rows:
        print(f"     answer {r.get('id')}: {r.get('answer')!r}")
        probs = citation_problems(r, chunks)
        check(not probs and r.get("mode") == "model",
              f"ask --url, jsonl, {r.get('id')}: mode model, markers in "
              "range, each citation holds its passage, answered = cited",
              f"{probs} {short(r)}")
    en = rows[0] if rows else {}
    check(en.get("refused") is False and "0.12" in en.get("answer", "") and
          any(c.get("doc") == "en/annual-report-2025.md" and
              "GBP 0.12" in c.get("text", "")
              for c in en.get("citations", [])),
          "ask --url: the English answer cites the passage holding it",
          short(en))
    ko = rows[1] if len(rows) > 1 else {}
    check(all(c.get("doc", "").startswith("ko/")
              for c in ko.get("citations", [])),
          "ask --url: the Korean answer cites Korean documents only",
          short(ko))
    reqs = [x for x in proxy.requests[n0:] if x["path"].startswith("/fwd/")]
    bodies = []
    for x in reqs:
        try:
            bodies.append(json.loads(x["body"]))
        except ValueError:
            bodies.append({})
    users = [(b.get("messages") or [{}, {}])[-1].get("content", "")
             for b in bodies]
    check(len(reqs) == 2 and
          all(x["path"] == "/fwd/v1/chat/completions" and
              x["headers"].get("Authorization") == "Bearer " + KEY
              for x in reqs) and
          all(b.get("stream") is True and
              [m.get("role") for m in b.get("messages", [])] ==
              ["system", "user"] for b in bodies) and
          Q_EN in users[0] and Q_KO in users[1] and len(rows) == 2 and
          all(f"[{i}]" in u for u, r in zip(users, rows)
              for i in range(1, len(r.get("evidence", [])) + 1)) and
          all(r.get("evidence") for r in rows),
          "the server got one streamed request per question: system prompt, "
          "then the question with numbered passages, with the key",
          f"{[x['path'] for x in reqs]} {str(bodies)[:1200]}")
    tasks = count_tasks(log_path) - t0
    check(tasks == len(reqs) == 2,
          "llama-server's log shows the 2 requests as tasks", tasks)

    # 2. text mode, the question as an argument, straight to llama-server
    rc, out, err, secs = ad.run(*common, "--url", direct, Q_EN, env=key_env)
    head, _, sources = out.partition("\nSources:\n")
    check(rc == 0 and "0.12" in head and re.search(r"\[\d+\]", head) and
          re.search(r"^\[\d+\] en/annual-report-2025\.md", sources, re.M),
          f"ask --url, text: the streamed answer on stdout, then Sources "
          f"({secs:.1f} s)", f"{rc} {out[-1200:]} {err[-800:]}")

    # 3. thorough mode: a rationale request per passage, then the answer
    n0 = len(proxy.requests)
    rc, out, err, secs = ad.run(*common, "--url", via, "--answer-mode",
                                "thorough", "--format", "jsonl",
                                stdin=questions((1, Q_EN)), env=key_env)
    rows = jsonl_rows(out)
    r = rows[0] if rows else {}
    sent = len(proxy.requests) - n0
    nev = min(len(r.get("evidence", [])), 4)
    nrat = r.get("rationales")
    check(rc == 0 and len(rows) == 1 and r.get("mode") == "thorough" and
          isinstance(nrat, int) and 1 <= nrat <= nev and
          sent == nev + 1 and "error" not in r and
          not citation_problems(r, chunks),
          f"ask --url --answer-mode thorough: {nrat} rationales, {sent} "
          f"requests, cited answer ({secs:.1f} s)",
          f"{rc} sent {sent} {citation_problems(r, chunks)} {short(r)} "
          f"{err[-800:]}")

    # 4. a wrong API key: named 401, the key in no message
    wrong = "sk-wrong-4242424242"
    rc, out, err, secs = ad.run(*common, "--url", direct, Q_EN,
                                env={"ASKDOCS_API_KEY": wrong})
    check(rc != 0 and "401" in err and "API key" in err and
          wrong not in out + err and secs < 20,
          "ask --url, wrong ASKDOCS_API_KEY: exit status nonzero, HTTP 401 "
          "named, the key not shown", f"{rc} {secs:.1f} s {err[-800:]}")
    rc, out, err, secs = ad.run(*common, "--url", direct, "--format", "jsonl",
                                stdin=questions((7, Q_EN)),
                                env={"ASKDOCS_API_KEY": KEY,
                                     "ASKDOCS_GENERATE_API_KEY": wrong})
    rows = jsonl_rows(out)
    r = rows[0] if rows else {}
    check(len(rows) == 1 and r.get("id") == 7 and
          "401" in r.get("error", "") and r.get("refused") is True and
          not r.get("citations") and
          all(k not in out + err for k in (wrong, KEY)),
          "ask --url, jsonl, [generate] api_key wrong (over a right "
          "ASKDOCS_API_KEY): an error line naming 401, no key shown",
          f"{rc} {out[-600:]} {err[-600:]}")

    # 5. the server is down: retries = 1, a short timeout
    down = os.path.join(tmp, "down.conf")
    with open(down, "w") as f:
        f.write("[generate]\nretries = 1\ntimeout_ms = 2000\n")
    closed = free_port()
    rc, out, err, secs = ad.run("ask", "--data", data, "--config", down,
                                "--url", f"http://127.0.0.1:{closed}/v1",
                                Q_EN, env=key_env, timeout=120)
    check(rc != 0 and f"127.0.0.1:{closed}" in err and "onnect" in err and
          "after 2 attempts" in err and secs < 15,
          f"ask --url, server down, retries = 1: a clear error after 2 "
          f"attempts in {secs:.1f} s", f"{rc} {err[-800:]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True)
    ap.add_argument("--server", required=True, help="llama-server binary")
    ap.add_argument("--model", required=True, help="a small chat GGUF")
    ap.add_argument("--askdocs", required=True, help="the askdocs binary")
    ap.add_argument("--gen-model", required=True,
                    help="the chat GGUF of askdocs' end-to-end part")
    ap.add_argument("--samples", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "samples"))
    a = ap.parse_args()
    c = Client(a.client)
    ad = Askdocs(a.askdocs)
    tmp = tempfile.mkdtemp(prefix="askdocs-remote-")
    t_start = time.monotonic()
    port = free_port()
    log = open(os.path.join(tmp, "llama-server.log"), "w")
    llama = subprocess.Popen(
        [a.server, "-m", a.model, "-t", "2", "-c", "2048", "--port", str(port),
         "--host", "127.0.0.1", "--api-key", KEY],
        stdout=log, stderr=subprocess.STDOUT)
    # the end-to-end part's server loads meanwhile; one thread: two on a
    # shared 2-core machine wait for each other and generation collapses
    # (docs/generator.md)
    gport = free_port()
    while gport == port:   # (the first server may not listen yet)
        gport = free_port()
    glog = open(os.path.join(tmp, "llama-server-gen.log"), "w")
    gen = subprocess.Popen(
        [a.server, "-m", a.gen_model, "-t", "1", "-tb", "1", "-c", "4096",
         "--port", str(gport), "--host", "127.0.0.1", "--api-key", KEY],
        stdout=glog, stderr=subprocess.STDOUT)
    # the samples are indexed (embedded with e5) while both servers load
    data = os.path.join(tmp, "index")
    indexing = ad.start("index", "--data", data, "--format", "json",
                        a.samples)
    indexed = (-1, "", "not indexed", 0.0)
    srv = StandIn(upstream=port)
    serve_in_thread(srv)
    gsrv = StandIn(upstream=gport)
    serve_in_thread(gsrv)
    try:
        up = wait_http(f"http://127.0.0.1:{port}/health", 180, llama)
        check(up, "llama-server is up")
        # (loaded before the timed checks begin, idle until the end)
        gen_up = wait_http(f"http://127.0.0.1:{gport}/health", 180, gen)
        indexed = ad.wait(indexing)
        print(f"servers up, samples indexed after "
              f"{time.monotonic() - t_start:.1f} s")
        if up:
            llama_tests(c, f"http://127.0.0.1:{port}/v1", log.name)
            retry_tests(c, srv)
        else:
            log.flush()
            with open(log.name) as f:
                print(f.read()[-2000:])
        stream_tests(c, srv)
        timeout_tests(c, srv)
        tls_tests(c, tmp)
        oom_tests(c, srv)
        t_e2e = time.monotonic()
        check(gen_up, "llama-server with "
              f"{os.path.basename(a.gen_model)} is up")
        if gen_up:
            askdocs_tests(ad, indexed, data, tmp, gsrv, gport, glog.name)
        else:
            glog.flush()
            with open(glog.name) as f:
                print(f.read()[-2000:])
        print(f"askdocs end to end took {time.monotonic() - t_e2e:.1f} s")
    finally:
        if indexing.returncode is None:
            ad.wait(indexing, 0)
        for sv in (srv, gsrv):
            sv.stop.set()
            sv.shutdown()
            sv.server_close()
        for proc in (llama, gen):
            proc.terminate()
        for proc in (llama, gen):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        glog.close()
        shutil.rmtree(tmp, ignore_errors=True)
    check(not c.reports, "every client run exited 0 without a sanitizer "
          "report", "\n".join(c.reports)[:3000])
    check(not ad.reports, "no askdocs run printed a sanitizer report",
          "\n".join(ad.reports)[:3000])
    print(f"remote tests took {time.monotonic() - t_start:.1f} s")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
