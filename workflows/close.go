package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/internal/recon"
)

// CloseID is the workflow id of an entity's month-end close of a period (YYYY-MM), also its recon run.
func CloseID(entity, period string) string { return activities.CloseRun(entity, period) }

// CloseScheduleID is the id of the Temporal Schedule that starts an entity's monthly close.
func CloseScheduleID(entity string) string { return "close/" + entity }

// Signals of the month-end close; each carries a CloseSignal with who decides and why.
const (
	SignalCloseApprove       = "approve"        // approve a blocked check (or one difference key of it)
	SignalCloseRetryStep     = "retry-step"     // re-run a blocked step's check as the next attempt
	SignalCloseSkipCustomer  = "skip-customer"  // leave a customer out of the close (recorded with the reason)
	SignalCloseRerunCustomer = "rerun-customer" // bill one customer's cycles again, then re-check
)

// Close steps, in order; each name is also the RevhubStep search attribute while it runs.
const (
	CloseStepIntake      = "intake"       // contract intake caught up: CRM vs contracts
	CloseStepUsageCutoff = "usage_cutoff" // wait for the period end plus the late-event grace window
	CloseStepBilling     = "billing"      // billing cycles (children): invoices vs ledger, usage vs rated
	CloseStepCollection  = "collection"   // collection started by the cycles: payments vs provider
	CloseStepRevenue     = "revenue"      // revenue recognized (child): billings vs deferred revenue
	CloseStepLedger      = "ledger_close" // the ledger period closed
	CloseStepERP         = "erp"          // ERP sync (child) and its reconciliation: ledger vs ERP
)

// CloseSteps lists the close's steps in the order they run.
var CloseSteps = []string{CloseStepIntake, CloseStepUsageCutoff, CloseStepBilling, CloseStepCollection, CloseStepRevenue, CloseStepLedger, CloseStepERP}

// Step states of the close (pending, running, done and skipped are shared with BillingCycle).
const (
	StepBlocked = "blocked" // waiting for a decision: approve, retry-step, skip-customer or rerun-customer
)

// Reconciliation states of the close, also the RevhubReconStatus search attribute.
const (
	CloseReconGreen    = "green"    // no check blocks and none needed an approval
	CloseReconBlocked  = "blocked"  // a check (or a failed step) waits for a decision
	CloseReconApproved = "approved" // every check passes, at least one by an approval
)

// Close limits.
const (
	// DefaultCloseFanOut is how many billing cycles run at once unless CloseInput.FanOut says otherwise.
	DefaultCloseFanOut = 50
	// MaxCloseFanOut bounds CloseInput.FanOut.
	MaxCloseFanOut = 200
)

// closeChildrenPerRun bounds the billing cycles one run starts before it continues as new (about
// 10 history events each, far below the 51,200-event limit); a variable so tests can lower it.
var closeChildrenPerRun = 1000

// CloseInput starts one entity's month-end close of a period.
type CloseInput struct {
	Entity string `json:"entity"`
	Period string `json:"period"` // YYYY-MM
	// Grace is the late-event window after the period end before usage is cut off; 0 means DefaultGrace.
	Grace time.Duration `json:"grace,omitempty"`
	// FanOut bounds the billing cycles in flight; 0 means DefaultCloseFanOut.
	FanOut int `json:"fan_out,omitempty"`
	// NoCollect finalizes and delivers invoices without starting their collection.
	NoCollect bool `json:"no_collect,omitempty"`
	// Skip lists steps this close leaves out (e.g. "intake" or "erp" where no CRM or ERP is connected).
	Skip []string `json:"skip,omitempty"`
	// Progress is carried over continue-as-new; callers leave it empty.
	Progress *CloseState `json:"progress,omitempty"`
}

// validate names every bad field at once.
func (in CloseInput) validate() error {
	var ps []string
	if in.Entity == "" || strings.Contains(in.Entity, "/") {
		ps = append(ps, fmt.Sprintf("entity: %q must be a non-empty billing entity without '/'", in.Entity))
	}
	if _, err := time.Parse("2006-01", in.Period); err != nil {
		ps = append(ps, fmt.Sprintf("period: %q is not YYYY-MM", in.Period))
	}
	if in.Grace < 0 {
		ps = append(ps, fmt.Sprintf("grace: %s must not be negative", in.Grace))
	}
	if in.FanOut < 0 || in.FanOut > MaxCloseFanOut {
		ps = append(ps, fmt.Sprintf("fan_out: %d must be between 0 and %d", in.FanOut, MaxCloseFanOut))
	}
	for i, s := range in.Skip {
		if !slices.Contains(CloseSteps, s) || s == CloseStepBilling {
			ps = append(ps, fmt.Sprintf("skip[%d]: %q is not a step that can be skipped (%s)", i, s, strings.Join(skippableSteps(), ", ")))
		}
	}
	if len(ps) > 0 {
		return temporal.NewNonRetryableApplicationError(strings.Join(ps, "; "), ErrInvalidInput, nil)
	}
	return nil
}

