"""HTTP front end and command line of the AWS emulator.

Contract:
- Listens on a loopback IPv4 address only (anything else exits with status 2);
  HTTP/1.1 with keep-alive; every method is handed to `Emulator.dispatch` under one
  lock. Header names and values are passed as received (repeated headers kept), the
  path undecoded, the query raw.
- After the socket listens the port is written atomically to --port-file and
  "awssm-emulator listening on HOST:PORT" is printed; SIGTERM/SIGINT exit 0.
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

MAX_BODY = 16 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "awssm-emulator"
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
        headers = list(self.headers.items())
        with self.server.lock:
            delay = self.server.emulator.take_delay(headers)
        if delay:  # a held request: others (a concurrent writer) go on meanwhile
            time.sleep(delay)
        with self.server.lock:
            status, out_headers, out = self.server.emulator.dispatch(
                self.command, path, query, headers, body)
        self.send_response(status)
        for k, v in out_headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)


def main(argv=None):
    p = argparse.ArgumentParser(description="AWS Secrets Manager / KMS / STS / IMDSv2 emulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4566)
    p.add_argument("--port-file")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--account", default="123456789012")
    p.add_argument("--access-key", default="AKIDEXAMPLE")
    p.add_argument("--secret-key", default="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    p.add_argument("--sts-duration", type=int, default=3600,
                   help="lifetime in seconds of STS/IMDS credentials")
    args = p.parse_args(argv)
    try:
        if not ipaddress.IPv4Address(args.host).is_loopback:
            raise ValueError
    except ValueError:
        print("--host must be a loopback IPv4 address", file=sys.stderr)
        return 2
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.lock = threading.Lock()
    server.emulator = Emulator(args.region, args.account, args.access_key, args.secret_key,
                               args.sts_duration, time.time)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print("awssm-emulator listening on %s:%d" % (args.host, port), flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    return 0
