-- oldest reader: 1
-- (Only an index changes: a binary that knows 0001 alone finds the same table and columns.)

-- A save looks at its tenant's newest entries for those stamped since it began (the one it may
-- have recorded already, the outside entry it may claim). With at_time in the tenant index,
-- the look reads the index alone and fetches only the entries it finds.
DROP INDEX history_entries_tenant;
CREATE INDEX history_entries_tenant ON history_entries (tenant_id, id, at_time);
