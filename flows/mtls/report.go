package mtls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"authlab/flows"
)

// ExpiryWarning is how close to expiry a certificate in play draws a warning.
const ExpiryWarning = 7 * 24 * time.Hour

// Options configure a handshake report.
type Options struct {
	URL      string
	Method   string // GET when empty
	CertFile string // client certificate (chain) PEM; empty: none
	KeyFile  string
	CAFile   string // roots for the server; empty: the system's
	Header   http.Header
	Timeout  time.Duration
	Now      func() time.Time // expiry arithmetic; time.Now when nil
}

// CertInfo describes one certificate for display.
type CertInfo struct {
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	DNSNames   []string  `json:"dns_names,omitempty"`
	IPs        []string  `json:"ip_addresses,omitempty"`
	URIs       []string  `json:"uris,omitempty"`
	Emails     []string  `json:"emails,omitempty"`
	SPIFFEID   string    `json:"spiffe_id,omitempty"`
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
	DaysLeft   int       `json:"days_left"`
	Thumbprint string    `json:"x5t#S256"`
	IsCA       bool      `json:"is_ca,omitempty"`
}

// DescribeCert summarises c at now.
func DescribeCert(c *x509.Certificate, now time.Time) CertInfo {
	ci := CertInfo{
		Subject:    c.Subject.String(),
		Issuer:     c.Issuer.String(),
		DNSNames:   c.DNSNames,
		Emails:     c.EmailAddresses,
		NotBefore:  c.NotBefore.UTC(),
		NotAfter:   c.NotAfter.UTC(),
		DaysLeft:   int(c.NotAfter.Sub(now).Hours() / 24),
		Thumbprint: flows.Thumbprint(c.Raw),
		IsCA:       c.IsCA,
	}
	for _, ip := range c.IPAddresses {
		ci.IPs = append(ci.IPs, ip.String())
	}
	for _, u := range c.URIs {
		ci.URIs = append(ci.URIs, u.String())
		if u.Scheme == "spiffe" && ci.SPIFFEID == "" {
			ci.SPIFFEID = u.String()
		}
	}
	return ci
}

// SANs renders the subject alternative names on one line.
func (c CertInfo) SANs() string {
	var all []string
	all = append(all, c.DNSNames...)
	all = append(all, c.IPs...)
	all = append(all, c.URIs...)
	all = append(all, c.Emails...)
	if len(all) == 0 {
		return "(none)"
	}
	return strings.Join(all, ", ")
}

// Handshake is what TLS negotiated.
type Handshake struct {
	Version     string `json:"version"`
	CipherSuite string `json:"cipher_suite"`
	ALPN        string `json:"alpn,omitempty"`
	ServerName  string `json:"server_name"`
}

// Response is the HTTP answer after the handshake.
type Response struct {
	Status int         `json:"status"`
	Header http.Header `json:"headers,omitempty"`
	Body   string      `json:"body,omitempty"`
}

// Report is the handshake report of `authlab flow mtls`.
type Report struct {
	URL       string     `json:"url"`
	Handshake *Handshake `json:"tls,omitempty"`
	// ServerChain is what the server presented, captured even when it
	// failed verification.
	ServerChain    []CertInfo `json:"server_chain,omitempty"`
	ServerVerified bool       `json:"server_verified"`
	// ClientCertRequested: the server sent a CertificateRequest.
	ClientCertRequested bool `json:"client_cert_requested"`
	// ClientCertRequestUnknown says why ClientCertRequested could not be
	// known: the handshake ended before a request would have been seen.
	ClientCertRequestUnknown string `json:"client_cert_request_unknown,omitempty"`
	// AcceptableCAs are the issuer DNs from the CertificateRequest (empty:
	// the server did not say, or did not ask).
	AcceptableCAs []string `json:"acceptable_cas,omitempty"`
	// ClientCert is the certificate we have (from --cert), ClientCertSent
	// whether it went out in the handshake.
	ClientCert     *CertInfo         `json:"client_cert,omitempty"`
	ClientCertSent bool              `json:"client_cert_sent"`
	Response       *Response         `json:"response,omitempty"`
	Checks         []flows.Check     `json:"checks"`
	Exchanges      []flows.Exchange  `json:"exchanges"`
	Error          *flows.Error      `json:"error,omitempty"`
	OK             bool              `json:"ok"`
	clientChain    *x509.Certificate // for issuer comparisons
}

