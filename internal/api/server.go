package api

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	"golang.org/x/time/rate"

	"github.com/revhub/revhub/internal/apikey"
)

// DefaultMaxBody is the request body limit for routes that do not set their own.
const DefaultMaxBody = 1 << 20

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the OpenAPI document served at /openapi.yaml.
func OpenAPI() []byte { return openAPI }

// Deps are what the server needs; Temporal may be nil in tests that do not use it.
type Deps struct {
	Pool     *pgxpool.Pool
	Temporal client.Client
	Log      *slog.Logger
	Registry *prometheus.Registry // nil: a new registry with Go and process collectors
	MaxBody  int64                // default DefaultMaxBody
	Routes   []Route              // capability routes (events, meters, invoices, ...)
	Now      func() time.Time
}

// Server is revhub's HTTP API.
type Server struct {
	d        Deps
	routes   []Route
	handler  http.Handler
	keys     *keyCache
	limiters sync.Map // key id -> *rate.Limiter
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New builds the server and its route table.
func New(d Deps) *Server {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.MaxBody == 0 {
		d.MaxBody = DefaultMaxBody
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
		d.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s := &Server{d: d, keys: newKeyCache(5 * time.Second)}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "revhub_http_requests_total", Help: "HTTP requests by route, method and status code.",
	}, []string{"route", "method", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "revhub_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	}, []string{"route"})
	d.Registry.MustRegister(s.requests, s.latency)

	s.routes = append(s.baseRoutes(), d.Routes...)
	mux := http.NewServeMux()
	for _, r := range s.routes {
		mux.Handle(r.Method+" "+r.Path, s.wrap(r))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, Errorf(http.StatusNotFound, "not_found", "", "no route for %s %s", r.Method, r.URL.Path))
	})
	s.handler = mux
	return s
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes returns the route table (base and capability routes).
func (s *Server) Routes() []Route { return s.routes }

func (s *Server) baseRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/healthz", Scope: ScopePublic, Summary: "Liveness: the process is up.", Handler: s.healthz},
		{Method: "GET", Path: "/readyz", Scope: ScopePublic, Summary: "Readiness: PostgreSQL and Temporal answer.", Handler: s.readyz},
		{Method: "GET", Path: "/metrics", Scope: ScopePublic, Summary: "Prometheus metrics.", Handler: promhttp.HandlerFor(s.d.Registry, promhttp.HandlerOpts{}).ServeHTTP},
		{Method: "GET", Path: "/openapi.yaml", Scope: ScopePublic, Summary: "This API's OpenAPI document.", Handler: serveOpenAPI},
		{Method: "GET", Path: "/v1/whoami", Scope: ScopeRead, Summary: "The calling API key's id, name and scopes.", Handler: s.whoami},
		{Method: "GET", Path: "/v1/audit", Scope: ScopeAdmin, Summary: "The audit log of manual actions, newest first.", Handler: s.auditList},
	}
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(openAPI)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"postgres": "ok", "temporal": "ok"}
	ok := true
	if s.d.Pool == nil {
		checks["postgres"], ok = "not configured", false
	} else if err := s.d.Pool.Ping(ctx); err != nil {
		checks["postgres"], ok = "unreachable", false
		s.d.Log.Warn("readyz: postgres", "err", err)
	}
	if s.d.Temporal == nil {
		checks["temporal"], ok = "not configured", false
	} else if _, err := s.d.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"], ok = "unreachable", false
		s.d.Log.Warn("readyz: temporal", "err", err)
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	WriteJSON(w, status, map[string]any{"ready": ok, "checks": checks})
}

type ctxKey struct{}

// KeyFrom returns the authenticated API key of a request, if any.
func KeyFrom(ctx context.Context) (apikey.Key, bool) {
	k, ok := ctx.Value(ctxKey{}).(apikey.Key)
	return k, ok
}

