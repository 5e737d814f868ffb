package history

// The statements of the page-view and save paths, prepared once at open (prepareStatements).
// $n placeholders work with both SQLite and PostgreSQL.
const (
	newestQuery = `SELECT ` + entryColumns + ` FROM history_entries WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1`

	lastChangeQuery = `SELECT ` + entryColumns + ` FROM history_entries
		WHERE tenant_id = $1 AND kind IN ('saved', 'outside') ORDER BY id DESC LIMIT 1`

	insertQuery = `INSERT INTO history_entries (tenant_id, prev_id, kind, at_time,
		by_object_id, by_name, by_username, before_email, before_telephone, before_website,
		after_email, after_telephone, after_website, correlation_id, request_id, restored_from)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`

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
	// less the clock skew, $15 how many entries back it looks). $16 is the entry it put back. No
	// row when any of that fails.
	appendSaveAtEnd = `INSERT INTO history_entries (tenant_id, prev_id, kind, at_time,
		by_object_id, by_name, by_username, before_email, before_telephone, before_website,
		after_email, after_telephone, after_website, correlation_id, request_id, restored_from)
		SELECT $1, newest.id, 'saved', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $16
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
		by_object_id = $3, by_name = $4, by_username = $5, correlation_id = $6, request_id = $7, restored_from = $8
		WHERE id = $1 AND kind = 'outside'`

	// splitUpdate ends an outside entry where a save began.
	splitUpdate = `UPDATE history_entries SET at_time = $2,
		after_email = $3, after_telephone = $4, after_website = $5 WHERE id = $1 AND kind = 'outside'`

	// getQuery is one entry of a tenant.
	getQuery = `SELECT ` + entryColumns + ` FROM history_entries WHERE tenant_id = $1 AND id = $2`

	// peopleQuery names each person who saved in this app for tenant $1 once, as their newest
	// save does (a name may change); people without an object id are told by their user name.
	peopleQuery = `SELECT by_object_id, by_name, by_username FROM history_entries WHERE id IN (
		SELECT MAX(id) FROM history_entries WHERE tenant_id = $1 AND kind = 'saved'
		GROUP BY CASE WHEN by_object_id <> '' THEN by_object_id ELSE by_username END)`
)

// The statements of the history page and the exports: a Filter's conditions ($1-$6, see
// filterArgs), then the cursor's id ($7) and the page size ($8). One statement for every filter,
// whose unset conditions are always true, rather than one per combination: each is then one
// line of the queries file a later migration is checked against. Not prepared: page views of
// the history and exports are rare beside saves. They read the tenant index from the cursor on
// and check the other conditions entry by entry: a tenant's history is thousands of entries at
// most, a few milliseconds for a filter that keeps few of 1,000 (BenchmarkFilteredHistory).
const (
	// entryFilter keeps tenant $1's entries of kind $2 ('' any), saved by the person whose Key is
	// $3 ('' anyone), changing field $4 ('' any; a baseline changes none), stamped in [$5, $6).
	entryFilter = `tenant_id = $1
		AND ($2 = '' OR kind = $2)
		AND ($3 = '' OR kind = 'saved' AND (by_object_id = $3 OR by_object_id = '' AND by_username = $3))
		AND ($4 = '' OR kind <> 'baseline' AND ($4 = 'email' AND before_email <> after_email
			OR $4 = 'telephone' AND before_telephone <> after_telephone
			OR $4 = 'website' AND before_website <> after_website))
		AND at_time >= $5 AND at_time < $6`

	// olderQuery is the newest $8 entries the filter keeps below id $7: a page of the history
	// (below MaxInt64 for the newest) and a page of an export.
	olderQuery = `SELECT ` + entryColumns + ` FROM history_entries WHERE ` + entryFilter + `
		AND id < $7 ORDER BY id DESC LIMIT $8`

	// newerQuery is the $8 entries the filter keeps just above id $7, oldest first.
	newerQuery = `SELECT ` + entryColumns + ` FROM history_entries WHERE ` + entryFilter + `
		AND id > $7 ORDER BY id ASC LIMIT $8`

	// olderExistsQuery and newerExistsQuery tell whether the filter keeps an entry beyond id $7.
	olderExistsQuery = `SELECT EXISTS (SELECT 1 FROM history_entries WHERE ` + entryFilter + ` AND id < $7)`
	newerExistsQuery = `SELECT EXISTS (SELECT 1 FROM history_entries WHERE ` + entryFilter + ` AND id > $7)`

	// countQuery is how many entries the filter keeps.
	countQuery = `SELECT COUNT(*) FROM history_entries WHERE ` + entryFilter
)
