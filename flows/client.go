package flows

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Limits every outbound call obeys: a slow or huge answer never hangs a flow.
const (
	DefaultTimeout          = 15 * time.Second
	MaxResponseBody   int64 = 1 << 20
	MaxResponseHeader       = 64 << 10
	MaxRedirects            = 5
	// exchangeBodyCap bounds what an Exchange keeps of a body for display.
	exchangeBodyCap = 64 << 10
)

// ClientOptions configure a recording HTTP client.
type ClientOptions struct {
	Timeout   time.Duration // per call; DefaultTimeout when zero
	TLSConfig *tls.Config   // CA pool, client certificate, ...
	MaxBody   int64         // MaxResponseBody when zero
	// Transport overrides the transport (tests, bench). When set, TLSConfig is ignored.
	Transport http.RoundTripper
	// NoRedirects follows no redirect, GET included: the 3xx is the answer.
	// For a request whose credential is a header net/http would send along
	// to wherever the redirect points (an API key, a signature).
	NoRedirects bool
}

// Client sends HTTP requests with caps and timeouts and reports each one to
// the observer as a masked Exchange.
type Client struct {
	hc      *http.Client
	obs     Observer
	maxBody int64
	timeout time.Duration
}

// NewClient builds a Client. obs may be nil.
func NewClient(opts ClientOptions, obs Observer) *Client {
	if obs == nil {
		obs = Discard
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	maxBody := opts.MaxBody
	if maxBody <= 0 {
		maxBody = MaxResponseBody
	}
	rt := opts.Transport
	if rt == nil {
		rt = NewTransport(opts.TLSConfig)
	}
	hc := &http.Client{
		Transport: rt,
		// POSTs (token, introspection, revocation) never follow redirects: a
		// redirected credential POST is a misconfiguration to report, not follow.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if opts.NoRedirects || via[0].Method != http.MethodGet && via[0].Method != http.MethodHead {
				return http.ErrUseLastResponse
			}
			if len(via) >= MaxRedirects {
				return fmt.Errorf("stopped after %d redirects", MaxRedirects)
			}
			return nil
		},
	}
	return &Client{hc: hc, obs: obs, maxBody: maxBody, timeout: timeout}
}

// NewTransport returns a transport with the header cap and sane timeouts.
func NewTransport(tlsConf *tls.Config) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = tlsConf
	t.MaxResponseHeaderBytes = MaxResponseHeader
	t.ResponseHeaderTimeout = 0 // the per-call context bounds everything
	t.MaxIdleConnsPerHost = 64
	return t
}

// HTTPClient exposes the underlying client for code that needs a plain
// *http.Client (for example a library under test). It has no per-call cap.
func (c *Client) HTTPClient() *http.Client { return c.hc }

// Observer returns the observer this client reports to.
func (c *Client) Observer() Observer { return c.obs }

// Response is a fully read, capped response plus what was recorded.
type Response struct {
	Status   int
	Header   http.Header
	Body     []byte
	Sent     time.Time // when the request left
	Received time.Time // when the response headers arrived
	Exchange Exchange
}

// ContentType returns the media type without parameters, lower-cased.
func (r *Response) ContentType() string {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// Snippet returns the first bytes of the body on one line, for error messages.
func (r *Response) Snippet() string { return Snippet(r.Body, 80) }

// Snippet renders up to n bytes of b on one line.
func Snippet(b []byte, n int) string {
	s := string(b)
	if len(s) > n {
		s = s[:n] + "…"
	}
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "(empty body)"
	}
	return fmt.Sprintf("%q", s)
}

// PostForm sends an application/x-www-form-urlencoded POST.
func (c *Client) PostForm(ctx context.Context, step, endpoint string, form url.Values, header http.Header) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, Errorf(ErrConfig, "%s: bad URL %q: %v", step, endpoint, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	return c.Do(req, step)
}

// Get sends a GET with an Accept header.
func (c *Client) Get(ctx context.Context, step, endpoint string, header http.Header) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, Errorf(ErrConfig, "%s: bad URL %q: %v", step, endpoint, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	return c.Do(req, step)
}

