package devhub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/workflows"
)

// devCloseWait is how long the demo close waits for the intake to turn the demo deals into contracts.
const devCloseWait = 3 * time.Minute

// seedClose creates each demo entity's monthly close schedule and, in the background once the
// intake has created the entity's contracts, starts the previous month's close (only if that close
// was never started, so a restart of `revhub dev` does not re-run it).
func seedClose(ctx context.Context, env seedEnv) ([]Endpoint, error) {
	if env.temporal == nil {
		return nil, errors.New("no Temporal client")
	}
	now := nowFunc().UTC()
	period := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01")
	var out []Endpoint
	for _, e := range DevEntities {
		if err := workflows.EnsureCloseSchedule(ctx, env.temporal, env.opts.TaskQueue, workflows.ScheduledCloseInput{Entity: e}); err != nil {
			return out, err
		}
		id := workflows.CloseID(e, period)
		out = append(out,
			Endpoint{"month-end close schedule", workflows.CloseScheduleID(e), "monthly on the 1st after the grace window; trigger it from the Temporal UI's Schedules page"},
			Endpoint{"month-end close " + period, id, "revhub close status --entity " + e + " --period " + period + `; Temporal UI query: RevhubReconStatus="blocked"`})
		_, err := env.temporal.DescribeWorkflowExecution(ctx, id, "")
		var nf *serviceerror.NotFound
		switch {
		case err == nil:
			continue // started on an earlier run of revhub dev
		case !errors.As(err, &nf):
			return out, fmt.Errorf("describe %s: %w", id, err)
		}
		go startDemoClose(ctx, env, e, period)
	}
	return out, nil
}

// startDemoClose waits (bounded) for the entity's contracts, then starts its close of period.
func startDemoClose(ctx context.Context, env seedEnv, entity, period string) {
	deadline := time.Now().Add(devCloseWait)
	var cs []contract.Contract
	for {
		var err error
		cs, err = contract.ListByEntity(ctx, env.pool, entity)
		if err == nil && len(cs) > 0 {
			// Wait until the intake has finished the entity's other deals: the count holds still.
			time.Sleep(5 * time.Second)
			prev := len(cs)
			if cs, err = contract.ListByEntity(ctx, env.pool, entity); err == nil && len(cs) == prev {
				break
			}
		}
		if ctx.Err() != nil {
			return
		}
		if time.Now().After(deadline) {
			env.log.Warn("demo close not started: the intake created no contract for the entity in time", "entity", entity, "waited", devCloseWait)
			return
		}
		time.Sleep(2 * time.Second)
	}
	if err := seedDemoUsage(ctx, env, cs, period); err != nil {
		env.log.Error("demo usage not ingested", "entity", entity, "period", period, "err", err)
	}
	run, err := workflows.StartClose(ctx, env.temporal, env.opts.TaskQueue, workflows.CloseInput{Entity: entity, Period: period})
	if err != nil {
		env.log.Error("demo close not started", "entity", entity, "period", period, "err", err)
		return
	}
	env.log.Info("demo month-end close started", "workflow_id", run.GetID(), "run_id", run.GetRunID())
}
