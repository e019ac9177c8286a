"""HTTP front end and command line of the AWS emulator.

Contract: emucommon.http_front's (loopback IPv4 only, else exit 2; HTTP/1.1 keep-alive;
headers as received, path undecoded, query raw, to `Emulator.dispatch` under one lock;
--port-file; "awssm-emulator listening on HOST:PORT"; SIGTERM/SIGINT exit 0), with:
default port 4566; bodies up to 16 MiB; a `delay_ms` fault (`Emulator.take_delay`, asked
under the lock) holds the request before dispatch, outside the lock; --region, --account,
--access-key, --secret-key, --sts-duration.
"""

import time

from emucommon import http_front

from .control import Emulator

MAX_BODY = 16 * 1024 * 1024


class Handler(http_front.Handler):
    server_version = "awssm-emulator"
    max_body = MAX_BODY

    def answer(self, path, query, headers, body):
        with self.server.lock:
            delay = self.server.emulator.take_delay(headers)
        if delay:  # a held request: others (a concurrent writer) go on meanwhile
            time.sleep(delay)
        super().answer(path, query, headers, body)


def _options(p):
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--account", default="123456789012")
    p.add_argument("--access-key", default="AKIDEXAMPLE")
    p.add_argument("--secret-key", default="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    p.add_argument("--sts-duration", type=int, default=3600,
                   help="lifetime in seconds of STS/IMDS credentials")


def _build(args):
    server = http_front.make_server(Handler, args.host, args.port)
    server.emulator = Emulator(args.region, args.account, args.access_key, args.secret_key,
                               args.sts_duration, time.time)
    return server


def main(argv=None):
    return http_front.main(argv, "awssm-emulator",
                           "AWS Secrets Manager / KMS / STS / IMDSv2 emulator", 4566,
                           _options, _build)
