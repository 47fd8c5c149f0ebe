// Package fake is a faithful in-memory PayPal REST server for tests and `revhub dev`: OAuth2
// client credentials with expiring tokens, Orders v2 (create, approve, capture, vaulted payment
// sources), captures and refunds, transaction search, PayPal-Request-Id replay, the real error
// shapes, signed webhook delivery with the verify-webhook-signature endpoint, a request log and a
// control API for fault injection (429, 5xx, lost answers, declines, pending captures).
package fake

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/revhub/revhub/internal/chaos"
)

// Options configure a Server.
type Options struct {
	ClientID   string           // accepted client id
	Secret     string           // accepted client secret
	WebhookID  string           // id of the webhook subscription events are signed for
	WebhookURL string           // if set, events are delivered here when captures change
	TokenTTL   time.Duration    // access token lifetime; 9h (32400 s) by default, as PayPal
	Now        func() time.Time // clock; time.Now by default
	HTTPClient *http.Client     // for webhook delivery
	Chaos      *chaos.Dice      // random 429s and 503s before execution, after the queued faults
}

// Request is one logged API request and its answer.
type Request struct {
	Method    string
	Path      string
	RequestID string // PayPal-Request-Id
	Body      []byte
	Status    int
	Replayed  bool // answered from the PayPal-Request-Id store
	Executed  bool // changed the server's state
	At        time.Time
}

// Fault is an injected answer for the next request whose path starts with Path.
type Fault struct {
	Path         string `json:"path"`
	Status       int    `json:"status"`
	Body         string `json:"body"`          // raw body; the PayPal envelope for Status when empty
	RetryAfter   int    `json:"retry_after"`   // seconds, sent as Retry-After
	AfterExecute bool   `json:"after_execute"` // execute the request, then answer the fault (a lost answer)
}

type order struct {
	ID            string
	Status        string // CREATED, APPROVED, COMPLETED
	Intent        string
	Units         []unit
	PaymentSource json.RawMessage
	Captures      []string
	Created       time.Time
}

type unit struct {
	ReferenceID string `json:"reference_id,omitempty"`
	InvoiceID   string `json:"invoice_id,omitempty"`
	CustomID    string `json:"custom_id,omitempty"`
	Description string `json:"description,omitempty"`
	Amount      amount `json:"amount"`
}

type amount struct {
	CurrencyCode string `json:"currency_code"`
	Value        string `json:"value"`
}

type capture struct {
	ID        string
	OrderID   string
	Status    string // COMPLETED, PENDING, DECLINED, PARTIALLY_REFUNDED, REFUNDED
	Reason    string // status_details.reason when PENDING or DECLINED
	Amount    amount
	InvoiceID string
	CustomID  string
	Refunded  int64 // minor units
	Created   time.Time
	Updated   time.Time
}

type refund struct {
	ID        string
	CaptureID string
	Amount    amount
	InvoiceID string
	CustomID  string
	Created   time.Time
}

type saved struct {
	status int
	body   []byte
}

// Server is the fake; create it with New.
type Server struct {
	opts Options

	mu       sync.Mutex
	tokens   map[string]time.Time
	orders   map[string]*order
	captures map[string]*capture
	capOrder []string
	refunds  []*refund
	reqIDs   map[string]saved
	inflight map[string]bool
	faults   []Fault
	outcomes []string // queued outcomes for the next captures: "DECLINED" or "PENDING:<reason>"
	requests []Request
	events   [][]byte
}

