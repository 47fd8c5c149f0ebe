package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/invoice"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/rating"
	"github.com/revhub/revhub/internal/usage"
)

// Billing holds the billing-cycle activities: closing usage, rating into a draft invoice,
// finalizing (number, ledger entry, receivable) and delivering the invoice.
type Billing struct {
	deps *Deps
}

// CycleInput names one contract's billing period, [PeriodStart, PeriodEnd) as YYYY-MM-DD.
type CycleInput struct {
	ContractID  string `json:"contract_id"`
	PeriodStart string `json:"period_start"`
	PeriodEnd   string `json:"period_end"`
}

// Validate checks the input.
func (in CycleInput) Validate() error {
	if in.ContractID == "" {
		return invalid("contract_id", "required")
	}
	s, err := parseDay("period_start", in.PeriodStart)
	if err != nil {
		return err
	}
	e, err := parseDay("period_end", in.PeriodEnd)
	if err != nil {
		return err
	}
	if !e.After(s) {
		return invalid("period_end", "%s must be after period_start %s", in.PeriodEnd, in.PeriodStart)
	}
	return nil
}

// CloseUsageOutput reports the usage cut-off of a period.
type CloseUsageOutput struct {
	Subject       string `json:"subject"`
	AlreadyClosed bool   `json:"already_closed"`
}

// DraftOutput describes the draft invoice of a period.
type DraftOutput struct {
	InvoiceID     string          `json:"invoice_id"`
	Customer      string          `json:"customer"`
	BillingEntity string          `json:"billing_entity"`
	Provider      string          `json:"provider"`
	PaymentMethod string          `json:"payment_method,omitempty"`
	Currency      string          `json:"currency"`
	Total         decimal.Decimal `json:"total"`
	Lines         int             `json:"lines"`
}

// FinalizeOutput describes the finalized invoice.
type FinalizeOutput struct {
	InvoiceID string          `json:"invoice_id"`
	Number    string          `json:"number"`
	Status    string          `json:"status"`
	Total     decimal.Decimal `json:"total"`
	AmountDue decimal.Decimal `json:"amount_due"`
	Currency  string          `json:"currency"`
	DueDate   string          `json:"due_date"`
	LedgerKey string          `json:"ledger_key"`
}

// DeliverOutput reports the rendered invoice documents.
type DeliverOutput struct {
	InvoiceID string `json:"invoice_id"`
	HTMLBytes int    `json:"html_bytes"`
	PDFBytes  int    `json:"pdf_bytes"`
}

// cycle is the loaded context of one billing period.
type cycle struct {
	contract contract.Contract
	version  contract.Version // in force at the period's last day
	period   rating.Period
	start    time.Time
	end      time.Time
	key      string // invoice:{contract}:{start}:{end}, the draft's business key
}

func (a *Billing) load(ctx context.Context, in CycleInput) (cycle, error) {
	if err := in.Validate(); err != nil {
		return cycle{}, err
	}
	c, err := contract.Get(ctx, a.deps.Pool, in.ContractID)
	if errors.Is(err, contract.ErrNotFound) {
		return cycle{}, invalid("contract_id", "contract %q does not exist", in.ContractID)
	}
	if err != nil {
		return cycle{}, fmt.Errorf("load contract %s: %w", in.ContractID, err)
	}
	start, _ := time.Parse(time.DateOnly, in.PeriodStart)
	end, _ := time.Parse(time.DateOnly, in.PeriodEnd)
	p := rating.Period{Start: contract.DateOf(start), End: contract.DateOf(end)}
	v, ok := c.VersionOn(p.End.AddDays(-1))
	if !ok {
		return cycle{}, invalid("period_start", "contract %s has no version in force in %s", c.ID, p)
	}
	return cycle{contract: c, version: v, period: p, start: start, end: end,
		key: invoice.CycleKey(c.ID, invoice.DateOf(start), invoice.DateOf(end))}, nil
}

