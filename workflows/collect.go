package workflows

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/workflow"

	"github.com/revhub/revhub/activities"
)

// DefaultDunning is the retry schedule after a failed automatic payment: 1, 3 and 7 days.
var DefaultDunning = []time.Duration{24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour}

// CollectInput starts collecting one finalized invoice.
type CollectInput struct {
	InvoiceID string `json:"invoice_id"`
	Provider  string `json:"provider"` // stripe, paypal, bank
	// PaymentMethod is the customer's stored method at the provider (an id such as pm_..., never a secret).
	PaymentMethod string          `json:"payment_method,omitempty"`
	Amount        decimal.Decimal `json:"amount"`
	Currency      string          `json:"currency"`
	// Dunning is the wait before each retry after a failure (for bank transfer: before each reminder);
	// when exhausted the invoice is marked uncollectible. Empty means DefaultDunning.
	Dunning []time.Duration `json:"dunning,omitempty"`
	// RecoveryWindow is how long an uncollectible invoice still listens for a manual retry or
	// mark-paid signal. Zero means 30 days.
	RecoveryWindow time.Duration `json:"recovery_window,omitempty"`
	// FirstAttempt is the outcome of attempt 1 when the billing cycle already charged it; Collect
	// then goes on from there instead of charging again.
	FirstAttempt *activities.ChargeOutput `json:"first_attempt,omitempty"`
}

// ManualAction is the payload of the retry-payment and mark-paid signals.
type ManualAction struct {
	Actor     string `json:"actor"`
	Reason    string `json:"reason"`
	Reference string `json:"reference,omitempty"`
}

// PaymentUpdate is the payload of the payment-update signal sent when a webhook or a bank
// statement line settles the invoice.
type PaymentUpdate struct {
	Status     string `json:"status"` // succeeded or failed
	PaymentKey string `json:"payment_key"`
	Reason     string `json:"reason,omitempty"`
}

// Collection outcomes.
const (
	CollectPaid          = "paid"
	CollectUncollectible = "uncollectible"
	CollectNothingDue    = "nothing_due"
)

// CollectState is what the status query returns.
type CollectState struct {
	Status   string   `json:"status"` // collecting, waiting_retry, waiting_transfer, pending_provider, paid, uncollectible
	Attempts int      `json:"attempts"`
	NextAt   string   `json:"next_at,omitempty"`
	History  []string `json:"history"`
}

