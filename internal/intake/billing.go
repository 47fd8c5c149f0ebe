package intake

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/invoice"
)

// Billing is what a contract has been invoiced so far.
type Billing struct {
	// BilledToDate is the total of the contract's issued invoices less the credit notes against them.
	BilledToDate decimal.Decimal
	// InvoicedThrough is the end (exclusive) of the last period with an invoice that is not void, drafts
	// included; an amendment must not take effect before it. Zero when nothing was invoiced.
	InvoicedThrough contract.Date
	// Issued counts the issued (numbered) invoices.
	Issued int
}

// ContractBilling sums a contract's invoices.
func ContractBilling(ctx context.Context, q db.Querier, contractID string) (Billing, error) {
	b := Billing{BilledToDate: decimal.Zero}
	after := ""
	for {
		page, next, err := invoice.List(ctx, q, invoice.Filter{ContractID: contractID, After: after, Limit: 500})
		if err != nil {
			return Billing{}, fmt.Errorf("billing of contract %s: %w", contractID, err)
		}
		for _, inv := range page {
			if inv.Status == invoice.StatusVoid {
				continue
			}
			if inv.Status.Numbered() {
				b.Issued++
				b.BilledToDate = b.BilledToDate.Add(inv.Total.Sub(inv.AmountCredited))
			}
			if inv.Kind == invoice.KindCycle && inv.PeriodEnd.Year != 0 {
				end := contract.NewDate(inv.PeriodEnd.Year, inv.PeriodEnd.Month, inv.PeriodEnd.Day)
				b.InvoicedThrough = contract.MaxDate(b.InvoicedThrough, end)
			}
		}
		if next == "" {
			return b, nil
		}
		after = next
	}
}

// AmendmentDate is the day an edit made at editedAt takes effect: the edit's own (UTC) date, but never inside
// an invoiced period (then the end of the last one) and always after the latest version's effective date.
func AmendmentDate(editedAt time.Time, latest contract.Version, invoicedThrough contract.Date) contract.Date {
	d := contract.DateOf(editedAt.UTC())
	if !invoicedThrough.IsZero() && d.Before(invoicedThrough) {
		d = invoicedThrough
	}
	if !d.After(latest.EffectiveStart()) {
		d = latest.EffectiveStart().AddDays(1)
	}
	return d
}
