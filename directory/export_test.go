package directory

// Hooks for the tests of package directory_test.

// SetOverlayLimit sets the overlay size that starts a compaction, until
// the returned function restores it.
func SetOverlayLimit(n int) (restore func()) {
	old := overlayLimit
	overlayLimit = n
	return func() { overlayLimit = old }
}

// WaitCompactions waits for the compactions under way.
func (d *Directory) WaitCompactions() { d.compactions.Wait() }

// SnapshotBuilds counts the snapshots read whole and those made by
// following changes.
func (d *Directory) SnapshotBuilds() (full, followed int64) {
	return d.fullBuilds.Load(), d.follows.Load()
}

// Compactions counts the compactions that moved the snapshot onto new
// bases.
func (d *Directory) Compactions() int64 { return d.compacted.Load() }
