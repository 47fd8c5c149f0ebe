package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

const closeRunID = "close/acme-us/2026-10"

var (
	cycleA = activities.DueCycle{ContractID: "ctr_a", Customer: "cus_a", Provider: "stripe", PeriodStart: "2026-10-01", PeriodEnd: "2026-11-01"}
	cycleB = activities.DueCycle{ContractID: "ctr_b", Customer: "cus_b", Provider: "bank", PeriodStart: "2026-08-01", PeriodEnd: "2026-11-01"}
	cycleC = activities.DueCycle{ContractID: "ctr_c", Customer: "cus_c", Provider: "stripe", PeriodStart: "2026-10-01", PeriodEnd: "2026-11-01"}
)

// newCloseTestEnv registers the close, its children and activities, with the due cycles paged one per page.
func newCloseTestEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	return newCloseTestEnvAfter(t, 0)
}

// newCloseTestEnvAfter is newCloseTestEnv for a close started again after one that recorded prior decisions.
func newCloseTestEnvAfter(t *testing.T, prior int) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	env.RegisterWorkflow(MonthEndClose)
	env.RegisterWorkflow(BillingCycle)
	env.RegisterWorkflow(RecognizeRevenue)
	env.RegisterWorkflow(ERPSync)
	var cl *activities.Close
	var in *activities.Intake
	env.RegisterActivity(cl)
	env.RegisterActivity(in)
	pages := map[string]activities.DueOutput{
		"":      {Cycles: []activities.DueCycle{cycleA}, Next: "ctr_a"},
		"ctr_a": {Cycles: []activities.DueCycle{cycleB}, Next: "ctr_b"},
		"ctr_b": {Cycles: []activities.DueCycle{cycleC}},
	}
	env.OnActivity(cl.DueCycles, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DueInput) (activities.DueOutput, error) {
		if in.Entity != "acme-us" || in.Period != "2026-10" {
			return activities.DueOutput{}, errors.New("unexpected entity or period")
		}
		return pages[in.After], nil
	}).Maybe()
	env.OnActivity(cl.LatestAttempts, mock.Anything, activities.RunRef{Run: closeRunID}).Return(map[string]int{}, nil).Maybe()
	env.OnActivity(cl.PriorDecisions, mock.Anything, activities.RunRef{Run: closeRunID}).Return(prior, nil).Maybe()
	env.OnActivity(in.ReconcileCRM, mock.Anything, activities.CRMReconcileInput{Day: "2026-11-01", Entity: "acme-us"}).
		Return(activities.CRMReconcileOutput{Run: "intake/salesforce/2026-11-01", Attempt: 1, Status: "green"}, nil).Maybe()
	env.OnWorkflow(RecognizeRevenue, mock.Anything, RecognizeRevenueInput{Entity: "acme-us", Month: "2026-10"}).
		Return(activities.RecognizeOutput{}, nil).Maybe()
	env.OnActivity(cl.CloseLedgerPeriod, mock.Anything, activities.ClosePeriodInput{Entity: "acme-us", Period: "2026-10", By: closeRunID}).Return(nil).Maybe()
	env.OnWorkflow(ERPSync, mock.Anything, ERPCloseInput("acme-us", "2026-10", closeRunID, CloseStepERP)).
		Return(ERPSyncState{Reconciled: []ERPPeriodResult{{Period: "2026-10", Run: closeRunID, Attempt: 1, Status: recon.StatusGreen}}}, nil).Maybe()
	return env
}

// greenCheck answers RunCheck for check with green results (any attempt).
func greenCheck(env *testsuite.TestWorkflowEnvironment, check string) {
	var cl *activities.Close
	env.OnActivity(cl.RunCheck, mock.Anything, mock.MatchedBy(func(in activities.CheckInput) bool { return in.Check == check })).
		Return(func(_ context.Context, in activities.CheckInput) (activities.CheckOutput, error) {
			return activities.CheckOutput{Run: in.Run, Check: in.Check, Attempt: in.Attempt, Status: recon.StatusGreen}, nil
		})
}

