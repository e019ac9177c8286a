"""HTTP front end and command line of the GCP Secret Manager emulator.

Contract:
- Listens on a loopback IPv4 address only (anything else exits with status 2);
  HTTP/1.1 with keep-alive; every method is handed to `Emulator.dispatch` under one
  lock. Header names and values are passed as received (repeated headers kept), the
  path undecoded, the query raw. An injected delay is slept outside the lock; an injected
  truncation sends half the body under the full Content-Length and closes.
- After the socket listens the port is written atomically to --port-file and
  "gcpsm-emulator listening on HOST:PORT" is printed; SIGTERM/SIGINT exit 0.
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
    server_version = "gcpsm-emulator"
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
            status, out_headers, out, extra = self.server.emulator.dispatch(
                self.command, path, query, headers, body, self.headers.get("Host", ""))
        if extra.get("delay_ms"):
            time.sleep(extra["delay_ms"] / 1000.0)
        self.send_response(status)
        for k, v in out_headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if extra.get("truncate"):
            self.wfile.write(out[:len(out) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if self.command != "HEAD":
            self.wfile.write(out)


def main(argv=None):
    p = argparse.ArgumentParser(description="GCP Secret Manager / OAuth2 / metadata emulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8085)
    p.add_argument("--port-file")
    p.add_argument("--project", default="test-project")
    p.add_argument("--project-number", default="123456789012")
    p.add_argument("--names", choices=("number", "id"), default="number",
                   help="resource names in answers use the project number (as GCP) or id")
    p.add_argument("--token-lifetime", type=int, default=3599,
                   help="expires_in of issued access tokens, in seconds")
    p.add_argument("--metadata-email",
                   default="default-sa@test-project.iam.gserviceaccount.com")
    p.add_argument("--service-account", nargs=3, action="append", default=[],
                   metavar=("EMAIL", "KEY_ID", "PUBLIC_PEM_FILE"),
                   help="register a service account's public key (repeatable)")
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
    server.emulator = Emulator(args.project, args.project_number, args.names == "number",
                               args.token_lifetime, args.metadata_email, time.time)
    for email, key_id, pem_file in args.service_account:
        with open(pem_file) as f:
            server.emulator.auth.register(email, f.read(), key_id)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print("gcpsm-emulator listening on %s:%d" % (args.host, port), flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    return 0
