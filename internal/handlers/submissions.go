package handlers

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"pcsupport/internal/pcclient"
	"pcsupport/internal/support"
)

// submissionMemory is how long a saved form's outcome is remembered, to answer a repeated
// submission (double click, resubmitted POST, back-and-resend) without a second PUT.
const submissionMemory = 10 * time.Minute

// maxRememberedSaves bounds the memory (about 1 KB each): past it the oldest outcomes are
// forgotten early (a repeat then meets the conflict check and the upstream MS-RequestId instead).
// A thousand saves in ten minutes is far beyond a partner's staff; 10,000 made half the live heap
// under the bench's load.
const maxRememberedSaves = 1000

// submissions remembers, per form rendering, whether its save is running or has succeeded. Each
// rendered form carries a fresh id; the same id is also the PUT's MS-RequestId, so Partner Center
// sees a retried PUT as the same operation. The memory is per process: behind several replicas a
// repeat that reaches another replica is caught only by the conflict check and MS-RequestId.
type submissions struct {
	mu    sync.Mutex
	m     map[string]*submission
	saved []string // keys of remembered successes, oldest first from index head, for expiry in order
	head  int
	lost  map[string]lostPut // PUTs whose answer never came, by key
}

// lostPut is a PUT whose answer never came (a timeout after Partner Center may have applied it).
// When a retry of the same form finds the typed values upstream, they are this PUT's doing.
type lostPut struct {
	before, after            support.Contact
	correlationID, requestID string
	started                  time.Time
	expiry                   time.Time
}

type submission struct {
	done   chan struct{} // closed when the first request for this id finishes
	saved  *saveResult   // the successful result; nil while running or after a failure
	expiry time.Time
}

// newSubmissionID is put in every rendered form; it becomes the PUT's MS-RequestId, hence the
// client's id format.
func newSubmissionID() string { return pcclient.NewID() }

// validSubmissionID accepts only ids this app could have made.
func validSubmissionID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}

// begin claims the id for this request. When another request already holds it, begin waits for
// that one to finish and returns its result if it saved (if it failed, begin claims the id
// again, and the caller may try itself).
func (s *submissions) begin(ctx context.Context, key string) (claimed *submission, earlier *saveResult, err error) {
	for {
		s.mu.Lock()
		if s.m == nil {
			s.m = map[string]*submission{}
		}
		s.forgetOld(time.Now())
		existing := s.m[key]
		if existing == nil {
			sub := &submission{done: make(chan struct{})}
			s.m[key] = sub
			s.mu.Unlock()
			return sub, nil, nil
		}
		s.mu.Unlock()
		select {
		case <-existing.done:
			if existing.saved != nil {
				return nil, existing.saved, nil
			}
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// finish records the result: a success is remembered, a failure forgotten so the same form can
// be sent again.
func (s *submissions) finish(key string, sub *submission, res saveResult) {
	s.mu.Lock()
	if res.outcome == outcomeUnknown && res.current != nil {
		s.rememberLost(key, res)
	}
	if res.outcome == outcomeSaved {
		// Only what a repeat is answered with: the values before and after, and the ids.
		kept := saveResult{outcome: res.outcome, current: res.current, stored: res.stored,
			correlationID: res.correlationID, requestID: res.requestID}
		sub.saved, sub.expiry = &kept, time.Now().Add(submissionMemory)
		s.saved = append(s.saved, key)
	} else {
		delete(s.m, key)
	}
	s.mu.Unlock()
	close(sub.done)
}

// forgetOld drops remembered successes that have expired or exceed the cap, oldest first. Each
// call does work only for what it drops, and the queue is compacted once half of it is spent,
// so a save costs O(1) amortised. Callers hold s.mu.
func (s *submissions) forgetOld(now time.Time) {
	for s.head < len(s.saved) {
		key := s.saved[s.head]
		sub := s.m[key]
		if sub != nil && now.Before(sub.expiry) && len(s.saved)-s.head <= maxRememberedSaves {
			break
		}
		delete(s.m, key)
		s.saved[s.head] = ""
		s.head++
	}
	if s.head > len(s.saved)/2 {
		s.saved = append(s.saved[:0], s.saved[s.head:]...)
		s.head = 0
	}
}

// rememberLost keeps a PUT whose answer never came, for a retry to confirm. Callers hold s.mu.
func (s *submissions) rememberLost(key string, res saveResult) {
	if s.lost == nil || len(s.lost) >= maxRememberedSaves {
		s.lost = map[string]lostPut{} // a cheap bound: such PUTs are rare
	}
	s.lost[key] = lostPut{before: *res.current, after: res.form.typed, correlationID: res.correlationID, requestID: res.requestID,
		started: res.started, expiry: time.Now().Add(submissionMemory)}
}

// takeLost returns the lost PUT of the form key that would have stored found, if any, once.
func (s *submissions) takeLost(key string, found support.Contact) (lostPut, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lp, ok := s.lost[key]
	delete(s.lost, key)
	return lp, ok && lp.after == found && time.Now().Before(lp.expiry)
}
