package fake

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/revhub/revhub/internal/chaos"
)

// Options configure a Server.
type Options struct {
	MockURL       string           // stripe-mock base URL every request is validated against
	WebhookSecret string           // "whsec_..." used to sign webhook events
	WebhookURL    string           // if set, events are posted here when PaymentIntents and refunds change
	Now           func() time.Time // clock; time.Now by default
	HTTPClient    *http.Client     // for stripe-mock and webhook delivery; http.DefaultClient by default
	Chaos         *chaos.Dice      // random 429s and 500s before execution, after the queued faults
}

// Request is one request as the layer received it, and what it answered.
type Request struct {
	Method         string
	Path           string
	Query          string
	IdempotencyKey string
	Form           url.Values
	Status         int
	Replayed       bool // answered from the idempotency cache
	Executed       bool // applied to the layer's state (a create really created something)
	At             time.Time
}

// Fault is an injected answer for the next matching request.
type Fault struct {
	Path   string `json:"path"`   // request path prefix it applies to, e.g. "/v1/payment_intents"; "" matches all
	Status int    `json:"status"` // HTTP status to answer
	Body   string `json:"body"`   // raw body; a Stripe api_error is used when empty
	// AfterExecute processes the request (state changes, idempotency cache) and then answers
	// the fault instead: the client sees a failure although the charge happened (a lost answer).
	AfterExecute bool `json:"after_execute"`
	// Drop closes the connection without an answer instead of sending Status (a network failure).
	Drop bool `json:"drop"`
}

type saved struct {
	paramsHash [32]byte
	path       string
	status     int
	body       []byte
}

// Server is the stateful layer; create it with New.
type Server struct {
	opts Options

	mu       sync.Mutex
	requests []Request
	idem     map[string]saved
	intents  map[string]map[string]any
	order    []string // PaymentIntent ids in creation order
	refunds  map[string]map[string]any
	faults   []Fault
	declines []string // decline codes for the next confirmations
	events   []map[string]any
	idemMu   sync.Mutex
}

// New returns a layer in front of the stripe-mock at opts.MockURL.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	return &Server{opts: opts, idem: map[string]saved{}, intents: map[string]map[string]any{}, refunds: map[string]map[string]any{}}
}

// Handler serves the Stripe API (/v1/...) and the control API (/_control/...).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_control/requests", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Requests()) })
	mux.HandleFunc("POST /_control/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil || (f.Status == 0 && !f.Drop) {
			writeJSON(w, 400, map[string]string{"error": "body must be a fault with a status or drop"})
			return
		}
		s.InjectFault(f)
		w.WriteHeader(204)
	})
	mux.HandleFunc("POST /_control/declines", func(w http.ResponseWriter, r *http.Request) {
		var d struct {
			DeclineCode string `json:"decline_code"`
		}
		if err := json.NewDecoder(r.Body).Decode(&d); err != nil || d.DeclineCode == "" {
			writeJSON(w, 400, map[string]string{"error": "body must be {\"decline_code\": \"...\"}"})
			return
		}
		s.DeclineNext(d.DeclineCode)
		w.WriteHeader(204)
	})
	mux.HandleFunc("/v1/", s.serveAPI)
	return mux
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many logged requests had the method and path, and how many of them were
// executed rather than replayed or refused.
func (s *Server) Count(method, path string) (all, executed int) {
	for _, r := range s.Requests() {
		if r.Method == method && r.Path == path {
			all++
			if r.Executed {
				executed++
			}
		}
	}
	return all, executed
}

// InjectFault queues f for the next request matching its path.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// DeclineNext makes the next PaymentIntent confirmation fail with a card_error and declineCode.
func (s *Server) DeclineNext(declineCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.declines = append(s.declines, declineCode)
}

// PaymentIntent returns a copy of a stored PaymentIntent.
func (s *Server) PaymentIntent(id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi, ok := s.intents[id]
	return clone(pi), ok
}

// PaymentIntents returns the stored PaymentIntents in creation order.
func (s *Server) PaymentIntents() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, clone(s.intents[id]))
	}
	return out
}

