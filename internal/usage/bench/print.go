package bench

import (
	"fmt"
	"io"
)

// Print writes the report as the figures `revhub bench ingest` shows.
func Print(w io.Writer, r *Report) {
	fmt.Fprintf(w, "run %s\n", r.Run)
	fmt.Fprintf(w, "distinct events   %d in %s\n", r.Events, r.Elapsed.Round(1e6))
	fmt.Fprintf(w, "throughput        %d events/s (distinct, acknowledged)\n", r.EventsPerSec)
	fmt.Fprintf(w, "sent              %d events in %d requests (%d reported duplicate), %d answered 503/429\n", r.Sent, r.Batches, r.DupsReported, r.Overloaded)
	fmt.Fprintf(w, "batch latency     p50 %s  p99 %s  max %s\n", r.P50.Round(1e5), r.P99.Round(1e5), r.Max.Round(1e5))
	if r.PeakRSS > 0 {
		fmt.Fprintf(w, "API peak RSS      %d MB (%s)\n", r.PeakRSS>>20, r.PeakRSSSource)
	} else {
		fmt.Fprintf(w, "API peak RSS      unknown (pass --api-pid or expose /metrics)\n")
	}
	if p := r.Postgres; p != nil {
		fmt.Fprintf(w, "postgres          shared_buffers %s, max_wal_size %s; checkpoints during the load: %d forced, %d timed\n", p.SharedBuffers, p.MaxWALSize, p.Requested, p.Timed)
		if p.Requested > 0 {
			fmt.Fprintf(w, "                  forced checkpoints mean WAL filled max_wal_size: raise it (docs/performance.md)\n")
		}
	}
	if r.Verified {
		fmt.Fprintf(w, "totals            verified: %d meters x up to %d subjects equal the generator's exactly\n", r.MetersVerified, r.SubjectsPerMtr)
	} else {
		fmt.Fprintf(w, "totals            MISMATCH\n")
		for _, m := range r.Mismatches {
			fmt.Fprintf(w, "  %s\n", m)
		}
	}
}
