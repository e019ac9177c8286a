-- The network boundary (agent cluster) that serves a provider connection:
-- agents enrolled for the connection run there (SPEC §9). A name, never an
-- address or a credential; NULL until an operator sets it.
ALTER TABLE provider_connections
    ADD COLUMN cluster text CHECK (cluster ~ '^[a-z0-9][a-z0-9-]{0,62}$');
