package check

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"authlab/flows"
	"authlab/flows/mtls"
)

// Kinds of the requests the recorder recognises by their form.
const (
	kindPAR   = "par"   // a pushed authorization request (RFC 9126 2.1)
	kindToken = "token" // an authorization_code token request
)

// maxForm caps a request body the recorder reads to rewrite it.
const maxForm = 64 << 10

// exchange is one request the engine sent and what came back. Forms and
// bodies hold credentials: they stay in memory and are never printed.
type exchange struct {
	kind   string
	url    string
	form   url.Values // PAR and token requests, as sent (after any rewrite)
	dpop   bool       // the request carried a DPoP proof
	status int
	header http.Header
	body   []byte // PAR, token and DPoP-proofed answers only
	err    error
}

// recorder is the engine's transport during the probes: it records the
// exchanges and may rewrite the form of the current run's PAR or token
// request. Client authentication and DPoP proofs stay the engine's: a
// rewrite only changes authorization parameters (code_challenge,
// redirect_uri, code_verifier), which neither an assertion nor a proof
// covers.
type recorder struct {
	base    http.RoundTripper
	secrets *flows.Secrets

	mu      sync.Mutex
	rewrite map[string]func(url.Values) // by kind, for the current run
	log     []exchange
}

// baseTransport is the transport the engine would build from r: its TLS
// files (mTLS client certificate, CA bundle), else the default.
func baseTransport(r *flows.Request) (*http.Transport, error) {
	if r.CertFile == "" && r.CAFile == "" {
		return flows.NewTransport(nil), nil
	}
	key := r.KeyFile
	if key == "" {
		key = r.CertFile // a combined PEM, as the engine allows
	}
	conf, err := mtls.LoadClientTLS(r.CertFile, key, r.CAFile)
	if err != nil {
		return nil, flows.Errorf(flows.ErrConfig, "TLS files: %v", err)
	}
	return flows.NewTransport(conf), nil
}

func (rc *recorder) setRewrite(m map[string]func(url.Values)) {
	rc.mu.Lock()
	rc.rewrite = m
	rc.mu.Unlock()
}

// mark is the current length of the log, for since.
func (rc *recorder) mark() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.log)
}

// since returns the exchanges recorded after mark.
func (rc *recorder) since(mark int) []exchange {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]exchange(nil), rc.log[mark:]...)
}

func (rc *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	ex := exchange{url: req.URL.String(), dpop: req.Header.Get("DPoP") != ""}
	if req.Method == http.MethodPost && req.Body != nil &&
		strings.HasPrefix(strings.ToLower(req.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxForm+1))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if len(b) > maxForm {
			return nil, fmt.Errorf("request body larger than %d KiB", maxForm>>10)
		}
		if form, err := url.ParseQuery(string(b)); err == nil {
			switch {
			case form.Get("grant_type") == "authorization_code":
				ex.kind = kindToken
			case form.Has("response_type") || form.Has("request"):
				ex.kind = kindPAR
			}
			rc.mu.Lock()
			fn := rc.rewrite[ex.kind]
			rc.mu.Unlock()
			if fn != nil && ex.kind != "" {
				fn(form)
				b = []byte(form.Encode())
			}
			ex.form = form
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		rc.secrets.LearnRequest(req, b)
	} else {
		rc.secrets.LearnRequest(req, nil)
	}
	resp, err := rc.base.RoundTrip(req)
	if err != nil {
		ex.err = err
		rc.add(ex)
		return nil, err
	}
	ex.status, ex.header = resp.StatusCode, resp.Header.Clone()
	if ex.kind != "" || ex.dpop {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, flows.MaxResponseBody+1))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if rerr != nil {
			ex.err = rerr
			rc.add(ex)
			return nil, rerr
		}
		ex.body = body
	}
	rc.add(ex)
	return resp, nil
}

func (rc *recorder) add(ex exchange) {
	rc.mu.Lock()
	rc.log = append(rc.log, ex)
	rc.mu.Unlock()
}

// last returns the last exchange of kind in exs, or nil.
func last(exs []exchange, kind string) *exchange {
	for i := len(exs) - 1; i >= 0; i-- {
		if exs[i].kind == kind {
			return &exs[i]
		}
	}
	return nil
}
