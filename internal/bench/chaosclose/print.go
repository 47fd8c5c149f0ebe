package chaosclose

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Print writes the report: what was done to the run, what it produced, and every difference.
func Print(w io.Writer, r *Report) {
	mode := "revhub bench close"
	if r.FaultRate > 0 || len(r.Kills) > 0 {
		mode += " --chaos"
	}
	fmt.Fprintf(w, "%s: period %s, entities %s, seed %d\n", mode, r.Period, strings.Join(r.Entities, ","), r.Seed)
	fmt.Fprintf(w, "  fault rate       %.0f%% of fake provider requests: %d requests, %d answered 429, %d answered 5xx\n",
		r.FaultRate*100, r.Faults.Requests, r.Faults.RateLimited, r.Faults.Unavailable)
	fmt.Fprintf(w, "  worker SIGKILLs  %d\n", len(r.Kills))
	for i, k := range r.Kills {
		var at []string
		for _, e := range slices.Sorted(maps.Keys(k.Steps)) {
			at = append(at, e+"="+k.Steps[e])
		}
		if len(at) == 0 {
			at = []string{"(no answer from the closes in 3 s)"}
		}
		fmt.Fprintf(w, "    #%d at %-8s  close steps: %s\n", i+1, k.After.Round(100*time.Millisecond), strings.Join(at, " "))
	}
	if r.Wall > 0 {
		fmt.Fprintf(w, "  closes took      %s, then collection settled in %s\n", r.Wall.Round(100*time.Millisecond), r.Settle.Round(100*time.Millisecond))
	}
	for _, e := range r.Entities {
		if st, ok := r.Closes[e]; ok {
			fmt.Fprintf(w, "  close %-10s recon %s, done %v\n", e, st.Recon, st.Done)
			for _, line := range st.Summary() {
				fmt.Fprintf(w, "      %s\n", line)
			}
		}
	}
	if o := r.Observed; o != nil {
		stripe, paypal, erp, open := 0, 0, 0, 0
		for _, n := range o.StripeCreates {
			stripe += n
		}
		for _, n := range o.PayPalOrders {
			paypal += n
		}
		for k, p := range o.LedgerEntries {
			if _, posted := o.ERPPosted[k]; !posted && p > r.Period {
				open++
			}
		}
		for _, n := range o.NetSuiteJournals {
			erp += n
		}
		fmt.Fprintf(w, "  records          %d contracts, %d invoices, %d payments, %d ledger entries, %d reconciliation checks\n",
			o.Contracts, len(o.Invoices), len(o.Payments), len(o.LedgerEntries), len(o.Checks))
		fmt.Fprintf(w, "  at the providers %d Stripe PaymentIntents, %d PayPal orders, %d NetSuite journal entries (%d entries of open periods wait for the next sync)\n",
			stripe, paypal, erp, open)
	}
	if o := r.Observed; o != nil {
		for _, e := range ExpectedTotals() {
			for _, inv := range o.Invoices {
				if inv.ContractID == e.ContractID {
					fmt.Fprintf(w, "  hand-computed    %s: %s %s, want %s %s (%s)\n", e.ContractID, inv.Total.StringFixed(2), inv.Currency,
						e.Total.StringFixed(2), e.Currency, e.Why)
				}
			}
		}
	}
	if r.OK() {
		fmt.Fprintln(w, "  result           PASS: every invoice, charge, journal entry and ERP post exists exactly once; every reconciliation is green")
		return
	}
	fmt.Fprintf(w, "  result           FAIL: %d differences\n", len(r.Differences))
	for _, d := range r.Differences {
		fmt.Fprintf(w, "    - %s\n", d)
	}
}
