package invoice

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

//go:embed templates/invoice.html
var templates embed.FS

// Party is a seller or buyer as printed on an invoice.
type Party struct {
	Name    string   `json:"name"`
	Address []string `json:"address,omitempty"` // printed one item per line
	TaxID   string   `json:"tax_id,omitempty"`
	Email   string   `json:"email,omitempty"`
}

// BankAccount is where the billing entity receives bank transfers.
type BankAccount struct {
	AccountHolder string `json:"account_holder"`
	BankName      string `json:"bank_name,omitempty"`
	IBAN          string `json:"iban,omitempty"`
	BIC           string `json:"bic,omitempty"`
	AccountNumber string `json:"account_number,omitempty"` // where IBANs are not used, e.g. the US
	RoutingNumber string `json:"routing_number,omitempty"`
}

// Document is everything printed on a rendered invoice: the invoice, who bills whom, where to pay,
// and the credit notes issued against it.
type Document struct {
	Invoice     Invoice
	Seller      Party
	Buyer       Party
	Bank        *BankAccount // nil when the invoice is not paid by bank transfer
	CreditNotes []CreditNote
}

// explanation is the part of a line's explanation JSON that the rendered invoice shows; it reads
// both the rating engine's explanations (see LinesFromRating) and hand-written ones.
type explanation struct {
	ContractVersion int              `json:"contract_version"`
	Clause          string           `json:"clause"`
	Model           string           `json:"model"`
	Metered         *decimal.Decimal `json:"metered"`
	FreeUnits       *decimal.Decimal `json:"free_units"`
	Tiers           []struct {
		Tier      int              `json:"tier"`
		From      decimal.Decimal  `json:"from"`
		UpTo      *decimal.Decimal `json:"up_to"`
		Units     decimal.Decimal  `json:"units"`
		UnitPrice decimal.Decimal  `json:"unit_price"`
		FlatFee   decimal.Decimal  `json:"flat_fee"`
		Amount    decimal.Decimal  `json:"amount"`
	} `json:"tiers"`
	Proration *struct {
		Days       int `json:"days"`
		PeriodDays int `json:"period_days"`
	} `json:"proration"`
	Formula   string           `json:"formula"`
	Unrounded *decimal.Decimal `json:"unrounded"`
	Rounding  string           `json:"rounding"`
}

// explain turns a line's explanation JSON into printable sentences, most specific first.
func explain(l Line, cur money.Currency) []string {
	if len(l.Explanation) == 0 {
		return nil
	}
	var e explanation
	if err := json.Unmarshal(l.Explanation, &e); err != nil {
		return nil
	}
	var out []string
	var src []string
	if e.ContractVersion > 0 {
		src = append(src, fmt.Sprintf("contract version %d", e.ContractVersion))
	}
	if e.Clause != "" {
		src = append(src, "clause "+e.Clause)
	}
	if e.Model != "" {
		src = append(src, e.Model+" pricing")
	}
	if len(src) > 0 {
		out = append(out, "Per "+strings.Join(src, ", ")+".")
	}
	if e.Metered != nil {
		s := "Metered " + e.Metered.String()
		if e.FreeUnits != nil && e.FreeUnits.IsPositive() {
			s += ", of which " + e.FreeUnits.String() + " free"
		}
		out = append(out, s+".")
	}
	for _, t := range e.Tiers {
		upTo := "and above"
		if t.UpTo != nil {
			upTo = "to " + t.UpTo.String()
		}
		s := fmt.Sprintf("Tier %d (%s %s): %s x %s", t.Tier+1, t.From, upTo, t.Units, t.UnitPrice)
		if !t.FlatFee.IsZero() {
			s += " + " + t.FlatFee.String()
		}
		out = append(out, s+" = "+t.Amount.String()+".")
	}
	if e.Proration != nil {
		out = append(out, fmt.Sprintf("Prorated for %d of %d days.", e.Proration.Days, e.Proration.PeriodDays))
	}
	if e.Formula != "" {
		s := "Computed as " + e.Formula
		if f, err := decimal.NewFromString(e.Formula); e.Unrounded != nil && (err != nil || !f.Equal(*e.Unrounded)) {
			s += " = " + e.Unrounded.String()
		}
		out = append(out, s+".")
	}
	if e.Rounding != "" {
		out = append(out, fmt.Sprintf("Rounded %s: %s.", e.Rounding, FormatAmount(l.Amount, cur)))
	}
	return out
}

// FormatAmount prints an amount at its currency's minor unit with thousands separators, e.g. 1,015.24.
func FormatAmount(d decimal.Decimal, cur money.Currency) string {
	places, err := cur.MinorUnits()
	if err != nil {
		return d.String()
	}
	s := d.StringFixed(places)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}

// FormatUnitPrice prints a unit price exactly, padded to at least the currency's minor unit
// (1000 USD as 1000.00, 0.000002 as is).
func FormatUnitPrice(d decimal.Decimal, cur money.Currency) string {
	places, err := cur.MinorUnits()
	if err != nil || -d.Exponent() > places {
		return d.String()
	}
	return d.StringFixed(places)
}

// statusLabel is how a status reads on the document.
func statusLabel(s Status) string {
	switch s {
	case StatusPartiallyPaid:
		return "Partially paid"
	case StatusUncollectible:
		return "Uncollectible"
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// title is the document heading: a draft has no number yet and must not be mistaken for a bill.
func (d Document) title() string {
	if d.Invoice.Number == "" {
		return "DRAFT invoice (not a demand for payment)"
	}
	return "Invoice " + d.Invoice.Number
}

var htmlTemplate = template.Must(template.New("invoice.html").Funcs(template.FuncMap{
	"amount":  func(d decimal.Decimal, c money.Currency) string { return FormatAmount(d, c) },
	"unit":    func(d decimal.Decimal, c money.Currency) string { return FormatUnitPrice(d, c) },
	"explain": explain,
	"status":  statusLabel,
	"title":   Document.title,
}).ParseFS(templates, "templates/invoice.html"))

// RenderHTML writes the invoice as a self-contained HTML page (inline CSS, no scripts).
func RenderHTML(w io.Writer, doc Document) error {
	if err := htmlTemplate.Execute(w, doc); err != nil {
		return fmt.Errorf("invoice: render %s as HTML: %w", doc.Invoice.ID, err)
	}
	return nil
}
