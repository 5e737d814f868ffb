-- oldest reader: 3
-- (A table of its own: builds that know 3, 4 or 5 neither read nor write it.)

-- The watch of changes made outside the app (internal/watch): at most one per partner tenant,
-- started by an admin on the profile page. While active it holds that person's refresh token,
-- sealed with the session keys (encrypted and authenticated), replaced at every use (the
-- provider rotates it). Stopped because the provider refused the token, it keeps when and why,
-- and no token.
CREATE TABLE watches (
    tenant_id            TEXT    PRIMARY KEY,
    state                TEXT    NOT NULL CHECK (state IN ('active', 'stopped')),
    started_at           INTEGER NOT NULL, -- milliseconds since 1970-01-01 UTC
    started_by_object_id TEXT    NOT NULL DEFAULT '',
    started_by_name      TEXT    NOT NULL DEFAULT '',
    started_by_username  TEXT    NOT NULL DEFAULT '',
    sealed_token         TEXT    NOT NULL DEFAULT '', -- '' once stopped
    last_read_at         INTEGER,                     -- NULL until the first read
    stopped_at           INTEGER,
    stop_reason          TEXT    NOT NULL DEFAULT ''
);
