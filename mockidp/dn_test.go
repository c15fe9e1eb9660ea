package mockidp

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"
)

func TestParseDNHandlesEscapes(t *testing.T) {
	cn, o, ou := "2.5.4.3", "2.5.4.10", "2.5.4.11"
	for _, tc := range []struct {
		in   string
		want [][][2]string // RDNs of (oid, value)
	}{
		{"CN=demo-mtls", [][][2]string{{{cn, "demo-mtls"}}}},
		{"CN=demo-mtls, O=authlab", [][][2]string{{{cn, "demo-mtls"}}, {{o, "authlab"}}}},
		{`CN=evil\,CN=demo-mtls`, [][][2]string{{{cn, "evil,CN=demo-mtls"}}}},
		{`CN=evil\2CCN=demo-mtls`, [][][2]string{{{cn, "evil,CN=demo-mtls"}}}},
		{`CN=a\+b+OU=x`, [][][2]string{{{cn, "a+b"}, {ou, "x"}}}},
		{`cn=\ lead and trail\ ,o=x`, [][][2]string{{{cn, " lead and trail "}}, {{o, "x"}}}},
		{`CN=back\\slash`, [][][2]string{{{cn, `back\slash`}}}},
		{"CN=#0c0564656d6f3f", [][][2]string{{{cn, "demo?"}}}},
		{"2.5.4.3=by oid", [][][2]string{{{cn, "by oid"}}}},
		{`CN=caf\C3\A9`, [][][2]string{{{cn, "café"}}}},
	} {
		got, err := parseDN(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		var flat [][][2]string
		for _, r := range got {
			var fr [][2]string
			for _, a := range r {
				fr = append(fr, [2]string{a.oid.String(), a.value})
			}
			flat = append(flat, fr)
		}
		if len(flat) != len(tc.want) || strings.Join(flatten(flat), "|") != strings.Join(flatten(tc.want), "|") {
			t.Errorf("%q = %v, want %v", tc.in, flat, tc.want)
		}
	}
	for _, bad := range []string{"CN", "CN=a,", "CN=a,,O=b", `CN=a\`, `CN=a\q`, "CN=a;O=b", "XX=a", "CN=#zz", "CN=#0c02a", `CN=\C3`} {
		if _, err := parseDN(bad); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want a one-line error", bad, err)
		}
	}
}

func flatten(x [][][2]string) []string {
	var out []string
	for _, r := range x {
		var parts []string
		for _, a := range r {
			parts = append(parts, a[0]+"="+a[1])
		}
		out = append(out, strings.Join(parts, "+"))
	}
	return out
}

func certWithSubject(t *testing.T, seq pkix.RDNSequence) *x509.Certificate {
	t.Helper()
	raw, err := asn1.Marshal(seq)
	if err != nil {
		t.Fatal(err)
	}
	return &x509.Certificate{RawSubject: raw}
}

func TestSubjectMatchesParsedRDNs(t *testing.T) {
	cnOID, oOID := asn1.ObjectIdentifier{2, 5, 4, 3}, asn1.ObjectIdentifier{2, 5, 4, 10}
	atv := func(oid asn1.ObjectIdentifier, v string) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: oid, Value: v}
	}
	demo := pkix.RDNSequence{{atv(oOID, "authlab")}, {atv(cnOID, "demo-mtls")}}
	for _, tc := range []struct {
		dn   string
		seq  pkix.RDNSequence
		want bool
	}{
		{"CN=demo-mtls", demo, true},
		{"CN=demo-mtls,O=authlab", demo, true},
		{"", demo, true},
		{"CN=demo-mtls,O=other", demo, false},
		{"CN=demo-mtls", pkix.RDNSequence{{atv(cnOID, "evil,CN=demo-mtls")}}, false},
		{"CN=demo-mtls", pkix.RDNSequence{{atv(cnOID, "demo-mtls")}, {atv(cnOID, "evil")}}, false},
		{"CN=demo-mtls", pkix.RDNSequence{{atv(cnOID, "demo-mtls"), atv(oOID, "authlab")}}, false},
		{"CN=demo-mtls+O=authlab", pkix.RDNSequence{{atv(oOID, "authlab"), atv(cnOID, "demo-mtls")}}, true},
		{`CN=acme\, inc`, pkix.RDNSequence{{atv(cnOID, "acme, inc")}}, true},
		{"CN=Demo-MTLS", demo, false},
	} {
		d, err := parseDN(tc.dn)
		if err != nil {
			t.Fatal(err)
		}
		if got := subjectMatches(d, certWithSubject(t, tc.seq)); got != tc.want {
			t.Errorf("DN %q vs %v: %v, want %v", tc.dn, tc.seq, got, tc.want)
		}
	}
}

func TestConfigRefusesMalformedSubjectDN(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Clients[len(cfg.Clients)-1].TLSSubject = `CN=demo-mtls\`
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "tls_client_auth_subject_dn") {
		t.Errorf("malformed DN: %v", err)
	}
}
