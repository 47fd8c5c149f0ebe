package worker

import (
	"go.temporal.io/sdk/worker"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/workflows"
)

// Register adds every workflow and activity to w. Each capability adds its own lines here.
func Register(w worker.Registry, a *activities.Set) {
	w.RegisterWorkflow(workflows.BillingCycle)
	w.RegisterWorkflow(workflows.Collect)
	w.RegisterActivity(a.Billing)
	w.RegisterActivity(a.Collection)
	w.RegisterWorkflow(workflows.RecognizeRevenue)
	w.RegisterActivity(a.Revenue)
	w.RegisterWorkflow(workflows.SalesforceIntake)
	w.RegisterActivity(a.Intake)
	w.RegisterWorkflow(workflows.ERPSync)
	w.RegisterActivity(a.ERP)
	w.RegisterWorkflow(workflows.MonthEndClose)
	w.RegisterWorkflow(workflows.ScheduledClose)
	w.RegisterActivity(a.Close)
}
