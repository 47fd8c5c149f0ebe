package invoice

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/revhub/revhub/internal/money"
)

// MaxUnitPricePlaces is the most decimal places a unit price may carry.
const MaxUnitPricePlaces = 12

// MaxQuantityPlaces is the most decimal places a quantity may carry.
const MaxQuantityPlaces = 12

var (
	billingEntityPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$`)
	lineKindPattern      = regexp.MustCompile(`^[a-z][a-z_]{0,39}$`)
)

// Draft is the content of a new draft invoice; Key makes its creation idempotent.
type Draft struct {
	Key              string         `json:"key"`
	Kind             Kind           `json:"kind"`
	ContractID       string         `json:"contract_id,omitempty"`
	ContractVersion  int            `json:"contract_version,omitempty"`
	CustomerID       string         `json:"customer_id"`
	BillingEntity    string         `json:"billing_entity"`
	Currency         money.Currency `json:"currency"`
	PeriodStart      Date           `json:"period_start"`
	PeriodEnd        Date           `json:"period_end"`
	PaymentTermsDays int            `json:"payment_terms_days"`
	Memo             string         `json:"memo,omitempty"`
	Lines            []Line         `json:"lines"`
}

// Normalize returns d with the currency upper-cased, line numbers set from their positions and
// explanations compacted, the form that is validated, hashed and stored.
func (d Draft) Normalize() Draft {
	d.Currency = money.Currency(strings.ToUpper(strings.TrimSpace(string(d.Currency))))
	lines := make([]Line, len(d.Lines))
	for i, l := range d.Lines {
		if l.No == 0 {
			l.No = i + 1
		}
		if l.Kind == "" {
			l.Kind = LineKindCharge
			if l.Amount.IsNegative() {
				l.Kind = LineKindDiscount
			}
		}
		if len(l.Explanation) > 0 {
			var buf bytes.Buffer
			if err := json.Compact(&buf, l.Explanation); err == nil {
				l.Explanation = buf.Bytes()
			}
		}
		lines[i] = l
	}
	d.Lines = lines
	return d
}

// Validate reports every problem of a normalized draft at once, each naming its JSON path.
func (d Draft) Validate() error {
	var p problems
	if strings.TrimSpace(d.Key) == "" {
		p.add("key", "is required")
	} else if len(d.Key) > 200 {
		p.add("key", "must be at most 200 characters")
	}
	switch d.Kind {
	case KindCycle:
		if d.ContractID == "" {
			p.add("contract_id", "is required for a %s invoice", d.Kind)
		}
		if d.ContractVersion < 1 {
			p.add("contract_version", "must be at least 1 for a %s invoice", d.Kind)
		}
		if d.PeriodStart.IsZero() {
			p.add("period_start", "is required for a %s invoice", d.Kind)
		}
		if d.PeriodEnd.IsZero() {
			p.add("period_end", "is required for a %s invoice", d.Kind)
		}
	case KindOneOff:
		if d.ContractVersion < 0 {
			p.add("contract_version", "must not be negative")
		}
		if d.PeriodStart.IsZero() != d.PeriodEnd.IsZero() {
			p.add("period_end", "period_start and period_end must be given together")
		}
	default:
		p.add("kind", "must be %q or %q, got %q", KindCycle, KindOneOff, d.Kind)
	}
	if !d.PeriodStart.IsZero() && !d.PeriodEnd.IsZero() && !d.PeriodStart.Before(d.PeriodEnd) {
		p.add("period_end", "must be after period_start (%s), got %s", d.PeriodStart, d.PeriodEnd)
	}
	if strings.TrimSpace(d.CustomerID) == "" {
		p.add("customer_id", "is required")
	}
	if !billingEntityPattern.MatchString(d.BillingEntity) {
		p.add("billing_entity", "must be 1-40 letters, digits, '-' or '_', starting with a letter or digit")
	}
	curOK := d.Currency.Valid()
	if !curOK {
		p.add("currency", "%q is not a supported ISO 4217 currency", d.Currency)
	}
	if d.PaymentTermsDays < 0 || d.PaymentTermsDays > 365 {
		p.add("payment_terms_days", "must be between 0 and 365, got %d", d.PaymentTermsDays)
	}
	if len(d.Memo) > 2000 {
		p.add("memo", "must be at most 2000 characters")
	}
	if len(d.Lines) == 0 {
		p.add("lines", "at least one line is required (a zero-amount line explains a zero invoice)")
	}
	for i, l := range d.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		if l.No != i+1 {
			p.add(f+".no", "must be %d (its position) or omitted, got %d", i+1, l.No)
		}
		if strings.TrimSpace(l.Product) == "" {
			p.add(f+".product", "is required")
		}
		if strings.TrimSpace(l.Description) == "" {
			p.add(f+".description", "is required")
		}
		if !lineKindPattern.MatchString(l.Kind) {
			p.add(f+".kind", "must be 1-40 lower-case letters or '_', got %q", l.Kind)
		} else if l.Reduces() && l.Amount.IsPositive() {
			p.add(f+".amount", "a %s line must not be positive, got %s", l.Kind, l.Amount)
		}
		if l.PeriodStart.IsZero() != l.PeriodEnd.IsZero() {
			p.add(f+".period_end", "period_start and period_end must be given together")
		} else if !l.PeriodStart.IsZero() && !l.PeriodStart.Before(l.PeriodEnd) {
			p.add(f+".period_end", "must be after period_start (%s), got %s", l.PeriodStart, l.PeriodEnd)
		}
		if !l.Quantity.Equal(l.Quantity.Round(MaxQuantityPlaces)) {
			p.add(f+".quantity", "must have at most %d decimal places, got %s", MaxQuantityPlaces, l.Quantity)
		}
		if l.UnitPrice != nil && !l.UnitPrice.Equal(l.UnitPrice.Round(MaxUnitPricePlaces)) {
			p.add(f+".unit_price", "must have at most %d decimal places, got %s", MaxUnitPricePlaces, l.UnitPrice)
		}
		if curOK && !money.IsRounded(l.Amount, d.Currency) {
			p.add(f+".amount", "%s is not rounded to the minor unit of %s", l.Amount, d.Currency)
		}
		if len(l.Explanation) > 0 && !json.Valid(l.Explanation) {
			p.add(f+".explanation", "is not valid JSON")
		}
	}
	if len(p) == 0 && ComputeTotals(d.Lines).Total.IsNegative() {
		p.add("lines", "the total %s is negative: an invoice cannot be negative, issue a credit note instead", ComputeTotals(d.Lines).Total)
	}
	return p.err("draft")
}

// hash is the SHA-256 of the normalized draft, compared on a retry with the same key.
func (d Draft) hash() ([]byte, error) {
	b, err := json.Marshal(d.Normalize())
	if err != nil {
		return nil, fmt.Errorf("invoice: hash draft %q: %w", d.Key, err)
	}
	h := sha256.Sum256(b)
	return h[:], nil
}
