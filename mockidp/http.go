package mockidp

import (
	hmacsig "authlab/flows/hmac"
	"bytes"
	"errors"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"

	"authlab/flows"
)

// maxBody caps request bodies the IdP reads.
const maxBody = 64 << 10

// tooLarge reports whether err is the request body limit being hit.
func tooLarge(err error) bool {
	var m *http.MaxBytesError
	return errors.As(err, &m)
}

func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	h := func(pattern, ep string, f http.HandlerFunc) {
		s.epNames[ep] = true
		s.mux.Handle(pattern, s.wrap(ep, f))
	}
	h("GET /.well-known/openid-configuration", EPDiscovery, s.handleDiscovery)
	h("GET /.well-known/oauth-authorization-server", EPDiscovery, s.handleDiscovery)
	h("GET /jwks", EPJWKS, s.handleJWKS)
	h("GET /authorize", EPAuthorize, s.handleAuthorize)
	h("POST /authorize", EPAuthorize, s.handleAuthorize)
	h("POST /login", EPAuthorize, s.handleLoginPost)
	for _, p := range []string{"", "/mtls"} {
		h("POST "+p+"/token", EPToken, s.handleToken)
		h("POST "+p+"/introspect", EPIntrospect, s.handleIntrospect)
		h("POST "+p+"/revoke", EPRevoke, s.handleRevoke)
		h("GET "+p+"/userinfo", EPUserinfo, s.handleUserinfo)
		h("POST "+p+"/userinfo", EPUserinfo, s.handleUserinfo)
		h("POST "+p+"/device_authorization", EPDevice, s.handleDeviceAuthorization)
		h("POST "+p+"/par", EPPAR, s.handlePAR)
	}
	h("GET /device", EPDevicePage, s.handleDevicePage)
	h("POST /device", EPDevicePage, s.handleDevicePage)
	h("GET /end_session", EPEndSession, s.handleEndSession)
	h("GET /api/hello", EPAPI, s.handleHello)
	h("GET /api/mtls", EPAPI, s.handleMTLSResource)
	h("GET /api/key", EPAPI, s.handleAPIKey) // the configured api_key (apikey.go)
	h("/api/flawed", EPAPI, s.handleFlawed)  // accepts exactly the flaws named in ?allow=
	// /api/hmac: requests signed (RFC 9421) with the published demo key;
	// the verifier runs on the IdP's clock, so the skew fault applies.
	hmacDemo := hmacsig.NewDemoVerifier(s.Now).Middleware(hmacsig.SchemeRFC9421, http.HandlerFunc(s.handleHMACResource))
	s.epNames[EPAPI] = true
	s.mux.Handle("/api/hmac", s.wrap(EPAPI, hmacDemo))
	s.adminRoutes()
	s.mux.Handle("GET /metrics", s.metrics.handler(s)) // no faults, not counted itself
	s.mux.Handle("POST /_authlab/mint", s.wrap(EPAdmin, s.adminAuth(s.adminMint)))
	h("/", EPOther, func(w http.ResponseWriter, r *http.Request) {
		writeOAuthError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.URL.Path)
	})
	s.handler = s.mux
}

// recWriter records the response for the event stream; it exists only while
// someone is subscribed.
type recWriter struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	clientID string
	grant    string
	oerr     string
}

func (w *recWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	if w.body.Len() < maxBody {
		w.body.Write(b[:min(len(b), maxBody-w.body.Len())])
	}
	return w.ResponseWriter.Write(b)
}

func (w *recWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *recWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// note tells the event recorder who called and with which grant.
func note(w http.ResponseWriter, clientID, grant string) {
	if mw := metricsOf(w); mw != nil {
		if clientID != "" {
			mw.clientID = clientID
		}
		if grant != "" {
			mw.grant = grant
		}
	}
	if rw, ok := w.(*recWriter); ok {
		if clientID != "" {
			rw.clientID = clientID
		}
		if grant != "" {
			rw.grant = grant
		}
	}
}

// wrap applies the per-endpoint faults (latency, errors, skewed Date header)
// and records the exchange for event subscribers.
func (s *Server) wrap(ep string, h http.Handler) http.Handler {
	em := s.metrics.endpoint(ep)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw := em.begin(w)
		defer em.finish(mw)
		w = mw
		if r.ContentLength > maxBody {
			writeOAuthError(w, http.StatusRequestEntityTooLarge, "invalid_request", "request body larger than 64 KiB")
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		fs := s.faults.Load()
		if !s.events.active() {
			if fs.zero || ep == EPAdmin {
				h.ServeHTTP(w, r)
				return
			}
			s.applyFaults(fs, ep, w, r, h)
			return
		}
		start := time.Now()
		var reqRec *teeBody
		if r.Body != nil && r.Body != http.NoBody && ep != EPAdmin {
			// Record what the handler reads, as it reads it: the handler sees
			// the body (and its size limit) exactly as without a subscriber.
			reqRec = &teeBody{ReadCloser: r.Body}
			r.Body = reqRec
		}
		rw := &recWriter{ResponseWriter: w}
		fault := ""
		if fs.zero || ep == EPAdmin {
			h.ServeHTTP(rw, r)
		} else {
			fault = s.applyFaults(fs, ep, rw, r, h)
		}
		if ep == EPAdmin && strings.HasPrefix(r.URL.Path, "/_authlab/events") {
			return // the stream itself is not an event
		}
		if rw.status == 0 {
			rw.status = 200
		}
		var reqBody []byte
		if reqRec != nil {
			reqBody = reqRec.buf.Bytes()
		}
		s.publishExchange(start, ep, r, w.Header(), rw, reqBody, fault)
	})
}

