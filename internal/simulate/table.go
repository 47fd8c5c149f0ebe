package simulate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/rating"
)

// WriteJSON writes the result as indented JSON.
func WriteJSON(w io.Writer, r Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// WriteTable writes each invoice as a table, every line followed by its explanation, then the difference when
// proposed contracts were rated.
func WriteTable(w io.Writer, r Result) error {
	var b strings.Builder
	for i, inv := range r.Invoices {
		if i > 0 {
			b.WriteString("\n")
		}
		writeInvoice(&b, "Invoice", inv)
	}
	for _, inv := range r.Proposed {
		b.WriteString("\n")
		writeInvoice(&b, "Proposed invoice", inv)
	}
	if r.Diff != nil {
		b.WriteString("\n")
		writeDiff(&b, r.Diff)
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

func fixed(d decimal.Decimal, c money.Currency) string {
	n, err := c.MinorUnits()
	if err != nil {
		return d.String()
	}
	return d.StringFixed(n)
}

type table struct {
	rows  [][]string
	notes map[int]string // row index -> explanation printed under it
	right []bool
}

func (t *table) write(b *strings.Builder, indent string) {
	widths := make([]int, len(t.right))
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	for ri, r := range t.rows {
		var line strings.Builder
		line.WriteString(indent)
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-len(c))
			if t.right[i] {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteString("\n")
		if n, ok := t.notes[ri]; ok {
			b.WriteString(indent + "     " + n + "\n")
		}
	}
}

func writeInvoice(b *strings.Builder, title string, inv rating.Invoice) {
	fmt.Fprintf(b, "%s %s: customer %s, %s, period %s (end exclusive)\n", title, inv.ContractID, inv.Customer, inv.Currency, inv.Period)
	t := table{right: []bool{true, false, false, false, false, true, true, true}, notes: map[int]string{}}
	t.rows = append(t.rows, []string{"#", "kind", "component", "service period", "billed", "quantity", "unit price", "amount"})
	for i, l := range inv.Lines {
		up := ""
		if l.UnitPrice != nil {
			up = l.UnitPrice.String()
		}
		comp := l.Component
		if comp == "" {
			comp = lastPart(l.Key)
		}
		t.rows = append(t.rows, []string{fmt.Sprint(i + 1), string(l.Kind), comp, l.Period.String(), strings.TrimPrefix(string(l.Timing), "in_"), l.Quantity.String(), up, fixed(l.Amount, inv.Currency)})
		t.notes[len(t.rows)-1] = explain(l)
	}
	t.rows = append(t.rows, []string{"", "", "", "", "", "", "subtotal", fixed(inv.Subtotal, inv.Currency)})
	t.rows = append(t.rows, []string{"", "", "", "", "", "", "discounts", fixed(inv.Discounts, inv.Currency)})
	t.rows = append(t.rows, []string{"", "", "", "", "", "", "credits", fixed(inv.Credits, inv.Currency)})
	t.rows = append(t.rows, []string{"", "", "", "", "", "", "total", fixed(inv.Total, inv.Currency)})
	t.write(b, "  ")
	for _, l := range inv.CreditsAfter {
		fmt.Fprintf(b, "  credit balance carried: %s %s (expires %s)\n", l.Lot, fixed(l.Remaining, inv.Currency), orNever(l.ExpiresOn.String()))
	}
	for _, l := range inv.CreditsExpired {
		fmt.Fprintf(b, "  credit expired unused: %s %s (expired %s)\n", l.Lot, fixed(l.Remaining, inv.Currency), l.ExpiresOn)
	}
}

func orNever(s string) string {
	if s == "" {
		return "never"
	}
	return s
}

// explain renders a line's explanation on one line: clause, formula, proration and rounding.
func explain(l rating.Line) string {
	e := l.Explanation
	s := fmt.Sprintf("%s: %s", e.Clause, e.Formula)
	if e.FreeUnits != nil {
		s += fmt.Sprintf(" (metered %s, free %s)", e.Metered, e.FreeUnits)
	}
	if !e.Unrounded.Equal(l.Amount) {
		s += fmt.Sprintf(" = %s, rounded", e.Unrounded)
	}
	return s
}

func writeDiff(b *strings.Builder, d *Diff) {
	b.WriteString("Difference (proposed - current)\n")
	t := table{right: []bool{false, false, true, true, true}}
	t.rows = append(t.rows, []string{"customer", "line", "current", "proposed", "difference"})
	for _, l := range d.Lines {
		t.rows = append(t.rows, []string{l.Customer, l.Line, fixed(l.Current, l.Currency), fixed(l.Proposed, l.Currency), signed(l.Difference, l.Currency)})
	}
	for _, c := range d.Customers {
		t.rows = append(t.rows, []string{c.Customer, "total " + string(c.Currency), fixed(c.Current, c.Currency), fixed(c.Proposed, c.Currency), signed(c.Difference, c.Currency)})
	}
	for _, x := range d.Totals {
		t.rows = append(t.rows, []string{"all customers", "total " + string(x.Currency), fixed(x.Current, x.Currency), fixed(x.Proposed, x.Currency), signed(x.Difference, x.Currency)})
	}
	t.write(b, "  ")
}

func signed(d decimal.Decimal, c money.Currency) string {
	s := fixed(d, c)
	if d.IsPositive() {
		return "+" + s
	}
	return s
}
