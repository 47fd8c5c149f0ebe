package activities

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/audit"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/invoice"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/notice"
	"github.com/revhub/revhub/internal/payment"
)

// Collection holds the collection activities: charging through the customer's provider, manual
// payments, uncollectible invoices and notices to revenue ops.
type Collection struct {
	deps *Deps
}

// ChargeInput asks for attempt N of collecting an invoice through its provider.
type ChargeInput struct {
	InvoiceID     string `json:"invoice_id"`
	Attempt       int    `json:"attempt"`
	Provider      string `json:"provider"`                 // stripe or paypal
	PaymentMethod string `json:"payment_method,omitempty"` // the customer's stored method at the provider (an id, not a secret)
}

// Validate checks the input.
func (in ChargeInput) Validate() error {
	if in.InvoiceID == "" {
		return invalid("invoice_id", "required")
	}
	if in.Attempt < 1 {
		return invalid("attempt", "must be 1 or more, got %d", in.Attempt)
	}
	if in.Provider != string(provider.Stripe) && in.Provider != string(provider.PayPal) {
		return invalid("provider", "%q cannot be charged automatically (stripe or paypal)", in.Provider)
	}
	return nil
}

// Charge outcomes.
const (
	ChargeSucceeded = "succeeded"
	ChargeFailed    = "failed"
	ChargePending   = "pending"
	ChargeNothing   = "nothing_due" // the invoice is already paid, credited or zero
)

// ChargesAutomatically reports whether invoices of provider are charged by ChargeInvoice (Stripe,
// PayPal); a bank transfer waits for the customer's payment instead.
func ChargesAutomatically(p string) bool {
	return p != string(provider.Bank)
}

// ChargeOutput is what the provider answered for the attempt.
type ChargeOutput struct {
	Status        string          `json:"status"`
	PaymentKey    string          `json:"payment_key,omitempty"`
	Amount        decimal.Decimal `json:"amount"`
	FailureReason string          `json:"failure_reason,omitempty"`
}

// ManualPaymentInput records that an invoice was paid outside revhub (a signal from revenue ops).
type ManualPaymentInput struct {
	InvoiceID string `json:"invoice_id"`
	Actor     string `json:"actor"`
	Reason    string `json:"reason"`
	Reference string `json:"reference"`
	Seq       int    `json:"seq"` // the n-th manual action on this invoice, part of the idempotency key
}

// Validate checks the input.
func (in ManualPaymentInput) Validate() error {
	switch {
	case in.InvoiceID == "":
		return invalid("invoice_id", "required")
	case in.Actor == "":
		return invalid("actor", "required: who marks the invoice paid")
	case in.Reason == "":
		return invalid("reason", "required: why the invoice is marked paid")
	case in.Seq < 1:
		return invalid("seq", "must be 1 or more")
	}
	return nil
}

// InvoiceRef names an invoice.
type InvoiceRef struct {
	InvoiceID string `json:"invoice_id"`
}

// Validate checks the input.
func (in InvoiceRef) Validate() error {
	if in.InvoiceID == "" {
		return invalid("invoice_id", "required")
	}
	return nil
}

