package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/revhub/revhub/connectors/provider"
)

// Service collects invoices through providers, recording each effect before and after the call.
type Service struct {
	pool      *pgxpool.Pool
	providers *provider.Registry
	log       *slog.Logger
}

// NewService returns a Service over pool and the registered providers.
func NewService(pool *pgxpool.Pool, providers *provider.Registry, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{pool: pool, providers: providers, log: log}
}

// ErrKeyConflict means an idempotency key is already recorded for a different money effect.
var ErrKeyConflict = errors.New("idempotency key already used for a different payment")

// Charge collects req through the named provider exactly once per req.IdempotencyKey:
//  1. a pending record is written under the key before the provider is called;
//  2. if the key was already recorded, a settled record is returned as it is, and a pending one is
//     resolved by looking the charge up at the provider (see Resolve), never by charging again;
//  3. the provider's answer updates the record; a transport error leaves it pending for Resolve.
func (s *Service) Charge(ctx context.Context, name provider.Name, req provider.ChargeRequest) (Payment, error) {
	if err := req.Validate(); err != nil {
		return Payment{}, fmt.Errorf("charge %s: %w", req.IdempotencyKey, err)
	}
	prov, ok := s.providers.Get(name)
	if !ok {
		return Payment{}, fmt.Errorf("charge %s: provider %q is not registered", req.IdempotencyKey, name)
	}
	want := Payment{IdempotencyKey: req.IdempotencyKey, Kind: KindCharge, Provider: name, InvoiceID: req.InvoiceID,
		Attempt: req.Attempt, Amount: req.Amount, Currency: req.Currency}
	rec, created, err := InsertPending(ctx, s.pool, want)
	if err != nil {
		return Payment{}, err
	}
	if !created {
		if err := sameEffect(rec, want); err != nil {
			return Payment{}, err
		}
		if rec.Status != provider.StatusPending {
			return rec, nil // already done
		}
		return s.resolve(ctx, prov, rec, &req)
	}
	return s.call(ctx, prov, rec, req)
}

// Resolve settles a pending charge left by a crash or a lost answer: it looks the charge up at the
// provider under its key and records what it finds; only if the provider has no such charge does it
// send the charge again, under the same idempotency key, so the provider still charges at most once.
func (s *Service) Resolve(ctx context.Context, rec Payment, customer provider.Customer) (Payment, error) {
	prov, ok := s.providers.Get(rec.Provider)
	if !ok {
		return Payment{}, fmt.Errorf("resolve %s: provider %q is not registered", rec.IdempotencyKey, rec.Provider)
	}
	req := provider.ChargeRequest{InvoiceID: rec.InvoiceID, Attempt: rec.Attempt, IdempotencyKey: rec.IdempotencyKey,
		Customer: customer, Amount: rec.Amount, Currency: rec.Currency}
	return s.resolve(ctx, prov, rec, &req)
}

func (s *Service) resolve(ctx context.Context, prov provider.Provider, rec Payment, req *provider.ChargeRequest) (Payment, error) {
	found, ok, err := prov.LookupCharge(ctx, rec.IdempotencyKey, rec.InvoiceID, rec.CreatedAt.Add(-time.Hour))
	if err != nil {
		return rec, fmt.Errorf("resolve %s: look up at %s: %w", rec.IdempotencyKey, prov.Name(), err)
	}
	if ok {
		s.log.InfoContext(ctx, "pending payment resolved by lookup", "key", rec.IdempotencyKey, "provider", prov.Name(), "status", found.Status)
		if err := sameCharge(rec, found); err != nil {
			return rec, err
		}
		p, _, err := Settle(ctx, s.pool, rec.IdempotencyKey, found)
		return p, err
	}
	s.log.InfoContext(ctx, "pending payment unknown at provider, sending it under the same key", "key", rec.IdempotencyKey, "provider", prov.Name())
	return s.call(ctx, prov, rec, *req)
}

