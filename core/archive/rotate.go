package archive

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// stampLayout is the UTC timestamp in rotated file names.
const stampLayout = "20060102T150405Z"

// rotatedFile is one archive-<stamp>-<seq>.jsonl in the directory.
type rotatedFile struct {
	name string
	seq  uint64
}

func rotatedName(t time.Time, seq uint64) string {
	return fmt.Sprintf("archive-%s-%06d.jsonl", t.UTC().Format(stampLayout), seq)
}

// parseRotated recognises only names rotatedName could have produced, so
// pruning never deletes a file that is not ours.
func parseRotated(name string) (uint64, bool) {
	mid, ok := strings.CutPrefix(name, "archive-")
	if !ok {
		return 0, false
	}
	if mid, ok = strings.CutSuffix(mid, ".jsonl"); !ok {
		return 0, false
	}
	stamp, num, ok := strings.Cut(mid, "-")
	if !ok || num == "" {
		return 0, false
	}
	if _, err := time.Parse(stampLayout, stamp); err != nil {
		return 0, false
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	seq, err := strconv.ParseUint(num, 10, 64)
	return seq, err == nil
}

// rotated lists the rotated files, oldest (lowest seq) first.
func (a *Archive) rotated() ([]rotatedFile, error) {
	des, err := os.ReadDir(a.cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	var out []rotatedFile
	for _, de := range des {
		if !de.Type().IsRegular() {
			continue
		}
		if seq, ok := parseRotated(de.Name()); ok {
			out = append(out, rotatedFile{name: de.Name(), seq: seq})
		}
	}
	slices.SortFunc(out, func(x, y rotatedFile) int {
		if x.seq != y.seq {
			return compare(x.seq, y.seq)
		}
		return strings.Compare(x.name, y.name)
	})
	return out, nil
}

func compare(x, y uint64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// rotate renames current.jsonl to the next rotated name, prunes, and starts a
// new current file. Called with a.mu held and a.f open.
func (a *Archive) rotate() error {
	old := a.f
	if err := old.Sync(); err != nil {
		return fmt.Errorf("archive: rotate: %w", err)
	}
	name := rotatedName(a.cfg.Now(), a.seq+1)
	if err := os.Rename(filepath.Join(a.cfg.Dir, currentName), filepath.Join(a.cfg.Dir, name)); err != nil {
		return fmt.Errorf("archive: rotate: %w", err)
	}
	a.seq++
	a.f, a.size = nil, 0
	old.Close()
	syncDir(a.cfg.Dir)
	if rotated, err := a.rotated(); err != nil {
		a.log.Warn("cannot list rotated files", "err", err)
	} else {
		a.prune(rotated)
	}
	return a.openCurrent()
}

// prune deletes the oldest rotated files beyond MaxFiles.
func (a *Archive) prune(rotated []rotatedFile) {
	for len(rotated) > a.cfg.MaxFiles {
		path := filepath.Join(a.cfg.Dir, rotated[0].name)
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			a.log.Warn("cannot delete old archive file", "file", path, "err", err)
		}
		rotated = rotated[1:]
	}
}

// syncDir makes a rename durable; best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