func skippableSteps() []string {
	return slices.DeleteFunc(slices.Clone(CloseSteps), func(s string) bool { return s == CloseStepBilling })
}

// CloseSignal is the payload of every close signal; Kind is set from the signal name.
type CloseSignal struct {
	Kind          string `json:"kind,omitempty"`
	Actor         string `json:"actor"`                    // who decides, e.g. user:jane@acme.com or apikey:ops
	Reason        string `json:"reason"`                   // why; required
	Check         string `json:"check,omitempty"`          // approve: the check, e.g. invoices_vs_ledger
	DifferenceKey string `json:"difference_key,omitempty"` // approve: one difference key; empty approves the whole check
	Step          string `json:"step,omitempty"`           // retry-step: the step; empty means the blocked one
	Customer      string `json:"customer,omitempty"`       // skip-customer, rerun-customer: the customer's external id
}

// Validate names every missing field of the signal at once.
func (s CloseSignal) Validate() error {
	var ps []string
	if s.Actor == "" {
		ps = append(ps, "actor: required")
	}
	if s.Reason == "" {
		ps = append(ps, "reason: required: every decision says why")
	}
	switch s.Kind {
	case SignalCloseApprove:
		if s.Check == "" {
			ps = append(ps, "check: required")
		}
	case SignalCloseSkipCustomer, SignalCloseRerunCustomer:
		if s.Customer == "" {
			ps = append(ps, "customer: required")
		}
	case SignalCloseRetryStep:
		if s.Step != "" && !slices.Contains(CloseSteps, s.Step) {
			ps = append(ps, fmt.Sprintf("step: %q is not a close step", s.Step))
		}
	default:
		ps = append(ps, fmt.Sprintf("kind: %q is not a close signal", s.Kind))
	}
	if len(ps) > 0 {
		return errors.New(strings.Join(ps, "; "))
	}
	return nil
}

// CloseCheckState is the latest attempt of one reconciliation check of a step.
type CloseCheckState struct {
	Run         string   `json:"run"`
	Check       string   `json:"check"`
	Attempt     int      `json:"attempt"`
	Status      string   `json:"status"` // green, within_tolerance, blocked or approved
	Differences int      `json:"differences"`
	Breaches    []string `json:"breaches,omitempty"`
	Exceptions  []string `json:"exceptions,omitempty"`
}

// CloseStepState is one step's progress with its counts.
type CloseStepState struct {
	Name    string            `json:"name"`
	State   string            `json:"state"` // pending, running, done, blocked or skipped
	Detail  string            `json:"detail,omitempty"`
	Total   int               `json:"total"`   // billing: cycles due
	Done    int               `json:"done"`    // billing: cycles billed
	Failed  int               `json:"failed"`  // billing: cycles failed, waiting for a decision
	Skipped int               `json:"skipped"` // billing: cycles of skipped customers
	Checks  []CloseCheckState `json:"checks,omitempty"`
}

// CloseDecision is one signal the close acted on, with who sent it, why and what came of it.
type CloseDecision struct {
	Seq     int         `json:"seq"`
	Signal  CloseSignal `json:"signal"`
	Outcome string      `json:"outcome"`
	At      time.Time   `json:"at"`
}

// CycleFailure is a billing cycle whose child workflow failed.
type CycleFailure struct {
	Cycle activities.DueCycle `json:"cycle"`
	Error string              `json:"error"`
}

