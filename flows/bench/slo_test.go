package bench

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseSLO(t *testing.T) {
	objs, err := ParseSLO("p95<50ms, success>=99.9%,rps>=200/s,max<=1.5s,p50>100us,throughput>10")
	if err != nil {
		t.Fatal(err)
	}
	want := []Objective{
		{"p95<50ms", "p95", "<", float64(50 * time.Millisecond)},
		{"success>=99.9%", "success", ">=", 99.9},
		{"rps>=200/s", "rps", ">=", 200},
		{"max<=1.5s", "max", "<=", float64(1500 * time.Millisecond)},
		{"p50>100us", "p50", ">", float64(100 * time.Microsecond)},
		{"throughput>10", "rps", ">", 10},
	}
	if len(objs) != len(want) {
		t.Fatalf("got %+v", objs)
	}
	for i := range want {
		if objs[i] != want[i] {
			t.Errorf("objective %d = %+v, want %+v", i, objs[i], want[i])
		}
	}
	for spec, msg := range map[string]string{
		"":                  "empty SLO",
		"p95<50":            `objective 1 "p95<50": latency "50" needs a unit, e.g. 50ms`,
		"p95<50ms,":         `objective 2 "": empty objective`,
		"p97<50ms":          `unknown metric "p97"`,
		"p95=50ms":          `unsupported comparison "="`,
		"p95 50ms":          "no comparison",
		"success>=101%":     "outside 0–100%",
		"success>=abc":      `bad success rate "abc"`,
		"p95<":              `missing value after "<"`,
		"<50ms":             "missing metric",
		"p95<fast":          `bad latency "fast"`,
		"ok,p95<1ms":        `objective 1 "ok"`,
		"p99<1ms,rps>=-3/s": `objective 2 "rps>=-3/s": bad throughput`,
	} {
		_, err := ParseSLO(spec)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseSLO(%q) = %v, want an error containing %q", spec, err, msg)
		}
	}
}

func TestEvaluate(t *testing.T) {
	r := &Report{Requests: 1000, OK: 995, Failed: 5, Throughput: 250,
		Latency: LatencyStats{Min: time.Millisecond, Max: 90 * time.Millisecond}}
	for i := 1; i <= 1000; i++ {
		r.sorted = append(r.sorted, time.Duration(i)*50*time.Microsecond) // p95 = 47.5ms
	}
	objs, err := ParseSLO("p95<50ms,p95<47ms,success>=99.9%,success>=99.5%,rps>=200,max<80ms,min<=1ms")
	if err != nil {
		t.Fatal(err)
	}
	res := Evaluate(objs, r)
	pass := []bool{true, false, false, true, true, false, true}
	for i, p := range pass {
		if res[i].Pass != p {
			t.Errorf("%s: pass=%v (actual %s), want %v", res[i].Objective, res[i].Pass, res[i].Actual, p)
		}
	}
	missed := strings.Join(Missed(res), "; ")
	if missed != "p95<47ms (was 47.5ms); success>=99.9% (was 99.500%); max<80ms (was 90.0ms)" {
		t.Errorf("missed = %q", missed)
	}
	// Nothing completed: nothing passes.
	for _, x := range Evaluate(objs, &Report{}) {
		if x.Pass {
			t.Errorf("%s passed on an empty run", x.Objective)
		}
	}
}

func TestRateWarning(t *testing.T) {
	for _, c := range []struct {
		url  string
		rate float64
		warn bool
	}{
		{"http://127.0.0.1:9090/token", 0, false},
		{"http://[::1]:9090/token", 0, false},
		{"https://localhost/token", 1000, false},
		{"http://idp.localhost:8080/", 0, false},
		{"http://127.0.0.2/", 0, false},
		{"https://idp.example.com/token", 0, true},
		{"https://idp.example.com/token", 51, true},
		{"https://idp.example.com/token", 50, false},
		{"https://10.0.0.5/token", 100, true},
		{"https://localhost.example.com/token", 100, true},
	} {
		w := RateWarning(c.url, c.rate)
		if (w != "") != c.warn {
			t.Errorf("RateWarning(%q, %g) = %q, want warning=%v", c.url, c.rate, w, c.warn)
		}
		// the engine names the host and the polite rate, never a front end's flag
		host := strings.Split(strings.TrimPrefix(c.url, "https://"), "/")[0]
		if w != "" && (!strings.Contains(w, "to "+host+",") || !strings.Contains(w, fmt.Sprintf("%d requests/s", PoliteRate)) || strings.Contains(w, "--")) {
			t.Errorf("RateWarning(%q, %g) = %q: want the host and %d requests/s, no flag", c.url, c.rate, w, PoliteRate)
		}
	}
}
