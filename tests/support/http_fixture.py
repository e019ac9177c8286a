#!/usr/bin/env python3
"""A tiny HTTP server for the host HTTP client's tests (stdlib only).

  python3 http_fixture.py PORT_FILE

Routes:
  GET  /status/<code>?retry_after=<v>   answers <code> (with Retry-After: v)
  GET  /flaky/<key>?fail=<n>            503 the first n times per key, then 200 "ok"
  GET  /big/<bytes>                     a body of that many bytes
  GET  /slow/<ms>                       answers after ms milliseconds
  GET  /redirect                        302 to /status/200
  ANY  /echo                            JSON of method, headers and body length
  GET  /concurrent/<ms>?id=<s>          answers "<s>" after ms milliseconds, counting
                                        the requests in flight at once
  GET  /concurrency                     the most requests seen in flight at once since
                                        the last call (then resets it)
"""
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

counts = {}
lock = threading.Lock()
in_flight = 0
max_in_flight = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if parts[0] == "status":
            h = {"Retry-After": q["retry_after"][0]} if "retry_after" in q else {}
            return self.send(int(parts[1]), b"status", h)
        if parts[0] == "flaky":
            with lock:
                counts[parts[1]] = counts.get(parts[1], 0) + 1
                n = counts[parts[1]]
            if n <= int(q.get("fail", ["1"])[0]):
                return self.send(503, b"unavailable", {"Retry-After": "0"})
            return self.send(200, b"ok")
        if parts[0] == "big":
            return self.send(200, b"x" * int(parts[1]))
        if parts[0] == "slow":
            time.sleep(int(parts[1]) / 1000)
            return self.send(200, b"slow")
        if parts[0] == "concurrent":
            global in_flight, max_in_flight
            with lock:
                in_flight += 1
                max_in_flight = max(max_in_flight, in_flight)
            time.sleep(int(parts[1]) / 1000)
            with lock:
                in_flight -= 1
            return self.send(200, q.get("id", [""])[0].encode())
        if parts[0] == "concurrency":
            with lock:
                seen, max_in_flight = max_in_flight, 0
            return self.send(200, str(seen).encode())
        if parts[0] == "redirect":
            return self.send(302, b"", {"Location": "/status/200"})
        if parts[0] == "echo":
            doc = {"method": self.command, "headers": dict(self.headers), "body_length": len(body)}
            return self.send(200, json.dumps(doc).encode())
        return self.send(404, b"no route")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

    def do_LIST(self):
        self.handle_any()


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
