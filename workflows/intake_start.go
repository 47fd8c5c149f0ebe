package workflows

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// EnsureIntake starts the Salesforce intake on taskQueue unless it is already running (then in is ignored), so
// every worker start or deploy may call it; it returns the run id of the running intake.
func EnsureIntake(ctx context.Context, c client.Client, taskQueue string, in IntakeInput) (string, error) {
	if taskQueue == "" {
		return "", fmt.Errorf("salesforce intake: task queue is required")
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: IntakeID(), TaskQueue: taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, SalesforceIntake, in)
	if err != nil {
		return "", fmt.Errorf("salesforce intake: start: %w", err)
	}
	return run.GetRunID(), nil
}
