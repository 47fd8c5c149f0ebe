// Package stripe is revhub's Stripe payment provider on stripe-go v82: off-session PaymentIntents
// confirmed at creation with the invoice's idempotency key, lookup by metadata for crash recovery,
// refunds, captured-payment lists for reconciliation, and signed webhook verification.
package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	stripe "github.com/stripe/stripe-go/v82"

	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/money"
)

// Metadata keys revhub puts on every PaymentIntent.
const (
	MetaInvoiceID      = "invoice_id"
	MetaIdempotencyKey = "revhub_key"
	MetaAttempt        = "attempt"
)

// Config configures a Client; the API key is a secret and never logged.
type Config struct {
	APIKey            string       // "sk_test_..." or "sk_live_..."
	BaseURL           string       // API base URL; empty means https://api.stripe.com (tests: the fake layer)
	HTTPClient        *http.Client // optional
	MaxNetworkRetries int64        // stripe-go's own retries of 409/5xx/network errors, same Idempotency-Key; default 2
}

// Client implements provider.Provider for Stripe.
type Client struct {
	sc *stripe.Client
}

// New returns a Client with its own backends (no global stripe.Key).
func New(cfg Config) (*Client, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("stripe: api key: is required")
	}
	retries := cfg.MaxNetworkRetries
	if retries == 0 {
		retries = 2
	}
	if retries < 0 {
		retries = 0
	}
	bc := &stripe.BackendConfig{
		HTTPClient:        cfg.HTTPClient,
		MaxNetworkRetries: stripe.Int64(retries),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.BaseURL != "" {
		bc.URL = stripe.String(strings.TrimRight(cfg.BaseURL, "/"))
	}
	return &Client{sc: stripe.NewClient(cfg.APIKey, stripe.WithBackends(stripe.NewBackendsWithConfig(bc)))}, nil
}

// Name returns provider.Stripe.
func (c *Client) Name() provider.Name { return provider.Stripe }

// Charge creates and confirms an off-session PaymentIntent on the customer's stored payment method,
// with Idempotency-Key = req.IdempotencyKey and the invoice id and key in metadata. A card decline
// is a failed Charge; any other problem is an error (outcome unknown: resolve with LookupCharge).
func (c *Client) Charge(ctx context.Context, req provider.ChargeRequest) (provider.Charge, error) {
	if err := req.Validate(); err != nil {
		return provider.Charge{}, fmt.Errorf("stripe charge: %w", err)
	}
	if req.Customer.ProviderCustomer == "" || req.Customer.PaymentMethod == "" {
		return provider.Charge{}, fmt.Errorf("stripe charge %s: customer %s: %w", req.IdempotencyKey, req.Customer.ID, provider.ErrNoPaymentMethod)
	}
	minor, err := money.DecimalToMinor(req.Amount, req.Currency)
	if err != nil {
		return provider.Charge{}, fmt.Errorf("stripe charge %s: amount: %w", req.IdempotencyKey, err)
	}
	p := &stripe.PaymentIntentCreateParams{
		Amount:        stripe.Int64(minor),
		Currency:      stripe.String(strings.ToLower(string(req.Currency))),
		Customer:      stripe.String(req.Customer.ProviderCustomer),
		PaymentMethod: stripe.String(req.Customer.PaymentMethod),
		Confirm:       stripe.Bool(true),
		OffSession:    stripe.Bool(true),
		Description:   stripe.String("Invoice " + req.InvoiceID),
		Metadata: map[string]string{
			MetaInvoiceID:      req.InvoiceID,
			MetaIdempotencyKey: req.IdempotencyKey,
			MetaAttempt:        strconv.Itoa(req.Attempt),
		},
	}
	p.SetIdempotencyKey(req.IdempotencyKey)
	pi, err := c.sc.V1PaymentIntents.Create(ctx, p)
	if err != nil {
		var se *stripe.Error
		if errors.As(err, &se) && se.Type == stripe.ErrorTypeCard {
			ch := provider.Charge{Provider: provider.Stripe, IdempotencyKey: req.IdempotencyKey, InvoiceID: req.InvoiceID,
				Status: provider.StatusFailed, Amount: req.Amount, Currency: req.Currency,
				FailureCode: declineCode(se), FailureMessage: se.Msg}
			if se.PaymentIntent != nil {
				ch.ProviderID = se.PaymentIntent.ID
			}
			return ch, nil
		}
		return provider.Charge{}, fmt.Errorf("stripe charge %s: %w", req.IdempotencyKey, describe(err))
	}
	return PaymentIntentCharge(pi)
}

