"""The HTTP front end and command line shared by the emulators.

Contract:
- `Handler`: HTTP/1.1 with keep-alive, Server header `server_version` alone (no Python
  version), no request logging; every method token (LIST, unknown verbs too) is served by
  `_serve`. `_serve` reads the body (`read_body`: Content-Length up to `max_body`, else
  http.server's 413 and close; a bad Content-Length raises as before), splits path and raw
  query at the first "?", and calls `answer(path, query, headers, body)` with the headers as
  received (a list of (name, value), repeats kept). The default `answer` calls
  `server.emulator.dispatch(method, path, query, headers, body)` under `server.lock` and
  sends its (status, headers, body) with `send_reply`. Emulators override `answer` (extra
  dispatch arguments, delays, truncation) or `_serve` itself.
- `send_reply`: optional delay (outside the lock), status, the emulator's headers,
  Content-Length of the full body, then the body; none for HEAD. A truncated reply sends
  half the body under the full Content-Length and closes the connection (and, only when
  `truncate_on_head` is set, does so for HEAD as well).
- `make_server`: a ThreadingHTTPServer with daemon threads and a `lock`; the caller sets
  `server.emulator` (after the socket is bound, as before).
- `main`: --host (127.0.0.1), --port (the emulator's default), --port-file, then the
  emulator's own options; a --host that is not a loopback IPv4 address prints "--host must
  be a loopback IPv4 address" on stderr and returns 2; otherwise `build(args)` makes the
  server, `listen_and_serve` writes the bound port ("%d\\n") atomically (.tmp + rename) to
  --port-file, prints "<name> listening on HOST:PORT", serves until SIGTERM/SIGINT (shutdown
  on a thread) and returns 0.
- Pieces for emulators with a command line of their own (azurekv, vault, oidc):
  `is_loopback_ipv4`, `check_host`, `write_port_file` (the .tmp name may be given),
  `serve_until_signal` (poll interval may be given), `listen_and_serve`; `token_from`
  reads --token / --token-file (first line).
"""

import argparse
import ipaddress
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST_ERROR = "--host must be a loopback IPv4 address"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "emulator"  # each emulator sets its own
    sys_version = ""
    max_body = 1024 * 1024
    truncate_on_head = False

    def log_message(self, *args):  # keep test output quiet
        pass

    def __getattr__(self, name):
        # http.server looks up do_<METHOD>; serve every method here (LIST, unknown verbs)
        # so the emulator answers them instead of http.server's 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _serve(self):
        body = self.read_body()
        if body is None:
            return
        path, _, query = self.path.partition("?")
        self.answer(path, query, list(self.headers.items()), body)

    def read_body(self):
        """The request body, or None after answering 413 to one longer than max_body."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.max_body:
            self.send_error(413)
            return None
        return self.rfile.read(length) if length else b""

    def answer(self, path, query, headers, body):
        with self.server.lock:
            status, out_headers, out = self.server.emulator.dispatch(
                self.command, path, query, headers, body)
        self.send_reply(status, out_headers, out)

    def send_reply(self, status, headers, out, delay_ms=0, truncate=False):
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if truncate:
            if self.command != "HEAD" or self.truncate_on_head:
                self.wfile.write(out[:len(out) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif self.command != "HEAD":
            self.wfile.write(out)


def make_server(handler, host, port):
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.lock = threading.Lock()
    return server


def is_loopback_ipv4(host):
    try:
        return ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        return False


def check_host(host):
    """True for a loopback IPv4 address; otherwise prints HOST_ERROR on stderr."""
    if is_loopback_ipv4(host):
        return True
    print(HOST_ERROR, file=sys.stderr)
    return False


def token_from(args):
    """args.token, or the first line (stripped) of args.token_file when that is given."""
    if args.token_file:
        with open(args.token_file) as f:
            return f.readline().strip()
    return args.token


def write_port_file(path, port, tmp=None):
    """Writes "PORT\\n" to path atomically (through tmp, path + ".tmp" by default)."""
    tmp = tmp or path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


def serve_until_signal(server, poll_interval=0.5):
    """serve_forever until SIGTERM or SIGINT (shutdown runs on a thread); returns 0."""
    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever(poll_interval)
    return 0


def listen_and_serve(server, port_file, banner):
    """Writes the bound port to port_file (if any), prints banner, serves; returns 0."""
    if port_file:
        write_port_file(port_file, server.server_address[1])
    print(banner, flush=True)
    return serve_until_signal(server)


def main(argv, name, description, default_port, add_options, build):
    """The command line of a one-port emulator: see the module contract."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=default_port)
    p.add_argument("--port-file")
    add_options(p)
    args = p.parse_args(argv)
    if not check_host(args.host):
        return 2
    server = build(args)
    return listen_and_serve(server, args.port_file, "%s listening on %s:%d"
                            % (name, args.host, server.server_address[1]))
