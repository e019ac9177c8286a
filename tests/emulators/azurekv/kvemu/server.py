"""HTTP front ends and command line of the Azure Key Vault emulator.

Contract:
- Two listeners on one loopback IPv4 address, sharing one `Emulator` under one lock:
  an **https** port (TLS >= 1.2, certificate from a CA generated at start-up, see
  tlsca.py) serving Key Vault and Entra ID, and a plain-http port serving IMDS and the
  control API. A client speaking plain http to the https port fails the handshake and is
  disconnected; the TLS handshake runs in the connection's own thread, so a silent
  client never blocks the others.
- The plain port is written atomically to --port-file, the https port to
  --tls-port-file (optional); the CA, server certificate and key go to --cert-dir (a
  fresh temporary directory, removed at exit, when not given). `GET /_emulator/info`
  gives the https port, the vault URL, the CA file and the tenant.
  "azurekv-emulator listening on https://HOST:TLS and http://HOST:PLAIN" is printed;
  SIGTERM/SIGINT exit 0.
"""

import argparse
import ipaddress
import os
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .control import Emulator
from .tlsca import make_tls_material

MAX_BODY = 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "azurekv-emulator"
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
        emu = self.server.emulator
        with self.server.lock:
            if self.server.tls:
                host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
                status, out_headers, out = emu.dispatch_tls(self.command, path, query, headers,
                                                             body, "https://" + host)
            else:
                status, out_headers, out = emu.dispatch_plain(self.command, path, query, headers,
                                                              body)
        delay_ms = out_headers.pop("_delay_ms", 0)
        truncate = out_headers.pop("_truncate", False)
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        self.send_response(status)
        for k, v in out_headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out[:len(out) // 2] if truncate else out)
        if truncate:
            self.close_connection = True


class TlsServer(ThreadingHTTPServer):
    """Handshakes in the per-connection thread (finish_request), never in accept()."""
    daemon_threads = True
    tls = True

    def finish_request(self, request, client_address):
        request.settimeout(10)
        try:
            conn = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # plain http or a broken client: disconnect
        try:
            super().finish_request(conn, client_address)
        finally:
            try:
                conn.close()
            except OSError:
                pass


class PlainServer(ThreadingHTTPServer):
    daemon_threads = True
    tls = False


def tls_context(paths):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(paths["server.pem"], paths["server-key.pem"])
    return ctx


def start(host, tls_port, plain_port, tenant, cert_dir, token_lifetime, clock=time.time):
    """Starts both listeners in daemon threads; returns (emulator, tls_server, plain_server)."""
    paths = make_tls_material(cert_dir)
    emu = Emulator(tenant, clock, token_lifetime)
    lock = threading.Lock()
    tls = TlsServer((host, tls_port), Handler)
    tls.context = tls_context(paths)
    plain = PlainServer((host, plain_port), Handler)
    for srv in (tls, plain):
        srv.lock, srv.emulator = lock, emu
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    emu.info = {"tls_port": tls.server_address[1], "http_port": plain.server_address[1],
                "vault_url": "https://%s:%d" % (host, tls.server_address[1]),
                "authority_host": "https://%s:%d" % (host, tls.server_address[1]),
                "imds_endpoint": "http://%s:%d" % (host, plain.server_address[1]),
                "ca_file": paths["ca.pem"], "tenant": tenant}
    return emu, tls, plain


def _write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description="Azure Key Vault / Entra ID / IMDS emulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="plain-http port (IMDS, control API)")
    p.add_argument("--tls-port", type=int, default=0, help="https port (Key Vault, Entra ID)")
    p.add_argument("--port-file")
    p.add_argument("--tls-port-file")
    p.add_argument("--cert-dir")
    p.add_argument("--tenant", default="72f988bf-86f1-41af-91ab-2d7cd011db47")
    p.add_argument("--token-lifetime", type=int, default=3599)
    args = p.parse_args(argv)
    try:
        if not ipaddress.IPv4Address(args.host).is_loopback:
            raise ValueError
    except ValueError:
        print("--host must be a loopback IPv4 address", file=sys.stderr)
        return 2
    own_dir = args.cert_dir is None
    cert_dir = args.cert_dir or tempfile.mkdtemp(prefix="kvemu-tls-")
    try:
        emu, tls, plain = start(args.host, args.tls_port, args.port, args.tenant, cert_dir,
                                args.token_lifetime)
        if args.tls_port_file:
            _write_atomic(args.tls_port_file, "%d\n" % emu.info["tls_port"])
        if args.port_file:
            _write_atomic(args.port_file, "%d\n" % emu.info["http_port"])
        print("azurekv-emulator listening on %s and http://%s:%d (CA %s)"
              % (emu.info["vault_url"], args.host, emu.info["http_port"], emu.info["ca_file"]),
              flush=True)
        done = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: done.set())
        signal.signal(signal.SIGINT, lambda *_: done.set())
        done.wait()
        tls.shutdown()
        plain.shutdown()
        return 0
    finally:
        if own_dir:
            shutil.rmtree(cert_dir, ignore_errors=True)
