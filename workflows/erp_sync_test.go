package workflows

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/internal/recon"
)

func newERPEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(ERPSync)
	var erp *activities.ERP
	env.RegisterActivity(erp)
	return env
}

func erpResult(t *testing.T, env *testsuite.TestWorkflowEnvironment) ERPSyncState {
	t.Helper()
	return workflowResult[ERPSyncState](t, env)
}

func TestERPSyncPostsInBatchesThenReconcilesEachPeriod(t *testing.T) {
	env := newERPEnv(t)
	var erp *activities.ERP
	in := activities.PostBatchInput{Entity: "us", Limit: 2}
	env.OnActivity(erp.PostBatch, mock.Anything, in).Return(activities.PostBatchOutput{Posted: 2, Journals: 2, Periods: []string{"2026-11"}, Remaining: true}, nil).Once()
	env.OnActivity(erp.PostBatch, mock.Anything, in).Return(activities.PostBatchOutput{Posted: 2, Journals: 2, Periods: []string{"2026-10", "2026-11"}, Remaining: true}, nil).Once()
	env.OnActivity(erp.PostBatch, mock.Anything, in).Return(activities.PostBatchOutput{Posted: 1, Journals: 1, Periods: []string{"2026-10"}}, nil).Once()
	var order []string
	for _, p := range []string{"2026-09", "2026-10", "2026-11"} {
		status := recon.StatusGreen
		if p == "2026-10" {
			status = recon.StatusBlocked
		}
		env.OnActivity(erp.Reconcile, mock.Anything, activities.ReconcileInput{Entity: "us", Period: p}).
			Run(func(args mock.Arguments) { order = append(order, args.Get(1).(activities.ReconcileInput).Period) }).
			Return(activities.ReconcileOutput{Run: "erp-sync/us/" + p, Attempt: 1, Status: status}, nil).Once()
	}
	env.ExecuteWorkflow(ERPSync, ERPSyncInput{Entity: "us", BatchSize: 2, Reconcile: []string{"2026-09"}})
	st := erpResult(t, env)
	env.AssertExpectations(t)
	if st.Batches != 3 || st.Posted != 5 || st.Journals != 5 || st.Step != ERPStepDone || strings.Join(order, ",") != "2026-09,2026-10,2026-11" {
		t.Fatalf("state %+v, reconciled in order %v", st, order)
	}
	if !st.Blocked() || st.Reconciled[1].Status != recon.StatusBlocked {
		t.Fatalf("the blocked period must show: %+v", st.Reconciled)
	}
}

func TestERPSyncNothingToPostReconcilesOnlyAskedPeriods(t *testing.T) {
	env := newERPEnv(t)
	var erp *activities.ERP
	env.OnActivity(erp.PostBatch, mock.Anything, activities.PostBatchInput{Entity: "us", FromPeriod: "2026-11", ToPeriod: "2026-11"}).
		Return(activities.PostBatchOutput{Periods: []string{}}, nil).Once()
	env.OnActivity(erp.Reconcile, mock.Anything, activities.ReconcileInput{Entity: "us", Period: "2026-11", Run: "close/us/2026-11", Step: "erp"}).
		Return(activities.ReconcileOutput{Run: "close/us/2026-11", Attempt: 1, Status: recon.StatusGreen}, nil).Once()
	env.ExecuteWorkflow(ERPSync, ERPSyncInput{Entity: "us", FromPeriod: "2026-11", ToPeriod: "2026-11", Reconcile: []string{"2026-11"},
		ReconRun: "close/us/2026-11", ReconStep: "erp"})
	st := erpResult(t, env)
	env.AssertExpectations(t)
	if len(st.Reconciled) != 1 || st.Reconciled[0].Run != "close/us/2026-11" || st.Blocked() {
		t.Fatalf("state %+v", st)
	}
}

func TestERPSyncStatusQueryDuringPosting(t *testing.T) {
	env := newERPEnv(t)
	var erp *activities.ERP
	var seen ERPSyncState
	env.OnActivity(erp.PostBatch, mock.Anything, mock.Anything).Return(activities.PostBatchOutput{Posted: 3, Periods: []string{"2026-11"}, Remaining: true}, nil).Once()
	env.OnActivity(erp.PostBatch, mock.Anything, mock.Anything).Run(func(mock.Arguments) {
		v, err := env.QueryWorkflow(QueryStatus)
		if err == nil {
			err = v.Get(&seen)
		}
		if err != nil {
			t.Errorf("query: %v", err)
		}
	}).Return(activities.PostBatchOutput{Periods: []string{}}, nil).Once()
	env.OnActivity(erp.Reconcile, mock.Anything, mock.Anything).Return(activities.ReconcileOutput{Status: recon.StatusGreen}, nil).Once()
	env.ExecuteWorkflow(ERPSync, ERPSyncInput{Entity: "us"})
	erpResult(t, env)
	if seen.Step != ERPStepPosting || seen.Posted != 3 || seen.Batches != 1 {
		t.Fatalf("status during the second batch: %+v", seen)
	}
}

func TestERPSyncContinuesAsNewOnLongRuns(t *testing.T) {
	env := newERPEnv(t)
	var erp *activities.ERP
	env.OnActivity(erp.PostBatch, mock.Anything, mock.Anything).Return(activities.PostBatchOutput{Posted: 1, Periods: []string{"2026-11"}, Remaining: true}, nil).Times(erpBatchesPerRun)
	env.ExecuteWorkflow(ERPSync, ERPSyncInput{Entity: "us"})
	env.AssertExpectations(t)
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("want continue-as-new after %d batches, got %v", erpBatchesPerRun, err)
	}
	var next ERPSyncInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.Entity != "us" || next.Progress == nil || next.Progress.Posted != erpBatchesPerRun || next.Progress.Periods[0] != "2026-11" {
		t.Fatalf("carried input: %+v progress %+v", next, next.Progress)
	}
}

