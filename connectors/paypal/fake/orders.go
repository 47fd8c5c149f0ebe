package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

const ts = "2006-01-02T15:04:05Z"

func (s *Server) createOrder(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Intent        string          `json:"intent"`
		PurchaseUnits []unit          `json:"purchase_units"`
		PaymentSource json.RawMessage `json:"payment_source"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, 400, "INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.",
			[]detail{{Location: "body", Issue: "MALFORMED_REQUEST_JSON", Description: "The request JSON is not well formed."}})
		return
	}
	var bad []detail
	if req.Intent != "CAPTURE" && req.Intent != "AUTHORIZE" {
		bad = append(bad, detail{Field: "/intent", Value: req.Intent, Location: "body", Issue: "INVALID_PARAMETER_VALUE", Description: "The value of a field is invalid."})
	}
	if len(req.PurchaseUnits) != 1 {
		bad = append(bad, detail{Field: "/purchase_units", Location: "body", Issue: "INVALID_ARRAY_MAX_ITEMS", Description: "This fake accepts exactly one purchase unit."})
	}
	for i, u := range req.PurchaseUnits {
		if d, ok := checkAmount(fmt.Sprintf("/purchase_units/%d/amount", i), u.Amount); !ok {
			bad = append(bad, d)
		}
	}
	if len(bad) > 0 {
		writeError(w, 400, "INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.", bad)
		return
	}
	vaulted := strings.Contains(string(req.PaymentSource), `"vault_id"`)
	s.mu.Lock()
	u := req.PurchaseUnits[0]
	if u.ReferenceID == "" {
		u.ReferenceID = "default"
	}
	if u.InvoiceID != "" && s.invoicePaid(u.InvoiceID) {
		s.mu.Unlock()
		writeError(w, 422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed, semantically incorrect, or failed business validation.",
			[]detail{{Field: "/purchase_units/0/invoice_id", Value: u.InvoiceID, Location: "body", Issue: "DUPLICATE_INVOICE_ID", Description: "Duplicate Invoice ID detected. To avoid a potential duplicate transaction your account setting requires that Invoice Id be unique for each transaction."}})
		return
	}
	now := s.opts.Now()
	o := &order{ID: randomID(17), Status: "CREATED", Intent: req.Intent, Units: []unit{u}, PaymentSource: req.PaymentSource, Created: now}
	s.orders[o.ID] = o
	if !vaulted {
		body := s.orderJSON(o)
		s.mu.Unlock()
		writeRaw(w, 201, body)
		return
	}
	// A vaulted payment source needs no buyer approval: PayPal captures at once.
	o.Status = "APPROVED"
	s.captureAndAnswer(w, o)
}

func (s *Server) captureOrder(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	o, ok := s.orders[id]
	if !ok {
		s.mu.Unlock()
		writeError(w, 404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
			[]detail{{Field: "order_id", Value: id, Location: "path", Issue: "INVALID_RESOURCE_ID", Description: "Specified resource ID does not exist. Please check the resource ID and try again."}})
		return
	}
	var issue, desc string
	switch o.Status {
	case "CREATED", "PAYER_ACTION_REQUIRED":
		issue, desc = "ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or provide a valid payment_source in the request."
	case "COMPLETED":
		issue, desc = "ORDER_ALREADY_CAPTURED", "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed."
	}
	if issue != "" {
		s.mu.Unlock()
		writeError(w, 422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed, semantically incorrect, or failed business validation.", []detail{{Issue: issue, Description: desc}})
		return
	}
	s.captureAndAnswer(w, o)
}

// doCapture captures an approved order (s.mu held); declined means no capture was made.
func (s *Server) doCapture(o *order) (*capture, bool) {
	outcome := "COMPLETED"
	if len(s.outcomes) > 0 {
		outcome, s.outcomes = s.outcomes[0], s.outcomes[1:]
	}
	if outcome == "DECLINED" {
		return nil, true
	}
	now := s.opts.Now()
	u := o.Units[0]
	c := &capture{ID: randomID(17), OrderID: o.ID, Status: "COMPLETED", Amount: u.Amount, InvoiceID: u.InvoiceID, CustomID: u.CustomID, Created: now, Updated: now}
	if reason, ok := strings.CutPrefix(outcome, "PENDING:"); ok {
		c.Status, c.Reason = "PENDING", reason
	}
	s.captures[c.ID] = c
	s.capOrder = append(s.capOrder, c.ID)
	o.Captures = append(o.Captures, c.ID)
	o.Status = "COMPLETED"
	return c, false
}

func (s *Server) emitCapture(c *capture) {
	s.mu.Lock()
	body := s.captureJSON(c)
	status := c.Status
	s.mu.Unlock()
	switch status {
	case "COMPLETED":
		s.emit("PAYMENT.CAPTURE.COMPLETED", "capture", body, "Payment completed for "+c.Amount.Value+" "+c.Amount.CurrencyCode)
	case "PENDING":
		s.emit("PAYMENT.CAPTURE.PENDING", "capture", body, "Payment pending for "+c.Amount.Value+" "+c.Amount.CurrencyCode)
	}
}

// invoicePaid reports whether a capture already took money for invoiceID (s.mu held).
func (s *Server) invoicePaid(invoiceID string) bool {
	for _, c := range s.captures {
		if c.InvoiceID == invoiceID && c.Status != "DECLINED" && c.Status != "FAILED" {
			return true
		}
	}
	return false
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	o, ok := s.orders[r.PathValue("id")]
	var body []byte
	if ok {
		body = s.orderJSON(o)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, 404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
			[]detail{{Field: "order_id", Value: r.PathValue("id"), Location: "path", Issue: "INVALID_RESOURCE_ID", Description: "Specified resource ID does not exist."}})
		return
	}
	writeRaw(w, 200, body)
}

func (s *Server) getCapture(w http.ResponseWriter, r *http.Request) {
	body, ok := s.Capture(r.PathValue("id"))
	if !ok {
		writeError(w, 404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
			[]detail{{Field: "capture_id", Value: r.PathValue("id"), Location: "path", Issue: "INVALID_RESOURCE_ID", Description: "Specified resource ID does not exist."}})
		return
	}
	writeRaw(w, 200, body)
}

func (s *Server) refundCapture(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Amount      *amount `json:"amount"`
		InvoiceID   string  `json:"invoice_id"`
		CustomID    string  `json:"custom_id"`
		NoteToPayer string  `json:"note_to_payer"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, 400, "INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.",
			[]detail{{Location: "body", Issue: "MALFORMED_REQUEST_JSON"}})
		return
	}
	s.mu.Lock()
	c, ok := s.captures[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		writeError(w, 404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
			[]detail{{Field: "capture_id", Value: r.PathValue("id"), Location: "path", Issue: "INVALID_RESOURCE_ID"}})
		return
	}
	cur := money.Currency(c.Amount.CurrencyCode)
	gross, _ := decimal.NewFromString(c.Amount.Value)
	grossMinor, _ := money.DecimalToMinor(gross, cur)
	want := grossMinor - c.Refunded
	if req.Amount != nil {
		if d, ok := checkAmount("/amount", *req.Amount); !ok {
			s.mu.Unlock()
			writeError(w, 400, "INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.", []detail{d})
			return
		}
		v, _ := decimal.NewFromString(req.Amount.Value)
		want, _ = money.DecimalToMinor(v, cur)
		if req.Amount.CurrencyCode != c.Amount.CurrencyCode {
			s.mu.Unlock()
			writeError(w, 422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed, semantically incorrect, or failed business validation.",
				[]detail{{Field: "/amount/currency_code", Issue: "REFUND_CURRENCY_MISMATCH"}})
			return
		}
	}
	var issue string
	switch {
	case c.Status != "COMPLETED" && c.Status != "PARTIALLY_REFUNDED":
		issue = "CAPTURE_FULLY_REFUNDED"
		if c.Status != "REFUNDED" {
			issue = "REFUND_NOT_ALLOWED"
		}
	case want <= 0 || want > grossMinor-c.Refunded:
		issue = "REFUND_AMOUNT_EXCEEDED"
	}
	if issue != "" {
		s.mu.Unlock()
		writeError(w, 422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed, semantically incorrect, or failed business validation.", []detail{{Issue: issue}})
		return
	}
	c.Refunded += want
	c.Status = "PARTIALLY_REFUNDED"
	if c.Refunded == grossMinor {
		c.Status = "REFUNDED"
	}
	now := s.opts.Now()
	c.Updated = now
	val, _ := money.MinorToDecimal(want, cur)
	rf := &refund{ID: randomID(17), CaptureID: c.ID, Amount: amount{CurrencyCode: c.Amount.CurrencyCode, Value: val.StringFixed(minor(cur))},
		InvoiceID: c.InvoiceID, CustomID: c.CustomID, Created: now}
	s.refunds = append(s.refunds, rf)
	body := refundJSON(rf, s.selfURL())
	s.mu.Unlock()
	s.emit("PAYMENT.CAPTURE.REFUNDED", "refund", body, "A "+rf.Amount.Value+" "+rf.Amount.CurrencyCode+" capture payment was refunded")
	writeRaw(w, 201, body)
}

