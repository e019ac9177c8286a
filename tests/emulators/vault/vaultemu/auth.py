"""Auth methods (token, approle, kubernetes) and the few sys/ paths the emulator serves.

Contract:
  auth/token/lookup-self (GET), renew-self (POST {"increment"}), revoke-self (POST -> 204)
  auth/approle/login   {"role_id","secret_id"}  no token needed
  auth/kubernetes/login {"role","jwt"}          no token needed; the JWT must be one that
                                                the control API registered for that role
  sys/health (no token), sys/internal/ui/mounts/<path> (any valid token)
Roles live in the request's namespace; issued tokens are "hvs." tokens of that namespace
with the role's policies plus "default". Error texts follow Vault's token store,
path_login.go (approle) and vault-plugin-auth-kubernetes; see README "unverified".
"""

from .util import CLOCK, ApiError, Resp, Route, go_duration, go_json, json_resp, new_uuid, rfc3339nano

SYSTEM_MAX_TTL = 32 * 24 * 3600


def auth_block(token, lease_duration):
    """logical.HTTPAuth in its field order."""
    meta = {k: token.meta[k] for k in sorted(token.meta)} if token.meta else None
    return {"client_token": token.id, "accessor": token.accessor, "policies": token.policies,
            "token_policies": token.policies, "metadata": meta, "lease_duration": lease_duration,
            "renewable": token.renewable, "entity_id": token.entity_id, "token_type": "service",
            "orphan": token.orphan, "mfa_requirement": None, "num_uses": 0}


def token_info(token):
    expire = int(token.expire_at * 1e9) if token.expire_at is not None else None
    data = {
        "accessor": token.accessor, "creation_time": int(token.creation_time),
        "creation_ttl": token.ttl, "display_name": token.display_name,
        "entity_id": token.entity_id, "expire_time": rfc3339nano(expire) if expire else None,
        "explicit_max_ttl": token.explicit_max_ttl, "id": token.id,
        "issue_time": rfc3339nano(int(token.creation_time * 1e9)), "meta": token.meta,
        "num_uses": 0, "orphan": token.orphan, "path": token.path, "policies": token.policies,
        "renewable": token.renewable, "ttl": token.remaining_ttl(), "type": "service",
    }
    if token.last_renewal is not None:
        data["last_renewal"] = rfc3339nano(int(token.last_renewal * 1e9))
        data["last_renewal_time"] = int(token.last_renewal)
    if token.namespace:
        data["namespace_path"] = token.namespace
    return data


class TokenAuth:
    mount_type = "token"

    def route(self, subpath):
        if subpath == "lookup-self":
            return Route({"read": self.lookup_self})
        if subpath == "renew-self":
            return Route({"update": self.renew_self}, {"increment": "duration"})
        if subpath == "revoke-self":
            return Route({"update": self.revoke_self})
        return None

    def lookup_self(self, req, fd):
        return req.reply(token_info(req.token))

    def renew_self(self, req, fd):
        token = req.token
        if token.expire_at is None or not token.renewable:
            raise ApiError(400, ["lease is not renewable"])
        now = CLOCK.now()
        wanted = fd.get("increment") or token.ttl
        limits = [token.creation_time + (token.role_max_ttl or SYSTEM_MAX_TTL) - now]
        if token.explicit_max_ttl:
            limits.append(token.creation_time + token.explicit_max_ttl - now)
        allowed = max(0, int(min(limits)))
        warnings = None
        ttl = wanted
        if wanted > allowed:
            warnings = ['TTL of "%s" exceeded the effective max_ttl of "%s"; TTL value is capped '
                        'accordingly' % (go_duration(wanted), go_duration(allowed))]
            ttl = allowed
        token.expire_at = now + ttl
        token.last_renewal = now
        return req.reply(None, warnings=warnings, auth=auth_block(token, ttl))

    def revoke_self(self, req, fd):
        req.token.revoked = True
        return Resp(204)


