package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's on-disk meta page (go.etcd.io/bbolt internal/common): a 16-byte
// page header, then magic, version, page size, flags (uint32 each), the root
// bucket (root pgid, sequence), freelist pgid, high-water pgid, txid and an
// FNV-64a checksum of everything before it. Pages 0 and 1 hold one each.
const (
	boltMagic       = 0xED0CDAED
	boltVersion     = 2
	pageHeaderSize  = 16
	metaSize        = 64
	metaChecksumOff = 56
)

type boltMeta struct {
	pageSize uint32
	pgid     uint64 // pages in use: the file must hold pgid × pageSize bytes
	txid     uint64
}

// corruptError is a one-line message that matches ErrCorrupt.
type corruptError struct{ msg string }

func (e *corruptError) Error() string { return e.msg }
func (e *corruptError) Unwrap() error { return ErrCorrupt }

// checkHeader reads the two meta pages the way bbolt will and refuses a file
// that bbolt would map past its end. An empty file is fine (bbolt formats it).
func checkHeader(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // a write open creates it
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	size := fi.Size()
	if size == 0 {
		return nil
	}
	m0, err0 := readMeta(f, 0)
	// bbolt finds meta 1 one page in: the page size meta 0 gives, else the
	// OS page size; try the usual sizes so a damaged meta 0 is survivable.
	offsets := []int64{4096, int64(os.Getpagesize()), 8192, 16384, 32768, 65536}
	if err0 == nil {
		offsets = []int64{int64(m0.pageSize)}
	}
	var m1 boltMeta
	err1 := errors.New("no second meta page")
	for _, off := range offsets {
		if m1, err1 = readMeta(f, off); err1 == nil {
			break
		}
	}
	var m boltMeta
	switch {
	case err0 != nil && err1 != nil:
		return &corruptError{fmt.Sprintf("store %s is %v (not a bbolt file, or both of its headers are damaged: %v); the file was left untouched", path, ErrCorrupt, err0)}
	case err0 != nil:
		m = m1
	case err1 != nil:
		m = m0
	case m1.txid > m0.txid: // bbolt uses the newer valid meta
		m = m1
	default:
		m = m0
	}
	if need := m.pgid * uint64(m.pageSize); uint64(size) < need {
		return &corruptError{fmt.Sprintf("store %s is damaged: the file is %d bytes but its header says %d; restore a backup or move it away", path, size, need)}
	}
	return nil
}

func readMeta(r io.ReaderAt, off int64) (boltMeta, error) {
	var b [pageHeaderSize + metaSize]byte
	if _, err := r.ReadAt(b[:], off); err != nil {
		return boltMeta{}, errors.New("the file is too short for a header")
	}
	m := b[pageHeaderSize:]
	le := binary.LittleEndian // bbolt writes native order; every platform Go targets here is little-endian
	if le.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, errors.New("bad magic number")
	}
	if v := le.Uint32(m[4:]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("format version %d, want %d", v, boltVersion)
	}
	h := fnv.New64a()
	h.Write(m[:metaChecksumOff])
	if h.Sum64() != le.Uint64(m[metaChecksumOff:]) {
		return boltMeta{}, errors.New("header checksum mismatch")
	}
	ps := le.Uint32(m[8:])
	if ps < 512 || ps > 1<<20 || ps&(ps-1) != 0 {
		return boltMeta{}, fmt.Errorf("implausible page size %d", ps)
	}
	return boltMeta{pageSize: ps, pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, nil
}