// Actor names the caller for the audit log: the key's name and id.
func Actor(ctx context.Context) string {
	if k, ok := KeyFrom(ctx); ok {
		return "apikey:" + k.Name + "(" + k.ID + ")"
	}
	return "anonymous"
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	k, _ := KeyFrom(r.Context())
	WriteJSON(w, http.StatusOK, map[string]any{"id": k.ID, "name": k.Name, "scopes": k.Scopes, "rate_limit": k.RateLimit})
}

// wrap applies metrics, the body limit, authentication, scope and rate limit to one route.
func (s *Server) wrap(rt Route) http.Handler {
	limit := rt.MaxBody
	if limit == 0 {
		limit = s.d.MaxBody
	}
	label := rt.Method + " " + rt.Path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.requests.WithLabelValues(label, r.Method, statusClass(sw.status)).Inc()
			s.latency.WithLabelValues(label).Observe(time.Since(start).Seconds())
		}()
		if r.ContentLength > limit {
			WriteError(sw, Errorf(http.StatusRequestEntityTooLarge, "body_too_large", "", "request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, limit))
			return
		}
		r.Body = http.MaxBytesReader(sw, r.Body, limit)
		if rt.Scope != ScopePublic && rt.Scope != ScopeWebhook {
			key, err := s.authenticate(r)
			if err != nil {
				WriteError(sw, err)
				return
			}
			if !key.Allows(string(rt.Scope)) {
				WriteError(sw, Errorf(http.StatusForbidden, "forbidden", "", "API key %s lacks scope %q", key.Prefix, rt.Scope))
				return
			}
			if key.RateLimit > 0 && !s.limiter(key).Allow() {
				sw.Header().Set("Retry-After", "1")
				WriteError(sw, Errorf(http.StatusTooManyRequests, "rate_limited", "", "API key %s exceeds its limit of %d requests per second", key.Prefix, key.RateLimit))
				return
			}
			r = r.WithContext(withKeyCache(context.WithValue(r.Context(), ctxKey{}, key), s.keys))
		}
		rt.Handler(sw, r)
	})
}

func (s *Server) authenticate(r *http.Request) (apikey.Key, error) {
	raw := r.Header.Get("X-API-Key")
	if raw == "" {
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			raw = strings.TrimPrefix(h, "Bearer ")
		}
	}
	if raw == "" {
		return apikey.Key{}, Errorf(http.StatusUnauthorized, "unauthorized", "Authorization", "an API key is required (Authorization: Bearer <key> or X-API-Key)")
	}
	now := s.d.Now()
	if k, ok := s.keys.get(raw, now); ok {
		return k, nil
	}
	if s.d.Pool == nil {
		return apikey.Key{}, Errorf(http.StatusServiceUnavailable, "unavailable", "", "database not configured")
	}
	k, err := apikey.Verify(r.Context(), s.d.Pool, raw, now)
	if errors.Is(err, apikey.ErrInvalid) {
		return apikey.Key{}, Errorf(http.StatusUnauthorized, "unauthorized", "Authorization", "the API key is invalid, revoked or expired")
	}
	if err != nil {
		s.d.Log.Error("authenticate", "err", err)
		return apikey.Key{}, Errorf(http.StatusServiceUnavailable, "unavailable", "", "could not verify the API key; retry")
	}
	s.keys.put(raw, k, now)
	_ = apikey.Touch(r.Context(), s.d.Pool, k.ID, now)
	return k, nil
}

func (s *Server) limiter(k apikey.Key) *rate.Limiter {
	if l, ok := s.limiters.Load(k.ID); ok {
		return l.(*rate.Limiter)
	}
	l, _ := s.limiters.LoadOrStore(k.ID, rate.NewLimiter(rate.Limit(k.RateLimit), k.RateLimit))
	return l.(*rate.Limiter)
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func statusClass(code int) string {
	return string(rune('0'+code/100)) + "xx"
}