func billingOK(env *testsuite.TestWorkflowEnvironment) *[]string {
	var billed []string
	env.OnWorkflow(BillingCycle, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in BillingCycleInput) (BillingCycleState, error) {
		billed = append(billed, in.ContractID+"@"+in.PeriodStart)
		return BillingCycleState{InvoiceID: "inv_" + in.ContractID}, nil
	})
	return &billed
}

func closeResult(t *testing.T, env *testsuite.TestWorkflowEnvironment) CloseState {
	t.Helper()
	return workflowResult[CloseState](t, env)
}

func queryClose(t *testing.T, env *testsuite.TestWorkflowEnvironment) CloseState {
	t.Helper()
	v, err := env.QueryWorkflow(QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	var st CloseState
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func stepOf(st CloseState, name string) CloseStepState {
	for _, s := range st.Steps {
		if s.Name == name {
			return s
		}
	}
	return CloseStepState{}
}

func TestMonthEndCloseGreen(t *testing.T) {
	env := newCloseTestEnv(t)
	billed := billingOK(env)
	for _, c := range []string{recon.CheckInvoicesVsLedger, recon.CheckUsageVsRated, recon.CheckPaymentsVsProvider, recon.CheckBillingsVsDeferredRevenue} {
		greenCheck(env, c)
	}
	env.ExecuteWorkflow(MonthEndClose, CloseInput{Entity: "acme-us", Period: "2026-10", FanOut: 2})
	st := closeResult(t, env)
	env.AssertExpectations(t)
	if !st.Done || st.Recon != CloseReconGreen || st.Run != closeRunID {
		t.Fatalf("state: %+v", st)
	}
	for _, s := range st.Steps {
		if s.State != StepDone {
			t.Fatalf("step %s is %s: %s", s.Name, s.State, s.Detail)
		}
	}
	b := stepOf(st, CloseStepBilling)
	if b.Total != 3 || b.Done != 3 || b.Failed != 0 {
		t.Fatalf("billing counts: %+v", b)
	}
	slices.Sort(*billed)
	if strings.Join(*billed, ",") != "ctr_a@2026-10-01,ctr_b@2026-08-01,ctr_c@2026-10-01" {
		t.Fatalf("billed %v", *billed)
	}
	if strings.Join(st.Providers, ",") != "bank,stripe" {
		t.Fatalf("providers %v", st.Providers)
	}
	if got := st.Summary()[2]; got != "billing: done (3/3 billed, 0 failed, 0 skipped) [invoices_vs_ledger #1 green, 0 differences] [usage_vs_rated #1 green, 0 differences]" {
		t.Fatalf("summary line %q", got)
	}
	// The usage cut-off waited for the grace window after the period end.
	if d := stepOf(st, CloseStepUsageCutoff).Detail; d != "usage cut off at 2026-11-01T02:00:00Z" {
		t.Fatalf("cutoff detail %q", d)
	}
}

func TestMonthEndCloseWaitsOnDifferenceUntilApproved(t *testing.T) {
	env := newCloseTestEnv(t)
	billingOK(env)
	greenCheck(env, recon.CheckUsageVsRated)
	greenCheck(env, recon.CheckPaymentsVsProvider)
	greenCheck(env, recon.CheckBillingsVsDeferredRevenue)
	var cl *activities.Close
	env.OnActivity(cl.RunCheck, mock.Anything, mock.MatchedBy(func(in activities.CheckInput) bool { return in.Check == recon.CheckInvoicesVsLedger })).
		Return(activities.CheckOutput{Run: closeRunID, Check: recon.CheckInvoicesVsLedger, Attempt: 1, Status: recon.StatusBlocked, Differences: 1,
			Exceptions: []string{"inv_9: on invoices (120 USD) but not on ledger:accounts_receivable"}}, nil).Once()
	approval := activities.ApproveInput{Run: closeRunID, Check: recon.CheckInvoicesVsLedger, DifferenceKey: "inv_9", Actor: "user:cfo@acme.test", Reason: "booked manually"}
	env.OnActivity(cl.Approve, mock.Anything, approval).Return(activities.ApproveOutput{DecisionID: 7, Attempt: 1, Status: recon.StatusApproved}, nil).Once()

	var blocked CloseState
	env.RegisterDelayedCallback(func() {
		blocked = queryClose(t, env)
		// An approval of a check that is not blocked is recorded as rejected and changes nothing.
		env.SignalWorkflow(SignalCloseApprove, CloseSignal{Actor: "user:cfo@acme.test", Reason: "x", Check: recon.CheckLedgerVsERP})
		env.SignalWorkflow(SignalCloseApprove, CloseSignal{Actor: "user:cfo@acme.test", Reason: "booked manually", Check: recon.CheckInvoicesVsLedger, DifferenceKey: "inv_9"})
	}, 24*time.Hour)
	env.ExecuteWorkflow(MonthEndClose, CloseInput{Entity: "acme-us", Period: "2026-10"})
	st := closeResult(t, env)
	env.AssertExpectations(t)

	if blocked.Step != CloseStepBilling || blocked.Recon != CloseReconBlocked || stepOf(blocked, CloseStepBilling).State != StepBlocked {
		t.Fatalf("while blocked: step %s recon %s billing %+v", blocked.Step, blocked.Recon, stepOf(blocked, CloseStepBilling))
	}
	if stepOf(blocked, CloseStepCollection).State != StepPending {
		t.Fatal("the close moved on past a blocked check")
	}
	if !st.Done || st.Recon != CloseReconApproved {
		t.Fatalf("after approval: %+v", st)
	}
	if len(st.Decisions) != 2 || !strings.HasPrefix(st.Decisions[0].Outcome, "rejected: check \"ledger_vs_erp\" is not blocked") ||
		st.Decisions[1].Outcome != "approved invoices_vs_ledger attempt 1 (decision 7)" || st.Decisions[1].Signal.Actor != "user:cfo@acme.test" {
		t.Fatalf("decisions: %+v", st.Decisions)
	}
}

func TestMonthEndCloseRetryStepRunsTheNextAttempt(t *testing.T) {
	env := newCloseTestEnv(t)
	billingOK(env)
	greenCheck(env, recon.CheckInvoicesVsLedger)
	greenCheck(env, recon.CheckUsageVsRated)
	greenCheck(env, recon.CheckBillingsVsDeferredRevenue)
	var cl *activities.Close
	var attempts []int
	env.OnActivity(cl.RunCheck, mock.Anything, mock.MatchedBy(func(in activities.CheckInput) bool { return in.Check == recon.CheckPaymentsVsProvider })).
		Return(func(_ context.Context, in activities.CheckInput) (activities.CheckOutput, error) {
			attempts = append(attempts, in.Attempt)
			if strings.Join(in.Providers, ",") != "bank,stripe" {
				return activities.CheckOutput{}, temporal.NewNonRetryableApplicationError("providers "+strings.Join(in.Providers, ","), "Test", nil)
			}
			status := recon.StatusBlocked
			if in.Attempt == 2 {
				status = recon.StatusGreen
			}
			return activities.CheckOutput{Run: in.Run, Check: in.Check, Attempt: in.Attempt, Status: status}, nil
		})
	env.OnActivity(cl.RecordDecision, mock.Anything, activities.DecisionInput{Key: closeRunID + ":decision:2", Run: closeRunID,
		Action: activities.ActionCloseRetryStep, Actor: "user:ops@acme.test", Reason: "Stripe payout report was late", Details: map[string]string{"step": CloseStepCollection}}).
		Return(activities.DecisionOutput{AuditID: 1}, nil).Once()
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalCloseRetryStep, CloseSignal{Actor: "user:ops@acme.test"}) // no reason: rejected
		env.SignalWorkflow(SignalCloseRetryStep, CloseSignal{Actor: "user:ops@acme.test", Reason: "Stripe payout report was late", Step: CloseStepCollection})
	}, time.Hour*3)
	env.ExecuteWorkflow(MonthEndClose, CloseInput{Entity: "acme-us", Period: "2026-10"})
	st := closeResult(t, env)
	env.AssertExpectations(t)
	if !slices.Equal(attempts, []int{1, 2}) {
		t.Fatalf("attempts %v", attempts)
	}
	if st.Recon != CloseReconGreen || !strings.HasPrefix(st.Decisions[0].Outcome, "rejected: reason: required") || st.Decisions[1].Outcome != "retrying collection" {
		t.Fatalf("state: recon %s decisions %+v", st.Recon, st.Decisions)
	}
	c := stepOf(st, CloseStepCollection).Checks[0]
	if c.Attempt != 2 || c.Status != "green" {
		t.Fatalf("check %+v", c)
	}
}

