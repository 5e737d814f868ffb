package handlers

// SaveObserver is told the outcome of every save attempt, the same word as in the audit
// record ("saved", "unchanged", "invalid", "conflict", "refused", ...): cmd/web counts them for
// /metrics. It must be quick and safe for concurrent use.
type SaveObserver func(outcome string)

// noteSaveOutcome passes a save's outcome to the observer set through Options, if any.
func (h *Handlers) noteSaveOutcome(outcome string) {
	if h.observeSave != nil {
		h.observeSave(outcome)
	}
}
