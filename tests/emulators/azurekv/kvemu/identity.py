"""Entra ID (AAD) v2 token endpoint, its OpenID metadata, IMDS managed identity, tokens.

Contract:
- Applications are registered by the tests: client_id -> tenant, client secret,
  certificates (PEM; matched by the assertion's `x5t` = base64url SHA-1 thumbprint, or
  `x5t#S256`) and federated (workload identity) tokens.
- `POST /{tenant}/oauth2/v2.0/token` (form-encoded, https only) with
  grant_type=client_credentials, client_id, scope `https://vault.azure.net/.default`, and
  either client_secret or client_assertion_type
  `urn:ietf:params:oauth:client-assertion-type:jwt-bearer` + client_assertion. The
  assertion is a registered federated token of the app (workload identity), or an RS256
  (x5t) or PS256 (x5t#S256, what MSAL sends) JWT signed by a registered certificate's key with aud = this token endpoint's URL,
  iss = sub = client_id, a jti, and nbf/exp around now (5 minutes skew). Answers
  `{"token_type":"Bearer","expires_in":N,"ext_expires_in":N,"access_token":…}`;
  errors are AAD's OAuth2 error JSON (invalid_request, unsupported_grant_type,
  unauthorized_client, invalid_client, invalid_scope).
- `GET /{tenant}/v2.0/.well-known/openid-configuration` for MSAL-based clients.
- IMDS `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=…[&client_id=…]`
  needs `Metadata: true`; answers with string numbers (expires_in, expires_on,
  not_before) as IMDS does; errors `{"error":"invalid_request","error_description":…}`.
- Issued tokens are opaque; each records tenant, audience, principal and expiry, and
  the data plane checks them (`check_bearer`).
"""

import base64
import hashlib
import json
import secrets as rnd
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from .errors import AadError

VAULT_RESOURCE = "https://vault.azure.net"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SKEW = 300


def _b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprints(cert_pem):
    der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(
        serialization.Encoding.DER)
    return _b64url(hashlib.sha1(der).digest()), _b64url(hashlib.sha256(der).digest())


