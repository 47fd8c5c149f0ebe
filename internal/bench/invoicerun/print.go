package invoicerun

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// Print writes the report for a terminal.
func Print(w io.Writer, r *Report) {
	fmt.Fprintf(w, "contracts         %d (run %s, period %s, task queue %s)\n", r.Contracts, r.Run, r.Period, r.TaskQueue)
	fmt.Fprintf(w, "temporal          %s\n", r.Temporal)
	o := r.Options
	fmt.Fprintf(w, "worker            %d activities, %d workflow tasks, %d/%d activity/workflow pollers, pool %d, %d starts at once\n",
		o.MaxConcurrentActivities, o.MaxConcurrentWorkflowTasks, o.ActivityPollers, o.WorkflowPollers, o.PoolSize, o.StartConcurrency)
	fmt.Fprintf(w, "seed              %s (contracts and usage events, not in the wall time)\n", r.Seed.Round(time.Millisecond))
	fmt.Fprintf(w, "wall time         %s (first workflow start to last workflow close; starts took %s)\n", r.Wall.Round(time.Millisecond), r.Starts.Round(time.Millisecond))
	fmt.Fprintf(w, "visibility        every close listed after %s (Temporal's visibility store lags the closes it records)\n", r.Listed.Round(time.Millisecond))
	fmt.Fprintf(w, "invoices/s        %.1f (invoiced and collected)\n", r.InvoicesPerS)
	fmt.Fprintf(w, "latency           p50 %s, p99 %s, max %s (BillingCycle start to the invoice collected)\n",
		r.LatencyP50.Round(time.Millisecond), r.LatencyP99.Round(time.Millisecond), r.LatencyMax.Round(time.Millisecond))
	for _, wf := range slices.Sorted(maps.Keys(r.Workflows)) {
		fmt.Fprintf(w, "workflows         %s:", wf)
		for _, st := range slices.Sorted(maps.Keys(r.Workflows[wf])) {
			fmt.Fprintf(w, " %d %s", r.Workflows[wf][st], st)
		}
		fmt.Fprintln(w)
	}
	total := 0
	for _, n := range r.Activities {
		total += n
	}
	fmt.Fprintf(w, "activities        %d executions (%d returned an error and were retried)\n", total, r.ActivityFails)
	for _, a := range slices.Sorted(maps.Keys(r.Activities)) {
		fmt.Fprintf(w, "                  %-18s %6d  mean %s\n", a, r.Activities[a], r.ActivityMean[a].Round(100*time.Microsecond))
	}
	if r.PeakRSS > 0 {
		fmt.Fprintf(w, "peak RSS          %d MB (this process: worker, payment fakes, client; VmHWM)\n", r.PeakRSS>>20)
	}
	v := r.Verification
	if v == nil {
		fmt.Fprintln(w, "verification      not run")
		return
	}
	for _, cur := range currencies(v.Expected, v.Booked) {
		fmt.Fprintf(w, "totals %s        expected %s, booked %s\n", cur, v.Expected[cur].StringFixed(2), v.Booked[cur].StringFixed(2))
	}
	if v.OK() {
		fmt.Fprintf(w, "verification      OK: %d invoices paid with the expected totals, %d payments, one charge each at the fakes, ledger balanced\n", v.Invoices, v.Payments)
		return
	}
	fmt.Fprintf(w, "verification      FAILED: %d differences\n", len(v.Differences))
	for i, d := range v.Differences {
		if i == maxListedDifference {
			fmt.Fprintf(w, "                  ... and %d more\n", len(v.Differences)-i)
			break
		}
		fmt.Fprintf(w, "                  %s\n", d)
	}
}