func TestERPSyncResumesReconciliationFromProgress(t *testing.T) {
	env := newERPEnv(t)
	var erp *activities.ERP
	env.OnActivity(erp.Reconcile, mock.Anything, activities.ReconcileInput{Entity: "us", Period: "2026-11"}).
		Return(activities.ReconcileOutput{Status: recon.StatusGreen}, nil).Once()
	env.ExecuteWorkflow(ERPSync, ERPSyncInput{Entity: "us", Progress: &ERPSyncState{Step: ERPStepReconciling, Posted: 9,
		Periods: []string{"2026-10", "2026-11"}, Reconciled: []ERPPeriodResult{{Period: "2026-10", Status: recon.StatusGreen}}}})
	st := erpResult(t, env)
	env.AssertExpectations(t)
	if st.Runs != 1 || len(st.Reconciled) != 2 || st.Posted != 9 {
		t.Fatalf("state %+v", st)
	}
}

func TestERPSyncFailures(t *testing.T) {
	env := newERPEnv(t)
	env.ExecuteWorkflow(ERPSync, ERPSyncInput{FromPeriod: "2026-13", Reconcile: []string{"nov"}, BatchSize: -1})
	err := env.GetWorkflowError()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != ErrInvalidInput {
		t.Fatalf("want InvalidInput, got %v", err)
	}
	for _, f := range []string{"entity", "from_period", "reconcile[0]", "batch_size"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%v does not name %s", err, f)
		}
	}

	// A permanent activity error (an unmappable entry) fails the sync at once, naming the entry.
	env = newERPEnv(t)
	var erp *activities.ERP
	env.OnActivity(erp.PostBatch, mock.Anything, mock.Anything).
		Return(activities.PostBatchOutput{}, temporal.NewNonRetryableApplicationError("ledger entry invoice:x:finalized: entity \"apac\" has no subsidiary", activities.ErrUnmappableEntry, nil)).Once()
	env.ExecuteWorkflow(ERPSync, ERPSyncInput{Entity: "apac"})
	env.AssertExpectations(t)
	err = env.GetWorkflowError()
	if !errors.As(err, &ae) || ae.Type() != activities.ErrUnmappableEntry || !strings.Contains(err.Error(), "invoice:x:finalized") {
		t.Fatalf("want UnmappableEntry, got %v", err)
	}
}

// closeParent stands in for the month-end close: it runs ERPSync as a child for its period.
func closeParent(ctx workflow.Context, entity, period string) (ERPSyncState, error) {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: ERPCloseSyncID(entity, period)})
	var st ERPSyncState
	err := workflow.ExecuteChildWorkflow(cctx, ERPSync, ERPCloseInput(entity, period, "close/"+entity+"/"+period, "erp")).Get(ctx, &st)
	return st, err
}

func TestERPSyncAsChildOfTheClose(t *testing.T) {
	env := newERPEnv(t)
	env.RegisterWorkflow(closeParent)
	var erp *activities.ERP
	env.OnActivity(erp.PostBatch, mock.Anything, activities.PostBatchInput{Entity: "us", ToPeriod: "2026-11"}).
		Return(activities.PostBatchOutput{Posted: 4, Journals: 4, Periods: []string{"2026-10"}}, nil).Once()
	// October was touched (a late posting): it is reconciled under its own sync run, not the close's.
	env.OnActivity(erp.Reconcile, mock.Anything, activities.ReconcileInput{Entity: "us", Period: "2026-10"}).
		Return(activities.ReconcileOutput{Run: "erp-sync/us/2026-10", Attempt: 1, Status: recon.StatusGreen}, nil).Once()
	env.OnActivity(erp.Reconcile, mock.Anything, activities.ReconcileInput{Entity: "us", Period: "2026-11", Run: "close/us/2026-11", Step: "erp"}).
		Return(activities.ReconcileOutput{Run: "close/us/2026-11", Attempt: 1, Status: recon.StatusGreen}, nil).Once()
	env.ExecuteWorkflow(closeParent, "us", "2026-11")
	st := erpResult(t, env)
	env.AssertExpectations(t)
	if st.Posted != 4 || len(st.Reconciled) != 2 || st.Blocked() {
		t.Fatalf("state %+v", st)
	}
}

func TestERPSyncReconcilesRecentMonthsWhenAsked(t *testing.T) {
	env := newERPEnv(t)
	env.SetStartTime(time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC))
	var erp *activities.ERP
	env.OnActivity(erp.PostBatch, mock.Anything, mock.Anything).Return(activities.PostBatchOutput{Periods: []string{}}, nil).Once()
	for _, p := range []string{"2026-11", "2026-12"} {
		env.OnActivity(erp.Reconcile, mock.Anything, activities.ReconcileInput{Entity: "us", Period: p}).
			Return(activities.ReconcileOutput{Status: recon.StatusGreen}, nil).Once()
	}
	env.ExecuteWorkflow(ERPSync, ERPSyncInput{Entity: "us", ReconcileRecent: true})
	st := erpResult(t, env)
	env.AssertExpectations(t)
	if strings.Join(st.Periods, ",") != "2026-11,2026-12" {
		t.Fatalf("periods %v", st.Periods)
	}
}
