#!/usr/bin/env python3
"""Test helper: makes an RSA-2048 key and a self-signed certificate for an Entra ID app
(DIR/key.pem, DIR/cert.pem) and, unless --no-register, registers the certificate for
CLIENT_ID with the Key Vault emulator's control API on PORT.

usage: make_app_cert.py DIR PORT CLIENT_ID [--no-register]
"""
import datetime
import json
import os
import sys
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def main(directory, port, client_id, register=True):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, client_id)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    fd = os.open(os.path.join(directory, "key.pem"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(os.path.join(directory, "cert.pem"), "wb") as f:
        f.write(pem)
    if register:
        req = urllib.request.Request(
            "http://127.0.0.1:%s/_emulator/apps" % port, method="POST",
            data=json.dumps({"client_id": client_id, "certificate_pem": pem.decode()}).encode(),
            headers={"X-Emulator-Admin": "1"})
        urllib.request.urlopen(req, timeout=10).read()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], "--no-register" not in sys.argv[4:]))