func (s *Service) call(ctx context.Context, prov provider.Provider, rec Payment, req provider.ChargeRequest) (Payment, error) {
	c, err := prov.Charge(ctx, req)
	if errors.Is(err, provider.ErrNoPaymentMethod) {
		// Refused before anything was sent: a definite failure (dunning and revenue ops take it
		// from here), not an unknown outcome to resolve by lookup.
		c = provider.Charge{Provider: prov.Name(), IdempotencyKey: req.IdempotencyKey, InvoiceID: req.InvoiceID,
			Status: provider.StatusFailed, Currency: req.Currency, FailureCode: "no_payment_method", FailureMessage: err.Error()}
		err = nil
	}
	if err != nil {
		return rec, fmt.Errorf("charge %s at %s (left pending, resolve by lookup): %w", req.IdempotencyKey, prov.Name(), err)
	}
	if err := sameCharge(rec, c); err != nil {
		return rec, err
	}
	p, _, err := Settle(ctx, s.pool, req.IdempotencyKey, c)
	if err != nil {
		return rec, err
	}
	s.log.InfoContext(ctx, "charge recorded", "key", p.IdempotencyKey, "provider", p.Provider, "status", p.Status, "provider_id", p.ProviderID)
	return p, nil
}

// sameEffect refuses a key reused for a different invoice, amount, currency or provider.
func sameEffect(got, want Payment) error {
	if got.Kind != want.Kind || got.Provider != want.Provider || got.InvoiceID != want.InvoiceID ||
		!got.Amount.Equal(want.Amount) || got.Currency != want.Currency {
		return fmt.Errorf("%s: recorded as %s %s %s of invoice %s via %s, requested %s %s %s of invoice %s via %s: %w",
			want.IdempotencyKey, got.Kind, got.Amount, got.Currency, got.InvoiceID, got.Provider,
			want.Kind, want.Amount, want.Currency, want.InvoiceID, want.Provider, ErrKeyConflict)
	}
	return nil
}

// sameCharge refuses a provider answer whose amount or currency differs from the record.
func sameCharge(rec Payment, c provider.Charge) error {
	if c.Status == provider.StatusFailed && c.Amount.IsZero() {
		return nil
	}
	if !c.Amount.Equal(rec.Amount) || c.Currency != rec.Currency {
		return fmt.Errorf("charge %s: provider %s answered %s %s for a recorded %s %s", rec.IdempotencyKey, rec.Provider, c.Amount, c.Currency, rec.Amount, rec.Currency)
	}
	return nil
}

// RegisterReceivable validates r and records what its invoice asks to be paid; registering the same
// receivable again is a no-op.
func (s *Service) RegisterReceivable(ctx context.Context, r Receivable) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("receivable %s: %w", r.InvoiceID, err)
	}
	return UpsertReceivable(ctx, s.pool, r)
}

// ListByInvoice lists the recorded payments of an invoice, oldest first.
func (s *Service) ListByInvoice(ctx context.Context, invoiceID string) ([]Payment, error) {
	return ListByInvoice(ctx, s.pool, invoiceID)
}

// CustomerFunc returns the payer of a pending charge, used only if the charge must be re-sent.
type CustomerFunc func(ctx context.Context, p Payment) (provider.Customer, error)

// ResolvePending resolves up to limit charges still pending since before olderThan (left by crashes
// or lost answers) through Resolve, and returns those it settled; it stops at the first error.
func (s *Service) ResolvePending(ctx context.Context, olderThan time.Time, limit int, customer CustomerFunc) ([]Payment, error) {
	pending, err := ListPending(ctx, s.pool, olderThan, limit)
	if err != nil {
		return nil, err
	}
	var done []Payment
	for _, p := range pending {
		if p.Kind != KindCharge {
			continue
		}
		c, err := customer(ctx, p)
		if err != nil {
			return done, fmt.Errorf("resolve %s: customer: %w", p.IdempotencyKey, err)
		}
		got, err := s.Resolve(ctx, p, c)
		if err != nil {
			return done, err
		}
		if got.Status != provider.StatusPending {
			done = append(done, got)
		}
	}
	return done, nil
}
