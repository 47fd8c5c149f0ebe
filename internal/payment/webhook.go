package payment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/db"
)

// Rejection codes of webhook deliveries that are recorded and never applied.
const (
	RejectSignature      = "bad_signature"   // signature, timestamp or verification failed
	RejectMalformed      = "malformed"       // verified but not understood
	RejectUnknownInvoice = "unknown_invoice" // no receivable for the invoice it names
	RejectUnknownPayment = "unknown_payment" // no recorded charge for the key or provider id
	RejectAmountMismatch = "amount_mismatch" // amount or currency differs from the record
	RejectStateConflict  = "state_conflict"  // contradicts a settled record (e.g. success after failure)
)

// RejectedError is a webhook delivery refused for Code; it has been recorded.
type RejectedError struct {
	Code   string
	Reason string
}

func (e *RejectedError) Error() string { return "webhook rejected: " + e.Code + ": " + e.Reason }

func reject(code, format string, args ...any) *RejectedError {
	return &RejectedError{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Webhook outcomes.
const (
	OutcomeApplied   = "applied"   // changed a record
	OutcomeUnchanged = "unchanged" // verified, first delivery, but nothing to change
	OutcomeDuplicate = "duplicate" // event id already processed: redelivery, no-op
)

// ErrBadSignature is what a Decoder wraps when a delivery is not authentic.
var ErrBadSignature = errors.New("webhook signature not verified")

// ErrVerifyUnavailable is what a Decoder wraps when it could not verify a delivery for now (the
// provider's verification endpoint was unreachable): the delivery is not rejected, the provider retries.
var ErrVerifyUnavailable = errors.New("webhook verification unavailable")

// Decoder verifies a provider's webhook delivery and translates it; it wraps ErrBadSignature for
// deliveries that are not authentic. It is built from a connector's verifier and a mapping.
type Decoder interface {
	Provider() provider.Name
	Decode(ctx context.Context, header http.Header, body []byte) (provider.Event, error)
}

// HandleWebhook verifies, deduplicates and applies one delivery. Refused deliveries are recorded in
// payment_webhook_rejections with their reason and returned as *RejectedError.
func (s *Service) HandleWebhook(ctx context.Context, dec Decoder, header http.Header, body []byte) (string, error) {
	ev, err := dec.Decode(ctx, header, body)
	if errors.Is(err, ErrVerifyUnavailable) {
		return "", fmt.Errorf("%s webhook: %w", dec.Provider(), err)
	}
	if err != nil {
		code := RejectMalformed
		if errors.Is(err, ErrBadSignature) {
			code = RejectSignature
		}
		rej := &RejectedError{Code: code, Reason: err.Error()}
		if rerr := RecordRejection(ctx, s.pool, dec.Provider(), ev.ID, rej, body); rerr != nil {
			return "", errors.Join(rej, rerr)
		}
		return "", rej
	}
	return s.ApplyEvent(ctx, ev, body)
}

// ApplyEvent applies a verified event exactly once per (provider, event id): the event row is
// written in the same transaction as its effect, so a redelivery finds it and changes nothing.
func (s *Service) ApplyEvent(ctx context.Context, ev provider.Event, payload []byte) (string, error) {
	if ev.ID == "" {
		rej := reject(RejectMalformed, "event has no id")
		return "", errors.Join(rej, RecordRejection(ctx, s.pool, ev.Provider, "", rej, payload))
	}
	var outcome string
	var rej *RejectedError
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO payment_webhook_events (provider, event_id, event_type, outcome, payload)
			VALUES ($1, $2, $3, 'applied', $4) ON CONFLICT (provider, event_id) DO NOTHING`, ev.Provider, ev.ID, ev.ProviderType, payload)
		if err != nil {
			return fmt.Errorf("record event %s: %w", ev.ID, err)
		}
		if tag.RowsAffected() == 0 {
			outcome = OutcomeDuplicate
			return nil
		}
		var key string
		key, outcome, rej, err = applyEvent(ctx, tx, ev)
		if err != nil {
			return err
		}
		if rej != nil {
			return rej // roll back the event row: a rejected event is recorded as a rejection only
		}
		_, err = tx.Exec(ctx, `UPDATE payment_webhook_events SET outcome = $3, payment_key = $4 WHERE provider = $1 AND event_id = $2`,
			ev.Provider, ev.ID, outcome, key)
		return err
	})
	if rej != nil {
		if rerr := RecordRejection(ctx, s.pool, ev.Provider, ev.ID, rej, payload); rerr != nil {
			return "", errors.Join(rej, rerr)
		}
		s.log.WarnContext(ctx, "webhook rejected", "provider", ev.Provider, "event_id", ev.ID, "code", rej.Code, "reason", rej.Reason)
		return "", rej
	}
	if err != nil {
		return "", fmt.Errorf("apply %s event %s: %w", ev.Provider, ev.ID, err)
	}
	s.log.InfoContext(ctx, "webhook processed", "provider", ev.Provider, "event_id", ev.ID, "type", ev.ProviderType, "outcome", outcome)
	return outcome, nil
}

func applyEvent(ctx context.Context, tx pgx.Tx, ev provider.Event) (key, outcome string, rej *RejectedError, err error) {
	switch ev.Type {
	case provider.EventOther:
		return "", OutcomeUnchanged, nil, nil
	case provider.EventChargeSucceeded, provider.EventChargePending, provider.EventChargeFailed:
		return applyCharge(ctx, tx, ev)
	case provider.EventChargeRefunded:
		return applyRefund(ctx, tx, ev)
	}
	return "", "", reject(RejectMalformed, "event type %q is not understood", ev.Type), nil
}

func applyCharge(ctx context.Context, tx pgx.Tx, ev provider.Event) (string, string, *RejectedError, error) {
	if ev.InvoiceID != "" {
		if _, err := GetReceivable(ctx, tx, ev.InvoiceID); errors.Is(err, ErrUnknownInvoice) {
			return "", "", reject(RejectUnknownInvoice, "invoice %q named by the event has no receivable", ev.InvoiceID), nil
		} else if err != nil {
			return "", "", nil, err
		}
	}
	var rec Payment
	var err error
	if ev.Key != "" {
		rec, err = GetByKey(ctx, tx, ev.Key)
	} else {
		rec, err = GetByProviderID(ctx, tx, ev.Provider, KindCharge, ev.ChargeProviderID)
	}
	if errors.Is(err, ErrNotFound) {
		return "", "", reject(RejectUnknownPayment, "no recorded charge for key %q / %s id %q", ev.Key, ev.Provider, ev.ChargeProviderID), nil
	}
	if err != nil {
		return "", "", nil, err
	}
	if rec.Provider != ev.Provider || rec.Kind != KindCharge || (ev.InvoiceID != "" && rec.InvoiceID != ev.InvoiceID) {
		return "", "", reject(RejectUnknownPayment, "key %q belongs to a %s %s of invoice %s, the event is a %s charge of invoice %s",
			rec.IdempotencyKey, rec.Provider, rec.Kind, rec.InvoiceID, ev.Provider, ev.InvoiceID), nil
	}
	if !ev.Amount.Equal(rec.Amount) || ev.Currency != rec.Currency {
		return "", "", reject(RejectAmountMismatch, "event says %s %s, charge %s was recorded for %s %s", ev.Amount, ev.Currency, rec.IdempotencyKey, rec.Amount, rec.Currency), nil
	}
	if rec.ProviderID != "" && ev.ChargeProviderID != "" && rec.ProviderID != ev.ChargeProviderID {
		return "", "", reject(RejectStateConflict, "charge %s is recorded as %s id %s, the event names %s", rec.IdempotencyKey, rec.Provider, rec.ProviderID, ev.ChargeProviderID), nil
	}
	status := map[provider.EventType]provider.Status{provider.EventChargeSucceeded: provider.StatusSucceeded,
		provider.EventChargePending: provider.StatusPending, provider.EventChargeFailed: provider.StatusFailed}[ev.Type]
	if rec.Status != provider.StatusPending {
		if rec.Status == status || status == provider.StatusPending {
			return rec.IdempotencyKey, OutcomeUnchanged, nil, nil // already known, or an older pending notice
		}
		return "", "", reject(RejectStateConflict, "charge %s is already %s, the event says %s", rec.IdempotencyKey, rec.Status, status), nil
	}
	_, changed, err := Settle(ctx, tx, rec.IdempotencyKey, provider.Charge{Status: status, ProviderID: ev.ChargeProviderID,
		FailureCode: ev.FailureCode, FailureMessage: ev.FailureMessage, CapturedAt: ev.OccurredAt})
	if err != nil {
		return "", "", nil, err
	}
	if !changed {
		return rec.IdempotencyKey, OutcomeUnchanged, nil, nil
	}
	return rec.IdempotencyKey, OutcomeApplied, nil, nil
}

func applyRefund(ctx context.Context, tx pgx.Tx, ev provider.Event) (string, string, *RejectedError, error) {
	charge, err := GetByProviderID(ctx, tx, ev.Provider, KindCharge, ev.ChargeProviderID)
	if errors.Is(err, ErrNotFound) {
		return "", "", reject(RejectUnknownPayment, "refund of %s charge %q that revhub never recorded", ev.Provider, ev.ChargeProviderID), nil
	}
	if err != nil {
		return "", "", nil, err
	}
	if charge.Status != provider.StatusSucceeded {
		return "", "", reject(RejectStateConflict, "refund of charge %s which is %s", charge.IdempotencyKey, charge.Status), nil
	}
	if ev.Currency != charge.Currency {
		return "", "", reject(RejectAmountMismatch, "refund in %s of a charge in %s", ev.Currency, charge.Currency), nil
	}
	refunded, err := RefundedOf(ctx, tx, charge.Provider, charge.ProviderID)
	if err != nil {
		return "", "", nil, err
	}
	amount, refundID := ev.Amount, ev.RefundProviderID
	if !ev.RefundedTotal {
		// A refund revhub made itself (Service.Refund) is already recorded under its provider id.
		if known, err := GetByProviderID(ctx, tx, ev.Provider, KindRefund, charge.ProviderID+":"+refundID); err == nil {
			return known.IdempotencyKey, OutcomeUnchanged, nil, nil
		} else if !errors.Is(err, ErrNotFound) {
			return "", "", nil, err
		}
	}
	if ev.RefundedTotal {
		amount = ev.Amount.Sub(refunded)
		refundID = "total-" + ev.Amount.String()
		if !amount.IsPositive() {
			return "", OutcomeUnchanged, nil, nil // an older running total
		}
	}
	if !amount.IsPositive() || refunded.Add(amount).GreaterThan(charge.Amount) {
		return "", "", reject(RejectAmountMismatch, "refund of %s %s would take refunds of charge %s (%s %s) to %s", amount, ev.Currency, charge.IdempotencyKey, charge.Amount, charge.Currency, refunded.Add(amount)), nil
	}
	// Refund rows carry "<charge provider id>:<refund id>" so refunds of one charge are found together.
	key := fmt.Sprintf("%s:refund:%s:%s", ev.Provider, charge.ProviderID, strings.TrimSpace(refundID))
	at := ev.OccurredAt
	_, created, err := InsertSettled(ctx, tx, Payment{IdempotencyKey: key, Kind: KindRefund, Provider: ev.Provider, InvoiceID: charge.InvoiceID,
		Amount: amount, Currency: charge.Currency, ProviderID: charge.ProviderID + ":" + refundID}, at)
	if err != nil {
		return "", "", nil, err
	}
	if !created {
		return key, OutcomeUnchanged, nil, nil
	}
	return key, OutcomeApplied, nil, nil
}

// RecordRejection stores a refused delivery with its reason (append-only).
func RecordRejection(ctx context.Context, q db.Querier, prov provider.Name, eventID string, rej *RejectedError, payload []byte) error {
	if _, err := q.Exec(ctx, `INSERT INTO payment_webhook_rejections (provider, event_id, code, reason, payload) VALUES ($1, $2, $3, $4, $5)`,
		prov, eventID, rej.Code, rej.Reason, payload); err != nil {
		return fmt.Errorf("record rejected %s webhook: %w", prov, err)
	}
	return nil
}

// Rejection is one recorded refused delivery.
type Rejection struct {
	Provider provider.Name
	EventID  string
	Code     string
	Reason   string
}

// ListRejections lists recorded refused deliveries of a provider, oldest first.
func ListRejections(ctx context.Context, q db.Querier, prov provider.Name) ([]Rejection, error) {
	rows, err := q.Query(ctx, `SELECT provider, event_id, code, reason FROM payment_webhook_rejections WHERE provider = $1 ORDER BY id`, prov)
	if err != nil {
		return nil, fmt.Errorf("list rejections: %w", err)
	}
	defer rows.Close()
	var out []Rejection
	for rows.Next() {
		var r Rejection
		var p string
		if err := rows.Scan(&p, &r.EventID, &r.Code, &r.Reason); err != nil {
			return nil, fmt.Errorf("scan rejection: %w", err)
		}
		r.Provider = provider.Name(p)
		out = append(out, r)
	}
	return out, rows.Err()
}
