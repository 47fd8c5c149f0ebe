package mappings_test

import (
	"testing"

	"github.com/revhub/revhub/mappings"
)

// BenchmarkNetSuiteJournalsSummarized maps a month of 10,000 ledger entries into daily summaries.
func BenchmarkNetSuiteJournalsSummarized(b *testing.B) {
	entries := nsNovember(b, 5000)
	cfg := nsConfig(b, mappings.NetSuiteSummarized)
	b.ResetTimer()
	for b.Loop() {
		if _, err := mappings.NetSuiteJournals(cfg, entries); err != nil {
			b.Fatal(err)
		}
	}
}