// transactions serves GET /v1/reporting/transactions (Transaction Search): captures as T0006 and
// refunds as T1107, filtered by transaction_initiation_date in [start_date, end_date], paged.
func (s *Server) transactions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, err1 := time.Parse(time.RFC3339, q.Get("start_date"))
	end, err2 := time.Parse(time.RFC3339, q.Get("end_date"))
	if err1 != nil || err2 != nil || !end.After(start) || end.Sub(start) > 31*24*time.Hour {
		writeError(w, 400, "INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.",
			[]detail{{Field: "start_date", Location: "query", Issue: "INVALID_DATE_RANGE", Description: "start_date and end_date are required RFC 3339 times at most 31 days apart."}})
		return
	}
	size, page := 100, 1
	if v, err := strconv.Atoi(q.Get("page_size")); err == nil && v > 0 && v <= 500 {
		size = v
	}
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	type info struct {
		ID        string `json:"transaction_id"`
		RefID     string `json:"paypal_reference_id,omitempty"`
		Code      string `json:"transaction_event_code"`
		Initiated string `json:"transaction_initiation_date"`
		Updated   string `json:"transaction_updated_date"`
		Amount    amount `json:"transaction_amount"`
		Status    string `json:"transaction_status"`
		InvoiceID string `json:"invoice_id,omitempty"`
		Custom    string `json:"custom_field,omitempty"`
	}
	var all []info
	s.mu.Lock()
	for _, id := range s.capOrder {
		c := s.captures[id]
		if c.Created.Before(start) || c.Created.After(end) {
			continue
		}
		st := "S"
		if c.Status == "PENDING" {
			st = "P"
		}
		all = append(all, info{ID: c.ID, Code: "T0006", Initiated: c.Created.UTC().Format(ts), Updated: c.Updated.UTC().Format(ts),
			Amount: c.Amount, Status: st, InvoiceID: c.InvoiceID, Custom: c.CustomID})
	}
	for _, rf := range s.refunds {
		if rf.Created.Before(start) || rf.Created.After(end) {
			continue
		}
		all = append(all, info{ID: rf.ID, RefID: rf.CaptureID, Code: "T1107", Initiated: rf.Created.UTC().Format(ts), Updated: rf.Created.UTC().Format(ts),
			Amount: amount{CurrencyCode: rf.Amount.CurrencyCode, Value: "-" + rf.Amount.Value}, Status: "S", InvoiceID: rf.InvoiceID, Custom: rf.CustomID})
	}
	s.mu.Unlock()
	pages := (len(all) + size - 1) / size
	lo, hi := min((page-1)*size, len(all)), min(page*size, len(all))
	details := make([]map[string]any, 0, hi-lo)
	for _, t := range all[lo:hi] {
		details = append(details, map[string]any{"transaction_info": t})
	}
	writeJSON(w, 200, map[string]any{
		"transaction_details": details, "account_number": "FAKEACCOUNT1", "start_date": start.UTC().Format(ts), "end_date": end.UTC().Format(ts),
		"last_refreshed_datetime": s.opts.Now().UTC().Format(ts), "page": page, "total_items": len(all), "total_pages": pages,
	})
}

