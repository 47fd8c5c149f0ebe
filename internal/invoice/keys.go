package invoice

import "fmt"

// CycleKey is the business key of a contract's invoice for one billing period [start, end).
func CycleKey(contractID string, start, end Date) string {
	return fmt.Sprintf("invoice:%s:%s..%s", contractID, start, end)
}

// EventKey is the idempotency key of a money effect of an invoice, e.g. EventKey(id, "finalized")
// = "invoice:{id}:finalized"; send the same key to the provider (Stripe Idempotency-Key, etc.).
func EventKey(invoiceID, event string) string { return "invoice:" + invoiceID + ":" + event }

// FullCreditKey is the business key of the credit note that fully credits an invoice.
func FullCreditKey(invoiceID string) string { return "credit_note:" + invoiceID + ":full" }