// Collect charges an invoice through its provider exactly once per attempt key, retries failed
// payments on the dunning schedule with durable timers, then marks the invoice uncollectible and
// tells revenue ops. Signals: retry-payment (charge now), mark-paid (paid outside revhub),
// payment-update (a webhook settled a pending charge).
func Collect(ctx workflow.Context, in CollectInput) (CollectState, error) {
	if in.InvoiceID == "" {
		return CollectState{}, fmt.Errorf("invoice_id: required")
	}
	dunning := in.Dunning
	if len(dunning) == 0 {
		dunning = DefaultDunning
	}
	recovery := in.RecoveryWindow
	if recovery <= 0 {
		recovery = 30 * 24 * time.Hour
	}
	st := CollectState{Status: "collecting"}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (CollectState, error) { return st, nil }); err != nil {
		return st, err
	}
	logf := func(format string, args ...any) {
		st.History = append(st.History, workflow.Now(ctx).UTC().Format(time.RFC3339)+" "+fmt.Sprintf(format, args...))
	}
	var col *activities.Collection
	dbCtx := dbActivity(ctx)
	provCtx := providerActivity(ctx)

	retryCh := workflow.GetSignalChannel(ctx, SignalRetryPayment)
	paidCh := workflow.GetSignalChannel(ctx, SignalMarkPaid)
	updateCh := workflow.GetSignalChannel(ctx, SignalPaymentUpdate)
	manualSeq := 0

	markPaid := func(a ManualAction) error {
		manualSeq++
		logf("marked paid by %s: %s", a.Actor, a.Reason)
		return workflow.ExecuteActivity(dbCtx, col.MarkPaidManually, activities.ManualPaymentInput{
			InvoiceID: in.InvoiceID, Actor: a.Actor, Reason: a.Reason, Reference: a.Reference, Seq: manualSeq,
		}).Get(ctx, nil)
	}
	notify := func(kind, msg string) error {
		return workflow.ExecuteActivity(dbCtx, col.NotifyRevOps, activities.Notice{Subject: "invoice:" + in.InvoiceID, Kind: kind, Message: msg}).Get(ctx, nil)
	}

	// wait blocks until d passes or a signal arrives; it reports what happened.
	type event int
	const (
		evTimer event = iota
		evRetry
		evPaid
		evUpdate
	)
	wait := func(d time.Duration) (event, ManualAction, PaymentUpdate) {
		var ev event
		var action ManualAction
		var upd PaymentUpdate
		tctx, cancel := workflow.WithCancel(ctx)
		defer cancel()
		sel := workflow.NewSelector(ctx)
		if d > 0 {
			st.NextAt = workflow.Now(ctx).Add(d).UTC().Format(time.RFC3339)
			sel.AddFuture(workflow.NewTimer(tctx, d), func(workflow.Future) { ev = evTimer })
		}
		sel.AddReceive(retryCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &action); ev = evRetry })
		sel.AddReceive(paidCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &action); ev = evPaid })
		sel.AddReceive(updateCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &upd); ev = evUpdate })
		sel.Select(ctx)
		st.NextAt = ""
		return ev, action, upd
	}

	automatic := activities.ChargesAutomatically(in.Provider)
	step := 0 // dunning steps used
	for {
		if automatic {
			st.Attempts++
			st.Status = "collecting"
			var out activities.ChargeOutput
			if st.Attempts == 1 && in.FirstAttempt != nil {
				out = *in.FirstAttempt
			} else if err := workflow.ExecuteActivity(provCtx, col.ChargeInvoice, activities.ChargeInput{InvoiceID: in.InvoiceID, Attempt: st.Attempts, Provider: in.Provider, PaymentMethod: in.PaymentMethod}).Get(ctx, &out); err != nil {
				return st, err
			}
			logf("attempt %d: %s %s", st.Attempts, out.Status, out.FailureReason)
			if status, ok := settledBy(out); ok {
				st.Status = status
				return st, nil
			}
			if out.Status == activities.ChargePending {
				// The provider settles it later (webhook); wait for the update, bounded by the next dunning step.
				st.Status = "pending_provider"
			}
		} else {
			st.Status = "waiting_transfer"
		}
		if step >= len(dunning) {
			break
		}
		if st.Status == "collecting" {
			st.Status = "waiting_retry"
		}
		ev, action, upd := wait(dunning[step])
		switch ev {
		case evTimer:
			step++
			if !automatic {
				if err := notify("payment_reminder", fmt.Sprintf("bank transfer for invoice %s not received; reminder %d of %d", in.InvoiceID, step, len(dunning))); err != nil {
					return st, err
				}
			}
		case evRetry:
			logf("manual retry by %s: %s", action.Actor, action.Reason)
		case evPaid:
			if err := markPaid(action); err != nil {
				return st, err
			}
			st.Status = CollectPaid
			return st, nil
		case evUpdate:
			logf("provider update %s (%s)", upd.Status, upd.PaymentKey)
			if upd.Status == activities.ChargeSucceeded {
				st.Status = CollectPaid
				return st, nil
			}
		}
	}

	// Dunning exhausted.
	if err := workflow.ExecuteActivity(dbCtx, col.MarkUncollectible, activities.InvoiceRef{InvoiceID: in.InvoiceID}).Get(ctx, nil); err != nil {
		return st, err
	}
	st.Status = CollectUncollectible
	logf("marked uncollectible after %d attempts", st.Attempts)
	if err := notify("uncollectible", fmt.Sprintf("invoice %s is uncollectible after %d attempts; retry-payment or mark-paid signals are accepted for %s", in.InvoiceID, st.Attempts, recovery)); err != nil {
		return st, err
	}
	deadline := workflow.Now(ctx).Add(recovery)
	for {
		left := deadline.Sub(workflow.Now(ctx))
		if left <= 0 {
			return st, nil
		}
		ev, action, upd := wait(left)
		switch ev {
		case evTimer:
			return st, nil
		case evPaid:
			if err := markPaid(action); err != nil {
				return st, err
			}
			st.Status = CollectPaid
			return st, nil
		case evUpdate:
			if upd.Status == activities.ChargeSucceeded {
				st.Status = CollectPaid
				return st, nil
			}
		case evRetry:
			if !automatic {
				continue
			}
			logf("manual retry by %s: %s", action.Actor, action.Reason)
			st.Attempts++
			var out activities.ChargeOutput
			if err := workflow.ExecuteActivity(provCtx, col.ChargeInvoice, activities.ChargeInput{InvoiceID: in.InvoiceID, Attempt: st.Attempts, Provider: in.Provider, PaymentMethod: in.PaymentMethod}).Get(ctx, &out); err != nil {
				return st, err
			}
			logf("attempt %d: %s %s", st.Attempts, out.Status, out.FailureReason)
			if out.Status == activities.ChargeSucceeded || out.Status == activities.ChargeNothing {
				st.Status = CollectPaid
				return st, nil
			}
		}
	}
}

// settledBy is the collection status a charge outcome ends collection with: paid, or nothing due.
func settledBy(out activities.ChargeOutput) (string, bool) {
	switch out.Status {
	case activities.ChargeSucceeded:
		return CollectPaid, true
	case activities.ChargeNothing:
		return CollectNothingDue, true
	}
	return "", false
}
