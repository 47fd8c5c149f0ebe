package invoice

import (
	"fmt"
	"math/big"
	"strings"
)

// PaymentReference derives an ISO 11649 structured creditor reference ("RF" + two check digits +
// the invoice number's letters and digits) that a bank-transfer payer quotes so the payment can
// be matched to the invoice; a mistyped reference fails CheckPaymentReference.
func PaymentReference(number string) (string, error) {
	body := referenceBody(number)
	if body == "" || len(body) > 21 {
		return "", fmt.Errorf("payment reference: invoice number %q must hold 1-21 letters or digits", number)
	}
	check := 98 - mod97(body+"RF00")
	return fmt.Sprintf("RF%02d%s", check, body), nil
}

// CheckPaymentReference reports whether ref is a well-formed ISO 11649 reference with a valid check.
func CheckPaymentReference(ref string) bool {
	ref = strings.ToUpper(strings.ReplaceAll(ref, " ", ""))
	if len(ref) < 5 || len(ref) > 25 || !strings.HasPrefix(ref, "RF") {
		return false
	}
	if ref[2] < '0' || ref[2] > '9' || ref[3] < '0' || ref[3] > '9' {
		return false
	}
	body := ref[4:]
	if referenceBody(body) != body {
		return false
	}
	return mod97(body+ref[:4]) == 1
}

func referenceBody(number string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(number) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mod97 converts letters to numbers (A=10 ... Z=35) and returns the value modulo 97 (ISO 7064).
func mod97(s string) int64 {
	var digits strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			fmt.Fprintf(&digits, "%d", r-'A'+10)
		} else {
			digits.WriteRune(r)
		}
	}
	n, _ := new(big.Int).SetString(digits.String(), 10)
	return new(big.Int).Mod(n, big.NewInt(97)).Int64()
}
