package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretsNeverPrint(t *testing.T) {
	s := Secret("sk_test_123")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "key", s, "cfg", Stripe{APIKey: s})
	out := buf.String() + fmt.Sprint(s) + fmt.Sprintf("%v %+v %#v %s", s, Stripe{APIKey: s}, Stripe{APIKey: s}, s)
	b, _ := json.Marshal(Stripe{APIKey: s})
	out += string(b)
	if strings.Contains(out, "sk_test_123") {
		t.Fatalf("secret printed: %s", out)
	}
	if s.Reveal() != "sk_test_123" {
		t.Fatal("Reveal")
	}
}

func TestLoadFromEnvAndFiles(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "ns")
	if err := os.WriteFile(f, []byte("tok-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"REVHUB_STRIPE_API_KEY":             "sk_test_1",
		"REVHUB_STRIPE_API_URL":             "http://127.0.0.1:12111",
		"REVHUB_NETSUITE_TOKEN_SECRET_FILE": f,
	}
	p, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if p.Stripe.APIKey.Reveal() != "sk_test_1" || p.NetSuite.TokenSecret.Reveal() != "tok-secret" || p.Stripe.URL != "http://127.0.0.1:12111" {
		t.Fatalf("loaded %+v", p)
	}
	if got := p.Secrets(); len(got) != 2 {
		t.Fatalf("Secrets() = %d values", len(got))
	}
	env["REVHUB_STRIPE_API_KEY_FILE"] = f
	env["REVHUB_PAYPAL_CLIENT_SECRET_FILE"] = filepath.Join(dir, "missing")
	_, err = Load(func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "REVHUB_STRIPE_API_KEY: set either") || !strings.Contains(err.Error(), "REVHUB_PAYPAL_CLIENT_SECRET_FILE") {
		t.Fatalf("want both problems named, got %v", err)
	}
	if strings.Contains(err.Error(), dir) {
		t.Fatalf("error repeats the secret file path: %v", err)
	}
}
