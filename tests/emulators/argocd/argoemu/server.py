"""HTTP front end and command line of the Argo CD emulator.

Contract: emucommon.http_front's (loopback IPv4 only, else exit 2; HTTP/1.1 keep-alive;
every method to `Emulator.dispatch` under one lock; --port-file; "argocd-emulator listening
on HOST:PORT"; SIGTERM/SIGINT exit 0), with: default port 8080; bodies up to 1 MiB (read
on every method, used only by the control API); the accepted token from --token-file
(first line) or --token, by default a fixed test token; --seed for reproducible hashes.
"""

import time

from emucommon import http_front

from .control import Emulator

MAX_BODY = 1024 * 1024
DEFAULT_TOKEN = "argocd-emulator-token"


class Handler(http_front.Handler):
    server_version = "argocd-emulator"
    max_body = MAX_BODY


def make_server(host, port, token, seed=None, clock=time.time):
    server = http_front.make_server(Handler, host, port)
    server.emulator = Emulator(token, clock, seed)
    return server


def _options(p):
    p.add_argument("--token", default=DEFAULT_TOKEN)
    p.add_argument("--token-file")
    p.add_argument("--seed", type=int, help="seed of hashes and revisions (reproducible runs)")


def _build(args):
    return make_server(args.host, args.port, http_front.token_from(args), args.seed)


def main(argv=None):
    return http_front.main(argv, "argocd-emulator", "Argo CD API emulator (read side)", 8080,
                           _options, _build)