// teeBody keeps a copy of the first maxBody bytes a handler reads.
type teeBody struct {
	io.ReadCloser
	buf bytes.Buffer
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if room := maxBody - t.buf.Len(); room > 0 && n > 0 {
		t.buf.Write(p[:min(n, room)])
	}
	return n, err
}

// publishExchange sends one event, with every secret the exchange carries
// masked wherever it appears in the record.
func (s *Server) publishExchange(start time.Time, ep string, r *http.Request, respHeader http.Header, rw *recWriter, reqBody []byte, fault string) {
	reqCT, respCT := r.Header.Get("Content-Type"), respHeader.Get("Content-Type")
	red := newRedactor()
	red.add(s.adminToken, flows.Masked)
	red.addValues(r.URL.Query())
	red.addHeaders(r.Header)
	red.addBody(reqBody, reqCT)
	red.addHeaders(respHeader)
	red.addBody(rw.body.Bytes(), respCT)
	u := *r.URL
	u.Host = r.Host
	u.Scheme = "http"
	if r.TLS != nil {
		u.Scheme = "https"
	}
	s.events.publish(Event{
		Time:     start,
		Endpoint: ep,
		ClientID: rw.clientID,
		Grant:    rw.grant,
		Error:    rw.oerr,
		Fault:    fault,
		Remote:   r.RemoteAddr,
		Exchange: flows.Exchange{
			Method:          r.Method,
			URL:             red.url(&u),
			RequestHeaders:  red.headers(r.Header),
			RequestBody:     red.body(reqBody, reqCT),
			Status:          rw.status,
			ResponseHeaders: red.headers(respHeader),
			ResponseBody:    red.body(rw.body.Bytes(), respCT),
			Started:         start,
			Duration:        time.Since(start),
			TLS:             tlsFacts(r),
		},
	})
}

func tlsFacts(r *http.Request) *flows.TLSFacts {
	if r.TLS == nil {
		return nil
	}
	return flows.TLSFactsOf(r.TLS, len(r.TLS.PeerCertificates) > 0)
}

// applyFaults delays, fails or passes the request; it returns the fault applied.
func (s *Server) applyFaults(fs *faultState, ep string, w http.ResponseWriter, r *http.Request, h http.Handler) string {
	var applied []string
	if fs.f.Skew != 0 {
		w.Header().Set("Date", s.Now().UTC().Format(http.TimeFormat))
		applied = append(applied, "skew "+fs.f.Skew.D().String())
	}
	if d := fs.latency(ep); d > 0 {
		applied = append(applied, "latency "+d.String())
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return strings.Join(applied, ", ")
		case <-s.closed:
			t.Stop()
			return strings.Join(applied, ", ")
		}
	}
	if ef, ok := fs.errorFor(ep, roll); ok {
		applied = append(applied, "error "+strconv.Itoa(ef.Status)+" "+ef.Error)
		if ep == EPJWKS || ep == EPDiscovery || ep == EPAPI {
			w.Header().Set("Content-Type", "application/json")
		}
		writeOAuthError(w, ef.Status, ef.Error, ef.Description)
		return strings.Join(applied, ", ")
	}
	h.ServeHTTP(w, r)
	return strings.Join(applied, ", ")
}

// writeOAuthError answers with an RFC 6749 5.2 error body.
func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	if mw := metricsOf(w); mw != nil {
		mw.oerr = code
	}
	if rw, ok := w.(*recWriter); ok {
		rw.oerr = code
	}
	b := make([]byte, 0, 96+len(desc))
	b = append(b, `{"error":`...)
	b = appendJSONString(b, code)
	if desc != "" {
		b = append(b, `,"error_description":`...)
		b = appendJSONString(b, desc)
	}
	b = append(b, '}')
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized && hd.Get("WWW-Authenticate") == "" {
		hd.Set("WWW-Authenticate", `Basic realm="authlab-mockidp"`)
	}
	w.WriteHeader(status)
	w.Write(b)
}

// Shared header values: net/http never mutates them, and sharing saves an
// allocation per header per response.
var (
	hvJSON    = []string{"application/json"}
	hvNoStore = []string{"no-store"}
	hvNoCache = []string{"no-cache"}
)

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	hd := w.Header()
	hd["Content-Type"] = hvJSON
	hd["Cache-Control"] = hvNoStore
	w.WriteHeader(status)
	w.Write(body)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			const hexd = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
		case c == '<' || c == '>' || c == '&':
			b = append(b, c) // no HTML escaping in API bodies
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// issuerFor is the issuer for this request: configured, listener-derived,
// or (for a bare Handler()) from the Host header.
func (s *Server) issuerFor(r *http.Request) string {
	if iss := s.Issuer(); iss != "" {
		return iss
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