// Do sends req under the per-call timeout, reads at most MaxBody bytes of the
// (decompressed) body, and reports the exchange. Transport failures come back
// as *Error with an explanation (see ExplainTransportError).
func (c *Client) Do(req *http.Request, step string) (*Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), c.timeout)
	defer cancel()
	req = req.WithContext(ctx)

	var reqBody []byte
	if req.Body != nil && req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			reqBody, _ = io.ReadAll(io.LimitReader(rc, exchangeBodyCap))
			rc.Close()
		}
	}
	ex := Exchange{
		Step:           step,
		Method:         req.Method,
		URL:            MaskURL(req.URL),
		RequestHeaders: MaskHeaders(req.Header),
		RequestBody:    MaskCredentials(reqBody, req.Header.Get("Content-Type")),
		Started:        time.Now(),
	}
	ex.DPoP = DecodeProofView(req.Header.Get("DPoP"))
	// A recorder masks what this request carries wherever a server
	// reflects it (flows.Secrets); it must know before the answer arrives.
	if l, ok := c.obs.(interface{ learnRequest(*http.Request, []byte) }); ok {
		l.learnRequest(req, reqBody)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		ex.Duration = time.Since(ex.Started)
		e := ExplainTransportError(step, req.URL, err, c.timeout)
		ex.Err = e.Message
		c.obs.Exchange(ex)
		return nil, e
	}
	received := time.Now()
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	truncated := int64(len(body)) > c.maxBody
	if truncated {
		body = body[:c.maxBody]
	}
	ex.Duration = time.Since(ex.Started)
	ex.Status = resp.StatusCode
	ex.ResponseHeaders = MaskHeaders(resp.Header)
	ex.ResponseBody = string(capBytes(body, exchangeBodyCap))
	ex.BodyTruncated = truncated || len(body) > exchangeBodyCap
	ex.TLS = TLSFactsOf(resp.TLS, c.clientCertSent(resp.TLS))
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: body, Sent: ex.Started, Received: received}
	switch {
	case readErr != nil:
		e := ExplainTransportError(step, req.URL, readErr, c.timeout)
		e.Message = fmt.Sprintf("%s (while reading the response body)", e.Message)
		ex.Err = e.Message
		c.obs.Exchange(ex)
		return nil, e
	case truncated:
		e := Errorf(ErrProtocol, "%s: %s answered more than %d bytes; refusing to read further", step, hostOf(req.URL), c.maxBody)
		ex.Err = e.Message
		out.Exchange = ex
		c.obs.Exchange(ex)
		return out, e
	}
	out.Exchange = ex
	c.obs.Exchange(ex)
	return out, nil
}

func (c *Client) clientCertSent(cs *tls.ConnectionState) bool {
	// The handshake state does not say whether we sent a certificate; the
	// config does (GetClientCertificate or Certificates set).
	if cs == nil {
		return false
	}
	if t, ok := c.hc.Transport.(*http.Transport); ok && t.TLSClientConfig != nil {
		return len(t.TLSClientConfig.Certificates) > 0 || t.TLSClientConfig.GetClientCertificate != nil
	}
	return false
}

func capBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func hostOf(u *url.URL) string {
	if u == nil {
		return "the server"
	}
	return u.Host
}

// TLSFactsOf summarises a connection state; nil for plain HTTP.
func TLSFactsOf(cs *tls.ConnectionState, clientCertSent bool) *TLSFacts {
	if cs == nil {
		return nil
	}
	f := &TLSFacts{
		Version:        tls.VersionName(cs.Version),
		CipherSuite:    tls.CipherSuiteName(cs.CipherSuite),
		ALPN:           cs.NegotiatedProtocol,
		ServerName:     cs.ServerName,
		ClientCertSent: clientCertSent,
	}
	for _, c := range cs.PeerCertificates {
		f.PeerSubjects = append(f.PeerSubjects, c.Subject.String())
	}
	return f
}

// IsTimeout reports whether err is a deadline or timeout.
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
