package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/revhub/revhub/activities"
)

const (
	oppA = "0065g00000aaaaaAAA"
	oppB = "0065g00000bbbbbAAA"
	oppC = "0065g00000cccccAAA"
)

func newIntakeEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(SalesforceIntake)
	var in *activities.Intake
	env.RegisterActivity(in)
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env
}

// continued returns the input the workflow continued as new with.
func continued(t *testing.T, env *testsuite.TestWorkflowEnvironment) IntakeInput {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow error %v, want continue-as-new", err)
	}
	var next IntakeInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	return next
}

// TestIntakePollsIngestsWritesBackAndReconciles: the first poll ingests a good and a broken deal, writes the
// contract back and reconciles; the next poll overlaps, sees the same deals and ingests nothing again.
func TestIntakePollsIngestsWritesBackAndReconciles(t *testing.T) {
	env := newIntakeEnv(t)
	var in *activities.Intake
	t1 := time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Second)
	refs := []activities.DealRef{{OpportunityID: oppA, SystemModstamp: t1}, {OpportunityID: oppB, SystemModstamp: t2}}
	env.OnActivity(in.PollDeals, mock.Anything, activities.PollDealsInput{}).
		Return(activities.PollDealsOutput{Deals: refs, NextWatermark: t2}, nil).Once()
	env.OnActivity(in.PollDeals, mock.Anything, activities.PollDealsInput{Since: t2.Add(-DefaultPollOverlap)}).
		Return(activities.PollDealsOutput{Deals: refs, NextWatermark: t2}, nil).Once()
	env.OnActivity(in.IngestDeal, mock.Anything, activities.IngestDealInput{OpportunityID: oppA}).
		Return(activities.IngestDealOutput{Outcome: activities.IngestCreated, ContractID: "ctr_sf_" + oppA, Version: 1, SystemModstamp: t1}, nil).Once()
	env.OnActivity(in.IngestDeal, mock.Anything, activities.IngestDealInput{OpportunityID: oppB}).
		Return(activities.IngestDealOutput{}, temporal.NewNonRetryableApplicationError("unmappable deal: Opportunity B", activities.ErrUnmappableDeal, nil)).Once()
	env.OnActivity(in.WriteBack, mock.Anything, activities.DealWriteBackInput{ContractID: "ctr_sf_" + oppA}).
		Return(activities.DealWriteBackOutput{OpportunityID: oppA, Status: "Active", Written: true}, nil).Once()
	env.OnActivity(in.ReconcileCRM, mock.Anything, mock.MatchedBy(func(r activities.CRMReconcileInput) bool { return r.Since.IsZero() && r.Day != "" })).
		Return(activities.CRMReconcileOutput{Run: "intake/salesforce/x", Attempt: 1, Status: "blocked", Differences: 1}, nil).Once()

	env.ExecuteWorkflow(SalesforceIntake, IntakeInput{MaxRounds: 2})
	next := continued(t, env)
	st := next.Status
	if !next.Watermark.Equal(t2) || st.Polls != 2 || st.Ingested != 1 || st.Rejected != 1 || st.WriteBacks != 1 || st.Runs != 1 {
		t.Fatalf("carried state: watermark %s, status %+v", next.Watermark, st)
	}
	if st.LastReconciliation == nil || st.LastReconciliation.Differences != 1 || st.LastError != "" {
		t.Fatalf("reconciliation %+v, last error %q", st.LastReconciliation, st.LastError)
	}
	if len(next.Seen) != 2 || next.Seen[0].OpportunityID != oppA || next.Seen[1].OpportunityID != oppB {
		t.Fatalf("seen = %+v", next.Seen)
	}
}

// TestIntakeSignalIngestsAtOnce: a deal-changed signal is ingested long before the next poll is due.
func TestIntakeSignalIngestsAtOnce(t *testing.T) {
	env := newIntakeEnv(t)
	var in *activities.Intake
	start := env.Now()
	var ingestedAt time.Time
	env.OnActivity(in.PollDeals, mock.Anything, mock.Anything).Return(activities.PollDealsOutput{NextWatermark: time.Time{}}, nil).Once()
	env.OnActivity(in.ReconcileCRM, mock.Anything, mock.Anything).Return(activities.CRMReconcileOutput{Status: "green"}, nil).Twice()
	env.OnActivity(in.IngestDeal, mock.Anything, activities.IngestDealInput{OpportunityID: oppC}).
		Run(func(mock.Arguments) { ingestedAt = env.Now() }).
		Return(activities.IngestDealOutput{Outcome: activities.IngestCreated, ContractID: "ctr_sf_" + oppC, Version: 1, SystemModstamp: start}, nil).Once()
	env.OnActivity(in.WriteBack, mock.Anything, activities.DealWriteBackInput{ContractID: "ctr_sf_" + oppC}).
		Return(activities.DealWriteBackOutput{Written: true}, nil).Once()
	var mid IntakeStatus
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryStatus)
		if err != nil {
			t.Errorf("query: %v", err)
			return
		}
		if err := v.Get(&mid); err != nil {
			t.Error(err)
		}
		env.SignalWorkflow(SignalDealChanged, oppC)
		env.SignalWorkflow(SignalDealChanged, oppC) // a redelivered notification: ingested once
	}, 30*time.Second)
	env.ExecuteWorkflow(SalesforceIntake, IntakeInput{PollInterval: time.Hour, MaxRounds: 2})
	next := continued(t, env)
	if mid.Polls != 1 || mid.Ingested != 0 {
		t.Fatalf("status before the signal = %+v", mid)
	}
	if ingestedAt.Sub(start) > time.Minute {
		t.Fatalf("ingested %s after start, want at once after the 30s signal", ingestedAt.Sub(start))
	}
	if next.Status.Signals != 2 || next.Status.Ingested != 1 || next.Status.WriteBacks != 1 || next.Status.Polls != 1 {
		t.Fatalf("status = %+v", next.Status)
	}
}