// CloseState is the close's progress: the status query, the memo's source and the result.
type CloseState struct {
	Entity    string           `json:"entity"`
	Period    string           `json:"period"`
	Run       string           `json:"run"`
	Step      string           `json:"step"`  // the current step
	Recon     string           `json:"recon"` // green, blocked or approved
	Steps     []CloseStepState `json:"steps"`
	Skipped   []string         `json:"skipped_customers,omitempty"` // customers left out by decision, sorted
	Decisions []CloseDecision  `json:"decisions,omitempty"`
	Pending   []CloseSignal    `json:"pending,omitempty"` // signals received, not yet acted on
	Done      bool             `json:"done"`
	Runs      int              `json:"runs"` // continue-as-new generations before this one
	// PriorAttempts is, per check, the latest attempt stored before this close started (a re-run).
	PriorAttempts map[string]int `json:"prior_attempts,omitempty"`
	// PriorDecisions is the highest decision number recorded before this close started (a re-run).
	PriorDecisions int `json:"prior_decisions,omitempty"`

	// Billing progress, carried over continue-as-new.
	BillingAfter     string                `json:"billing_after,omitempty"` // DueCycles cursor
	BillingQueue     []activities.DueCycle `json:"billing_queue,omitempty"` // fetched, not started
	BillingListed    bool                  `json:"billing_listed,omitempty"`
	BillingFailed    []CycleFailure        `json:"billing_failed,omitempty"`
	Providers        []string              `json:"providers,omitempty"` // payment providers of the billed cycles, sorted
	ChildrenLaunched int                   `json:"children_launched"`   // billing cycles started, all runs
}

func newCloseState(in CloseInput) CloseState {
	st := CloseState{Entity: in.Entity, Period: in.Period, Run: CloseID(in.Entity, in.Period), Recon: CloseReconGreen}
	for _, s := range CloseSteps {
		st.Steps = append(st.Steps, CloseStepState{Name: s, State: StepPending})
	}
	return st
}

// Summary is one line per step, as the memo shows it: "billing: running (12/40 billed, 1 failed)".
func (s CloseState) Summary() []string {
	out := make([]string, 0, len(s.Steps))
	for _, st := range s.Steps {
		line := st.Name + ": " + st.State
		if st.Total > 0 {
			line += fmt.Sprintf(" (%d/%d billed, %d failed, %d skipped)", st.Done, st.Total, st.Failed, st.Skipped)
		}
		for _, c := range st.Checks {
			line += fmt.Sprintf(" [%s #%d %s, %d differences]", c.Check, c.Attempt, c.Status, c.Differences)
		}
		out = append(out, line)
	}
	return out
}

// errContinueAsNew stops the billing step so the workflow can continue as new.
var errContinueAsNew = errors.New("continue as new")

// closeRun is one run of the close workflow.
type closeRun struct {
	ctx  workflow.Context
	in   CloseInput
	st   *CloseState
	last string // what was last published, so unchanged progress adds no history events
}

// MonthEndClose runs one entity's month-end close of a period, step by step: contract intake
// caught up (CRM vs contracts), usage cut off after the grace window, billing cycles as bounded
// child workflows (invoices vs ledger, raw usage vs rated quantities), collection (payments vs providers), revenue recognized
// (billings vs deferred revenue), the ledger period closed, the ERP synced and reconciled. A check
// beyond its tolerance, or a failed billing cycle, stops the close at that step until a person
// decides by signal (approve, retry-step, skip-customer, rerun-customer); every decision is
// recorded with its actor and reason. Progress is in the status query, the memo and the search
// attributes; long closes continue as new carrying it.
func MonthEndClose(ctx workflow.Context, in CloseInput) (CloseState, error) {
	if err := in.validate(); err != nil {
		return CloseState{}, err
	}
	st := newCloseState(in)
	if in.Progress != nil {
		st = *in.Progress
		st.Runs++
	}
	c := &closeRun{ctx: ctx, in: in, st: &st}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (CloseState, error) { return st, nil }); err != nil {
		return st, err
	}
	for _, name := range []string{SignalCloseApprove, SignalCloseRetryStep, SignalCloseSkipCustomer, SignalCloseRerunCustomer} {
		ch := workflow.GetSignalChannel(ctx, name)
		workflow.Go(ctx, func(gctx workflow.Context) {
			for {
				var s CloseSignal
				ch.Receive(gctx, &s)
				s.Kind = name
				st.Pending = append(st.Pending, s)
			}
		})
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		temporal.NewSearchAttributeKeyKeyword(SearchAttrEntity).ValueSet(in.Entity),
		temporal.NewSearchAttributeKeyKeyword(SearchAttrPeriod).ValueSet(in.Period))
	c.publish()
	if in.Progress == nil {
		// A close started again checks afresh: each check continues from its latest stored attempt.
		var a *activities.Close
		if err := workflow.ExecuteActivity(dbActivity(ctx), a.LatestAttempts, activities.RunRef{Run: st.Run}).Get(ctx, &st.PriorAttempts); err != nil {
			return st, err
		}
		// ... and numbers its decisions after the recorded ones (histories from before this read none).
		if workflow.GetVersion(ctx, "close-decision-seq", workflow.DefaultVersion, 1) == 1 {
			if err := workflow.ExecuteActivity(dbActivity(ctx), a.PriorDecisions, activities.RunRef{Run: st.Run}).Get(ctx, &st.PriorDecisions); err != nil {
				return st, err
			}
		}
	}

	for i, name := range CloseSteps {
		if s := st.Steps[i].State; s == StepDone || s == StepSkipped {
			continue
		}
		if err := c.drain(i); err != nil {
			return st, err
		}
		if slices.Contains(in.Skip, name) {
			c.set(i, StepSkipped, "left out by the close's input")
			continue
		}
		c.set(i, StepRunning, "")
		var err error
		switch name {
		case CloseStepIntake:
			err = c.intake(i)
		case CloseStepUsageCutoff:
			err = c.usageCutoff(i)
		case CloseStepBilling:
			err = c.billing(i)
		case CloseStepCollection:
			err = c.gate(i, recon.CheckPaymentsVsProvider, c.closeCheck(i, recon.CheckPaymentsVsProvider))
		case CloseStepRevenue:
			err = c.revenue(i)
		case CloseStepLedger:
			err = c.ledgerClose(i)
		case CloseStepERP:
			err = c.erp(i)
		}
		if errors.Is(err, errContinueAsNew) {
			next := in
			next.Progress = &st
			return st, workflow.NewContinueAsNewError(ctx, MonthEndClose, next)
		}
		if err != nil {
			return st, err
		}
		if st.Steps[i].State == StepRunning {
			c.set(i, StepDone, st.Steps[i].Detail)
		}
	}
	st.Done, st.Step = true, "done"
	c.publish()
	// Decisions sent after the last step are acknowledged in the state, not lost.
	if err := c.drain(len(CloseSteps) - 1); err != nil {
		return st, err
	}
	return st, nil
}

