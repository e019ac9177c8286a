"""HTTP front end and command line of the GCP Secret Manager emulator.

Contract: emucommon.http_front's (loopback IPv4 only, else exit 2; HTTP/1.1 keep-alive;
headers as received, path undecoded, query raw, to `Emulator.dispatch` under one lock;
--port-file; "gcpsm-emulator listening on HOST:PORT"; SIGTERM/SIGINT exit 0), with:
default port 8085; bodies up to 16 MiB; dispatch also gets the Host header and answers an
`extra` dict: `delay_ms` is slept outside the lock, `truncate` sends half the body under
the full Content-Length and closes (for HEAD too); --project, --project-number, --names,
--token-lifetime, --metadata-email, --service-account (repeatable).
"""

import time

from emucommon import http_front

from .control import Emulator

MAX_BODY = 16 * 1024 * 1024


class Handler(http_front.Handler):
    server_version = "gcpsm-emulator"
    max_body = MAX_BODY
    truncate_on_head = True  # a truncated answer to HEAD sends half the body too

    def answer(self, path, query, headers, body):
        with self.server.lock:
            status, out_headers, out, extra = self.server.emulator.dispatch(
                self.command, path, query, headers, body, self.headers.get("Host", ""))
        self.send_reply(status, out_headers, out, extra.get("delay_ms"), extra.get("truncate"))


def _options(p):
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


def _build(args):
    server = http_front.make_server(Handler, args.host, args.port)
    server.emulator = Emulator(args.project, args.project_number, args.names == "number",
                               args.token_lifetime, args.metadata_email, time.time)
    for email, key_id, pem_file in args.service_account:
        with open(pem_file) as f:
            server.emulator.auth.register(email, f.read(), key_id)
    return server


def main(argv=None):
    return http_front.main(argv, "gcpsm-emulator",
                           "GCP Secret Manager / OAuth2 / metadata emulator", 8085,
                           _options, _build)