func checkAmount(field string, a amount) (detail, bool) {
	cur, err := money.ParseCurrency(a.CurrencyCode)
	if err != nil || cur.String() != a.CurrencyCode {
		return detail{Field: field + "/currency_code", Value: a.CurrencyCode, Location: "body", Issue: "INVALID_CURRENCY_CODE", Description: "Currency code is invalid or is not currently supported."}, false
	}
	v, err := decimal.NewFromString(a.Value)
	if err != nil || !v.IsPositive() || strings.ContainsAny(a.Value, "eE+") {
		return detail{Field: field + "/value", Value: a.Value, Location: "body", Issue: "INVALID_PARAMETER_SYNTAX", Description: "The value of a field does not conform to the expected format."}, false
	}
	if !money.IsRounded(v, cur) {
		return detail{Field: field + "/value", Value: a.Value, Location: "body", Issue: "DECIMAL_PRECISION", Description: "If the currency supports decimals, only two decimal place precision is supported."}, false
	}
	return detail{}, true
}

func minor(c money.Currency) int32 {
	n, _ := c.MinorUnits()
	return n
}

func (s *Server) selfURL() string { return "https://api-m.sandbox.paypal.com" }

func (s *Server) orderJSON(o *order) []byte {
	base := s.selfURL() + "/v2/checkout/orders/" + o.ID
	u := o.Units[0]
	pu := map[string]any{"reference_id": u.ReferenceID, "amount": u.Amount}
	if u.InvoiceID != "" {
		pu["invoice_id"] = u.InvoiceID
	}
	if u.CustomID != "" {
		pu["custom_id"] = u.CustomID
	}
	if len(o.Captures) > 0 {
		var caps []json.RawMessage
		for _, id := range o.Captures {
			caps = append(caps, s.captureJSON(s.captures[id]))
		}
		pu["payments"] = map[string]any{"captures": caps}
	}
	links := []map[string]string{{"href": base, "rel": "self", "method": "GET"}}
	if o.Status == "CREATED" {
		links = append(links, map[string]string{"href": "https://www.sandbox.paypal.com/checkoutnow?token=" + o.ID, "rel": "approve", "method": "GET"},
			map[string]string{"href": base, "rel": "update", "method": "PATCH"},
			map[string]string{"href": base + "/capture", "rel": "capture", "method": "POST"})
	}
	out := map[string]any{"id": o.ID, "intent": o.Intent, "status": o.Status, "purchase_units": []any{pu},
		"create_time": o.Created.UTC().Format(ts), "links": links}
	if len(o.PaymentSource) > 0 {
		out["payment_source"] = o.PaymentSource
	}
	b, _ := json.Marshal(out)
	return b
}