// A close started again after a finished one numbers its decisions after the recorded ones:
// the key of its first decision is new, not the finished run's first (an IdempotencyConflict).
func TestMonthEndCloseSkipsAFailedCustomer(t *testing.T) {
	for _, prior := range []int{0, 4} {
		t.Run(fmt.Sprintf("after %d decisions", prior), func(t *testing.T) { testCloseSkipsAFailedCustomer(t, prior) })
	}
}

func testCloseSkipsAFailedCustomer(t *testing.T, prior int) {
	env := newCloseTestEnvAfter(t, prior)
	greenCheck(env, recon.CheckUsageVsRated)
	greenCheck(env, recon.CheckPaymentsVsProvider)
	greenCheck(env, recon.CheckBillingsVsDeferredRevenue)
	env.OnWorkflow(BillingCycle, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in BillingCycleInput) (BillingCycleState, error) {
		if in.ContractID == "ctr_b" {
			return BillingCycleState{}, temporal.NewNonRetryableApplicationError("components[0]: unknown meter", ErrInvalidContract, nil)
		}
		return BillingCycleState{}, nil
	})
	var cl *activities.Close
	var skipped [][]string
	env.OnActivity(cl.RunCheck, mock.Anything, mock.MatchedBy(func(in activities.CheckInput) bool { return in.Check == recon.CheckInvoicesVsLedger })).
		Return(func(_ context.Context, in activities.CheckInput) (activities.CheckOutput, error) {
			skipped = append(skipped, in.SkipCustomers)
			return activities.CheckOutput{Run: in.Run, Check: in.Check, Attempt: in.Attempt, Status: recon.StatusGreen}, nil
		})
	env.OnActivity(cl.RecordDecision, mock.Anything, activities.DecisionInput{Key: fmt.Sprintf("%s:decision:%d", closeRunID, prior+1), Run: closeRunID,
		Action: activities.ActionCloseSkipCustomer, Actor: "user:ops@acme.test", Reason: "contract under renegotiation", Details: map[string]string{"customer": "cus_b", "step": CloseStepBilling}}).
		Return(activities.DecisionOutput{AuditID: 3}, nil).Once()
	var blocked CloseState
	env.RegisterDelayedCallback(func() {
		blocked = queryClose(t, env)
		env.SignalWorkflow(SignalCloseSkipCustomer, CloseSignal{Actor: "user:ops@acme.test", Reason: "contract under renegotiation", Customer: "cus_b"})
	}, 24*time.Hour)
	env.ExecuteWorkflow(MonthEndClose, CloseInput{Entity: "acme-us", Period: "2026-10"})
	st := closeResult(t, env)
	env.AssertExpectations(t)
	bb := stepOf(blocked, CloseStepBilling)
	if bb.State != StepBlocked || bb.Failed != 1 || bb.Done != 2 || !strings.Contains(bb.Detail, "cus_b ctr_b") || blocked.Recon != CloseReconBlocked {
		t.Fatalf("blocked billing: %+v recon %s", bb, blocked.Recon)
	}
	b := stepOf(st, CloseStepBilling)
	if b.State != StepDone || b.Failed != 0 || b.Skipped != 1 || b.Done != 2 {
		t.Fatalf("billing after skip: %+v", b)
	}
	if len(skipped) != 1 || !slices.Equal(skipped[0], []string{"cus_b"}) || !slices.Equal(st.Skipped, []string{"cus_b"}) {
		t.Fatalf("skip not passed to the check: %v / %v", skipped, st.Skipped)
	}
	if len(st.Decisions) != 1 || st.Decisions[0].Seq != prior+1 || st.PriorDecisions != prior {
		t.Fatalf("decisions after %d prior: %+v (prior %d)", prior, st.Decisions, st.PriorDecisions)
	}
}

