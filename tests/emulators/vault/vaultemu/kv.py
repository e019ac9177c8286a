"""KV secrets engine version 2, following hashicorp/vault-plugin-secrets-kv.

Contract (paths are relative to the mount):
  data/<p>      GET (?version=N), POST/PUT (options.cas, data), PATCH (merge-patch), DELETE
  metadata/<p>  GET, POST/PUT, PATCH, DELETE, LIST (folders end in "/")
  delete/<p>, undelete/<p>, destroy/<p>   POST {"versions": [...]}
  subkeys/<p>   GET (?version=N&depth=D)
  config        GET, POST (max_versions, cas_required, delete_version_after)
Status codes and error strings are those of path_data.go / path_metadata.go: a missing key
or version is 404 {"errors":[]}; a deleted or destroyed version is 404 with the full
envelope (data.data null, data.metadata filled); CAS failures are 400.
A folder index (prefix -> children) makes LIST O(children), not O(all keys).
The caller holds the state lock; handlers take (request, FieldData).
"""

import copy

from .util import (CLOCK, ApiError, FieldError, Resp, Route, go_duration, multierror,
                   rfc3339nano, weak_decode)

DEFAULT_MAX_VERSIONS = 10
DISABLED = -1  # config delete_version_after "-1s": disabled on every key

_DATA_FIELDS = {"version": "int", "options": "map", "data": "map"}
_META_FIELDS = {"cas_required": "bool", "max_versions": "int", "delete_version_after": "duration",
                "custom_metadata": "map"}
_VERSIONS_FIELDS = {"versions": "comma_int_slice"}
_SUBKEY_FIELDS = {"version": "int", "depth": "int"}
_CONFIG_FIELDS = {"max_versions": "int", "cas_required": "bool",
                  "delete_version_after": "signed_duration"}


class Version:
    __slots__ = ("created", "deleted", "destroyed", "data")

    def __init__(self, created, deleted, data):
        self.created = created
        self.deleted = deleted      # ns timestamp or None
        self.destroyed = False
        self.data = data

    def gone(self):
        return self.destroyed or (self.deleted is not None and self.deleted < CLOCK.now_ns())

    def summary(self):
        return {"created_time": rfc3339nano(self.created),
                "deletion_time": rfc3339nano(self.deleted), "destroyed": self.destroyed}


class KeyMeta:
    def __init__(self, now):
        self.current_version = 0
        self.oldest_version = 0
        self.created = now
        self.updated = now
        self.max_versions = 0
        self.cas_required = False
        self.dva = 0
        self.custom_metadata = None
        self.versions = {}

    def version_meta(self, number):
        info = self.versions[number].summary()
        info.update(version=number, custom_metadata=self.custom_metadata)
        return info


def deletion_time(base_ns, mount_dva, meta_dva):
    """delete_version_after.go: the smaller non-zero of mount and key settings."""
    if mount_dva == 0 and meta_dva == 0:
        return None
    chosen = meta_dva
    if (mount_dva != 0 and mount_dva < chosen) or chosen == 0:
        chosen = mount_dva
    return base_ns + chosen * 1_000_000_000


def merge_patch(target, patch):
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def parse_custom_metadata(raw, filter_nils):
    """Weakly decode every value to a string, then apply Vault's custom_metadata limits."""
    parsed = {}
    for key, value in (raw or {}).items():
        if filter_nils and value is None:
            continue
        try:
            parsed[key] = weak_decode(value, "string")
        except FieldError as exc:
            raise ApiError(400, ["custom_metadata validation failed: %s" % exc]) from None
    prefix = "custom_metadata validation failed"
    if len(parsed) > 64:
        raise ApiError(400, [multierror(["%s: payload must contain at most 64 keys, provided %d"
                                         % (prefix, len(parsed))])])
    errors = []
    for key, value in parsed.items():
        if not 0 < len(key.encode()) <= 128:
            errors.append('%s: length of key "%s" is %d but must be 0 < len(key) <= 128'
                          % (prefix, key, len(key.encode())))
        if not 0 < len(value.encode()) <= 512:
            errors.append('%s: length of value for key "%s" is %d but must be 0 < len(value) <= 512'
                          % (prefix, key, len(value.encode())))
        if not key.isprintable():
            errors.append('%s: key "%s" (%s) contains unprintable characters' % (prefix, key, key))
        if not value.isprintable():
            errors.append('%s: value for key "%s" contains unprintable characters' % (prefix, key))
    if errors:
        raise ApiError(400, [multierror(errors)])
    return parsed


