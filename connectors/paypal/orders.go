package paypal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Amount is PayPal's money: a currency code and a decimal string.
type Amount struct {
	CurrencyCode string `json:"currency_code"`
	Value        string `json:"value"`
}

// PurchaseUnit is one purchase unit of an order.
type PurchaseUnit struct {
	ReferenceID string    `json:"reference_id,omitempty"`
	InvoiceID   string    `json:"invoice_id,omitempty"`
	CustomID    string    `json:"custom_id,omitempty"`
	Description string    `json:"description,omitempty"`
	Amount      Amount    `json:"amount"`
	Payments    *Payments `json:"payments,omitempty"`
}

// Payments holds an order's captures.
type Payments struct {
	Captures []Capture `json:"captures"`
}

// Capture is a captured payment (GET /v2/payments/captures/{id}; also webhook resources).
type Capture struct {
	ID            string `json:"id"`
	Status        string `json:"status"` // COMPLETED, PENDING, DECLINED, FAILED, PARTIALLY_REFUNDED, REFUNDED
	StatusDetails *struct {
		Reason string `json:"reason"`
	} `json:"status_details,omitempty"`
	Amount     Amount `json:"amount"`
	InvoiceID  string `json:"invoice_id"`
	CustomID   string `json:"custom_id"`
	FinalCapt  bool   `json:"final_capture"`
	CreateTime string `json:"create_time"`
	UpdateTime string `json:"update_time"`
	Breakdown  *struct {
		GrossAmount Amount `json:"gross_amount"`
		PayPalFee   Amount `json:"paypal_fee"`
		NetAmount   Amount `json:"net_amount"`
	} `json:"seller_receivable_breakdown,omitempty"`
	Links []Link `json:"links"`
}

// Link is a HATEOAS link.
type Link struct {
	Href   string `json:"href"`
	Rel    string `json:"rel"`
	Method string `json:"method"`
}

// Order is an Orders v2 order.
type Order struct {
	ID            string         `json:"id"`
	Intent        string         `json:"intent"`
	Status        string         `json:"status"` // CREATED, SAVED, APPROVED, VOIDED, COMPLETED, PAYER_ACTION_REQUIRED
	PurchaseUnits []PurchaseUnit `json:"purchase_units"`
	Links         []Link         `json:"links"`
}

// CreateOrderRequest is the body of POST /v2/checkout/orders.
type CreateOrderRequest struct {
	Intent        string         `json:"intent"`
	PurchaseUnits []PurchaseUnit `json:"purchase_units"`
	PaymentSource *PaymentSource `json:"payment_source,omitempty"`
}

// PaymentSource names a vaulted payment method; with it PayPal needs no buyer approval.
type PaymentSource struct {
	PayPal *VaultRef `json:"paypal,omitempty"`
	Card   *VaultRef `json:"card,omitempty"`
}

// VaultRef refers to a payment method saved in PayPal's vault.
type VaultRef struct {
	VaultID string `json:"vault_id"`
}

// Refund is a refund of a capture.
type Refund struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Amount Amount `json:"amount"`
}

// CreateOrder creates an order with PayPal-Request-Id = requestID.
func (c *Client) CreateOrder(ctx context.Context, requestID string, req CreateOrderRequest) (Order, error) {
	var o Order
	err := c.do(ctx, "POST", "/v2/checkout/orders", requestID, req, &o)
	return o, err
}

// CaptureOrder captures an approved order with PayPal-Request-Id = requestID.
func (c *Client) CaptureOrder(ctx context.Context, requestID, orderID string) (Order, error) {
	var o Order
	err := c.do(ctx, "POST", "/v2/checkout/orders/"+url.PathEscape(orderID)+"/capture", requestID, json.RawMessage("{}"), &o)
	return o, err
}

// GetOrder reads an order.
func (c *Client) GetOrder(ctx context.Context, orderID string) (Order, error) {
	var o Order
	err := c.do(ctx, "GET", "/v2/checkout/orders/"+url.PathEscape(orderID), "", nil, &o)
	return o, err
}

// GetCapture reads a capture.
func (c *Client) GetCapture(ctx context.Context, captureID string) (Capture, error) {
	var cp Capture
	err := c.do(ctx, "GET", "/v2/payments/captures/"+url.PathEscape(captureID), "", nil, &cp)
	return cp, err
}

// RefundCapture refunds amount of a capture with PayPal-Request-Id = requestID.
func (c *Client) RefundCapture(ctx context.Context, requestID, captureID string, amount Amount, invoiceID string) (Refund, error) {
	var r Refund
	body := map[string]any{"amount": amount, "invoice_id": invoiceID}
	err := c.do(ctx, "POST", "/v2/payments/captures/"+url.PathEscape(captureID)+"/refund", requestID, body, &r)
	return r, err
}

// TransactionInfo is one row of Transaction Search.
type TransactionInfo struct {
	TransactionID     string `json:"transaction_id"`
	PayPalReferenceID string `json:"paypal_reference_id"`
	EventCode         string `json:"transaction_event_code"` // T0006 checkout payment, T1107 refund ...
	InitiationDate    string `json:"transaction_initiation_date"`
	UpdatedDate       string `json:"transaction_updated_date"`
	Amount            Amount `json:"transaction_amount"`
	Status            string `json:"transaction_status"` // S success, P pending, D denied, V reversed
	InvoiceID         string `json:"invoice_id"`
	CustomField       string `json:"custom_field"`
}

// Transactions lists every transaction initiated in [from, to] (at most 31 days), all pages.
func (c *Client) Transactions(ctx context.Context, from, to time.Time) ([]TransactionInfo, error) {
	var out []TransactionInfo
	for page := 1; ; page++ {
		q := url.Values{
			"start_date": {from.UTC().Format(time.RFC3339)}, "end_date": {to.UTC().Format(time.RFC3339)},
			"page_size": {"500"}, "page": {strconv.Itoa(page)}, "fields": {"transaction_info"},
		}
		var resp struct {
			Details []struct {
				Info TransactionInfo `json:"transaction_info"`
			} `json:"transaction_details"`
			TotalPages int `json:"total_pages"`
		}
		if err := c.do(ctx, "GET", "/v1/reporting/transactions?"+q.Encode(), "", nil, &resp); err != nil {
			return nil, fmt.Errorf("transaction search page %d: %w", page, err)
		}
		for _, d := range resp.Details {
			out = append(out, d.Info)
		}
		if page >= resp.TotalPages {
			return out, nil
		}
	}
}
