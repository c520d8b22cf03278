#!/usr/bin/env python3
"""fault_proxy.py — a forwarding proxy IN FRONT of image-registry.bats' real
docker-registry, which answers chosen requests itself to make the faults a registry
or its blob storage can show: 5xx and 429 (with Retry-After), redirects (as a
registry whose storage hands out blob URLs does), a manifest served with another
media type. Everything else goes to the registry unchanged (the Host header too, so
the registry's upload Locations point back here). 127.0.0.1 only.

usage: fault_proxy.py PORT UPSTREAM(host:port) RULES_FILE LOG

RULES_FILE (read on every request, so a test changes it between commands) is a JSON
list of rules; the first that matches a request (method, and a regular expression
searched in the path) acts on it, at most "times" times (default: always), counted
per rule "id":
    {"id": "a", "method": "GET", "path": "/manifests/", "times": 2,
     "status": 503, "retry_after": "1"}                answer with that status
    {"id": "b", "path": "/blobs/", "redirect": "http://HOST:PORT"}  302 to that base + path
    {"id": "c", "path": "/manifests/", "media_type": "application/x.odd"}
                                                       the registry's manifest, its
                                                       mediaType and Content-Type replaced
    {"id": "d", "path": "/blobs/", "cut": 1000000}     the registry's answer, its whole
                                                       length announced, the connection
                                                       closed after that many bytes
LOG gets one line per request: "METHOD PATH STATUS auth=yes|no TIME" (TIME in seconds,
monotonic), "STATUS" being what the client got."""
import hashlib
import http.client
import http.server
import json
import re
import socket
import sys
import threading
import time

port, upstream, rules_file, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
used = {}
lock = threading.Lock()
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade", "trailer"}


def pick_rule(method, path):
    try:
        with open(rules_file) as f:
            rules = json.load(f)
    except (OSError, ValueError):
        rules = []
    for i, r in enumerate(rules):
        if r.get("method", method) != method or not re.search(r.get("path", ""), path):
            continue
        key = r.get("id", str(i))
        with lock:
            n = used.get(key, 0)
            if "times" in r and n >= r["times"]:
                continue
            used[key] = n + 1
        return r
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def note(self, status):
        auth = "yes" if self.headers.get("Authorization") else "no"
        with lock, open(log, "a") as f:
            f.write(f"{self.command} {self.path} {status} auth={auth} {time.monotonic():.3f}\n")

    def reply(self, status, headers, body, cut=None):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body if cut is None else body[:cut])
        if cut is not None:
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            status = "cut"
        self.note(status)

    def body_in(self):
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            data = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else None

    def forward(self, rule):
        body = self.body_in()
        host, _, p = upstream.partition(":")
        c = http.client.HTTPConnection(host, int(p), timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        c.request(self.command, self.path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        out = [(k, v) for k, v in r.getheaders() if k.lower() not in HOP and k.lower() != "content-length"]
        if rule and "media_type" in rule and r.status == 200:
            doc = json.loads(data)
            doc["mediaType"] = rule["media_type"]
            data = json.dumps(doc).encode()
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            out = [(k, v) for k, v in out if k.lower() not in ("content-type", "docker-content-digest")]
            out += [("Content-Type", rule["media_type"]), ("Docker-Content-Digest", digest)]
        c.close()
        cut = rule.get("cut") if rule and r.status == 200 else None
        self.reply(r.status, out, data, cut)

    def handle_any(self):
        rule = pick_rule(self.command, self.path)
        if rule and "status" in rule:
            self.body_in()
            hdrs = [("Content-Type", "application/json")]
            if "retry_after" in rule:
                hdrs.append(("Retry-After", str(rule["retry_after"])))
            msg = json.dumps({"errors": [{"code": "UNAVAILABLE", "message": rule.get("message", "injected")}]})
            self.reply(rule["status"], hdrs, msg.encode())
        elif rule and "redirect" in rule:
            self.body_in()
            self.reply(302, [("Location", rule["redirect"] + self.path)], b"")
        else:
            self.forward(rule)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
