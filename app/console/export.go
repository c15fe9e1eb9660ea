package console

import (
	"path/filepath"
	"strings"
	"time"

	"authlab/flows"
)

// The console's exports (a run's HAR, an audit's report, a check's report)
// share one naming: KIND-PROFILE-TIME.EXT beside the store (or in
// ExportDir), readable by the owner only.

// exportDir is the directory StoreBackend writes exports into.
func (b *StoreBackend) exportDir() string {
	if b.ExportDir != "" {
		return b.ExportDir
	}
	return filepath.Dir(b.Path)
}

// exportBase is dir/KIND-NAME-TIME without an extension. The name keeps
// letters, digits and - _ . only (the rest become -) and no leading or
// trailing dot, so it cannot leave dir or hide the file.
func exportBase(dir, kind, name string, at time.Time) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, name)
	return filepath.Join(dir, kind+"-"+strings.Trim(safe, ".")+"-"+at.UTC().Format("20060102-150405"))
}

// writeExport writes base+ext with mode 0600 and returns its path.
func writeExport(base, ext string, data []byte) (string, error) {
	path := base + ext
	if err := flows.WritePrivateFile(path, data); err != nil {
		return "", err
	}
	return path, nil
}
