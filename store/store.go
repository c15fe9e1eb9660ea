// Package store keeps authlab's profiles, secrets, run history and token
// cache in one bbolt file. The file is opened for one operation and closed
// again, never held for a whole console session (so `authlab run` in a second
// terminal works while the console is open): every exported function either
// takes an open *Store or opens one around a callback.
//
// Layout (schema version 3): bucket meta holds "schema" (decimal); profiles
// maps a profile name to its JSON; secrets maps a profile name to its
// secrets (values or env:/file: references), each with the origins a person
// confirmed it for (trust.go); history holds one nested bucket
// per profile whose keys are big-endian run sequence numbers; tokens maps a
// profile name to its latest token response. Every value is JSON with a "v"
// field so a later schema can tell old records apart.
package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout this build writes. Opening a store with a
// higher version fails; a lower one is migrated (see migrate.go).
const SchemaVersion = 3

// DefaultTimeout is how long Open waits for another process's lock. Writes
// hold it for milliseconds, but scripts start many at once (50 parallel
// `profile add`), and a write that wipes freed pages takes longer.
const DefaultTimeout = 5 * time.Second

// TimeoutEnv names the environment variable that overrides DefaultTimeout:
// a Go duration ("30s") or a number of seconds.
const TimeoutEnv = "AUTHLAB_STORE_TIMEOUT"

// Bucket and key names; []byte(name) at each use keeps them constant.
const (
	bucketMeta     = "meta"
	bucketProfiles = "profiles"
	bucketSecrets  = "secrets"
	bucketHistory  = "history"
	bucketTokens   = "tokens"
	keySchema      = "schema"
)

func allBuckets() []string {
	return []string{bucketMeta, bucketProfiles, bucketSecrets, bucketHistory, bucketTokens}
}

// Errors callers can test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrInUse    = errors.New("in use by another authlab process")
	ErrCorrupt  = errors.New("not a valid authlab store")
	ErrTooNew   = errors.New("written by a newer authlab")
	ErrReadOnly = errors.New("store opened read-only")
	// ErrNoStore: a read-only open found no file; reads see an empty store.
	ErrNoStore = errors.New("does not exist yet")
)

// Store is an open store file. It is not meant to be kept open for long:
// open, do the operation, Close.
type Store struct {
	db       *bolt.DB
	path     string
	now      func() time.Time
	readOnly bool
	absent   bool // read-only open of a missing file: db is nil, reads are empty
}

type options struct {
	readOnly   bool
	timeout    time.Duration
	timeoutSet bool // WithTimeout given: TimeoutEnv is not consulted
	now        func() time.Time
}

// Option tunes Open.
type Option func(*options)

// ReadOnly opens with a shared lock: any number of readers may hold the
// store at once, but not while a writer has it.
func ReadOnly() Option { return func(o *options) { o.readOnly = true } }

// WithTimeout changes how long Open waits for the file lock (default
// $AUTHLAB_STORE_TIMEOUT, else DefaultTimeout); 0 waits for ever.
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout, o.timeoutSet = d, true }
}

// envTimeout is the lock wait from TimeoutEnv, or DefaultTimeout.
func envTimeout() (time.Duration, error) {
	v := strings.TrimSpace(os.Getenv(TimeoutEnv))
	if v == "" {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		if n, nerr := strconv.ParseFloat(v, 64); nerr == nil && n < 1e6 {
			d, err = time.Duration(n*float64(time.Second)), nil
		}
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q is not a positive duration (like 10s or 2.5)", TimeoutEnv, v)
	}
	return d, nil
}

// notAFile refuses a store path that exists but is not a regular file:
// opening a FIFO blocks until someone writes to it, a device reads for ever.
func notAFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().IsRegular() {
		return nil // missing: created below; unreadable: the open says why
	}
	what := "not a regular file"
	switch m := fi.Mode(); {
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeDevice != 0:
		what = "a device"
	}
	return fmt.Errorf("store %s is %s, not a store file; give --store the path of a file (it is created when missing)", path, what)
}