func TestMonthEndCloseRerunCustomerBillsAgain(t *testing.T) {
	env := newCloseTestEnv(t)
	greenCheck(env, recon.CheckUsageVsRated)
	greenCheck(env, recon.CheckPaymentsVsProvider)
	greenCheck(env, recon.CheckBillingsVsDeferredRevenue)
	calls := map[string]int{}
	env.OnWorkflow(BillingCycle, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in BillingCycleInput) (BillingCycleState, error) {
		calls[in.ContractID]++
		if in.ContractID == "ctr_c" && calls["ctr_c"] == 1 {
			return BillingCycleState{}, errors.New("NetSuite customer missing")
		}
		return BillingCycleState{}, nil
	})
	greenCheck(env, recon.CheckInvoicesVsLedger)
	var cl *activities.Close
	env.OnActivity(cl.RecordDecision, mock.Anything, mock.MatchedBy(func(in activities.DecisionInput) bool {
		return in.Action == activities.ActionCloseRerunCustomer && in.Details["customer"] == "cus_c"
	})).Return(activities.DecisionOutput{AuditID: 4}, nil).Once()
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalCloseRerunCustomer, CloseSignal{Actor: "user:ops@acme.test", Reason: "customer fixed in CRM", Customer: "cus_c"})
	}, 24*time.Hour)
	env.ExecuteWorkflow(MonthEndClose, CloseInput{Entity: "acme-us", Period: "2026-10"})
	st := closeResult(t, env)
	env.AssertExpectations(t)
	if calls["ctr_c"] != 2 || calls["ctr_a"] != 1 {
		t.Fatalf("calls %v", calls)
	}
	b := stepOf(st, CloseStepBilling)
	if b.State != StepDone || b.Failed != 0 || b.Done != 2 || st.Decisions[0].Outcome != "re-ran 1 billing cycle(s) of cus_c" {
		t.Fatalf("billing %+v decisions %+v", b, st.Decisions)
	}
}

