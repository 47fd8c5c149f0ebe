package invoice

import "testing"

func TestPaymentReference(t *testing.T) {
	// ISO 11649's published example: reference 539007547034 has check digits 18.
	ref, err := PaymentReference("5390 0754 7034")
	if err != nil || ref != "RF18539007547034" {
		t.Fatalf("PaymentReference = %q, %v; want RF18539007547034", ref, err)
	}
	ref, err = PaymentReference("INV-ACMEUS-000042")
	if err != nil {
		t.Fatal(err)
	}
	if ref[4:] != "INVACMEUS000042" || !CheckPaymentReference(ref) {
		t.Fatalf("PaymentReference = %q: body or check wrong", ref)
	}
	if !CheckPaymentReference("RF18 5390 0754 7034") {
		t.Error("spaced reference should check")
	}
	for _, bad := range []string{"RF19539007547034", "RF18539007547043", "XX18539007547034", "RF18", "RF18-5390"} {
		if CheckPaymentReference(bad) {
			t.Errorf("CheckPaymentReference(%q) = true, want false", bad)
		}
	}
	if _, err := PaymentReference("---"); err == nil {
		t.Error("no letters or digits: want error")
	}
	if _, err := PaymentReference("INV-ABCDEFGHIJ-0000000001"); err == nil {
		t.Error("longer than 21 letters and digits: want error")
	}
}
