"""HTTP front end and command line of the Slack emulator.

Contract:
- Listens on a loopback IPv4 address only (anything else exits with status 2); HTTP/1.1
  with keep-alive; every request is handed to `Emulator.dispatch` under one lock.
- Options: --token (the accepted bot token, or --token-file, first line), --hook
  (T…/B…/secret, the incoming webhook path), --port, --port-file (written atomically
  once the socket listens). Prints "slack-emulator listening on HOST:PORT"; SIGTERM and
  SIGINT exit 0.
"""

import argparse
import ipaddress
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .control import DEFAULT_HOOK, DEFAULT_TOKEN, Emulator

MAX_BODY = 2 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "slack-emulator"
    sys_version = ""

    def log_message(self, *args):
        pass

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        with self.server.lock:
            status, headers, out = self.server.emulator.dispatch(
                self.command, path, query, list(self.headers.items()), body)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)


def make_server(host, port, token=DEFAULT_TOKEN, hook=DEFAULT_HOOK):
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.lock = threading.Lock()
    server.emulator = Emulator(token, hook)
    return server


def main(argv=None):
    p = argparse.ArgumentParser(description="Slack emulator (incoming webhooks and Web API)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--port-file")
    p.add_argument("--token", default=DEFAULT_TOKEN)
    p.add_argument("--token-file")
    p.add_argument("--hook", default=DEFAULT_HOOK, help="incoming webhook path T…/B…/secret")
    args = p.parse_args(argv)
    try:
        if not ipaddress.IPv4Address(args.host).is_loopback:
            raise ValueError
    except ValueError:
        print("--host must be a loopback IPv4 address", file=sys.stderr)
        return 2
    token = args.token
    if args.token_file:
        with open(args.token_file) as f:
            token = f.readline().strip()
    server = make_server(args.host, args.port, token, args.hook)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print("slack-emulator listening on %s:%d" % (args.host, port), flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    return 0