func (r *Report) check(name string, st flows.Status, detail string) {
	r.Checks = append(r.Checks, flows.Check{Name: name, Status: st, Detail: detail})
}

// handshakeState is filled by the TLS callbacks of one Run.
type handshakeState struct {
	mu            sync.Mutex
	requested     bool
	acceptableCAs [][]byte
	sent          bool
	chain         []*x509.Certificate
	verified      bool
	version       uint16 // negotiated, as seen when verifying the server
}

// Run connects to opts.URL with the client certificate, reports the
// handshake, then the HTTP response. Failures come back in the report
// (Error, Checks), worded for a developer; the error return is only for
// unusable options.
func Run(ctx context.Context, opts Options, obs flows.Observer) (*Report, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	u, err := url.Parse(opts.URL)
	if err != nil || u.Host == "" {
		return nil, flows.Errorf(flows.ErrConfig, "%s %q is not an absolute URL", flows.FieldURL, opts.URL)
	}
	if u.Scheme != "https" {
		return nil, flows.Errorf(flows.ErrConfig, "%s %q: mTLS needs https://", flows.FieldURL, opts.URL)
	}
	rep := &Report{URL: opts.URL, Checks: []flows.Check{}, Exchanges: []flows.Exchange{}}
	t := now()

	var pair *tls.Certificate
	if opts.CertFile != "" || opts.KeyFile != "" {
		p, err := LoadKeyPair(opts.CertFile, opts.KeyFile)
		if err != nil {
			return nil, err
		}
		pair = &p
		leaf, err := x509.ParseCertificate(p.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %v", opts.CertFile, err)
		}
		ci := DescribeCert(leaf, t)
		rep.ClientCert = &ci
		rep.clientChain = leaf
		switch {
		case t.After(leaf.NotAfter):
			rep.check("client certificate valid", flows.Fail, fmt.Sprintf("our certificate %s expired on %s; servers will refuse it (alert certificate_expired or bad_certificate)", ci.Subject, ci.NotAfter.Format(time.RFC3339)))
		case t.Before(leaf.NotBefore):
			rep.check("client certificate valid", flows.Fail, fmt.Sprintf("our certificate %s is not valid before %s (clock?)", ci.Subject, ci.NotBefore.Format(time.RFC3339)))
		case leaf.NotAfter.Sub(t) < ExpiryWarning:
			rep.check("client certificate valid", flows.Warn, fmt.Sprintf("our certificate %s expires in %s (%s)", ci.Subject, leaf.NotAfter.Sub(t).Round(time.Hour), ci.NotAfter.Format(time.RFC3339)))
		default:
			rep.check("client certificate valid", flows.Pass, fmt.Sprintf("%s, %d days left", ci.Subject, ci.DaysLeft))
		}
	}
	var roots *x509.CertPool
	if opts.CAFile != "" {
		cas, err := LoadCerts(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA bundle: %w", err)
		}
		roots = x509.NewCertPool()
		for _, c := range cas {
			roots.AddCert(c)
			// A CA in play expiring soon breaks everything it signed at once.
			switch left := c.NotAfter.Sub(t); {
			case left < 0:
				rep.check("CA certificate not expired", flows.Fail, fmt.Sprintf("%s in %s expired on %s", c.Subject, opts.CAFile, c.NotAfter.UTC().Format(time.RFC3339)))
			case left < ExpiryWarning:
				rep.check("CA certificate not expiring", flows.Warn, fmt.Sprintf("%s in %s expires in %s", c.Subject, opts.CAFile, left.Round(time.Hour)))
			}
		}
	}
	serverName := u.Hostname()
	st := &handshakeState{}
	conf := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: serverName,
		// Verification happens in VerifyConnection so that the chain is
		// recorded even when it fails: the report shows what was presented.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			st.mu.Lock()
			st.chain = cs.PeerCertificates
			st.version = cs.Version
			st.mu.Unlock()
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the server presented no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
				Roots: roots, Intermediates: inter, DNSName: serverName, CurrentTime: t,
			})
			if err != nil {
				return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			}
			st.mu.Lock()
			st.verified = true
			st.mu.Unlock()
			return nil
		},
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			st.mu.Lock()
			defer st.mu.Unlock()
			st.requested = true
			st.acceptableCAs = cri.AcceptableCAs
			if pair == nil {
				return &tls.Certificate{}, nil // no certificate: an empty Certificate message
			}
			st.sent = true
			return pair, nil
		},
	}
	inner := obs
	if inner == nil {
		inner = flows.Discard
	}
	// Exchanges reach the caller's observer only once the handshake facts
	// are known (below): the recorder keeps them meanwhile.
	rec := flows.NewRecorder(flows.FlowMTLS, flows.ObserverFuncs{OnStep: inner.Step})
	tr := flows.NewTransport(conf)
	defer tr.CloseIdleConnections()
	client := flows.NewClient(flows.ClientOptions{Timeout: opts.Timeout, Transport: tr}, rec)
	method := opts.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, opts.URL, nil)
	if err != nil {
		return nil, flows.Errorf(flows.ErrConfig, "%s: %v", flows.FieldURL, err)
	}
	for k, v := range opts.Header {
		req.Header[k] = v
	}
	resp, doErr := client.Do(req, "mtls")

	st.mu.Lock()
	rep.ClientCertRequested = st.requested
	rep.ClientCertSent = st.sent
	rep.ServerVerified = st.verified
	for _, c := range st.chain {
		rep.ServerChain = append(rep.ServerChain, DescribeCert(c, t))
	}
	for _, dn := range st.acceptableCAs {
		rep.AcceptableCAs = append(rep.AcceptableCAs, describeDN(dn))
	}
	rep.ClientCertRequestUnknown = requestUnknown(st, doErr)
	st.mu.Unlock()
	for _, e := range rec.Exchanges() {
		if e.TLS != nil {
			// The recording client cannot know whether a certificate went out; we do.
			tf := *e.TLS
			tf.ClientCertSent = rep.ClientCertSent
			if rep.ClientCertSent && rep.ClientCert != nil {
				tf.ClientCertSubject = rep.ClientCert.Subject
			}
			e.TLS = &tf
			rep.Handshake = &Handshake{Version: tf.Version, CipherSuite: tf.CipherSuite, ALPN: tf.ALPN, ServerName: serverName}
		}
		rep.Exchanges = append(rep.Exchanges, e)
		inner.Exchange(e)
	}
	rep.serverChecks(t)
	rep.clientChecks()

	if doErr != nil {
		fe := explain(doErr, rep)
		rep.Error = fe
		rep.check("request completed", flows.Fail, fe.Message)
		return rep, nil
	}
	rep.Response = &Response{Status: resp.Status, Header: flows.MaskHeaders(resp.Header), Body: string(resp.Body)}
	if rep.Handshake == nil && resp.Exchange.TLS != nil {
		rep.Handshake = &Handshake{Version: resp.Exchange.TLS.Version, CipherSuite: resp.Exchange.TLS.CipherSuite, ALPN: resp.Exchange.TLS.ALPN, ServerName: serverName}
	}
	if resp.Status >= 400 {
		detail := fmt.Sprintf("HTTP %d %s", resp.Status, flows.Snippet(resp.Body, 160))
		rep.check("HTTP response", flows.Fail, detail)
		rep.Error = &flows.Error{Kind: flows.ErrCheck, Message: "the TLS handshake succeeded but the server answered " + detail, Status: resp.Status}
		return rep, nil
	}
	rep.check("HTTP response", flows.Pass, fmt.Sprintf("HTTP %d", resp.Status))
	rep.OK = !flows.AnyFailed(rep.Checks)
	if !rep.OK && rep.Error == nil {
		rep.Error = &flows.Error{Kind: flows.ErrCheck, Message: firstFailed(rep.Checks)}
	}
	return rep, nil
}

