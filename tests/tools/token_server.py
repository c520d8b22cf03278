#!/usr/bin/env python3
"""token_server.py — the token endpoint of image-registry.bats' registry (auth: token):
answers GET /token?service=…&scope=… with {"token": TOKEN} when the request carries
the basic credentials USER:PASSWORD, 401 otherwise; logs each request's query and
whether the credentials were right. 127.0.0.1 only.

usage: token_server.py PORT TOKEN_FILE USER PASSWORD LOG"""
import base64
import http.server
import json
import sys
import urllib.parse

port, token_file, user, password, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        ok = url.path == "/token" and self.headers.get("Authorization") == want
        with open(log, "a") as f:
            f.write(f"{url.query} credentials={'ok' if ok else 'bad'}\n")
        if not ok:
            body = b'{"errors":[{"code":"UNAUTHORIZED","message":"incorrect username or password"}]}'
            self.send_response(401)
        else:
            with open(token_file) as f:
                body = json.dumps({"token": f.read().strip(), "expires_in": 3600}).encode()
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
