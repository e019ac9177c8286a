"""vaultemu: the implementation package of the Vault emulator (see ../vault_emulator.py).

Modules, one concern each: util (clock, Go-compatible JSON/decoding), acl (policies),
state (namespaces, mounts, tokens), kv (KV v2 engine), transit (Transit engine),
auth (token/AppRole/Kubernetes auth, sys paths), router (the /v1/ pipeline),
control (/_emulator/ API, faults, request log), server (HTTP + command line).
"""
