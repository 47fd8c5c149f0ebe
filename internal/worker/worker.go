// Package worker registers revhub's workflows and activities on a Temporal worker and runs it.
package worker

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

// Deps are what the activities need.
type Deps struct {
	Pool *pgxpool.Pool
	Log  *slog.Logger
}

// Options tune the worker.
type Options struct {
	TaskQueue                  string
	MaxConcurrentActivities    int // default 200
	MaxConcurrentWorkflowTasks int // default 100
}

// New creates a worker on the task queue with every workflow and activity registered.
func New(c client.Client, o Options, d Deps) (worker.Worker, error) {
	if o.TaskQueue == "" {
		return nil, fmt.Errorf("task queue: must not be empty")
	}
	w := worker.New(c, o.TaskQueue, worker.Options{
		MaxConcurrentActivityExecutionSize:     orDefault(o.MaxConcurrentActivities, 200),
		MaxConcurrentWorkflowTaskExecutionSize: orDefault(o.MaxConcurrentWorkflowTasks, 100),
	})
	if err := Register(w, d); err != nil {
		return nil, err
	}
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
