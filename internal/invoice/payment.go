package invoice

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Payment is money received against one invoice; Key (e.g. the provider's payment id,
// "payment:{provider}:{id}") makes recording it idempotent.
type Payment struct {
	Key         string          `json:"key"`
	InvoiceID   string          `json:"invoice_id"`
	Amount      decimal.Decimal `json:"amount"`
	ReceivedAt  time.Time       `json:"received_at"`
	Method      string          `json:"method,omitempty"`       // e.g. card, bank_transfer
	ProviderRef string          `json:"provider_ref,omitempty"` // the provider's id of the payment
}

// Validate reports every problem of p at once, each naming its field.
func (p Payment) Validate() error {
	var pr problems
	if strings.TrimSpace(p.Key) == "" {
		pr.add("key", "is required")
	} else if len(p.Key) > 200 {
		pr.add("key", "must be at most 200 characters")
	}
	if strings.TrimSpace(p.InvoiceID) == "" {
		pr.add("invoice_id", "is required")
	}
	if !p.Amount.IsPositive() {
		pr.add("amount", "must be positive, got %s", p.Amount)
	}
	if p.ReceivedAt.IsZero() {
		pr.add("received_at", "is required")
	}
	return pr.err("payment")
}

// hash identifies the payment's content, compared when the same key comes again.
func (p Payment) hash() []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s\x00%s\x00%s",
		p.Key, p.InvoiceID, p.Amount.String(), p.ReceivedAt.UTC().Format(time.RFC3339Nano), p.Method, p.ProviderRef))
	return h[:]
}
