package flows

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode"
)

// Bounds on a cmd: secret reference's program.
const (
	DefaultSecretCommandTimeout = 10 * time.Second
	MaxSecretCommandOutput      = 1 << 20
)

// SplitCommand splits a command line into argv the way a shell would,
// without one: words separate at unquoted white space; single quotes keep
// everything literally, double quotes keep everything but \" and \\, and a
// backslash outside quotes escapes the next character. No variables, globs,
// pipes or redirections: "$HOME" stays "$HOME".
func SplitCommand(line string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\\') {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errors.New("unterminated double quote")
			}
			inWord = true
		case c == '\\':
			if i+1 >= len(line) {
				return nil, errors.New("trailing backslash")
			}
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}

// runSecretCommand runs a cmd: reference's program and returns its stdout,
// one trailing newline dropped. The program's stderr goes to stderr (a
// password manager may prompt there) and only its first line, shortened,
// reaches the error; stdout is the secret and never appears in an error.
func runSecretCommand(ref, line string, timeout time.Duration, stderr io.Writer) ([]byte, error) {
	argv, err := SplitCommand(line)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", ref, err)
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("%q names no program (cmd:PROGRAM ARGS...)", ref)
	}
	if timeout <= 0 {
		timeout = DefaultSecretCommandTimeout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// A helper that leaves a child holding the pipes open must not hold
	// the run past its bound.
	cmd.WaitDelay = time.Second
	out := &cappedBuffer{max: MaxSecretCommandOutput}
	first := &firstLine{max: 200}
	cmd.Stdout = out
	cmd.Stderr = io.MultiWriter(stderr, first)
	// Stdin stays the null device: authlab's own stdin may carry a token.
	err = cmd.Run()
	switch {
	case out.over:
		return nil, fmt.Errorf("%s: the program wrote more than %d KiB", ref, MaxSecretCommandOutput>>10)
	case ctx.Err() == context.DeadlineExceeded:
		return nil, fmt.Errorf("%s: the program did not finish within %s", ref, timeout)
	case err != nil:
		var ee *exec.ExitError
		msg := err.Error()
		if errors.As(err, &ee) {
			msg = ee.ProcessState.String() // "exit status 1", "signal: killed"
		} else if errors.Is(err, exec.ErrNotFound) {
			msg = argv[0] + ": program not found"
		}
		if l := first.String(); l != "" {
			msg += " (" + l + ")"
		}
		return nil, fmt.Errorf("%s: %s", ref, msg)
	}
	b := out.buf.Bytes()
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: the program printed nothing", ref)
	}
	return b, nil
}

// cappedBuffer keeps at most max bytes and then fails the write, so a
// runaway program gets EPIPE instead of filling memory.
type cappedBuffer struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if c.buf.Len()+len(p) > c.max {
		c.over = true
		return 0, errors.New("output limit reached")
	}
	return c.buf.Write(p)
}

// firstLine keeps the first line written to it, up to max bytes, without
// control characters (it goes into a one-line error).
type firstLine struct {
	b    strings.Builder
	max  int
	done bool
}

func (f *firstLine) Write(p []byte) (int, error) {
	for _, r := range string(p) {
		if f.done {
			break
		}
		switch {
		case r == '\n':
			if strings.TrimSpace(f.b.String()) != "" {
				f.done = true
			}
		case unicode.IsControl(r):
		case f.b.Len() >= f.max:
			f.done = true
		default:
			f.b.WriteRune(r)
		}
	}
	return len(p), nil
}

func (f *firstLine) String() string {
	s := strings.TrimSpace(f.b.String())
	if f.b.Len() >= f.max {
		s += "…"
	}
	return s
}
