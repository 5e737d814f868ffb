package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond, 1: time.Millisecond} {
		if got := percentile(ds, p); got != want {
			t.Errorf("p%v = %s, want %s", p, got, want)
		}
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("p99 of nothing = %s", got)
	}
}

func TestFormInputs(t *testing.T) {
	page := []byte(`<form method="post" action="/auth/signout"><input type="hidden" name="_csrf" value="tok"></form>
<div id="profile"><form hx-post="/save"><input id="email" name="email" type="email" value="a@b.example"/>
<input name="telephone" value="+1 425 555 0100" type="tel"><input name="website" value="www.b.example">
<input type="hidden" name="_csrf" value="tok"/><input type="hidden" name="loaded" value="WyJ4Il0"/>
<input type="hidden" name="submission" value="0f8b6c4e-2a1d-4e7f-9b3c-5d6e7f8a9b0c"/></form></div>`)
	v := formInputs(page)
	want := map[string]string{"email": "a@b.example", "telephone": "+1 425 555 0100", "website": "www.b.example",
		"_csrf": "tok", "loaded": "WyJ4Il0", "submission": "0f8b6c4e-2a1d-4e7f-9b3c-5d6e7f8a9b0c"}
	for k, w := range want {
		if got := v.Get(k); got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
}

// The numbers the bench types must pass the app's and the emulator's validation: 4 to 15 digits,
// at most 32 characters, and each one different from the last.
func TestTelephoneIsValidAndChanges(t *testing.T) {
	prev := ""
	for _, n := range []int{0, 1, 9999, 10000, 123456, 39999999, 40000001} {
		tel := telephone(n)
		digits := 0
		for _, r := range tel {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits < 4 || digits > 15 || len(tel) > 32 || tel == prev {
			t.Errorf("telephone(%d) = %q", n, tel)
		}
		prev = tel
	}
}

func TestImmutable(t *testing.T) {
	for cc, want := range map[string]bool{
		"public, max-age=31536000, immutable": true,
		"max-age=31536000":                    false,
		"public, max-age=3600, immutable":     false,
		"no-store":                            false,
	} {
		if got := immutable(cc); got != want {
			t.Errorf("immutable(%q) = %v", cc, got)
		}
	}
}

func TestRunLoadIsBoundedAndCounts(t *testing.T) {
	var calls atomic.Int64
	spec := loadSpec{conc: 4, warmup: 20 * time.Millisecond, measure: 50 * time.Millisecond, maxRequests: 1000, drain: time.Second}
	start := time.Now()
	res := runLoad(context.Background(), spec, func(ctx context.Context, w int) (saveOutcome, error) {
		n := calls.Add(1)
		time.Sleep(time.Millisecond)
		if n%10 == 0 {
			return 0, errors.New("every tenth fails")
		}
		return outcomeSaved, nil
	})
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %s", took)
	}
	if int64(res.requests) != calls.Load() || res.requests > 1000 {
		t.Errorf("requests %d, calls %d", res.requests, calls.Load())
	}
	if res.errors == 0 || res.outcomes[outcomeSaved]+res.errors != res.requests {
		t.Errorf("outcomes %v, errors %d, requests %d", res.outcomes, res.errors, res.requests)
	}
	if res.completed == 0 || len(res.latencies) == 0 {
		t.Errorf("nothing measured: %+v", res)
	}

	spec.maxRequests = 7
	res = runLoad(context.Background(), spec, func(context.Context, int) (saveOutcome, error) { return outcomeSaved, nil })
	if res.requests != 7 {
		t.Errorf("with a limit of 7: %d requests", res.requests)
	}
}
