// Package audit records what hop decided: every ticket issued, every refusal,
// every pre-authentication failure or lockout and every directory change, as
// one JSON object per line. Events name principals, rules and changed fields,
// never keys, passwords or tickets.
//
// # The log file
//
// [File] appends to a log (by default DIR/audit.log) that several processes
// share: the KDC, which buffers events and writes them at least every
// [FlushInterval], and every hop command that changes the directory. Each
// line is an [Event] that begins with two fields the writer adds:
//
//	{"seq":42,"prev":"9f86d0…",  "time":…, "type":…, …}
//
// seq counts the lines of the chain (1, 2, …) and prev is the hex SHA-256 of
// the previous line's exact bytes (without its newline); the first line of a
// new log has prev [Genesis]. The hash covers the bytes on disk, so a
// verifier never re-encodes anything: editing a line breaks the next line's
// prev, deleting lines makes seq jump.
//
// Writers chain across processes: a flush takes an exclusive flock on the
// head file (below), finds the chain's end — the later of the head's record
// and the log's last line (read only when the log is not the size this
// writer left it) — numbers and hashes the batch, appends it, and records
// the new end in the head file. [File.Emit] only encodes the event into
// memory; numbering, hashing and writing happen at flush time, off the
// KDC's request path. A write that fails is undone (the log is truncated
// back) and retried at the next flush, so an event is neither lost nor
// written twice; what cannot be written is reported by [File.Close]. An
// incomplete last line (a write cut short by a machine crash, never
// recorded in the head) is removed by the next writer.
//
// # The head file
//
// A chain alone cannot show that its last lines were deleted. Beside the log,
// LOG.head (mode 0600) holds the seq and hash of the last line written,
// updated under the same lock at every flush; [Verify] compares the end of
// the log with it. The head also carries the chain across rotation: when
// logrotate renames the log, the next writer (at once, or the KDC at its next
// flush or SIGHUP, see [File.Reopen]) starts the new file with
// prev = the hash of the old file's last line, and [Verify] given the rotated
// files in order checks the chain across them.
//
// # Limits
//
// The chain and the head are evidence against editing or deleting lines,
// not proof of authorship: nothing in them is secret. Whoever can rewrite the
// log and its head file (root, or the account hop runs as) can forge a
// consistent history from any point on, or drop the last lines and rewrite
// the head to match. Deleting the first lines of a log is indistinguishable
// from a log that continues a rotated file that was not given to [Verify],
// which therefore reports such a start ([VerifyResult.Continued]) instead of
// failing. Events wait in memory for up to FlushInterval: a KDC killed
// with SIGKILL loses them. Flushes reach the page cache and are synced at
// rotation and Close, so a machine crash can lose the last flushes or leave
// the head one flush behind the log, which Verify reports as a note. Copy
// the log (or its hashes) to another machine to protect it against its own
// host.
//
// Lines written by hop versions before the chain (no seq and prev) are read
// as usual and reported by Verify as not chained.
package audit
