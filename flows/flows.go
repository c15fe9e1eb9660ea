// Package flows is authlab's UI-free engine: the records every flow produces
// (steps, HTTP exchanges, checks, results) and the observer that streams them.
// Grants live in flows/oauth, token inspection in flows/token, HMAC in
// flows/hmac, mTLS in flows/mtls. Nothing here knows about a terminal or the store.
package flows

import (
	"fmt"
	"net/http"
	"strings"
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
	// DPoP is the request's DPoP proof decoded (it holds no secret: a
	// public key, the request's method and URL, a nonce, a token hash).
	DPoP *ProofView `json:"dpop,omitempty"`
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

// DeviceObserver is an Observer that also wants the device grant's user
// code and verification URI as soon as the grant has them, typed rather than
// read out of a step's prose. The device grant calls it by type assertion on
// its observer, before it starts polling.
type DeviceObserver interface {
	Device(DeviceAuthorization)
}

// Step names a front end treats specially: each asks the user to act, so
// its Detail (a URL, a code) must stand out and stay copyable.
const (
	StepOpenURL       = "open this URL in a browser" // Detail: the URL (no browser opened)
	StepBrowserOpened = "browser opened"             // Detail: the URL the browser shows
	StepUserCode      = "enter the user code"        // Detail: where to go and the code
)

// AsksUser reports whether the step asks the user to act (see StepOpenURL).
func (e StepEvent) AsksUser() bool {
	switch e.Name {
	case StepOpenURL, StepBrowserOpened, StepUserCode:
		return true
	}
	return false
}

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
// OAuth error fields. Its message is one line that names the problem. The
// error that caused it (a context or network error) stays reachable through
// Unwrap, so errors.Is(err, context.Canceled) works on a flow's error.
type Error struct {
	Kind             ErrorKind `json:"kind"`
	Message          string    `json:"message"`
	OAuthError       string    `json:"oauth_error,omitempty"`
	OAuthDescription string    `json:"oauth_error_description,omitempty"`
	OAuthURI         string    `json:"oauth_error_uri,omitempty"`
	Status           int       `json:"status,omitempty"`

	cause error
	// format and args rebuild Message with front-end names for the Fields
	// among args (see Explain); format is empty when there are none.
	format string
	args   []any
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the error that caused this one, or nil.
func (e *Error) Unwrap() error { return e.cause }

// Errorf builds an *Error of the given kind. Field arguments are named as
// the engine names them; Explain renames them for a front end.
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	e := &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
	for _, a := range args {
		if hasFields(a) {
			e.format, e.args = format, args
			break
		}
	}
	return e
}

// Wrap is Errorf that keeps cause reachable through Unwrap.
func Wrap(kind ErrorKind, cause error, format string, args ...any) *Error {
	e := Errorf(kind, format, args...)
	e.cause = cause
	return e
}

// Field names a setting of a flow's input (a Request field, an HMAC or
// mTLS option) in an engine message. The engine never names a front end's
// flag or editor field: each front end says how its user sets a Field
// (Error.Explain). A Field prints as its name, e.g. token_url.
type Field string

func (f Field) String() string { return string(f) }

// Fields is a list of fields, printed "a, b, c".
type Fields []Field

func (fs Fields) String() string { return fs.names(Field.String) }

func (fs Fields) names(name func(Field) string) string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = name(f)
	}
	return strings.Join(out, ", ")
}

// Names of the settings engine messages refer to. The OAuth ones are the
// keys profiles and the console's editor use.
const (
	FieldIssuer        Field = "issuer"
	FieldTokenURL      Field = "token_url"
	FieldAuthURL       Field = "auth_url"
	FieldDeviceURL     Field = "device_url"
	FieldIntrospectURL Field = "introspect_url"
	FieldRevokeURL     Field = "revoke_url"
	FieldUserinfoURL   Field = "userinfo_url"
	FieldJWKSURL       Field = "jwks_url"
	FieldCallURL       Field = "call_url"
	FieldClientID      Field = "client_id"
	FieldClientSecret  Field = "client_secret"
	FieldAuthMethod    Field = "auth_method"
	FieldScope         Field = "scope"
	FieldPrivateKey    Field = "private_key"
	FieldCertFile      Field = "cert_file"
	FieldKeyFile       Field = "key_file"
	FieldCAFile        Field = "ca_file"
	FieldToken         Field = "token"
	FieldRedirectPort  Field = "redirect_port"
	FieldExtraParams   Field = "extra_params"
	FieldTimeout       Field = "timeout"
	FieldWait          Field = "wait"
	FieldURL           Field = "url" // the target of an HMAC-signed or mTLS request
	FieldDPoPKey       Field = "dpop_key"
	FieldDPoPAlg       Field = "dpop_alg"
)

func hasFields(a any) bool {
	switch v := a.(type) {
	case Field, Fields:
		return true
	case *Error:
		return v != nil && v.format != ""
	}
	return false
}

// Explain is the message with each Field named by name (a front end's flag
// or editor label); nested *Error arguments are explained too. Without
// fields in it, it is Message.
func (e *Error) Explain(name func(Field) string) string {
	if e == nil {
		return ""
	}
	if e.format == "" || name == nil {
		return e.Message
	}
	args := make([]any, len(e.args))
	for i, a := range e.args {
		switch v := a.(type) {
		case Field:
			args[i] = name(v)
		case Fields:
			args[i] = v.names(name)
		case *Error:
			args[i] = v.Explain(name)
		default:
			args[i] = a
		}
	}
	return fmt.Sprintf(e.format, args...)
}
