package workflows

import (
	"errors"
	"sort"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/revhub/revhub/activities"
)

// IntakeID is the workflow id of the Salesforce intake: one long-running workflow per namespace.
func IntakeID() string { return "intake/salesforce" }

// SignalDealChanged tells the intake an Opportunity changed (payload: its id), so it is ingested at once.
const SignalDealChanged = "deal-changed"

// Intake defaults.
const (
	DefaultPollInterval  = time.Minute
	DefaultPollOverlap   = 2 * time.Minute // transactions in flight commit with an earlier SystemModstamp
	DefaultIntakeRounds  = 200             // wake-ups before continue-as-new
	maxPendingCarried    = 1000            // signalled ids carried over continue-as-new at most
	intakeActivityBudget = 10 * time.Minute
)

// IntakeInput starts (or continues) the Salesforce intake.
type IntakeInput struct {
	// Watermark is the newest SystemModstamp fully ingested; each poll reads from it minus Overlap.
	Watermark time.Time `json:"watermark"`
	// PollInterval is the time between polls (default DefaultPollInterval).
	PollInterval time.Duration `json:"poll_interval"`
	// Overlap is how far before the watermark each poll starts (default DefaultPollOverlap).
	Overlap time.Duration `json:"overlap"`
	// ReconcileSince opens the CRM reconciliation window: won deals modified since then (zero: every won deal).
	ReconcileSince time.Time `json:"reconcile_since"`
	// MaxRounds is the number of wake-ups before continue-as-new (default DefaultIntakeRounds).
	MaxRounds int `json:"max_rounds"`
	// Status carries the counters over continue-as-new.
	Status IntakeStatus `json:"status"`
	// Pending are signalled Opportunity ids not yet ingested, carried over continue-as-new.
	Pending []string `json:"pending,omitempty"`
	// Seen are the deals ingested inside the overlap window, so a poll does not ingest them again.
	Seen []activities.DealRef `json:"seen,omitempty"`
}

// IntakeStatus is what the status query returns.
type IntakeStatus struct {
	Watermark          time.Time                      `json:"watermark"`
	Polls              int                            `json:"polls"`
	Signals            int                            `json:"signals"`
	Ingested           int                            `json:"ingested"` // contracts created
	Amended            int                            `json:"amended"`
	Unchanged          int                            `json:"unchanged"`
	Rejected           int                            `json:"rejected"`
	NotWon             int                            `json:"not_won"`
	WriteBacks         int                            `json:"write_backs"` // PATCHes sent to Opportunities
	LastReconciliation *activities.CRMReconcileOutput `json:"last_reconciliation,omitempty"`
	LastError          string                         `json:"last_error,omitempty"`
	Runs               int                            `json:"runs"` // continue-as-new generations so far
}

// intakeActivity bounds each CRM call so an outage shows in the status and the loop goes on.
func intakeActivity(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: intakeActivityBudget,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        2 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: nonRetryable,
		},
	})
}

// SalesforceIntake turns closed-won Opportunities into contracts. It polls on a SystemModstamp watermark on a
// durable timer and ingests at once the Opportunities named by deal-changed signals (push notifications); each
// deal becomes a contract, an amendment or a recorded rejection (IngestDeal is idempotent), every contract is
// written back to its Opportunity, and after a round that changed anything the CRM is reconciled. The workflow
// continues as new after MaxRounds wake-ups or when Temporal suggests it, carrying its state.
func SalesforceIntake(ctx workflow.Context, in IntakeInput) (IntakeStatus, error) {
	if in.PollInterval <= 0 {
		in.PollInterval = DefaultPollInterval
	}
	if in.Overlap <= 0 {
		in.Overlap = DefaultPollOverlap
	}
	if in.MaxRounds <= 0 {
		in.MaxRounds = DefaultIntakeRounds
	}
	st := in.Status
	st.Watermark = in.Watermark
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (IntakeStatus, error) { return st, nil }); err != nil {
		return st, err
	}
	r := &intakeRun{ctx: intakeActivity(ctx), st: &st, seen: map[string]time.Time{}}
	for _, s := range in.Seen {
		r.remember(s)
	}
	pending := append([]string(nil), in.Pending...)
	signals := workflow.GetSignalChannel(ctx, SignalDealChanged)
	receive := func(c workflow.ReceiveChannel) {
		var id string
		c.Receive(ctx, &id)
		st.Signals++
		pending = append(pending, id)
	}
	drain := func() {
		var id string
		for signals.ReceiveAsync(&id) {
			st.Signals++
			pending = append(pending, id)
		}
	}
	pollNow := true
	var retry []string // signalled ids whose ingest failed: tried again after the next wait
	for round := 0; ; round++ {
		if !pollNow && len(pending) == 0 {
			timerCtx, cancel := workflow.WithCancel(ctx)
			sel := workflow.NewSelector(ctx)
			sel.AddFuture(workflow.NewTimer(timerCtx, in.PollInterval), func(workflow.Future) { pollNow = true })
			sel.AddReceive(signals, func(c workflow.ReceiveChannel, _ bool) { receive(c) })
			sel.Select(ctx)
			cancel()
			pending, retry = append(retry, pending...), nil
		}
		drain()
		changed := false
		for _, id := range unique(pending) {
			c, ok := r.ingest(id)
			changed = changed || c
			if !ok {
				retry = append(retry, id)
			}
		}
		pending = nil
		if pollNow {
			pollNow = false
			if r.poll(in.Overlap) {
				changed = true
			}
		}
		if changed || (st.LastReconciliation == nil && st.Polls > 0) {
			r.reconcile(in.ReconcileSince)
		}
		if round+1 >= in.MaxRounds || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			drain()
			next := in
			st.Runs++
			next.Watermark, next.Status, next.Seen = st.Watermark, st, r.seenList()
			next.Pending = unique(append(retry, pending...))
			if len(next.Pending) > maxPendingCarried {
				next.Pending = next.Pending[:maxPendingCarried] // the rest are found by the poll of the next run
			}
			return st, workflow.NewContinueAsNewError(ctx, SalesforceIntake, next)
		}
	}
}

