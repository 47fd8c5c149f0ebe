package payment

import "testing"

func TestReference(t *testing.T) {
	// ISO 11649's own example: RF18 5390 0754 7034.
	got, err := Reference("539007547034")
	if err != nil || got != "RF18539007547034" {
		t.Fatalf("Reference = %q, %v; want RF18539007547034", got, err)
	}
	if !ValidReference("RF18539007547034") || ValidReference("RF19539007547034") || ValidReference("RF18539007547035") {
		t.Fatal("check digits not verified")
	}
	ref, _ := Reference("INV-2026-000123")
	cases := []struct {
		text string
		want string
		ok   bool
	}{
		{"Payment " + ref + " thanks", ref, true},
		{"rf18 5390 0754 7034", "RF18539007547034", true},
		{"RF18 5390 0754 7034 ACME GMBH", "RF18539007547034", true},
		{"RF19 5390 0754 7034", "", false},
		{"invoice 123", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		got, ok := FindReference(c.text)
		if got != c.want || ok != c.ok {
			t.Errorf("FindReference(%q) = %q, %v; want %q, %v", c.text, got, ok, c.want, c.ok)
		}
	}
	if _, err := Reference("---"); err == nil {
		t.Error("empty invoice number accepted")
	}
	if _, err := Reference("1234567890123456789012"); err == nil {
		t.Error("22-character invoice number accepted")
	}
}
