package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ScheduledCloseInput is what the monthly schedule passes: the close's options without a period,
// which is the month before the scheduled time.
type ScheduledCloseInput struct {
	Entity    string        `json:"entity"`
	Grace     time.Duration `json:"grace,omitempty"`
	FanOut    int           `json:"fan_out,omitempty"`
	NoCollect bool          `json:"no_collect,omitempty"`
	Skip      []string      `json:"skip,omitempty"`
}

// ScheduledClose starts the previous month's MonthEndClose of an entity under its deterministic id
// (CloseID) and returns that id; the close outlives it. A close already started (on demand) is
// left as it is.
func ScheduledClose(ctx workflow.Context, in ScheduledCloseInput) (string, error) {
	now := workflow.Now(ctx).UTC()
	period := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01")
	id := CloseID(in.Entity, period)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            id,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	})
	fut := workflow.ExecuteChildWorkflow(cctx, MonthEndClose, CloseInput{Entity: in.Entity, Period: period, Grace: in.Grace, FanOut: in.FanOut, NoCollect: in.NoCollect, Skip: in.Skip})
	var exec workflow.Execution
	if err := fut.GetChildWorkflowExecution().Get(ctx, &exec); err != nil {
		if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
			return id, nil
		}
		return "", err
	}
	return id, nil
}

// closeCalendar is the schedule's time: the 1st of each month, once the grace window has passed.
func closeCalendar(grace time.Duration) client.ScheduleCalendarSpec {
	if grace <= 0 {
		grace = DefaultGrace
	}
	at := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(grace)
	day := at.Day()
	if day > 28 {
		day = 28
	}
	return client.ScheduleCalendarSpec{
		DayOfMonth: []client.ScheduleRange{{Start: day}},
		Hour:       []client.ScheduleRange{{Start: at.Hour()}},
		Minute:     []client.ScheduleRange{{Start: at.Minute()}},
		Second:     []client.ScheduleRange{{Start: 0}},
		Month:      []client.ScheduleRange{{Start: 1, End: 12}},
		Comment:    "monthly, after the late-usage grace window",
	}
}

// EnsureCloseSchedule creates the Temporal Schedule close/{entity} that starts the previous month's
// close of the entity on the 1st of each month once the grace window has passed (UTC). Calling it
// again is a no-op, or updates the time, options and task queue when they changed, so every
// worker or deploy may call it at start.
func EnsureCloseSchedule(ctx context.Context, c client.Client, taskQueue string, in ScheduledCloseInput) error {
	if in.Entity == "" || taskQueue == "" {
		return fmt.Errorf("close schedule: entity and task queue are required")
	}
	id := CloseScheduleID(in.Entity)
	spec := client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{closeCalendar(in.Grace)}}
	action := &client.ScheduleWorkflowAction{ID: id, Workflow: ScheduledClose, Args: []any{in}, TaskQueue: taskQueue}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: id, Spec: spec, Action: action,
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: 7 * 24 * time.Hour, // a scheduler outage of up to a week still starts the close
		Note:          "revhub: month-end close of " + in.Entity,
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("close schedule %s: create: %w", id, err)
	}
	err = c.ScheduleClient().GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(u client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := u.Description.Schedule
			if cur, ok := s.Action.(*client.ScheduleWorkflowAction); ok && cur.TaskQueue == taskQueue && s.Spec != nil &&
				len(s.Spec.Calendars) == 1 && sameCalendar(s.Spec.Calendars[0], spec.Calendars[0]) && sameScheduledInput(cur.Args, in) {
				return nil, temporal.ErrSkipScheduleUpdate
			}
			s.Spec, s.Action = &spec, action
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("close schedule %s: update: %w", id, err)
	}
	return nil
}

func sameCalendar(a, b client.ScheduleCalendarSpec) bool {
	return slices.Equal(a.DayOfMonth, b.DayOfMonth) && slices.Equal(a.Hour, b.Hour) && slices.Equal(a.Minute, b.Minute)
}

// sameScheduledInput compares the stored action's argument (still encoded) with in.
func sameScheduledInput(args []any, in ScheduledCloseInput) bool {
	if len(args) != 1 {
		return false
	}
	var got ScheduledCloseInput
	switch a := args[0].(type) {
	case ScheduledCloseInput:
		got = a
	default:
		p, ok := args[0].(interface{ Get(any) error })
		if !ok || p.Get(&got) != nil {
			return false
		}
	}
	return got.Entity == in.Entity && got.Grace == in.Grace && got.FanOut == in.FanOut && got.NoCollect == in.NoCollect && slices.Equal(got.Skip, in.Skip)
}

// StartClose starts an entity's close of a period on demand under its id (CloseID); a close of the
// period already running is returned as it is (one close per entity and period at a time), and a
// finished one runs again (each step is idempotent, so it only completes what is missing).
func StartClose(ctx context.Context, c client.Client, taskQueue string, in CloseInput) (client.WorkflowRun, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       CloseID(in.Entity, in.Period),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(SearchAttrEntity).ValueSet(in.Entity),
			temporal.NewSearchAttributeKeyKeyword(SearchAttrPeriod).ValueSet(in.Period)),
	}, MonthEndClose, in)
	if err != nil {
		return nil, fmt.Errorf("start close %s: %w", CloseID(in.Entity, in.Period), err)
	}
	return run, nil
}

// ErrCloseNotFound means no close of that entity and period was ever started.
var ErrCloseNotFound = errors.New("close not found")

// CloseStatus returns the progress of the latest close of an entity and period (the status query).
func CloseStatus(ctx context.Context, c client.Client, entity, period string) (CloseState, error) {
	var st CloseState
	v, err := c.QueryWorkflow(ctx, CloseID(entity, period), "", QueryStatus)
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return st, fmt.Errorf("%s: %w", CloseID(entity, period), ErrCloseNotFound)
		}
		return st, fmt.Errorf("query close %s: %w", CloseID(entity, period), err)
	}
	if err := v.Get(&st); err != nil {
		return st, fmt.Errorf("decode close status %s: %w", CloseID(entity, period), err)
	}
	return st, nil
}

// SignalClose validates a decision and sends it to the running close of an entity and period.
func SignalClose(ctx context.Context, c client.Client, entity, period, signal string, s CloseSignal) error {
	s.Kind = signal
	if err := s.Validate(); err != nil {
		return &InvalidSignalError{Err: err}
	}
	if err := c.SignalWorkflow(ctx, CloseID(entity, period), "", signal, s); err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return fmt.Errorf("%s is not running: %w", CloseID(entity, period), ErrCloseNotFound)
		}
		return fmt.Errorf("signal %s to close %s: %w", signal, CloseID(entity, period), err)
	}
	return nil
}

// InvalidSignalError is a decision missing what it needs (actor, reason, check or customer).
type InvalidSignalError struct{ Err error }

func (e *InvalidSignalError) Error() string { return "invalid decision: " + e.Err.Error() }

// Unwrap returns the validation error.
func (e *InvalidSignalError) Unwrap() error { return e.Err }
