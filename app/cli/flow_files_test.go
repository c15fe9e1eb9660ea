package cli

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"authlab/flows/mtls"
)

// Every file flag of flow hmac and flow mtls refuses a device or FIFO at
// once with a one-line usage error (runAuthlab fails a hang).
func TestFlowHMACFileFlagsRefuseDevices(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"/dev/zero", fifo} {
		for _, args := range [][]string{
			{"--dry-run", "--key", "k", "--url", "https://x/", "--data", "@" + bad},
			{"--dry-run", "--key", "file:" + bad, "--url", "https://x/"},
			{"--verify", "--key", "k", "--request", bad},
			{"--verify", "--key", "k", "--url", "https://x/", "--signer-base", bad},
		} {
			code, _, errOut := runAuthlab(t, "", "", append([]string{"flow", "hmac"}, args...)...)
			if code != 2 || !strings.Contains(errOut, bad+" is not a regular file") || strings.Count(errOut, "\n") != 1 {
				t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
			}
		}
	}
}

func TestFlowHMACSessionTokenFromEnv(t *testing.T) {
	args := []string{"flow", "hmac", "--dry-run", "--scheme", "aws-sigv4", "--key", "k", "--access-key", "AKID", "--region", "us-east-1",
		"--service", "s3", "--url", "https://x/", "--time", "2026-11-27T00:00:00Z", "--session-token", "env:AUTHLAB_TEST_UNSET_SESSION"}
	code, _, errOut := runAuthlab(t, "", "", args...)
	if code != 2 || !strings.Contains(errOut, "--session-token: env:AUTHLAB_TEST_UNSET_SESSION: the environment variable is not set") {
		t.Fatalf("unset: exit %d, stderr %q", code, errOut)
	}
	t.Setenv("AUTHLAB_TEST_SESSION", "sess-token-value")
	args[len(args)-1] = "env:AUTHLAB_TEST_SESSION"
	code, out, errOut := runAuthlab(t, "", "", args...)
	if code != 0 || !strings.Contains(out, "X-Amz-Security-Token") {
		t.Fatalf("set: exit %d, stderr %q\n%s", code, errOut, out)
	}
}

func TestFlowMTLSFileFlagsRefuseDevices(t *testing.T) {
	set, err := mtls.InitCerts(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// The URL is never dialled: loading the files fails first.
	for _, bad := range []string{"/dev/zero", fifo} {
		for _, args := range [][]string{
			{"--cert", bad, "--key", set.ClientKey},
			{"--cert", set.ClientCert, "--key", bad},
			{"--ca", bad},
		} {
			code, _, errOut := runAuthlab(t, "", "", append([]string{"flow", "mtls", "--url", "https://127.0.0.1:9/"}, args...)...)
			if code != 2 || !strings.Contains(errOut, bad+" is not a regular file") || strings.Count(errOut, "\n") != 1 {
				t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
			}
		}
	}
}
