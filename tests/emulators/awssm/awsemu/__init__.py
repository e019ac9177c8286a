"""A strict local emulator of AWS Secrets Manager, KMS, STS and IMDSv2 (see ../README.md)."""
