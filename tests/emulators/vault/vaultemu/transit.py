"""Transit secrets engine (encryption as a service), following builtin/logical/transit.

Contract (paths relative to the mount):
  keys (LIST), keys/<k> GET/POST/DELETE, keys/<k>/rotate POST, keys/<k>/config POST
  encrypt/<k> (upserts the key when the ACL operation is "create"), decrypt/<k>,
  rewrap/<k>, datakey/plaintext|wrapped/<k>; encrypt/decrypt/rewrap accept batch_input.
Ciphertext is "vault:v<version>:" + base64(nonce || ciphertext || tag) with AES-GCM
(aes256-gcm96, aes128-gcm96) or ChaCha20-Poly1305; the key bytes never leave the emulator.
Error strings follow keysutil/policy.go and path_encrypt.go / path_decrypt.go, including
the batch rule: any failed item makes the whole answer 400 (or partial_failure_response_code
when some items succeeded) while the body still carries data.batch_results.
"""

import hashlib
import hmac
import os
import re

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from .util import CLOCK, ApiError, Resp, Route, b64encode, go_b64decode

_NAME = r"[0-9A-Za-z_](?:[0-9A-Za-z_\-.@]*[0-9A-Za-z_])?"
_KEY_SIZES = {"aes256-gcm96": 32, "aes128-gcm96": 16, "chacha20-poly1305": 32}
_OTHER_TYPES = {"rsa-2048", "rsa-3072", "rsa-4096", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521",
                "ed25519", "hmac", "managed_key"}
ERR_TOO_OLD = "ciphertext or signature version is disallowed by policy (too old)"
ERR_DERIVED = ("missing 'context' for key derivation; the key was created using a derived key, "
               "which means additional, per-request information must be included in order to "
               "perform operations with the key")

_ITEM_FIELDS = {"plaintext": "string", "ciphertext": "string", "context": "string",
                "nonce": "string", "key_version": "int", "associated_data": "string",
                "partial_failure_response_code": "int", "batch_input": "slice",
                "type": "string", "convergent_encryption": "bool", "reference": "string"}
_KEY_FIELDS = {"type": "string", "derived": "bool", "exportable": "bool",
               "allow_plaintext_backup": "bool", "convergent_encryption": "bool",
               "auto_rotate_period": "duration", "min_decryption_version": "int",
               "min_encryption_version": "int", "deletion_allowed": "bool"}
_DATAKEY_FIELDS = {"bits": "int", "context": "string", "nonce": "string", "key_version": "int"}


class UserError(Exception):
    pass