var (
	piPath      = regexp.MustCompile(`^/v1/payment_intents/(pi_[A-Za-z0-9]+)$`)
	searchQuery = regexp.MustCompile(`^\s*(metadata\['([^']+)'\]|status):'([^']*)'\s*$`)
)

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		stripeError(w, 400, "invalid_request_error", "", "could not read the request body")
		return
	}
	form, _ := url.ParseQuery(string(body))
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, IdempotencyKey: r.Header.Get("Idempotency-Key"), Form: form, At: s.opts.Now()}
	status, respBody, replayed, executed := s.handle(r, body, form, rec.IdempotencyKey)
	rec.Status, rec.Replayed, rec.Executed = status, replayed, executed
	if status == dropStatus {
		rec.Status = 0
	}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	if status == dropStatus {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without an answer
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_"+randomID(14))
	if rec.IdempotencyKey != "" {
		w.Header().Set("Idempotency-Key", rec.IdempotencyKey)
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(status)
	_, _ = w.Write(respBody)
}

// handle answers one API request: (status, body, replayed, executed).
func (s *Server) handle(r *http.Request, body []byte, form url.Values, key string) (int, []byte, bool, bool) {
	fault, hasFault := s.takeFault(r.URL.Path)
	if hasFault && !fault.AfterExecute {
		return fault.status(), faultBody(fault), false, false
	}
	if r.Method != http.MethodPost || key == "" {
		status, b := s.execute(r, body, form)
		ok := status < 300 || status == 402
		if hasFault {
			return fault.status(), faultBody(fault), false, ok
		}
		return status, b, false, ok
	}
	// Idempotent POST: the lock is held across execution so concurrent duplicates replay.
	s.idemMu.Lock()
	defer s.idemMu.Unlock()
	h := paramsHash(r.URL.Path, form)
	s.mu.Lock()
	prev, seen := s.idem[key]
	s.mu.Unlock()
	if seen {
		if prev.paramsHash != h {
			return 400, errorBody("idempotency_error", "", "", fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '%s' if you meant to execute a different request.", key)), false, false
		}
		if hasFault {
			return fault.status(), faultBody(fault), false, false
		}
		return prev.status, prev.body, true, false
	}
	status, b := s.execute(r, body, form)
	ok := status < 300 || status == 402
	if status != 400 && status != 401 && status != 404 { // validation failures are not saved
		s.mu.Lock()
		s.idem[key] = saved{paramsHash: h, path: r.URL.Path, status: status, body: b}
		s.mu.Unlock()
	}
	if hasFault {
		return fault.status(), faultBody(fault), false, ok
	}
	return status, b, false, ok
}

// dropStatus marks an answer that must not be sent: the connection is closed instead.
const dropStatus = -1

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
		return Fault{Status: http.StatusTooManyRequests, Body: string(errorBody("invalid_request_error", "rate_limit", "",
			"Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."))}, true
	case chaos.Unavailable:
		return Fault{Status: http.StatusInternalServerError}, true
	}
	return Fault{}, false
}

// execute validates the request at stripe-mock and then applies it to the layer's state.
func (s *Server) execute(r *http.Request, body []byte, form url.Values) (int, []byte) {
	status, mockBody, err := s.forward(r, body)
	if err != nil {
		return 502, errorBody("api_error", "", "", "stripe-mock unreachable: "+err.Error())
	}
	if status >= 300 {
		return status, mockBody
	}
	path := r.URL.Path
	switch {
	case r.Method == http.MethodPost && path == "/v1/payment_intents":
		return s.createPaymentIntent(mockBody, form)
	case r.Method == http.MethodGet && path == "/v1/payment_intents/search":
		return s.searchPaymentIntents(r.URL.Query())
	case r.Method == http.MethodGet && path == "/v1/payment_intents":
		return s.listPaymentIntents(r.URL.Query())
	case r.Method == http.MethodGet && piPath.MatchString(path):
		id := piPath.FindStringSubmatch(path)[1]
		s.mu.Lock()
		pi, ok := s.intents[id]
		b, _ := json.Marshal(pi)
		s.mu.Unlock()
		if !ok {
			return 404, errorBody("invalid_request_error", "resource_missing", "id", fmt.Sprintf("No such payment_intent: '%s'", id))
		}
		return 200, b
	case r.Method == http.MethodPost && path == "/v1/refunds":
		return s.createRefund(mockBody, form)
	}
	return status, mockBody
}