def parse_cas(options):
    """validateCheckAndSetOption's WeakDecode of options.cas into an int."""
    if not isinstance(options, dict) or "cas" not in options:
        return None
    try:
        return weak_decode(options["cas"], "int")
    except FieldError:
        raise ApiError(400, ["error parsing check-and-set parameter"]) from None


def strip_values(data, depth, max_depth):
    for key, value in data.items():
        if isinstance(value, dict) and value and (max_depth == 0 or depth + 1 <= max_depth) \
                and depth + 1 <= 100:
            strip_values(value, depth + 1, max_depth)
        else:
            data[key] = None


class KVEngine:
    mount_type = "kv"

    def __init__(self):
        self.config = {"max_versions": 0, "cas_required": False, "dva": 0}
        self.keys = {}
        self.children = {"": set()}

    # -- routing ----------------------------------------------------------------------
    def route(self, subpath):
        head, sep, rest = subpath.partition("/")
        if subpath == "config":
            return Route({"read": self.config_read, "update": self.config_write},
                         _CONFIG_FIELDS)
        if not sep:
            return None
        cap = {"path": rest}
        if head == "data" and rest and not rest.endswith("/"):
            return Route({"read": self.data_read, "create": self.data_write,
                          "update": self.data_write, "patch": self.data_patch,
                          "delete": self.data_delete}, _DATA_FIELDS, cap, self.exists)
        if head == "metadata":
            return Route({"read": self.meta_read, "create": self.meta_write,
                          "update": self.meta_write, "patch": self.meta_patch,
                          "delete": self.meta_delete, "list": self.meta_list},
                         _META_FIELDS, cap, self.exists)
        if head in ("delete", "undelete", "destroy"):
            handler = {"delete": self.versions_delete, "undelete": self.versions_undelete,
                       "destroy": self.versions_destroy}[head]
            return Route({"update": handler}, _VERSIONS_FIELDS, cap)
        if head == "subkeys":
            return Route({"read": self.subkeys_read}, _SUBKEY_FIELDS, cap)
        return None

    def exists(self, captures):
        return captures["path"] in self.keys

    # -- index ------------------------------------------------------------------------
    def _index_add(self, key):
        parts = key.split("/")
        prefix = ""
        for part in parts[:-1]:
            self.children.setdefault(prefix, set()).add(part + "/")
            prefix += part + "/"
        self.children.setdefault(prefix, set()).add(parts[-1])

    def _index_remove(self, key):
        parts = key.split("/")
        name = parts[-1]
        for depth in range(len(parts) - 1, -1, -1):
            prefix = "".join(p + "/" for p in parts[:depth])
            kids = self.children.get(prefix)
            if kids is None:
                return
            kids.discard(name)
            if kids or depth == 0:
                return
            del self.children[prefix]
            name = parts[depth - 1] + "/"

    def _new_meta(self, key, now=None):
        meta = KeyMeta(now)
        self.keys[key] = meta
        self._index_add(key)
        return meta

    def _add_version(self, meta, data):
        now = CLOCK.now_ns()
        deleted = None
        if self.config["dva"] != DISABLED:
            deleted = deletion_time(now, self.config["dva"], meta.dva)
        meta.current_version += 1
        meta.versions[meta.current_version] = Version(now, deleted, data)
        meta.updated = now
        if meta.created is None:
            meta.created = now
        limit = max(meta.max_versions, self.config["max_versions"]) or DEFAULT_MAX_VERSIONS
        if meta.current_version - meta.oldest_version >= limit:
            drop_to = meta.current_version - limit
            for number in range(meta.oldest_version, drop_to + 1):
                meta.versions.pop(number, None)
            meta.oldest_version = drop_to + 1
        return meta.versions[meta.current_version]

    def put(self, key, data, custom_metadata=None):
        """Direct write used by seeding and the control API (no auth, no CAS)."""
        meta = self.keys.get(key) or self._new_meta(key)
        if custom_metadata is not None:
            meta.custom_metadata = parse_custom_metadata(custom_metadata, False)
        self._add_version(meta, data)
        return meta.current_version

    def _cas_check(self, fd, meta):
        cas = parse_cas(fd.get("options"))
        current = meta.current_version if meta else 0
        if cas is not None:
            if cas != current:
                raise ApiError(400, ["check-and-set parameter did not match the current version"])
        elif self.config["cas_required"] or (meta is not None and meta.cas_required):
            raise ApiError(400, ["check-and-set parameter required for this call"])

    def _write_reply(self, req, meta):
        info = meta.versions[meta.current_version].summary()
        info.update(version=meta.current_version, custom_metadata=meta.custom_metadata)
        return req.reply(info)

    # -- data/ ------------------------------------------------------------------------
    def data_read(self, req, fd):
        meta = self.keys.get(req.captures["path"])
        if meta is None:
            raise ApiError(404)
        number = fd.get("version")
        number = number if number > 0 else meta.current_version
        version = meta.versions.get(number)
        if version is None:
            raise ApiError(404)
        body = {"data": None, "metadata": meta.version_meta(number)}
        if version.gone():
            return req.reply(body, status=404)
        body["data"] = version.data
        return req.reply(body)

    def data_write(self, req, fd):
        key = req.captures["path"]
        data, present = fd.get_ok("data")
        if not present:
            raise ApiError(400, ["no data provided"])
        meta = self.keys.get(key)
        self._cas_check(fd, meta)
        meta = meta or self._new_meta(key)
        self._add_version(meta, data)
        return self._write_reply(req, meta)

    def data_patch(self, req, fd):
        key = req.captures["path"]
        data, present = fd.get_ok("data")
        if not present:
            raise ApiError(400, ["no data provided"])
        meta = self.keys.get(key)
        if meta is None:
            return Resp(404, None, {"Content-Type": "application/json"})
        self._cas_check(fd, meta)
        version = meta.versions.get(meta.current_version)
        if version is None:
            return Resp(404, None, {"Content-Type": "application/json"})
        if version.gone():
            return req.reply(meta.version_meta(meta.current_version), status=404)
        if version.data is None:
            raise ApiError(500, ["resource does not exist"])
        self._add_version(meta, merge_patch(version.data, data))
        return self._write_reply(req, meta)

    def data_delete(self, req, fd):
        meta = self.keys.get(req.captures["path"])
        if meta is not None:
            latest = meta.versions.get(meta.current_version)
            if latest is not None and not latest.gone():
                latest.deleted = CLOCK.now_ns()
        return Resp(204)

    # -- metadata/ ----------------------------------------------------------------------
    def meta_read(self, req, fd):
        meta = self.keys.get(req.captures["path"])
        if meta is None:
            raise ApiError(404)
        return req.reply({
            "cas_required": meta.cas_required, "created_time": rfc3339nano(meta.created),
            "current_version": meta.current_version, "custom_metadata": meta.custom_metadata,
            "delete_version_after": go_duration(meta.dva), "max_versions": meta.max_versions,
            "oldest_version": meta.oldest_version, "updated_time": rfc3339nano(meta.updated),
            "versions": {str(n): v.summary() for n, v in meta.versions.items()},
        })

    def _cas_warning(self, fd):
        cas_required, present = fd.get_ok("cas_required")
        if present and self.config["cas_required"] and not cas_required:
            return ['"cas_required" set to false, but is mandated by backend config. '
                    'This value will be ignored.']
        return None

    @staticmethod
    def _no_content_or_warnings(req, warnings):
        return req.reply(None, warnings=warnings) if warnings else Resp(204)

    def meta_write(self, req, fd):
        key = req.captures["path"]
        if key == "":
            raise ApiError(400, ["missing path"])
        if not any(name in fd.raw for name in _META_FIELDS):
            return Resp(204)
        custom, custom_given = fd.get_ok("custom_metadata")
        if custom_given:
            custom = parse_custom_metadata(custom, False)
        warnings = self._cas_warning(fd)
        meta = self.keys.get(key) or self._new_meta(key, CLOCK.now_ns())
        self._apply_meta_fields(meta, fd)
        if custom_given:
            meta.custom_metadata = custom
        return self._no_content_or_warnings(req, warnings)

    @staticmethod
    def _apply_meta_fields(meta, fd):
        value, given = fd.get_ok("max_versions")
        if given:
            meta.max_versions = value & 0xFFFFFFFF
        value, given = fd.get_ok("cas_required")
        if given:
            meta.cas_required = value
        value, given = fd.get_ok("delete_version_after")
        if given:
            meta.dva = value

    def meta_patch(self, req, fd):
        key = req.captures["path"]
        if key == "":
            raise ApiError(400, ["missing path"])
        custom, custom_given = fd.get_ok("custom_metadata")
        if custom_given:
            parse_custom_metadata(custom, True)
        meta = self.keys.get(key)
        if meta is None:
            return Resp(404, None, {"Content-Type": "application/json"})
        warnings = self._cas_warning(fd)
        self._apply_meta_fields(meta, fd)
        if custom_given:
            merged = merge_patch(meta.custom_metadata or {}, custom)
            meta.custom_metadata = {k: weak_decode(v, "string") for k, v in merged.items()}
        return self._no_content_or_warnings(req, warnings)

    def meta_delete(self, req, fd):
        key = req.captures["path"]
        if self.keys.pop(key, None) is not None:
            self._index_remove(key)
        return Resp(204)

    def meta_list(self, req, fd):
        kids = self.children.get(req.captures["path"])
        if not kids:
            raise ApiError(404)
        return req.reply({"keys": sorted(kids)})

    # -- delete/ undelete/ destroy/ ----------------------------------------------------
    def _versions(self, fd, message):
        numbers = fd.get("versions")
        if not numbers:
            raise ApiError(400, [message])
        return numbers

    def versions_delete(self, req, fd):
        numbers = self._versions(fd, "No version number provided")
        meta = self.keys.get(req.captures["path"])
        for number in numbers if meta else ():
            version = meta.versions.get(number)
            if version is not None and not version.gone():
                version.deleted = CLOCK.now_ns()
        return Resp(204)

    def versions_undelete(self, req, fd):
        numbers = self._versions(fd, "No version number provided")
        meta = self.keys.get(req.captures["path"])
        for number in numbers if meta else ():
            version = meta.versions.get(number)
            if version is None or version.destroyed:
                continue
            version.deleted = None
            if self.config["dva"] != DISABLED:
                version.deleted = deletion_time(CLOCK.now_ns(), self.config["dva"], meta.dva)
        return Resp(204)

    def versions_destroy(self, req, fd):
        numbers = self._versions(fd, "no version number provided")
        meta = self.keys.get(req.captures["path"])
        for number in numbers if meta else ():
            version = meta.versions.get(number)
            if version is not None:
                version.destroyed = True
                version.data = None
        return Resp(204)

    # -- subkeys/ and config ------------------------------------------------------------
    def subkeys_read(self, req, fd):
        meta = self.keys.get(req.captures["path"])
        if meta is None:
            raise ApiError(404)
        number = fd.get("version")
        number = number if number > 0 else meta.current_version
        version = meta.versions.get(number)
        if version is None:
            raise ApiError(404)
        body = {"subkeys": None, "metadata": meta.version_meta(number)}
        if version.gone():
            return req.reply(body, status=404)
        tree = copy.deepcopy(version.data) if isinstance(version.data, dict) else {}
        strip_values(tree, 1, fd.get("depth"))
        body["subkeys"] = tree
        return req.reply(body)

    def config_read(self, req, fd):
        return req.reply({"cas_required": self.config["cas_required"],
                          "delete_version_after": go_duration(self.config["dva"]),
                          "max_versions": self.config["max_versions"]})

    def config_write(self, req, fd):
        value, given = fd.get_ok("max_versions")
        if given:
            self.config["max_versions"] = value & 0xFFFFFFFF
        value, given = fd.get_ok("cas_required")
        if given:
            self.config["cas_required"] = value
        value, given = fd.get_ok("delete_version_after")
        if given:
            self.config["dva"] = DISABLED if value < 0 else value
        return Resp(204)
