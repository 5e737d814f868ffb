package handlers

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"pcsupport/internal/pcclient"
	"pcsupport/internal/views"
)

// submissionMemory is how long a saved form's outcome is remembered, to answer a repeated
// submission (double click, resubmitted POST, back-and-resend) without a second PUT.
const submissionMemory = 10 * time.Minute

// submissions remembers, per form rendering, whether its save is running or has succeeded. Each
// rendered form carries a fresh id; the same id is also the PUT's MS-RequestId, so Partner Center
// sees a retried PUT as the same operation. The memory is per process: behind several replicas a
// repeat that reaches another replica is caught only by the conflict check and MS-RequestId.
type submissions struct {
	mu    sync.Mutex
	m     map[string]*submission
	saved []string // keys of remembered successes, oldest first, for expiry in order
}

// maxRememberedSaves bounds the memory: past it the oldest outcomes are forgotten early (a
// repeat then meets the conflict check and the upstream MS-RequestId instead).
const maxRememberedSaves = 10000

type submission struct {
	done   chan struct{} // closed when the first request for this id finishes
	saved  *views.Notice // the success notice; nil while running or after a failure
	after  contacts
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
// that one to finish and returns its outcome (saved is nil when it failed, and the caller may
// then try itself: begin claims the id again).
func (s *submissions) begin(ctx context.Context, key string) (claimed *submission, earlier *submission, err error) {
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
				return nil, existing, nil
			}
			// The earlier attempt failed and released the id: try again.
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// finish records the outcome: a success is remembered, a failure forgotten so the same form can
// be sent again.
func (s *submissions) finish(key string, sub *submission, saved *views.Notice, after contacts) {
	s.mu.Lock()
	if saved != nil {
		sub.saved, sub.after, sub.expiry = saved, after, time.Now().Add(submissionMemory)
		s.saved = append(s.saved, key)
	} else {
		delete(s.m, key)
	}
	s.mu.Unlock()
	close(sub.done)
}

// forgetOld drops remembered successes that have expired or exceed the cap, oldest first.
// Callers hold s.mu.
func (s *submissions) forgetOld(now time.Time) {
	n := 0
	for n < len(s.saved) {
		sub := s.m[s.saved[n]]
		if sub != nil && now.Before(sub.expiry) && len(s.saved)-n <= maxRememberedSaves {
			break
		}
		delete(s.m, s.saved[n])
		n++
	}
	if n > 0 {
		s.saved = append(s.saved[:0:0], s.saved[n:]...)
	}
}
