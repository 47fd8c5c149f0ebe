package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/apikey"
	"github.com/revhub/revhub/internal/dbtest"
)

type errBody struct {
	Error struct {
		Code   string `json:"code"`
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"error"`
}

func do(t *testing.T, h http.Handler, method, path, key string, body []byte) (*http.Response, errBody) {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var eb errBody
	_ = json.Unmarshal(rec.Body.Bytes(), &eb)
	return rec.Result(), eb
}

func TestAuthScopesLimits(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	echo := func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := api.DecodeJSON(r, &v); err != nil {
			api.WriteError(w, err)
			return
		}
		api.WriteJSON(w, http.StatusOK, v)
	}
	srv := api.New(api.Deps{Pool: d.Pool, Routes: []api.Route{
		{Method: "POST", Path: "/v1/echo", Scope: api.ScopeEventsWrite, Summary: "test", Handler: echo, MaxBody: 64},
	}})
	h := srv.Handler()
	writer, err := apikey.Create(ctx, d.Pool, "sender", []string{"events:write"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	reader, err := apikey.Create(ctx, d.Pool, "reader", []string{"read"}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}

	resp, eb := do(t, h, "GET", "/v1/whoami", "rh_wrongwro_ngwrongwrongwrongwrongwrongwron", nil)
	if resp.StatusCode != 401 || eb.Error.Code != "unauthorized" || eb.Error.Field != "Authorization" || eb.Error.Reason == "" {
		t.Fatalf("wrong key: %d %+v", resp.StatusCode, eb)
	}
	if resp, eb = do(t, h, "GET", "/v1/whoami", "", nil); resp.StatusCode != 401 || eb.Error.Code != "unauthorized" {
		t.Fatalf("no key: %d %+v", resp.StatusCode, eb)
	}
	if resp, _ = do(t, h, "GET", "/v1/whoami", reader.Secret, nil); resp.StatusCode != 200 {
		t.Fatalf("reader whoami: %d", resp.StatusCode)
	}
	if resp, eb = do(t, h, "GET", "/v1/whoami", writer.Secret, nil); resp.StatusCode != 403 || eb.Error.Code != "forbidden" {
		t.Fatalf("events:write key reading: %d %+v", resp.StatusCode, eb)
	}
	if resp, _ = do(t, h, "POST", "/v1/echo", writer.Secret, []byte(`{"a":1}`)); resp.StatusCode != 200 {
		t.Fatalf("echo: %d", resp.StatusCode)
	}
	big := []byte(`{"a":"` + strings.Repeat("x", 100) + `"}`)
	if resp, eb = do(t, h, "POST", "/v1/echo", writer.Secret, big); resp.StatusCode != 413 || eb.Error.Code != "body_too_large" {
		t.Fatalf("big body: %d %+v", resp.StatusCode, eb)
	}
	if resp, eb = do(t, h, "POST", "/v1/echo", writer.Secret, []byte(`{"a":`)); resp.StatusCode != 400 || eb.Error.Code != "invalid_json" {
		t.Fatalf("bad json: %d %+v", resp.StatusCode, eb)
	}
	// Rate limit: 2 per second with burst 2; the third immediate call is refused.
	var codes []int
	for range 4 {
		resp, _ = do(t, h, "GET", "/v1/whoami", reader.Secret, nil)
		codes = append(codes, resp.StatusCode)
	}
	if !slices.Contains(codes, 429) {
		t.Fatalf("rate limit never applied: %v", codes)
	}
	// Revocation takes effect (after the key cache TTL for an already-seen key; a fresh server sees it at once).
	if err := apikey.Revoke(ctx, d.Pool, writer.Key.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	h2 := api.New(api.Deps{Pool: d.Pool}).Handler()
	if resp, _ = do(t, h2, "GET", "/healthz", "", nil); resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	if resp, _ = do(t, h2, "GET", "/v1/whoami", writer.Secret, nil); resp.StatusCode != 401 {
		t.Fatalf("revoked key: %d", resp.StatusCode)
	}
	// readyz without Temporal configured is 503 naming the check.
	resp, _ = do(t, h2, "GET", "/readyz", "", nil)
	if resp.StatusCode != 503 {
		t.Fatalf("readyz without temporal: %d", resp.StatusCode)
	}
	if resp, eb = do(t, h2, "GET", "/nope", "", nil); resp.StatusCode != 404 || eb.Error.Code != "not_found" {
		t.Fatalf("unknown route: %d %+v", resp.StatusCode, eb)
	}
}

// TestOpenAPIMatchesRoutes checks the kept OpenAPI document against the real route table, both ways,
// and that every route declares a known scope matching the document.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Scope string `yaml:"x-revhub-scope"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	known := []api.Scope{api.ScopePublic, api.ScopeWebhook, api.ScopeEventsWrite, api.ScopeRead, api.ScopeWrite, api.ScopeAdmin}
	seen := map[string]bool{}
	for _, r := range AllRoutes() {
		if !slices.Contains(known, r.Scope) {
			t.Errorf("%s %s: scope %q is not declared or unknown", r.Method, r.Path, r.Scope)
		}
		if r.Summary == "" {
			t.Errorf("%s %s: no summary", r.Method, r.Path)
		}
		ops, ok := doc.Paths[r.Path]
		op, okm := ops[strings.ToLower(r.Method)]
		if !ok || !okm {
			t.Errorf("%s %s: route missing from openapi.yaml", r.Method, r.Path)
			continue
		}
		if op.Scope != string(r.Scope) {
			t.Errorf("%s %s: openapi x-revhub-scope %q, route scope %q", r.Method, r.Path, op.Scope, r.Scope)
		}
		seen[strings.ToLower(r.Method)+" "+r.Path] = true
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if !seen[m+" "+p] {
				t.Errorf("openapi.yaml documents %s %s, which is not a route", strings.ToUpper(m), p)
			}
		}
	}
}