// CloseUsage cuts the customer's usage off for the period: events that arrive later are stored,
// flagged late and queued as adjustments (usage.PendingAdjustments). Closing twice is a no-op.
func (a *Billing) CloseUsage(ctx context.Context, in CycleInput) (CloseUsageOutput, error) {
	cy, err := a.load(ctx, in)
	if err != nil {
		return CloseUsageOutput{}, err
	}
	subject := cy.version.Customer.ExternalID
	err = db.InTx(ctx, a.deps.Pool, func(tx pgx.Tx) error {
		_, err := usage.ClosePeriod(ctx, tx, usage.LatePolicy{Grace: a.deps.LateGrace}, a.deps.Now(), subject, cy.start, cy.end, cy.key)
		return err
	})
	if errors.Is(err, usage.ErrPeriodConflict) {
		return CloseUsageOutput{}, permanent(ErrInvalidInput, err)
	}
	if err != nil {
		return CloseUsageOutput{}, fmt.Errorf("close usage of %s: %w", subject, err)
	}
	return CloseUsageOutput{Subject: subject}, nil
}

// RateAndDraft rates the period's metered usage and fees under the contract, and the late usage of
// its earlier invoiced periods (late_usage lines, priced as those periods were), and stores the
// draft invoice under invoice:{contract}:{period} in the same transaction that marks those late
// readings applied to it; a retry returns the same draft.
func (a *Billing) RateAndDraft(ctx context.Context, in CycleInput) (DraftOutput, error) {
	cy, err := a.load(ctx, in)
	if err != nil {
		return DraftOutput{}, err
	}
	if existing, err := invoice.GetByKey(ctx, a.deps.Pool, cy.key); err == nil {
		return draftOutput(existing, cy.version), nil // already done
	} else if !errors.Is(err, invoice.ErrNotFound) {
		return DraftOutput{}, fmt.Errorf("look up draft %s: %w", cy.key, err)
	}
	u, meters, err := a.meteredUsage(ctx, cy)
	if err != nil {
		return DraftOutput{}, err
	}
	var inv invoice.Invoice
	err = db.InTx(ctx, a.deps.Pool, func(tx pgx.Tx) error {
		late, taken, err := a.lateUsage(ctx, tx, cy, meters)
		if err != nil {
			return err
		}
		u.Late = late
		rated, err := rating.Rate(cy.contract, cy.period, u)
		if err != nil {
			var probs contract.Problems
			return asPermanent(fmt.Errorf("rate contract %s %s: %w", cy.contract.ID, cy.period, err), ErrInvalidContract, &probs)
		}
		draft, err := invoice.DraftFromRating(rated, cy.version, a.deps.PaymentTermsDays)
		if err != nil {
			return permanent(ErrInvalidContract, err)
		}
		if inv, err = invoice.CreateDraft(ctx, tx, draft); err != nil {
			var conflict *invoice.ConflictError
			var verr *invoice.ValidationError
			return asPermanent(fmt.Errorf("create draft %s: %w", cy.key, err), ErrKeyConflict, &conflict, &verr)
		}
		return usage.MarkAdjustmentsApplied(ctx, tx, taken, cy.key, a.deps.Now())
	})
	if err != nil {
		return DraftOutput{}, err
	}
	return draftOutput(inv, cy.version), nil
}

func draftOutput(inv invoice.Invoice, v contract.Version) DraftOutput {
	return DraftOutput{
		InvoiceID: inv.ID, Customer: inv.CustomerID, BillingEntity: inv.BillingEntity,
		Provider: string(v.PaymentProvider), PaymentMethod: v.PaymentMethod,
		Currency: string(inv.Currency), Total: inv.Total, Lines: len(inv.Lines),
	}
}

