package mockidp

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"authlab/flows"
)

// isLoopback reports whether the caller connected from a loopback address.
func isLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) adminRoutes() {
	a := func(pattern string, f http.HandlerFunc) { s.mux.Handle(pattern, s.wrap(EPAdmin, s.adminAuth(f))) }
	a("GET /_authlab/{$}", s.adminIndex)
	a("GET /_authlab/faults", s.adminGetFaults)
	a("PUT /_authlab/faults", s.adminPutFaults)
	a("PATCH /_authlab/faults", s.adminPatchFaults)
	a("DELETE /_authlab/faults", s.adminReset)
	a("POST /_authlab/reset", s.adminReset)
	a("POST /_authlab/rotate", s.adminRotate)
	a("GET /_authlab/events", s.adminEvents)
	a("GET /_authlab/config", s.adminConfig)
	a("GET /_authlab/state", s.adminState)
	a("POST /_authlab/device/approve", s.adminApproveDevice)
}

// adminAuth lets in callers holding the admin token, and loopback callers
// whose request a web page cannot have forged: the Host must be a loopback
// name or the IdP's own (DNS rebinding), and a call that changes state must
// come from no other Origin and carry JSON or nothing (cross-site requests
// without a CORS preflight can only send text/plain and form bodies).
func (s *Server) adminAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if strings.EqualFold(scheme, "Bearer") && secretEqual(tok, s.adminToken) {
			h(w, r)
			return
		}
		if !isLoopback(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="authlab-admin"`)
			writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "the admin API needs the admin token printed at start (Authorization: Bearer TOKEN) from non-loopback callers")
			return
		}
		if !s.adminHostAllowed(r.Host) {
			writeOAuthError(w, http.StatusForbidden, "access_denied", "admin API: Host "+quoteOrNone(r.Host)+" is neither a loopback name nor this IdP's host (DNS rebinding?)")
			return
		}
		if o, ok := r.Header["Origin"]; ok && !s.adminOriginAllowed(r, o) {
			writeOAuthError(w, http.StatusForbidden, "access_denied", "admin API: requests from web pages of other origins are refused")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if e := adminBodyType(r); e != "" {
				writeOAuthError(w, http.StatusUnsupportedMediaType, "invalid_request", e)
				return
			}
		}
		h(w, r)
	}
}

// adminHostAllowed accepts loopback names and addresses (any port) and the
// host:port of the issuer and of the listener.
func (s *Server) adminHostAllowed(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if isLoopbackHost(strings.ToLower(h)) {
		return true
	}
	for _, base := range []string{s.Issuer(), s.URL()} {
		if u, err := url.Parse(base); err == nil && u.Host != "" && strings.EqualFold(u.Host, host) {
			return true
		}
	}
	return false
}

// adminOriginAllowed accepts only the request's own origin or the issuer's.
func (s *Server) adminOriginAllowed(r *http.Request, origins []string) bool {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	for _, o := range origins {
		if !strings.EqualFold(o, scheme+r.Host) && (s.Issuer() == "" || !strings.EqualFold(o, originOf(s.Issuer()))) {
			return false
		}
	}
	return true
}

func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// adminBodyType explains why a state-changing call's body is refused, or
// returns "". A body needs Content-Type application/json; with no body,
// any Content-Type a form could send is refused too. PUT, PATCH and DELETE
// cannot be sent cross-site without a preflight, so an untyped JSON body
// is fine there.
func adminBodyType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return "admin API: Content-Type " + quoteOrNone(ct) + " refused; send application/json (curl --json)"
		}
		return ""
	}
	if r.Method == http.MethodPost && r.ContentLength != 0 {
		return "admin API: a POST body needs Content-Type application/json (curl --json)"
	}
	return ""
}

func (s *Server) adminIndex(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, jsonBytes(map[string]any{
		"endpoints": []string{"GET,PUT,PATCH,DELETE /_authlab/faults", "POST /_authlab/reset", "POST /_authlab/rotate {\"grace\":\"5m\"}",
			"GET /_authlab/events (SSE with Accept: text/event-stream, else NDJSON)", "GET /_authlab/config", "GET /_authlab/state", "POST /_authlab/device/approve", "POST /_authlab/mint {\"claims\":{...}}"},
		"fault_endpoints": []string{EPDiscovery, EPJWKS, EPAuthorize, EPToken, EPIntrospect, EPRevoke, EPUserinfo, EPDevice, EPDevicePage, EPEndSession, EPAPI, "*"},
	}))
}

func (s *Server) adminGetFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, jsonBytes(s.Faults()))
}

func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (s *Server) adminPutFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	if err := readJSON(r, &f); err != nil {
		writeOAuthError(w, 400, "invalid_request", "faults: "+err.Error())
		return
	}
	if err := s.SetFaults(f); err != nil {
		writeOAuthError(w, 400, "invalid_request", err.Error())
		return
	}
	s.adminGetFaults(w, r)
}

// adminPatchFaults merges the JSON body into the faults in force (maps merge
// key by key; JSON null removes a key).
func (s *Server) adminPatchFaults(w http.ResponseWriter, r *http.Request) {
	var perr error
	err := s.UpdateFaults(func(f *Faults) {
		// Decode onto the current values: fields absent from the body stay.
		perr = readJSON(r, f)
	})
	if perr != nil {
		writeOAuthError(w, 400, "invalid_request", "faults: "+perr.Error())
		return
	}
	if err != nil {
		writeOAuthError(w, 400, "invalid_request", err.Error())
		return
	}
	s.adminGetFaults(w, r)
}

func (s *Server) adminReset(w http.ResponseWriter, r *http.Request) {
	s.ResetFaults()
	s.adminGetFaults(w, r)
}

func (s *Server) adminRotate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Grace Duration `json:"grace"`
	}
	if g := r.URL.Query().Get("grace"); g != "" {
		d, err := time.ParseDuration(g)
		if err != nil {
			writeOAuthError(w, 400, "invalid_request", "grace: "+err.Error())
			return
		}
		req.Grace = Duration(d)
	} else if err := readJSON(r, &req); err != nil {
		writeOAuthError(w, 400, "invalid_request", "rotate: "+err.Error())
		return
	}
	if err := s.RotateKey(req.Grace.D()); err != nil {
		writeOAuthError(w, 500, "server_error", "rotate: "+err.Error())
		return
	}
	writeJSON(w, 200, s.keySet().jwks)
}

func (s *Server) adminConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, jsonBytes(s.cfg.Redacted()))
}

func (s *Server) adminState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, jsonBytes(map[string]any{"tables": s.st.sizes(), "table_bytes": s.st.tableBytes(), "issuer": s.issuerFor(r), "now": s.Now().UTC(), "faults": s.Faults()}))
}

func (s *Server) adminApproveDevice(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserCode string `json:"user_code"`
		Username string `json:"username"`
		Deny     bool   `json:"deny"`
	}
	if err := readJSON(r, &req); err != nil {
		writeOAuthError(w, 400, "invalid_request", err.Error())
		return
	}
	if req.Username == "" {
		req.Username = s.cfg.DefaultUser
	}
	if err := s.ApproveDevice(req.UserCode, req.Username, !req.Deny); err != nil {
		writeOAuthError(w, 400, "invalid_request", err.Error())
		return
	}
	w.WriteHeader(204)
}

// adminEvents streams events as SSE (Accept: text/event-stream) or NDJSON
// until the caller goes away or the server closes.
func (s *Server) adminEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeOAuthError(w, 500, "server_error", "streaming unsupported")
		return
	}
	sse := strings.Contains(r.Header.Get("Accept"), "text/event-stream")
	ch, cancel := s.Events(1024)
	defer cancel()
	if sse {
		w.Header().Set("Content-Type", "text/event-stream")
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(200)
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		case e, ok := <-ch:
			if !ok {
				return
			}
			b := jsonBytes(e)
			if sse {
				w.Write([]byte("event: exchange\ndata: "))
				w.Write(b)
				w.Write([]byte("\n\n"))
			} else {
				w.Write(b)
				w.Write([]byte("\n"))
			}
			fl.Flush()
		}
	}
}

// Redacted is the configuration with secrets and passwords masked, except
// the demo defaults, which are public by design.
func (c Config) Redacted() Config {
	demo := DefaultConfig()
	pub := map[string]string{}
	for _, cl := range demo.Clients {
		pub[cl.ID] = cl.Secret
	}
	out := c
	out.Clients = append([]Client(nil), c.Clients...)
	for i := range out.Clients {
		if s := out.Clients[i].Secret; s != "" && pub[out.Clients[i].ID] != s {
			out.Clients[i].Secret = flows.Masked
		}
	}
	pw := map[string]string{}
	for _, u := range demo.Users {
		pw[u.Username] = u.Password
	}
	out.Users = append([]User(nil), c.Users...)
	for i := range out.Users {
		if p := out.Users[i].Password; p != "" && pw[out.Users[i].Username] != p {
			out.Users[i].Password = flows.Masked
		}
	}
	if out.APIKey != "" && out.APIKey != demo.APIKey {
		out.APIKey = flows.Masked
	}
	return out
}