// New returns an empty fake.
func New(opts Options) *Server {
	if opts.TokenTTL == 0 {
		opts.TokenTTL = 32400 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.WebhookID == "" {
		opts.WebhookID = "WH-FAKE-" + randomID(12)
	}
	return &Server{opts: opts, tokens: map[string]time.Time{}, orders: map[string]*order{}, captures: map[string]*capture{},
		reqIDs: map[string]saved{}, inflight: map[string]bool{}}
}

// WebhookID returns the webhook subscription id events are signed for.
func (s *Server) WebhookID() string { return s.opts.WebhookID }

// Handler serves the PayPal REST API and the control API under /_control/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/oauth2/token", s.token)
	api := http.NewServeMux()
	api.HandleFunc("POST /v2/checkout/orders", s.createOrder)
	api.HandleFunc("GET /v2/checkout/orders/{id}", s.getOrder)
	api.HandleFunc("POST /v2/checkout/orders/{id}/capture", s.captureOrder)
	api.HandleFunc("GET /v2/payments/captures/{id}", s.getCapture)
	api.HandleFunc("POST /v2/payments/captures/{id}/refund", s.refundCapture)
	api.HandleFunc("GET /v1/reporting/transactions", s.transactions)
	api.HandleFunc("POST /v1/notifications/verify-webhook-signature", s.verifyWebhook)
	mux.Handle("/v1/", s.authed(api))
	mux.Handle("/v2/", s.authed(api))
	s.controlRoutes(mux)
	return mux
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Executed counts logged requests with the method and path prefix that changed state.
func (s *Server) Executed(method, pathPrefix string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && strings.HasPrefix(r.Path, pathPrefix) && r.Executed {
			n++
		}
	}
	return n
}

// InjectFault queues f.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// ExpireTokens invalidates every issued access token, as PayPal's cache eviction does.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]time.Time{}
}

// DeclineNext makes the next capture fail with INSTRUMENT_DECLINED.
func (s *Server) DeclineNext() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes = append(s.outcomes, "DECLINED")
}

// PendNext makes the next capture PENDING with status_details.reason (e.g. "PENDING_REVIEW").
func (s *Server) PendNext(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes = append(s.outcomes, "PENDING:"+reason)
}

// Approve marks an order approved by the buyer (what the approve link does in a browser).
func (s *Server) Approve(orderID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	if !ok {
		return fmt.Errorf("order %s: not found", orderID)
	}
	if o.Status != "CREATED" {
		return fmt.Errorf("order %s: is %s, not CREATED", orderID, o.Status)
	}
	o.Status = "APPROVED"
	return nil
}

// CompletePending completes a PENDING capture and emits PAYMENT.CAPTURE.COMPLETED.
func (s *Server) CompletePending(captureID string) error {
	s.mu.Lock()
	c, ok := s.captures[captureID]
	if !ok || c.Status != "PENDING" {
		s.mu.Unlock()
		return fmt.Errorf("capture %s: not found or not PENDING", captureID)
	}
	c.Status, c.Reason, c.Updated = "COMPLETED", "", s.opts.Now()
	body := s.captureJSON(c)
	s.mu.Unlock()
	s.emit("PAYMENT.CAPTURE.COMPLETED", "capture", body, "Payment completed for $ "+c.Amount.Value+" "+c.Amount.CurrencyCode)
	return nil
}

// Capture returns the JSON of a capture as GET /v2/payments/captures/{id} would.
func (s *Server) Capture(id string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.captures[id]
	if !ok {
		return nil, false
	}
	return s.captureJSON(c), true
}

// Captures returns the ids of all captures in creation order.
func (s *Server) Captures() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.capOrder...)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != s.opts.ClientID || secret != s.opts.Secret {
		writeJSON(w, 401, map[string]string{"error": "invalid_client", "error_description": "Client Authentication failed"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, 400, map[string]string{"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"})
		return
	}
	tok := "A21AA" + randomID(40)
	s.mu.Lock()
	s.tokens[tok] = s.opts.Now().Add(s.opts.TokenTTL)
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{
		"scope":        "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/reporting/search/read",
		"access_token": tok, "token_type": "Bearer", "app_id": "APP-80W284485P519543T",
		"expires_in": int64(s.opts.TokenTTL / time.Second), "nonce": s.opts.Now().UTC().Format(time.RFC3339) + randomID(16),
	})
}

