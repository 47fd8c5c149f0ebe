package api

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/payment/statement"
)

// BankStatementMaxBody is the body limit of a bank statement upload.
const BankStatementMaxBody = 16 << 20

// PaymentDeps are what the payment routes need; a nil Service or Decoder answers 503.
type PaymentDeps struct {
	Service *payment.Service
	Stripe  payment.Decoder // e.g. webhook.Stripe{Verifier: ...}
	PayPal  payment.Decoder // e.g. webhook.PayPal{Client: ...}
	Log     *slog.Logger
}

// PaymentRoutes are the provider webhook endpoints, bank statement import and payment listing.
func PaymentRoutes(d PaymentDeps) []Route {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	h := &paymentHandlers{d: d}
	return []Route{
		{Method: "POST", Path: "/v1/webhooks/stripe", Scope: ScopeWebhook, Handler: h.webhook(func() payment.Decoder { return d.Stripe }),
			Summary: "Stripe webhook (Stripe-Signature verified); redeliveries are no-ops, bad deliveries are recorded and refused."},
		{Method: "POST", Path: "/v1/webhooks/paypal", Scope: ScopeWebhook, Handler: h.webhook(func() payment.Decoder { return d.PayPal }),
			Summary: "PayPal webhook (verified with PayPal); redeliveries are no-ops, bad deliveries are recorded and refused."},
		{Method: "POST", Path: "/v1/bank/statements", Scope: ScopeWrite, MaxBody: BankStatementMaxBody, Handler: h.importStatement,
			Summary: "Import a bank statement CSV and match each line to an invoice by RF reference and amount."},
		{Method: "GET", Path: "/v1/payments", Scope: ScopeRead, Handler: h.listPayments,
			Summary: "List the payments of an invoice (?invoice_id=)."},
	}
}

type paymentHandlers struct{ d PaymentDeps }

func (h *paymentHandlers) webhook(dec func() payment.Decoder) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d := dec()
		if h.d.Service == nil || d == nil {
			WriteError(w, Errorf(http.StatusServiceUnavailable, "unavailable", "", "this payment provider is not configured"))
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			WriteError(w, jsonError(err))
			return
		}
		outcome, err := h.d.Service.HandleWebhook(r.Context(), d, r.Header, body)
		var rej *payment.RejectedError
		switch {
		case errors.As(err, &rej):
			WriteError(w, Errorf(http.StatusBadRequest, "webhook_"+rej.Code, "", "%s", rej.Reason))
		case err != nil:
			// Our failure or the provider's verification endpoint being down: 5xx so the provider redelivers.
			h.d.Log.ErrorContext(r.Context(), "webhook not processed", "provider", d.Provider(), "err", err)
			WriteError(w, Errorf(http.StatusServiceUnavailable, "unavailable", "", "webhook could not be processed now; redeliver later"))
		default:
			WriteJSON(w, http.StatusOK, map[string]string{"outcome": outcome})
		}
	}
}

type matchJSON struct {
	Row       int             `json:"row"`
	Account   string          `json:"account"`
	ID        string          `json:"transaction_id"`
	Outcome   string          `json:"outcome"`
	InvoiceID string          `json:"invoice_id,omitempty"`
	Applied   decimal.Decimal `json:"applied"`
	Excess    decimal.Decimal `json:"excess"`
	Remaining decimal.Decimal `json:"remaining"`
	Exception string          `json:"exception,omitempty"`
	Already   bool            `json:"already_imported"`
}

func (h *paymentHandlers) importStatement(w http.ResponseWriter, r *http.Request) {
	if h.d.Service == nil {
		WriteError(w, Errorf(http.StatusServiceUnavailable, "unavailable", "", "payments are not configured"))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		WriteError(w, Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type", "must be text/csv, got %q", ct))
		return
	}
	res, err := statement.Import(r.Context(), h.d.Service, r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		WriteError(w, jsonError(err))
		return
	case err != nil && res == nil:
		WriteError(w, statementError(err))
		return
	case err != nil:
		h.d.Log.ErrorContext(r.Context(), "bank statement import failed", "lines_done", len(res), "err", err)
		WriteError(w, err)
		return
	}
	out := make([]matchJSON, len(res))
	for i, m := range res {
		out[i] = matchJSON{Row: m.Row, Account: m.Line.Account, ID: m.Line.TransactionID, Outcome: m.Outcome, InvoiceID: m.InvoiceID,
			Applied: m.Applied, Excess: m.Excess, Remaining: m.Remaining, Exception: m.Exception, Already: m.Already}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"lines": out})
}

// statementError lists every bad cell of a statement as a detail.
func statementError(err error) *Error {
	e := Errorf(http.StatusBadRequest, "invalid_statement", "", "the statement has errors; nothing was imported")
	var multi interface{ Unwrap() []error }
	if errors.As(err, &multi) {
		for _, one := range multi.Unwrap() {
			field, reason, _ := strings.Cut(one.Error(), ": ")
			e.Details = append(e.Details, ErrorDetail{Field: field, Reason: reason})
		}
	} else {
		e.Reason = err.Error()
	}
	return e
}

type paymentJSON struct {
	Key         string          `json:"idempotency_key"`
	Kind        string          `json:"kind"`
	Provider    string          `json:"provider"`
	InvoiceID   string          `json:"invoice_id"`
	Attempt     int             `json:"attempt"`
	Amount      decimal.Decimal `json:"amount"`
	Currency    string          `json:"currency"`
	Status      string          `json:"status"`
	ProviderID  string          `json:"provider_id,omitempty"`
	FailureCode string          `json:"failure_code,omitempty"`
	CapturedAt  any             `json:"captured_at"`
}

func (h *paymentHandlers) listPayments(w http.ResponseWriter, r *http.Request) {
	if h.d.Service == nil {
		WriteError(w, Errorf(http.StatusServiceUnavailable, "unavailable", "", "payments are not configured"))
		return
	}
	inv := r.URL.Query().Get("invoice_id")
	if inv == "" {
		WriteError(w, Errorf(http.StatusBadRequest, "invalid_field", "invoice_id", "is required"))
		return
	}
	ps, err := h.d.Service.ListByInvoice(r.Context(), inv)
	if err != nil {
		WriteError(w, err)
		return
	}
	out := make([]paymentJSON, len(ps))
	for i, p := range ps {
		out[i] = paymentJSON{Key: p.IdempotencyKey, Kind: string(p.Kind), Provider: string(p.Provider), InvoiceID: p.InvoiceID, Attempt: p.Attempt,
			Amount: p.Amount, Currency: p.Currency.String(), Status: string(p.Status), ProviderID: p.ProviderID, FailureCode: p.FailureCode}
		if p.CapturedAt != nil {
			out[i].CapturedAt = p.CapturedAt.UTC()
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"payments": out})
}