// set changes a step's state and republishes the progress.
func (c *closeRun) set(i int, state, detail string) {
	c.st.Steps[i].State, c.st.Steps[i].Detail = state, detail
	c.st.Step = c.st.Steps[i].Name
	c.publish()
}

// publish mirrors the state into the memo and the search attributes.
func (c *closeRun) publish() {
	st := c.st
	st.Recon = CloseReconGreen
	for _, s := range st.Steps {
		if s.State == StepBlocked {
			st.Recon = CloseReconBlocked
			break
		}
		for _, ch := range s.Checks {
			if ch.Status == string(recon.StatusApproved) {
				st.Recon = CloseReconApproved
			}
		}
	}
	summary := st.Summary()
	key := st.Step + "|" + st.Recon + "|" + strings.Join(summary, "|")
	if key == c.last {
		return
	}
	c.last = key
	_ = workflow.UpsertTypedSearchAttributes(c.ctx,
		temporal.NewSearchAttributeKeyKeyword(SearchAttrStep).ValueSet(st.Step),
		temporal.NewSearchAttributeKeyKeyword(SearchAttrReconState).ValueSet(st.Recon))
	_ = workflow.UpsertMemo(c.ctx, map[string]any{"progress": summary, "recon": st.Recon, "step": st.Step})
}

// setCheck records a check's latest attempt in its step.
func (c *closeRun) setCheck(i int, cs CloseCheckState) {
	checks := c.st.Steps[i].Checks
	for k := range checks {
		if checks[k].Check == cs.Check {
			checks[k] = cs
			c.publish()
			return
		}
	}
	c.st.Steps[i].Checks = append(checks, cs)
	c.publish()
}

func (c *closeRun) checkState(i int, check string) (CloseCheckState, bool) {
	for _, cs := range c.st.Steps[i].Checks {
		if cs.Check == check {
			return cs, true
		}
	}
	return CloseCheckState{}, false
}

// checkRunner runs one attempt of a step's check.
type checkRunner func(attempt int) (CloseCheckState, error)

// gate runs a step's check until it passes: a blocked check (or a failed run of it) waits for a
// decision; approve lets it pass, retry-step, skip-customer and rerun-customer re-run it as the next attempt.
func (c *closeRun) gate(i int, check string, run checkRunner) error {
	attempt := c.st.PriorAttempts[check] + 1
	if cs, ok := c.checkState(i, check); ok {
		attempt = max(attempt, cs.Attempt+1)
	}
	for {
		cs, err := run(attempt)
		if err != nil {
			var canceled *temporal.CanceledError
			if errors.As(err, &canceled) {
				return err
			}
			c.set(i, StepBlocked, "failed: "+err.Error())
		} else {
			c.setCheck(i, cs)
			if cs.Status != string(recon.StatusBlocked) {
				c.set(i, StepRunning, "")
				return nil
			}
			c.set(i, StepBlocked, fmt.Sprintf("%s attempt %d: %d difference(s) beyond tolerance", cs.Check, cs.Attempt, cs.Differences))
		}
		passed, err := c.waitDecision(i)
		if err != nil {
			return err
		}
		if passed {
			c.set(i, StepRunning, "approved")
			return nil
		}
		c.set(i, StepRunning, "")
		attempt++
	}
}