// forward validates the request at stripe-mock. Like Stripe, the layer finishes a request whose
// client went away (a worker killed mid-call): the charge happens even if nobody hears the answer.
func (s *Server) forward(r *http.Request, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, s.opts.MockURL+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for _, h := range []string{"Authorization", "Content-Type", "Stripe-Version", "Stripe-Account"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (s *Server) createPaymentIntent(mockBody []byte, form url.Values) (int, []byte) {
	var pi map[string]any
	if err := json.Unmarshal(mockBody, &pi); err != nil {
		return 500, errorBody("api_error", "", "", "stripe-mock answered non-JSON")
	}
	now := s.opts.Now()
	amount, _ := strconv.ParseInt(form.Get("amount"), 10, 64)
	pi["id"] = "pi_" + randomID(24)
	pi["client_secret"] = pi["id"].(string) + "_secret_" + randomID(24)
	pi["created"] = now.Unix()
	pi["amount"] = amount
	pi["currency"] = form.Get("currency")
	pi["metadata"] = formMap(form, "metadata")
	pi["customer"] = nullable(form.Get("customer"))
	pi["payment_method"] = nullable(form.Get("payment_method"))
	pi["canceled_at"], pi["cancellation_reason"], pi["next_action"] = nil, nil, nil
	pi["last_payment_error"], pi["latest_charge"], pi["amount_received"] = nil, nil, int64(0)
	pi["status"] = "requires_confirmation"
	if form.Get("payment_method") == "" {
		pi["status"] = "requires_payment_method"
	}
	status := 200
	var out []byte
	if form.Get("confirm") == "true" && form.Get("payment_method") != "" {
		s.mu.Lock()
		var decline string
		if len(s.declines) > 0 {
			decline, s.declines = s.declines[0], s.declines[1:]
		}
		s.mu.Unlock()
		if decline != "" {
			msg := "Your card was declined."
			pi["status"] = "requires_payment_method"
			pi["last_payment_error"] = map[string]any{"type": "card_error", "code": "card_declined", "decline_code": decline, "message": msg}
			status = 402
			b, _ := json.Marshal(map[string]any{"error": map[string]any{
				"type": "card_error", "code": "card_declined", "decline_code": decline, "message": msg,
				"charge": "ch_" + randomID(24), "payment_intent": pi,
			}})
			out = b
		} else {
			pi["status"] = "succeeded"
			pi["amount_received"] = amount
			pi["latest_charge"] = "ch_" + randomID(24)
		}
	}
	s.mu.Lock()
	s.intents[pi["id"].(string)] = pi
	s.order = append(s.order, pi["id"].(string))
	s.mu.Unlock()
	if out == nil {
		out, _ = json.Marshal(pi)
	}
	switch pi["status"] {
	case "succeeded":
		s.emit("payment_intent.succeeded", pi)
	case "requires_payment_method":
		if status == 402 {
			s.emit("payment_intent.payment_failed", pi)
		}
	}
	return status, out
}

func (s *Server) createRefund(mockBody []byte, form url.Values) (int, []byte) {
	piID := form.Get("payment_intent")
	s.mu.Lock()
	pi, ok := s.intents[piID]
	s.mu.Unlock()
	if !ok {
		return 400, errorBody("invalid_request_error", "resource_missing", "payment_intent", fmt.Sprintf("No such payment_intent: '%s'", piID))
	}
	if pi["status"] != "succeeded" {
		return 400, errorBody("invalid_request_error", "charge_not_refundable", "payment_intent", fmt.Sprintf("PaymentIntent %s has no successful charge to refund.", piID))
	}
	received := pi["amount_received"].(int64)
	refunded, _ := pi["amount_refunded_by_layer"].(int64)
	amount := received - refunded
	if a := form.Get("amount"); a != "" {
		amount, _ = strconv.ParseInt(a, 10, 64)
	}
	if amount <= 0 || amount > received-refunded {
		return 400, errorBody("invalid_request_error", "amount_too_large", "amount", fmt.Sprintf("Refund amount (%d) is greater than unrefunded amount on charge (%d)", amount, received-refunded))
	}
	var re map[string]any
	if err := json.Unmarshal(mockBody, &re); err != nil {
		return 500, errorBody("api_error", "", "", "stripe-mock answered non-JSON")
	}
	re["id"] = "re_" + randomID(24)
	re["amount"] = amount
	re["currency"] = pi["currency"]
	re["payment_intent"] = piID
	re["charge"] = pi["latest_charge"]
	re["status"] = "succeeded"
	re["created"] = s.opts.Now().Unix()
	re["metadata"] = formMap(form, "metadata")
	s.mu.Lock()
	pi["amount_refunded_by_layer"] = refunded + amount
	s.refunds[re["id"].(string)] = re
	s.mu.Unlock()
	charge := map[string]any{"id": pi["latest_charge"], "object": "charge", "amount": received, "amount_refunded": refunded + amount,
		"currency": pi["currency"], "payment_intent": piID, "metadata": pi["metadata"], "refunded": refunded+amount == received, "status": "succeeded"}
	s.emit("charge.refunded", charge)
	b, _ := json.Marshal(re)
	return 200, b
}

func (s *Server) searchPaymentIntents(q url.Values) (int, []byte) {
	var conds [][3]string // field, metadata key, value
	for _, clause := range strings.Split(q.Get("query"), " AND ") {
		m := searchQuery.FindStringSubmatch(clause)
		if m == nil {
			return 400, errorBody("invalid_request_error", "parameter_invalid", "query", fmt.Sprintf("This fake understands metadata['k']:'v' and status:'v' clauses joined by AND, not %q", clause))
		}
		conds = append(conds, [3]string{m[1], m[2], m[3]})
	}
	var data []map[string]any
	for _, pi := range s.PaymentIntents() {
		ok := true
		for _, c := range conds {
			if c[1] != "" {
				md, _ := pi["metadata"].(map[string]any)
				ok = ok && md[c[1]] == c[2]
			} else {
				ok = ok && pi["status"] == c[2]
			}
		}
		if ok {
			data = append(data, publicPI(pi))
		}
	}
	sort.SliceStable(data, func(i, j int) bool { return data[i]["created"].(int64) > data[j]["created"].(int64) })
	b, _ := json.Marshal(map[string]any{"object": "search_result", "url": "/v1/payment_intents/search", "has_more": false, "next_page": nil, "data": nonNil(data)})
	return 200, b
}

func (s *Server) listPaymentIntents(q url.Values) (int, []byte) {
	gte, lt := int64(0), int64(1<<62)
	if v := q.Get("created[gte]"); v != "" {
		gte, _ = strconv.ParseInt(v, 10, 64)
	}
	if v := q.Get("created[lt]"); v != "" {
		lt, _ = strconv.ParseInt(v, 10, 64)
	}
	limit := 10
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	all := s.PaymentIntents()
	// Newest first, as Stripe lists.
	var sel []map[string]any
	for i := len(all) - 1; i >= 0; i-- {
		c := all[i]["created"].(int64)
		if c >= gte && c < lt {
			sel = append(sel, publicPI(all[i]))
		}
	}
	if after := q.Get("starting_after"); after != "" {
		for i, pi := range sel {
			if pi["id"] == after {
				sel = sel[i+1:]
				break
			}
		}
	}
	more := len(sel) > limit
	if more {
		sel = sel[:limit]
	}
	b, _ := json.Marshal(map[string]any{"object": "list", "url": "/v1/payment_intents", "has_more": more, "data": nonNil(sel)})
	return 200, b
}

func publicPI(pi map[string]any) map[string]any {
	out := clone(pi)
	delete(out, "amount_refunded_by_layer")
	return out
}

func nonNil(d []map[string]any) []map[string]any {
	if d == nil {
		return []map[string]any{}
	}
	return d
}

func paramsHash(path string, form url.Values) [32]byte {
	return sha256.Sum256([]byte(path + "?" + form.Encode()))
}

func formMap(form url.Values, prefix string) map[string]any {
	out := map[string]any{}
	for k, v := range form {
		if strings.HasPrefix(k, prefix+"[") && strings.HasSuffix(k, "]") && len(v) > 0 {
			out[k[len(prefix)+1:len(k)-1]] = v[0]
		}
	}
	return out
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func clone(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, _ := json.Marshal(m)
	var out map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	_ = d.Decode(&out)
	fixInts(out)
	return out
}

// fixInts turns json.Number integers back into int64 so stored objects keep one numeric type.
func fixInts(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case json.Number:
			if i, err := x.Int64(); err == nil {
				m[k] = i
			} else {
				m[k] = x
			}
		case map[string]any:
			fixInts(x)
		}
	}
}

func (f Fault) status() int {
	if f.Drop {
		return dropStatus
	}
	return f.Status
}

func faultBody(f Fault) []byte {
	if f.Body != "" {
		return []byte(f.Body)
	}
	return errorBody("api_error", "", "", "An unknown error occurred (injected).")
}

func errorBody(typ, code, param, msg string) []byte {
	e := map[string]any{"type": typ, "message": msg}
	if code != "" {
		e["code"] = code
	}
	if param != "" {
		e["param"] = param
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	return b
}

func stripeError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(typ, code, "", msg))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}