// meteredUsage reads the period's quantities per meter (and group) from the usage rollups, and
// the individual transactions of meters priced as a percentage of volume (whose per-transaction
// fee, minimum and maximum need each event).
func (a *Billing) meteredUsage(ctx context.Context, cy cycle) (rating.Usage, *usage.MeterSet, error) {
	var u rating.Usage
	subject := cy.version.Customer.ExternalID
	all, err := usage.ListMeters(ctx, a.deps.Pool)
	if err != nil {
		return u, nil, fmt.Errorf("list meters: %w", err)
	}
	meters := usage.NewMeterSet(all)
	perEvent := map[string]bool{}
	for _, c := range cy.contract.Versions {
		for _, comp := range c.Components {
			if comp.Model == contract.Percentage {
				perEvent[comp.Meter] = true
			}
		}
	}
	for _, m := range cy.version.Meters {
		um := meters.Get(m.ID)
		if um == nil {
			return u, nil, permanent(ErrInvalidContract, fmt.Errorf("meters[%s]: contract %s prices meter %q, which is not defined in revhub", m.ID, cy.contract.ID, m.ID))
		}
		if perEvent[m.ID] {
			rs, err := usage.Readings(ctx, a.deps.Pool, um, subject, cy.start, cy.end)
			if err != nil {
				return u, nil, fmt.Errorf("read transactions of meter %s for %s: %w", m.ID, subject, err)
			}
			for _, r := range rs {
				u.Transactions = append(u.Transactions, rating.Transaction{ID: r.ID, Meter: m.ID, Group: r.Groups[m.GroupBy],
					Date: contract.DateOf(r.Time), Amount: r.Value})
			}
			continue
		}
		// Additive meters come in daily buckets: dated quantities let the rating engine split a period
		// at an amendment. MAX, LATEST and UNIQUE_COUNT are not additive, so they come as one value.
		p := usage.QueryParams{Meter: m.ID, Subject: subject, From: cy.start, To: cy.end}
		additive := um.Aggregation == usage.Sum || um.Aggregation == usage.Count
		if additive {
			p.Window = usage.WindowDay
		}
		if m.GroupBy != "" {
			p.GroupBy = []string{m.GroupBy}
		}
		rows, err := usage.Query(ctx, a.deps.Pool, meters, p)
		if err != nil {
			return u, nil, fmt.Errorf("query meter %s for %s: %w", m.ID, subject, err)
		}
		for _, r := range rows {
			q := rating.Quantity{Meter: m.ID, Value: r.Value}
			if additive {
				q.Date = contract.DateOf(r.WindowStart)
			}
			if m.GroupBy != "" {
				q.Group = r.Groups[m.GroupBy]
			}
			u.Quantities = append(u.Quantities, q)
		}
	}
	return u, meters, nil
}

