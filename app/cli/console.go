package cli

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	qrcode "github.com/skip2/go-qrcode"
	"github.com/spf13/cobra"

	"authlab/app/console"
	"authlab/flows"
	"authlab/flows/hmac"
	"authlab/flows/mtls"
	"authlab/mockidp"
	"authlab/store"
	"authlab/views/ui"
)

// runConsole starts the TUI; withDemo embeds the mock IdP and seeds demo profiles.
func runConsole(g *globals, withDemo bool) error {
	path, err := g.resolveStorePath()
	if err != nil {
		return usageErr("%v", err)
	}
	// Open once up front so a locked, corrupt or too-new store is a clear
	// one-line error before the terminal switches to the alternate screen.
	if err := store.View(path, func(*store.Store) error { return nil }, store.ReadOnly()); err != nil {
		// A configuration error (exit 2); the store's message names the path.
		return usageErr("%v", err)
	}
	opts := console.Options{Title: "authlab"}
	if withDemo {
		srv, tlsSrv, err := startDemo(path)
		if err != nil {
			return failErr(err)
		}
		defer srv.Close()
		if tlsSrv != nil {
			defer tlsSrv.Close()
		}
		opts.IdP = srv
		opts.Title = "authlab demo"
	}
	r := lipgloss.NewRenderer(g.stdout)
	opts.Theme = ui.NewTheme(r, g.colorEnabled())
	opts.Backend = &console.StoreBackend{Path: path, OpenURL: openBrowser}
	// OSC 52: the terminal copies; built on use so start-up sends no query
	opts.Clipboard = func(s string) error { termenv.NewOutput(g.stdout).Copy(s); return nil }
	opts.OpenURL = openBrowser
	opts.QR = terminalQR
	m := console.New(opts)
	defer m.Close()
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithInput(console.Input(g.stdin)), tea.WithOutput(g.stdout))
	if _, err := p.Run(); err != nil {
		// bubbletea restores the terminal before returning, also after a panic
		return failErr(fmt.Errorf("console: %w", err))
	}
	return nil
}

// startDemo starts the mock IdP on a free loopback port (plus a TLS listener
// for the mTLS profile), with keys and certificates in the store's
// directory, and seeds the demo profiles.
func startDemo(path string) (*mockidp.Server, *mockidp.Server, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	srv, err := mockidp.New(mockidp.Options{KeysDir: dir})
	if err != nil {
		return nil, nil, fmt.Errorf("mock IdP: %w", err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		return nil, nil, fmt.Errorf("mock IdP: %w", err)
	}
	setup := console.DemoSetup{Issuer: srv.Issuer(), HMACKeyID: hmac.DemoKeyID, HMACSecret: hmac.DemoSecret}
	// without certificates the demo still runs, only without its mTLS profile
	tlsSrv, certs, err := startDemoTLS(dir)
	if err == nil {
		setup.MTLSIssuer = tlsSrv.Issuer()
		setup.CACert, setup.ClientCert, setup.ClientKey = certs.CACert, certs.ClientCert, certs.ClientKey
	}
	if _, err := console.SeedDemo(path, setup); err != nil {
		srv.Close()
		if tlsSrv != nil {
			tlsSrv.Close()
		}
		return nil, nil, fmt.Errorf("seeding demo profiles: %w", err)
	}
	return srv, tlsSrv, nil
}

// startDemoTLS starts a second mock IdP on a TLS listener that asks for a
// client certificate, with the demo certificates under dir/certs.
func startDemoTLS(dir string) (*mockidp.Server, *mtls.CertSet, error) {
	certs, err := mtls.InitCerts(filepath.Join(dir, "certs"), time.Now())
	if err != nil {
		return nil, nil, err
	}
	conf, err := certs.ServerTLSConfig(tls.RequestClientCert)
	if err != nil {
		return nil, nil, err
	}
	s, err := mockidp.New(mockidp.Options{KeysDir: dir})
	if err != nil {
		return nil, nil, err
	}
	if err := s.StartTLS("127.0.0.1:0", conf); err != nil {
		return nil, nil, err
	}
	return s, certs, nil
}

// openBrowser opens u with $BROWSER or the system browser (flows.OpenBrowser:
// the engine's opener), its output discarded so it cannot scribble over
// the console.
func openBrowser(u string) error { return flows.OpenBrowser(os.Getenv("BROWSER"), u) }

// terminalQR renders a URL as a QR code in half blocks (two modules a cell).
func terminalQR(u string) string {
	q, err := qrcode.New(u, qrcode.Low)
	if err != nil {
		return ""
	}
	return q.ToSmallString(false)
}

func newDemoCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "The console with an embedded mock IdP and demo profiles",
		Long: `Start the mock IdP on a free loopback port, seed demo profiles (once), and open
the console. Quitting stops the IdP.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runConsole(g, true) },
	}
}
