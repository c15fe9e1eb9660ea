package mockidp

import (
	"crypto/sha256"
	"sync"
	"time"
)

// entryOverhead approximates what an entry costs beyond its strings (map
// slot, struct, times), for the byte budgets.
const entryOverhead = 256

type authCode struct {
	ClientID, RedirectURI, Scope, Nonce string
	Challenge, Method                   string
	User                                string
	AuthTime                            time.Time
	Expires                             time.Time
	Used                                bool
	// Family is the grant the redemption started: a replay revokes it, and
	// with it everything the code issued.
	Family string
	// DPoPJKT is the dpop_jkt of the authorization request (RFC 9449 10).
	DPoPJKT string
	// Details are the granted RFC 9396 authorization_details (JSON), or "".
	Details string
	// ACR is the authentication context of the login (OIDC Core 2 acr).
	ACR  string
	size int
}

func (c *authCode) bytes() int {
	return entryOverhead + len(c.ClientID) + len(c.RedirectURI) + len(c.Scope) + len(c.Nonce) + len(c.Challenge) + len(c.Method) + len(c.User) + len(c.DPoPJKT) + len(c.Details) + len(c.ACR)
}

type refreshToken struct {
	Family   string
	ClientID string
	User     string
	Scope    string
	AuthTime time.Time
	Expires  time.Time
	Used     bool
	JKT      string // DPoP key a public client's token is bound to (RFC 9449 5)
	// Details are the RFC 9396 authorization_details the grant holds: a
	// refresh may narrow them for one access token, never widen them.
	Details string
}

// family is one grant: every access and refresh token issued from one code
// or device code, through all its refreshes. Tokens join it when they are
// reserved, before they are signed, so revoking the family always covers
// tokens being issued at that instant.
type family struct {
	Revoked bool
	Expires time.Time
	JTIs    []string // access tokens issued in the family
	RTs     []string // refresh tokens issued in the family
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
	Family     string // set once redeemed
}

type pendingLogin struct {
	Params  map[string]string
	CSRF    string
	Expires time.Time
	size    int
}

func (p *pendingLogin) bytes() int {
	n := entryOverhead + len(p.CSRF)
	for k, v := range p.Params {
		n += len(k) + len(v) + 32
	}
	return n
}

// pendingTable holds sign-in forms, which anyone can open without
// authenticating. It is bounded by count and by bytes, and when full it
// drops its oldest entries rather than refusing new ones: a flood then
// costs the flooder's own oldest forms, not every real sign-in.
type pendingTable struct {
	m     map[string]*pendingLogin
	order []string // ids in insertion order; some may be gone already
	head  int
	bytes int
}

func newPendingTable() pendingTable { return pendingTable{m: map[string]*pendingLogin{}} }

// put stores pl under id, evicting the oldest entries as needed; false when
// pl alone exceeds the byte budget.
func (t *pendingTable) put(id string, pl *pendingLogin, maxN, maxBytes int) bool {
	pl.size = pl.bytes()
	if pl.size > maxBytes {
		return false
	}
	for len(t.m) >= maxN || t.bytes+pl.size > maxBytes {
		if !t.evictOldest() {
			break
		}
	}
	t.m[id] = pl
	t.bytes += pl.size
	t.order = append(t.order, id)
	if len(t.order) > 2*len(t.m)+1024 { // ids of taken or evicted forms pile up
		t.compact()
	}
	return true
}

// take removes and returns the entry under id (forms are single use).
func (t *pendingTable) take(id string) *pendingLogin {
	pl := t.m[id]
	if pl != nil {
		t.del(id, pl)
	}
	return pl
}

func (t *pendingTable) del(id string, pl *pendingLogin) {
	delete(t.m, id)
	t.bytes -= pl.size
}

func (t *pendingTable) evictOldest() bool {
	for t.head < len(t.order) {
		id := t.order[t.head]
		t.order[t.head] = ""
		t.head++
		if pl := t.m[id]; pl != nil {
			t.del(id, pl)
			return true
		}
	}
	return false
}

func (t *pendingTable) sweep(now time.Time) {
	for id, pl := range t.m {
		if now.After(pl.Expires) {
			t.del(id, pl)
		}
	}
	t.compact()
}

