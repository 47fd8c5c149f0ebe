package codec

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testKey returns a deterministic 32-byte key and its standard base64 form.
func testKey(fill byte) ([]byte, string) {
	k := bytes.Repeat([]byte{fill}, KeySize)
	return k, base64.StdEncoding.EncodeToString(k)
}

func TestParseKeyring(t *testing.T) {
	_, a := testKey(1)
	_, b := testKey(2)
	raw3, _ := testKey(3)
	urlRaw := base64.RawURLEncoding.EncodeToString(raw3)
	tests := []struct {
		name    string
		spec    string
		active  string
		ids     []string
		wantErr []string // substrings, all must appear
	}{
		{name: "one key", spec: "k1:" + a, active: "k1", ids: []string{"k1"}},
		{name: "first is active", spec: "k2:" + b + ",k1:" + a, active: "k2", ids: []string{"k2", "k1"}},
		{name: "newlines, comments, url-safe unpadded", spec: "# rotated 2026-11\nk3:" + urlRaw + "\n\nk1:" + a + " # old\n", active: "k3", ids: []string{"k3", "k1"}},
		{name: "empty", spec: " \n,", wantErr: []string{"no keys"}},
		{name: "all problems at once", spec: "nocolon, bad id!:" + a + ",k1:" + a + ",k1:" + b + ",k2:c2hvcnQ=,k3:***", wantErr: []string{
			"entry 1: must be id:base64key",
			"entry 2: key id must be",
			`entry 4: key id "k1" appears more than once`,
			`entry 5 (key id "k2"): key must decode to 32 bytes, got 5`,
			`entry 6 (key id "k3"): key is not valid base64`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKeyring(tt.spec)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.ActiveID() != tt.active {
				t.Errorf("active = %q, want %q", k.ActiveID(), tt.active)
			}
			if got := strings.Join(k.IDs(), ","); got != strings.Join(tt.ids, ",") {
				t.Errorf("ids = %s, want %s", got, strings.Join(tt.ids, ","))
			}
		})
	}
}

func TestKeyMaterialNeverPrinted(t *testing.T) {
	raw, b64 := testKey(7)
	k, err := ParseKeyring("k1:" + b64)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(k)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{k.String(), fmt.Sprintf("%v", k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", *c), fmt.Sprintf("%+v", *k), fmt.Sprintf("%v", *c)} {
		if strings.Contains(s, b64) || strings.Contains(s, string(raw)) || strings.Contains(s, strings.Trim(fmt.Sprint(raw), "[]")) {
			t.Errorf("printed keyring %q contains the key", s)
		}
	}
	// A wrong-length key is refused without echoing what was given.
	long := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 40))
	_, err = ParseKeyring("k1:" + long)
	if err == nil || strings.Contains(err.Error(), long) {
		t.Errorf("error %v must exist and not contain the key", err)
	}
	_, err = ParseKeyring("k1:" + b64 + "!!")
	if err == nil || strings.Contains(err.Error(), b64) {
		t.Errorf("error %v must exist and not contain the key", err)
	}
}

func TestLoadKeyring(t *testing.T) {
	_, a := testKey(1)
	_, b := testKey(2)
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte("k2:"+b+"\nk1:"+a+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	k, err := LoadKeyring(env(map[string]string{EnvKeys: "k1:" + a, EnvKeysFile: file}))
	if err != nil || k.ActiveID() != "k1" {
		t.Fatalf("env wins over file: %v, %v", k, err)
	}
	k, err = LoadKeyring(env(map[string]string{EnvKeysFile: file}))
	if err != nil || k.ActiveID() != "k2" || len(k.IDs()) != 2 {
		t.Fatalf("from file: %v, %v", k, err)
	}
	if _, err := LoadKeyring(env(nil)); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("no config: %v, want ErrNoKeys", err)
	}
	_, err = LoadKeyring(env(map[string]string{EnvKeysFile: filepath.Join(t.TempDir(), "missing")}))
	if err == nil || !strings.Contains(err.Error(), EnvKeysFile) {
		t.Fatalf("missing file: %v", err)
	}
	_, err = LoadKeyring(env(map[string]string{EnvKeys: "k1"}))
	if err == nil || !strings.Contains(err.Error(), EnvKeys+": codec: invalid key list: entry 1") {
		t.Fatalf("bad env: %v", err)
	}
}

func TestGenerateKey(t *testing.T) {
	e1, err := GenerateKey("2026-11")
	if err != nil {
		t.Fatal(err)
	}
	e2, _ := GenerateKey("2026-12")
	k, err := ParseKeyring(e1 + "," + e2)
	if err != nil {
		t.Fatal(err)
	}
	if k.ActiveID() != "2026-11" || bytes.Equal(k.keys["2026-11"], k.keys["2026-12"]) {
		t.Fatalf("generated keys: %v", k)
	}
	if _, err := GenerateKey("bad id"); err == nil {
		t.Fatal("bad id accepted")
	}
}

func TestNewKeyringRefusesUnknownActive(t *testing.T) {
	raw, _ := testKey(1)
	if _, err := NewKeyring("k2", map[string][]byte{"k1": raw}); err == nil {
		t.Fatal("active key outside the keyring accepted")
	}
	if _, err := NewKeyring("k1", map[string][]byte{"k1": raw[:16]}); err == nil || !strings.Contains(err.Error(), "must be 32 bytes, got 16") {
		t.Fatalf("short key: %v", err)
	}
}

func TestNewRefusesEmptyKeyring(t *testing.T) {
	if _, err := New(nil); err == nil {
		t.Fatal("nil keyring accepted")
	}
	if _, err := New(&Keyring{}); err == nil {
		t.Fatal("zero keyring accepted")
	}
}

func TestLoad(t *testing.T) {
	_, a := testKey(1)
	c, err := Load(func(k string) string {
		if k == EnvKeys {
			return "k1:" + a
		}
		return ""
	})
	if err != nil || c.Keyring().ActiveID() != "k1" {
		t.Fatalf("%v, %v", c, err)
	}
	if _, err := Load(func(string) string { return "" }); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("no keys: %v", err)
	}
}
