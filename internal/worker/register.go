package worker

import (
	"go.temporal.io/sdk/worker"
)

// Register adds every workflow and activity to w. Each capability adds its own lines here.
func Register(w worker.Registry, d Deps) error {
	_ = d
	return nil
}
