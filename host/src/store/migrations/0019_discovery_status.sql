-- Discovery progress and status (issue 10): a discover job counts the
-- catalog rows its agent uploaded (chunks arrive before the completion),
-- and its completion records on the connection when discovery last ran,
-- how it ended and how many secrets it saw.
ALTER TABLE jobs ADD COLUMN items_uploaded integer NOT NULL DEFAULT 0 CHECK (items_uploaded >= 0);

ALTER TABLE provider_connections
    ADD COLUMN discovery_last_run_at  timestamptz,
    ADD COLUMN discovery_last_outcome text
        CHECK (discovery_last_outcome IN ('succeeded', 'failed_retryable', 'failed_permanent')),
    ADD COLUMN discovery_last_count   integer CHECK (discovery_last_count >= 0),
    ADD COLUMN discovery_last_error   text CHECK (length(discovery_last_error) <= 500);
