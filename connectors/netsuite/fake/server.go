// Package fake is an in-memory NetSuite REST account for tests and `revhub dev`: it verifies
// OAuth 1.0a HMAC-SHA256 signatures (realm, consumer, token, timestamp window, nonce replay),
// enforces a concurrency limit with 429, stores journal entries by internal and external id with
// NetSuite's create, upsert and validation rules (balanced lines, closed periods), answers the
// SuiteQL subset revhub sends with NetSuite's paging, and speaks NetSuite's error shape.
// A control API under /__fake/ closes periods, injects faults and alters stored data.
package fake

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/revhub/revhub/connectors/netsuite"

	"github.com/revhub/revhub/internal/chaos"
)

// DefaultAccountID is the fake's sandbox account; its realm is 1234567_SB1.
const DefaultAccountID = "1234567-sb1"

// DefaultCredentials are the TBA secrets the fake accepts unless Options says otherwise.
var DefaultCredentials = netsuite.Credentials{
	ConsumerKey: "fake-consumer-key", ConsumerSecret: "fake-consumer-secret",
	TokenID: "fake-token-id", TokenSecret: "fake-token-secret",
}

// Options configure a fake account; zero values take the defaults noted.
type Options struct {
	AccountID        string               // default DefaultAccountID
	Credentials      netsuite.Credentials // default DefaultCredentials
	ConcurrencyLimit int                  // in-flight API requests before 429; default 15 (base tier)
	Latency          time.Duration        // added to every API request, to make concurrency observable
	TimestampWindow  time.Duration        // accepted oauth_timestamp skew; default 5m
	Now              func() time.Time     // default time.Now
	Logger           *slog.Logger         // default slog.Default()
	Chaos            *chaos.Dice          // random 429s and 503s before processing, after the queued faults
}

// Fault is an injected answer for the next Count API requests (optionally only paths containing PathContains).
type Fault struct {
	Status       int           `json:"status"`                  // e.g. 429 or 503; 0 processes the request normally
	RetryAfter   string        `json:"retry_after,omitempty"`   // Retry-After header value
	Count        int           `json:"count"`                   // how many requests it answers (default 1)
	Delay        time.Duration `json:"delay,omitempty"`         // wait before answering (after processing when Status is 0)
	PathContains string        `json:"path_contains,omitempty"` // only requests whose path contains this
}

