-- oldest reader: 1
-- (The first migration: every binary knows it.)

-- One row per step of a tenant's history. prev_id links each entry to the one it follows (0 for
-- a tenant's first), and UNIQUE (tenant_id, prev_id) lets only one writer extend a chain from a
-- given entry: two replicas noticing the same change record it once.
CREATE TABLE history_entries (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        TEXT        NOT NULL,
    prev_id          BIGINT      NOT NULL,
    kind             TEXT        NOT NULL CHECK (kind IN ('baseline', 'saved', 'outside')),
    at_time          TIMESTAMPTZ NOT NULL,
    by_object_id     TEXT        NOT NULL DEFAULT '',
    by_name          TEXT        NOT NULL DEFAULT '',
    by_username      TEXT        NOT NULL DEFAULT '',
    before_email     TEXT        NOT NULL DEFAULT '',
    before_telephone TEXT        NOT NULL DEFAULT '',
    before_website   TEXT        NOT NULL DEFAULT '',
    after_email      TEXT        NOT NULL DEFAULT '',
    after_telephone  TEXT        NOT NULL DEFAULT '',
    after_website    TEXT        NOT NULL DEFAULT '',
    correlation_id   TEXT        NOT NULL DEFAULT '',
    request_id       TEXT        NOT NULL DEFAULT '',
    CONSTRAINT history_entries_chain UNIQUE (tenant_id, prev_id)
);

CREATE INDEX history_entries_tenant ON history_entries (tenant_id, id);
CREATE INDEX history_entries_age ON history_entries (at_time); -- for retention
