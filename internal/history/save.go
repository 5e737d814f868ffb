package history

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

func (s *sqlStore) RecordSave(ctx context.Context, sv Save) error {
	switch {
	case sv.TenantID == "":
		return errors.New("history: record save: no tenant id")
	case sv.Started.IsZero() || sv.At.IsZero():
		return errors.New("history: record save: start or confirmation time missing")
	}
	sv.Started, sv.At = toMillis(sv.Started), toMillis(sv.At)
	return s.write(ctx, "record save", func(tx *sql.Tx) error {
		if sv.Before == sv.After {
			return s.observe(ctx, tx, sv.TenantID, sv.After, sv.At)
		}
		last, seen, err := s.newest(ctx, tx, sv.TenantID)
		if err != nil {
			return err
		}
		recent := last.ID - recentEntries // what this save can meet of the history: see recentEntries
		if done, err := s.alreadyRecorded(ctx, tx, sv, recent); done || err != nil {
			return err
		}
		if done, err := s.claim(ctx, tx, sv, last, recent); done || err != nil {
			return err
		}
		return s.appendSave(ctx, tx, sv, last, seen)
	})
}

// recentEntries bounds how far back a save looks for itself (a retried call whose commit went
// through) and for the outside entry it may claim: both were recorded while this save went
// through, seconds ago, so they are among a tenant's newest entries. Looking only there keeps a
// save's cost the same however long the history (a look through all of it made a save cost
// 2.6 ms at 10,000 entries).
const recentEntries = 64

// alreadyRecorded tells a save recorded before (a retried call whose first commit went through).
func (s *sqlStore) alreadyRecorded(ctx context.Context, tx *sql.Tx, sv Save, recent int64) (bool, error) {
	if sv.RequestID == "" {
		return false, nil
	}
	var found bool
	err := s.queryRow(ctx, tx, alreadyRecordedQuery, sv.TenantID, sv.RequestID, recent).Scan(&found)
	return found, err
}

// clockSkew is how far replicas' clocks may differ: another replica noticing this save's change
// may stamp it a little before this replica's start of the save.
const clockSkew = 5 * time.Second

// claim turns the outside entry that another replica recorded for this very save (it read the
// new values after the PUT applied, before this save was recorded) into the saved entry.
func (s *sqlStore) claim(ctx context.Context, tx *sql.Tx, sv Save, last Entry, recent int64) (bool, error) {
	c, err := scanEntry(s.queryRow(ctx, tx, claimQuery, sv.TenantID, recent, s.d.timeArg(sv.Started.Add(-clockSkew)), sv.After.Email, sv.After.Telephone, sv.After.Website))
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if c.Before == sv.Before {
		return true, s.updateOutside(ctx, tx, c.ID, claimUpdate, s.d.timeArg(sv.At), sv.By.ObjectID, sv.By.Name, sv.By.Username, sv.CorrelationID, sv.RequestID)
	}
	if last.ID != c.ID {
		return false, nil
	}
	// The other replica saw two changes as one (an outside one the save's GET read, then the
	// save): split it, so the outside entry ends where the save began.
	err = s.updateOutside(ctx, tx, c.ID, splitUpdate, s.d.timeArg(sv.Started), sv.Before.Email, sv.Before.Telephone, sv.Before.Website)
	if err != nil {
		return false, err
	}
	_, err = s.insert(ctx, tx, c.ID, savedEntry(sv))
	return true, err
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
// the last recorded state.
func (s *sqlStore) appendSave(ctx context.Context, tx *sql.Tx, sv Save, last Entry, seen bool) error {
	prev := last.ID
	var err error
	if !seen || last.After != sv.Before {
		read := Entry{TenantID: sv.TenantID, Kind: KindOutside, At: sv.Started, Before: last.After, After: sv.Before}
		if !seen {
			read.Kind, read.Before = KindBaseline, Contacts{}
		}
		if prev, err = s.insert(ctx, tx, last.ID, read); err != nil {
			return err
		}
	}
	_, err = s.insert(ctx, tx, prev, savedEntry(sv))
	return err
}

func savedEntry(sv Save) Entry {
	return Entry{TenantID: sv.TenantID, Kind: KindSaved, At: sv.At, By: sv.By,
		Before: sv.Before, After: sv.After, CorrelationID: sv.CorrelationID, RequestID: sv.RequestID}
}