func firstFailed(cs []flows.Check) string {
	for _, c := range cs {
		if c.Status == flows.Fail {
			return c.Name + ": " + c.Detail
		}
	}
	return ""
}

func (r *Report) serverChecks(now time.Time) {
	for i, c := range r.ServerChain {
		role := "server certificate"
		if i > 0 {
			role = "server chain certificate " + fmt.Sprint(i)
		}
		left := c.NotAfter.Sub(now)
		switch {
		case left < 0:
			r.check(role+" not expired", flows.Fail, fmt.Sprintf("%s expired on %s", c.Subject, c.NotAfter.Format(time.RFC3339)))
		case left < ExpiryWarning:
			r.check(role+" not expiring", flows.Warn, fmt.Sprintf("%s expires in %s (%s)", c.Subject, left.Round(time.Hour), c.NotAfter.Format(time.RFC3339)))
		}
	}
	if len(r.ServerChain) > 0 && r.ServerVerified {
		r.check("server certificate trusted", flows.Pass, fmt.Sprintf("%s, issued by %s, valid for the host", r.ServerChain[0].Subject, r.ServerChain[0].Issuer))
	}
}

func (r *Report) clientChecks() {
	switch {
	case r.ClientCertRequested && r.ClientCert == nil:
		r.check("client certificate", flows.Warn, "the server asked for a client certificate and we have none (give a client certificate and key)"+acceptsSuffix(r.AcceptableCAs))
	case r.ClientCertRequested && r.ClientCertSent:
		detail := "sent " + r.ClientCert.Subject
		if len(r.AcceptableCAs) > 0 && r.clientChain != nil && !issuerAccepted(r.clientChain, r.AcceptableCAs) {
			r.check("client certificate", flows.Warn, detail+fmt.Sprintf(", but its issuer %s is not among the CAs the server accepts (%s)", r.ClientCert.Issuer, strings.Join(r.AcceptableCAs, "; ")))
			return
		}
		r.check("client certificate", flows.Pass, detail)
	case r.ClientCertRequestUnknown != "" && r.ClientCert != nil:
		r.check("client certificate", flows.Warn, "ours was not sent, and whether the server asks for one is unknown: "+r.ClientCertRequestUnknown)
	case !r.ClientCertRequested && r.ClientCert != nil && len(r.ServerChain) > 0:
		r.check("client certificate", flows.Warn, "the server did not ask for a client certificate, so ours was not sent (is this the mTLS endpoint or alias?)")
	}
}