// closeCheck runs one of the close's own checks through the Close activity.
func (c *closeRun) closeCheck(i int, check string) checkRunner {
	return func(attempt int) (CloseCheckState, error) {
		var a *activities.Close
		var out activities.CheckOutput
		err := workflow.ExecuteActivity(dbActivity(c.ctx), a.RunCheck, activities.CheckInput{
			Entity: c.in.Entity, Period: c.in.Period, Run: c.st.Run, Step: c.st.Steps[i].Name, Check: check, Attempt: attempt,
			Providers: c.st.Providers, SkipCustomers: c.st.Skipped,
		}).Get(c.ctx, &out)
		if err != nil {
			return CloseCheckState{}, err
		}
		return CloseCheckState{Run: out.Run, Check: out.Check, Attempt: out.Attempt, Status: string(out.Status), Differences: out.Differences,
			Breaches: out.Breaches, Exceptions: out.Exceptions}, nil
	}
}

// drain acts on the signals received while nothing was blocked (skips, re-runs; approvals and
// retries have nothing to act on and are recorded as such).
func (c *closeRun) drain(i int) error {
	for len(c.st.Pending) > 0 {
		if _, err := c.decide(i, false); err != nil {
			return err
		}
	}
	return nil
}

// waitDecision waits for a decision on the blocked step i; it reports whether the step may pass
// as it is (an approval) rather than run its check again.
func (c *closeRun) waitDecision(i int) (bool, error) {
	for {
		if err := workflow.Await(c.ctx, func() bool { return len(c.st.Pending) > 0 }); err != nil {
			return false, err
		}
		outcome, err := c.decide(i, true)
		if err != nil {
			return false, err
		}
		switch outcome {
		case decisionPass:
			return true, nil
		case decisionRerun:
			return false, nil
		}
	}
}

type decisionOutcome int

const (
	decisionNone  decisionOutcome = iota // recorded; the step still waits
	decisionPass                         // the blocked check was approved
	decisionRerun                        // run the step's check again
)

// decide acts on the oldest pending signal for step i (blocked or not) and records it.
func (c *closeRun) decide(i int, blocked bool) (decisionOutcome, error) {
	s := c.st.Pending[0]
	c.st.Pending = c.st.Pending[1:]
	seq := c.st.PriorDecisions + len(c.st.Decisions) + 1
	note := func(outcome string) {
		c.st.Decisions = append(c.st.Decisions, CloseDecision{Seq: seq, Signal: s, Outcome: outcome, At: workflow.Now(c.ctx)})
		c.publish()
	}
	if err := s.Validate(); err != nil {
		note("rejected: " + err.Error())
		return decisionNone, nil
	}
	step := c.st.Steps[i].Name
	record := func(action string, details map[string]string) error {
		var a *activities.Close
		return workflow.ExecuteActivity(dbActivity(c.ctx), a.RecordDecision, activities.DecisionInput{
			Key: activities.DecisionKey(c.st.Run, seq), Run: c.st.Run, Action: action, Actor: s.Actor, Reason: s.Reason, Details: details,
		}).Get(c.ctx, nil)
	}
	switch s.Kind {
	case SignalCloseApprove:
		cs, ok := c.checkState(i, s.Check)
		if !blocked || !ok || cs.Status != string(recon.StatusBlocked) {
			note(fmt.Sprintf("rejected: check %q is not blocked at step %s", s.Check, step))
			return decisionNone, nil
		}
		var a *activities.Close
		var out activities.ApproveOutput
		err := workflow.ExecuteActivity(dbActivity(c.ctx), a.Approve, activities.ApproveInput{
			Run: cs.Run, Check: s.Check, DifferenceKey: s.DifferenceKey, Actor: s.Actor, Reason: s.Reason,
		}).Get(c.ctx, &out)
		if err != nil {
			note("rejected: " + err.Error())
			return decisionNone, nil
		}
		if out.Status == recon.StatusApproved {
			cs.Status = string(recon.StatusApproved)
			c.setCheck(i, cs)
			note(fmt.Sprintf("approved %s attempt %d (decision %d)", s.Check, out.Attempt, out.DecisionID))
			return decisionPass, nil
		}
		note(fmt.Sprintf("approved difference %q of %s; other differences still block", s.DifferenceKey, s.Check))
		return decisionNone, nil
	case SignalCloseRetryStep:
		if !blocked || (s.Step != "" && s.Step != step) {
			note(fmt.Sprintf("rejected: step %q is not blocked (the close is at %s)", s.Step, step))
			return decisionNone, nil
		}
		if err := record(activities.ActionCloseRetryStep, map[string]string{"step": step}); err != nil {
			return decisionNone, err
		}
		note("retrying " + step)
		return decisionRerun, nil
	case SignalCloseSkipCustomer:
		if err := record(activities.ActionCloseSkipCustomer, map[string]string{"customer": s.Customer, "step": step}); err != nil {
			return decisionNone, err
		}
		if !slices.Contains(c.st.Skipped, s.Customer) {
			c.st.Skipped = append(c.st.Skipped, s.Customer)
			slices.Sort(c.st.Skipped)
		}
		c.forgetFailures(s.Customer)
		note("skipping customer " + s.Customer)
		if blocked {
			return decisionRerun, nil
		}
		return decisionNone, nil
	case SignalCloseRerunCustomer:
		if err := record(activities.ActionCloseRerunCustomer, map[string]string{"customer": s.Customer, "step": step}); err != nil {
			return decisionNone, err
		}
		billed, err := c.rerunCustomer(s.Customer)
		if err != nil {
			return decisionNone, err
		}
		note(fmt.Sprintf("re-ran %d billing cycle(s) of %s", billed, s.Customer))
		if blocked {
			return decisionRerun, nil
		}
		return decisionNone, nil
	}
	return decisionNone, nil
}

