"""KMS operations (JSON 1.1, target prefix `TrentService.`, signing service `kms`).

Contract (reference §2.3): Encrypt, Decrypt, GenerateDataKey, DescribeKey, CreateKey.
- Keys are addressed by key id, key ARN (`arn:aws:kms:{region}:{acct}:key/{id}`) or
  `alias/x`; unknown -> NotFoundException; a disabled key -> DisabledException.
- Plaintext is base64 on the wire, at most 4096 bytes (ValidationException beyond).
- CiphertextBlob (base64) is an emulator format: "EKMS1" | len(key id) | key id |
  nonce(16) | ciphertext | tag(32). The cipher is an HMAC-SHA256 keystream with an
  HMAC-SHA256 tag over key id, nonce, encryption context and ciphertext (standard
  library only; it stands in for AWS's AES-GCM and is not meant to protect anything).
  A changed blob or a different EncryptionContext -> InvalidCiphertextException;
  Decrypt with a KeyId that is not the blob's key -> IncorrectKeyException.
- Outputs carry the key ARN as KeyId and EncryptionAlgorithm SYMMETRIC_DEFAULT.
"""

import base64
import hashlib
import hmac
import os
import uuid

from .errors import AwsError

MAGIC = b"EKMS1"


def _b64(data):
    return base64.b64encode(data).decode()


def _unb64(text, what):
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise AwsError(400, "SerializationException", "%s is not valid base64." % what)


def _stream(key, nonce, n):
    out, counter = b"", 0
    while len(out) < n:
        out += hmac.new(key, b"ks" + nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
    return out[:n]


def _context_bytes(ctx):
    if ctx is None:
        return b""
    if not isinstance(ctx, dict) or not all(isinstance(v, str) for v in ctx.values()):
        raise AwsError(400, "ValidationException", "EncryptionContext must map strings to strings.")
    return "\n".join("%s=%s" % kv for kv in sorted(ctx.items())).encode()


class Kms:
    def __init__(self, region, account):
        self.region = region
        self.account = account
        self.keys = {}  # arn -> {"id", "arn", "material", "enabled"}
        self.aliases = {}  # "alias/x" -> arn

    def add_key(self, key_id=None, alias=None, enabled=True):
        kid = key_id or str(uuid.uuid4())
        arn = "arn:aws:kms:%s:%s:key/%s" % (self.region, self.account, kid)
        self.keys[arn] = {"id": kid, "arn": arn, "material": os.urandom(32), "enabled": enabled}
        if alias:
            self.aliases[alias] = arn
        return arn

    def _key(self, key_id, need_enabled=True):
        if not isinstance(key_id, str) or not key_id:
            raise AwsError(400, "ValidationException", "KeyId is required.")
        arn = self.aliases.get(key_id)
        if arn is None:
            for k in self.keys.values():
                if key_id in (k["id"], k["arn"]):
                    arn = k["arn"]
        key = self.keys.get(arn)
        if key is None:
            raise AwsError(400, "NotFoundException", "Key '%s' does not exist" % key_id)
        if need_enabled and not key["enabled"]:
            raise AwsError(400, "DisabledException", "%s is disabled." % key["arn"])
        return key

    def _seal(self, key, plaintext, ctx):
        nonce = os.urandom(16)
        kid = key["arn"].encode()
        ct = bytes(a ^ b for a, b in zip(plaintext, _stream(key["material"], nonce, len(plaintext))))
        tag = hmac.new(key["material"], kid + nonce + _context_bytes(ctx) + ct,
                       hashlib.sha256).digest()
        return MAGIC + len(kid).to_bytes(2, "big") + kid + nonce + ct + tag

    def CreateKey(self, req):
        arn = self.add_key()
        k = self.keys[arn]
        return {"KeyMetadata": {"KeyId": k["id"], "Arn": arn, "Enabled": True,
                                "KeyState": "Enabled", "KeyUsage": "ENCRYPT_DECRYPT",
                                "KeySpec": "SYMMETRIC_DEFAULT"}}

    def DescribeKey(self, req):
        k = self._key(req.get("KeyId"), need_enabled=False)
        return {"KeyMetadata": {"KeyId": k["id"], "Arn": k["arn"], "Enabled": k["enabled"],
                                "KeyState": "Enabled" if k["enabled"] else "Disabled",
                                "KeyUsage": "ENCRYPT_DECRYPT", "KeySpec": "SYMMETRIC_DEFAULT"}}

    def Encrypt(self, req):
        key = self._key(req.get("KeyId"))
        pt = _unb64(req.get("Plaintext", ""), "Plaintext")
        if not 1 <= len(pt) <= 4096:
            raise AwsError(400, "ValidationException",
                           "1 validation error detected: Value at 'plaintext' failed to satisfy "
                           "constraint: Member must have length between 1 and 4096")
        blob = self._seal(key, pt, req.get("EncryptionContext"))
        return {"CiphertextBlob": _b64(blob), "KeyId": key["arn"],
                "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}

    def GenerateDataKey(self, req):
        key = self._key(req.get("KeyId"))
        n = req.get("NumberOfBytes") or {"AES_256": 32, "AES_128": 16}.get(req.get("KeySpec"))
        if not isinstance(n, int) or not 1 <= n <= 1024:
            raise AwsError(400, "ValidationException", "KeySpec or NumberOfBytes is required.")
        pt = os.urandom(n)
        return {"CiphertextBlob": _b64(self._seal(key, pt, req.get("EncryptionContext"))),
                "Plaintext": _b64(pt), "KeyId": key["arn"]}

    def Decrypt(self, req):
        blob = _unb64(req.get("CiphertextBlob", ""), "CiphertextBlob")
        bad = AwsError(400, "InvalidCiphertextException", None)
        if len(blob) < len(MAGIC) + 2 + 16 + 32 or not blob.startswith(MAGIC):
            raise bad
        n = int.from_bytes(blob[5:7], "big")
        kid = blob[7:7 + n].decode(errors="replace")
        rest = blob[7 + n:]
        if len(rest) < 48:
            raise bad
        nonce, ct, tag = rest[:16], rest[16:-32], rest[-32:]
        key = self.keys.get(kid)
        if key is None:
            raise bad
        if req.get("KeyId") is not None and self._key(req["KeyId"], False)["arn"] != kid:
            raise AwsError(400, "IncorrectKeyException",
                           "The key ID in the request does not identify a CMK that can perform "
                           "this operation.")
        if not key["enabled"]:
            raise AwsError(400, "DisabledException", "%s is disabled." % kid)
        want = hmac.new(key["material"], kid.encode() + nonce +
                        _context_bytes(req.get("EncryptionContext")) + ct, hashlib.sha256).digest()
        if not hmac.compare_digest(want, tag):
            raise bad
        pt = bytes(a ^ b for a, b in zip(ct, _stream(key["material"], nonce, len(ct))))
        return {"KeyId": kid, "Plaintext": _b64(pt), "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
