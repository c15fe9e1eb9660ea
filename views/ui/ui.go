// Package ui holds what every screen shares: the program context (size,
// theme, clock), the theme's styles and small layout helpers. It does no I/O.
package ui

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"authlab/views/render"
)

// Context is pushed by the root model to every component (gh-dash style), so
// a component never asks the terminal or the clock itself.
type Context struct {
	Width, Height int
	Theme         *Theme
	Now           func() time.Time
}

// Theme is every style the console uses, built on one lipgloss renderer so
// tests can force the Ascii profile without touching global state.
type Theme struct {
	R     *lipgloss.Renderer
	Color bool
	// Render is the shared renderers' style set (views/render), built once.
	Render   *render.Styles
	Title    lipgloss.Style
	Subtle   lipgloss.Style
	Accent   lipgloss.Style
	Selected lipgloss.Style
	Pass     lipgloss.Style
	Warn     lipgloss.Style
	Fail     lipgloss.Style
	Badge    lipgloss.Style
	DemoTag  lipgloss.Style
	Tab      lipgloss.Style
	TabOn    lipgloss.Style
	Border   lipgloss.Style
	Big      lipgloss.Style
	Key      lipgloss.Style
	Error    lipgloss.Style
}

// Adaptive colours: the first of each pair is for light terminals.
var (
	colAccent = lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#B4A2FF"}
	colSubtle = lipgloss.AdaptiveColor{Light: "#767676", Dark: "#8A8A8A"}
	colPass   = lipgloss.AdaptiveColor{Light: "#13804A", Dark: "#4BD88A"}
	colWarn   = lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#F2C14E"}
	colFail   = lipgloss.AdaptiveColor{Light: "#C0262D", Dark: "#FF6B6B"}
	colSelBg  = lipgloss.AdaptiveColor{Light: "#E4DEFF", Dark: "#3A2F6B"}
	colBadge  = lipgloss.AdaptiveColor{Light: "#DDE6F0", Dark: "#2B3440"}
)

// NewTheme builds the styles on r. With color false every style renders plain
// text (NO_COLOR, --no-color, and golden tests).
func NewTheme(r *lipgloss.Renderer, color bool) *Theme {
	if !color {
		r.SetColorProfile(termenv.Ascii)
		// no colours: nothing to adapt, so never ask the terminal its background
		r.SetHasDarkBackground(true)
	}
	s := r.NewStyle
	return &Theme{
		R:        r,
		Color:    color,
		Render:   render.NewStyles(color),
		Title:    s().Bold(true).Foreground(colAccent),
		Subtle:   s().Foreground(colSubtle),
		Accent:   s().Foreground(colAccent),
		Selected: s().Background(colSelBg).Bold(true),
		Pass:     s().Foreground(colPass),
		Warn:     s().Foreground(colWarn),
		Fail:     s().Foreground(colFail),
		Badge:    s().Background(colBadge),
		DemoTag:  s().Foreground(colWarn),
		Tab:      s().Foreground(colSubtle),
		TabOn:    s().Bold(true).Underline(true).Foreground(colAccent),
		Border:   s().Border(lipgloss.RoundedBorder()).BorderForeground(colSubtle),
		Big:      s().Bold(true).Foreground(colAccent),
		Key:      s().Bold(true),
		Error:    s().Foreground(colFail).Bold(true),
	}
}

// Component is the contract every screen keeps (soft-serve style). The root
// model holds one per screen: it sizes it, hands it every message the screen
// should see, draws its View between the top bar and the footer, and builds
// the footer from its keys, so help is always that of the focused screen.
// A component does no I/O: it asks the root for work with messages.
type Component interface {
	Update(msg tea.Msg) tea.Cmd
	View() string
	SetSize(width, height int)
	// ShortHelp is the footer line; FullHelp the columns of the ? overlay.
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
}

// The optional parts of a Component; the root model asks for them by type
// assertion, so a screen without a text field or a clock need not say so.
type (
	// Typer is a component with a text field. While Typing, every key goes
	// to the component (q and ? are text, esc is its own), and its help lists
	// all the keys that work: the root adds none of its own.
	Typer interface{ Typing() bool }

	// Backer is a component that answers esc itself before esc leaves the
	// screen (closing a detail, cancelling a bench). Back reports whether it
	// did, with the command that follows.
	Backer interface{ Back() (tea.Cmd, bool) }

	// Ticker is a component that shows something changing with the clock (an
	// expiry bar); the root keeps a tick running only while Live is true.
	Ticker interface{ Live() bool }

	// Navigator is a component with keys that open other screens; the full
	// help lists them with the console's own navigation keys.
	Navigator interface{ NavHelp() []key.Binding }
)

// WheelStep is how many lines one mouse-wheel notch scrolls.
const WheelStep = 3

// Wheel is the scroll a mouse message asks for: -WheelStep for wheel up,
// +WheelStep for wheel down, 0 for anything else.
func Wheel(msg tea.MouseMsg) int {
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		return -WheelStep
	case tea.MouseButtonWheelDown:
		return WheelStep
	}
	return 0
}

// Truncate cuts s to w cells, with an ellipsis when it had to cut.
func Truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	// ANSI-aware: styled strings keep their escape sequences intact
	return ansi.Truncate(s, w, "…")
}

// Pad right-pads s with spaces to w cells (after truncating to w).
func Pad(s string, w int) string {
	s = Truncate(s, w)
	if n := w - lipgloss.Width(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

// Age renders how long ago t was, in one compact unit ("3m", "2h", "5d").
func Age(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

// Duration renders a step duration compactly ("12ms", "1.4s").
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		return strconv.Itoa(int(d/time.Millisecond)) + "ms"
	case d < time.Minute:
		return strings.TrimSuffix(strings.TrimSuffix(trimFloat(d.Seconds()), "0"), ".") + "s"
	}
	return d.Round(time.Second).String()
}

func trimFloat(f float64) string {
	// one decimal, without fmt on this hot-ish path
	n := int(f*10 + 0.5)
	return strconv.Itoa(n/10) + "." + strconv.Itoa(n%10)
}

// Clamp keeps v within [lo, hi].
func Clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
