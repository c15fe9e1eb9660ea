package editor

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// FormatParams writes extra parameters as the form shows them: k=v pairs
// in key order, a value with spaces, quotes or backslashes quoted.
func FormatParams(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := m[k]
		if v == "" || strings.ContainsAny(v, " \t\"\\") {
			v = strconv.Quote(v)
		}
		parts[i] = k + "=" + v
	}
	return strings.Join(parts, " ")
}

// ParseParams reads what FormatParams writes; nil for an empty list.
func ParseParams(s string) (map[string]string, error) {
	var out map[string]string
	s = strings.TrimSpace(s)
	for s != "" {
		eq := strings.IndexAny(s, "= ")
		if eq <= 0 || s[eq] != '=' {
			tok, _, _ := strings.Cut(s, " ")
			return nil, fmt.Errorf("%q is not k=v", tok)
		}
		k, rest := s[:eq], s[eq+1:]
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := closingQuote(rest)
			if end < 0 {
				return nil, fmt.Errorf("%s: the quoted value has no closing quote", k)
			}
			uq, err := strconv.Unquote(rest[:end+1])
			if err != nil {
				return nil, fmt.Errorf("%s: bad quoted value (%v)", k, err)
			}
			v, rest = uq, rest[end+1:]
			if rest != "" && rest[0] != ' ' {
				return nil, fmt.Errorf("%s: a space must follow the quoted value", k)
			}
		} else {
			v, rest, _ = strings.Cut(rest, " ")
		}
		if out == nil {
			out = map[string]string{}
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s is given twice", k)
		}
		out[k] = v
		s = strings.TrimLeft(rest, " ")
	}
	return out, nil
}

// closingQuote finds the quote ending the Go-quoted string s starts with.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// JSONProblem says what is wrong with the value of a JSON field ("" when
// it is empty or well formed, an object or an array as the field wants).
func JSONProblem(key, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	var x any
	if err := json.Unmarshal([]byte(v), &x); err != nil {
		if se := (*json.SyntaxError)(nil); errors.As(err, &se) {
			return fmt.Sprintf("not valid JSON (char %d: %v)", se.Offset, se)
		}
		return "not valid JSON (" + err.Error() + ")"
	}
	_, isArray := x.([]any)
	_, isObject := x.(map[string]any)
	switch {
	case jsonArray(key) && !isArray:
		return `not a JSON array (want [{"type": ...}, ...])`
	case !jsonArray(key) && !isObject:
		return "not a JSON object (want {...})"
	}
	return ""
}

// escapeNotes puts multi-line notes on one line: \n, \t and \\ stand for
// a new line, a tab and a backslash. unescapeNotes reverses it.
func escapeNotes(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`).Replace(s)
}

func unescapeNotes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