// Notice is something revenue ops must know (a dunning step, an uncollectible invoice).
type Notice struct {
	Subject string `json:"subject"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// Validate checks the input.
func (in Notice) Validate() error {
	switch {
	case in.Subject == "":
		return invalid("subject", "required")
	case in.Kind == "":
		return invalid("kind", "required")
	}
	return nil
}

// open reports whether an invoice still expects money.
func open(inv invoice.Invoice) bool {
	switch inv.Status {
	case invoice.StatusFinalized, invoice.StatusPartiallyPaid, invoice.StatusUncollectible:
		return inv.AmountDue.IsPositive()
	}
	return false
}

// ChargeInvoice charges the amount due under the key invoice:{id}:charge:{attempt}. The payment
// is recorded before and after the provider call, so a retry after a crash looks the charge up
// at the provider instead of charging again; a success is applied to the invoice and posted to
// the ledger (payment:{key}:captured) in one transaction.
func (a *Collection) ChargeInvoice(ctx context.Context, in ChargeInput) (ChargeOutput, error) {
	if err := in.Validate(); err != nil {
		return ChargeOutput{}, err
	}
	inv, err := invoice.GetHead(ctx, a.deps.Pool, in.InvoiceID)
	if err != nil {
		return ChargeOutput{}, fmt.Errorf("charge invoice %s: %w", in.InvoiceID, err)
	}
	key := provider.ChargeKey(in.InvoiceID, in.Attempt)
	if !open(inv) {
		// Paid, credited or voided meanwhile; a charge recorded under this key is still applied.
		if p, err := payment.GetByKey(ctx, a.deps.Pool, key); err == nil && p.Status == provider.StatusSucceeded {
			return ChargeOutput{Status: ChargeSucceeded, PaymentKey: key, Amount: p.Amount}, nil
		}
		return ChargeOutput{Status: ChargeNothing, Amount: decimal.Zero}, nil
	}
	req := provider.ChargeRequest{
		InvoiceID: in.InvoiceID, Attempt: in.Attempt, IdempotencyKey: key,
		Customer: provider.Customer{ID: inv.CustomerID, ProviderCustomer: inv.CustomerID, PaymentMethod: in.PaymentMethod},
		Amount:   inv.AmountDue, Currency: inv.Currency,
	}
	p, err := a.deps.Payments.Charge(ctx, provider.Name(in.Provider), req)
	if errors.Is(err, payment.ErrKeyConflict) {
		return ChargeOutput{}, permanent(ErrKeyConflict, err)
	}
	if err != nil {
		return ChargeOutput{}, err // outcome unknown: the retry looks the charge up under the same key
	}
	out := ChargeOutput{PaymentKey: key, Amount: p.Amount}
	switch p.Status {
	case provider.StatusSucceeded:
		// The record's capture time is stable across retries, so re-applying is a no-op.
		at := p.UpdatedAt
		if p.CapturedAt != nil {
			at = *p.CapturedAt
		}
		if err := db.InTx(ctx, a.deps.Pool, func(tx pgx.Tx) error { return a.applyPayment(ctx, tx, inv, p, at) }); err != nil {
			var rule *invoice.RuleError
			return ChargeOutput{}, asPermanent(err, ErrInvoiceStateRule, &rule)
		}
		out.Status = ChargeSucceeded
	case provider.StatusPending:
		out.Status = ChargePending
	default:
		out.Status = ChargeFailed
		out.FailureReason = p.FailureCode
		if p.FailureMessage != "" {
			out.FailureReason += ": " + p.FailureMessage
		}
	}
	return out, nil
}

// applyPayment records a captured payment on the invoice and in the ledger inside tx; both are
// idempotent by the payment's key.
func (a *Collection) applyPayment(ctx context.Context, tx db.Querier, inv invoice.Invoice, p payment.Payment, at time.Time) error {
	if err := invoice.ApplyPayment(ctx, tx, invoice.Payment{
		Key: p.IdempotencyKey, InvoiceID: inv.ID, Amount: p.Amount, ReceivedAt: at,
		Method: string(p.Provider), ProviderRef: p.ProviderID,
	}); err != nil {
		return fmt.Errorf("apply payment %s to invoice %s: %w", p.IdempotencyKey, inv.ID, err)
	}
	e, err := ledger.PaymentCaptured(a.deps.Chart, ledger.Payment{
		ID: LedgerPaymentID(p.IdempotencyKey), Provider: string(p.Provider),
		Party: ledger.Party{Entity: inv.BillingEntity, Customer: inv.CustomerID, Contract: inv.ContractID},
		Date:  at, Currency: p.Currency, Amount: p.Amount,
	})
	if err != nil {
		return permanent(ErrInvalidInput, err)
	}
	if _, err := ledger.PostLate(ctx, tx, a.deps.Chart, e); err != nil {
		return fmt.Errorf("post payment %s: %w", p.IdempotencyKey, err)
	}
	return nil
}

// MarkPaidManually records that revenue ops marked the invoice paid outside revhub, with the
// actor and reason in the audit log, under the key invoice:{id}:manual:{seq}.
func (a *Collection) MarkPaidManually(ctx context.Context, in ManualPaymentInput) error {
	if err := in.Validate(); err != nil {
		return err
	}
	inv, err := invoice.Get(ctx, a.deps.Pool, in.InvoiceID)
	if err != nil {
		return fmt.Errorf("mark paid %s: %w", in.InvoiceID, err)
	}
	key := "invoice:" + in.InvoiceID + ":manual:" + strconv.Itoa(in.Seq)
	return db.InTx(ctx, a.deps.Pool, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'invoice.mark_paid' AND subject = $1`, key).Scan(&n); err != nil {
			return fmt.Errorf("mark paid %s: %w", key, err)
		}
		if n > 0 {
			return nil // already done
		}
		if open(inv) {
			p := payment.Payment{IdempotencyKey: key, Provider: provider.Bank, Amount: inv.AmountDue, Currency: inv.Currency}
			if err := a.applyPayment(ctx, tx, inv, p, a.deps.Now()); err != nil {
				var rule *invoice.RuleError
				return asPermanent(err, ErrInvoiceStateRule, &rule)
			}
		}
		_, err := audit.Record(ctx, tx, in.Actor, "invoice.mark_paid", key, in.Reason, map[string]any{"invoice_id": in.InvoiceID, "reference": in.Reference})
		return err
	})
}

// MarkUncollectible writes the invoice off as uncollectible after dunning (idempotent).
func (a *Collection) MarkUncollectible(ctx context.Context, in InvoiceRef) error {
	if err := in.Validate(); err != nil {
		return err
	}
	inv, err := invoice.Get(ctx, a.deps.Pool, in.InvoiceID)
	if err != nil {
		return fmt.Errorf("mark uncollectible %s: %w", in.InvoiceID, err)
	}
	if inv.Status == invoice.StatusUncollectible || !open(inv) {
		return nil // already done, or paid meanwhile
	}
	if _, err := invoice.MarkUncollectible(ctx, a.deps.Pool, in.InvoiceID, a.deps.Now()); err != nil {
		var te *invoice.TransitionError
		if errors.As(err, &te) {
			return nil // settled concurrently
		}
		return fmt.Errorf("mark uncollectible %s: %w", in.InvoiceID, err)
	}
	return nil
}

// NotifyRevOps records a notice for revenue ops once per subject, kind and message.
func (a *Collection) NotifyRevOps(ctx context.Context, in Notice) error {
	if err := in.Validate(); err != nil {
		return err
	}
	created, err := notice.Raise(ctx, a.deps.Pool, in.Subject, in.Kind, in.Message, in.Message)
	if err != nil {
		return err
	}
	if created {
		a.deps.Log.InfoContext(ctx, "notice for revenue ops", "subject", in.Subject, "kind", in.Kind)
	}
	return nil
}

// LedgerPaymentID is a payment's id in ledger keys (payment:{id}:captured): its idempotency key with
// the ':' separators (which ledger keys reserve) written as '.'.
func LedgerPaymentID(idempotencyKey string) string {
	return strings.ReplaceAll(idempotencyKey, ":", ".")
}
