"""The /v1/ request pipeline: the order in which Vault checks a request.

Contract: `handle_v1(state, options, method, path, query, headers, body) -> Resp`.
Order of checks (each failure answers with Vault's status and `errors` body):
  1. path must start /v1/ and be clean (else 404 / 301 like Go's ServeMux)
  2. --require-request-header: X-Vault-Request: true (412, as Vault Agent/Proxy)
  3. method -> operation (GET ?list=true and LIST are "list"; PUT == POST; PATCH needs
     Content-Type application/merge-patch+json: 415 otherwise, 400 when absent)
  4. body parsing (400 "error parsing JSON")
  5. namespace from X-Vault-Namespace + path prefix (longest existing namespace)
  6. token (403 permission denied) unless the path is a login/health path
  7. mount and engine path; ACL (403); 404 no handler / unsupported path; 405
  8. existence check turns POST into "create" or "update" before the ACL check
  9. field validation (400) and the handler
The caller holds the state lock.
"""

import posixpath
from urllib.parse import parse_qs

from .auth import ENGINES
from .util import (ApiError, FieldData, FieldError, JsonInputError, Resp, envelope, error_resp,
                   multierror, new_uuid, parse_go_bool, parse_json_body)

MAX_REQUEST_SIZE = 32 * 1024 * 1024


class Options:
    def __init__(self, require_request_header=False, multierror=False):
        self.require_request_header = require_request_header
        self.multierror = multierror


class Request:
    """What a handler sees: operation, namespace, path, token and the engine captures."""

    def __init__(self, state, op, ns, path, raw_token):
        self.state = state
        self.op = op
        self.ns = ns
        self.path = path
        self.raw_token = raw_token
        self.token = None
        self.mount_type = ""
        self.captures = {}
        self.request_id = new_uuid()

    def reply(self, data, status=200, warnings=None, auth=None):
        # Non-200 envelopes are built by the backend (logical.RespondWithStatusCode) before
        # the router fills in the mount type, so Vault sends "mount_type":"" in them.
        mount_type = self.mount_type if status == 200 else ""
        return envelope(self.request_id, data, mount_type, auth, warnings, status)


def go_clean_path(path):
    """net/http cleanPath: resolve dot segments and double slashes, keep a trailing slash."""
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


def _query_data(query):
    data = {}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        data[key] = values[0] if len(values) == 1 else values
    return data


def _token_from(headers):
    token = headers.get("X-Vault-Token", "")
    if token:
        return token
    auth = headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth[len("Bearer "):].strip()
    return ""


def _render_error(exc, options):
    messages = exc.messages
    if exc.bare and options.multierror and messages:
        messages = [multierror(exc.multi or messages)]
    return error_resp(exc.status, messages)


def _parse_operation(method, path, query, headers, body):
    """Steps 3 and 4: returns (op, path, data) or raises ApiError."""
    if method == "GET":
        data = _query_data(query)
        listing = data.pop("list", "")
        if isinstance(listing, list):
            listing = listing[0]
        if listing != "":
            try:
                is_list = parse_go_bool(listing)
            except ValueError:
                raise ApiError(400) from None
            if is_list:
                return "list", path if path.endswith("/") else path + "/", data
        return "read", path, data
    if method == "LIST":
        return "list", path if path.endswith("/") else path + "/", _query_data(query)
    if method == "DELETE":
        return "delete", path, _query_data(query)
    if method in ("POST", "PUT", "PATCH"):
        if method == "PATCH":
            raw_type = headers.get("Content-Type", "")
            media = raw_type.split(";", 1)[0].strip().lower()
            if media == "":
                raise ApiError(400, ["mime: no media type"])
            if media != "application/merge-patch+json":
                raise ApiError(415, ["PATCH requires Content-Type of application/merge-patch+json, "
                                     "provided %s" % media])
        if len(body) > MAX_REQUEST_SIZE:
            raise ApiError(413, ["error parsing JSON"])
        try:
            data = parse_json_body(body)
        except JsonInputError:
            raise ApiError(400, ["error parsing JSON"]) from None
        return ("patch" if method == "PATCH" else "update"), path, data
    raise ApiError(405)


def handle_v1(state, options, method, url_path, query, headers, body):
    if not url_path.startswith("/v1/"):
        return error_resp(404, [])
    clean = go_clean_path(url_path)
    if clean != url_path:
        location = clean + ("?" + query if query else "")
        html = '<a href="%s">Moved Permanently</a>.\n\n' % location
        return Resp(301, html.encode() if method in ("GET", "HEAD") else None,
                    {"Location": location, "Content-Type": "text/html; charset=utf-8"})
    if options.require_request_header and headers.get_all("X-Vault-Request") != ["true"]:
        return error_resp(412, ['missing "X-Vault-Request" header'])
    path = url_path[len("/v1/"):]
    if path == "":
        return error_resp(404, [])
    try:
        op, path, data = _parse_operation(method, path, query, headers, body)
        ns_header = state.normalize_ns(headers.get("X-Vault-Namespace", ""))
        ns, rel = state.resolve_namespace(ns_header + path)
        return _route(state, Request(state, op, ns, rel, _token_from(headers)), data)
    except ApiError as exc:
        return _render_error(exc, options)


def _denied():
    return ApiError(403, ["permission denied"], bare=True)


def _route(state, req, data):
    mount, subpath = req.ns.find_mount(req.path)
    engine = None
    if mount is not None:
        engine = mount.engine or ENGINES[mount.type]
        req.mount_type = mount.type
    route = engine.route(subpath) if engine is not None else None

    if route is None or not route.unauth:
        req.token = state.usable_token(req.raw_token, req.ns)
        if req.token is None:
            # Vault 1.17+ adds "invalid token" for a token that is unknown, expired or revoked
            # (hashicorp/vault#25953); it shows only in the multierror form.
            raise ApiError(403, ["permission denied"], bare=True,
                           multi=["permission denied", "invalid token"] if req.raw_token else None)
    acl_path = req.path
    if req.token is not None:
        acl_path = req.ns.path[len(req.token.namespace):] + req.path
    acl = None if req.token is None or req.token.is_root() else state.acl_for(req.token)

    if mount is None:
        if acl is not None and not acl.allows(acl_path, req.op):
            raise _denied()
        raise ApiError(404, ['no handler for route "%s". route entry not found.' % req.path])
    if route is None or req.path.endswith("."):
        if acl is not None and not acl.allows(acl_path, req.op):
            raise _denied()
        raise ApiError(404, ["unsupported path"], bare=True)

    req.captures = route.captures
    fields = FieldData(data, route.fields)
    if req.op == "update" and route.exists is not None:
        try:
            fields.validate()
        except FieldError as exc:
            raise ApiError(400, [str(exc)]) from None
        req.op = "update" if route.exists(route.captures) else "create"
    if acl is not None and not route.unauth and not acl.allows(acl_path, req.op):
        raise _denied()
    handler = route.ops.get(req.op)
    if handler is None:
        raise ApiError(405, ["unsupported operation"], bare=True)
    try:
        fields.validate()
    except FieldError as exc:
        raise ApiError(400, ["Field validation failed: %s" % exc]) from None
    return handler(req, fields)
