-- The statements that builds of pcsupport knowing the SQLite history migrations up to 6 send,
-- one a line, whitespace collapsed, sorted. A later migration whose oldest reader is 6 or below
-- must keep each of them working (TestQueriesOfEachBuildWorkOnEveryLaterSchema). Every build that
-- knows up to 6 adds its own (go test ./internal/history -run Queries -update); none is taken
-- out, as a build that shipped can be rolled back to. See ../../migrations/README.md.
CREATE TABLE IF NOT EXISTS history_schema ( version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, oldest_reader INTEGER)
DELETE FROM history_entries WHERE id <= $2 AND at_time < $1 AND EXISTS ( SELECT 1 FROM history_entries newer WHERE newer.tenant_id = history_entries.tenant_id AND newer.id > history_entries.id)
DELETE FROM notification_deliveries WHERE queued_at < $1 AND state <> 'pending'
DELETE FROM watches WHERE tenant_id = $1
INSERT INTO history_entries (tenant_id, prev_id, kind, at_time, by_object_id, by_name, by_username, before_email, before_telephone, before_website, after_email, after_telephone, after_website, correlation_id, request_id) SELECT $1, newest.id, 'saved', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM history_entries newest WHERE newest.id = (SELECT MAX(id) FROM history_entries WHERE tenant_id = $1) AND newest.after_email = $6 AND newest.after_telephone = $7 AND newest.after_website = $8 AND NOT EXISTS (SELECT 1 FROM history_entries met WHERE met.tenant_id = $1 AND met.id > newest.id - $15 AND met.at_time >= $14 AND (met.kind = 'saved' AND met.request_id = $13 AND met.request_id <> '' OR met.kind = 'outside' AND met.after_email = $9 AND met.after_telephone = $10 AND met.after_website = $11)) RETURNING id
INSERT INTO history_entries (tenant_id, prev_id, kind, at_time, by_object_id, by_name, by_username, before_email, before_telephone, before_website, after_email, after_telephone, after_website, correlation_id, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id
INSERT INTO history_schema (version, applied_at, oldest_reader) VALUES ($1, $2, $3)
INSERT INTO notification_deliveries (notification_id, receiver, entry_id, tenant_id, queued_at, next_attempt, notification) VALUES ($1, $2, $3, $4, $5, $5, $6)
INSERT INTO watches (tenant_id, state, started_at, started_by_object_id, started_by_name, started_by_username, sealed_token) VALUES ($1, 'active', $2, $3, $4, $5, $6)
SELECT COUNT(*) FROM history_schema
SELECT COUNT(*) FROM pragma_table_info('history_schema') WHERE name = 'oldest_reader'
SELECT EXISTS (SELECT 1 FROM history_entries WHERE tenant_id = $1 AND id < $2)
SELECT EXISTS (SELECT 1 FROM history_entries WHERE tenant_id = $1 AND id > $2)
SELECT MAX(id) FROM history_entries WHERE at_time < $1
SELECT entry_id, receiver, state, attempts, last_error FROM notification_deliveries WHERE tenant_id = $1 AND entry_id IN ($2) ORDER BY entry_id, queued_at, receiver
SELECT id, tenant_id, kind, at_time, by_object_id, by_name, by_username, before_email, before_telephone, before_website, after_email, after_telephone, after_website, correlation_id, request_id FROM history_entries WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3
SELECT id, tenant_id, kind, at_time, by_object_id, by_name, by_username, before_email, before_telephone, before_website, after_email, after_telephone, after_website, correlation_id, request_id FROM history_entries WHERE tenant_id = $1 AND id > $2 AND at_time >= $3 AND (kind = 'saved' AND request_id = $4 AND request_id <> '' OR kind = 'outside' AND after_email = $5 AND after_telephone = $6 AND after_website = $7)
SELECT id, tenant_id, kind, at_time, by_object_id, by_name, by_username, before_email, before_telephone, before_website, after_email, after_telephone, after_website, correlation_id, request_id FROM history_entries WHERE tenant_id = $1 AND id > $2 ORDER BY id ASC LIMIT $3
SELECT id, tenant_id, kind, at_time, by_object_id, by_name, by_username, before_email, before_telephone, before_website, after_email, after_telephone, after_website, correlation_id, request_id FROM history_entries WHERE tenant_id = $1 AND kind IN ('saved', 'outside') ORDER BY id DESC LIMIT 1
SELECT id, tenant_id, kind, at_time, by_object_id, by_name, by_username, before_email, before_telephone, before_website, after_email, after_telephone, after_website, correlation_id, request_id FROM history_entries WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2
SELECT id, tenant_id, kind, at_time, by_object_id, by_name, by_username, before_email, before_telephone, before_website, after_email, after_telephone, after_website, correlation_id, request_id FROM history_entries WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1
SELECT receiver, attempts, queued_at, notification FROM notification_deliveries WHERE state = 'pending' AND next_attempt <= $1 ORDER BY queued_at, notification_id, receiver LIMIT $2
SELECT tenant_id, state, started_at, started_by_object_id, started_by_name, started_by_username, sealed_token, last_read_at, stopped_at, stop_reason FROM watches WHERE state = 'active' ORDER BY tenant_id
SELECT tenant_id, state, started_at, started_by_object_id, started_by_name, started_by_username, sealed_token, last_read_at, stopped_at, stop_reason FROM watches WHERE tenant_id = $1
SELECT tenant_id, state, started_at, started_by_object_id, started_by_name, started_by_username, sealed_token, last_read_at, stopped_at, stop_reason FROM watches WHERE tenant_id = $1 AND sealed_token = $2 AND state = 'active'
SELECT version, oldest_reader FROM history_schema ORDER BY version DESC LIMIT 1
UPDATE history_entries SET at_time = $2, after_email = $3, after_telephone = $4, after_website = $5 WHERE id = $1 AND kind = 'outside'
UPDATE history_entries SET kind = 'saved', at_time = $2, by_object_id = $3, by_name = $4, by_username = $5, correlation_id = $6, request_id = $7 WHERE id = $1 AND kind = 'outside'
UPDATE history_schema SET oldest_reader = $1 WHERE version = $2
UPDATE notification_deliveries SET attempts = $3, next_attempt = $4, last_error = $5 WHERE notification_id = $1 AND receiver = $2 AND state = 'pending'
UPDATE notification_deliveries SET state = 'delivered', next_attempt = $3 WHERE notification_id = $1 AND receiver = $2 AND state = 'pending'
UPDATE notification_deliveries SET state = 'gave_up', next_attempt = $3, last_error = $4 WHERE notification_id = $1 AND receiver = $2 AND state = 'pending'
UPDATE watches SET last_read_at = $3 WHERE tenant_id = $1 AND sealed_token = $2 AND state = 'active'
UPDATE watches SET sealed_token = $3 WHERE tenant_id = $1 AND sealed_token = $2 AND state = 'active'
UPDATE watches SET state = 'stopped', sealed_token = '', stopped_at = $2, stop_reason = $3 WHERE tenant_id = $1
