// Package workflows holds revhub's Temporal workflows. They orchestrate only: every effect is an
// activity (package activities), decisions never read the clock except workflow.Now, never
// iterate maps, and do no I/O, so histories replay deterministically.
package workflows

import "fmt"

// BillingCycleID is the workflow id of one contract's billing period: at most one run per period.
func BillingCycleID(contractID, periodStart string) string {
	return fmt.Sprintf("invoice/%s/%s", contractID, periodStart)
}

// CollectID is the workflow id collecting one invoice.
func CollectID(invoiceID string) string { return "collect/" + invoiceID }

// Signal and query names shared by workflows, the API and the CLI.
const (
	SignalRetryPayment   = "retry-payment"  // collection: charge again now (manual retry)
	SignalMarkPaid       = "mark-paid"      // collection: paid outside revhub (with actor and reason)
	SignalPaymentUpdate  = "payment-update" // collection: a provider webhook settled a pending charge
	QueryStatus          = "status"         // every workflow: its progress
	SearchAttrEntity     = "RevhubEntity"   // billing entity
	SearchAttrPeriod     = "RevhubPeriod"   // period, YYYY-MM-DD or YYYY-MM
	SearchAttrCustomer   = "RevhubCustomer" // customer external id
	SearchAttrStep       = "RevhubStep"     // current step
	SearchAttrReconState = "RevhubReconStatus"
)