// WithClock sets the clock used for CreatedAt/UpdatedAt (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Open opens (creating when missing, with directory 0700 and file 0600) the
// store at path and migrates it to SchemaVersion. A read-only open creates
// nothing: a missing file gives a Store whose reads are empty (see Exists).
// A read-only open of an existing store that is empty or needs a migration
// briefly opens it read-write first, so readers never see an old layout.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{now: time.Now}
	for _, fn := range opts {
		fn(&o)
	}
	if path == "" {
		return nil, errors.New("store path is empty")
	}
	if !o.timeoutSet {
		d, err := envTimeout()
		if err != nil {
			return nil, err
		}
		o.timeout, o.timeoutSet = d, true
	}
	if err := notAFile(path); err != nil {
		return nil, err
	}
	if o.readOnly {
		fi, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return &Store{path: path, now: o.now, readOnly: true, absent: true}, nil
		case err != nil:
			return nil, fmt.Errorf("store %s: %w", path, err)
		case fi.Size() == 0:
			if err := initStore(path, o); err != nil {
				return nil, err
			}
		}
		s, err := openDB(path, o)
		if err != nil {
			return nil, err
		}
		v, err := s.schema()
		if err != nil || v == SchemaVersion {
			if err != nil {
				s.Close()
				return nil, err
			}
			return s, nil
		}
		// An older layout: migrate with a write lock, then reopen for reading.
		s.Close()
		if err := initStore(path, o); err != nil {
			return nil, err
		}
		return openDB(path, o)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store %s: create directory: %w", path, err)
	}
	s, err := openDB(path, o)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// initStore creates or migrates the store with a write lock and closes it.
func initStore(path string, o options) error {
	o.readOnly = false
	s, err := Open(path, func(x *options) { *x = o })
	if err != nil {
		return err
	}
	return s.Close()
}

func openDB(path string, o options) (s *Store, err error) {
	// bbolt trusts its header: a file shorter than the header says faults
	// (SIGBUS) on a later read of the mapping, which recover cannot catch.
	if err := checkHeader(path); err != nil {
		return nil, err
	}
	// bbolt panics on some damaged files (for example a garbage freelist
	// page); that is bad input, not a bug, so report it as such. A fault on
	// the mapping becomes a panic too, in this goroutine only.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("store %s is %w (bbolt: %v); the file was left untouched", path, ErrCorrupt, r)
		}
	}()
	// A writer that compacted the store (compact) renamed a new file into
	// place while this process waited for the lock on the old one: open
	// again, or this operation would use a file nobody sees any more.
	for attempt := 0; ; attempt++ {
		before, errBefore := os.Stat(path)
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.timeout, ReadOnly: o.readOnly})
		if err != nil {
			return nil, openError(path, err)
		}
		after, errAfter := os.Stat(path)
		if errBefore == nil && errAfter == nil && os.SameFile(before, after) || attempt == 3 {
			return &Store{db: db, path: path, now: o.now, readOnly: o.readOnly}, nil
		}
		db.Close()
	}
}

func openError(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("store %s is %w (close it there, or use --store to pick another file)", path, ErrInUse)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrInvalidMapping):
		return fmt.Errorf("store %s is %w (corrupt, or not a bbolt file: %v); the file was left untouched", path, ErrCorrupt, err)
	}
	return fmt.Errorf("store %s: %w", path, err)
}

// Close releases the file and its lock.
func (s *Store) Close() error {
	if s.absent {
		return nil
	}
	return s.db.Close()
}

// Exists is false for a read-only open of a store file that does not exist
// yet; such a store reads as empty and creates nothing.
func (s *Store) Exists() bool { return !s.absent }

// notYet is the error of a lookup in a store that does not exist yet; it
// matches both ErrNotFound and ErrNoStore.
func (s *Store) notYet(what string) error {
	return &noStoreError{fmt.Sprintf("no %s: store %s does not exist yet", what, s.path)}
}

type noStoreError struct{ msg string }

func (e *noStoreError) Error() string   { return e.msg }
func (e *noStoreError) Unwrap() []error { return []error{ErrNotFound, ErrNoStore} }

