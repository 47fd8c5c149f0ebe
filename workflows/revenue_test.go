package workflows

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/revhub/revhub/activities"
)

func newRevenueEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(RecognizeRevenue)
	var rev *activities.Revenue
	env.RegisterActivity(rev)
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env
}

func revenueStatus(t *testing.T, env *testsuite.TestWorkflowEnvironment) RevenueState {
	t.Helper()
	v, err := env.QueryWorkflow(QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	var st RevenueState
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRevenueID(t *testing.T) {
	if got := RevenueID("revhub-us", "2026-03"); got != "revrec/revhub-us/2026-03" {
		t.Fatalf("RevenueID = %q", got)
	}
}

func TestRecognizeRevenueRetriesThenReports(t *testing.T) {
	env := newRevenueEnv(t)
	var rev *activities.Revenue
	in := RecognizeRevenueInput{Entity: "revhub-us", Month: "2026-03",
		Amendments: []activities.AmendmentMethod{{ContractID: "ctr_1", Version: 2, Method: "prospective", Reason: "distinct seats"}}}
	want := activities.RecognizeOutput{Entity: "revhub-us", Month: "2026-03", Arrangements: 2, SchedulesSaved: 1, EntriesPosted: 3,
		Recognized: []activities.CurrencyAmount{{Currency: "USD", Amount: decimal.RequireFromString("1269.18")}}}
	args := activities.RecognizeInput{Entity: in.Entity, Month: in.Month, Amendments: in.Amendments}
	// A transient failure (the database restarting) is retried by Temporal with the same input.
	env.OnActivity(rev.RecognizeMonth, mock.Anything, args).Return(activities.RecognizeOutput{}, errors.New("connection refused")).Once()
	env.OnActivity(rev.RecognizeMonth, mock.Anything, args).Return(want, nil).Once()
	env.ExecuteWorkflow(RecognizeRevenue, in)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("workflow: completed=%v err=%v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var got activities.RecognizeOutput
	if err := env.GetWorkflowResult(&got); err != nil {
		t.Fatal(err)
	}
	if got.EntriesPosted != 3 || got.Arrangements != 2 || !got.Recognized[0].Amount.Equal(want.Recognized[0].Amount) {
		t.Fatalf("result = %+v", got)
	}
	if st := revenueStatus(t, env); st.Status != RevenueDone || st.Result == nil || st.Result.EntriesPosted != 3 || st.Month != "2026-03" {
		t.Fatalf("status = %+v", st)
	}
}

func TestRecognizeRevenueStopsOnInvalidContract(t *testing.T) {
	env := newRevenueEnv(t)
	var rev *activities.Revenue
	refused := temporal.NewNonRetryableApplicationError("contract ctr_evergreen: no end date", activities.ErrInvalidContract, nil)
	env.OnActivity(rev.RecognizeMonth, mock.Anything, mock.Anything).Return(activities.RecognizeOutput{}, refused).Once()
	env.ExecuteWorkflow(RecognizeRevenue, RecognizeRevenueInput{Entity: "revhub-us", Month: "2026-03"})
	var app *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &app) || app.Type() != ErrInvalidContract {
		t.Fatalf("workflow error = %v", err)
	}
	if st := revenueStatus(t, env); st.Status != RevenueFailed || !strings.Contains(st.Error, "ctr_evergreen") {
		t.Fatalf("status = %+v", st)
	}
}

func TestRecognizeRevenueRefusesBadInput(t *testing.T) {
	env := newRevenueEnv(t) // no activity may run: AssertExpectations fails on an unexpected call
	env.ExecuteWorkflow(RecognizeRevenue, RecognizeRevenueInput{Entity: "", Month: "March"})
	var app *temporal.ApplicationError
	err := env.GetWorkflowError()
	if !errors.As(err, &app) || app.Type() != ErrInvalidInput || !strings.Contains(err.Error(), "entity:") || !strings.Contains(err.Error(), `month: "March"`) {
		t.Fatalf("workflow error = %v", err)
	}
}
