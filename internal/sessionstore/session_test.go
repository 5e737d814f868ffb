package sessionstore

import (
	"encoding/gob"
	"time"
)

// sessionCookie names the session cookie, as the app does.
const sessionCookie = "pcs_session"

// sessionData is what the app keeps in a session (internal/auth's), in the same shape: who
// signed in and their tokens, at the sizes Entra ID gives them.
type sessionData struct {
	User   User
	Tokens storedTokens
}

type User struct {
	Subject, ObjectID, TenantID, Name, Username, Email string
	AMR                                                []string
	SignedInAt                                         time.Time
}

type storedTokens struct {
	Access, Refresh, Type string
	Expiry, Obtained      time.Time
}

func init() { gob.Register(sessionData{}) }
