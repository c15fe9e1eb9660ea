// Package flows is authlab's UI-free engine: the records every flow produces
// (steps, HTTP exchanges, checks, results) and the observer that streams them.
// Grants live in flows/oauth, token inspection in flows/token, HMAC in
// flows/hmac, mTLS in flows/mtls. Nothing here knows about a terminal or the store.
package flows

import (
	"fmt"
	"net/http"
	"time"
)

// Status is the verdict of one Check.
type Status string

const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Check is one validation, worded so a developer can act on it.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
}

// AnyFailed reports whether any check failed.
func AnyFailed(checks []Check) bool {
	for _, c := range checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// TLSFacts is what a TLS connection negotiated, for display.
type TLSFacts struct {
	Version           string   `json:"version"`
	CipherSuite       string   `json:"cipher_suite"`
	ALPN              string   `json:"alpn,omitempty"`
	ServerName        string   `json:"server_name,omitempty"`
	PeerSubjects      []string `json:"peer_subjects,omitempty"`
	ClientCertSent    bool     `json:"client_cert_sent"`
	ClientCertSubject string   `json:"client_cert_subject,omitempty"`
}

// Exchange records one HTTP request and its response, with secrets masked.
// It is built by the recording client, never by hand in a grant.
type Exchange struct {
	Step            string        `json:"step,omitempty"`
	Method          string        `json:"method"`
	URL             string        `json:"url"`
	RequestHeaders  http.Header   `json:"request_headers,omitempty"`
	RequestBody     string        `json:"request_body,omitempty"`
	Status          int           `json:"status"`
	ResponseHeaders http.Header   `json:"response_headers,omitempty"`
	ResponseBody    string        `json:"response_body,omitempty"`
	BodyTruncated   bool          `json:"body_truncated,omitempty"`
	Started         time.Time     `json:"started"`
	Duration        time.Duration `json:"duration_ns"`
	TLS             *TLSFacts     `json:"tls,omitempty"`
	Err             string        `json:"error,omitempty"`
}

// StepEvent tells an observer that a named step of a flow started or ended.
type StepEvent struct {
	Name     string        `json:"name"`
	Done     bool          `json:"done"`
	OK       bool          `json:"ok"`
	Detail   string        `json:"detail,omitempty"`
	Duration time.Duration `json:"duration_ns,omitempty"`
}

// Observer receives a flow's progress as it happens. Implementations must be
// safe for use from the flow's goroutine; they should not block for long.
type Observer interface {
	Step(StepEvent)
	Exchange(Exchange)
}

// ObserverFuncs adapts plain functions to Observer; nil fields are ignored.
type ObserverFuncs struct {
	OnStep     func(StepEvent)
	OnExchange func(Exchange)
}

func (o ObserverFuncs) Step(e StepEvent) {
	if o.OnStep != nil {
		o.OnStep(e)
	}
}

func (o ObserverFuncs) Exchange(e Exchange) {
	if o.OnExchange != nil {
		o.OnExchange(e)
	}
}

// Discard is an Observer that ignores everything.
var Discard Observer = ObserverFuncs{}

// ErrorKind classifies why a flow failed, for exit codes and JSON.
type ErrorKind string

const (
	ErrConfig    ErrorKind = "config"    // bad input or profile: exit 2
	ErrNetwork   ErrorKind = "network"   // connection, DNS, timeout
	ErrTLS       ErrorKind = "tls"       // handshake or certificate problem
	ErrProtocol  ErrorKind = "protocol"  // the server answered something unusable
	ErrOAuth     ErrorKind = "oauth"     // the server answered an OAuth error
	ErrCheck     ErrorKind = "check"     // a validation check failed
	ErrCancelled ErrorKind = "cancelled" // the user or a deadline stopped it
)

// Error is a flow failure with a kind and, when the server sent them, the
// OAuth error fields. Its message is one line that names the problem.
type Error struct {
	Kind             ErrorKind `json:"kind"`
	Message          string    `json:"message"`
	OAuthError       string    `json:"oauth_error,omitempty"`
	OAuthDescription string    `json:"oauth_error_description,omitempty"`
	OAuthURI         string    `json:"oauth_error_uri,omitempty"`
	Status           int       `json:"status,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Errorf builds an *Error of the given kind.
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}