func TestMonthEndCloseSkipsStepsAndRejectsBadInput(t *testing.T) {
	env := newCloseTestEnv(t)
	env.ExecuteWorkflow(MonthEndClose, CloseInput{Entity: "a/b", Period: "2026-13", FanOut: 1000, Skip: []string{"billing", "nope"}})
	err := env.GetWorkflowError()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != ErrInvalidInput {
		t.Fatalf("error %v", err)
	}
	for _, f := range []string{"entity:", "period:", "fan_out:", "skip[0]:", "skip[1]:"} {
		if !strings.Contains(err.Error(), f) {
			t.Fatalf("%v does not name %s", err, f)
		}
	}

	env = newCloseTestEnv(t)
	billingOK(env)
	for _, c := range []string{recon.CheckInvoicesVsLedger, recon.CheckUsageVsRated, recon.CheckPaymentsVsProvider, recon.CheckBillingsVsDeferredRevenue} {
		greenCheck(env, c)
	}
	env.ExecuteWorkflow(MonthEndClose, CloseInput{Entity: "acme-us", Period: "2026-10", Skip: []string{CloseStepIntake, CloseStepERP}})
	st := closeResult(t, env)
	if stepOf(st, CloseStepIntake).State != StepSkipped || stepOf(st, CloseStepERP).State != StepSkipped || !st.Done {
		t.Fatalf("skipped steps: %+v", st.Steps)
	}
}

