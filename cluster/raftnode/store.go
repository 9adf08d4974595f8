package raftnode

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	raftwal "github.com/hashicorp/raft-wal"

	"github.com/parley-rtc/parley/core/logging"
)

// Raft log and stable store kinds (Config.Store).
const (
	// StoreWAL is hashicorp/raft-wal in <data-dir>/raft/wal: segment
	// files with one fsync per append. The default.
	StoreWAL = "wal"
	// StoreBolt is hashicorp/raft-boltdb in <data-dir>/raft/raft.db.
	StoreBolt = "bolt"
)

// Names inside <data-dir>/raft.
const (
	boltFile     = "raft.db"
	boltMigrated = "raft.db.migrated" // raft.db once copied into the WAL
	walDirName   = "wal"
	walTempDir   = "wal.migrating" // a migration in progress
)

// ErrWALInUse: the node is configured with the bolt store but the data
// directory's raft log lives in the WAL. There is no migration back.
var ErrWALInUse = errors.New("raftnode: raft-store is bolt but the raft log is in the wal store (there is no migration from wal back to bolt)")

// logStore is what raft needs from the log and stable store, and what the
// node closes on shutdown.
type logStore interface {
	raft.LogStore
	raft.StableStore
	Close() error
}

// openStore opens the configured store in dir (<data-dir>/raft). With
// the WAL it first migrates an existing bolt store into it.
func openStore(kind, dir string, log *slog.Logger) (logStore, error) {
	walDir := filepath.Join(dir, walDirName)
	switch kind {
	case "", StoreWAL:
		if err := migrateBolt(dir, log); err != nil {
			return nil, err
		}
		return openWAL(walDir, log)
	case StoreBolt:
		has, err := walHasLog(walDir, log)
		if err != nil {
			return nil, err
		}
		if has {
			return nil, fmt.Errorf("%w: %s holds it", ErrWALInUse, walDir)
		}
		s, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, boltFile)})
		if err != nil {
			return nil, fmt.Errorf("raftnode: open bolt store: %w", err)
		}
		return s, nil
	default:
		return nil, fmt.Errorf("raftnode: unknown store %q (want %s or %s)", kind, StoreWAL, StoreBolt)
	}
}

// openWAL opens (creating it when missing) the WAL in dir.
func openWAL(dir string, log *slog.Logger) (*raftwal.WAL, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("raftnode: wal dir: %w", err)
	}
	w, err := raftwal.Open(dir, raftwal.WithLogger(logging.HCLog(log, "raft-wal", slog.LevelInfo)))
	if err != nil {
		return nil, fmt.Errorf("raftnode: open wal %s: %w", dir, err)
	}
	return w, nil
}

// walHasLog reports whether the WAL in dir exists and holds log entries.
func walHasLog(dir string, log *slog.Logger) (bool, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("raftnode: wal dir: %w", err)
	}
	w, err := openWAL(dir, log)
	if err != nil {
		return false, err
	}
	last, err := w.LastIndex()
	if cerr := w.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("raftnode: read wal %s: %w", dir, err)
	}
	return last > 0, nil
}

// exists reports whether path exists; other stat errors are returned.
func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("raftnode: stat %s: %w", path, err)
	}
	return true, nil
}

// syncDir fsyncs a directory, making renames and new entries in it
// durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("raftnode: sync %s: %w", dir, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("raftnode: sync %s: %w", dir, err)
	}
	return nil
}
