package history

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
)

func (s *sqlStore) List(ctx context.Context, tenantID string, c Cursor, limit int) (Page, error) {
	if limit < 1 || limit > MaxPageSize {
		limit = DefaultPageSize
	}
	// One more than the page tells whether there is more that way.
	const pick = `SELECT ` + entryColumns + ` FROM history_entries WHERE tenant_id = $1 `
	var rows *sql.Rows
	var err error
	switch {
	case c.Before > 0:
		rows, err = s.db.QueryContext(ctx, pick+`AND id < $2 ORDER BY id DESC LIMIT $3`, tenantID, c.Before, limit+1)
	case c.After > 0:
		rows, err = s.db.QueryContext(ctx, pick+`AND id > $2 ORDER BY id ASC LIMIT $3`, tenantID, c.After, limit+1)
	default:
		rows, err = s.db.QueryContext(ctx, pick+`ORDER BY id DESC LIMIT $2`, tenantID, limit+1)
	}
	if err != nil {
		return Page{}, fmt.Errorf("history: list: %w", err)
	}
	entries, err := collect(rows)
	if err != nil {
		return Page{}, fmt.Errorf("history: list: %w", err)
	}
	more := len(entries) > limit
	if more {
		entries = entries[:limit]
	}
	if len(entries) == 0 && c != (Cursor{}) {
		// Past either end (a link older than retention, an edited or overflowing id): the
		// history is shown anyway, from its newest page.
		return s.List(ctx, tenantID, Cursor{}, limit)
	}
	if c.After > 0 {
		slices.Reverse(entries)
	}
	p := Page{Entries: entries}
	if err := s.link(ctx, &p, tenantID, c, more); err != nil {
		return Page{}, fmt.Errorf("history: list: %w", err)
	}
	return p, nil
}

// link sets the page's cursors: the way the page was read, the extra row told whether there is
// more; the way it came from is asked.
func (s *sqlStore) link(ctx context.Context, p *Page, tenantID string, c Cursor, more bool) error {
	top, bottom := c.Before-1, c.After+1 // the bounds of an empty page: just inside its cursor
	if n := len(p.Entries); n > 0 {
		top, bottom = p.Entries[0].ID, p.Entries[n-1].ID
	}
	older, newer := more, false
	var err error
	switch {
	case c.Before > 0:
		newer, err = s.exists(ctx, `id > $2`, tenantID, top)
	case c.After > 0:
		newer = more
		older, err = s.exists(ctx, `id < $2`, tenantID, bottom)
	}
	if older {
		p.Older = &Cursor{Before: bottom}
	}
	if newer {
		p.Newer = &Cursor{After: top}
	}
	return err
}

func (s *sqlStore) exists(ctx context.Context, cond, tenantID string, id int64) (bool, error) {
	var found bool
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM history_entries
		WHERE tenant_id = $1 AND `+cond+`)`, tenantID, id).Scan(&found)
	return found, err
}

func collect(rows *sql.Rows) ([]Entry, error) {
	defer rows.Close()
	var entries []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, rows.Err()
}