class TransitKey:
    def __init__(self, name, key_type, derived=False):
        self.name = name
        self.type = key_type
        self.derived = derived
        self.versions = {}
        self.latest_version = 0
        self.min_decryption_version = 1
        self.min_encryption_version = 0
        self.deletion_allowed = False
        self.exportable = False
        self.allow_plaintext_backup = False
        self.auto_rotate_period = 0
        self.rotate()

    def rotate(self):
        self.latest_version += 1
        self.versions[self.latest_version] = (os.urandom(_KEY_SIZES[self.type]), int(CLOCK.now()))

    def describe(self):
        info = {
            "allow_plaintext_backup": self.allow_plaintext_backup,
            "auto_rotate_period": self.auto_rotate_period, "deletion_allowed": self.deletion_allowed,
            "derived": self.derived, "exportable": self.exportable, "imported_key": False,
            "keys": {str(v): created for v, (_, created) in self.versions.items()
                     if v >= self.min_decryption_version},
            "latest_version": self.latest_version, "min_available_version": 0,
            "min_decryption_version": self.min_decryption_version,
            "min_encryption_version": self.min_encryption_version, "name": self.name,
            "supports_decryption": True, "supports_derivation": True,
            "supports_encryption": True, "supports_signing": False, "type": self.type,
        }
        if self.derived:
            info.update(kdf="hkdf_sha256", convergent_encryption=False)
        return info

    def _aead(self, version, context):
        key = self.versions[version][0]
        if self.derived:
            if not context:
                raise UserError(ERR_DERIVED)
            key = hmac.new(key, context, hashlib.sha256).digest()[:len(key)]
        return ChaCha20Poly1305(key) if self.type == "chacha20-poly1305" else AESGCM(key)

    def encrypt(self, version, plaintext_b64, context, aad):
        try:
            plaintext = go_b64decode(plaintext_b64)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if version == 0:
            version = self.latest_version
        elif version < 0:
            raise UserError("requested version for encryption is negative")
        elif version > self.latest_version:
            raise UserError("requested version for encryption is higher than the latest key version")
        elif version < self.min_encryption_version:
            raise UserError("requested version for encryption is less than the minimum "
                            "encryption key version")
        nonce = os.urandom(12)
        sealed = self._aead(version, context).encrypt(nonce, plaintext, aad or None)
        return "vault:v%d:%s" % (version, b64encode(nonce + sealed)), version

    def decrypt(self, ciphertext, context, aad):
        if not ciphertext.startswith("vault:v"):
            raise UserError("invalid ciphertext: no prefix")
        parts = ciphertext[len("vault:v"):].split(":", 1)
        if len(parts) != 2:
            raise UserError("invalid ciphertext: wrong number of fields")
        if not re.fullmatch(r"[+-]?\d+", parts[0]):
            raise UserError("invalid ciphertext: version number could not be decoded")
        version = int(parts[0]) or 1
        if version > self.latest_version:
            raise UserError("invalid ciphertext: version is too new")
        if self.min_decryption_version > 0 and version < self.min_decryption_version:
            raise UserError(ERR_TOO_OLD)
        try:
            blob = go_b64decode(parts[1])
        except ValueError:
            raise UserError("invalid ciphertext: could not decode base64") from None
        aead = self._aead(version, context)
        if len(blob) < 12:
            raise UserError("invalid ciphertext length")
        try:
            plain = aead.decrypt(blob[:12], blob[12:], aad or None)
        except Exception:  # cryptography raises InvalidTag
            raise UserError("cipher: message authentication failed") from None
        return b64encode(plain), version


def _decode_optional_b64(value):
    if not value:
        return b""
    try:
        return go_b64decode(value)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _batch_items(raw, required, kind):
    """decodeBatchRequestItems: a malformed batch is a bare error (HTTP 500 in Vault)."""
    if not isinstance(raw, list):
        raise ApiError(500, ["failed to parse batch input: source data must be an array or slice, "
                             "got %s" % type(raw).__name__], bare=True)
    problems = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ApiError(500, ["failed to parse batch input: [%d] expected a map, got '%s'"
                                 % (index, type(item).__name__)], bare=True)
        for field in ("context", "ciphertext", "plaintext", "nonce", "associated_data", "reference"):
            if item.get(field) is not None and not isinstance(item[field], str):
                problems.append("'[%d].%s' expected type 'string', got unconvertible type '%s'"
                                % (index, field, type(item[field]).__name__))
        version = item.get("key_version")
        if version is not None and (isinstance(version, (bool, float)) or not isinstance(version, int)):
            problems.append("'[%d].key_version' expected type 'int', got unconvertible type '%s'"
                            % (index, type(version).__name__))
        if required not in item:
            problems.append("'[%d].%s' missing %s to %s" % (index, required, required, kind))
    if problems:
        raise ApiError(500, ["failed to parse batch input: %d error(s) decoding:\n\n%s" % (
            len(problems), "\n".join("* " + p for p in problems))], bare=True)
    return raw