func (s *Server) captureJSON(c *capture) []byte {
	cur := money.Currency(c.Amount.CurrencyCode)
	gross, _ := decimal.NewFromString(c.Amount.Value)
	fee := money.MustRound(gross.Mul(decimal.RequireFromString("0.0349")).Add(decimal.RequireFromString("0.49")), cur)
	n := minor(cur)
	out := map[string]any{
		"id": c.ID, "status": c.Status, "amount": c.Amount, "final_capture": true,
		"seller_protection": map[string]any{"status": "ELIGIBLE"},
		"seller_receivable_breakdown": map[string]any{
			"gross_amount": c.Amount,
			"paypal_fee":   amount{CurrencyCode: c.Amount.CurrencyCode, Value: fee.StringFixed(n)},
			"net_amount":   amount{CurrencyCode: c.Amount.CurrencyCode, Value: gross.Sub(fee).StringFixed(n)},
		},
		"create_time": c.Created.UTC().Format(ts), "update_time": c.Updated.UTC().Format(ts),
		"links": []map[string]string{
			{"href": s.selfURL() + "/v2/payments/captures/" + c.ID, "rel": "self", "method": "GET"},
			{"href": s.selfURL() + "/v2/payments/captures/" + c.ID + "/refund", "rel": "refund", "method": "POST"},
			{"href": s.selfURL() + "/v2/checkout/orders/" + c.OrderID, "rel": "up", "method": "GET"},
		},
	}
	if c.InvoiceID != "" {
		out["invoice_id"] = c.InvoiceID
	}
	if c.CustomID != "" {
		out["custom_id"] = c.CustomID
	}
	if c.Reason != "" {
		out["status_details"] = map[string]string{"reason": c.Reason}
	}
	b, _ := json.Marshal(out)
	return b
}

func refundJSON(rf *refund, base string) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": rf.ID, "status": "COMPLETED", "amount": rf.Amount, "invoice_id": rf.InvoiceID, "custom_id": rf.CustomID,
		"create_time": rf.Created.UTC().Format(ts), "update_time": rf.Created.UTC().Format(ts),
		"links": []map[string]string{
			{"href": base + "/v2/payments/refunds/" + rf.ID, "rel": "self", "method": "GET"},
			{"href": base + "/v2/payments/captures/" + rf.CaptureID, "rel": "up", "method": "GET"},
		},
	})
	return b
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// captureAndAnswer captures o (s.mu held on entry, released here) and answers the order, or
// PayPal's INSTRUMENT_DECLINED when the payment source is declined.
func (s *Server) captureAndAnswer(w http.ResponseWriter, o *order) {
	c, declined := s.doCapture(o)
	body := s.orderJSON(o)
	s.mu.Unlock()
	if declined {
		markExecuted(w)
		writeError(w, 422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed, semantically incorrect, or failed business validation.",
			[]detail{{Issue: "INSTRUMENT_DECLINED", Description: "The instrument presented was either declined by the processor or bank, or it can't be used for this payment."}})
		return
	}
	s.emitCapture(c)
	writeRaw(w, 201, body)
}
