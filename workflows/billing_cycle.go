package workflows

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/revhub/revhub/activities"
)

// DefaultGrace is how long after a period's end late usage still counts in that period.
const DefaultGrace = 2 * time.Hour

// BillingCycleInput starts one contract's billing period [PeriodStart, PeriodEnd) (YYYY-MM-DD).
type BillingCycleInput struct {
	ContractID  string          `json:"contract_id"`
	PeriodStart string          `json:"period_start"`
	PeriodEnd   string          `json:"period_end"`
	Grace       time.Duration   `json:"grace"`             // late-event grace window; 0 means DefaultGrace
	NoCollect   bool            `json:"no_collect"`        // finalize and deliver only
	Dunning     []time.Duration `json:"dunning,omitempty"` // passed to Collect
}

// Step states reported by the status query.
const (
	StepPending = "pending"
	StepRunning = "running"
	StepDone    = "done"
	StepSkipped = "skipped"
	StepFailed  = "failed"
)

// StepState is one step's progress.
type StepState struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}

// BillingCycleState is what the status query returns and the workflow's result.
type BillingCycleState struct {
	Steps      []StepState     `json:"steps"`
	InvoiceID  string          `json:"invoice_id,omitempty"`
	Number     string          `json:"number,omitempty"`
	Total      decimal.Decimal `json:"total"`
	Currency   string          `json:"currency,omitempty"`
	Collection string          `json:"collection,omitempty"` // the Collect workflow id, when collection goes on in a child
	Payment    string          `json:"payment,omitempty"`    // paid or nothing_due when the cycle's own first charge settled it
}

// Billing-cycle steps, in order.
var billingSteps = []string{"wait_for_period_end", "close_usage", "rate_and_draft", "finalize", "deliver", "collect"}

// versionLocalSteps gates the faster command sequence: the PostgreSQL steps and the first charge
// run as local activities inside one workflow task, RevhubStep is upserted only when it tells an
// operator something (a durable wait or a failed step; the status query always has every step),
// and Collect is started only when money is still outstanding after the first charge. Histories recorded before it replay on the
// original sequence (DefaultVersion). Version 2 also leaves out the upsert of the entity, customer
// and period search attributes when the cycle was started with those values (the month-end close
// and the bench start it so), one history event and one visibility write fewer per cycle.
const versionLocalSteps = "billing-local-steps"

