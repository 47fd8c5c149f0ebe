package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/revhub/revhub/activities"
)

// RevenueRunTimeout bounds one attempt of an entity's recognition run.
const RevenueRunTimeout = 30 * time.Minute

// RevenueID is the workflow id of one entity's revenue recognition for a month: at most one run at a time.
func RevenueID(entity, month string) string { return fmt.Sprintf("revrec/%s/%s", entity, month) }

// RecognizeRevenueInput asks for an entity's revenue recognition through a month.
type RecognizeRevenueInput struct {
	Entity string `json:"entity"`
	Month  string `json:"month"` // YYYY-MM
	// Amendments are revenue ops' accounting methods for contract amendments, needed once per amendment
	// (later runs reuse the recorded method; see activities.RecognizeInput).
	Amendments []activities.AmendmentMethod `json:"amendments,omitempty"`
}

// Revenue run statuses, as the status query reports them.
const (
	RevenueRecognizing = "recognizing"
	RevenueDone        = "done"
	RevenueFailed      = "failed"
)

// RevenueState is what the status query of RecognizeRevenue returns.
type RevenueState struct {
	Entity string                      `json:"entity"`
	Month  string                      `json:"month"`
	Status string                      `json:"status"` // recognizing, done or failed
	Result *activities.RecognizeOutput `json:"result,omitempty"`
	Error  string                      `json:"error,omitempty"`
}

// RecognizeRevenue runs the month's revenue recognition of one billing entity: it computes and stores every
// contract's schedule and posts the recognition and breakage entries through the month to the ledger.
// Rerunning it (same id, RevenueID) posts nothing new; contracts that cannot be recognized fail it with a
// non-retryable InvalidContract after the others are posted.
func RecognizeRevenue(ctx workflow.Context, in RecognizeRevenueInput) (activities.RecognizeOutput, error) {
	st := RevenueState{Entity: in.Entity, Month: in.Month, Status: RevenueRecognizing}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (RevenueState, error) { return st, nil }); err != nil {
		return activities.RecognizeOutput{}, err
	}
	fail := func(err error) (activities.RecognizeOutput, error) {
		st.Status, st.Error = RevenueFailed, err.Error()
		return activities.RecognizeOutput{}, err
	}
	if err := in.validate(); err != nil {
		return fail(temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidInput, nil))
	}
	var rev *activities.Revenue
	var out activities.RecognizeOutput
	// dbActivity's retries, with room for an entity of many contracts; the activity heartbeats per contract.
	actx := workflow.WithHeartbeatTimeout(workflow.WithStartToCloseTimeout(dbActivity(ctx), RevenueRunTimeout), time.Minute)
	err := workflow.ExecuteActivity(actx, rev.RecognizeMonth,
		activities.RecognizeInput{Entity: in.Entity, Month: in.Month, Amendments: in.Amendments}).Get(ctx, &out)
	if err != nil {
		return fail(err)
	}
	st.Status, st.Result = RevenueDone, &out
	workflow.GetLogger(ctx).Info("revenue recognized", "entity", in.Entity, "month", in.Month,
		"arrangements", out.Arrangements, "entries_posted", out.EntriesPosted)
	return out, nil
}

// validate checks what the workflow needs before it schedules anything (the activity checks the rest).
func (in RecognizeRevenueInput) validate() error {
	var ps []string
	if in.Entity == "" || strings.Contains(in.Entity, "/") {
		ps = append(ps, fmt.Sprintf("entity: %q must be a non-empty billing entity without '/'", in.Entity))
	}
	if _, err := time.Parse("2006-01", in.Month); err != nil {
		ps = append(ps, fmt.Sprintf("month: %q is not YYYY-MM", in.Month))
	}
	if len(ps) > 0 {
		return errors.New(strings.Join(ps, "; "))
	}
	return nil
}
