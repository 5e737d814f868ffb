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
		if done, err := s.alreadyRecorded(ctx, tx, sv); done || err != nil {
			return err
		}
		if done, err := s.claim(ctx, tx, sv); done || err != nil {
			return err
		}
		return s.appendSave(ctx, tx, sv)
	})
}

// alreadyRecorded tells a save recorded before (a retried call whose first commit went through).
func (s *sqlStore) alreadyRecorded(ctx context.Context, tx *sql.Tx, sv Save) (bool, error) {
	if sv.RequestID == "" {
		return false, nil
	}
	var found bool
	err := s.queryRow(ctx, tx, alreadyRecordedQuery, sv.TenantID, sv.RequestID).Scan(&found)
	return found, err
}

// clockSkew is how far replicas' clocks may differ: another replica noticing this save's change
// may stamp it a little before this replica's start of the save.
const clockSkew = 5 * time.Second

// claim turns the outside entry that another replica recorded for this very save (it read the
// new values after the PUT applied, before this save was recorded) into the saved entry.
func (s *sqlStore) claim(ctx context.Context, tx *sql.Tx, sv Save) (bool, error) {
	c, err := scanEntry(s.queryRow(ctx, tx, claimQuery, sv.TenantID, s.d.timeArg(sv.Started.Add(-clockSkew)), sv.After.Email, sv.After.Telephone, sv.After.Website))
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if c.Before == sv.Before {
		return true, s.updateOutside(ctx, tx, c.ID, claimUpdate, s.d.timeArg(sv.At), sv.By.ObjectID, sv.By.Name, sv.By.Username, sv.CorrelationID, sv.RequestID)
	}
	last, _, err := s.newest(ctx, tx, sv.TenantID)
	if err != nil || last.ID != c.ID {
		return false, err
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
func (s *sqlStore) appendSave(ctx context.Context, tx *sql.Tx, sv Save) error {
	last, seen, err := s.newest(ctx, tx, sv.TenantID)
	if err != nil {
		return err
	}
	prev := last.ID
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
