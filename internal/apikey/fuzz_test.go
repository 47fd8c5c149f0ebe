package apikey

import (
	"strings"
	"testing"
)

// FuzzParsePrefix feeds arbitrary Authorization values to the key parser: it must never panic,
// and it accepts only "rh_<8>_<32>", returning exactly the 8-character prefix.
func FuzzParsePrefix(f *testing.F) {
	full, _, _, err := Generate()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full)
	f.Add("rh_abcdefgh_abcdefghijklmnopqrstuvwxyz234567")
	f.Add("rh_abcdefgh_abcdefghijklmnopqrstuvwxyz23456_")
	f.Add("rh__")
	f.Add("Bearer " + full)
	f.Fuzz(func(t *testing.T, raw string) {
		prefix, err := ParsePrefix(raw)
		if err != nil {
			if err != ErrInvalid || prefix != "" {
				t.Fatalf("ParsePrefix(%q) = %q, %v", raw, prefix, err)
			}
			return
		}
		rest := strings.TrimPrefix(raw, "rh_")
		if len(prefix) != 8 || !strings.HasPrefix(raw, "rh_"+prefix+"_") || len(rest) != 8+1+32 {
			t.Fatalf("ParsePrefix(%q) accepted with prefix %q", raw, prefix)
		}
	})
}