class Identity:
    def __init__(self, emu):
        self.emu = emu
        self.apps = {}          # client_id -> {"tenant", "secret", "certs": {x5t: cert}, "federated": set()}
        self.managed = None     # {"client_id", "tenant"} when IMDS serves an identity
        self.tokens = {}        # token -> {"tenant", "aud", "principal", "expires"}
        self.seen_jti = set()
        self.token_requests = []  # non-secret facts of every token request

    # -- registration (control API) ---------------------------------------------------------
    def register_app(self, client_id, tenant, secret=None, cert_pem=None, federated_token=None):
        app = self.apps.setdefault(client_id, {"tenant": tenant, "secret": None, "certs": {},
                                               "federated": set()})
        app["tenant"] = tenant
        if secret is not None:
            app["secret"] = secret
        if cert_pem is not None:
            cert = x509.load_pem_x509_certificate(cert_pem.encode())
            for tp in thumbprints(cert_pem):
                app["certs"][tp] = cert
        if federated_token is not None:
            app["federated"].add(federated_token)

    def issue(self, tenant, aud, principal):
        token = "kvemu." + rnd.token_urlsafe(32)
        self.tokens[token] = {"tenant": tenant, "aud": aud, "principal": principal,
                              "expires": self.emu.now() + self.emu.token_lifetime}
        return token

    def expire_all(self):
        for t in self.tokens.values():
            t["expires"] = self.emu.now() - 1

    # -- token endpoint ---------------------------------------------------------------------
    def token(self, tenant, hmap, body, endpoint_url):
        ctype = hmap.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise AadError(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'grant_type'.")
        form = {k: v[0] for k, v in parse_qs(body.decode(errors="replace"),
                                              keep_blank_values=True).items()}
        fact = {"tenant": tenant, "grant_type": form.get("grant_type"),
                "client_id": form.get("client_id"), "scope": form.get("scope"),
                "method": "secret" if "client_secret" in form else
                          "assertion" if "client_assertion" in form else None}
        self.token_requests.append(fact)
        if form.get("grant_type") != "client_credentials":
            raise AadError(400, "unsupported_grant_type", 70003,
                           "The app requested an unsupported grant type '%s'."
                           % form.get("grant_type"))
        client_id = form.get("client_id")
        if not client_id:
            raise AadError(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'client_id'.")
        app = self.apps.get(client_id)
        if app is None or app["tenant"] != tenant:
            raise AadError(400, "unauthorized_client", 700016,
                           "Application with identifier '%s' was not found in the directory "
                           "'%s'." % (client_id, tenant))
        scope = form.get("scope", "")
        if scope != VAULT_RESOURCE + "/.default":
            raise AadError(400, "invalid_scope", 1002012,
                           "The provided value for scope %s is not valid. Client credential "
                           "flows must have a scope value with /.default suffixed to the "
                           "resource identifier (application ID URI)." % scope)
        if "client_secret" in form:
            if app["secret"] is None or not rnd.compare_digest(
                    form["client_secret"].encode(), app["secret"].encode()):
                raise AadError(401, "invalid_client", 7000215,
                               "Invalid client secret provided. Ensure the secret being sent in "
                               "the request is the client secret value, not the client secret "
                               "ID, for a secret added to app '%s'." % client_id)
        elif "client_assertion" in form:
            if form.get("client_assertion_type") != JWT_BEARER:
                raise AadError(400, "invalid_request", 70002,
                               "The client_assertion_type must be %s." % JWT_BEARER)
            self._check_assertion(app, client_id, form["client_assertion"], endpoint_url)
        else:
            raise AadError(401, "invalid_client", 7000218,
                           "The request body must contain the following parameter: "
                           "'client_assertion' or 'client_secret'.")
        token = self.issue(tenant, VAULT_RESOURCE, client_id)
        life = int(self.emu.token_lifetime)
        return {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life,
                "access_token": token}

    def _check_assertion(self, app, client_id, assertion, endpoint_url):
        if assertion in app["federated"]:
            return  # workload identity: a federated token the app trusts
        bad = AadError(401, "invalid_client", 700027,
                       "Client assertion failed signature validation.")
        parts = assertion.split(".")
        if len(parts) != 3:
            raise AadError(401, "invalid_client", 50027,
                           "JWT token is invalid or malformed.")
        try:
            header = json.loads(_b64url_decode(parts[0]))
            claims = json.loads(_b64url_decode(parts[1]))
            signature = _b64url_decode(parts[2])
        except ValueError:
            raise AadError(401, "invalid_client", 50027, "JWT token is invalid or malformed.")
        alg = header.get("alg")
        if alg not in ("RS256", "PS256"):
            raise bad
        cert = app["certs"].get(header.get("x5t#S256") or header.get("x5t") or "")
        if cert is None:
            raise AadError(401, "invalid_client", 700027,
                           "Client assertion contains an invalid signature. [Reason - The key "
                           "was not found.]")
        try:
            pad = padding.PKCS1v15() if alg == "RS256" else padding.PSS(
                mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
            cert.public_key().verify(signature, (parts[0] + "." + parts[1]).encode(), pad,
                                     hashes.SHA256())
        except (InvalidSignature, TypeError, ValueError):
            raise bad
        now = self.emu.now()
        if claims.get("aud") != endpoint_url:
            raise AadError(401, "invalid_client", 700212,
                           "No matching federated identity record found for presented "
                           "assertion audience '%s'." % claims.get("aud"))
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise AadError(401, "invalid_client", 700023,
                           "Client assertion audience claim does not match Realm issuer.")
        exp, nbf = claims.get("exp"), claims.get("nbf", 0)
        if not isinstance(exp, int) or exp < now - SKEW or (isinstance(nbf, int) and nbf > now + SKEW):
            raise AadError(401, "invalid_client", 700024,
                           "Client assertion is not within its valid time range.")
        jti = claims.get("jti")
        if not jti or jti in self.seen_jti:
            raise AadError(401, "invalid_client", 7000222 if jti else 50027,
                           "The provided client assertion was already used (jti)." if jti else
                           "JWT token is invalid or malformed.")
        self.seen_jti.add(jti)

    def openid_configuration(self, base, tenant):
        return {"token_endpoint": "%s/%s/oauth2/v2.0/token" % (base, tenant),
                "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                          "private_key_jwt", "client_secret_basic"],
                "jwks_uri": "%s/%s/discovery/v2.0/keys" % (base, tenant),
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": "%s/%s/v2.0" % (base, tenant),
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": "%s/oidc/userinfo" % base,
                "authorization_endpoint": "%s/%s/oauth2/v2.0/authorize" % (base, tenant),
                "device_authorization_endpoint": "%s/%s/oauth2/v2.0/devicecode" % (base, tenant),
                "http_logout_supported": True, "frontchannel_logout_supported": True,
                "end_session_endpoint": "%s/%s/oauth2/v2.0/logout" % (base, tenant),
                "claims_supported": ["sub", "iss", "aud", "exp", "iat"],
                "kerberos_endpoint": "%s/%s/kerberos" % (base, tenant),
                "tenant_region_scope": "EU", "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net", "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net"}

    # -- IMDS (plain HTTP, as on a VM) -------------------------------------------------------
    def imds(self, hmap, query):
        def bad(desc):
            return 400, {"error": "invalid_request", "error_description": desc}
        if hmap.get("metadata") != "true":
            return bad("Required metadata header not specified")
        if "x-forwarded-for" in hmap:
            return bad("Request contains X-Forwarded-For header")
        if not query.get("api-version"):
            return bad("Required query variable 'api-version' is missing")
        resource = query.get("resource")
        if not resource:
            return bad("Required query variable 'resource' is missing")
        if resource.rstrip("/") != VAULT_RESOURCE:
            return bad("Invalid resource %s" % resource)
        mi = self.managed
        if mi is None or (query.get("client_id") and query["client_id"] != mi["client_id"]):
            return bad("Identity not found")
        self.token_requests.append({"tenant": mi["tenant"], "grant_type": "imds",
                                    "client_id": mi["client_id"], "scope": resource,
                                    "method": "imds"})
        now = int(self.emu.now())
        life = int(self.emu.token_lifetime)
        token = self.issue(mi["tenant"], VAULT_RESOURCE, mi["client_id"])
        return 200, {"access_token": token, "client_id": mi["client_id"], "expires_in": str(life),
                     "expires_on": str(now + life), "ext_expires_in": str(life),
                     "not_before": str(now), "resource": resource, "token_type": "Bearer"}

    # -- the data plane's check --------------------------------------------------------------
    def check_bearer(self, authorization, vault_tenant):
        """None when valid, else the 401 message (AKV10xxx) Key Vault gives."""
        if not authorization:
            return "Request is missing a Bearer or PoP token."
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return "AKV10000: Request is missing a Bearer or PoP token."
        t = self.tokens.get(token.strip())
        if t is None:
            return "AKV10022: Invalid token: the token was not issued for this vault."
        if t["expires"] <= self.emu.now():
            return "AKV10032: Token expired."
        if t["aud"] != VAULT_RESOURCE:
            return "AKV10022: Invalid audience."
        if t["tenant"] != vault_tenant:
            return ("AKV10032: Invalid issuer. Expected one of https://sts.windows.net/%s/, "
                    "found https://sts.windows.net/%s/." % (vault_tenant, t["tenant"]))
        return None

    def principal(self, authorization):
        return self.tokens[authorization.partition(" ")[2].strip()]["principal"]
