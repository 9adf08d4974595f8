package raftnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/hashicorp/raft-wal/migrate"
	"go.etcd.io/bbolt"
)

// copyBatchBytes is how much log data goes into one WAL append (one
// fsync) while migrating.
const copyBatchBytes = 1 << 20

// migrateBolt moves a raft-boltdb store (dir/raft.db) into the WAL
// (dir/wal) when the WAL holds no log yet. The copy is built in
// dir/wal.migrating and renamed into place only once complete and synced;
// raft.db is then renamed to raft.db.migrated and kept. A crash at any
// point leaves either raft.db (with at most a temporary directory, removed
// here, and the copy redone) or a complete WAL beside it (finished here by
// the rename).
func migrateBolt(dir string, logger *slog.Logger) error {
	log := logger.With("component", "raft-store")
	bolt, tmp, walDir := filepath.Join(dir, boltFile), filepath.Join(dir, walTempDir), filepath.Join(dir, walDirName)
	if ok, err := exists(tmp); err != nil {
		return err
	} else if ok {
		log.Warn("removing an interrupted migration to the wal store", "dir", tmp)
		if err := os.RemoveAll(tmp); err != nil {
			return fmt.Errorf("raftnode: remove %s: %w", tmp, err)
		}
	}
	if ok, err := exists(bolt); err != nil || !ok {
		return err
	}
	has, err := walHasLog(walDir, logger)
	if err != nil {
		return err
	}
	if has {
		// Only a migration interrupted between its two renames leaves
		// raft.db beside a WAL holding a log (the bolt store refuses to
		// start on such a WAL): the WAL is the complete copy.
		log.Warn("finishing an interrupted migration: the wal store is complete, keeping raft.db aside", "kept_as", filepath.Join(dir, boltMigrated))
		return retireBolt(dir)
	}
	start := time.Now()
	c, err := copyBolt(bolt, tmp, logger)
	if err != nil {
		if rerr := os.RemoveAll(tmp); rerr != nil {
			log.Warn("cannot remove the failed migration's directory", "dir", tmp, "error", rerr)
		}
		return err
	}
	// A WAL without a log (a node that never received an entry) is
	// superseded by the copy.
	if err := os.RemoveAll(walDir); err != nil {
		return fmt.Errorf("raftnode: remove empty wal %s: %w", walDir, err)
	}
	if err := os.Rename(tmp, walDir); err != nil {
		return fmt.Errorf("raftnode: put migrated wal in place: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := retireBolt(dir); err != nil {
		return err
	}
	log.Info("migrated the raft log from raft-boltdb to raft-wal",
		"entries", c.entries, "first_index", c.first, "last_index", c.last, "stable_keys", c.stable,
		"took", time.Since(start).Round(time.Millisecond), "wal", walDir, "kept_as", filepath.Join(dir, boltMigrated))
	return nil
}

// copied describes what copyBolt moved.
type copied struct {
	first, last, entries uint64
	stable               int
}

// copyBolt copies the log and raft's stable keys of the bolt store at
// bolt into a new WAL in dir, closed and synced when it returns.
func copyBolt(bolt, dir string, log *slog.Logger) (copied, error) {
	var c copied
	src, err := raftboltdb.New(raftboltdb.Options{Path: bolt, BoltOptions: &bbolt.Options{ReadOnly: true, Timeout: 10 * time.Second}})
	if err != nil {
		return c, fmt.Errorf("raftnode: open %s to migrate: %w", bolt, err)
	}
	defer src.Close()
	if c.first, err = src.FirstIndex(); err == nil {
		c.last, err = src.LastIndex()
	}
	if err != nil {
		return c, fmt.Errorf("raftnode: read %s: %w", bolt, err)
	}
	dst, err := openWAL(dir, log)
	if err != nil {
		return c, err
	}
	// Open takes no context; the copy runs to completion or fails.
	ctx := context.Background()
	stable := &boltStable{BoltStore: src}
	if c.last > 0 {
		c.entries = c.last - c.first + 1
		err = migrate.CopyLogs(ctx, dst, src, copyBatchBytes, nil)
	}
	if err == nil {
		err = migrate.CopyStable(ctx, dst, stable, nil, nil, nil)
	}
	if err == nil {
		err = checkCopy(dst, c)
	}
	if cerr := dst.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("raftnode: close migrated wal: %w", cerr)
	}
	if err != nil {
		return c, fmt.Errorf("raftnode: migrate %s: %w", bolt, err)
	}
	c.stable = stable.found
	return c, syncDir(dir)
}

// checkCopy verifies the WAL's index range is the bolt store's.
func checkCopy(dst logStore, c copied) error {
	first, err := dst.FirstIndex()
	if err != nil {
		return err
	}
	last, err := dst.LastIndex()
	if err != nil {
		return err
	}
	if last != c.last || (c.last > 0 && first != c.first) {
		return fmt.Errorf("wal holds [%d, %d] after copying [%d, %d]", first, last, c.first, c.last)
	}
	return nil
}

// retireBolt renames raft.db to raft.db.migrated, durably.
func retireBolt(dir string) error {
	if err := os.Rename(filepath.Join(dir, boltFile), filepath.Join(dir, boltMigrated)); err != nil {
		return fmt.Errorf("raftnode: keep migrated bolt store aside: %w", err)
	}
	return syncDir(dir)
}

// boltStable reads raft's stable keys from a bolt store for CopyStable:
// a key never written reads as empty (raft-boltdb reports an error, on
// which CopyStable would stop; raft reads empty as unset). It counts the
// keys that were present.
type boltStable struct {
	*raftboltdb.BoltStore
	found int
}

func (b *boltStable) Get(k []byte) ([]byte, error) {
	v, err := b.BoltStore.Get(k)
	return v, b.seen(err)
}

func (b *boltStable) GetUint64(k []byte) (uint64, error) {
	v, err := b.BoltStore.GetUint64(k)
	return v, b.seen(err)
}

func (b *boltStable) seen(err error) error {
	if errors.Is(err, raftboltdb.ErrKeyNotFound) {
		return nil
	}
	if err == nil {
		b.found++
	}
	return err
}
