package ledger

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/money"
)

// Balance is the debit and credit totals of one account in one currency.
type Balance struct {
	Entity   string          `json:"entity"`
	Account  string          `json:"account"`
	Currency money.Currency  `json:"currency"`
	Debit    decimal.Decimal `json:"debit"`
	Credit   decimal.Decimal `json:"credit"`
}

// Net returns debits minus credits.
func (b Balance) Net() decimal.Decimal { return b.Debit.Sub(b.Credit) }

// BalanceQuery selects the entries a balance covers; empty fields do not filter.
type BalanceQuery struct {
	Entity     string
	FromPeriod string // inclusive, "YYYY-MM"
	ToPeriod   string // inclusive, "YYYY-MM"
	Account    string
}

// entryFilter returns the conditions on ledger entries e (and, with account, postings p) for the
// fields of bq that are set, numbering their parameters after args, and args with their values.
// Only set fields become conditions: "entity matches or the parameter is empty" would keep the cached
// generic plan of the prepared statement from using the (entity, period) index.
func (bq BalanceQuery) entryFilter(args []any, account bool) (string, []any) {
	cond := []string{"true"}
	add := func(expr string, v string) {
		if v != "" {
			args = append(args, v)
			cond = append(cond, fmt.Sprintf(expr, len(args)))
		}
	}
	add("e.entity = $%d", bq.Entity)
	add("e.period >= $%d", bq.FromPeriod)
	add("e.period <= $%d", bq.ToPeriod)
	if account {
		add("p.account = $%d", bq.Account)
	}
	return strings.Join(cond, " AND "), args
}

// Balances totals postings per entity, account and currency, ordered by those keys.
func Balances(ctx context.Context, q db.Querier, bq BalanceQuery) ([]Balance, error) {
	where, args := bq.entryFilter(nil, true)
	rows, err := q.Query(ctx, `
		SELECT e.entity, p.account, p.currency,
		       coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0)::text,
		       coalesce(-sum(p.amount) FILTER (WHERE p.amount < 0), 0)::text
		  FROM ledger_postings p JOIN ledger_entries e ON e.key = p.entry_key
		 WHERE `+where+`
		 GROUP BY e.entity, p.account, p.currency
		 ORDER BY e.entity, p.account, p.currency`, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: balances: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Balance, error) {
		var b Balance
		var cur, debit, credit string
		if err := r.Scan(&b.Entity, &b.Account, &cur, &debit, &credit); err != nil {
			return b, err
		}
		b.Currency = money.Currency(cur)
		var err error
		if b.Debit, err = decimal.NewFromString(debit); err != nil {
			return b, err
		}
		b.Credit, err = decimal.NewFromString(credit)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: balances: %w", err)
	}
	return out, nil
}

// TrialBalance is every account's cumulative balance of an entity through a period, with totals.
type TrialBalance struct {
	Entity   string                             `json:"entity"`
	Through  string                             `json:"through"`
	Accounts []Balance                          `json:"accounts"`
	Totals   map[money.Currency]decimal.Decimal `json:"totals"` // total debits per currency; credits are equal
}

// GetTrialBalance returns the entity's trial balance through the given period and checks that
// debits equal credits in every currency.
func GetTrialBalance(ctx context.Context, q db.Querier, entity, through string) (TrialBalance, error) {
	if _, err := ParsePeriod(through); err != nil {
		return TrialBalance{}, &InvalidError{What: "trial balance", Problems: []Problem{{Field: "through", Reason: err.Error()}}}
	}
	bs, err := Balances(ctx, q, BalanceQuery{Entity: entity, ToPeriod: through})
	if err != nil {
		return TrialBalance{}, err
	}
	tb := TrialBalance{Entity: entity, Through: through, Accounts: bs, Totals: map[money.Currency]decimal.Decimal{}}
	credits := map[money.Currency]decimal.Decimal{}
	for _, b := range bs {
		tb.Totals[b.Currency] = tb.Totals[b.Currency].Add(b.Debit)
		credits[b.Currency] = credits[b.Currency].Add(b.Credit)
	}
	for c, d := range tb.Totals {
		if !d.Equal(credits[c]) {
			return tb, fmt.Errorf("ledger: trial balance of %s through %s in %s: debits %s, credits %s", entity, through, c, d, credits[c])
		}
	}
	return tb, nil
}