// requestUnknown says why a handshake that saw no CertificateRequest
// cannot tell whether the server would have sent one, or "" when it can. In
// TLS 1.2 the request follows the server's certificate; in TLS 1.3 it comes
// first, but a client answers it only after accepting that certificate. So
// a handshake that stopped at the server's certificate knows nothing.
func requestUnknown(st *handshakeState, doErr error) string {
	switch {
	case st.requested, doErr == nil:
		return ""
	case len(st.chain) == 0:
		return "the connection failed before the server presented its certificate"
	case !st.verified:
		return "the handshake stopped at the server's certificate, which was not accepted, before a request for ours could be seen"
	case st.version != tls.VersionTLS13:
		return "the handshake failed after the server's certificate, before a request for ours could be seen (TLS 1.2 sends it later)"
	}
	return "" // TLS 1.3: the request, if any, came before the certificate we accepted
}

func acceptsSuffix(cas []string) string {
	if len(cas) == 0 {
		return ""
	}
	return "; it accepts certificates issued by " + strings.Join(cas, "; ")
}

func issuerAccepted(c *x509.Certificate, cas []string) bool {
	issuer := c.Issuer.String()
	for _, ca := range cas {
		if ca == issuer {
			return true
		}
	}
	return false
}

// describeDN renders a DER-encoded distinguished name from a CertificateRequest.
func describeDN(der []byte) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &seq); err != nil || len(rest) > 0 {
		return fmt.Sprintf("(unparsable %d-byte DN)", len(der))
	}
	var n pkix.Name
	n.FillFromRDNSequence(&seq)
	return n.String()
}