// BillingCycle closes usage after the period and its grace window, rates it into a draft
// invoice, finalizes it (gap-free number, ledger entry), delivers it and charges it once through
// the customer's provider; when money is still outstanding (a failed or pending charge, a bank
// transfer) its collection continues in a Collect child workflow that outlives the cycle.
func BillingCycle(ctx workflow.Context, in BillingCycleInput) (BillingCycleState, error) {
	st := BillingCycleState{}
	for _, s := range billingSteps {
		st.Steps = append(st.Steps, StepState{Name: s, State: StepPending})
	}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (BillingCycleState, error) { return st, nil }); err != nil {
		return st, err
	}
	cycle := activities.CycleInput{ContractID: in.ContractID, PeriodStart: in.PeriodStart, PeriodEnd: in.PeriodEnd}
	if err := cycle.Validate(); err != nil {
		return st, err
	}
	version := workflow.GetVersion(ctx, versionLocalSteps, workflow.DefaultVersion, 2)
	fast := version >= 1
	stepAttr := temporal.NewSearchAttributeKeyKeyword(SearchAttrStep)
	set := func(i int, state, detail string) {
		st.Steps[i].State, st.Steps[i].Detail = state, detail
		if !fast || state == StepFailed {
			_ = workflow.UpsertTypedSearchAttributes(ctx, stepAttr.ValueSet(billingSteps[i]))
		}
	}
	dbCtx, localDB, localProvider := dbActivity(ctx), dbLocalActivity(ctx), providerLocalActivity(ctx)
	// runDB runs a PostgreSQL-only step: a local activity on the fast sequence.
	runDB := func(fn, arg, out any) error {
		if fast {
			return workflow.ExecuteLocalActivity(localDB, fn, arg).Get(ctx, out)
		}
		return workflow.ExecuteActivity(dbCtx, fn, arg).Get(ctx, out)
	}
	end, _ := time.Parse(time.DateOnly, in.PeriodEnd)
	grace := in.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	var bill *activities.Billing
	var col *activities.Collection

	// 0. Wait for the period to end plus the late-event grace window (a durable timer).
	set(0, StepRunning, "")
	if wait := end.Add(grace).Sub(workflow.Now(ctx)); wait > 0 {
		if fast {
			_ = workflow.UpsertTypedSearchAttributes(ctx, stepAttr.ValueSet(billingSteps[0]))
		}
		set(0, StepRunning, "until "+end.Add(grace).UTC().Format(time.RFC3339))
		if err := workflow.Sleep(ctx, wait); err != nil {
			return st, err
		}
	}
	set(0, StepDone, "")

	// 1. Cut usage off: later events for the period become adjustments on the next invoice.
	set(1, StepRunning, "")
	var closed activities.CloseUsageOutput
	if err := runDB(bill.CloseUsage, cycle, &closed); err != nil {
		set(1, StepFailed, err.Error())
		return st, err
	}
	set(1, StepDone, "subject "+closed.Subject)

	// 2. Rate and create the draft (idempotent by invoice:{contract}:{period}).
	set(2, StepRunning, "")
	var draft activities.DraftOutput
	if err := runDB(bill.RateAndDraft, cycle, &draft); err != nil {
		set(2, StepFailed, err.Error())
		return st, err
	}
	st.InvoiceID, st.Total, st.Currency = draft.InvoiceID, draft.Total, draft.Currency
	cur := workflow.GetTypedSearchAttributes(ctx)
	if version < 2 {
		cur = temporal.SearchAttributes{} // recorded histories upserted all three
	}
	if missing := unsetAttributes(cur, draft.BillingEntity, draft.Customer, in.PeriodStart); len(missing) > 0 {
		_ = workflow.UpsertTypedSearchAttributes(ctx, missing...)
	}
	set(2, StepDone, fmt.Sprintf("%s: %d lines, %s %s", draft.InvoiceID, draft.Lines, draft.Total, draft.Currency))

	// 3. Finalize: gap-free number, immutable from now on, ledger entry invoice:{id}:finalized.
	set(3, StepRunning, "")
	var fin activities.FinalizeOutput
	if err := runDB(bill.Finalize, activities.InvoiceRef{InvoiceID: draft.InvoiceID}, &fin); err != nil {
		set(3, StepFailed, err.Error())
		return st, err
	}
	st.Number = fin.Number
	set(3, StepDone, fin.Number+" "+fin.Status)

	// Write the billed-to-date amount back to the deal the contract came from (added after the
	// first recorded histories, hence the version gate).
	if activities.FromCRM(in.ContractID) && workflow.GetVersion(ctx, "crm-writeback-on-invoice", workflow.DefaultVersion, 1) == 1 {
		var crm *activities.Intake
		var wb activities.DealWriteBackOutput
		if err := workflow.ExecuteActivity(providerActivity(ctx), crm.WriteBack, activities.DealWriteBackInput{ContractID: in.ContractID}).Get(ctx, &wb); err != nil {
			set(3, StepFailed, "write-back: "+err.Error())
			return st, err
		}
		set(3, StepDone, fmt.Sprintf("%s %s; billed to date %s written back to %s", fin.Number, fin.Status, wb.BilledToDate, wb.OpportunityID))
	}

	// 4. Deliver: render HTML and PDF with the line explanations.
	set(4, StepRunning, "")
	var del activities.DeliverOutput
	if err := runDB(bill.Deliver, activities.InvoiceRef{InvoiceID: draft.InvoiceID}, &del); err != nil {
		set(4, StepFailed, err.Error())
		return st, err
	}
	set(4, StepDone, fmt.Sprintf("html %d bytes, pdf %d bytes", del.HTMLBytes, del.PDFBytes))

	// 5. Collect: on the fast sequence the first charge runs here (same key invoice:{id}:charge:1
	// as Collect's first attempt); a child that outlives this cycle takes over while money is due.
	if in.NoCollect || !fin.AmountDue.IsPositive() {
		set(5, StepSkipped, "nothing due")
		return st, nil
	}
	set(5, StepRunning, "")
	var first *activities.ChargeOutput
	if fast && activities.ChargesAutomatically(draft.Provider) {
		var out activities.ChargeOutput
		charge := activities.ChargeInput{InvoiceID: draft.InvoiceID, Attempt: 1, Provider: draft.Provider, PaymentMethod: draft.PaymentMethod}
		if err := workflow.ExecuteLocalActivity(localProvider, col.ChargeInvoice, charge).Get(ctx, &out); err != nil {
			set(5, StepFailed, err.Error())
			return st, err
		}
		if status, ok := settledBy(out); ok {
			st.Payment = status
			set(5, StepDone, fmt.Sprintf("attempt 1 %s %s", out.Status, out.PaymentKey))
			return st, nil
		}
		first = &out
	}
	st.Collection = CollectID(draft.InvoiceID)
	child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            st.Collection,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	})
	fut := workflow.ExecuteChildWorkflow(child, Collect, CollectInput{
		InvoiceID: draft.InvoiceID, Provider: draft.Provider, PaymentMethod: draft.PaymentMethod, Amount: fin.AmountDue, Currency: fin.Currency, Dunning: in.Dunning,
		FirstAttempt: first,
	})
	var exec workflow.Execution
	if err := fut.GetChildWorkflowExecution().Get(ctx, &exec); err != nil {
		if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
			set(5, StepDone, "collection already running: "+st.Collection)
			return st, nil
		}
		set(5, StepFailed, err.Error())
		return st, err
	}
	set(5, StepDone, "started "+exec.ID)
	return st, nil
}

// CycleSearchAttributes are the search attributes revenue ops find a billing cycle by: billing
// entity, customer and period start. A starter that knows them passes them at start, so the cycle
// need not upsert them.
func CycleSearchAttributes(entity, customer, periodStart string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(unsetAttributes(temporal.SearchAttributes{}, entity, customer, periodStart)...)
}

// unsetAttributes returns the updates that set the cycle's entity, customer and period search
// attributes where cur does not already hold those values, in that fixed order.
func unsetAttributes(cur temporal.SearchAttributes, entity, customer, periodStart string) []temporal.SearchAttributeUpdate {
	var out []temporal.SearchAttributeUpdate
	for _, a := range [...]struct{ name, value string }{{SearchAttrEntity, entity}, {SearchAttrCustomer, customer}, {SearchAttrPeriod, periodStart}} {
		key := temporal.NewSearchAttributeKeyKeyword(a.name)
		if v, ok := cur.GetKeyword(key); !ok || v != a.value {
			out = append(out, key.ValueSet(a.value))
		}
	}
	return out
}
