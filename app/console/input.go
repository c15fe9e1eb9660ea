package console

import (
	"io"
	"os"
)

// Input wraps the console's input for tea.WithInput so that a long paste
// without bracketed-paste markers is read in linear time.
//
// bubbletea reads 256 bytes at a time; when a read fills its buffer and
// ends inside a run of printable characters, it keeps the run and reads
// again, parsing the whole run from its start each time, until a read comes
// back short. A 1 MB token pasted in one run costs about a million times
// 2 KB of parsing (a 40 s freeze) and then arrives as one message. Input
// notices reads that end inside a long run and makes the following reads
// one byte short, so each read is parsed once, as a message of its own.
// Reads that end in anything else (escape sequences, mouse reports, single
// keys) keep their full size, so sequences cut by a full buffer are still
// completed. Nothing is held back: a terminal stays a file (raw mode,
// cancellable reads).
func Input(r io.Reader) io.Reader {
	if f, ok := r.(*os.File); ok {
		return &fileInput{File: f}
	}
	if r == nil {
		return nil
	}
	return &readerInput{r: r}
}

// runTail is how many bytes at the end of a read must be plain text for
// the read to count as ending inside a pasted run (escape sequences and
// mouse reports are shorter than this).
const runTail = 32

// runCutter decides the size of the next read.
type runCutter struct{ inRun bool }

func (c *runCutter) read(read func([]byte) (int, error), p []byte) (int, error) {
	if c.inRun && len(p) > 1 {
		p = p[:len(p)-1]
	}
	n, err := read(p)
	c.inRun = n >= runTail && plainTail(p[n-runTail:n])
	return n, err
}

// plainTail reports whether b is all printable, non-space bytes (UTF-8
// continuation bytes included): what bubbletea gathers into one rune run.
func plainTail(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

type fileInput struct {
	*os.File
	cut runCutter
}

func (f *fileInput) Read(p []byte) (int, error) { return f.cut.read(f.File.Read, p) }

type readerInput struct {
	r   io.Reader
	cut runCutter
}

func (r *readerInput) Read(p []byte) (int, error) { return r.cut.read(r.r.Read, p) }
