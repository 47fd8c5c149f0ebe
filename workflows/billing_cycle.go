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
	Collection string          `json:"collection,omitempty"` // the Collect workflow id
}

// Billing-cycle steps, in order.
var billingSteps = []string{"wait_for_period_end", "close_usage", "rate_and_draft", "finalize", "deliver", "collect"}

// BillingCycle closes usage after the period and its grace window, rates it into a draft
// invoice, finalizes it (gap-free number, ledger entry), delivers it and starts its collection
// as a child workflow that outlives the cycle.
func BillingCycle(ctx workflow.Context, in BillingCycleInput) (BillingCycleState, error) {
	st := BillingCycleState{}
	for _, s := range billingSteps {
		st.Steps = append(st.Steps, StepState{Name: s, State: StepPending})
	}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (BillingCycleState, error) { return st, nil }); err != nil {
		return st, err
	}
	set := func(i int, state, detail string) {
		st.Steps[i].State, st.Steps[i].Detail = state, detail
		_ = workflow.UpsertTypedSearchAttributes(ctx, temporal.NewSearchAttributeKeyKeyword(SearchAttrStep).ValueSet(billingSteps[i]))
	}
	cycle := activities.CycleInput{ContractID: in.ContractID, PeriodStart: in.PeriodStart, PeriodEnd: in.PeriodEnd}
	if err := cycle.Validate(); err != nil {
		return st, err
	}
	end, _ := time.Parse(time.DateOnly, in.PeriodEnd)
	grace := in.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	var bill *activities.Billing
	dbCtx := dbActivity(ctx)

	// 0. Wait for the period to end plus the late-event grace window (a durable timer).
	set(0, StepRunning, "")
	if wait := end.Add(grace).Sub(workflow.Now(ctx)); wait > 0 {
		set(0, StepRunning, "until "+end.Add(grace).UTC().Format(time.RFC3339))
		if err := workflow.Sleep(ctx, wait); err != nil {
			return st, err
		}
	}
	set(0, StepDone, "")

	// 1. Cut usage off: later events for the period become adjustments on the next invoice.
	set(1, StepRunning, "")
	var closed activities.CloseUsageOutput
	if err := workflow.ExecuteActivity(dbCtx, bill.CloseUsage, cycle).Get(ctx, &closed); err != nil {
		set(1, StepFailed, err.Error())
		return st, err
	}
	set(1, StepDone, "subject "+closed.Subject)

	// 2. Rate and create the draft (idempotent by invoice:{contract}:{period}).
	set(2, StepRunning, "")
	var draft activities.DraftOutput
	if err := workflow.ExecuteActivity(dbCtx, bill.RateAndDraft, cycle).Get(ctx, &draft); err != nil {
		set(2, StepFailed, err.Error())
		return st, err
	}
	st.InvoiceID, st.Total, st.Currency = draft.InvoiceID, draft.Total, draft.Currency
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		temporal.NewSearchAttributeKeyKeyword(SearchAttrEntity).ValueSet(draft.BillingEntity),
		temporal.NewSearchAttributeKeyKeyword(SearchAttrCustomer).ValueSet(draft.Customer),
		temporal.NewSearchAttributeKeyKeyword(SearchAttrPeriod).ValueSet(in.PeriodStart))
	set(2, StepDone, fmt.Sprintf("%s: %d lines, %s %s", draft.InvoiceID, draft.Lines, draft.Total, draft.Currency))

	// 3. Finalize: gap-free number, immutable from now on, ledger entry invoice:{id}:finalized.
	set(3, StepRunning, "")
	var fin activities.FinalizeOutput
	if err := workflow.ExecuteActivity(dbCtx, bill.Finalize, activities.InvoiceRef{InvoiceID: draft.InvoiceID}).Get(ctx, &fin); err != nil {
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
	if err := workflow.ExecuteActivity(dbCtx, bill.Deliver, activities.InvoiceRef{InvoiceID: draft.InvoiceID}).Get(ctx, &del); err != nil {
		set(4, StepFailed, err.Error())
		return st, err
	}
	set(4, StepDone, fmt.Sprintf("html %d bytes, pdf %d bytes", del.HTMLBytes, del.PDFBytes))

	// 5. Collect through the customer's provider, in a child that outlives this cycle.
	if in.NoCollect || !fin.AmountDue.IsPositive() {
		set(5, StepSkipped, "nothing due")
		return st, nil
	}
	set(5, StepRunning, "")
	st.Collection = CollectID(draft.InvoiceID)
	child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            st.Collection,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	})
	fut := workflow.ExecuteChildWorkflow(child, Collect, CollectInput{
		InvoiceID: draft.InvoiceID, Provider: draft.Provider, PaymentMethod: draft.PaymentMethod, Amount: fin.AmountDue, Currency: fin.Currency, Dunning: in.Dunning,
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
