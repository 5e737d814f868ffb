-- A save already recorded is found by its request id, and the outside entry a save may claim among
-- those noticed since it began: without these, both read every entry of the tenant, and a save
-- got slower with every entry of the history.
CREATE INDEX history_entries_request ON history_entries (tenant_id, kind, request_id);
CREATE INDEX history_entries_kind_time ON history_entries (tenant_id, kind, at_time);
