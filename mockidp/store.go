package mockidp

import (
	"sync"
	"time"
)

type authCode struct {
	ClientID, RedirectURI, Scope, Nonce string
	Challenge, Method                   string
	User                                string
	AuthTime                            time.Time
	Expires                             time.Time
	Used                                bool
	CertThumb                           string
	// issued by redeeming the code, revoked if the code is replayed.
	JTIs   []string
	Family string
}

type refreshToken struct {
	Family   string
	ClientID string
	User     string
	Scope    string
	AuthTime time.Time
	Expires  time.Time
	Used     bool
}

type family struct {
	Revoked bool
	Expires time.Time
	JTIs    []string // access tokens issued in the family
}

type deviceGrant struct {
	ClientID   string
	Scope      string
	UserCode   string
	Expires    time.Time
	Interval   time.Duration
	LastPoll   time.Time
	User       string // set once approved
	ApprovedAt time.Time
	Denied     bool
	Redeemed   bool
}

type pendingLogin struct {
	Params  map[string]string
	CSRF    string
	Expires time.Time
}

// memStore keeps what the IdP issued, in memory, with expiry sweeping and a
// cap per table so a long load run cannot grow it without bound.
type memStore struct {
	mu        sync.Mutex
	max       int
	lastSweep time.Time
	codes     map[string]*authCode
	refresh   map[string]*refreshToken
	families  map[string]*family
	revoked   map[string]time.Time // jti -> exp
	devices   map[string]*deviceGrant
	userCodes map[string]string // user code -> device code
	jtis      map[string]time.Time
	logins    map[string]*pendingLogin
}

func newMemStore(max int) *memStore {
	return &memStore{
		max:       max,
		codes:     map[string]*authCode{},
		refresh:   map[string]*refreshToken{},
		families:  map[string]*family{},
		revoked:   map[string]time.Time{},
		devices:   map[string]*deviceGrant{},
		userCodes: map[string]string{},
		jtis:      map[string]time.Time{},
		logins:    map[string]*pendingLogin{},
	}
}

// room sweeps when due (or when a table is full) and reports whether a
// table of size n can take one more entry. Called with mu held.
func (m *memStore) room(now time.Time, size func() int) bool {
	if size() >= m.max || now.Sub(m.lastSweep) > 10*time.Second {
		m.sweep(now)
	}
	return size() < m.max
}

func (m *memStore) sweep(now time.Time) {
	m.lastSweep = now
	for k, v := range m.codes {
		// Used codes are kept until expiry so a replay is recognised.
		if now.After(v.Expires) {
			delete(m.codes, k)
		}
	}
	for k, v := range m.refresh {
		if now.After(v.Expires) {
			delete(m.refresh, k)
		}
	}
	for k, v := range m.families {
		if now.After(v.Expires) {
			delete(m.families, k)
		}
	}
	for k, exp := range m.revoked {
		if now.After(exp) {
			delete(m.revoked, k)
		}
	}
	for k, v := range m.devices {
		if now.After(v.Expires) {
			delete(m.devices, k)
			delete(m.userCodes, v.UserCode)
		}
	}
	for k, exp := range m.jtis {
		if now.After(exp) {
			delete(m.jtis, k)
		}
	}
	for k, v := range m.logins {
		if now.After(v.Expires) {
			delete(m.logins, k)
		}
	}
}

// Sizes reports the table sizes (for tests and the admin state view).
func (m *memStore) sizes() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return map[string]int{"codes": len(m.codes), "refresh_tokens": len(m.refresh), "families": len(m.families),
		"revoked": len(m.revoked), "device_codes": len(m.devices), "assertion_jtis": len(m.jtis), "logins": len(m.logins)}
}
