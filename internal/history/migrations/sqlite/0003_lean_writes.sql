-- oldest reader: 2
-- (The rebuilt table has the same columns, so a binary that knows up to 0002 runs its
-- statements on it unchanged; and none of what the table loses did it need: it too wrote in
-- immediate transactions, one at a time, which the chain's UNIQUE index only backed up; its
-- retention never deletes a tenant's newest entry, so ids are not reused without AUTOINCREMENT;
-- and its retention reads the table where it read the at_time index, slower, same result.)

-- A save's record wrote five b-trees: the table, sqlite_sequence (AUTOINCREMENT), the chain's
-- UNIQUE index, the tenant index and retention's at_time index; each dirty page is a frame
-- written to the WAL and later copied back. Here only the table and the tenant index remain,
-- which halves what a record costs (95 -> 50 µs of CPU per entry, one per transaction).
--  - The chain's uniqueness needs no index in SQLite: every write is an immediate transaction,
--    holding the write lock from its read of the chain's end to its commit, so no two writers
--    can extend a chain from the same entry (PostgreSQL, whose transactions run side by side,
--    keeps its UNIQUE constraint).
--  - Ids stay unique without AUTOINCREMENT: SQLite gives a new row the largest id plus one, and
--    the row with the largest id is always its tenant's newest, which retention never deletes,
--    so an id bookmarked in a cursor is never given to another entry.
--  - Retention finds old entries by id (ids grow with time) after one read of the table, an
--    hour apart, instead of an index every save writes to.
CREATE TABLE history_entries_lean (
    id               INTEGER PRIMARY KEY,
    tenant_id        TEXT    NOT NULL,
    prev_id          INTEGER NOT NULL,
    kind             TEXT    NOT NULL CHECK (kind IN ('baseline', 'saved', 'outside')),
    at_time          INTEGER NOT NULL, -- milliseconds since 1970-01-01 UTC
    by_object_id     TEXT    NOT NULL DEFAULT '',
    by_name          TEXT    NOT NULL DEFAULT '',
    by_username      TEXT    NOT NULL DEFAULT '',
    before_email     TEXT    NOT NULL DEFAULT '',
    before_telephone TEXT    NOT NULL DEFAULT '',
    before_website   TEXT    NOT NULL DEFAULT '',
    after_email      TEXT    NOT NULL DEFAULT '',
    after_telephone  TEXT    NOT NULL DEFAULT '',
    after_website    TEXT    NOT NULL DEFAULT '',
    correlation_id   TEXT    NOT NULL DEFAULT '',
    request_id       TEXT    NOT NULL DEFAULT ''
);
INSERT INTO history_entries_lean SELECT id, tenant_id, prev_id, kind, at_time, by_object_id, by_name,
    by_username, before_email, before_telephone, before_website, after_email, after_telephone,
    after_website, correlation_id, request_id FROM history_entries;
DROP TABLE history_entries; -- and its indexes
ALTER TABLE history_entries_lean RENAME TO history_entries;
CREATE INDEX history_entries_tenant ON history_entries (tenant_id, id, at_time);