// forgetFailures drops a skipped customer's failed cycles from the billing step.
func (c *closeRun) forgetFailures(customer string) {
	b := c.billingStep()
	kept := c.st.BillingFailed[:0]
	for _, f := range c.st.BillingFailed {
		if f.Cycle.Customer == customer {
			b.Failed--
			b.Skipped++
			continue
		}
		kept = append(kept, f)
	}
	c.st.BillingFailed = kept
}

func (c *closeRun) billingStep() *CloseStepState {
	return &c.st.Steps[slices.Index(CloseSteps, CloseStepBilling)]
}

// intake checks the contract intake caught up: closed-won deals vs contracts, through the period.
func (c *closeRun) intake(i int) error {
	start, _ := time.Parse("2006-01", c.in.Period)
	day := start.AddDate(0, 1, 0).Format(time.DateOnly)
	return c.gate(i, recon.CheckCRMVsContracts, func(int) (CloseCheckState, error) {
		var in *activities.Intake
		var out activities.CRMReconcileOutput
		if err := workflow.ExecuteActivity(providerActivity(c.ctx), in.ReconcileCRM, activities.CRMReconcileInput{Day: day, Entity: c.in.Entity}).Get(c.ctx, &out); err != nil {
			return CloseCheckState{}, err
		}
		return CloseCheckState{Run: out.Run, Check: recon.CheckCRMVsContracts, Attempt: out.Attempt, Status: out.Status, Differences: out.Differences,
			Breaches: out.Breaches, Exceptions: out.Exceptions}, nil
	})
}

// usageCutoff waits (a durable timer) for the period end plus the late-event grace window.
func (c *closeRun) usageCutoff(i int) error {
	start, _ := time.Parse("2006-01", c.in.Period)
	grace := c.in.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	at := start.AddDate(0, 1, 0).Add(grace)
	if wait := at.Sub(workflow.Now(c.ctx)); wait > 0 {
		c.set(i, StepRunning, "until "+at.UTC().Format(time.RFC3339))
		if err := workflow.Sleep(c.ctx, wait); err != nil {
			return err
		}
	}
	c.st.Steps[i].Detail = "usage cut off at " + at.UTC().Format(time.RFC3339)
	return nil
}

