-- MFA factors (SPEC §8): TOTP only (RFC 6238). The shared secret is stored
-- only wrapped by the KMS (the same wrap the per-request read keys use):
-- secret_ciphertext + the key id that wrapped it. A factor is usable once
-- confirmed with a code; last_used_step is the highest TOTP time step ever
-- accepted for it, so a code (its step) at or below it is a replay.
CREATE TABLE mfa_factors (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind              text NOT NULL DEFAULT 'totp' CHECK (kind IN ('totp')),
    label             text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    secret_ciphertext bytea NOT NULL CHECK (length(secret_ciphertext) BETWEEN 1 AND 4096),
    secret_key_id     text NOT NULL CHECK (length(secret_key_id) BETWEEN 1 AND 512),
    last_used_step    bigint NOT NULL DEFAULT 0 CHECK (last_used_step >= 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    confirmed_at      timestamptz,
    last_used_at      timestamptz
);
CREATE UNIQUE INDEX mfa_factors_label ON mfa_factors (user_id, lower(label));
CREATE INDEX mfa_factors_user ON mfa_factors (user_id) WHERE confirmed_at IS NOT NULL;