// authed checks the bearer token, applies faults and PayPal-Request-Id replay, and logs the request.
func (s *Server) authed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := Request{Method: r.Method, Path: r.URL.Path, RequestID: r.Header.Get("PayPal-Request-Id"), Body: body, At: s.opts.Now()}
		defer func() {
			s.mu.Lock()
			s.requests = append(s.requests, rec)
			s.mu.Unlock()
		}()
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		exp, ok := s.tokens[tok]
		s.mu.Unlock()
		if !ok || !s.opts.Now().Before(exp) {
			rec.Status = 401
			writeJSON(w, 401, map[string]string{"error": "invalid_token", "error_description": "Access Token not found in cache"})
			return
		}
		fault, hasFault := s.takeFault(r.URL.Path)
		if hasFault && !fault.AfterExecute {
			rec.Status = fault.Status
			writeFault(w, fault)
			return
		}
		key := rec.RequestID
		if r.Method == http.MethodPost && key != "" {
			s.mu.Lock()
			prev, seen := s.reqIDs[key]
			busy := s.inflight[key]
			if !seen && !busy {
				s.inflight[key] = true
			}
			s.mu.Unlock()
			if busy {
				rec.Status = 409
				writeError(w, 409, "RESOURCE_CONFLICT", "A request with this PayPal-Request-Id is already in progress.", nil) // UNVERIFIED shape
				return
			}
			if seen { // latest status of the original request, without re-executing
				rec.Status, rec.Replayed = prev.status, true
				if hasFault {
					rec.Status = fault.Status
					writeFault(w, fault)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(prev.status)
				_, _ = w.Write(prev.body)
				return
			}
			defer func() {
				s.mu.Lock()
				delete(s.inflight, key)
				s.mu.Unlock()
			}()
		}
		rw := &recorder{header: http.Header{}}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(rw, r)
		rec.Status, rec.Executed = rw.status, rw.status < 300 || rw.executed
		if r.Method == http.MethodPost && key != "" && rw.status != 400 && rw.status != 401 {
			s.mu.Lock()
			s.reqIDs[key] = saved{status: rw.status, body: rw.body.Bytes()}
			s.mu.Unlock()
		}
		if hasFault {
			rec.Status = fault.Status
			writeFault(w, fault)
			return
		}
		for k, v := range rw.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rw.status)
		_, _ = w.Write(rw.body.Bytes())
	})
}

func (s *Server) takeFault(path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if strings.HasPrefix(path, f.Path) {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return f, true
		}
	}
	switch s.opts.Chaos.Roll() {
	case chaos.RateLimited:
		return Fault{Status: http.StatusTooManyRequests, RetryAfter: 1}, true
	case chaos.Unavailable:
		return Fault{Status: http.StatusServiceUnavailable}, true
	}
	return Fault{}, false
}

func writeFault(w http.ResponseWriter, f Fault) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(f.RetryAfter))
	}
	if f.Body != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return
	}
	name, msg := "INTERNAL_SERVER_ERROR", "An internal server error has occurred."
	switch f.Status {
	case 429:
		name, msg = "RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting."
	case 503:
		name, msg = "SERVICE_UNAVAILABLE", "Service Unavailable."
	}
	writeError(w, f.Status, name, msg, nil)
}

// recorder captures a handler's answer so it can be stored for PayPal-Request-Id replay.
type recorder struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	executed bool
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

// markExecuted records that a handler changed state although it answers an error (a decline).
func markExecuted(w http.ResponseWriter) {
	if r, ok := w.(*recorder); ok {
		r.executed = true
	}
}

type detail struct {
	Field       string `json:"field,omitempty"`
	Value       string `json:"value,omitempty"`
	Location    string `json:"location,omitempty"`
	Issue       string `json:"issue"`
	Description string `json:"description,omitempty"`
}

func writeError(w http.ResponseWriter, status int, name, msg string, details []detail) {
	debug := randomHex(13)
	body := map[string]any{"name": name, "message": msg, "debug_id": debug}
	if len(details) > 0 {
		body["details"] = details
		body["links"] = []map[string]string{{"href": "https://developer.paypal.com/docs/api/orders/v2/#error-" + details[0].Issue, "rel": "information_link", "method": "GET"}}
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

const idAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
