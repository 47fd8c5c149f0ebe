package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/revhub/revhub/activities"
)

func newCollectEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(Collect)
	var col *activities.Collection
	env.RegisterActivity(col)
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env
}

func collectInput(provider string) CollectInput {
	return CollectInput{InvoiceID: "inv_1", Provider: provider, Amount: decimal.RequireFromString("100.00"), Currency: "USD",
		Dunning: []time.Duration{24 * time.Hour, 72 * time.Hour}}
}

// workflowResult is the result of a workflow that completed without error.
func workflowResult[T any](t *testing.T, env *testsuite.TestWorkflowEnvironment) T {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	var st T
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func result(t *testing.T, env *testsuite.TestWorkflowEnvironment) CollectState {
	t.Helper()
	return workflowResult[CollectState](t, env)
}

func TestCollectPaysOnFirstAttempt(t *testing.T) {
	env := newCollectEnv(t)
	var col *activities.Collection
	env.OnActivity(col.ChargeInvoice, mock.Anything, activities.ChargeInput{InvoiceID: "inv_1", Attempt: 1, Provider: "stripe"}).
		Return(activities.ChargeOutput{Status: activities.ChargeSucceeded, PaymentKey: "invoice:inv_1:charge:1"}, nil).Once()
	env.ExecuteWorkflow(Collect, collectInput("stripe"))
	st := result(t, env)
	if st.Status != CollectPaid || st.Attempts != 1 {
		t.Fatalf("state = %+v", st)
	}
}

// TestCollectGoesOnFromTheCyclesFirstAttempt: the billing cycle already charged attempt 1 (declined);
// Collect does not charge it again, waits for the first dunning step and charges attempt 2.
func TestCollectGoesOnFromTheCyclesFirstAttempt(t *testing.T) {
	env := newCollectEnv(t)
	var col *activities.Collection
	env.OnActivity(col.ChargeInvoice, mock.Anything, activities.ChargeInput{InvoiceID: "inv_1", Attempt: 2, Provider: "stripe"}).
		Return(activities.ChargeOutput{Status: activities.ChargeSucceeded, PaymentKey: "invoice:inv_1:charge:2"}, nil).Once()
	in := collectInput("stripe")
	in.FirstAttempt = &activities.ChargeOutput{Status: activities.ChargeFailed, PaymentKey: "invoice:inv_1:charge:1", FailureReason: "card_declined"}
	env.ExecuteWorkflow(Collect, in)
	st := result(t, env)
	if st.Status != CollectPaid || st.Attempts != 2 || len(st.History) != 2 || !strings.Contains(st.History[0], "attempt 1: failed card_declined") {
		t.Fatalf("state = %+v", st)
	}
}

// TestCollectRetriesOnDunningSchedule: a decline waits for the durable timer, then the next
// attempt (a new key) succeeds; a transient activity error in between is retried by Temporal
// without a new attempt number, so the provider sees the same key again.
func TestCollectRetriesOnDunningSchedule(t *testing.T) {
	env := newCollectEnv(t)
	var col *activities.Collection
	start := env.Now()
	env.OnActivity(col.ChargeInvoice, mock.Anything, activities.ChargeInput{InvoiceID: "inv_1", Attempt: 1, Provider: "stripe"}).
		Return(activities.ChargeOutput{Status: activities.ChargeFailed, FailureReason: "card_declined"}, nil).Once()
	env.OnActivity(col.ChargeInvoice, mock.Anything, activities.ChargeInput{InvoiceID: "inv_1", Attempt: 2, Provider: "stripe"}).
		Return(activities.ChargeOutput{}, errors.New("connection reset: outcome unknown")).Once()
	env.OnActivity(col.ChargeInvoice, mock.Anything, activities.ChargeInput{InvoiceID: "inv_1", Attempt: 2, Provider: "stripe"}).
		Return(func(_ context.Context, _ activities.ChargeInput) (activities.ChargeOutput, error) {
			if d := env.Now().Sub(start); d < 24*time.Hour {
				t.Errorf("second attempt after %s, before the 24h dunning step", d)
			}
			return activities.ChargeOutput{Status: activities.ChargeSucceeded, PaymentKey: "invoice:inv_1:charge:2"}, nil
		}).Once()
	env.ExecuteWorkflow(Collect, collectInput("stripe"))
	st := result(t, env)
	if st.Status != CollectPaid || st.Attempts != 2 {
		t.Fatalf("state = %+v", st)
	}
}

func TestCollectExhaustsDunningThenMarkPaidSignal(t *testing.T) {
	env := newCollectEnv(t)
	var col *activities.Collection
	env.OnActivity(col.ChargeInvoice, mock.Anything, mock.Anything).
		Return(activities.ChargeOutput{Status: activities.ChargeFailed, FailureReason: "insufficient_funds"}, nil).Times(3)
	env.OnActivity(col.MarkUncollectible, mock.Anything, activities.InvoiceRef{InvoiceID: "inv_1"}).Return(nil).Once()
	env.OnActivity(col.NotifyRevOps, mock.Anything, mock.MatchedBy(func(n activities.Notice) bool { return n.Kind == "uncollectible" })).Return(nil).Once()
	env.OnActivity(col.MarkPaidManually, mock.Anything, activities.ManualPaymentInput{InvoiceID: "inv_1", Actor: "ops@acme", Reason: "wire received", Reference: "BANK-77", Seq: 1}).Return(nil).Once()
	// 1 + 3 days of dunning, then a few days into the recovery window revenue ops mark it paid.
	env.RegisterDelayedCallback(func() {
		var st CollectState
		v, err := env.QueryWorkflow(QueryStatus)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Get(&st); err != nil || st.Status != CollectUncollectible {
			t.Errorf("before the signal: %+v %v", st, err)
		}
		env.SignalWorkflow(SignalMarkPaid, ManualAction{Actor: "ops@acme", Reason: "wire received", Reference: "BANK-77"})
	}, 10*24*time.Hour)
	env.ExecuteWorkflow(Collect, collectInput("stripe"))
	st := result(t, env)
	if st.Status != CollectPaid || st.Attempts != 3 {
		t.Fatalf("state = %+v", st)
	}
}

func TestCollectManualRetrySignalChargesAtOnce(t *testing.T) {
	env := newCollectEnv(t)
	var col *activities.Collection
	env.OnActivity(col.ChargeInvoice, mock.Anything, activities.ChargeInput{InvoiceID: "inv_1", Attempt: 1, Provider: "paypal"}).
		Return(activities.ChargeOutput{Status: activities.ChargeFailed, FailureReason: "INSTRUMENT_DECLINED"}, nil).Once()
	env.OnActivity(col.ChargeInvoice, mock.Anything, activities.ChargeInput{InvoiceID: "inv_1", Attempt: 2, Provider: "paypal"}).
		Return(activities.ChargeOutput{Status: activities.ChargeSucceeded}, nil).Once()
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalRetryPayment, ManualAction{Actor: "ops@acme", Reason: "customer updated card"})
	}, time.Hour)
	env.ExecuteWorkflow(Collect, collectInput("paypal"))
	st := result(t, env)
	if st.Status != CollectPaid || st.Attempts != 2 {
		t.Fatalf("state = %+v", st)
	}
}

