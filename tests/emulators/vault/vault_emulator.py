#!/usr/bin/env python3
"""Strict local emulator of the HashiCorp Vault HTTP API (entry point).

Contract: `python3 vault_emulator.py --port 0 --port-file FILE [--host 127.0.0.1]
[--root-token ROOT] [--require-request-header] [--multierror-403] [--seed FILE.json]`
serves Vault's /v1/ API (KV v2, Transit, token/AppRole/Kubernetes auth, namespaces,
ACL policies) with Vault's exact status codes and error bodies, plus a control API
under /_emulator/ (header X-Emulator-Admin: 1) for seeding, clock, tokens and faults.
Python 3.11 standard library plus Debian's python3-cryptography (AES-GCM). The
implementation lives in the `vaultemu` package next to this file; see README.md.
"""

import os
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # emucommon
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vaultemu.server import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
