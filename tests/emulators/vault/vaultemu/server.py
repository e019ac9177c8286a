"""HTTP front end and command line of the Vault emulator (the handler basics, the
loopback test, the port file and the signal handling are emucommon.http_front's).

Contract:
- Listens on a loopback IPv4 address only; HTTP/1.1 with keep-alive; any method token
  is accepted and handed to the Vault pipeline (unknown ones get Vault's 405).
- Every /v1/ request is recorded, then checked against the fault list, then served by
  `router.handle_v1` under the state lock. /_emulator/ goes to the control API.
- After the socket listens the chosen port is written atomically to --port-file and
  "vault-emulator listening on HOST:PORT" is printed; SIGTERM/SIGINT stop it cleanly.
"""

import argparse
import http.client
import json
import os
import socket
import sys
import time
import traceback
from email.utils import formatdate
from http.server import ThreadingHTTPServer
from urllib.parse import unquote

from emucommon import http_front

from .control import Emulator
from .router import MAX_REQUEST_SIZE, Options, handle_v1
from .state import State
from .util import error_resp, go_json, json_resp

CONTROL_MAX_BODY = 512 * 1024 * 1024
_DEFAULT_FAULT_ERRORS = {500: ["internal error"], 502: ["upstream rate limited"],
                         503: ["Vault is sealed"]}


def fault_response(fault, url_path):
    status = fault["status"]
    headers = {str(k): str(v) for k, v in fault["headers"].items()}
    if fault["retry_after"] is not None:
        headers["Retry-After"] = str(fault["retry_after"])
    if fault["body"] is not None:
        return json_resp(status, go_json(fault["body"]), headers)
    if status == 429:
        messages = ['request path "%s": rate limit quota exceeded' % url_path[len("/v1/"):]]
    else:
        messages = _DEFAULT_FAULT_ERRORS.get(status, [])
    return error_resp(status, messages, headers)


class Handler(http_front.Handler):
    """Every method reaches `_serve` (http_front), so LIST works and unknown verbs get Vault's
    405; bodies (chunked too), limits and the raw response writer are Vault's own."""
    disable_nagle_algorithm = True
    server_version = "vault-emulator"

    # -- request side --------------------------------------------------------------------------
    def _read_body(self, limit):
        """Returns the body bytes, or None after answering an unreadable/oversized body."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > limit:
                    return self._too_large()
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        try:
            length = int(self.headers.get("Content-Length", "0") or "0")
        except ValueError:
            self.close_connection = True
            self._send(error_resp(400, ["invalid Content-Length"]), close=True)
            return None
        if length > limit:
            return self._too_large(length)
        return self.rfile.read(length) if length > 0 else b""

    def _too_large(self, length=0):
        """Answer 413 like Vault's MaxBytesReader; drain a sane body so the client reads it."""
        remaining = length if length <= 4 * MAX_REQUEST_SIZE else 0
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        self._send(error_resp(413, ["error parsing JSON"]), close=True)
        return None

    def _serve(self):
        method = self.command
        raw_path, _, query = self.path.partition("?")
        url_path = unquote(raw_path)
        emulator = self.server.emulator
        control = url_path.startswith("/_emulator/")
        body = self._read_body(CONTROL_MAX_BODY if control else MAX_REQUEST_SIZE)
        if body is None:
            return
        if control:
            try:
                resp = emulator.handle(method, url_path, self.headers, body)
            except Exception as exc:
                traceback.print_exc()
                resp = error_resp(500, ["vault-emulator internal error: %r" % exc])
            self._send(resp)
            return
        entry = emulator.record(method, url_path, query, self.headers, body)
        fault = emulator.take_fault(method, url_path)
        resp = None
        if fault is not None:
            if fault["delay_ms"]:
                time.sleep(fault["delay_ms"] / 1000.0)
            if fault["drop"]:
                entry["status"] = "dropped"
                self._drop()
                return
            if fault["status"]:
                resp = fault_response(fault, url_path)
        if resp is None:
            state = self.server.state
            try:
                with state.lock:
                    resp = handle_v1(state, self.server.options, method, url_path, query,
                                     self.headers, body)
            except Exception as exc:  # an emulator bug: say so loudly instead of hanging up
                traceback.print_exc()
                resp = error_resp(500, ["vault-emulator internal error: %r" % exc])
        entry["status"] = resp.status
        self._send(resp, truncate=bool(fault and fault["truncate"]))

    # -- response side -------------------------------------------------------------------------
    def _send(self, resp, truncate=False, close=False):
        body = resp.body or b""
        reason = http.client.responses.get(resp.status, "Status")
        head = ["HTTP/1.1 %d %s" % (resp.status, reason), "Date: " + formatdate(usegmt=True),
                "Cache-Control: no-store"]
        head += ["%s: %s" % item for item in resp.headers.items()]
        if resp.status != 204:
            declared = len(body) + 32 if truncate else len(body)
            head.append("Content-Length: %d" % declared)
        if truncate or close:
            head.append("Connection: close")
            self.close_connection = True
        payload = body[: len(body) // 2] if truncate else body
        if self.command == "HEAD":
            payload = b""
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        self.wfile.flush()
        if truncate:
            self._drop(already_answered=True)

    def _drop(self, already_answered=False):
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Strict local emulator of the HashiCorp Vault HTTP API")
    parser.add_argument("--port", type=int, default=8200, help="TCP port; 0 picks a free one")
    parser.add_argument("--port-file", help="write the bound port here (atomically)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback IPv4 address to bind")
    parser.add_argument("--root-token", default="root", help="non-expiring root token")
    parser.add_argument("--require-request-header", action="store_true",
                        help="answer 412 unless X-Vault-Request: true is sent (Vault Agent/Proxy)")
    parser.add_argument("--multierror-403", "--multierror", dest="multierror", action="store_true",
                        help="format bare errors as Vault 1.x multierror text")
    parser.add_argument("--seed", help="JSON file preloaded at start and on reset")
    args = parser.parse_args(argv)
    host = "127.0.0.1" if args.host == "localhost" else args.host
    if not http_front.is_loopback_ipv4(host):
        parser.error("--host must be a loopback IPv4 address (127.0.0.0/8), got %r" % args.host)
    args.host = host
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    seed = None
    if args.seed:
        try:
            with open(args.seed, encoding="utf-8") as handle:
                seed = json.load(handle)
            state = State(args.root_token, seed)
        except (OSError, ValueError) as exc:
            print("vault-emulator: cannot load seed %s: %s" % (args.seed, exc), file=sys.stderr)
            return 2
        except Exception as exc:  # ApiError from a bad seed entry
            print("vault-emulator: bad seed %s: %s" % (args.seed, getattr(exc, "messages", exc)),
                  file=sys.stderr)
            return 2
    else:
        state = State(args.root_token)
    server = EmulatorServer((args.host, args.port), Handler)
    server.state = state
    server.options = Options(args.require_request_header, args.multierror)
    server.emulator = Emulator(state)
    port = server.server_address[1]
    if args.port_file:
        http_front.write_port_file(args.port_file, port,
                                   tmp="%s.tmp.%d" % (args.port_file, os.getpid()))
    print("vault-emulator listening on %s:%d" % (args.host, port), flush=True)
    try:
        return http_front.serve_until_signal(server, poll_interval=0.2)
    finally:
        server.server_close()