func TestCollectPendingSettledByWebhookSignal(t *testing.T) {
	env := newCollectEnv(t)
	var col *activities.Collection
	env.OnActivity(col.ChargeInvoice, mock.Anything, mock.Anything).
		Return(activities.ChargeOutput{Status: activities.ChargePending, PaymentKey: "invoice:inv_1:charge:1"}, nil).Once()
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalPaymentUpdate, PaymentUpdate{Status: activities.ChargeSucceeded, PaymentKey: "invoice:inv_1:charge:1"})
	}, 2*time.Hour)
	env.ExecuteWorkflow(Collect, collectInput("paypal"))
	st := result(t, env)
	if st.Status != CollectPaid || st.Attempts != 1 {
		t.Fatalf("state = %+v", st)
	}
}

func TestCollectBankTransferRemindsThenUncollectible(t *testing.T) {
	env := newCollectEnv(t)
	var col *activities.Collection
	env.OnActivity(col.NotifyRevOps, mock.Anything, mock.MatchedBy(func(n activities.Notice) bool { return n.Kind == "payment_reminder" })).Return(nil).Times(2)
	env.OnActivity(col.MarkUncollectible, mock.Anything, activities.InvoiceRef{InvoiceID: "inv_1"}).Return(nil).Once()
	env.OnActivity(col.NotifyRevOps, mock.Anything, mock.MatchedBy(func(n activities.Notice) bool { return n.Kind == "uncollectible" })).Return(nil).Once()
	in := collectInput("bank")
	in.RecoveryWindow = 24 * time.Hour
	env.ExecuteWorkflow(Collect, in)
	st := result(t, env)
	if st.Status != CollectUncollectible || st.Attempts != 0 {
		t.Fatalf("state = %+v", st)
	}
}

func TestCollectBankTransferMatchedBySignal(t *testing.T) {
	env := newCollectEnv(t)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalPaymentUpdate, PaymentUpdate{Status: activities.ChargeSucceeded, PaymentKey: "bank:stmt-1:line-4"})
	}, 5*time.Hour)
	env.ExecuteWorkflow(Collect, collectInput("bank"))
	st := result(t, env)
	if st.Status != CollectPaid {
		t.Fatalf("state = %+v", st)
	}
}
