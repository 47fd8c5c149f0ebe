// Package fake is an in-memory Salesforce org speaking the real REST wire format (OAuth token endpoint,
// SOQL query with paging, sObject PATCH/GET, error arrays, Sforce-Limit-Info), with a control API under
// /__fake/ for fault injection and live data changes. Tests mount it with httptest; `revhub dev` serves it.
package fake

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/revhub/revhub/internal/chaos"
)

// Options configure a fake org; zero values take the defaults.
type Options struct {
	// ClientID and ClientSecret are the connected app credentials the token endpoint accepts
	// (defaults "revhub-dev" and "revhub-dev-secret").
	ClientID, ClientSecret string
	// PageSize caps every query page, below the batchSize a client asks for (default 2000, Salesforce's maximum).
	PageSize int
	// SingleCurrency makes the org single-currency: CurrencyIsoCode is then not a field (INVALID_FIELD).
	SingleCurrency bool
	// OrgCurrency is the corporate currency (default USD).
	OrgCurrency string
	// SessionCalls expires a session after this many API calls (0: never).
	SessionCalls int
	// SessionTimeout expires a session idle for this long on the fake's clock (0: never).
	SessionTimeout time.Duration
	// Chaos answers a share of API requests with a 429 or 503 before serving them, after the queued faults.
	Chaos *chaos.Dice
	// APILimit is the org's daily API request limit (default 100000); calls beyond it get REQUEST_LIMIT_EXCEEDED.
	APILimit int
	// Now is the fake's clock (default time.Now); SystemModstamp and session expiry use it.
	Now func() time.Time
	// Logger receives one line per request (never tokens or secrets); nil discards.
	Logger *slog.Logger
}

// Server is a fake Salesforce org.
type Server struct {
	opts Options

	mu       sync.Mutex
	st       *store
	sessions map[string]*sessionState
	cursors  map[string]*cursor
	faults   []Fault
	requests []LoggedRequest
	apiUsed  int
	apiLimit int
	tokens   int
}

// LoggedRequest is one request the fake answered.
type LoggedRequest struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	// SOQL is the decoded query of a query request.
	SOQL   string `json:"soql,omitempty"`
	Status int    `json:"status"`
	// Fault is true when an injected fault produced the answer.
	Fault bool `json:"fault,omitempty"`
}

// New returns an empty fake org; load data with Seed or LoadFixture.
func New(opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = "revhub-dev"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "revhub-dev-secret"
	}
	if opts.PageSize <= 0 || opts.PageSize > 2000 {
		opts.PageSize = 2000
	}
	if opts.OrgCurrency == "" {
		opts.OrgCurrency = "USD"
	}
	if opts.APILimit <= 0 {
		opts.APILimit = 100000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{
		opts:     opts,
		st:       newStore(!opts.SingleCurrency, opts.OrgCurrency, opts.Now),
		sessions: map[string]*sessionState{},
		cursors:  map[string]*cursor{},
		apiLimit: opts.APILimit,
	}
}

// ClientID returns the consumer key the token endpoint accepts.
func (s *Server) ClientID() string { return s.opts.ClientID }

// ClientSecret returns the consumer secret the token endpoint accepts.
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

var (
	versionRe = regexp.MustCompile(`^/services/data/v(\d{2}\.\d)(/.*)?$`)
)

// Handler serves the token endpoint, the REST API and the /__fake/ control API. It parses paths itself,
// so a double slash is answered as Salesforce would rather than redirected.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		entry := LoggedRequest{Time: s.opts.Now(), Method: r.Method, Path: r.URL.Path}
		if q := r.URL.Query().Get("q"); q != "" {
			entry.SOQL = q
		}
		switch {
		case strings.HasPrefix(r.URL.Path, "/__fake/"):
			s.control(rec, r)
		default:
			if f, ok := s.takeFault(r); ok {
				entry.Fault = true
				s.serveFault(rec, r, f)
				break
			}
			s.serveAPI(rec, r)
		}
		entry.Status = rec.status
		if !strings.HasPrefix(r.URL.Path, "/__fake/") {
			s.mu.Lock()
			s.requests = append(s.requests, entry)
			s.mu.Unlock()
		}
		s.opts.Logger.Info("fake salesforce", "method", r.Method, "path", r.URL.Path, "status", rec.status, "fault", entry.Fault)
	})
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/services/oauth2/token" {
		s.token(w, r)
		return
	}
	m := versionRe.FindStringSubmatch(r.URL.Path)
	if m == nil {
		writeErrors(w, http.StatusNotFound, apiErr("NOT_FOUND", "The requested resource does not exist"))
		return
	}
	version, rest := m[1], m[2]
	if !s.authorize(w, r) {
		return
	}
	switch {
	case rest == "/query" || rest == "/query/":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r.Method, "GET,HEAD")
			return
		}
		s.query(w, r, version)
	case strings.HasPrefix(rest, "/query/"):
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r.Method, "GET,HEAD")
			return
		}
		s.queryMore(w, strings.TrimPrefix(rest, "/query/"))
	case strings.HasPrefix(rest, "/sobjects/"):
		s.sobject(w, r, version, strings.Split(strings.Trim(strings.TrimPrefix(rest, "/sobjects/"), "/"), "/"))
	default:
		writeErrors(w, http.StatusNotFound, apiErr("NOT_FOUND", "The requested resource does not exist"))
	}
}

// apiError is one entry of Salesforce's error array.
type apiError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

func apiErr(code, msg string, fields ...string) apiError {
	return apiError{Message: msg, ErrorCode: code, Fields: fields}
}

// writeErrors writes the JSON error array; it always holds at least one element.
func writeErrors(w http.ResponseWriter, status int, errs ...apiError) {
	if len(errs) == 0 {
		errs = []apiError{apiErr("UNKNOWN_EXCEPTION", http.StatusText(status))}
	}
	writeJSON(w, status, errs)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func methodNotAllowed(w http.ResponseWriter, method, allowed string) {
	w.Header().Set("Allow", allowed)
	writeErrors(w, http.StatusMethodNotAllowed, apiErr("METHOD_NOT_ALLOWED", "HTTP Method '"+method+"' not allowed. Allowed are "+allowed))
}

// limitHeader sets Sforce-Limit-Info; the caller holds s.mu.
func (s *Server) limitHeader(w http.ResponseWriter) {
	w.Header().Set("Sforce-Limit-Info", "api-usage="+strconv.Itoa(s.apiUsed)+"/"+strconv.Itoa(s.apiLimit))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Requests returns the request log (control API calls excluded).
func (s *Server) Requests() []LoggedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LoggedRequest(nil), s.requests...)
}

// ClearRequests empties the request log.
func (s *Server) ClearRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}
