package codec

import (
	"bytes"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
)

// FuzzDecode feeds arbitrary payloads, as the codec endpoint receives them, to Decode: it must
// never panic, open nothing but a payload sealed with its key, and return plain payloads unchanged.
func FuzzDecode(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	ring, err := NewKeyring("k1", map[string][]byte{"k1": key})
	if err != nil {
		f.Fatal(err)
	}
	c, err := New(ring)
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"amount":"10.00"}`)}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("binary/encrypted", "k1", sealed[0].Data)
	f.Add("binary/encrypted", "k2", sealed[0].Data)
	f.Add("binary/encrypted", "k1", []byte{})
	f.Add("binary/encrypted", "k1", bytes.Repeat([]byte{1}, 12))
	f.Add("json/plain", "", []byte(`{"a":1}`))
	f.Fuzz(func(t *testing.T, encoding, keyID string, data []byte) {
		p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(encoding), "encryption-key-id": []byte(keyID)}, Data: data}
		out, err := c.Decode([]*commonpb.Payload{p})
		if encoding != "binary/encrypted" {
			if err != nil || len(out) != 1 || !bytes.Equal(out[0].Data, data) {
				t.Fatalf("plain payload (%q) not passed through: %v", encoding, err)
			}
			return
		}
		// Only a payload sealed with the key opens, so the one seed sealed here is all that can;
		// compare the plaintext (fuzz workers seal their own copy with another nonce).
		if err == nil && (keyID != "k1" || len(out) != 1 || string(out[0].Data) != `{"amount":"10.00"}` || string(out[0].Metadata["encoding"]) != "json/plain") {
			t.Fatalf("forged encrypted payload (key %q, %d bytes) decoded to %v", keyID, len(data), out)
		}
		if err != nil && strings.Contains(err.Error(), string(key)) {
			t.Fatal("error shows key material")
		}
	})
}

// FuzzParseKeyring feeds arbitrary REVHUB_CODEC_KEYS values to the keyring parser: it must never
// panic and its errors must never quote key material.
func FuzzParseKeyring(f *testing.F) {
	good, err := GenerateKey("2026-11")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good + "," + good)
	f.Add("a:" + strings.Repeat("QUFB", 11) + "\n#c\n b:zzz")
	f.Add(":,::,a:b:c")
	f.Add("bad id!:" + strings.TrimPrefix(good, "2026-11:"))
	f.Fuzz(func(t *testing.T, spec string) {
		ring, err := ParseKeyring(spec)
		shown := ""
		if err != nil {
			shown = err.Error()
		} else {
			if ring == nil {
				t.Fatalf("no keyring and no error for %q", spec)
			}
			shown = ring.String()
		}
		entries := strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == '\n' })
		ids := ""
		for _, entry := range entries {
			id, _, _ := strings.Cut(entry, ":")
			ids += id + "\n"
		}
		for _, entry := range entries {
			_, material, ok := strings.Cut(entry, ":")
			material = strings.TrimSpace(material)
			// Material that is also (part of) a key id may rightly be shown as the id.
			if ok && len(material) >= 8 && !strings.Contains(ids, material) && strings.Contains(shown, material) {
				t.Fatalf("%q quotes the key material of entry %q", shown, entry)
			}
		}
	})
}