def _login_token(req, role, display_name, meta):
    ttl = role.get("token_ttl_s") or SYSTEM_MAX_TTL
    token = req.state.issue_token(
        list(role.get("policies", [])) + ["default"], req.ns.path, ttl,
        role.get("renewable", True), explicit_max_ttl=role.get("token_explicit_max_ttl_s", 0),
        display_name=display_name, meta=meta, path=req.path,
        role_max_ttl=role.get("token_max_ttl_s", 0), orphan=True)
    token.entity_id = role["entity_id"]
    return req.reply(None, auth=auth_block(token, ttl))


class AppRoleAuth:
    mount_type = "approle"

    def route(self, subpath):
        if subpath == "login":
            return Route({"update": self.login}, {"role_id": "string", "secret_id": "string"},
                         unauth=True)
        return None

    def login(self, req, fd):
        role_id = fd.get("role_id").strip()
        if role_id == "":
            # Vault's alias lookahead returns a bare error here, which the core answers with 500.
            raise ApiError(500, ["missing role_id"])
        role = req.ns.approles.get(role_id)
        if role is None:
            raise ApiError(400, ["invalid role or secret ID"])
        if role.get("bind_secret_id", True):
            secret_id = fd.get("secret_id").strip()
            if secret_id == "":
                raise ApiError(400, ["missing secret_id"])
            if secret_id not in role["secret_ids"]:
                raise ApiError(400, ["invalid role or secret ID"])
        return _login_token(req, role, "approle", {"role_name": role["role_name"]})


class KubernetesAuth:
    mount_type = "kubernetes"

    def route(self, subpath):
        if subpath == "login":
            return Route({"update": self.login}, {"role": "string", "jwt": "string"}, unauth=True)
        return None

    def login(self, req, fd):
        name, jwt = fd.get("role"), fd.get("jwt")
        if name == "":
            raise ApiError(400, ["missing role"])
        if jwt == "":
            raise ApiError(400, ["missing jwt"])
        role = req.ns.k8s_roles.get(name)
        if role is None:
            raise ApiError(400, ['invalid role name "%s"' % name])
        if jwt not in role["jwts"]:
            raise ApiError(403, ["permission denied"], bare=True)
        meta = {"role": name, "service_account_name": role["service_account_name"],
                "service_account_namespace": role["service_account_namespace"],
                "service_account_secret_name": "", "service_account_uid": role["service_account_uid"]}
        display = "kubernetes-%s-%s" % (role["service_account_namespace"], role["service_account_name"])
        return _login_token(req, role, display, meta)


class SystemBackend:
    mount_type = "system"

    def route(self, subpath):
        if subpath == "health":
            return Route({"read": self.health}, unauth=True)
        if subpath.startswith("internal/ui/mounts/"):
            return Route({"read": self.ui_mount}, captures={"path": subpath[len("internal/ui/mounts/"):]},
                         unauth=True)
        return None

    def health(self, req, fd):
        body = {"initialized": True, "sealed": False, "standby": False, "performance_standby": False,
                "replication_performance_mode": "disabled", "replication_dr_mode": "disabled",
                "server_time_utc": int(CLOCK.now()), "version": "1.17.0+emulator",
                "cluster_name": "vault-emulator", "cluster_id": req.state.cluster_id}
        return json_resp(200, go_json(body))

    def ui_mount(self, req, fd):
        """What `vault kv` uses to discover the KV version of a path."""
        token = req.state.usable_token(req.raw_token, req.ns)
        mount, _ = req.ns.find_mount(req.captures["path"])
        if token is None or mount is None or mount.engine is None:
            raise ApiError(403, ["permission denied"], bare=True)
        return req.reply({
            "accessor": mount.accessor, "config": {"default_lease_ttl": 0, "force_no_cache": False,
                                                   "max_lease_ttl": 0},
            "description": "", "external_entropy_access": False, "local": False,
            "options": mount.options, "path": mount.path, "plugin_version": "",
            "running_plugin_version": "", "running_sha256": "", "seal_wrap": False,
            "type": mount.type, "uuid": mount.uuid})


ENGINES = {"token": TokenAuth(), "approle": AppRoleAuth(), "kubernetes": KubernetesAuth(),
           "system": SystemBackend()}


def new_role_entity():
    return new_uuid()
