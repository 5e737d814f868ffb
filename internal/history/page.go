package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// The bounds of at_time that an unset From or Until stands for: before and after every entry.
var (
	earliest = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	latest   = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

// filterArgs are the arguments $1-$6 of entryFilter.
func (s *sqlStore) filterArgs(tenantID string, f Filter) []any {
	from, until := earliest, latest
	if !f.From.IsZero() {
		from = f.From
	}
	if !f.Until.IsZero() {
		until = f.Until
	}
	return []any{tenantID, string(f.Kind), f.SavedBy, string(f.Field), s.d.timeArg(toMillis(from)), s.d.timeArg(toMillis(until))}
}

func (s *sqlStore) List(ctx context.Context, tenantID string, f Filter, c Cursor, limit int) (Page, error) {
	if limit < 1 || limit > MaxPageSize {
		limit = DefaultPageSize
	}
	query, from := olderQuery, int64(math.MaxInt64)
	switch {
	case c.Before > 0:
		from = c.Before
	case c.After > 0:
		query, from = newerQuery, c.After
	}
	// One more than the page tells whether there is more that way.
	rows, err := s.db.QueryContext(ctx, query, append(s.filterArgs(tenantID, f), from, limit+1)...)
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
		return s.List(ctx, tenantID, f, Cursor{}, limit)
	}
	if c.After > 0 {
		slices.Reverse(entries)
	}
	p := Page{Entries: entries}
	if err := s.link(ctx, &p, tenantID, f, c, more); err != nil {
		return Page{}, fmt.Errorf("history: list: %w", err)
	}
	return p, nil
}

// link sets the page's cursors: the way the page was read, the extra row told whether there is
// more; the way it came from is asked.
func (s *sqlStore) link(ctx context.Context, p *Page, tenantID string, f Filter, c Cursor, more bool) error {
	top, bottom := c.Before-1, c.After+1 // the bounds of an empty page: just inside its cursor
	if n := len(p.Entries); n > 0 {
		top, bottom = p.Entries[0].ID, p.Entries[n-1].ID
	}
	older, newer := more, false
	var err error
	switch {
	case c.Before > 0:
		newer, err = s.exists(ctx, newerExistsQuery, tenantID, f, top)
	case c.After > 0:
		newer = more
		older, err = s.exists(ctx, olderExistsQuery, tenantID, f, bottom)
	}
	if older {
		p.Older = &Cursor{Before: bottom}
	}
	if newer {
		p.Newer = &Cursor{After: top}
	}
	return err
}

func (s *sqlStore) exists(ctx context.Context, query, tenantID string, f Filter, id int64) (bool, error) {
	var found bool
	err := s.db.QueryRowContext(ctx, query, append(s.filterArgs(tenantID, f), id)...).Scan(&found)
	return found, err
}

// Count asks the database to count, one query for the history page's "12 entries": it reads the
// tenant's index entries and the rows the filter must look at. On SQLite, for a tenant of 1,000
// entries among 100,000, about 0.15 ms unfiltered and 3.5 ms with a filter that keeps few
// (BenchmarkFilteredHistory, two shared cores).
func (s *sqlStore) Count(ctx context.Context, tenantID string, f Filter) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, countQuery, s.filterArgs(tenantID, f)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("history: count: %w", err)
	}
	return n, nil
}

func (s *sqlStore) Get(ctx context.Context, tenantID string, id int64) (Entry, bool, error) {
	e, err := scanEntry(s.db.QueryRowContext(ctx, getQuery, tenantID, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Entry{}, false, nil
	case err != nil:
		return Entry{}, false, fmt.Errorf("history: get entry %d: %w", id, err)
	}
	return e, true, nil
}

func (s *sqlStore) People(ctx context.Context, tenantID string) ([]Person, error) {
	rows, err := s.db.QueryContext(ctx, peopleQuery, tenantID)
	if err != nil {
		return nil, fmt.Errorf("history: people: %w", err)
	}
	defer rows.Close()
	var people []Person
	for rows.Next() {
		var p Person
		if err := rows.Scan(&p.ObjectID, &p.Name, &p.Username); err != nil {
			return nil, fmt.Errorf("history: people: %w", err)
		}
		people = append(people, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: people: %w", err)
	}
	return people, nil
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
