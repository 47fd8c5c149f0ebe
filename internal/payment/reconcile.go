package payment

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/money"
)

// Exception kinds raised by reconciliation.
const (
	ExceptionMissingAtProvider = "recon_missing_at_provider" // recorded by revhub, not captured at the provider
	ExceptionMissingInRevhub   = "recon_missing_in_revhub"   // captured at the provider, not recorded by revhub
	ExceptionAmountMismatch    = "recon_amount_mismatch"     // both sides know it, amounts differ
)

// Pair is a recorded payment matched one to one with the provider's captured item.
type Pair struct {
	Payment  Payment
	Captured provider.Captured
}

// Reconciliation is the outcome of comparing one provider's period.
type Reconciliation struct {
	Provider   provider.Name
	From, To   time.Time
	Matched    []Pair
	Exceptions []Exception // every difference, also recorded in payment_exceptions
}

// Balanced reports whether the period reconciled without exceptions.
func (r Reconciliation) Balanced() bool { return len(r.Exceptions) == 0 }

// Reconcile compares revhub's succeeded payments of a provider captured in [from, to) with what the
// provider reports captured (Stripe PaymentIntents, PayPal transactions, bank statement lines),
// matching one to one by provider id; differences are recorded as exceptions (once, however often
// the period is reconciled).
func (s *Service) Reconcile(ctx context.Context, name provider.Name, from, to time.Time) (Reconciliation, error) {
	var theirs []provider.Captured
	var err error
	if name == provider.Bank {
		theirs, err = bankCaptured(ctx, s.pool, from, to)
	} else {
		prov, ok := s.providers.Get(name)
		if !ok {
			return Reconciliation{}, fmt.Errorf("reconcile: provider %q is not registered", name)
		}
		theirs, err = prov.ListCaptured(ctx, from, to)
	}
	if err != nil {
		return Reconciliation{}, fmt.Errorf("reconcile %s: provider side: %w", name, err)
	}
	ours, err := ListCaptured(ctx, s.pool, name, from, to)
	if err != nil {
		return Reconciliation{}, fmt.Errorf("reconcile %s: revhub side: %w", name, err)
	}
	res := Match(name, ours, theirs)
	res.From, res.To = from, to
	for _, e := range res.Exceptions {
		if _, err := RecordException(ctx, s.pool, e); err != nil {
			return res, err
		}
	}
	s.log.InfoContext(ctx, "reconciled", "provider", name, "from", from, "to", to, "matched", len(res.Matched), "exceptions", len(res.Exceptions))
	return res, nil
}

// Match pairs recorded payments with captured items by provider id, one to one.
func Match(name provider.Name, ours []Payment, theirs []provider.Captured) Reconciliation {
	res := Reconciliation{Provider: name}
	byID := make(map[string]provider.Captured, len(theirs))
	order := make([]string, 0, len(theirs))
	for _, c := range theirs {
		if _, dup := byID[c.ProviderID]; !dup {
			order = append(order, c.ProviderID)
		}
		byID[c.ProviderID] = c
	}
	used := map[string]bool{}
	for _, p := range ours {
		c, ok := byID[p.ProviderID]
		if !ok || used[p.ProviderID] {
			res.Exceptions = append(res.Exceptions, Exception{Kind: ExceptionMissingAtProvider, Provider: name, Source: p.IdempotencyKey,
				InvoiceID: p.InvoiceID, Amount: p.Amount, Currency: p.Currency,
				Reason: fmt.Sprintf("%s %s %s recorded as captured (%s id %q) but not in %s's captured list", p.Kind, p.Amount, p.Currency, name, p.ProviderID, name)})
			continue
		}
		used[p.ProviderID] = true
		if !c.Amount.Equal(p.Amount) || c.Currency != p.Currency {
			res.Exceptions = append(res.Exceptions, Exception{Kind: ExceptionAmountMismatch, Provider: name, Source: p.ProviderID,
				InvoiceID: p.InvoiceID, Amount: c.Amount.Sub(p.Amount), Currency: p.Currency,
				Reason: fmt.Sprintf("revhub recorded %s %s, %s captured %s %s", p.Amount, p.Currency, name, c.Amount, c.Currency)})
			continue
		}
		res.Matched = append(res.Matched, Pair{Payment: p, Captured: c})
	}
	for _, id := range order {
		if used[id] {
			continue
		}
		c := byID[id]
		res.Exceptions = append(res.Exceptions, Exception{Kind: ExceptionMissingInRevhub, Provider: name, Source: id,
			InvoiceID: c.InvoiceID, Amount: c.Amount, Currency: c.Currency,
			Reason: fmt.Sprintf("%s captured %s %s (key %q) that revhub has not recorded", name, c.Amount, c.Currency, c.Key)})
	}
	return res
}

// bankCaptured returns the applied part of statement lines booked in [from, to) as captured items.
func bankCaptured(ctx context.Context, q db.Querier, from, to time.Time) ([]provider.Captured, error) {
	rows, err := q.Query(ctx, `SELECT account, transaction_id, coalesce(invoice_id, ''), applied, currency, booked_on
		FROM bank_statement_lines WHERE applied > 0 AND booked_on >= $1::date AND booked_on < $2::date ORDER BY id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("list statement lines: %w", err)
	}
	defer rows.Close()
	var out []provider.Captured
	for rows.Next() {
		var acct, tx, inv, cur string
		var amt decimal.Decimal
		var booked time.Time
		if err := rows.Scan(&acct, &tx, &inv, &amt, &cur, &booked); err != nil {
			return nil, fmt.Errorf("scan statement line: %w", err)
		}
		out = append(out, provider.Captured{Provider: provider.Bank, ProviderID: acct + ":" + tx, InvoiceID: inv,
			Key: "bank:" + acct + ":" + tx, Amount: amt, Currency: money.Currency(cur), CapturedAt: booked})
	}
	return out, rows.Err()
}