// View opens the store read-only, runs fn and closes it.
func View(path string, fn func(*Store) error, opts ...Option) error {
	s, err := Open(path, append(opts, ReadOnly())...)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// Update opens the store for writing, runs fn and closes it.
func Update(path string, fn func(*Store) error, opts ...Option) error {
	s, err := Open(path, opts...)
	if err != nil {
		return err
	}
	if err := fn(s); err != nil {
		s.Close()
		return err
	}
	return s.Close()
}

// view and update wrap bbolt transactions; a panic from a damaged page
// becomes an error naming the file (bbolt has already rolled back).
func (s *Store) view(fn func(*bolt.Tx) error) (err error) {
	if s.absent {
		return fmt.Errorf("store %s %w", s.path, ErrNoStore)
	}
	// A fault on the mapping (a page cut off or changed under us) becomes
	// a panic here rather than killing the process.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.recoverCorrupt(&err)
	return s.db.View(fn)
}

func (s *Store) update(fn func(*bolt.Tx) error) (err error) {
	if s.readOnly {
		return fmt.Errorf("store %s: %w", s.path, ErrReadOnly)
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.recoverCorrupt(&err)
	return s.db.Update(fn)
}

// updateWiping is update for a change that may delete or replace a secret
// value or a cached token (fn reports whether it did): the file is then
// compacted, so the old value is not left readable in a freed page.
func (s *Store) updateWiping(fn func(*bolt.Tx) (bool, error)) error {
	wipe := false
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		wipe, err = fn(tx)
		return err
	})
	if err != nil || !wipe {
		return err
	}
	return s.compact()
}

// compact rewrites the store with only its live data and renames the copy
// over the file: bbolt frees the pages of a deleted or replaced value but
// does not wipe them. bbolt locks the copy when it opens it, so this
// process holds a lock on whichever file is in place throughout, and keeps
// using the copy; another process that waited for the old file sees the
// rename and opens again (openDB).
func (s *Store) compact() (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.recoverCorrupt(&err)
	dir := filepath.Dir(s.path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(s.path)+".compact-*")
	if err != nil {
		return fmt.Errorf("store %s: wiping freed data: %v; the change is saved, but old values may stay in the file until it is compacted", s.path, err)
	}
	tmp := f.Name()
	f.Close()
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	fail := func(err error) error {
		if dst != nil {
			dst.Close()
		}
		os.Remove(tmp)
		return fmt.Errorf("store %s: wiping freed data: %v; the change is saved, but old values may stay in the file until it is compacted", s.path, err)
	}
	if err != nil {
		return fail(err)
	}
	if err := bolt.Compact(dst, s.db, 8<<20); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fail(err)
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable
		_ = d.Sync()
		d.Close()
	}
	old := s.db
	s.db = dst
	return old.Close()
}

func (s *Store) recoverCorrupt(err *error) {
	if r := recover(); r != nil {
		*err = &corruptError{fmt.Sprintf("store %s is damaged (reading it failed: %v); restore a backup or move it away", s.path, r)}
	}
}

// schema reads the stored schema version: 0 for a v0 store (profiles but no
// meta bucket), SchemaVersion for a fresh empty file.
func (s *Store) schema() (int, error) {
	v := 0
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		v, err = readSchema(tx, s.path)
		return err
	})
	return v, err
}

// readSchema returns -1 for an empty bbolt file (nothing written yet).
func readSchema(tx *bolt.Tx, path string) (int, error) {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		if tx.Bucket([]byte(bucketProfiles)) != nil {
			return 0, nil
		}
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		if empty {
			return -1, nil
		}
		return 0, fmt.Errorf("store %s is %w: a bbolt file without authlab's buckets; the file was left untouched", path, ErrCorrupt)
	}
	raw := meta.Get([]byte(keySchema))
	v, err := strconv.Atoi(string(raw))
	if err != nil || v < 0 {
		return 0, fmt.Errorf("store %s is %w: schema version %q is not a number", path, ErrCorrupt, raw)
	}
	if v > SchemaVersion {
		return 0, fmt.Errorf("store %s was %w (schema version %d; this build reads up to %d): upgrade authlab or use --store to pick another file", path, ErrTooNew, v, SchemaVersion)
	}
	return v, nil
}

// LoadProfile reads one profile in a read-only open of the store at path:
// what every command that runs or shows a profile needs.
func LoadProfile(path, name string) (Profile, error) {
	var p Profile
	err := View(path, func(s *Store) (err error) {
		p, err = s.GetProfile(name)
		return err
	})
	return p, err
}