// intakeRun holds one run's activity context, status and the deals ingested inside the overlap window.
type intakeRun struct {
	ctx  workflow.Context
	st   *IntakeStatus
	seen map[string]time.Time // Opportunity id -> SystemModstamp ingested
}

func (r *intakeRun) remember(d activities.DealRef) {
	if d.OpportunityID != "" && !d.SystemModstamp.IsZero() {
		r.seen[d.OpportunityID] = d.SystemModstamp
	}
}

// seenList returns the remembered deals inside the overlap window, sorted, for continue-as-new.
func (r *intakeRun) seenList() []activities.DealRef {
	out := make([]activities.DealRef, 0, len(r.seen))
	for id, at := range r.seen {
		out = append(out, activities.DealRef{OpportunityID: id, SystemModstamp: at})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OpportunityID < out[j].OpportunityID })
	return out
}

// poll reads deals modified since the watermark minus overlap, ingests the ones not yet seen in that state and
// advances the watermark past every deal handled; a deal that failed keeps the watermark before it.
func (r *intakeRun) poll(overlap time.Duration) bool {
	var in *activities.Intake
	var out activities.PollDealsOutput
	since := r.st.Watermark.Add(-overlap)
	if r.st.Watermark.IsZero() {
		since = time.Time{}
	}
	if err := workflow.ExecuteActivity(r.ctx, in.PollDeals, activities.PollDealsInput{Since: since}).Get(r.ctx, &out); err != nil {
		r.st.LastError = "poll: " + err.Error()
		return false
	}
	r.st.Polls++
	changed := false
	next := out.NextWatermark
	for _, d := range out.Deals {
		if at, ok := r.seen[d.OpportunityID]; ok && !d.SystemModstamp.After(at) {
			continue
		}
		c, ok := r.ingest(d.OpportunityID)
		changed = changed || c
		if !ok && d.SystemModstamp.Before(next) {
			next = d.SystemModstamp.Add(-time.Nanosecond)
		}
		if ok {
			r.remember(d)
		}
	}
	if next.After(r.st.Watermark) {
		r.st.Watermark = next
	}
	floor := r.st.Watermark.Add(-overlap)
	for _, d := range r.seenList() {
		if d.SystemModstamp.Before(floor) {
			delete(r.seen, d.OpportunityID)
		}
	}
	return changed
}

// ingest runs IngestDeal and, for a contract, WriteBack; it reports whether revhub's state changed and whether
// the deal was handled (a rejection is handled; a failed call is not, and the next poll tries again).
func (r *intakeRun) ingest(id string) (changed, handled bool) {
	var in *activities.Intake
	var out activities.IngestDealOutput
	err := workflow.ExecuteActivity(r.ctx, in.IngestDeal, activities.IngestDealInput{OpportunityID: id}).Get(r.ctx, &out)
	var ae *temporal.ApplicationError
	switch {
	case errors.As(err, &ae) && (ae.Type() == ErrUnmappableDeal || ae.Type() == ErrInvalidContract || ae.Type() == ErrInvalidInput):
		r.st.Rejected++
		return true, true
	case err != nil:
		r.st.LastError = "ingest " + id + ": " + err.Error()
		return false, false
	}
	switch out.Outcome {
	case activities.IngestCreated:
		r.st.Ingested++
		changed = true
	case activities.IngestAmended:
		r.st.Amended++
		changed = true
	case activities.IngestUnchanged:
		r.st.Unchanged++
	case activities.IngestNotWon:
		r.st.NotWon++
		return false, true
	}
	r.remember(activities.DealRef{OpportunityID: id, SystemModstamp: out.SystemModstamp})
	var wb activities.DealWriteBackOutput
	if err := workflow.ExecuteActivity(r.ctx, in.WriteBack, activities.DealWriteBackInput{ContractID: out.ContractID}).Get(r.ctx, &wb); err != nil {
		r.st.LastError = "write back " + out.ContractID + ": " + err.Error()
		return changed, false
	}
	if wb.Written {
		r.st.WriteBacks++
	}
	return changed, true
}

// reconcile runs the CRM check for today's run; a failure is shown in the status and retried next round.
func (r *intakeRun) reconcile(since time.Time) {
	var in *activities.Intake
	var out activities.CRMReconcileOutput
	day := workflow.Now(r.ctx).UTC().Format(time.DateOnly)
	if err := workflow.ExecuteActivity(r.ctx, in.ReconcileCRM, activities.CRMReconcileInput{Since: since, Day: day}).Get(r.ctx, &out); err != nil {
		r.st.LastError = "reconcile: " + err.Error()
		return
	}
	r.st.LastReconciliation = &out
}

// unique returns ids without repeats, in first-seen order.
func unique(ids []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
