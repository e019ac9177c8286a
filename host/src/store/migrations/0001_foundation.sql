-- Platform-wide settings (SPEC §7 "platform settings"): one JSON value per
-- key, edited through the API by admins. The first table every deployment
-- needs; later migrations (0002+) add identity, tenancy and audit.
CREATE TABLE platform_settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
