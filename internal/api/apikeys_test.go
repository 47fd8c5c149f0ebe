package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/apikey"
	"github.com/revhub/revhub/internal/audit"
	"github.com/revhub/revhub/internal/dbtest"
)

// keyCall sends a JSON request with a key and decodes the JSON answer.
func keyCall(t *testing.T, h http.Handler, method, path, key, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader([]byte(body)))
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	out := map[string]any{}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, rec.Body.String())
		}
	}
	return rec.Code, out
}

func errOf(out map[string]any) map[string]any {
	e, _ := out["error"].(map[string]any)
	return e
}

func TestAPIKeyManagement(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	admin, err := apikey.Create(ctx, d.Pool, "ops-admin", []apikey.Scope{"admin"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Deps{Pool: d.Pool, Routes: api.CapabilityRoutes(api.Capabilities{Pool: d.Pool})}).Handler()
	actor := "apikey:ops-admin(" + admin.Key.ID + ")"

	// Every problem of a bad request is named at once.
	code, out := keyCall(t, h, "POST", "/v1/api-keys", admin.Secret, `{"name":"","scopes":["read","root"],"rate_limit":-1,"expires_at":"2001-01-01T00:00:00Z"}`)
	e := errOf(out)
	if code != 400 || e["code"] != "invalid_field" || len(e["details"].([]any)) != 4 {
		t.Fatalf("bad create: %d %v", code, out)
	}
	var fields []string
	for _, d := range e["details"].([]any) {
		fields = append(fields, d.(map[string]any)["field"].(string))
	}
	if strings.Join(fields, ",") != "name,scopes[1],rate_limit,expires_at" {
		t.Fatalf("bad create named %v", fields)
	}
	if code, out = keyCall(t, h, "POST", "/v1/api-keys", admin.Secret, `{"name":"x","scopes":["read"],"owner":"me"}`); code != 400 || errOf(out)["field"] != "owner" {
		t.Fatalf("unknown field: %d %v", code, out)
	}

	// Create answers the secret once; it works at once with exactly its scopes.
	code, out = keyCall(t, h, "POST", "/v1/api-keys", admin.Secret, `{"name":"usage-sender","scopes":["events:write"],"rate_limit":100,"reason":"ticket OPS-1"}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	sender := out["secret"].(string)
	senderID := out["key"].(map[string]any)["id"].(string)
	if !strings.HasPrefix(sender, "rh_") || out["key"].(map[string]any)["rate_limit"].(float64) != 100 {
		t.Fatalf("create answered %v", out)
	}
	if code, out = keyCall(t, h, "GET", "/v1/whoami", sender, ""); code != 403 || errOf(out)["code"] != "forbidden" {
		t.Fatalf("events:write key reading: %d %v", code, out)
	}
	code, out = keyCall(t, h, "POST", "/v1/api-keys", admin.Secret, `{"name":"dashboard","scopes":["read"]}`)
	if code != 201 {
		t.Fatalf("create reader: %d %v", code, out)
	}
	reader, readerID := out["secret"].(string), out["key"].(map[string]any)["id"].(string)
	if code, _ = keyCall(t, h, "GET", "/v1/whoami", reader, ""); code != 200 {
		t.Fatalf("reader whoami: %d", code)
	}
	// Only admin keys manage keys.
	if code, _ = keyCall(t, h, "GET", "/v1/api-keys", reader, ""); code != 403 {
		t.Fatalf("reader listing keys: %d", code)
	}

	// The list never shows a secret or its hash.
	req := httptest.NewRequest("GET", "/v1/api-keys", nil)
	req.Header.Set("Authorization", "Bearer "+admin.Secret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || strings.Contains(rec.Body.String(), reader[len("rh_")+9:]) || strings.Contains(rec.Body.String(), "hash") {
		t.Fatalf("list: %d %s", rec.Code, rec.Body.String())
	}
	var listed struct {
		Keys []struct {
			ID     string   `json:"id"`
			Scopes []string `json:"scopes"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &listed); err != nil || len(listed.Keys) != 3 {
		t.Fatalf("list: %v %s", err, rec.Body.String())
	}

	// Revocation: refused without a reason; then honoured at once although the key is cached.
	if code, out = keyCall(t, h, "POST", "/v1/api-keys/"+readerID+"/revoke", admin.Secret, `{}`); code != 400 || errOf(out)["field"] != "reason" {
		t.Fatalf("revoke without reason: %d %v", code, out)
	}
	if code, out = keyCall(t, h, "POST", "/v1/api-keys/"+readerID+"/revoke", admin.Secret, `{"reason":"laptop lost"}`); code != 200 {
		t.Fatalf("revoke: %d %v", code, out)
	}
	revokedAt := out["key"].(map[string]any)["revoked_at"]
	if code, _ = keyCall(t, h, "GET", "/v1/whoami", reader, ""); code != 401 {
		t.Fatalf("revoked (and cached) key still accepted: %d", code)
	}
	// A retried revocation is already done: 200, the first revocation time kept.
	if code, out = keyCall(t, h, "POST", "/v1/api-keys/"+readerID+"/revoke", admin.Secret, `{"reason":"laptop lost"}`); code != 200 || out["key"].(map[string]any)["revoked_at"] != revokedAt {
		t.Fatalf("retried revoke: %d %v (first %v)", code, out, revokedAt)
	}
	if code, out = keyCall(t, h, "POST", "/v1/api-keys/key_nosuch01/revoke", admin.Secret, `{"reason":"x"}`); code != 404 || errOf(out)["field"] != "id" {
		t.Fatalf("revoke unknown: %d %v", code, out)
	}

	// Rotation: the new key works at once, the old one until the grace ends.
	if code, out = keyCall(t, h, "POST", "/v1/api-keys/"+senderID+"/rotate", admin.Secret, `{"grace_seconds":-5}`); code != 400 || len(errOf(out)["details"].([]any)) != 2 {
		t.Fatalf("bad rotate: %d %v", code, out)
	}
	code, out = keyCall(t, h, "POST", "/v1/api-keys/"+senderID+"/rotate", admin.Secret, `{"grace_seconds":3600,"reason":"quarterly rotation"}`)
	if code != 201 || out["replaces"] != senderID {
		t.Fatalf("rotate: %d %v", code, out)
	}
	newSender := out["secret"].(string)
	for name, k := range map[string]string{"old": sender, "new": newSender} {
		if kk, err := apikey.Verify(ctx, d.Pool, k, time.Now()); err != nil || !kk.Allows("events:write") || kk.Allows("read") {
			t.Fatalf("%s sender key during grace: %+v %v", name, kk, err)
		}
	}
	if _, err := apikey.Verify(ctx, d.Pool, sender, time.Now().Add(time.Hour+time.Minute)); err == nil {
		t.Fatal("old sender key accepted after the grace period")
	}
	// A retried rotation does not mint a second key.
	if code, out = keyCall(t, h, "POST", "/v1/api-keys/"+senderID+"/rotate", admin.Secret, `{"grace_seconds":3600,"reason":"quarterly rotation"}`); code != 409 {
		t.Fatalf("retried rotate: %d %v", code, out)
	}
	if keys, _ := apikey.List(ctx, d.Pool); len(keys) != 4 {
		t.Fatalf("%d keys after rotation and its retry, want 4", len(keys))
	}
	// Rotation without grace cuts the old key off at once, in this process's cache too.
	newSenderID := "key_" + strings.Split(newSender, "_")[1]
	if code, _ = keyCall(t, h, "GET", "/v1/whoami", newSender, ""); code != 403 { // authenticated (and cached), then refused
		t.Fatalf("warm the cache: %d", code)
	}
	code, out = keyCall(t, h, "POST", "/v1/api-keys/"+newSenderID+"/rotate", admin.Secret, `{"grace_seconds":0,"reason":"key leaked in a log"}`)
	if code != 201 {
		t.Fatalf("rotate without grace: %d %v", code, out)
	}
	if code, _ = keyCall(t, h, "GET", "/v1/whoami", newSender, ""); code != 401 {
		t.Fatalf("key rotated without grace still accepted: %d", code)
	}

	// Every change is in the audit log with the acting key, the time and the reason.
	entries, err := audit.List(ctx, d.Pool, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Actor != actor || e.At.IsZero() {
			t.Errorf("audit entry %+v: actor %q, want %q", e, e.Actor, actor)
		}
		got = append([]string{e.Action + " " + e.Subject + " " + e.Reason}, got...)
	}
	want := []string{
		"apikey.create " + senderID + " ticket OPS-1",
		"apikey.create " + readerID + " ",
		"apikey.revoke " + readerID + " laptop lost",
		"apikey.revoke " + readerID + " laptop lost",
		"apikey.rotate " + senderID + " quarterly rotation",
		"apikey.rotate " + newSenderID + " key leaked in a log",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Nothing in the audit log holds a secret.
	for _, e := range entries {
		for _, s := range []string{admin.Secret, sender, reader, newSender} {
			if strings.Contains(string(e.Details)+e.Reason+e.Subject, s[len("rh_")+9:]) {
				t.Fatalf("audit entry %d holds a secret", e.ID)
			}
		}
	}
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestEveryRouteEnforcesItsScope walks the production route table: every route that needs a key
// answers 401 without one and 403 to a valid key lacking its scope, before its handler runs (the
// handlers here are unconfigured and would answer 503), and is reached with an admin key.
func TestEveryRouteEnforcesItsScope(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	keys := map[api.Scope]string{}
	for _, s := range []api.Scope{api.ScopeEventsWrite, api.ScopeRead, api.ScopeWrite, api.ScopeAdmin} {
		c, err := apikey.Create(ctx, d.Pool, "scope-"+string(s), []apikey.Scope{string(s)}, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		keys[s] = c.Secret
	}
	// The routes are the production table with no services configured; only the server has PostgreSQL.
	h := api.New(api.Deps{Pool: d.Pool, Routes: api.CapabilityRoutes(api.Capabilities{})}).Handler()
	counted := map[api.Scope]int{}
	for _, r := range AllRoutes() {
		if r.Scope == api.ScopePublic || r.Scope == api.ScopeWebhook {
			continue
		}
		counted[r.Scope]++
		path := pathParam.ReplaceAllString(r.Path, "x")
		name := r.Method + " " + r.Path
		if code, out := keyCall(t, h, r.Method, path, "", ""); code != 401 || errOf(out)["code"] != "unauthorized" {
			t.Errorf("%s without a key: %d %v, want 401", name, code, out)
		}
		if code, out := keyCall(t, h, r.Method, path, "rh_aaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", ""); code != 401 {
			t.Errorf("%s with an unknown key: %d %v, want 401", name, code, out)
		}
		for s, k := range keys {
			if s == r.Scope || s == api.ScopeAdmin {
				continue
			}
			if code, out := keyCall(t, h, r.Method, path, k, ""); code != 403 || errOf(out)["code"] != "forbidden" {
				t.Errorf("%s with a %s key: %d %v, want 403", name, s, code, out)
			}
		}
		for _, s := range []api.Scope{r.Scope, api.ScopeAdmin} {
			if code, _ := keyCall(t, h, r.Method, path, keys[s], ""); code == 401 || code == 403 {
				t.Errorf("%s with a %s key: %d, want to pass authentication", name, s, code)
			}
		}
	}
	// The table really holds read routes (reports, payments, ...) an events:write key cannot reach.
	if counted[api.ScopeRead] < 2 || counted[api.ScopeAdmin] < 4 {
		t.Fatalf("route table has %d read and %d admin routes; the walk checked too little", counted[api.ScopeRead], counted[api.ScopeAdmin])
	}
}

// TestEventsWriteKeyCannotRead names the read routes an events:write key is refused on.
func TestEventsWriteKeyCannotRead(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	sender, err := apikey.Create(ctx, d.Pool, "usage-sender", []apikey.Scope{"events:write"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Deps{Pool: d.Pool, Routes: api.CapabilityRoutes(api.Capabilities{})}).Handler()
	var refused []string
	for _, r := range AllRoutes() {
		if r.Scope != api.ScopeRead && r.Scope != api.ScopeWrite && r.Scope != api.ScopeAdmin {
			continue
		}
		code, _ := keyCall(t, h, r.Method, pathParam.ReplaceAllString(r.Path, "x"), sender.Secret, "")
		if code != 403 {
			t.Errorf("events:write key on %s %s: %d, want 403", r.Method, r.Path, code)
		}
		refused = append(refused, r.Method+" "+r.Path)
	}
	for _, must := range []string{"GET /v1/reports/revenue/{kind}", "GET /v1/audit", "GET /v1/api-keys"} {
		if !strings.Contains(strings.Join(refused, "\n"), must) {
			t.Errorf("%s was not checked (refused: %v)", must, refused)
		}
	}
}
