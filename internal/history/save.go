package history

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"pcsupport/internal/support"
)

func (s *sqlStore) RecordSave(ctx context.Context, sv Save) error {
	_, _, err := s.recordSave(ctx, sv)
	return err
}

// lastChangeRecorder is a store that tells, as it records a save, the tenant's last change
// afterwards when it knows it without another query: Cached then answers the history line of
// the form that follows a save without asking the database.
type lastChangeRecorder interface {
	recordSave(ctx context.Context, sv Save) (last Entry, known bool, err error)
}

var _ lastChangeRecorder = (*sqlStore)(nil)

// recordSave is RecordSave that also returns the tenant's last change when the write itself
// made it: the saved entry, unless the save claimed an entry older than the newest.
func (s *sqlStore) recordSave(ctx context.Context, sv Save) (last Entry, known bool, err error) {
	switch {
	case sv.TenantID == "":
		return Entry{}, false, errors.New("history: record save: no tenant id")
	case sv.Started.IsZero() || sv.At.IsZero():
		return Entry{}, false, errors.New("history: record save: start or confirmation time missing")
	}
	sv.Started, sv.At = toMillis(sv.Started), toMillis(sv.At)
	if sv.RestoredFrom != 0 {
		// The id came back with a form: one of another tenant's entries (or none) is not what
		// this save put back. Rare (a restore), so outside the write and its one-statement path.
		if _, ok, err := s.Get(ctx, sv.TenantID, sv.RestoredFrom); err != nil {
			return Entry{}, false, fmt.Errorf("history: record save: %w", err)
		} else if !ok {
			sv.RestoredFrom = 0
		}
	}
	op := writeOp{inTx: func(ctx context.Context, tx *sql.Tx) error {
		last, known = Entry{}, false // a write that starts over decides again
		if sv.Before == sv.After {
			return s.observe(ctx, tx, sv.TenantID, sv.After, sv.At)
		}
		// For writes committed together, which never ran alone. After a lone attempt that found
		// another case this looks again: one more indexed statement, on the rare paths only.
		saved, ok, err := s.appendAtEnd(ctx, tx, sv)
		if ok || err != nil {
			last, known = saved, ok
			return err
		}
		newest, seen, err := s.newest(ctx, tx, sv.TenantID)
		if err != nil {
			return err
		}
		met, err := s.met(ctx, tx, sv, newest)
		if err != nil || alreadyRecorded(met, sv) {
			return err
		}
		if c, ok := claimable(met); ok {
			saved, done, err := s.claim(ctx, tx, sv, c, newest)
			if done || err != nil {
				last, known = saved, saved.ID >= newest.ID // else an entry after the claimed one is newer
				return err
			}
		}
		last, err = s.appendSave(ctx, tx, sv, newest, seen)
		known = err == nil
		return err
	}}
	if sv.Before != sv.After && len(s.receivers()) == 0 { // a notification is queued in the entry's transaction
		op.alone = func(ctx context.Context) (bool, error) {
			saved, ok, err := s.appendAtEnd(ctx, nil, sv)
			last, known = saved, ok
			return ok, err
		}
	}
	err = s.write(ctx, "record save", op)
	return last, known && err == nil, err
}

// appendAtEnd records the save in one statement when it is the common case: the tenant's newest
// entry ends in the values the save's GET read, and the save met nothing since it began. What
// recordSave decides then, after reading the newest entry and what the save met, is to append
// the save after that entry; one statement instead of three is a third less of a record's CPU.
// False, having written nothing, when the case is another.
func (s *sqlStore) appendAtEnd(ctx context.Context, tx *sql.Tx, sv Save) (Entry, bool, error) {
	saved := savedEntry(sv)
	err := s.queryRow(ctx, tx, appendSaveAtEnd, sv.TenantID, s.d.timeArg(sv.At),
		sv.By.ObjectID, sv.By.Name, sv.By.Username, sv.Before.Email, sv.Before.Telephone, sv.Before.Website,
		sv.After.Email, sv.After.Telephone, sv.After.Website, sv.CorrelationID, sv.RequestID,
		s.d.timeArg(sv.Started.Add(-clockSkew)), recentEntries, sv.RestoredFrom).Scan(&saved.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, false, nil
	}
	if err == nil && tx != nil {
		err = s.enqueue(ctx, tx, saved)
	}
	return saved, err == nil, err
}

// clockSkew is how far replicas' clocks may differ: another replica noticing this save's change
// may stamp it a little before this replica's start of the save.
const clockSkew = 5 * time.Second