func TestMonthEndCloseContinuesAsNewCarryingProgress(t *testing.T) {
	defer func(n int) { closeChildrenPerRun = n }(closeChildrenPerRun)
	closeChildrenPerRun = 2
	in := CloseInput{Entity: "acme-us", Period: "2026-10", FanOut: 1}

	env := newCloseTestEnv(t)
	billed := billingOK(env)
	env.ExecuteWorkflow(MonthEndClose, in)
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	var next CloseInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	p := next.Progress
	if p == nil || len(*billed) != 2 || p.ChildrenLaunched != 2 || p.BillingAfter != "ctr_b" || len(p.BillingQueue) != 0 ||
		stepOf(*p, CloseStepIntake).State != StepDone || stepOf(*p, CloseStepBilling).Done != 2 {
		t.Fatalf("carried progress: %+v (billed %v)", p, *billed)
	}

	env = newCloseTestEnv(t)
	billed = billingOK(env)
	for _, c := range []string{recon.CheckInvoicesVsLedger, recon.CheckUsageVsRated, recon.CheckPaymentsVsProvider, recon.CheckBillingsVsDeferredRevenue} {
		greenCheck(env, c)
	}
	env.ExecuteWorkflow(MonthEndClose, next)
	st := closeResult(t, env)
	b := stepOf(st, CloseStepBilling)
	if !st.Done || st.Runs != 1 || b.Total != 3 || b.Done != 3 || strings.Join(*billed, ",") != "ctr_c@2026-10-01" {
		t.Fatalf("second run: runs %d billing %+v billed %v", st.Runs, b, *billed)
	}
}

func TestMonthEndCloseSkipSentWhileBillingRuns(t *testing.T) {
	env := newCloseTestEnv(t)
	var billed []string
	env.OnWorkflow(BillingCycle, mock.Anything, mock.Anything).After(time.Hour).Return(func(_ workflow.Context, in BillingCycleInput) (BillingCycleState, error) {
		billed = append(billed, in.ContractID)
		return BillingCycleState{}, nil
	})
	for _, c := range []string{recon.CheckInvoicesVsLedger, recon.CheckUsageVsRated, recon.CheckPaymentsVsProvider, recon.CheckBillingsVsDeferredRevenue} {
		greenCheck(env, c)
	}
	var cl *activities.Close
	env.OnActivity(cl.RecordDecision, mock.Anything, mock.MatchedBy(func(in activities.DecisionInput) bool {
		return in.Action == activities.ActionCloseSkipCustomer && in.Details["customer"] == "cus_c" && in.Details["step"] == CloseStepBilling
	})).Return(activities.DecisionOutput{AuditID: 5}, nil).Once()
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalCloseSkipCustomer, CloseSignal{Actor: "user:ops@acme.test", Reason: "churned, credit pending", Customer: "cus_c"})
	}, 2*time.Hour+30*time.Minute) // while the first cycle (fan-out 1) runs
	env.ExecuteWorkflow(MonthEndClose, CloseInput{Entity: "acme-us", Period: "2026-10", FanOut: 1})
	st := closeResult(t, env)
	env.AssertExpectations(t)
	b := stepOf(st, CloseStepBilling)
	if strings.Join(billed, ",") != "ctr_a,ctr_b" || b.Total != 3 || b.Done != 2 || b.Skipped != 1 || st.Decisions[0].Outcome != "skipping customer cus_c" {
		t.Fatalf("billed %v, billing %+v, decisions %+v", billed, b, st.Decisions)
	}
}
