// Package bolt is the single-file [directory.Store], on bbolt
// (go.etcd.io/bbolt). It is the default store of a hop domain.
//
// # Sharing the file between processes
//
// The KDC is a long-running process, and hop's administrative commands are
// separate short ones on the same file. bbolt locks the file (an exclusive
// flock while open for writing, a shared one while open read-only), so a
// Store never keeps it open: each View opens it read-only, each Update opens
// it for writing, and both close it when done. An Update is one bbolt
// transaction, synced to disk before it returns, so a crash loses no
// acknowledged write. The file is created with mode 0600 (its folder, when
// created, 0700), and Open refuses a file that group or others may access.
// Within one process, Stores on the same file also share a read-write
// mutex, so that they queue on it instead of in bbolt's 50ms lock polling.
//
// # Noticing changes
//
// Token ([directory.Changes]) stats the file: device, inode, size and
// modification and change times. Those times are coarse (one kernel tick;
// seconds on some file systems), so two commits close together may leave
// the file with the same stat. When the newest of the two times is less
// than two seconds old, Token therefore also reads the generation counter
// that every Update increments inside its transaction. A commit that lands
// more than two seconds after the last one changes the times; one within
// two seconds changes the counter: no committed Update goes unnoticed.
package bolt
