package auth

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func keyPair() []byte {
	return []byte(rand.Text() + rand.Text())[:32]
}

// A watch's token is kept sealed: unreadable without the session keys, bound to its tenant,
// readable after a key rotation that keeps the old pair, unreadable once that pair is gone.
func TestTokenSeal(t *testing.T) {
	oldPair := [][]byte{keyPair(), keyPair()}
	newPair := [][]byte{keyPair(), keyPair()}
	token := "refresh-" + rand.Text()
	sealed, err := NewTokenSeal(oldPair).Seal("tenant-a", token)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, token) || strings.Contains(sealed, "refresh-") {
		t.Fatalf("the sealed token shows the token: %s", sealed)
	}
	if got, err := NewTokenSeal(oldPair).Open("tenant-a", sealed); err != nil || got != token {
		t.Errorf("open: %q, %v", got, err)
	}
	rotated := NewTokenSeal(append(append([][]byte{}, newPair...), oldPair...))
	if got, err := rotated.Open("tenant-a", sealed); err != nil || got != token {
		t.Errorf("open after a rotation that keeps the old pair: %q, %v", got, err)
	}
	if _, err := NewTokenSeal(newPair).Open("tenant-a", sealed); !errors.Is(err, ErrUnsealable) {
		t.Errorf("open with the old pair gone: %v, want ErrUnsealable", err)
	}
	if _, err := NewTokenSeal(oldPair).Open("tenant-b", sealed); !errors.Is(err, ErrUnsealable) {
		t.Errorf("open as another tenant's: %v, want ErrUnsealable", err)
	}
	tampered := []byte(sealed)
	tampered[len(tampered)/2] ^= 1
	if _, err := NewTokenSeal(oldPair).Open("tenant-a", string(tampered)); !errors.Is(err, ErrUnsealable) {
		t.Errorf("open tampered: %v, want ErrUnsealable", err)
	}
	again, _ := NewTokenSeal(oldPair).Seal("tenant-a", token)
	if again == sealed {
		t.Error("sealing twice gives the same text")
	}
}
