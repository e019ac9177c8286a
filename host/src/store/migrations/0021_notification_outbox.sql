-- The durable notification outbox (SPEC §14, issue 15).
--
-- A row is written in the transaction of the change it reports (a request
-- submitted, decided, executed...; an agent gone stale; a job failed for
-- good), so a change that rolls back leaves no event and one that commits
-- always has its events. One row per event and notifier channel (the
-- notifier instance name from the server configuration). The worker's
-- dispatch_notifications task delivers pending rows through the channel's
-- notifier plugin, at least once: a row becomes delivered only after the
-- plugin said so, and dedupe_key (unique per channel) is handed to the
-- plugin so a repeated delivery can be recognised. A failed attempt sets
-- next_attempt_at by an exponential backoff with jitter (or the plugin's
-- Retry-After); after the channel's max attempts the row is dead and an
-- admin sees it (GET /api/v1/notifications?state=dead).
--
-- Never a value: title, summary and fields hold names, ids, key names,
-- the justification and who decided.
CREATE TABLE notification_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z_]*\.[a-z][a-z_]*$'),
    severity        text NOT NULL DEFAULT 'info' CHECK (severity IN ('info', 'warning', 'critical')),
    channel         text NOT NULL CHECK (length(channel) BETWEEN 1 AND 128),
    recipients      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(recipients) = 'array'),
    title           text NOT NULL CHECK (length(title) <= 300),
    summary         text NOT NULL DEFAULT '' CHECK (length(summary) <= 2000),
    fields          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(fields) = 'array'),
    link            text CHECK (length(link) <= 2000),
    dedupe_key      text NOT NULL CHECK (length(dedupe_key) BETWEEN 1 AND 300),
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text CHECK (length(last_error) <= 500),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (channel, dedupe_key)
);
CREATE INDEX notification_outbox_due ON notification_outbox (channel, next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX notification_outbox_dead ON notification_outbox (id) WHERE state = 'dead';
