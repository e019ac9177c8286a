"""HTTP front end and command line of the Slack emulator.

Contract: emucommon.http_front's (loopback IPv4 only, else exit 2; HTTP/1.1 keep-alive;
every request to `Emulator.dispatch` under one lock; --port-file; "slack-emulator listening
on HOST:PORT"; SIGTERM/SIGINT exit 0), with: default port 3000; bodies up to 2 MiB;
--token (the accepted bot token, or --token-file, first line) and --hook (T…/B…/secret,
the incoming webhook path).
"""

from emucommon import http_front

from .control import DEFAULT_HOOK, DEFAULT_TOKEN, Emulator

MAX_BODY = 2 * 1024 * 1024


class Handler(http_front.Handler):
    server_version = "slack-emulator"
    max_body = MAX_BODY


def make_server(host, port, token=DEFAULT_TOKEN, hook=DEFAULT_HOOK):
    server = http_front.make_server(Handler, host, port)
    server.emulator = Emulator(token, hook)
    return server


def _options(p):
    p.add_argument("--token", default=DEFAULT_TOKEN)
    p.add_argument("--token-file")
    p.add_argument("--hook", default=DEFAULT_HOOK, help="incoming webhook path T…/B…/secret")


def _build(args):
    return make_server(args.host, args.port, http_front.token_from(args), args.hook)


def main(argv=None):
    return http_front.main(argv, "slack-emulator",
                           "Slack emulator (incoming webhooks and Web API)", 3000,
                           _options, _build)
