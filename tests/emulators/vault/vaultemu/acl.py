"""Vault ACL policies reduced to what the emulator needs.

Contract:
- A policy is {path pattern -> set of capabilities}. Patterns follow Vault HCL rules:
  exact paths, a trailing `*` (prefix glob) and `+` (exactly one path segment).
- Policies held by one token are merged per pattern (union; `deny` anywhere wins for
  that pattern). The single highest-priority matching pattern decides, using Vault's
  documented priority rules (first wildcard later wins, no trailing `*` wins, fewer
  `+` wins, longer wins, lexicographically larger wins).
- Operations map to capabilities: read, list, create, update, delete, patch.
The `root` policy allows everything and is handled by the caller.
"""

import re

CAPABILITIES = {"create", "read", "update", "delete", "list", "patch", "sudo", "deny",
                "subscribe", "recover"}

DEFAULT_POLICY = {
    "auth/token/lookup-self": {"read"},
    "auth/token/renew-self": {"update"},
    "auth/token/revoke-self": {"update"},
    "sys/capabilities-self": {"update"},
}


class PolicyError(ValueError):
    pass


def validate_policy(paths):
    """Check a control-API policy body {pattern: [caps]} and return {pattern: set(caps)}."""
    if not isinstance(paths, dict):
        raise PolicyError("paths must be an object of path pattern -> capability list")
    result = {}
    for pattern, caps in paths.items():
        if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
            raise PolicyError("capabilities for %r must be a list of strings" % pattern)
        unknown = sorted(set(caps) - CAPABILITIES)
        if unknown:
            raise PolicyError("unknown capabilities %s for %r; allowed: %s"
                              % (unknown, pattern, sorted(CAPABILITIES)))
        if "*" in pattern[:-1]:
            raise PolicyError("%r: '*' is only allowed at the end of a path" % pattern)
        result[pattern.lstrip("/")] = set(caps)
    return result


class _Rule:
    __slots__ = ("pattern", "regex", "caps", "priority")

    def __init__(self, pattern, caps):
        self.pattern = pattern
        self.caps = caps
        glob = pattern.endswith("*")
        body = pattern[:-1] if glob else pattern
        segments = body.split("/")
        regex = "/".join("[^/]*" if seg == "+" else re.escape(seg) for seg in segments)
        self.regex = re.compile(regex + (".*" if glob else "") + r"\Z")
        plus_positions = [m.start() for m in re.finditer(r"(?:^|/)\+(?=/|$)", body)]
        first_wild = min([p for p in plus_positions] + ([len(body)] if glob else []),
                         default=len(pattern) + 1)
        self.priority = (first_wild, not glob, -len(plus_positions), len(pattern), pattern)


class ACL:
    """The merged view of a token's policies."""

    def __init__(self, policies):
        merged = {}
        for policy in policies:
            for pattern, caps in policy.items():
                merged.setdefault(pattern, set()).update(caps)
        self._exact = {}
        self._wild = []
        for pattern, caps in merged.items():
            if pattern.endswith("*") or re.search(r"(?:^|/)\+(?=/|$)", pattern):
                self._wild.append(_Rule(pattern, caps))
            else:
                self._exact[pattern] = caps

    def capabilities(self, path):
        if path in self._exact:
            return self._exact[path]
        best = None
        for rule in self._wild:
            if rule.regex.match(path) and (best is None or rule.priority > best.priority):
                best = rule
        return best.caps if best else set()

    def allows(self, path, operation):
        caps = self.capabilities(path)
        return "deny" not in caps and operation in caps
