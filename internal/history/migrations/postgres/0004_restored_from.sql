-- oldest reader: 2
-- (Only a column is added, with a default: builds that know 2 or 3 name their columns, so
-- their statements run unchanged and leave it out; their saves put nothing back, which 0 says.
-- A constant default is kept in the catalogue: adding it rewrites no row.)

-- A save made with "Put these values back" names the entry whose values it put back; 0: none.
-- No index: it is read with its entry, never searched for.
ALTER TABLE history_entries ADD COLUMN restored_from BIGINT NOT NULL DEFAULT 0;
