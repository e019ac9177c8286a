"""HTTP front end and command line of the Argo CD emulator.

Contract:
- Listens on a loopback IPv4 address only (anything else exits with status 2);
  HTTP/1.1 with keep-alive; every method is handed to `Emulator.dispatch` under one
  lock; only the control API reads a request body.
- The accepted token comes from --token-file (first line) or --token; the default is
  a fixed test token. After the socket listens the port is written atomically to
  --port-file and "argocd-emulator listening on HOST:PORT" is printed; SIGTERM and
  SIGINT exit 0.
"""

import argparse
import ipaddress
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .control import Emulator

MAX_BODY = 1024 * 1024
DEFAULT_TOKEN = "argocd-emulator-token"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "argocd-emulator"
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
            status, out_headers, out = self.server.emulator.dispatch(
                self.command, path, query, list(self.headers.items()), body)
        self.send_response(status)
        for k, v in out_headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)


def make_server(host, port, token, seed=None, clock=time.time):
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.lock = threading.Lock()
    server.emulator = Emulator(token, clock, seed)
    return server


def main(argv=None):
    p = argparse.ArgumentParser(description="Argo CD API emulator (read side)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--port-file")
    p.add_argument("--token", default=DEFAULT_TOKEN)
    p.add_argument("--token-file")
    p.add_argument("--seed", type=int, help="seed of hashes and revisions (reproducible runs)")
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
    server = make_server(args.host, args.port, token, args.seed)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print("argocd-emulator listening on %s:%d" % (args.host, port), flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    return 0
