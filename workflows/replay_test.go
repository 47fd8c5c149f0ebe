package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
)

// TestReplayRecordedHistories replays histories recorded from real runs on a Temporal dev server
// (a billing cycle whose worker was SIGKILLed mid-charge, and its collection) against today's
// workflow code: a non-deterministic change fails here. The newest are named
// *.start-attributes.history.json (version 2 of the local-steps gate); *.local-steps.history.json
// replays version 1, and the unsuffixed ones were recorded before that gate and replay on the
// original sequence. Re-record with REVHUB_UPDATE_HISTORIES=1 go test -run TestBillingCycleExactlyOnce ./cmd/revhub/.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.history.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded histories in testdata: %v", err)
	}
	rep := worker.NewWorkflowReplayer()
	rep.RegisterWorkflow(BillingCycle)
	rep.RegisterWorkflow(Collect)
	for _, f := range files {
		if err := rep.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
			t.Errorf("replay %s: %v", f, err)
		}
	}
}
