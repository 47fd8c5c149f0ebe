// Package worker registers revhub's workflows and activities on a Temporal worker and runs it.
package worker

import (
	"context"
	"fmt"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/internal/ledger"
)

// Options tune the worker.
type Options struct {
	TaskQueue                  string
	MaxConcurrentActivities    int // default 200
	MaxConcurrentWorkflowTasks int // default 100
}

// New creates a worker on the task queue with every workflow and activity registered. It syncs
// the chart of accounts first, since every posting references stored accounts.
func New(ctx context.Context, c client.Client, o Options, d activities.Deps) (worker.Worker, error) {
	if o.TaskQueue == "" {
		return nil, fmt.Errorf("task queue: must not be empty")
	}
	if d.Chart == nil {
		d.Chart = ledger.DefaultChart()
	}
	if d.Pool != nil {
		if err := ledger.SyncChart(ctx, d.Pool, d.Chart); err != nil {
			return nil, fmt.Errorf("sync chart of accounts: %w", err)
		}
	}
	w := worker.New(c, o.TaskQueue, worker.Options{
		MaxConcurrentActivityExecutionSize:     orDefault(o.MaxConcurrentActivities, 200),
		MaxConcurrentWorkflowTaskExecutionSize: orDefault(o.MaxConcurrentWorkflowTasks, 100),
	})
	Register(w, activities.New(d))
	return w, nil
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Run runs the worker until ctx ends.
func Run(ctx context.Context, w worker.Worker) error {
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	<-ctx.Done()
	w.Stop()
	return nil
}
