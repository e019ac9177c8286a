"""Azure Key Vault secrets (data plane), Entra ID token endpoint and IMDS emulator."""
