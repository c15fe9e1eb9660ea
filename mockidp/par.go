package mockidp

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// EPPAR names the pushed authorization request endpoint for faults and events.
const EPPAR = "par"

// requestURIPrefix starts every request_uri the PAR endpoint hands out
// (RFC 9126 2.2); pendingPrefix keys them in the pending table, apart from
// login forms.
const (
	requestURIPrefix = "urn:ietf:params:oauth:request_uri:"
	pendingPrefix    = "par:"
)

// defaultRequestURILifetime: short, as FAPI 2.0 asks (under 600 s); a
// request_uri is redeemed within seconds of being pushed.
const defaultRequestURILifetime = 60 * time.Second

func (s *Server) requestURILifetime() time.Duration {
	if d := s.cfg.Lifetimes.RequestURI.D(); d > 0 {
		return d
	}
	return defaultRequestURILifetime
}

// requiresPAR: globally, or for this client.
func (s *Server) requiresPAR(c *clientInfo) bool { return s.cfg.RequirePAR || c.RequirePAR }

// handlePAR is the pushed authorization request endpoint (RFC 9126 2):
// the client authenticates, the parameters (or a request object) are
// checked as the authorization endpoint would, and a one-time request_uri
// that lives briefly comes back.
func (s *Server) handlePAR(w http.ResponseWriter, r *http.Request) {
	if e := parseForm(r); e != nil {
		e.write(w)
		return
	}
	c, ok := s.clientOf(w, r)
	if !ok {
		return
	}
	form := r.PostForm
	if form.Has("request_uri") {
		errInvalidRequest("request_uri is not allowed in a pushed authorization request (RFC 9126 2.1)").write(w)
		return
	}
	p, fail := readAuthzParams(form)
	if fail != nil {
		errInvalidRequest(fail.desc).write(w)
		return
	}
	if p["client_id"] != "" && p["client_id"] != c.ID {
		errInvalidRequest("client_id " + quoteOrNone(p["client_id"]) + " differs from the authenticated client " + c.ID).write(w)
		return
	}
	if p["request"] != "" {
		inner, e := s.requestObjectParams(r, c.clientInfo, p)
		if e != nil {
			e.write(w)
			return
		}
		p = inner
	} else if c.RequireSignedRequestObject {
		(&oauthErr{http.StatusBadRequest, "invalid_request", "client " + c.ID + " must send its parameters in a signed request object (require_signed_request_object)", false}).write(w)
		return
	}
	p["client_id"] = c.ID
	fs := s.faults.Load()
	// RFC 9449 10.1: a DPoP proof at PAR binds the code like dpop_jkt.
	if jkt, present, e := s.checkProof(r, fs, ""); e != nil {
		e.writeAS(w)
		return
	} else if present {
		if j := p["dpop_jkt"]; j != "" && j != jkt {
			(&oauthErr{http.StatusBadRequest, "invalid_dpop_proof", "dpop_jkt differs from the thumbprint of the DPoP proof's key (RFC 9449 10.1)", false}).write(w)
			return
		}
		p["dpop_jkt"] = jkt
	}
	if f := s.checkAuthzParams(c.clientInfo, p); f != nil {
		code := f.code
		if f.page {
			code = "invalid_request"
		}
		(&oauthErr{http.StatusBadRequest, code, f.desc, false}).write(w)
		return
	}
	now := s.Now()
	uri := requestURIPrefix + randomToken(32)
	life := s.requestURILifetime()
	st := s.st
	st.mu.Lock()
	ok = st.putPending(now, &st.logins, pendingPrefix+uri, &pendingLogin{Params: p, Expires: now.Add(life)})
	st.mu.Unlock()
	if !ok {
		(&oauthErr{http.StatusServiceUnavailable, "temporarily_unavailable", "pushed request too large to keep", false}).write(w)
		return
	}
	b := append([]byte(`{"request_uri":`), appendJSONString(nil, uri)...)
	b = append(b, `,"expires_in":`...)
	b = strconv.AppendInt(b, int64(life/time.Second), 10)
	b = append(b, '}')
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, b)
}

// takePushed redeems a request_uri once (RFC 9126 4): unknown, expired,
// used or another client's is invalid_request_uri.
func (s *Server) takePushed(uri, clientID string) (map[string]string, *oauthErr) {
	bad := func(desc string) (map[string]string, *oauthErr) {
		return nil, &oauthErr{http.StatusBadRequest, "invalid_request_uri", desc, false}
	}
	if !strings.HasPrefix(uri, requestURIPrefix) {
		return bad("request_uri " + quoteOrNone(uri) + " was not issued by this server's PAR endpoint")
	}
	st := s.st
	st.mu.Lock()
	pl := st.logins.take(pendingPrefix + uri) // one time, whatever follows
	st.mu.Unlock()
	switch {
	case pl == nil:
		return bad("request_uri is unknown, expired or already used (one time, RFC 9126 4)")
	case !s.Now().Before(pl.Expires):
		return bad("request_uri expired")
	case pl.Params["client_id"] != clientID:
		return bad("request_uri was pushed by another client")
	}
	return pl.Params, nil
}
