package revrec

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// amountText formats an amount with exactly the currency's minor-unit decimals (1019.18, 12000.00, 500).
func amountText(v decimal.Decimal, cur money.Currency) string {
	n, err := cur.MinorUnits()
	if err != nil {
		return v.String()
	}
	return v.StringFixed(n)
}

func writeCSV(w io.Writer, what string, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write %s csv: %w", what, err)
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write %s csv: %w", what, err)
	}
	return nil
}

// WriteScheduleCSV writes schedule lines, one row per obligation and month.
func WriteScheduleCSV(w io.Writer, lines []Line) error {
	rows := make([][]string, 0, len(lines))
	for _, l := range lines {
		c := l.Currency
		rows = append(rows, []string{l.Month.String(), l.CustomerID, l.EntityID, l.ArrangementID, l.ObligationID, l.Product,
			string(l.Kind), string(c), amountText(l.Revenue, c), amountText(l.CatchUp, c), amountText(l.Breakage, c),
			amountText(l.Billed, c), amountText(l.Deferred, c), amountText(l.Unbilled, c)})
	}
	return writeCSV(w, "schedule", []string{"month", "customer_id", "entity_id", "arrangement_id", "obligation_id", "product",
		"kind", "currency", "revenue", "catch_up", "breakage", "billed", "deferred", "unbilled"}, rows)
}

// WriteWaterfallCSV writes a waterfall: one row per obligation, one column per month, then the total.
func WriteWaterfallCSV(w io.Writer, months []Month, rows []WaterfallRow) error {
	header := []string{"customer_id", "entity_id", "arrangement_id", "obligation_id", "product", "currency"}
	for _, m := range months {
		header = append(header, m.String())
	}
	header = append(header, "total")
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		rec := []string{r.CustomerID, r.EntityID, r.ArrangementID, r.ObligationID, r.Product, string(r.Currency)}
		for _, a := range r.Amounts {
			rec = append(rec, amountText(a, r.Currency))
		}
		out = append(out, append(rec, amountText(r.Total, r.Currency)))
	}
	return writeCSV(w, "waterfall", header, out)
}

// WriteRollForwardCSV writes the deferred-revenue roll-forward.
func WriteRollForwardCSV(w io.Writer, rows []RollForwardRow) error {
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		c := r.Currency
		out = append(out, []string{r.EntityID, string(c), r.Month.String(), amountText(r.OpeningDeferred, c),
			amountText(r.OpeningUnbilled, c), amountText(r.Billings, c), amountText(r.Revenue, c), amountText(r.Breakage, c),
			amountText(r.ClosingDeferred, c), amountText(r.ClosingUnbilled, c)})
	}
	return writeCSV(w, "roll-forward", []string{"entity_id", "currency", "month", "opening_deferred", "opening_unbilled",
		"billings", "revenue", "breakage", "closing_deferred", "closing_unbilled"}, out)
}

// WriteRecognizedCSV writes recognized revenue by a dimension.
func WriteRecognizedCSV(w io.Writer, d Dimension, rows []RecognizedRow) error {
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		c := r.Currency
		out = append(out, []string{r.Key, string(c), r.Month.String(), amountText(r.Revenue, c), amountText(r.Breakage, c),
			amountText(r.Total(), c)})
	}
	return writeCSV(w, "recognized revenue", []string{string(d), "currency", "month", "revenue", "breakage", "total"}, out)
}

// WriteJournalCSV writes suggested journal entries, one row per posting.
func WriteJournalCSV(w io.Writer, entries []JournalEntry) error {
	var out [][]string
	for _, e := range entries {
		for _, l := range e.Lines {
			debit, credit := "", ""
			if l.Side == Debit {
				debit = amountText(l.Amount, e.Currency)
			} else {
				credit = amountText(l.Amount, e.Currency)
			}
			out = append(out, []string{e.Key, e.Date.Format("2006-01-02"), e.EntityID, string(e.Kind), string(e.Currency),
				l.Account, debit, credit})
		}
	}
	return writeCSV(w, "journal", []string{"key", "date", "entity_id", "kind", "currency", "account", "debit", "credit"}, out)
}
