"""In-memory state of the emulated Vault: namespaces, mounts, tokens, roles, policies.

Contract:
- One `State` object; every read or write of it happens under `State.lock` (an RLock
  taken once per request by the router or the control API).
- Namespaces are paths ("" for root, "ns1/", "ns1/ns2/"); each owns its mounts and its
  AppRole / Kubernetes roles. Policies and tokens are global; a token remembers the
  namespace it was created in.
- `reset()` returns to the start state: root token, default mounts, then the seed file.
"""

import secrets
import threading

from . import acl
from .kv import KVEngine
from .transit import TransitEngine
from .util import CLOCK, new_uuid

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def random_id(length=24):
    return "".join(secrets.choice(_BASE62) for _ in range(length))


class Mount:
    __slots__ = ("path", "type", "engine", "accessor", "uuid", "options")

    def __init__(self, path, mount_type, engine=None, options=None):
        self.path = path
        self.type = mount_type
        self.engine = engine
        self.accessor = "%s_%s" % (mount_type.replace("-", "_"), secrets.token_hex(4))
        self.uuid = "%s-%s-%s-%s-%s" % tuple(secrets.token_hex(n) for n in (4, 2, 2, 2, 6))
        self.options = options


def make_mount(path, mount_type):
    """Create a secrets-engine mount; `mount_type` is "kv-v2"/"kv" or "transit"."""
    if mount_type in ("kv-v2", "kv", "kv2"):
        return Mount(path, "kv", KVEngine(), {"version": "2"})
    if mount_type == "transit":
        return Mount(path, "transit", TransitEngine())
    raise ValueError("unsupported mount type %r (use \"kv-v2\" or \"transit\")" % mount_type)


class Namespace:
    def __init__(self, path, default_mounts=True):
        self.path = path
        self.id = "root" if path == "" else random_id(5)
        self.mounts = {
            "sys/": Mount("sys/", "system"),
            "auth/token/": Mount("auth/token/", "token"),
            "auth/approle/": Mount("auth/approle/", "approle"),
            "auth/kubernetes/": Mount("auth/kubernetes/", "kubernetes"),
        }
        if default_mounts:
            self.mounts["secret/"] = make_mount("secret/", "kv-v2")
            self.mounts["transit/"] = make_mount("transit/", "transit")
        self.approles = {}   # role_id -> dict
        self.k8s_roles = {}  # role name -> dict

    def find_mount(self, path):
        """Longest mount prefix of `path`; like Vault, "secret" also finds "secret/"."""
        best = None
        for mount_path, mount in self.mounts.items():
            if path.startswith(mount_path) or path + "/" == mount_path:
                if best is None or len(mount_path) > len(best.path):
                    best = mount
        if best is None:
            return None, None
        return best, path[len(best.path):]


class Token:
    def __init__(self, token_id, policies, namespace, ttl=0, renewable=False,
                 explicit_max_ttl=0, display_name="token", meta=None, path="auth/token/create",
                 role_max_ttl=0, orphan=False):
        now = CLOCK.now()
        self.id = token_id
        self.accessor = random_id(24)
        self.policies = sorted(set(policies))
        self.namespace = namespace
        self.creation_time = now
        self.ttl = int(ttl)
        self.expire_at = now + ttl if ttl else None
        self.renewable = bool(renewable) and bool(ttl)
        self.explicit_max_ttl = int(explicit_max_ttl)
        self.role_max_ttl = int(role_max_ttl)
        self.display_name = display_name
        self.meta = meta
        self.path = path
        self.orphan = orphan
        self.revoked = False
        self.last_renewal = None
        self.entity_id = ""

    def valid(self):
        return not self.revoked and (self.expire_at is None or CLOCK.now() < self.expire_at)

    def remaining_ttl(self):
        if self.expire_at is None:
            return 0
        return max(0, int(self.expire_at - CLOCK.now()))

    def is_root(self):
        return "root" in self.policies


class State:
    def __init__(self, root_token="root", seed=None):
        self.lock = threading.RLock()
        self.cluster_id = new_uuid()
        self.root_token = root_token
        self.seed = seed
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------
    def reset(self):
        with self.lock:
            CLOCK.reset()
            self.namespaces = {"": Namespace("")}
            self.policies = {"default": dict(acl.DEFAULT_POLICY)}
            self.tokens = {}
            root = Token(self.root_token, ["root"], "", display_name="root", path="auth/token/root",
                         orphan=True)
            self.tokens[root.id] = root
            if self.seed:
                from .control import apply_seed
                apply_seed(self, self.seed)

    # -- namespaces --------------------------------------------------------------------
    @staticmethod
    def normalize_ns(path):
        path = (path or "").strip().strip("/")
        return path + "/" if path else ""

    def add_namespace(self, path, default_mounts=True):
        path = self.normalize_ns(path)
        if path == "":
            raise ValueError("the root namespace always exists")
        parent = path[:-1].rpartition("/")[0]
        parent = parent + "/" if parent else ""
        if parent not in self.namespaces:
            raise ValueError("parent namespace %r does not exist; create it first" % parent)
        if path not in self.namespaces:
            self.namespaces[path] = Namespace(path, default_mounts)
        return self.namespaces[path]

    def resolve_namespace(self, full_path):
        """Split "ns1/secret/data/x" into (Namespace, "secret/data/x") by longest prefix."""
        best = self.namespaces[""]
        for ns_path, ns in self.namespaces.items():
            if ns_path and full_path.startswith(ns_path) and len(ns_path) > len(best.path):
                best = ns
        return best, full_path[len(best.path):]

    # -- tokens ------------------------------------------------------------------------
    def issue_token(self, policies, namespace, ttl, renewable, explicit_max_ttl=0, token_id=None,
                    display_name="token", meta=None, path="auth/token/create", role_max_ttl=0,
                    orphan=False):
        ns = self.namespaces[namespace]
        if token_id is None:
            token_id = "hvs." + random_id(24) + ("." + ns.id if namespace else "")
        token = Token(token_id, policies, namespace, ttl, renewable, explicit_max_ttl,
                      display_name, meta, path, role_max_ttl, orphan)
        self.tokens[token.id] = token
        return token

    def usable_token(self, raw, ns):
        """The token if it is live and was issued in `ns` or one of its parents."""
        token = self.tokens.get(raw) if raw else None
        if token is None or not token.valid():
            return None
        if token.namespace and not ns.path.startswith(token.namespace):
            return None
        return token

    def acl_for(self, token):
        return acl.ACL([self.policies[name] for name in token.policies if name in self.policies])
