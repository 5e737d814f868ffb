-- oldest reader: 2
-- (A table of its own: builds that know 2, 3 or 4 neither read nor write it.)

-- The watch of changes made outside the app (internal/watch): at most one per partner tenant,
-- started by an admin on the profile page. While active it holds that person's refresh token,
-- sealed with the session keys (encrypted and authenticated), replaced at every use (the
-- provider rotates it). Stopped because the provider refused the token, it keeps when and why,
-- and no token.
CREATE TABLE watches (
    tenant_id            TEXT        PRIMARY KEY,
    state                TEXT        NOT NULL CHECK (state IN ('active', 'stopped')),
    started_at           TIMESTAMPTZ NOT NULL,
    started_by_object_id TEXT        NOT NULL DEFAULT '',
    started_by_name      TEXT        NOT NULL DEFAULT '',
    started_by_username  TEXT        NOT NULL DEFAULT '',
    sealed_token         TEXT        NOT NULL DEFAULT '', -- '' once stopped
    last_read_at         TIMESTAMPTZ,                     -- NULL until the first read
    stopped_at           TIMESTAMPTZ,
    stop_reason          TEXT        NOT NULL DEFAULT ''
);
