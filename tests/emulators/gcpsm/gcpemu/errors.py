"""google.rpc.Status error shapes.

Contract: `GcpError(http, status, message)` is raised by every handler and rendered as
`{"error": {"code": http, "message": message, "status": status, "details": [...]}}`
(an ErrorInfo detail with reason and domain when given), Content-Type application/json;
charset=UTF-8, extra headers (Retry-After, WWW-Authenticate) passed through.
OAuth2 endpoint errors are a different shape (`OAuthError`): {"error", "error_description"}.
"""

import json


class GcpError(Exception):
    def __init__(self, http, status, message, headers=None, reason=None):
        super().__init__(status)
        self.http, self.status, self.message = http, status, message
        self.headers = dict(headers or {})
        self.reason = reason

    def body(self):
        err = {"code": self.http, "message": self.message, "status": self.status}
        if self.reason:
            err["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                               "reason": self.reason, "domain": "googleapis.com",
                               "metadata": {"service": "secretmanager.googleapis.com"}}]
        return json.dumps({"error": err}).encode()


class OAuthError(Exception):
    def __init__(self, http, error, description):
        super().__init__(error)
        self.http, self.error, self.description = http, error, description

    def body(self):
        return json.dumps({"error": self.error, "error_description": self.description}).encode()


def invalid(message):
    return GcpError(400, "INVALID_ARGUMENT", message)


def not_found(message):
    return GcpError(404, "NOT_FOUND", message)


def precondition(message):
    return GcpError(400, "FAILED_PRECONDITION", message)


UNAUTHENTICATED_MISSING = ("Request is missing required authentication credential. Expected OAuth 2 "
                           "access token, login cookie or other valid authentication credential.")
UNAUTHENTICATED_BAD = ("Request had invalid authentication credentials. Expected OAuth 2 access "
                       "token, login cookie or other valid authentication credential.")


def unauthenticated(missing):
    return GcpError(401, "UNAUTHENTICATED",
                    UNAUTHENTICATED_MISSING if missing else UNAUTHENTICATED_BAD,
                    {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
                    reason="CREDENTIALS_MISSING" if missing else "ACCESS_TOKEN_TYPE_UNSUPPORTED")