class TransitEngine:
    mount_type = "transit"

    def __init__(self):
        self.keys = {}

    def route(self, subpath):
        if subpath in ("keys", "keys/"):
            return Route({"list": self.keys_list})
        match = re.fullmatch(r"keys/(%s)(/rotate|/config)?" % _NAME, subpath)
        if match:
            cap = {"name": match.group(1)}
            if match.group(2) == "/rotate":
                return Route({"update": self.key_rotate}, {}, cap)
            if match.group(2) == "/config":
                return Route({"update": self.key_config}, _KEY_FIELDS, cap)
            return Route({"read": self.key_read, "update": self.key_create,
                          "delete": self.key_delete}, _KEY_FIELDS, cap)
        match = re.fullmatch(r"(encrypt|decrypt|rewrap)/(%s)" % _NAME, subpath)
        if match:
            cap = {"name": match.group(2)}
            if match.group(1) == "encrypt":
                return Route({"create": self.encrypt, "update": self.encrypt}, _ITEM_FIELDS, cap,
                             lambda c: c["name"] in self.keys)
            handler = self.decrypt if match.group(1) == "decrypt" else self.rewrap
            return Route({"update": handler}, _ITEM_FIELDS, cap)
        match = re.fullmatch(r"datakey/(%s)/(%s)" % (_NAME, _NAME), subpath)
        if match:
            return Route({"update": self.datakey}, _DATAKEY_FIELDS,
                         {"plaintext": match.group(1), "name": match.group(2)})
        return None

    def put_key(self, name, key_type="aes256-gcm96", derived=False):
        if key_type in _OTHER_TYPES:
            raise ApiError(400, ["key type %s is not supported by this emulator" % key_type])
        if key_type not in _KEY_SIZES:
            raise ApiError(400, ["unknown key type %s" % key_type])
        created = name not in self.keys
        if created:
            self.keys[name] = TransitKey(name, key_type, derived)
        return self.keys[name], created

    # -- keys ----------------------------------------------------------------------------
    def keys_list(self, req, fd):
        if not self.keys:
            raise ApiError(404)
        return req.reply({"keys": sorted(self.keys)})

    def key_read(self, req, fd):
        key = self.keys.get(req.captures["name"])
        if key is None:
            raise ApiError(404)
        return req.reply(key.describe())

    def key_create(self, req, fd):
        key, created = self.put_key(req.captures["name"], fd.get("type") or "aes256-gcm96",
                                    fd.get("derived"))
        if created:
            key.exportable = fd.get("exportable")
            key.allow_plaintext_backup = fd.get("allow_plaintext_backup")
            key.auto_rotate_period = fd.get("auto_rotate_period")
        warnings = None if created else ["key %s already existed" % key.name]
        return req.reply(key.describe(), warnings=warnings)

    def key_delete(self, req, fd):
        key = self.keys.get(req.captures["name"])
        if key is None:
            raise ApiError(400, ["no such key %s" % req.captures["name"]])
        if not key.deletion_allowed:
            raise ApiError(400, ["deletion is not allowed for this key"])
        del self.keys[key.name]
        return Resp(204)

    def key_rotate(self, req, fd):
        key = self.keys.get(req.captures["name"])
        if key is None:
            raise ApiError(400, ["key not found"])
        key.rotate()
        return req.reply(key.describe())

    def key_config(self, req, fd):
        key = self.keys.get(req.captures["name"])
        if key is None:
            raise ApiError(400, ["no key found with name %s; to import a new key, use the "
                                 "import/ endpoint" % req.captures["name"]])
        min_dec, given = fd.get_ok("min_decryption_version")
        if given and min_dec > 0:
            if min_dec > key.latest_version:
                raise ApiError(400, ["cannot set min decryption version of %d, latest key version "
                                     "is %d" % (min_dec, key.latest_version)])
            key.min_decryption_version = min_dec
        min_enc, given = fd.get_ok("min_encryption_version")
        if given:
            if min_enc > key.latest_version:
                raise ApiError(400, ["cannot set min encryption version of %d, latest key version "
                                     "is %d" % (min_enc, key.latest_version)])
            key.min_encryption_version = min_enc
        for flag in ("deletion_allowed", "exportable", "allow_plaintext_backup"):
            value, given = fd.get_ok(flag)
            if given:
                setattr(key, flag, value)
        return req.reply(key.describe())

    # -- crypto operations -----------------------------------------------------------------
    def _items(self, fd, required, kind):
        raw = fd.raw.get("batch_input")
        if raw is not None:
            items = _batch_items(raw, required, kind)
            if not items:
                raise ApiError(400, ["missing batch input to process"])
            return items, True
        value, present = fd.get_ok(required)
        if not present or (required == "ciphertext" and value == ""):
            raise ApiError(400, ["missing %s to %s" % (required, kind)])
        item = {name: fd.get(name) for name in ("context", "nonce", "associated_data", "key_version")}
        item[required] = value
        return [item], False

    @staticmethod
    def _check_context(items):
        with_context = bool(items[0].get("context"))
        if any(bool(item.get("context")) != with_context for item in items):
            raise ApiError(400, ["context should be set either in all the request blocks or in none"])
        return with_context

    def _key_for(self, req, fd, with_context):
        name = req.captures["name"]
        if req.op == "create" and name not in self.keys:
            self.put_key(name, fd.get("type") or "aes256-gcm96", with_context)
        key = self.keys.get(name)
        if key is None:
            raise ApiError(400, ["encryption key not found"])
        return key

    def _run(self, req, fd, items, batch, work, failure=None):
        results, failed, succeeded = [], False, False
        for item in items:
            try:
                result = work(item)
                succeeded = True
            except UserError as exc:
                result = dict(failure or {}, error=str(exc))
                failed = True
            if batch:
                result["reference"] = item.get("reference") or ""
            results.append(result)
        if not batch:
            if failed:
                raise ApiError(400, [results[0]["error"]])
            return req.reply(results[0])
        status = 200
        if failed:
            status = 400
            override = fd.get("partial_failure_response_code")
            if succeeded and 1 <= override <= 599:
                status = override
        return req.reply({"batch_results": results}, status=status)

    def encrypt(self, req, fd):
        items, batch = self._items(fd, "plaintext", "encrypt")
        key = self._key_for(req, fd, self._check_context(items))

        def work(item):
            if item.get("nonce"):
                raise UserError("provided nonce not allowed for this key")
            context = _decode_optional_b64(item.get("context"))
            aad = _decode_optional_b64(item.get("associated_data"))
            version = item.get("key_version") or 0
            ciphertext, used = key.encrypt(int(version), item.get("plaintext") or "", context, aad)
            return {"ciphertext": ciphertext, "key_version": used}
        return self._run(req, fd, items, batch, work)

    def decrypt(self, req, fd):
        items, batch = self._items(fd, "ciphertext", "decrypt")
        key = self._key_for(req, fd, self._check_context(items))

        def work(item):
            if not item.get("ciphertext"):
                raise UserError("missing ciphertext to decrypt")
            context = _decode_optional_b64(item.get("context"))
            aad = _decode_optional_b64(item.get("associated_data"))
            return {"plaintext": key.decrypt(item["ciphertext"], context, aad)[0]}
        return self._run(req, fd, items, batch, work, failure={"plaintext": ""})

    def rewrap(self, req, fd):
        items, batch = self._items(fd, "ciphertext", "decrypt")
        key = self._key_for(req, fd, self._check_context(items))

        def work(item):
            context = _decode_optional_b64(item.get("context"))
            plain, _ = key.decrypt(item.get("ciphertext") or "", context, b"")
            ciphertext, used = key.encrypt(int(item.get("key_version") or 0), plain, context, b"")
            return {"ciphertext": ciphertext, "key_version": used}
        return self._run(req, fd, items, batch, work)

    def datakey(self, req, fd):
        kind = req.captures["plaintext"]
        if kind not in ("plaintext", "wrapped"):
            raise ApiError(400, ["Invalid path, must be 'plaintext' or 'wrapped'"])
        bits = fd.get("bits") or 256
        if bits not in (128, 256, 512):
            raise ApiError(400, ["invalid bits value"])
        key = self.keys.get(req.captures["name"])
        if key is None:
            raise ApiError(400, ["encryption key not found"])
        secret = os.urandom(bits // 8)
        try:
            context = _decode_optional_b64(fd.get("context"))
            ciphertext, used = key.encrypt(fd.get("key_version"), b64encode(secret), context, b"")
        except UserError as exc:
            raise ApiError(400, [str(exc)]) from None
        data = {"ciphertext": ciphertext, "key_version": used}
        if kind == "plaintext":
            data["plaintext"] = b64encode(secret)
        return req.reply(data)