// Finalize numbers the draft (gap-free per billing entity), freezes it, registers what is owed
// for bank matching and posts invoice:{id}:finalized to the ledger, all in one transaction.
func (a *Billing) Finalize(ctx context.Context, in InvoiceRef) (FinalizeOutput, error) {
	if err := in.Validate(); err != nil {
		return FinalizeOutput{}, err
	}
	var out FinalizeOutput
	err := db.InTx(ctx, a.deps.Pool, func(tx pgx.Tx) error {
		// The ledger entry does not need the invoice number: post it before the number series
		// of the billing entity is locked, so that the lock is held only to the commit.
		var entry ledger.Entry
		inv, err := invoice.FinalizeWith(ctx, tx, in.InvoiceID, a.deps.Now(), func(inv invoice.Invoice) error {
			c, err := contract.Get(ctx, tx, inv.ContractID)
			if err != nil {
				return fmt.Errorf("load contract %s: %w", inv.ContractID, err)
			}
			entry, err = ledger.InvoiceFinalized(a.deps.Chart, ledgerInvoice(inv, c))
			switch {
			case errors.Is(err, ledger.ErrNothingToPost):
				// A zero-amount invoice has no ledger effect.
			case err != nil:
				return permanent(ErrInvalidInput, err)
			default:
				if _, err := ledger.PostLate(ctx, tx, a.deps.Chart, entry); err != nil {
					return fmt.Errorf("post %s: %w", entry.Key, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := payment.UpsertReceivable(ctx, tx, payment.Receivable{
			InvoiceID: inv.ID, CustomerID: inv.CustomerID, Reference: inv.PaymentReference, Currency: inv.Currency, Amount: inv.Total,
		}); err != nil {
			return fmt.Errorf("register receivable of %s: %w", inv.ID, err)
		}
		out = FinalizeOutput{InvoiceID: inv.ID, Number: inv.Number, Status: string(inv.Status), Total: inv.Total,
			AmountDue: inv.AmountDue, Currency: string(inv.Currency), DueDate: inv.DueDate.String(), LedgerKey: entry.Key}
		return nil
	})
	if err != nil {
		var te *invoice.TransitionError
		var rule *invoice.RuleError
		return FinalizeOutput{}, asPermanent(fmt.Errorf("finalize %s: %w", in.InvoiceID, err), ErrInvoiceStateRule, &te, &rule)
	}
	return out, nil
}

// ledgerInvoice is the ledger's view of a finalized invoice: usage lines were recognized as
// invoiced (right-to-invoice), fees billed in advance go to deferred revenue.
func ledgerInvoice(inv invoice.Invoice, c contract.Contract) ledger.Invoice {
	li := ledger.Invoice{
		ID:    inv.ID,
		Party: ledger.Party{Entity: inv.BillingEntity, Customer: inv.CustomerID, Contract: inv.ContractID},
		Date:  inv.IssueDate.Time(), Currency: inv.Currency,
	}
	v, _ := c.VersionOn(contract.DateOf(inv.PeriodStart.Time()))
	for _, l := range inv.Lines {
		t := ledger.RecognizedAsBill
		if comp, ok := v.Component(l.ComponentID); ok && !comp.Model.Usage() && v.Billing.Timing == contract.InAdvance {
			t = ledger.BilledInAdvance
		}
		li.Lines = append(li.Lines, ledger.InvoiceLine{Product: l.Product, Amount: l.Amount, Treatment: t})
	}
	return li
}

// Deliver renders the finalized invoice as HTML and PDF and stores both documents (idempotent:
// the documents of an immutable invoice are the same on every retry).
func (a *Billing) Deliver(ctx context.Context, in InvoiceRef) (DeliverOutput, error) {
	if err := in.Validate(); err != nil {
		return DeliverOutput{}, err
	}
	inv, err := invoice.Get(ctx, a.deps.Pool, in.InvoiceID)
	if err != nil {
		return DeliverOutput{}, fmt.Errorf("deliver %s: %w", in.InvoiceID, err)
	}
	if !inv.Status.Numbered() {
		return DeliverOutput{}, permanent(ErrInvoiceStateRule, fmt.Errorf("deliver %s: status is %s, only finalized invoices are delivered", inv.ID, inv.Status))
	}
	doc := invoice.Document{Invoice: inv, Seller: invoice.Party{Name: inv.BillingEntity}, Buyer: invoice.Party{Name: inv.CustomerID}}
	var html, pdf bytes.Buffer
	if err := invoice.RenderHTML(&html, doc); err != nil {
		return DeliverOutput{}, fmt.Errorf("render %s: %w", inv.ID, err)
	}
	if err := invoice.RenderPDF(&pdf, doc); err != nil {
		return DeliverOutput{}, fmt.Errorf("render %s: %w", inv.ID, err)
	}
	if err := invoice.SaveDocuments(ctx, a.deps.Pool, inv.ID, html.Bytes(), pdf.Bytes()); err != nil {
		return DeliverOutput{}, err
	}
	return DeliverOutput{InvoiceID: inv.ID, HTMLBytes: html.Len(), PDFBytes: pdf.Len()}, nil
}