// TestIntakeFailedIngestHoldsTheWatermark: a deal whose ingest keeps failing is not passed by the watermark,
// so the next poll reads it again; the error shows in the status.
func TestIntakeFailedIngestHoldsTheWatermark(t *testing.T) {
	env := newIntakeEnv(t)
	var in *activities.Intake
	t1 := time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Minute)
	env.OnActivity(in.PollDeals, mock.Anything, mock.Anything).
		Return(activities.PollDealsOutput{Deals: []activities.DealRef{{OpportunityID: oppA, SystemModstamp: t1}, {OpportunityID: oppB, SystemModstamp: t2}}, NextWatermark: t2}, nil).Once()
	env.OnActivity(in.IngestDeal, mock.Anything, activities.IngestDealInput{OpportunityID: oppA}).Return(activities.IngestDealOutput{}, errors.New("salesforce: 503"))
	env.OnActivity(in.IngestDeal, mock.Anything, activities.IngestDealInput{OpportunityID: oppB}).
		Return(activities.IngestDealOutput{Outcome: activities.IngestUnchanged, ContractID: "ctr_sf_" + oppB, Version: 1, SystemModstamp: t2}, nil).Once()
	env.OnActivity(in.WriteBack, mock.Anything, mock.Anything).Return(activities.DealWriteBackOutput{}, nil).Once()
	env.OnActivity(in.ReconcileCRM, mock.Anything, mock.Anything).Return(activities.CRMReconcileOutput{Status: "green"}, nil).Once()
	env.ExecuteWorkflow(SalesforceIntake, IntakeInput{MaxRounds: 1})
	next := continued(t, env)
	if !next.Watermark.Before(t1) || next.Watermark.Before(t1.Add(-time.Millisecond)) {
		t.Fatalf("watermark %s, want just before the failed deal's %s", next.Watermark, t1)
	}
	if !strings.Contains(next.Status.LastError, "ingest "+oppA) || next.Status.Unchanged != 1 {
		t.Fatalf("status = %+v", next.Status)
	}
}

// TestIntakeRetriesAFailedSignalledDeal: a signalled deal whose ingest fails (Salesforce down past the activity's
// budget) is tried again after the next wait, not dropped.
func TestIntakeRetriesAFailedSignalledDeal(t *testing.T) {
	env := newIntakeEnv(t)
	var in *activities.Intake
	start := env.Now()
	env.OnActivity(in.PollDeals, mock.Anything, mock.Anything).Return(activities.PollDealsOutput{}, nil)
	env.OnActivity(in.ReconcileCRM, mock.Anything, mock.Anything).Return(activities.CRMReconcileOutput{Status: "green"}, nil)
	executions := 0
	env.OnActivity(in.IngestDeal, mock.Anything, activities.IngestDealInput{OpportunityID: oppC}).Return(
		func(ctx context.Context, _ activities.IngestDealInput) (activities.IngestDealOutput, error) {
			if activity.GetInfo(ctx).Attempt == 1 {
				executions++
			}
			if executions == 1 { // every attempt of the first execution fails
				return activities.IngestDealOutput{}, errors.New("salesforce: 503 Service Unavailable")
			}
			return activities.IngestDealOutput{Outcome: activities.IngestCreated, ContractID: "ctr_sf_" + oppC, Version: 1, SystemModstamp: start}, nil
		})
	env.OnActivity(in.WriteBack, mock.Anything, mock.Anything).Return(activities.DealWriteBackOutput{Written: true}, nil).Once()
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalDealChanged, oppC) }, 10*time.Second)
	env.ExecuteWorkflow(SalesforceIntake, IntakeInput{PollInterval: time.Minute, MaxRounds: 3})
	next := continued(t, env)
	if next.Status.Ingested != 1 || executions != 2 || len(next.Pending) != 0 {
		t.Fatalf("status %+v after %d executions, pending %v", next.Status, executions, next.Pending)
	}
}