// recentEntries bounds how far back a save looks: what it can meet was recorded while it went
// through, seconds ago, so among the tenant's newest entries. Saves of a partner reach Partner
// Center one at a time (the save lock), so between a save's GET and its record come at most a
// few entries: another save or two, the changes page views noticed. Looking only there keeps a
// save's cost the same however long the history and however often the partner saves
// (BENCHMARKS.md). Should a save miss what it might have claimed, the history shows its values
// as noticed outside, then the save: whole, if less exact.
const recentEntries = 16

// met is what a save can meet among its tenant's recent entries, newest first: entries stamped
// since it began (less the clock skew) that are either this save recorded before (a retried
// call whose first commit went through) or an outside change ending in the values it stored
// (another replica read them after the PUT applied, before this save was recorded). The tenant
// index holds id and at_time, so the look fetches only the entries it returns.
func (s *sqlStore) met(ctx context.Context, tx *sql.Tx, sv Save, last Entry) ([]Entry, error) {
	rows, err := tx.StmtContext(ctx, s.stmt(metQuery)).QueryContext(ctx, sv.TenantID, last.ID-recentEntries,
		s.d.timeArg(sv.Started.Add(-clockSkew)), sv.RequestID, sv.After.Email, sv.After.Telephone, sv.After.Website)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var es []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b Entry) int { return cmp.Compare(b.ID, a.ID) })
	return es, rows.Err()
}

func alreadyRecorded(met []Entry, sv Save) bool {
	return slices.ContainsFunc(met, func(e Entry) bool { return e.Kind == KindSaved && e.RequestID == sv.RequestID })
}

// claimable is the newest outside entry the save met.
func claimable(met []Entry) (Entry, bool) {
	i := slices.IndexFunc(met, func(e Entry) bool { return e.Kind == KindOutside })
	if i < 0 {
		return Entry{}, false
	}
	return met[i], true
}

// claim turns c, the outside entry another replica recorded for this very save, into the saved
// entry, which it returns; false when c is not this save's change after all.
func (s *sqlStore) claim(ctx context.Context, tx *sql.Tx, sv Save, c, newest Entry) (Entry, bool, error) {
	saved := savedEntry(sv)
	if c.Before == sv.Before {
		saved.ID, saved.Before = c.ID, c.Before
		err := s.updateOutside(ctx, tx, c.ID, claimUpdate, s.d.timeArg(sv.At), sv.By.ObjectID, sv.By.Name, sv.By.Username, sv.CorrelationID, sv.RequestID, sv.RestoredFrom)
		if err == nil {
			err = s.enqueue(ctx, tx, saved) // told again, now as the save it was
		}
		return saved, true, err
	}
	if newest.ID != c.ID {
		return Entry{}, false, nil
	}
	// The other replica saw two changes as one (an outside one the save's GET read, then the
	// save): split it, so the outside entry ends where the save began.
	err := s.updateOutside(ctx, tx, c.ID, splitUpdate, s.d.timeArg(sv.Started), sv.Before.Email, sv.Before.Telephone, sv.Before.Website)
	if err != nil {
		return Entry{}, false, err
	}
	saved.ID, err = s.insert(ctx, tx, c.ID, saved)
	return saved, true, err
}

func (s *sqlStore) updateOutside(ctx context.Context, tx *sql.Tx, id int64, query string, args ...any) error {
	res, err := s.exec(ctx, tx, query, append([]any{id}, args...)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(errRaced, err)
	}
	return nil
}

// appendSave appends the save, after the outside change (or baseline) its GET read if that is not
// the last recorded state, and returns the saved entry.
func (s *sqlStore) appendSave(ctx context.Context, tx *sql.Tx, sv Save, newest Entry, seen bool) (Entry, error) {
	prev := newest.ID
	var err error
	if !seen || newest.After != sv.Before {
		read := Entry{TenantID: sv.TenantID, Kind: KindOutside, At: sv.Started, Before: newest.After, After: sv.Before}
		if !seen {
			read.Kind, read.Before = KindBaseline, support.Contact{}
		}
		if prev, err = s.insert(ctx, tx, newest.ID, read); err != nil {
			return Entry{}, err
		}
	}
	saved := savedEntry(sv)
	saved.ID, err = s.insert(ctx, tx, prev, saved)
	return saved, err
}

func savedEntry(sv Save) Entry {
	return Entry{TenantID: sv.TenantID, Kind: KindSaved, At: sv.At, By: sv.By,
		Before: sv.Before, After: sv.After, CorrelationID: sv.CorrelationID, RequestID: sv.RequestID, RestoredFrom: sv.RestoredFrom}
}
