package bench

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// PoliteRate is the request rate above which authlab warns before sending
// to a host that is not on this machine.
const PoliteRate = 50

// IsLoopbackHost reports whether host (a URL host, with or without a port)
// is loopback by its spelling: localhost, *.localhost, or a literal loopback
// IP. No DNS lookup: a name that resolves to 127.0.0.1 still counts as remote.
func IsLoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RateWarning returns a warning when a run may send more than PoliteRate
// requests per second to a target that is not loopback, else "". rate 0
// means unlimited.
func RateWarning(target string, rate float64) string {
	if target == "" || (rate > 0 && rate <= PoliteRate) {
		return ""
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return ""
	}
	if IsLoopbackHost(u.Host) {
		return ""
	}
	how := "unlimited requests/s"
	if rate > 0 {
		how = fmt.Sprintf("%g requests/s", rate)
	}
	// no flag or key names here: each front end says how to set the rate
	return fmt.Sprintf("warning: sending %s to %s, which is not loopback; make sure you may load-test it (%d requests/s or fewer stays polite)", how, u.Host, PoliteRate)
}