// LookupCharge finds the PaymentIntent created under key by searching its metadata, falling back to
// listing PaymentIntents created since `since` (search is eventually consistent at Stripe).
func (c *Client) LookupCharge(ctx context.Context, key, invoiceID string, since time.Time) (provider.Charge, bool, error) {
	sp := &stripe.PaymentIntentSearchParams{}
	sp.Query = fmt.Sprintf("metadata['%s']:'%s'", MetaIdempotencyKey, escapeQuery(key))
	for pi, err := range c.sc.V1PaymentIntents.Search(ctx, sp) {
		if err != nil {
			return provider.Charge{}, false, fmt.Errorf("stripe lookup %s: search: %w", key, describe(err))
		}
		ch, err := PaymentIntentCharge(pi)
		return ch, err == nil, err
	}
	lp := &stripe.PaymentIntentListParams{}
	lp.CreatedRange = &stripe.RangeQueryParams{GreaterThanOrEqual: since.Unix()}
	lp.Limit = stripe.Int64(100)
	for pi, err := range c.sc.V1PaymentIntents.List(ctx, lp) {
		if err != nil {
			return provider.Charge{}, false, fmt.Errorf("stripe lookup %s: list: %w", key, describe(err))
		}
		if pi.Metadata[MetaIdempotencyKey] == key {
			ch, err := PaymentIntentCharge(pi)
			return ch, err == nil, err
		}
	}
	return provider.Charge{}, false, nil
}

// Refund refunds part or all of a succeeded PaymentIntent with Idempotency-Key = req.IdempotencyKey.
func (c *Client) Refund(ctx context.Context, req provider.RefundRequest) (provider.Refund, error) {
	minor, err := money.DecimalToMinor(req.Amount, req.Currency)
	if err != nil {
		return provider.Refund{}, fmt.Errorf("stripe refund %s: amount: %w", req.IdempotencyKey, err)
	}
	p := &stripe.RefundCreateParams{
		PaymentIntent: stripe.String(req.ChargeProviderID),
		Amount:        stripe.Int64(minor),
		Metadata:      map[string]string{MetaIdempotencyKey: req.IdempotencyKey},
	}
	p.SetIdempotencyKey(req.IdempotencyKey)
	re, err := c.sc.V1Refunds.Create(ctx, p)
	if err != nil {
		return provider.Refund{}, fmt.Errorf("stripe refund %s: %w", req.IdempotencyKey, describe(err))
	}
	cur, err := money.ParseCurrency(string(re.Currency))
	if err != nil {
		return provider.Refund{}, fmt.Errorf("stripe refund %s: %w", re.ID, err)
	}
	amt, err := money.MinorToDecimal(re.Amount, cur)
	if err != nil {
		return provider.Refund{}, err
	}
	st := provider.StatusPending
	switch re.Status {
	case stripe.RefundStatusSucceeded:
		st = provider.StatusSucceeded
	case stripe.RefundStatusFailed, stripe.RefundStatusCanceled:
		st = provider.StatusFailed
	}
	return provider.Refund{Provider: provider.Stripe, ProviderID: re.ID, ChargeProviderID: req.ChargeProviderID,
		IdempotencyKey: req.IdempotencyKey, Status: st, Amount: amt, Currency: cur}, nil
}

