"""HTTP front ends and command line of the Azure Key Vault emulator (the handler, body limit,
reply writer, host check and port files are emucommon.http_front's).

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
import shutil
import signal
import ssl
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer

from emucommon import http_front

from .control import Emulator
from .tlsca import make_tls_material

MAX_BODY = 1024 * 1024


class Handler(http_front.Handler):
    server_version = "azurekv-emulator"
    max_body = MAX_BODY

    def answer(self, path, query, headers, body):
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
        self.send_reply(status, out_headers, out, delay_ms, truncate)


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
    if not http_front.check_host(args.host):
        return 2
    own_dir = args.cert_dir is None
    cert_dir = args.cert_dir or tempfile.mkdtemp(prefix="kvemu-tls-")
    try:
        emu, tls, plain = start(args.host, args.tls_port, args.port, args.tenant, cert_dir,
                                args.token_lifetime)
        if args.tls_port_file:
            http_front.write_port_file(args.tls_port_file, emu.info["tls_port"])
        if args.port_file:
            http_front.write_port_file(args.port_file, emu.info["http_port"])
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
