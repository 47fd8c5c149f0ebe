package contract

import (
	"errors"
	"os"
	"testing"
)

// FuzzParseVersion: any input either parses into a version that validates, or fails with an error; never a panic.
func FuzzParseVersion(f *testing.F) {
	seed, err := os.ReadFile("testdata/hybrid.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, false)
	f.Add([]byte(`{"contract_id":"c","version":1,"currency":"JPY","components":[{"id":"a","model":"graduated","price":{"tiers":[{"from":"0","up_to":"5","unit_price":"1"},{"from":"4","unit_price":"-1"}]}}]}`), true)
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		format := YAML
		if asJSON {
			format = JSON
		}
		v, err := ParseVersion(data, format)
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error is not a list of problems: %v", err)
			}
			return
		}
		if err := v.Validate(); err != nil {
			t.Fatalf("parsed version does not validate: %v", err)
		}
	})
}
