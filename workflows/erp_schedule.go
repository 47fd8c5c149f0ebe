package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// DefaultERPSyncEvery is how often the ERP schedule starts a sync unless configured otherwise.
const DefaultERPSyncEvery = time.Hour

// EnsureERPSchedule creates the Temporal Schedule erp-sync/{entity} that starts ERPSync for the
// entity (reconciling recent months too) every interval (hourly when every is zero) on taskQueue,
// skipping a start while a sync is still running. Calling it again is a no-op, or updates the interval and task queue when they
// changed, so every worker or deploy may call it at start.
func EnsureERPSchedule(ctx context.Context, c client.Client, entity, taskQueue string, every time.Duration) error {
	if entity == "" || taskQueue == "" {
		return fmt.Errorf("erp schedule: entity and task queue are required")
	}
	if every <= 0 {
		every = DefaultERPSyncEvery
	}
	id := ERPScheduleID(entity)
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
	action := &client.ScheduleWorkflowAction{ID: ERPSyncID(entity), Workflow: ERPSync, Args: []any{ERPSyncInput{Entity: entity, ReconcileRecent: true}},
		TaskQueue: taskQueue}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: id, Spec: spec, Action: action,
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, // one sync per entity at a time; the next start catches up
		CatchupWindow: every,
		Note:          "revhub: post the " + entity + " ledger to NetSuite and reconcile",
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("erp schedule %s: create: %w", id, err)
	}
	err = c.ScheduleClient().GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			cur, ok := s.Action.(*client.ScheduleWorkflowAction)
			if ok && s.Spec != nil && len(s.Spec.Intervals) == 1 && s.Spec.Intervals[0].Every == every && cur.TaskQueue == taskQueue {
				return nil, temporal.ErrSkipScheduleUpdate
			}
			s.Spec, s.Action = &spec, action
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("erp schedule %s: update: %w", id, err)
	}
	return nil
}
