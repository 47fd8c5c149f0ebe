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
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "key", s, "cfg", Secrets{StripeAPIKey: s})
	out := buf.String() + fmt.Sprint(s) + fmt.Sprintf("%v %+v %#v %s", s, Secrets{StripeAPIKey: s}, Secrets{StripeAPIKey: s}, s)
	b, _ := json.Marshal(Secrets{StripeAPIKey: s})
	out += string(b)
	if strings.Contains(out, "sk_test_123") {
		t.Fatalf("secret printed: %s", out)
	}
	if s.Reveal() != "sk_test_123" {
		t.Fatal("Reveal")
	}
}

func TestLoadSecretsFromEnvAndFiles(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "ns")
	if err := os.WriteFile(f, []byte("tok-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"REVHUB_STRIPE_API_KEY":             "sk_test_1",
		"REVHUB_NETSUITE_TOKEN_SECRET_FILE": f,
	}
	s, err := LoadSecrets(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if s.StripeAPIKey.Reveal() != "sk_test_1" || s.NetSuiteTokenSecret.Reveal() != "tok-secret" {
		t.Fatalf("loaded %v", s)
	}
	if got := s.Values(); len(got) != 2 {
		t.Fatalf("Values() = %d values", len(got))
	}
	env["REVHUB_STRIPE_API_KEY_FILE"] = f
	env["REVHUB_PAYPAL_SECRET_FILE"] = filepath.Join(dir, "missing")
	_, err = LoadSecrets(func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "REVHUB_STRIPE_API_KEY: set either") || !strings.Contains(err.Error(), "REVHUB_PAYPAL_SECRET_FILE") {
		t.Fatalf("want both problems named, got %v", err)
	}
	if strings.Contains(err.Error(), dir) {
		t.Fatalf("error repeats the secret file path: %v", err)
	}
}