// compact drops ids that are gone from the order list.
func (t *pendingTable) compact() {
	live := make([]string, 0, len(t.m))
	for _, id := range t.order[t.head:] {
		if _, ok := t.m[id]; ok {
			live = append(live, id)
		}
	}
	t.order, t.head = live, 0
}

// memStore keeps what the IdP issued, in memory, with expiry sweeping, a
// cap per table so a long load run cannot grow it without bound, and a byte
// budget for tables whose entries carry what callers sent.
type memStore struct {
	mu        sync.Mutex
	max       int
	maxBytes  int
	lastSweep time.Time
	codes     map[string]*authCode
	codeBytes int
	refresh   map[string]*refreshToken
	families  map[string]*family
	revoked   map[string]time.Time // jti -> exp
	devices   map[string]*deviceGrant
	userCodes map[string]string // user code -> device code
	// jtis holds a hash of each client assertion's client id and jti: an
	// assertion may carry a jti of any length, the table a fixed size.
	jtis     map[[32]byte]time.Time
	logins   pendingTable // --login forms of authorization requests
	devForms pendingTable // device sign-in page forms
}

func newMemStore(max, maxBytes int) *memStore {
	return &memStore{
		max:       max,
		maxBytes:  maxBytes,
		codes:     map[string]*authCode{},
		refresh:   map[string]*refreshToken{},
		families:  map[string]*family{},
		revoked:   map[string]time.Time{},
		devices:   map[string]*deviceGrant{},
		userCodes: map[string]string{},
		jtis:      map[[32]byte]time.Time{},
		logins:    newPendingTable(),
		devForms:  newPendingTable(),
	}
}

func assertionKey(clientID, jti string) [32]byte {
	return sha256.Sum256([]byte(clientID + "\x00" + jti))
}

// spendJTI records a single-use jti (keyed by assertionKey) until exp.
// seen: it was recorded before; full: the cache has no room for it.
// Either way nothing is recorded.
func (m *memStore) spendJTI(now time.Time, key [32]byte, exp time.Time) (seen, full bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, seen = m.jtis[key]; seen {
		return true, false
	}
	if !m.room(now, func() int { return len(m.jtis) }) {
		return false, true
	}
	m.jtis[key] = exp
	return false, false
}

// room sweeps when due (or when a table is full) and reports whether a
// table of size n can take one more entry. Called with mu held.
func (m *memStore) room(now time.Time, size func() int) bool {
	if size() >= m.max || now.Sub(m.lastSweep) > 10*time.Second {
		m.sweep(now)
	}
	return size() < m.max
}

// putCode stores an authorization code if the table has room by count and
// bytes. Called with mu held.
func (m *memStore) putCode(now time.Time, code string, ac *authCode) bool {
	ac.size = ac.bytes()
	if m.codeBytes+ac.size > m.maxBytes {
		m.sweep(now)
	}
	if !m.room(now, func() int { return len(m.codes) }) || m.codeBytes+ac.size > m.maxBytes {
		return false
	}
	m.codes[code] = ac
	m.codeBytes += ac.size
	return true
}

// putPending stores a sign-in form in t (m.logins or m.devForms). Called
// with mu held.
func (m *memStore) putPending(now time.Time, t *pendingTable, id string, pl *pendingLogin) bool {
	if now.Sub(m.lastSweep) > 10*time.Second {
		m.sweep(now)
	}
	return t.put(id, pl, m.max, m.maxBytes)
}

func (m *memStore) sweep(now time.Time) {
	m.lastSweep = now
	for k, v := range m.codes {
		// Used codes are kept until expiry so a replay is recognised.
		if now.After(v.Expires) {
			delete(m.codes, k)
			m.codeBytes -= v.size
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
	m.logins.sweep(now)
	m.devForms.sweep(now)
}

// sizes reports the table sizes (for tests and the admin state view).
func (m *memStore) sizes() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return map[string]int{"codes": len(m.codes), "refresh_tokens": len(m.refresh), "families": len(m.families),
		"revoked": len(m.revoked), "device_codes": len(m.devices), "assertion_jtis": len(m.jtis),
		"logins": len(m.logins.m), "device_forms": len(m.devForms.m)}
}

// tableBytes reports the bytes held by the tables with a byte budget.
func (m *memStore) tableBytes() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return map[string]int{"codes": m.codeBytes, "logins": m.logins.bytes, "device_forms": m.devForms.bytes}
}
