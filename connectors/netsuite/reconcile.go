package netsuite

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// AccountingPeriod is a NetSuite posting period (a month; quarters and years are left out).
type AccountingPeriod struct {
	ID     string
	Name   string // "Nov 2026"
	Month  string // "2026-11", parsed from Name
	Closed bool
}

// PeriodsQuery lists the monthly accounting periods.
const PeriodsQuery = `SELECT id, periodname, closed FROM accountingperiod WHERE isquarter = 'F' AND isyear = 'F' ORDER BY id`

// AccountingPeriods reads the monthly periods; names must be NetSuite's default "Mon YYYY".
func (c *Client) AccountingPeriods(ctx context.Context) ([]AccountingPeriod, error) {
	rows, err := c.SuiteQLAll(ctx, PeriodsQuery)
	if err != nil {
		return nil, err
	}
	out := make([]AccountingPeriod, 0, len(rows))
	for _, r := range rows {
		t, err := time.Parse("Jan 2006", r["periodname"])
		if err != nil {
			return nil, fmt.Errorf("netsuite: accounting period %s: name %q is not \"Mon YYYY\"", r["id"], r["periodname"])
		}
		out = append(out, AccountingPeriod{ID: r["id"], Name: r["periodname"], Month: t.Format("2006-01"), Closed: r["closed"] == "T"})
	}
	return out, nil
}

// LineTotal is a sum of journal lines in one group; fields outside the grouping are empty.
type LineTotal struct {
	ExternalID string // per-entry totals only
	InternalID string // per-entry totals only
	PeriodID   string
	Subsidiary string
	Account    string
	Currency   string
	Debit      decimal.Decimal
	Credit     decimal.Decimal
	Lines      int
}

var digits = regexp.MustCompile(`^[0-9]+$`)

// EntryTotalsQuery sums revhub's journal lines of one period per entry and account, so a
// difference names the entry.
func EntryTotalsQuery(periodID string) string {
	return `SELECT t.externalid AS externalid, t.id AS id, t.postingperiod AS period, t.currency AS currency, ` +
		`tl.subsidiary AS subsidiary, tl.expenseaccount AS account, SUM(tl.debitforeignamount) AS debit, ` +
		`SUM(tl.creditforeignamount) AS credit, COUNT(*) AS lines ` +
		`FROM transaction t INNER JOIN transactionline tl ON tl.transaction = t.id ` +
		`WHERE t.recordtype = 'journalentry' AND t.externalid LIKE 'rh%' AND t.postingperiod = '` + periodID + `' ` +
		`GROUP BY t.externalid, t.id, t.postingperiod, t.currency, tl.subsidiary, tl.expenseaccount ` +
		`ORDER BY t.externalid, t.id, tl.subsidiary, tl.expenseaccount`
}

// PeriodTotalsQuery sums revhub's journal lines of one period per subsidiary, account and currency.
func PeriodTotalsQuery(periodID string) string {
	return `SELECT t.postingperiod AS period, tl.subsidiary AS subsidiary, tl.expenseaccount AS account, t.currency AS currency, ` +
		`SUM(tl.debitforeignamount) AS debit, SUM(tl.creditforeignamount) AS credit, COUNT(*) AS lines ` +
		`FROM transaction t INNER JOIN transactionline tl ON tl.transaction = t.id ` +
		`WHERE t.recordtype = 'journalentry' AND t.externalid LIKE 'rh%' AND t.postingperiod = '` + periodID + `' ` +
		`GROUP BY t.postingperiod, tl.subsidiary, tl.expenseaccount, t.currency ` +
		`ORDER BY tl.subsidiary, tl.expenseaccount, t.currency`
}

// EntryTotals returns, for one accounting period, each revhub journal entry's totals per account.
func (c *Client) EntryTotals(ctx context.Context, periodID string) ([]LineTotal, error) {
	return c.totals(ctx, periodID, EntryTotalsQuery)
}

// PeriodTotals returns one accounting period's revhub journal totals per subsidiary, account and currency.
func (c *Client) PeriodTotals(ctx context.Context, periodID string) ([]LineTotal, error) {
	return c.totals(ctx, periodID, PeriodTotalsQuery)
}

func (c *Client) totals(ctx context.Context, periodID string, query func(string) string) ([]LineTotal, error) {
	if !digits.MatchString(periodID) {
		return nil, fmt.Errorf("netsuite: period id %q: must be a numeric internal id", periodID)
	}
	rows, err := c.SuiteQLAll(ctx, query(periodID))
	if err != nil {
		return nil, err
	}
	out := make([]LineTotal, 0, len(rows))
	for _, r := range rows {
		t := LineTotal{ExternalID: r["externalid"], InternalID: r["id"], PeriodID: r["period"], Subsidiary: r["subsidiary"],
			Account: r["account"], Currency: r["currency"]}
		if t.Debit, err = decimalOrZero(r["debit"]); err == nil {
			t.Credit, err = decimalOrZero(r["credit"])
		}
		if err == nil {
			t.Lines, err = strconv.Atoi(r["lines"])
		}
		if err != nil {
			return nil, fmt.Errorf("netsuite: totals row %v: %w", r, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func decimalOrZero(s string) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Zero, nil
	}
	return decimal.NewFromString(s)
}
