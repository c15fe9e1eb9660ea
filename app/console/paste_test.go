package console

import (
	"bytes"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"authlab/views/inspect"
	"authlab/views/ui"
)

const megabyte = 1 << 20

// feedRun delivers n runes as bubbletea delivers a paste without
// bracketed-paste markers (read by Input): messages of at most 255 runes,
// each followed by a frame.
func feedRun(m *Model, n int) {
	chunk := []rune(strings.Repeat("A", 255))
	for sent := 0; sent < n; sent += len(chunk) {
		c := chunk[:min(len(chunk), n-sent)]
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: c})
		_ = m.View()
	}
}

// pasteModel is the console with its profiles loaded and, when open names
// a key, the text input that key opens focused.
func pasteModel(tb testing.TB, open string) *Model {
	tb.Helper()
	m := newTestModel(&fakeBackend{rows: fixtureRows()})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(m.loadProfiles()())
	if open == "" {
		return m
	}
	_, cmd := m.Update(keyMsg(open))
	if open == "t" { // the list asks the root model to open the inspector
		m.Update(cmd())
	}
	if !m.typing() && !m.palette.open {
		tb.Fatalf("%s opened no text input:\n%s", open, m.View())
	}
	return m
}

// A 1 MB run of runes into the token prompt returns, keeps 64 Ki runes and
// says the rest was dropped; enter submits what was kept.
func TestMegabyteRunIntoTheTokenPromptIsCapped(t *testing.T) {
	m := pasteModel(t, "t")
	feedRun(m, megabyte)
	if !strings.Contains(m.View(), "token input takes at most 64 Ki characters; the rest was dropped") {
		t.Fatalf("no note of the cut:\n%s", m.View())
	}
	_, cmd := m.Update(keyMsg("enter"))
	if cmd == nil {
		t.Fatal("enter submitted nothing")
	}
	msg, ok := cmd().(inspect.SubmitMsg)
	if !ok || len(msg.Raw) != ui.TokenInputLimit {
		t.Fatalf("submitted %T of %d bytes, want %d", msg, len(msg.Raw), ui.TokenInputLimit)
	}
	// The same run in one message (a bracketed paste outside a text field).
	m = pasteModel(t, "")
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(strings.Repeat("A", megabyte)), Paste: true})
	if !strings.Contains(m.View(), "the rest was dropped") {
		t.Fatalf("one-message paste: no note:\n%s", m.View())
	}
}

// Every other text input takes a long run and returns, noting the cut in
// the status line.
func TestMegabyteRunIntoEveryTextInputReturns(t *testing.T) {
	for _, open := range []string{"/", "i", "ctrl+p"} {
		m := pasteModel(t, open)
		feedRun(m, megabyte)
		m.Update(ui.NoteMsg{Text: "noted"}) // what the input's command returns
		if m.status != "noted" {
			t.Errorf("%s: a note from an input does not reach the status line", open)
		}
	}
}

// Input splits a long run into reads bubbletea parses once each, and
// leaves escape sequences and single keys as they were.
func TestInputReadsALongRunAsManyMessages(t *testing.T) {
	var in bytes.Buffer
	in.WriteString("ab")
	in.WriteString("\x1b[A")
	in.Write(bytes.Repeat([]byte("A"), megabyte))
	in.WriteString("\x1b[B\r")
	c := &runCounter{}
	p := tea.NewProgram(c, tea.WithInput(Input(&in)), tea.WithOutput(&bytes.Buffer{}), tea.WithoutRenderer())
	if _, err := p.Run(); err != nil {
		t.Fatal(err)
	}
	// One read may still be completed by the next (2 × 255 bytes); before
	// Input the whole megabyte was parsed over and over and came as one.
	if c.runes != megabyte+2 || c.largest > 512 {
		t.Fatalf("%d runes, largest message %d runes: want %d in messages of at most 512", c.runes, c.largest, megabyte+2)
	}
	if strings.Join(c.keys, " ") != "up down" {
		t.Fatalf("keys %v, want up down", c.keys)
	}
}

type runCounter struct {
	runes, largest int
	keys           []string
}

func (c *runCounter) Init() tea.Cmd { return nil }

func (c *runCounter) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	switch {
	case !ok:
	case k.Type == tea.KeyRunes:
		c.runes += len(k.Runes)
		c.largest = max(c.largest, len(k.Runes))
	case k.Type == tea.KeyEnter:
		return c, tea.Quit
	default:
		c.keys = append(c.keys, k.String())
	}
	return c, nil
}

func (c *runCounter) View() string { return "" }

// BenchmarkPasteWithoutMarkers is the cost of a paste without markers:
// "reader" through bubbletea's input parser (raw, or read through Input),
// "model" through the console to the token prompt (1 MiB).
func BenchmarkPasteWithoutMarkers(b *testing.B) {
	run := append(bytes.Repeat([]byte("A"), 256<<10), '\r')
	for _, wrap := range []bool{false, true} {
		name := "reader-256KiB-raw"
		if wrap {
			name = "reader-256KiB-Input"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				var r = bytes.NewReader(run)
				in := any(r)
				if wrap {
					in = Input(r)
				}
				p := tea.NewProgram(&runCounter{}, tea.WithInput(in.(interface{ Read([]byte) (int, error) })), tea.WithOutput(&bytes.Buffer{}), tea.WithoutRenderer())
				if _, err := p.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("model-1MiB", func(b *testing.B) {
		for b.Loop() {
			feedRun(pasteModel(b, "t"), megabyte)
		}
	})
}
