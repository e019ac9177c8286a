"""A strict local emulator of the read side of the Argo CD REST API (see ../README.md)."""
