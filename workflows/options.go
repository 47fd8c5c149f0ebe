package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Non-retryable error type names: permanent bad data stops retries and is searchable by type.
const (
	ErrInvalidInput     = "InvalidInput"
	ErrInvalidContract  = "InvalidContract"
	ErrUnmappableDeal   = "UnmappableDeal"
	ErrKeyConflict      = "IdempotencyConflict"
	ErrInvoiceStateRule = "InvoiceStateRule"
)

// nonRetryable lists the error types no activity retries.
var nonRetryable = []string{ErrInvalidInput, ErrInvalidContract, ErrUnmappableDeal, ErrKeyConflict, ErrInvoiceStateRule}

// dbRetry retries PostgreSQL-only work for a long time: 1 s doubling to 1 min.
func dbRetry() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, NonRetryableErrorTypes: nonRetryable}
}

// providerRetry backs off calls to an outside API: 2 s doubling to 5 min.
func providerRetry() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute, NonRetryableErrorTypes: nonRetryable}
}

// dbActivity is for activities that only touch PostgreSQL: quick (so a worker that dies mid-call
// is noticed within the timeout), retried for a long time.
func dbActivity(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 45 * time.Second, RetryPolicy: dbRetry()})
}

// providerActivity is for activities that call an outside API (payment providers, CRM, ERP):
// bounded by a timeout (so a worker that dies mid-call is noticed within it) and retried with
// back-off, since each call carries its idempotency key and a retry looks the effect up first.
func providerActivity(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 45 * time.Second, RetryPolicy: providerRetry()})
}

// dbLocalActivity runs a PostgreSQL-only step as a local activity: executed by the worker that
// runs the workflow task, recorded as a marker, with the same timeout and retries as dbActivity
// (back-offs past a minute become durable timers).
func dbLocalActivity(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 45 * time.Second, RetryPolicy: dbRetry()})
}

// providerLocalActivity runs a provider call as a local activity with providerActivity's
// timeout and retries; every such call carries its idempotency key and looks its effect up first.
func providerLocalActivity(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 45 * time.Second, RetryPolicy: providerRetry()})
}