// ListCaptured lists succeeded PaymentIntents created in [from, to) with the amount received.
func (c *Client) ListCaptured(ctx context.Context, from, to time.Time) ([]provider.Captured, error) {
	lp := &stripe.PaymentIntentListParams{}
	lp.CreatedRange = &stripe.RangeQueryParams{GreaterThanOrEqual: from.Unix(), LesserThan: to.Unix()}
	lp.Limit = stripe.Int64(100)
	var out []provider.Captured
	for pi, err := range c.sc.V1PaymentIntents.List(ctx, lp) {
		if err != nil {
			return nil, fmt.Errorf("stripe list captured: %w", describe(err))
		}
		if pi.Status != stripe.PaymentIntentStatusSucceeded {
			continue
		}
		ch, err := PaymentIntentCharge(pi)
		if err != nil {
			return nil, err
		}
		out = append(out, provider.Captured{Provider: provider.Stripe, ProviderID: pi.ID, InvoiceID: ch.InvoiceID,
			Key: ch.IdempotencyKey, Amount: ch.Amount, Currency: ch.Currency, CapturedAt: ch.CapturedAt})
	}
	return out, nil
}

// PaymentIntentCharge translates a PaymentIntent into revhub's charge outcome.
func PaymentIntentCharge(pi *stripe.PaymentIntent) (provider.Charge, error) {
	cur, err := money.ParseCurrency(string(pi.Currency))
	if err != nil {
		return provider.Charge{}, fmt.Errorf("payment intent %s: currency: %w", pi.ID, err)
	}
	if pi.Amount < 0 {
		return provider.Charge{}, fmt.Errorf("payment intent %s: amount: must not be negative, got %d", pi.ID, pi.Amount)
	}
	amt, err := money.MinorToDecimal(pi.Amount, cur)
	if err != nil {
		return provider.Charge{}, err
	}
	ch := provider.Charge{Provider: provider.Stripe, ProviderID: pi.ID, IdempotencyKey: pi.Metadata[MetaIdempotencyKey],
		InvoiceID: pi.Metadata[MetaInvoiceID], Amount: amt, Currency: cur}
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		ch.Status = provider.StatusSucceeded
		ch.CapturedAt = time.Unix(pi.Created, 0).UTC()
	case stripe.PaymentIntentStatusProcessing, stripe.PaymentIntentStatusRequiresCapture:
		ch.Status = provider.StatusPending
	default: // requires_payment_method after a decline, requires_action, canceled ...
		ch.Status = provider.StatusFailed
		ch.FailureCode = string(pi.Status)
		if e := pi.LastPaymentError; e != nil {
			ch.FailureMessage = e.Msg
			ch.FailureCode = string(e.Code)
			if e.DeclineCode != "" {
				ch.FailureCode = string(e.DeclineCode)
			}
		}
	}
	return ch, nil
}

func declineCode(se *stripe.Error) string {
	if se.DeclineCode != "" {
		return string(se.DeclineCode)
	}
	return string(se.Code)
}

// describe keeps a Stripe error's status, type, code and message, with any API key masked.
func describe(err error) error {
	var se *stripe.Error
	if errors.As(err, &se) {
		return &apiError{msg: redact(fmt.Sprintf("stripe %d %s/%s: %s", se.HTTPStatusCode, se.Type, se.Code, se.Msg)), err: se}
	}
	return err
}

// apiError is a Stripe error whose text has been checked for secrets; errors.As still finds the *stripe.Error.
type apiError struct {
	msg string
	err *stripe.Error
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.err }

var keyPattern = regexp.MustCompile(`\b(sk|rk|pk)_(test|live)_[A-Za-z0-9]+`)

// redact masks API keys, which stripe-mock (and some proxies) echo in error messages.
func redact(s string) string { return keyPattern.ReplaceAllString(s, "${1}_${2}_***") }

func escapeQuery(s string) string { return strings.ReplaceAll(s, "'", `\'`) }
