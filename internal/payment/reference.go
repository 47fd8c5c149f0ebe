package payment

import (
	"regexp"
	"strings"

	"github.com/revhub/revhub/internal/invoice"
)

// Reference returns the ISO 11649 structured creditor reference of an invoice number, as printed
// on the invoice (invoice.PaymentReference: the one implementation).
func Reference(invoiceNumber string) (string, error) { return invoice.PaymentReference(invoiceNumber) }

// ValidReference reports whether ref, as stored (upper case, without spaces), is a well-formed RF
// reference with correct check digits.
func ValidReference(ref string) bool {
	return ref == strings.ToUpper(ref) && !strings.Contains(ref, " ") && invoice.CheckPaymentReference(ref)
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
