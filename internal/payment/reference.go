package payment

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// Reference returns the ISO 11649 structured creditor reference ("RF" + 2 check digits + up to 21
// alphanumerics) for an invoice number, printed on the invoice as remittance information and used
// to match bank transfers. Characters other than letters and digits are dropped.
func Reference(invoiceNumber string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToUpper(invoiceNumber) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	body := b.String()
	if body == "" || len(body) > 21 {
		return "", fmt.Errorf("reference: invoice number %q: needs 1 to 21 letters or digits, has %d", invoiceNumber, len(body))
	}
	check := 98 - mod97(body+"RF00")
	return fmt.Sprintf("RF%02d%s", check, body), nil
}

// ValidReference reports whether ref (without spaces, upper case) is a well-formed RF reference
// with correct check digits.
func ValidReference(ref string) bool {
	if len(ref) < 5 || len(ref) > 25 || !strings.HasPrefix(ref, "RF") {
		return false
	}
	for _, r := range ref[2:] {
		if !((r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	if ref[2] < '0' || ref[2] > '9' || ref[3] < '0' || ref[3] > '9' {
		return false
	}
	return mod97(ref[4:]+ref[:4]) == 1
}

var refPattern = regexp.MustCompile(`RF\s?[0-9]{2}(?:\s?[A-Z0-9]){1,21}`)

// FindReference finds the first valid RF reference in free remittance text (spaces inside the
// reference, as banks print it in groups of four, are allowed), returned without spaces.
func FindReference(text string) (string, bool) {
	up := strings.ToUpper(text)
	for _, m := range refPattern.FindAllString(up, -1) {
		cand := strings.ReplaceAll(m, " ", "")
		// The match may swallow following words; try the longest valid prefix.
		for n := len(cand); n >= 5; n-- {
			if ValidReference(cand[:n]) {
				return cand[:n], true
			}
		}
	}
	return "", false
}

// mod97 computes the ISO 7064 MOD 97-10 remainder of s with letters as 10..35.
func mod97(s string) int {
	var digits strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			fmt.Fprintf(&digits, "%d", r-'A'+10)
		} else {
			digits.WriteRune(r)
		}
	}
	n, _ := new(big.Int).SetString(digits.String(), 10)
	return int(new(big.Int).Mod(n, big.NewInt(97)).Int64())
}