// billing runs every due cycle as a BillingCycle child, at most FanOut at a time, waits for a
// decision on failed cycles, then gates on invoices vs ledger and on usage vs rated quantities.
func (c *closeRun) billing(i int) error {
	for {
		if err := c.billAll(i); err != nil {
			return err
		}
		b := &c.st.Steps[i]
		if len(c.st.BillingFailed) == 0 {
			b.Detail = fmt.Sprintf("%d billed, %d skipped", b.Done, b.Skipped)
			break
		}
		c.set(i, StepBlocked, fmt.Sprintf("%d billing cycle(s) failed, first: %s %s: %s", len(c.st.BillingFailed),
			c.st.BillingFailed[0].Cycle.Customer, c.st.BillingFailed[0].Cycle.ContractID, c.st.BillingFailed[0].Error))
		_ = workflow.UpsertTypedSearchAttributes(c.ctx, temporal.NewSearchAttributeKeyKeyword(SearchAttrCustomer).ValueSet(c.st.BillingFailed[0].Cycle.Customer))
		passed, err := c.waitDecision(i)
		if err != nil {
			return err
		}
		c.set(i, StepRunning, "")
		if passed || len(c.st.BillingFailed) == 0 {
			continue
		}
		// retry-step: bill the failed cycles again.
		retry := c.st.BillingFailed
		c.st.BillingFailed = nil
		b.Failed -= len(retry)
		b.Total -= len(retry)
		for _, f := range retry {
			c.st.BillingQueue = append(c.st.BillingQueue, f.Cycle)
		}
	}
	if err := c.gate(i, recon.CheckInvoicesVsLedger, c.closeCheck(i, recon.CheckInvoicesVsLedger)); err != nil {
		return err
	}
	return c.gate(i, recon.CheckUsageVsRated, c.closeCheck(i, recon.CheckUsageVsRated))
}

// billAll pages through the due cycles and runs them with bounded fan-out.
func (c *closeRun) billAll(i int) error {
	fanOut := c.in.FanOut
	if fanOut == 0 {
		fanOut = DefaultCloseFanOut
	}
	b := &c.st.Steps[i]
	var act *activities.Close
	sel := workflow.NewSelector(c.ctx)
	inFlight, startedThisRun := 0, 0
	stop := false
	for {
		// Skips and re-runs sent while billing runs take effect before the next cycles start.
		if err := c.drain(i); err != nil {
			return err
		}
		if !stop && (startedThisRun >= closeChildrenPerRun || workflow.GetInfo(c.ctx).GetContinueAsNewSuggested()) {
			stop = true
		}
		if !stop && len(c.st.BillingQueue) == 0 && !c.st.BillingListed {
			var page activities.DueOutput
			// Whole pages, independent of the fan-out: each page reads the entity's contracts once.
			if err := workflow.ExecuteActivity(dbActivity(c.ctx), act.DueCycles, activities.DueInput{
				Entity: c.in.Entity, Period: c.in.Period, After: c.st.BillingAfter, Limit: activities.MaxDueBatch,
			}).Get(c.ctx, &page); err != nil {
				return err
			}
			c.st.BillingQueue = append(c.st.BillingQueue, page.Cycles...)
			c.st.BillingAfter = page.Next
			c.st.BillingListed = page.Next == ""
		}
		for !stop && inFlight < fanOut && len(c.st.BillingQueue) > 0 {
			cy := c.st.BillingQueue[0]
			c.st.BillingQueue = c.st.BillingQueue[1:]
			b.Total++
			if slices.Contains(c.st.Skipped, cy.Customer) {
				b.Skipped++
				continue
			}
			if cy.Provider != "" && !slices.Contains(c.st.Providers, cy.Provider) {
				c.st.Providers = append(c.st.Providers, cy.Provider)
				slices.Sort(c.st.Providers)
			}
			inFlight++
			startedThisRun++
			c.st.ChildrenLaunched++
			fut := c.startCycle(cy)
			sel.AddFuture(fut, func(f workflow.Future) {
				inFlight--
				if err := f.Get(c.ctx, nil); err != nil {
					c.st.BillingFailed = append(c.st.BillingFailed, CycleFailure{Cycle: cy, Error: err.Error()})
					b.Failed++
				} else {
					b.Done++
				}
				c.publish()
			})
		}
		c.publish()
		if inFlight == 0 {
			if len(c.st.BillingQueue) == 0 && c.st.BillingListed {
				return nil
			}
			if stop {
				return errContinueAsNew
			}
			continue
		}
		sel.Select(c.ctx)
	}
}

// startCycle starts one BillingCycle child (id BillingCycleID: a cycle already billed is not billed twice).
func (c *closeRun) startCycle(cy activities.DueCycle) workflow.ChildWorkflowFuture {
	ctx := workflow.WithChildOptions(c.ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            BillingCycleID(cy.ContractID, cy.PeriodStart),
		TypedSearchAttributes: CycleSearchAttributes(c.in.Entity, cy.Customer, cy.PeriodStart),
	})
	return workflow.ExecuteChildWorkflow(ctx, BillingCycle, BillingCycleInput{
		ContractID: cy.ContractID, PeriodStart: cy.PeriodStart, PeriodEnd: cy.PeriodEnd, Grace: c.in.Grace, NoCollect: c.in.NoCollect,
	})
}

