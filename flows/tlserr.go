package flows

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ExplainTransportError turns a failed round trip into one line a developer
// can act on: whose certificate, which CA, refused, timed out. err stays
// reachable (Unwrap): errors.Is(e, context.Canceled) still works.
func ExplainTransportError(step string, u *url.URL, err error, timeout time.Duration) *Error {
	e := explainTransport(step, u, err, timeout)
	e.cause = err
	return e
}

func explainTransport(step string, u *url.URL, err error, timeout time.Duration) *Error {
	host := hostOf(u)
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		alert     tls.AlertError
		recErr    tls.RecordHeaderError
		certVerif *tls.CertificateVerificationError
		dnsErr    *net.DNSError
	)
	if errors.As(err, &certVerif) && certVerif.Err != nil {
		err = certVerif.Err
	}
	switch {
	case errors.As(err, &unknownCA):
		issuer := "an unknown CA"
		if unknownCA.Cert != nil {
			issuer = fmt.Sprintf("%q", unknownCA.Cert.Issuer.String())
		}
		return Errorf(ErrTLS, "%s: the certificate of %s is signed by %s, which this machine does not trust; pass %s with that CA's PEM", step, host, issuer, FieldCAFile)
	case errors.As(err, &hostErr):
		names := "no DNS or IP names"
		if hostErr.Certificate != nil {
			var all []string
			all = append(all, hostErr.Certificate.DNSNames...)
			for _, ip := range hostErr.Certificate.IPAddresses {
				all = append(all, ip.String())
			}
			if len(all) > 0 {
				names = strings.Join(all, ", ")
			}
		}
		return Errorf(ErrTLS, "%s: the certificate of %s is not valid for %q (it names %s): hostname mismatch", step, host, hostErr.Host, names)
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired && invalid.Cert != nil {
			return Errorf(ErrTLS, "%s: the certificate of %s (%s) expired or is not yet valid: valid %s to %s", step, host,
				invalid.Cert.Subject.String(), invalid.Cert.NotBefore.UTC().Format(time.RFC3339), invalid.Cert.NotAfter.UTC().Format(time.RFC3339))
		}
		return Errorf(ErrTLS, "%s: the certificate of %s is invalid: %v", step, host, invalid)
	case errors.As(err, &alert):
		return explainAlert(step, host, uint8(alert))
	case errors.As(err, &recErr):
		return Errorf(ErrTLS, "%s: %s did not answer TLS (is it plain HTTP? try http://)", step, host)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return Errorf(ErrTLS, "%s: %s answered plain HTTP to an HTTPS request; use http://", step, host)
	case errors.Is(err, syscall.ECONNREFUSED):
		return Errorf(ErrNetwork, "%s: connection to %s refused: nothing is listening there", step, host)
	case errors.As(err, &dnsErr):
		return Errorf(ErrNetwork, "%s: cannot resolve %q: %v", step, dnsErr.Name, dnsErr.Err)
	case IsTimeout(err):
		return Errorf(ErrNetwork, "%s: %s did not answer within %s (%s)", step, host, timeout, FieldTimeout)
	case strings.Contains(err.Error(), "stopped after"):
		return Errorf(ErrProtocol, "%s: %s redirected more than %d times", step, host, MaxRedirects)
	case strings.Contains(err.Error(), "server response headers exceeded"):
		return Errorf(ErrProtocol, "%s: %s sent more than %d bytes of response headers", step, host, MaxResponseHeader)
	}
	if code, ok := remoteAlert(err); ok {
		return explainAlert(step, host, code)
	}
	// Strip Go's "Post \"url\": " prefix; the step and host say the same.
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Err.Error()
	}
	return Errorf(ErrNetwork, "%s: %s: %s", step, host, msg)
}

// explainAlert words the TLS alerts a server sends when it rejects us. With
// TLS 1.3 these arrive on the first read after the handshake.
func explainAlert(step, host string, code uint8) *Error {
	switch code {
	case 42: // bad_certificate
		return Errorf(ErrTLS, "%s: %s rejected our client certificate (alert bad_certificate)", step, host)
	case 43: // unsupported_certificate
		return Errorf(ErrTLS, "%s: %s does not accept the type of our client certificate (alert unsupported_certificate)", step, host)
	case 44: // certificate_revoked
		return Errorf(ErrTLS, "%s: %s says our client certificate is revoked (alert certificate_revoked)", step, host)
	case 45: // certificate_expired
		return Errorf(ErrTLS, "%s: %s says our client certificate has expired (alert certificate_expired)", step, host)
	case 46: // certificate_unknown
		return Errorf(ErrTLS, "%s: %s could not verify our client certificate (alert certificate_unknown)", step, host)
	case 48: // unknown_ca
		return Errorf(ErrTLS, "%s: %s does not trust the CA that issued our client certificate (alert unknown_ca)", step, host)
	case 116: // certificate_required
		return Errorf(ErrTLS, "%s: %s requires a client certificate and we sent none; pass %s and %s (alert certificate_required)", step, host, FieldCertFile, FieldKeyFile)
	case 40:
		return Errorf(ErrTLS, "%s: TLS handshake with %s failed: no common protocol version or cipher (alert handshake_failure)", step, host)
	case 70:
		return Errorf(ErrTLS, "%s: %s refused our TLS version (alert protocol_version)", step, host)
	}
	return Errorf(ErrTLS, "%s: %s sent TLS alert %s", step, host, tls.AlertError(code).Error())
}

// remoteAlert recognises an alert received from the peer. Over TCP,
// crypto/tls reports it as a *net.OpError "remote error" wrapping an
// unexported type that errors.As cannot reach as tls.AlertError, so match the
// alert's text ("tls: certificate required") against every alert code.
func remoteAlert(err error) (uint8, bool) {
	var desc string
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" && op.Err != nil {
		desc = op.Err.Error()
	} else if _, d, ok := strings.Cut(err.Error(), "remote error: "); ok {
		desc = d
	} else {
		return 0, false
	}
	for c := 0; c < 256; c++ {
		if tls.AlertError(uint8(c)).Error() == desc {
			return uint8(c), true
		}
	}
	return 0, false
}
