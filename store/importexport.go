package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ExportFormat names the file format of import and export:
//
//	{"format": "authlab-profiles", "version": 1, "profiles": [ {...}, ... ]}
//
// Each profile is Profile's JSON; "secrets" maps a secret kind to its
// env:/file: reference, to a placeholder "<stored secret: set with --flag>"
// (the value stays in the store), or, only with IncludeSecrets, the value.
// Import also takes a bare list of profiles.
const ExportFormat = "authlab-profiles"

// ExportVersion is the file format version this build writes and reads.
const ExportVersion = 1

// MaxImportSize caps an import file (CLI and console alike): 64 MiB is
// hundreds of thousands of profiles.
const MaxImportSize = 64 << 20

type exportFile struct {
	Format   string          `json:"format"`
	Version  int             `json:"version"`
	Profiles []exportProfile `json:"profiles"`
}

// exportProfile shadows Profile.Secrets so values are written explicitly.
type exportProfile struct {
	Profile
	Secrets map[SecretKind]string `json:"secrets,omitempty"`
}

// EncodeExport writes profiles in the export format. Stored secret values
// become placeholders unless includeSecrets; references are written as is.
func EncodeExport(ps []Profile, includeSecrets bool) ([]byte, error) {
	f := exportFile{Format: ExportFormat, Version: ExportVersion, Profiles: make([]exportProfile, len(ps))}
	for i, p := range ps {
		if !includeSecrets {
			p = p.Redacted() // a password in a URL is a secret too
		}
		ep := exportProfile{Profile: p}
		ep.Profile.Secrets = nil
		for k, s := range p.Secrets {
			if ep.Secrets == nil {
				ep.Secrets = map[SecretKind]string{}
			}
			switch {
			case s.ref != "":
				ep.Secrets[k] = s.ref
			case s.value != "" && includeSecrets:
				ep.Secrets[k] = s.value
			case s.value != "" || s.keep:
				ep.Secrets[k] = k.placeholder()
			}
		}
		f.Profiles[i] = ep
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Export returns the named profiles (all when names is empty) in the export
// format; a missing name is an ErrNotFound error.
func (s *Store) Export(names []string, includeSecrets bool) ([]byte, error) {
	if s.absent {
		if len(names) > 0 {
			return nil, s.notYet(fmt.Sprintf("profile %q", names[0]))
		}
		return EncodeExport(nil, includeSecrets)
	}
	var ps []Profile
	// One transaction, so the export is a consistent snapshot.
	err := s.view(func(tx *bolt.Tx) error {
		if len(names) == 0 {
			err := tx.Bucket([]byte(bucketProfiles)).ForEach(func(k, _ []byte) error {
				names = append(names, string(k))
				return nil
			})
			if err != nil {
				return err
			}
		}
		for _, n := range names {
			p, err := getProfileTx(tx, n)
			if err != nil {
				return err
			}
			ps = append(ps, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return EncodeExport(ps, includeSecrets)
}

// Import parses data (see ParseImport) and saves every profile in one
// transaction: on any error nothing changes. Existing names are errors
// unless replace is set.
func (s *Store) Import(data []byte, replace bool) (int, error) {
	ps, err := ParseImport(data)
	if err != nil {
		return 0, err
	}
	return len(ps), s.ImportProfiles(ps, replace)
}

// ImportProfiles validates and saves profiles in one transaction. The
// file's author chose every URL and reference in it: env:/file: references
// and kept stored secrets wait for a person's confirmation (`authlab profile
// trust NAME`) before a run sends them anywhere, and a kept stored value
// whose profile now names other hosts is dropped. A reference or stored
// secret already confirmed for every host the imported profile names stays
// confirmed, so re-importing an unchanged shared file asks nothing again.
func (s *Store) ImportProfiles(ps []Profile, replace bool) error {
	_, err := s.ImportProfilesReport(ps, replace)
	return err
}

// ImportProfilesReport is ImportProfiles, reporting which secrets were
// dropped or wait for confirmation.
func (s *Store) ImportProfilesReport(ps []Profile, replace bool) (SaveReport, error) {
	var rep SaveReport
	ps = slices.Clone(ps)
	var fe []FieldError
	for i := range ps {
		ps[i].carryTargetURL()
		fe = append(fe, ps[i].fieldErrors(ps[i].Name)...)
	}
	if len(fe) > 0 {
		return rep, &ValidationError{Fields: fe}
	}
	now := s.now()
	err := s.updateWiping(func(tx *bolt.Tx) (bool, error) {
		rep = SaveReport{}
		if !replace {
			pb := tx.Bucket([]byte(bucketProfiles))
			for _, p := range ps {
				if pb.Get([]byte(p.Name)) != nil {
					fe = append(fe, FieldError{Profile: p.Name, Field: "name", Problem: "a profile with this name exists (use --force to replace it)"})
				}
			}
			if len(fe) > 0 {
				return false, &ValidationError{Fields: fe}
			}
		}
		wipe := false
		for _, p := range ps {
			r, w, err := putProfileTx(tx, p, SaveOptions{Replace: replace}, saveImport, now)
			if err != nil {
				return false, err
			}
			rep.add(r)
			wipe = wipe || w
		}
		return wipe, nil
	})
	return rep, err
}

// ParseImport reads an export file (or a bare list of profiles) and
// returns its profiles, or an error listing every problem: JSON syntax with
// line:column, unknown fields, wrong types, invalid values, duplicate names.
func ParseImport(data []byte) ([]Profile, error) {
	var probe json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, syntaxError(data, err)
	}
	elems, err := importElements(data)
	if err != nil {
		return nil, err
	}
	var (
		out   []Profile
		fe    []FieldError
		names = map[string]int{}
	)
	for i, e := range elems {
		label := fmt.Sprintf("profiles[%d] (line %d)", i, e.line)
		var p Profile
		errs := decodeStrict(e.raw, reflect.ValueOf(&p).Elem(), "")
		p.carryTargetURL() // files of the schema-1 shape keep hmac/api-key URLs in token_url
		if p.Name != "" {
			label = fmt.Sprintf("profile %q (line %d)", p.Name, e.line)
		}
		for _, x := range errs {
			x.Profile = label
			fe = append(fe, x)
		}
		fe = append(fe, p.fieldErrors(label)...)
		if j, dup := names[p.Name]; dup && p.Name != "" {
			fe = append(fe, FieldError{Profile: label, Field: "name", Problem: fmt.Sprintf("duplicate: profiles[%d] has the same name", j)})
		} else {
			names[p.Name] = i
		}
		out = append(out, p)
	}
	if len(fe) > 0 {
		return nil, &ValidationError{Fields: fe}
	}
	return out, nil
}

type element struct {
	raw  json.RawMessage
	line int
}

// importElements finds the profile objects and their line numbers.
func importElements(data []byte) ([]element, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(data, err)
	}
	readList := func() ([]element, error) {
		var out []element
		// Count newlines from the previous element on, not from the start:
		// rescanning made a 20,000-profile import quadratic.
		line, from := 1, 0
		for dec.More() {
			off := skipSpace(data, int(dec.InputOffset()))
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, syntaxError(data, err)
			}
			line += bytes.Count(data[from:off], []byte{'\n'})
			from = off
			out = append(out, element{raw: raw, line: line})
		}
		_, err := dec.Token() // ']'
		return out, err
	}
	switch tok {
	case json.Delim('['):
		return readList()
	case json.Delim('{'):
	default:
		return nil, errors.New(`want a JSON object {"format": "authlab-profiles", "version": 1, "profiles": [...]} or a list of profiles`)
	}
	var out []element
	seen := false
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, syntaxError(data, err)
		}
		key, _ := kt.(string)
		switch key {
		case "format":
			var f string
			if err := dec.Decode(&f); err != nil || f != ExportFormat {
				return nil, fmt.Errorf("format: want %q", ExportFormat)
			}
		case "version":
			var v int
			if err := dec.Decode(&v); err != nil || v < 1 {
				return nil, errors.New("version: want a positive number")
			}
			if v > ExportVersion {
				return nil, fmt.Errorf("version: the file has format version %d; this build reads up to %d (upgrade authlab)", v, ExportVersion)
			}
		case "profiles":
			t, err := dec.Token()
			if err != nil || t != json.Delim('[') {
				return nil, errors.New("profiles: want a list of profiles")
			}
			if out, err = readList(); err != nil {
				return nil, syntaxError(data, err)
			}
			seen = true
		default:
			return nil, fmt.Errorf("%q: unknown field (want format, version, profiles)", key)
		}
	}
	if !seen {
		return nil, errors.New(`profiles: missing (want {"profiles": [...]})`)
	}
	return out, nil
}

// decodeStrict decodes a JSON object into the struct v field by field, so
// every unknown field and every wrongly typed value is reported, not just
// the first.
func decodeStrict(raw json.RawMessage, v reflect.Value, prefix string) []FieldError {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		field := strings.TrimSuffix(prefix, ".")
		if field == "" {
			field = "profile"
		}
		return []FieldError{{Field: field, Problem: "want a JSON object"}}
	}
	fields := jsonFields(v.Type())
	var out []FieldError
	for _, key := range sortedRawKeys(obj) {
		idx, ok := fields[key]
		if !ok {
			out = append(out, FieldError{Field: prefix + key, Problem: "unknown field"})
			continue
		}
		fv := v.FieldByIndex(idx)
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(time.Time{}) {
			if string(obj[key]) != "null" {
				out = append(out, decodeStrict(obj[key], fv, prefix+key+".")...)
			}
			continue
		}
		ptr := reflect.New(fv.Type())
		if err := json.Unmarshal(obj[key], ptr.Interface()); err != nil {
			out = append(out, FieldError{Field: prefix + key, Problem: typeProblem(fv.Type(), err)})
			continue
		}
		fv.Set(ptr.Elem())
	}
	return out
}

func sortedRawKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonFields maps JSON names to the exported fields of struct type t, by
// index path: the fields of an embedded struct (flows.Shape in Profile) are
// the outer object's, as encoding/json has them.
func jsonFields(t reflect.Type) map[string][]int {
	m := map[string][]int{}
	for _, f := range reflect.VisibleFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" || (f.Anonymous && name == "") {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Index
	}
	return m
}

func typeProblem(t reflect.Type, err error) string {
	want := "a different type"
	switch {
	case t == reflect.TypeOf(time.Time{}):
		want = "an RFC 3339 time such as 2026-01-02T15:04:05Z"
	case t == reflect.TypeOf(map[SecretKind]Secret{}):
		want = "an object of secrets (client_secret, hmac_key, private_key, api_key: a value, env:NAME or file:PATH)"
	case t.Kind() == reflect.String:
		want = "a string"
	case t.Kind() == reflect.Int:
		want = "a whole number"
	case t.Kind() == reflect.Bool:
		want = "true or false"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		want = "a list of strings"
	case t.Kind() == reflect.Map && t.Elem().Kind() == reflect.String:
		want = "an object of string values"
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("want %s, got %s", want, te.Value)
	}
	return "want " + want
}

// syntaxError turns a JSON error into one line with line:column.
func syntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// Offset counts the offending byte; point at it, not after it.
		off := int(se.Offset) - 1
		if strings.Contains(se.Error(), "unexpected end") {
			off = len(data)
		}
		line, col := lineCol(data, off)
		return fmt.Errorf("malformed JSON at line %d, column %d: %s", line, col, strings.TrimPrefix(se.Error(), "json: "))
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		line, col := lineCol(data, len(data))
		return fmt.Errorf("malformed JSON at line %d, column %d: unexpected end of input", line, col)
	}
	return fmt.Errorf("malformed JSON: %v", err)
}

// lineCol converts a byte offset into 1-based line and column.
func lineCol(data []byte, off int) (int, int) {
	if off > len(data) {
		off = len(data)
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := off - bytes.LastIndexByte(before, '\n')
	return line, col
}

func skipSpace(data []byte, off int) int {
	for off < len(data) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
		off++
	}
	return off
}