// explain words a failed request, using what the handshake recorded to be
// more precise than the transport error alone.
func explain(err error, r *Report) *flows.Error {
	u, _ := url.Parse(r.URL)
	var fe *flows.Error
	if !errors.As(err, &fe) {
		fe = flows.ExplainTransportError("mtls", u, err, 0)
	}
	host := u.Host
	msg := err.Error()
	switch {
	case r.ClientCertRequested && r.ClientCert == nil && isAlert(msg, "certificate_required", "handshake_failure", "bad_certificate"):
		return flows.Wrap(flows.ErrTLS, err, "mtls: %s requires a client certificate and we sent none; pass %s and %s%s", host, flows.FieldCertFile, flows.FieldKeyFile, acceptsSuffix(r.AcceptableCAs))
	case r.ClientCertSent && isAlert(msg, "unknown_ca"):
		return flows.Errorf(flows.ErrTLS, "mtls: %s does not trust the CA that issued our client certificate (%s, alert unknown_ca)%s", host, r.ClientCert.Issuer, acceptsSuffix(r.AcceptableCAs))
	case r.ClientCertSent && isAlert(msg, "certificate_expired"):
		return flows.Errorf(flows.ErrTLS, "mtls: %s says our client certificate has expired (not after %s, alert certificate_expired)", host, r.ClientCert.NotAfter.Format(time.RFC3339))
	case r.ClientCertSent && isAlert(msg, "bad_certificate", "certificate_unknown"):
		why := ""
		if r.ClientCert != nil && r.ClientCert.DaysLeft < 0 {
			why = fmt.Sprintf("; it expired on %s", r.ClientCert.NotAfter.Format(time.RFC3339))
		} else if len(r.AcceptableCAs) > 0 && r.clientChain != nil && !issuerAccepted(r.clientChain, r.AcceptableCAs) {
			why = fmt.Sprintf("; its issuer %s is not one the server accepts", r.ClientCert.Issuer)
		}
		return flows.Errorf(flows.ErrTLS, "mtls: %s rejected our client certificate %s (alert bad_certificate)%s%s", host, r.ClientCert.Subject, why, acceptsSuffix(r.AcceptableCAs))
	}
	return fe
}

// isAlert matches a TLS alert received from the peer, by its RFC 8446 name
// as flows.ExplainTransportError words it ("alert unknown_ca"), or by Go's
// raw "remote error: tls: …" text.
func isAlert(msg string, names ...string) bool {
	for _, n := range names {
		if strings.Contains(msg, "(alert "+n+")") {
			return true
		}
		if code, ok := alertCode(n); ok && strings.Contains(msg, "remote error: "+tls.AlertError(code).Error()) {
			return true
		}
	}
	return false
}

// alertCode maps the alert names isAlert is asked about to their codes.
func alertCode(name string) (uint8, bool) {
	switch name {
	case "handshake_failure":
		return 40, true
	case "bad_certificate":
		return 42, true
	case "certificate_expired":
		return 45, true
	case "certificate_unknown":
		return 46, true
	case "unknown_ca":
		return 48, true
	case "certificate_required":
		return 116, true
	}
	return 0, false
}
