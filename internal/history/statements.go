package history

// The statements of the page-view and save paths, prepared once at open (prepareStatements).
// $n placeholders work with both SQLite and PostgreSQL.
const (
	newestQuery = `SELECT ` + entryColumns + ` FROM history_entries WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1`

	lastChangeQuery = `SELECT ` + entryColumns + ` FROM history_entries
		WHERE tenant_id = $1 AND kind IN ('saved', 'outside') ORDER BY id DESC LIMIT 1`

	insertQuery = `INSERT INTO history_entries (tenant_id, prev_id, kind, at_time,
		by_object_id, by_name, by_username, before_email, before_telephone, before_website,
		after_email, after_telephone, after_website, correlation_id, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`

	// metQuery is what a save can meet of its tenant's history (see met): among the entries
	// after id $2 stamped from $3 on, those saved with request id $4 or outside ones ending in
	// the values $5-$7.
	metQuery = `SELECT ` + entryColumns + ` FROM history_entries
		WHERE tenant_id = $1 AND id > $2 AND at_time >= $3
		AND (kind = 'saved' AND request_id = $4 AND request_id <> ''
			OR kind = 'outside' AND after_email = $5 AND after_telephone = $6 AND after_website = $7)`

	// appendSaveAtEnd appends a save in one statement in the common case (see
	// sqlStore.appendAtEnd): after the tenant's newest entry, when that entry ends in the values
	// the save's GET read ($6-$8) and the save met nothing (metQuery's conditions: $14 its start
	// less the clock skew, $15 how many entries back it looks). No row when any of that fails.
	appendSaveAtEnd = `INSERT INTO history_entries (tenant_id, prev_id, kind, at_time,
		by_object_id, by_name, by_username, before_email, before_telephone, before_website,
		after_email, after_telephone, after_website, correlation_id, request_id)
		SELECT $1, newest.id, 'saved', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
		FROM history_entries newest
		WHERE newest.id = (SELECT MAX(id) FROM history_entries WHERE tenant_id = $1)
		AND newest.after_email = $6 AND newest.after_telephone = $7 AND newest.after_website = $8
		AND NOT EXISTS (SELECT 1 FROM history_entries met
			WHERE met.tenant_id = $1 AND met.id > newest.id - $15 AND met.at_time >= $14
			AND (met.kind = 'saved' AND met.request_id = $13 AND met.request_id <> ''
				OR met.kind = 'outside' AND met.after_email = $9 AND met.after_telephone = $10 AND met.after_website = $11))
		RETURNING id`

	// claimUpdate makes the claimed outside entry the saved one.
	claimUpdate = `UPDATE history_entries SET kind = 'saved', at_time = $2,
		by_object_id = $3, by_name = $4, by_username = $5, correlation_id = $6, request_id = $7
		WHERE id = $1 AND kind = 'outside'`

	// splitUpdate ends an outside entry where a save began.
	splitUpdate = `UPDATE history_entries SET at_time = $2,
		after_email = $3, after_telephone = $4, after_website = $5 WHERE id = $1 AND kind = 'outside'`

	// exportPageQuery is a page of an export (see sqlStore.Export): the tenant's $3 newest
	// entries below id $2. Not prepared: exports are rare.
	exportPageQuery = `SELECT ` + entryColumns + ` FROM history_entries
		WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`
)