// LoggedRequest is one API request the fake answered.
type LoggedRequest struct {
	At     time.Time `json:"at"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Query  string    `json:"query,omitempty"`
	Status int       `json:"status"`
	Code   string    `json:"code,omitempty"` // NetSuite error code of a refusal
}

// Server is one fake NetSuite account.
type Server struct {
	opts  Options
	realm string

	mu          sync.Mutex
	nonces      map[string]time.Time
	faults      []Fault
	inFlight    int
	maxInFlight int
	log         []LoggedRequest
	store       *store
}

// New returns a fake account with no records and every accounting period open.
func New(opts Options) *Server {
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.Credentials == (netsuite.Credentials{}) {
		opts.Credentials = DefaultCredentials
	}
	if opts.ConcurrencyLimit == 0 {
		opts.ConcurrencyLimit = 15
	}
	if opts.TimestampWindow == 0 {
		opts.TimestampWindow = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Server{
		opts:   opts,
		realm:  netsuite.Config{AccountID: opts.AccountID}.Realm(),
		nonces: map[string]time.Time{},
		store:  newStore(),
	}
}

// Handler serves the REST record API, SuiteQL and the /__fake/ control API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.controlRoutes(mux)
	mux.HandleFunc("/", s.api)
	return mux
}

// statusRecorder remembers the status and error code written, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	code   string
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// api runs one API request through faults, the concurrency limit and authentication.
func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.mu.Lock()
		s.log = append(s.log, LoggedRequest{At: s.opts.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Status: rec.status, Code: rec.code})
		s.mu.Unlock()
	}()
	fault, faulted := s.nextFault(r.URL.Path)
	if faulted && fault.Status != 0 {
		if fault.Delay > 0 {
			time.Sleep(fault.Delay)
		}
		if fault.RetryAfter != "" {
			w.Header().Set("Retry-After", fault.RetryAfter)
		}
		writeFaultError(rec, fault.Status)
		return
	}
	if !s.enter() {
		writeError(rec, http.StatusTooManyRequests, "CONCURRENCY_LIMIT_EXCEEDED", "",
			"Concurrent request limit exceeded. Request blocked.")
		return
	}
	defer s.leave()
	if s.opts.Latency > 0 {
		time.Sleep(s.opts.Latency)
	}
	if !s.authenticate(r) {
		writeError(rec, http.StatusUnauthorized, "INVALID_LOGIN", "",
			"Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.")
		return
	}
	out := rec
	var buf *bufferedWriter
	if faulted && fault.Delay > 0 { // the work is done, then the answer is late: a client timeout loses it
		buf = newBufferedWriter()
		out = &statusRecorder{ResponseWriter: buf, status: http.StatusOK}
	}
	s.route(out, r)
	if buf != nil {
		time.Sleep(fault.Delay)
		rec.code = out.code
		buf.flushTo(rec)
	}
}

func (s *Server) nextFault(path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		f := &s.faults[i]
		if f.PathContains != "" && !strings.Contains(path, f.PathContains) {
			continue
		}
		out := *f
		if f.Count--; f.Count <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return out, true
	}
	switch s.opts.Chaos.Roll() {
	case chaos.RateLimited:
		return Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"}, true
	case chaos.Unavailable:
		return Fault{Status: http.StatusServiceUnavailable}, true
	}
	return Fault{}, false
}

func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inFlight >= s.opts.ConcurrencyLimit {
		return false
	}
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	return true
}

func (s *Server) leave() {
	s.mu.Lock()
	s.inFlight--
	s.mu.Unlock()
}

// authenticate verifies the TBA header: realm, method, version, consumer and token, timestamp
// window, signature, and that the nonce was not used before.
func (s *Server) authenticate(r *http.Request) bool {
	p, err := netsuite.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return false
	}
	c := s.opts.Credentials
	if p.Realm != s.realm || p.SignatureMethod != netsuite.SignatureMethod || p.Version != "1.0" ||
		p.ConsumerKey != c.ConsumerKey || p.Token != c.TokenID || p.Nonce == "" {
		return false
	}
	ts, err := strconv.ParseInt(p.Timestamp, 10, 64)
	now := s.opts.Now()
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > s.opts.TimestampWindow {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := &url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	if !netsuite.Verify(r.Method, u, p, c) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for n, at := range s.nonces {
		if now.Sub(at) > 2*s.opts.TimestampWindow {
			delete(s.nonces, n)
		}
	}
	key := p.Token + "\x00" + p.Timestamp + "\x00" + p.Nonce
	if _, used := s.nonces[key]; used {
		return false
	}
	s.nonces[key] = now
	return true
}

// errorTypes are the RFC links NetSuite puts in "type".
var errorTypes = map[int]string{
	400: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1",
	401: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.2",
	404: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.5",
	405: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.6",
	429: "https://tools.ietf.org/html/rfc6585#section-4",
	500: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.1",
	503: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.4",
}

// writeError answers in NetSuite's error shape.
func writeError(w http.ResponseWriter, status int, code, path, detail string) {
	if rec, ok := w.(*statusRecorder); ok {
		rec.code = code
	}
	body := netsuite.APIError{Type: errorTypes[status], Title: http.StatusText(status), Status: status,
		Details: []netsuite.ErrorDetail{{Detail: detail, ErrorCode: code, ErrorPath: path}}}
	w.Header().Set("Content-Type", "application/vnd.oracle.resource+json; type=error")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeFaultError(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusTooManyRequests:
		writeError(w, status, "CONCURRENCY_LIMIT_EXCEEDED", "", "Concurrent request limit exceeded. Request blocked.")
	case http.StatusUnauthorized:
		writeError(w, status, "INVALID_LOGIN", "", "Invalid login attempt.")
	default:
		writeError(w, status, "UNEXPECTED_ERROR", "", fmt.Sprintf("An unexpected error occurred. Error ID: fake%d", status))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/vnd.oracle.resource+json; type=singular")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// bufferedWriter holds a response so it can be sent late.
type bufferedWriter struct {
	header http.Header
	status int
	body   strings.Builder
}

func newBufferedWriter() *bufferedWriter {
	return &bufferedWriter{header: http.Header{}, status: http.StatusOK}
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedWriter) WriteHeader(status int)      { b.status = status }

func (b *bufferedWriter) flushTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = w.Write([]byte(b.body.String()))
}

// baseURL is the scheme and host the request came to, for Location and links.
func baseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}
