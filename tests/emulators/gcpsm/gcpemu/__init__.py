"""A strict local emulator of GCP Secret Manager REST v1, Google's OAuth2 token endpoint and the
GCE metadata server (see ../README.md)."""
