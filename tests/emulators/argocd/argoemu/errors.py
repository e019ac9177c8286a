"""grpc-gateway error shapes of the Argo CD API server.

Contract: `ArgoError(status, code, message)` is raised by every handler and rendered
as `{"error": message, "code": <grpc code>, "message": message, "details": []}`
(grpc-gateway v1, as Argo CD serves it). The helpers name the answers the emulator
gives: 401/16 Unauthenticated, 403/7 PermissionDenied, 404/5 NotFound, 400/3
InvalidArgument, 405/12 Unimplemented (the emulator's read-only refusal), 503/14
Unavailable.
"""

import json

GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 409: 6, 429: 8, 500: 13, 503: 14}


class ArgoError(Exception):
    def __init__(self, status, message, code=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = GRPC_CODES.get(status, 2) if code is None else code
        self.message = message
        self.headers = dict(headers or {})


def unauthenticated(message="no session information"):
    return ArgoError(401, message)


def permission_denied():
    return ArgoError(403, "permission denied")


def not_found(name):
    return ArgoError(404, 'applications.argoproj.io "%s" not found' % name)


def error_body(err):
    return json.dumps({"error": err.message, "code": err.code, "message": err.message,
                       "details": []}).encode()
