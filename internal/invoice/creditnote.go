package invoice

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// CreditNote reduces what a finalized invoice charged, in full or per line; it is numbered in
// its own gap-free series per billing entity and never changes once issued.
type CreditNote struct {
	ID            string           `json:"id"`
	Key           string           `json:"key"`
	InvoiceID     string           `json:"invoice_id"`
	BillingEntity string           `json:"billing_entity"`
	Number        string           `json:"number"`
	Currency      money.Currency   `json:"currency"`
	Reason        string           `json:"reason"`
	Full          bool             `json:"full"`
	IssueDate     Date             `json:"issue_date"`
	Lines         []CreditNoteLine `json:"lines"`
	Total         decimal.Decimal  `json:"total"`
	AppliedToDue  decimal.Decimal  `json:"applied_to_due"` // the part that reduced the invoice's amount due
	Excess        decimal.Decimal  `json:"excess"`         // the part beyond the amount due, owed back to the customer
	CreatedAt     time.Time        `json:"created_at"`
}

// CreditNoteLine credits part or all of one invoice line.
type CreditNoteLine struct {
	No            int             `json:"no"`
	InvoiceLineNo int             `json:"invoice_line_no"`
	Description   string          `json:"description"`
	Amount        decimal.Decimal `json:"amount"`
}

// CreditNoteRequest asks for a credit note: Full credits everything still creditable, otherwise
// Lines name the invoice lines and amounts. Key makes issuing it idempotent.
type CreditNoteRequest struct {
	Key       string              `json:"key"`
	InvoiceID string              `json:"invoice_id"`
	Reason    string              `json:"reason"`
	Full      bool                `json:"full"`
	Lines     []CreditLineRequest `json:"lines,omitempty"`
	IssueDate Date                `json:"issue_date"`
}

// CreditLineRequest credits Amount of the invoice line numbered InvoiceLineNo.
type CreditLineRequest struct {
	InvoiceLineNo int             `json:"invoice_line_no"`
	Amount        decimal.Decimal `json:"amount"`
	Description   string          `json:"description,omitempty"` // defaults to "Credit: " + the line's description
}

// Validate reports the request's shape problems at once; PlanCreditNote checks it against the invoice.
func (r CreditNoteRequest) Validate() error {
	var p problems
	if strings.TrimSpace(r.Key) == "" {
		p.add("key", "is required")
	} else if len(r.Key) > 200 {
		p.add("key", "must be at most 200 characters")
	}
	if strings.TrimSpace(r.InvoiceID) == "" {
		p.add("invoice_id", "is required")
	}
	if strings.TrimSpace(r.Reason) == "" {
		p.add("reason", "is required")
	}
	if r.IssueDate.IsZero() {
		p.add("issue_date", "is required")
	}
	if r.Full && len(r.Lines) > 0 {
		p.add("lines", "must be empty for a full credit note")
	}
	if !r.Full && len(r.Lines) == 0 {
		p.add("lines", "at least one line is required unless full is true")
	}
	for i, l := range r.Lines {
		if !l.Amount.IsPositive() {
			p.add(fmt.Sprintf("lines[%d].amount", i), "must be positive, got %s", l.Amount)
		}
	}
	return p.err("credit note")
}

func (r CreditNoteRequest) hash() []byte {
	b, _ := json.Marshal(r) // a struct of strings, ints, bools and decimals always marshals
	h := sha256.Sum256(b)
	return h[:]
}

// PlanCreditNote computes the credit note lines and total for inv, given what each invoice line
// already had credited (by line number). It refuses crediting more than is left creditable on a
// line or on the invoice, and names every offending line at once.
func PlanCreditNote(inv Invoice, credited map[int]decimal.Decimal, r CreditNoteRequest) ([]CreditNoteLine, decimal.Decimal, error) {
	switch inv.Status {
	case StatusFinalized, StatusPartiallyPaid, StatusPaid, StatusUncollectible:
	default:
		return nil, decimal.Zero, &TransitionError{Action: ActionCredit, From: inv.Status}
	}
	byNo := make(map[int]Line, len(inv.Lines))
	for _, l := range inv.Lines {
		byNo[l.No] = l
	}
	left := inv.Total.Sub(inv.AmountCredited)
	var out []CreditNoteLine
	total := decimal.Zero
	if r.Full {
		for _, l := range inv.Lines {
			rest := l.Amount.Sub(credited[l.No])
			if rest.IsZero() {
				continue
			}
			out = append(out, CreditNoteLine{No: len(out) + 1, InvoiceLineNo: l.No, Description: "Credit: " + l.Description, Amount: rest})
			total = total.Add(rest)
		}
		if !total.IsPositive() {
			return nil, decimal.Zero, &RuleError{Field: "full", Reason: fmt.Sprintf("invoice %s has nothing left to credit", inv.Number)}
		}
		return out, total, nil
	}
	var p problems
	asked := map[int]decimal.Decimal{}
	for i, rl := range r.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		l, ok := byNo[rl.InvoiceLineNo]
		if !ok {
			p.add(f+".invoice_line_no", "invoice %s has no line %d", inv.Number, rl.InvoiceLineNo)
			continue
		}
		if !l.Amount.IsPositive() {
			p.add(f+".invoice_line_no", "line %d is a discount or zero line (%s) and cannot be credited on its own", l.No, l.Amount)
			continue
		}
		if !money.IsRounded(rl.Amount, inv.Currency) {
			p.add(f+".amount", "%s is not rounded to the minor unit of %s", rl.Amount, inv.Currency)
			continue
		}
		asked[l.No] = asked[l.No].Add(rl.Amount)
		if rest := l.Amount.Sub(credited[l.No]); asked[l.No].GreaterThan(rest) {
			p.add(f+".amount", "%s exceeds what is left creditable on line %d: %s of %s", asked[l.No], l.No, rest, l.Amount)
			continue
		}
		desc := rl.Description
		if strings.TrimSpace(desc) == "" {
			desc = "Credit: " + l.Description
		}
		out = append(out, CreditNoteLine{No: len(out) + 1, InvoiceLineNo: l.No, Description: desc, Amount: rl.Amount})
		total = total.Add(rl.Amount)
	}
	if len(p) == 0 && total.GreaterThan(left) {
		p.add("lines", "the credit %s exceeds what is left creditable on invoice %s: %s", total, inv.Number, left)
	}
	if err := p.err("credit note"); err != nil {
		return nil, decimal.Zero, err
	}
	return out, total, nil
}
