package dc

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The KDC's live heap is small (a few MiB for a small directory) and
// nearly all it allocates per request is garbage at once. With Go's
// default (GOGC=100: collect when the heap has doubled) it then collects
// many times a second under load, and marking, sweeping and the write
// barriers that are on while it marks cost a tenth of its CPU. tuneGC
// gives the collector at least heapHeadroom of room to grow instead,
// recomputed as the live heap changes, so a large directory keeps the
// default and its memory bound. A GOGC set in the environment wins.
const (
	heapHeadroom  = 64 << 20
	maxGCPercent  = 1000
	gcTuneEvery   = time.Second // the first snapshot of a large directory is built in seconds
	liveHeapStat  = "/gc/heap/live:bytes"
	minGCPercent  = 100
	gcPercentStep = 1.25 // change the setting only when it moves by more
)

// gcPercentFor is the GOGC that gives a live heap of live bytes at least
// heapHeadroom to grow, within [minGCPercent, maxGCPercent].
func gcPercentFor(live uint64) int {
	if live == 0 {
		return maxGCPercent
	}
	return int(min(max(uint64(heapHeadroom)*100/live, minGCPercent), maxGCPercent))
}

// tuneGC sets GOGC from the live heap now and every gcTuneEvery until ctx
// ends, then restores Go's default.
func tuneGC(ctx context.Context, logger *slog.Logger) {
	if os.Getenv("GOGC") != "" {
		return
	}
	sample := []metrics.Sample{{Name: liveHeapStat}}
	current := 100
	set := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return
		}
		want := gcPercentFor(sample[0].Value.Uint64())
		if float64(want) > float64(current)*gcPercentStep || float64(want)*gcPercentStep < float64(current) {
			debug.SetGCPercent(want)
			logger.Debug("GOGC set from the live heap", "gogc", want, "live_heap", sample[0].Value.Uint64())
			current = want
		}
	}
	set()
	go func() {
		t := time.NewTicker(gcTuneEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				debug.SetGCPercent(100)
				return
			case <-t.C:
				set()
			}
		}
	}()
}