// rerunCustomer bills one customer's due cycles again (each child is idempotent by its invoice key)
// and returns how many it ran; the customer is no longer skipped.
func (c *closeRun) rerunCustomer(customer string) (int, error) {
	var act *activities.Close
	c.st.Skipped = slices.DeleteFunc(c.st.Skipped, func(s string) bool { return s == customer })
	var cycles []activities.DueCycle
	after := ""
	for {
		var page activities.DueOutput
		if err := workflow.ExecuteActivity(dbActivity(c.ctx), act.DueCycles, activities.DueInput{
			Entity: c.in.Entity, Period: c.in.Period, After: after, Limit: activities.MaxDueBatch,
		}).Get(c.ctx, &page); err != nil {
			return 0, err
		}
		for _, cy := range page.Cycles {
			if cy.Customer == customer {
				cycles = append(cycles, cy)
			}
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	b := c.billingStep()
	c.st.BillingFailed = slices.DeleteFunc(c.st.BillingFailed, func(f CycleFailure) bool {
		if f.Cycle.Customer == customer {
			b.Failed--
			b.Total--
			return true
		}
		return false
	})
	for _, cy := range cycles {
		if err := c.startCycle(cy).Get(c.ctx, nil); err != nil {
			c.st.BillingFailed = append(c.st.BillingFailed, CycleFailure{Cycle: cy, Error: err.Error()})
			b.Failed++
			b.Total++
		}
	}
	c.publish()
	return len(cycles), nil
}

// revenue runs the period's revenue recognition as a child, then gates on billings vs deferred revenue.
func (c *closeRun) revenue(i int) error {
	done := false
	err := c.gate(i, recon.CheckBillingsVsDeferredRevenue, func(attempt int) (CloseCheckState, error) {
		if !done {
			ctx := workflow.WithChildOptions(c.ctx, workflow.ChildWorkflowOptions{WorkflowID: RevenueID(c.in.Entity, c.in.Period)})
			if err := workflow.ExecuteChildWorkflow(ctx, RecognizeRevenue, RecognizeRevenueInput{Entity: c.in.Entity, Month: c.in.Period}).Get(c.ctx, nil); err != nil {
				return CloseCheckState{}, fmt.Errorf("revenue recognition: %w", err)
			}
			done = true
		}
		return c.closeCheck(i, recon.CheckBillingsVsDeferredRevenue)(attempt)
	})
	return err
}

// ledgerClose closes the ledger period: no entry dated in it is accepted afterwards.
func (c *closeRun) ledgerClose(i int) error {
	var a *activities.Close
	if err := workflow.ExecuteActivity(dbActivity(c.ctx), a.CloseLedgerPeriod, activities.ClosePeriodInput{
		Entity: c.in.Entity, Period: c.in.Period, By: c.st.Run,
	}).Get(c.ctx, nil); err != nil {
		return err
	}
	c.st.Steps[i].Detail = "period " + c.in.Period + " closed"
	return nil
}

// erp syncs the ledger to the ERP (an ERPSync child) and gates on its ledger vs ERP reconciliation.
func (c *closeRun) erp(i int) error {
	return c.gate(i, recon.CheckLedgerVsERP, func(int) (CloseCheckState, error) {
		ctx := workflow.WithChildOptions(c.ctx, workflow.ChildWorkflowOptions{WorkflowID: ERPCloseSyncID(c.in.Entity, c.in.Period)})
		var out ERPSyncState
		if err := workflow.ExecuteChildWorkflow(ctx, ERPSync, ERPCloseInput(c.in.Entity, c.in.Period, c.st.Run, CloseStepERP)).Get(c.ctx, &out); err != nil {
			return CloseCheckState{}, fmt.Errorf("erp sync: %w", err)
		}
		for _, r := range out.Reconciled {
			if r.Period == c.in.Period {
				return CloseCheckState{Run: r.Run, Check: recon.CheckLedgerVsERP, Attempt: r.Attempt, Status: string(r.Status),
					Differences: r.Differences, Exceptions: r.Exceptions}, nil
			}
		}
		return CloseCheckState{}, fmt.Errorf("erp sync did not reconcile %s", c.in.Period)
	})
}
