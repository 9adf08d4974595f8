// Package archive records instant messages (who, whom, when, what, which node)
// to rotated JSONL files in the data directory and searches them.
//
// It is Parley's take on the LCS 2005 Archiving module. Each node writes its
// own archive: one JSON object per line, appended to current.jsonl in
// Config.Dir. When the next line would push current.jsonl past
// Config.MaxFileBytes, the file is renamed to
// archive-<UTC timestamp>-<seq>.jsonl (seq increases for the life of the
// directory, so it orders the files) and a new current.jsonl is started; only
// the newest Config.MaxFiles rotated files are kept.
//
// Record writes each line with a single append-mode write before returning, so
// a crash of the process loses no acknowledged record; Close (and rotation)
// fsync. A line torn by a crash of the machine is repaired at Open by ending
// it, and Search then skips it as corrupt.
//
// Search streams the files newest to oldest, reading each from its end, and
// stops at the query's limit, so its memory is bounded by the limit and the
// longest line, not by the archive. "Newest" is the order in which records
// were written; Entry.Time is whatever the caller recorded. Corrupt lines are
// skipped and counted (CorruptLines).
package archive
