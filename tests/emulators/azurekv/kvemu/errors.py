"""Error shapes of Key Vault (KeyVaultError) and Entra ID (OAuth2 error JSON).

Contract:
- `KvError(status, code, message, inner=None, headers=None)` renders as
  `{"error":{"code":…,"message":…[,"innererror":{"code":…}]}}`.
- `AadError(status, error, aadsts, description)` renders as the OAuth2 error body AAD
  sends: `error`, `error_description` ("AADSTS<n>: …" plus trace lines), `error_codes`,
  `timestamp`, `trace_id`, `correlation_id`.
"""

import json
import time
import uuid


class KvError(Exception):
    def __init__(self, status, code, message, inner=None, headers=None):
        super().__init__(code)
        self.status, self.code, self.message, self.inner = status, code, message, inner
        self.headers = dict(headers or {})

    def body(self):
        err = {"code": self.code, "message": self.message}
        if self.inner:
            err["innererror"] = {"code": self.inner}
        return json.dumps({"error": err}).encode()


class AadError(Exception):
    def __init__(self, status, error, aadsts, description):
        super().__init__(error)
        self.status, self.error, self.aadsts, self.description = status, error, aadsts, description

    def body(self):
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        return json.dumps({
            "error": self.error,
            "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s"
                                 % (self.aadsts, self.description, trace, corr, stamp),
            "error_codes": [self.aadsts], "timestamp": stamp, "trace_id": trace,
            "correlation_id": corr}).encode()


def bad_parameter(message):
    return KvError(400, "BadParameter", message)


def not_found(name):
    return KvError(404, "SecretNotFound",
                   "A secret with (name/id) %s was not found in this key vault. If you recently "
                   "deleted this secret you may be able to recover it using the correct recovery "
                   "command. For help resolving this issue, please see "
                   "https://go.microsoft.com/fwlink/?linkid=2125182" % name)
