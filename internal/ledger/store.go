package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/money"
)

// Result is the outcome of posting: the stored entry and whether this call created it.
type Result struct {
	Entry   Entry
	Created bool // false when an identical entry with the same key was already posted
}

// SyncChart stores the chart's accounts (new ones inserted, names and types of existing ones updated).
func SyncChart(ctx context.Context, q db.Querier, ch *Chart) error {
	for _, a := range ch.Accounts {
		_, err := q.Exec(ctx, `INSERT INTO ledger_accounts (code, name, type) VALUES ($1, $2, $3)
			ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, type = EXCLUDED.type`, a.Code, a.Name, string(a.Type))
		if err != nil {
			return fmt.Errorf("ledger: store account %s: %w", a.Code, err)
		}
	}
	return nil
}

// Post stores e once. Posting the same key with the same content again is a no-op returning the
// stored entry; the same key with different content is ErrConflict. An entry dated in a closed
// period is ErrPeriodClosed (see PostLate). Pass a pool or a transaction: the entry and its
// postings are one statement, and PostgreSQL checks the balance at commit.
func Post(ctx context.Context, q db.Querier, ch *Chart, e Entry) (Result, error) {
	e.Date = civil(e.Date)
	if err := e.Validate(ch); err != nil {
		return Result{}, err
	}
	return post(ctx, q, e, e.ContentHash())
}

// PostLate posts a late effect: when e's period is closed for its entity, the entry is dated on the
// first day of the next open period and OriginalPeriod records where it belonged. Retries are
// recognised by e's content as given, so a retry after a close is still a no-op.
func PostLate(ctx context.Context, q db.Querier, ch *Chart, e Entry) (Result, error) {
	e.Date = civil(e.Date)
	if err := e.Validate(ch); err != nil {
		return Result{}, err
	}
	hash := e.ContentHash()
	for attempt := 0; ; attempt++ {
		if res, found, err := existing(ctx, q, e.Key, hash); found || err != nil {
			return res, err
		}
		routed, err := routeToOpenPeriod(ctx, q, e)
		if err != nil {
			return Result{}, err
		}
		res, err := post(ctx, q, routed, hash)
		if errors.Is(err, ErrPeriodClosed) && attempt < 3 {
			continue // the period closed between the look-up and the insert
		}
		return res, err
	}
}

// routeToOpenPeriod moves e to the first open period at or after its own.
func routeToOpenPeriod(ctx context.Context, q db.Querier, e Entry) (Entry, error) {
	rows, err := q.Query(ctx, `SELECT period FROM ledger_periods WHERE entity = $1 AND period >= $2 AND status = 'closed'`,
		e.Entity, e.Period())
	if err != nil {
		return Entry{}, fmt.Errorf("ledger: closed periods of %s: %w", e.Entity, err)
	}
	closed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return Entry{}, fmt.Errorf("ledger: closed periods of %s: %w", e.Entity, err)
	}
	isClosed := map[string]bool{}
	for _, p := range closed {
		isClosed[p] = true
	}
	p := e.Period()
	if !isClosed[p] {
		return e, nil
	}
	for isClosed[p] {
		if p, err = NextPeriod(p); err != nil {
			return Entry{}, err
		}
	}
	first, _ := ParsePeriod(p)
	if e.OriginalPeriod == "" {
		e.OriginalPeriod = e.Period()
	}
	e.Date = first
	return e, nil
}

// existing looks e's key up: found with the stored entry when the hash matches, ErrConflict when not.
func existing(ctx context.Context, q db.Querier, key string, hash []byte) (Result, bool, error) {
	var stored []byte
	err := q.QueryRow(ctx, `SELECT content_hash FROM ledger_entries WHERE key = $1`, key).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, fmt.Errorf("ledger: look up entry %s: %w", key, err)
	}
	if !bytes.Equal(stored, hash) {
		return Result{}, true, fmt.Errorf("entry %s: %w", key, ErrConflict)
	}
	e, err := GetEntry(ctx, q, key)
	if err != nil {
		return Result{}, true, err
	}
	return Result{Entry: e}, true, nil
}

func post(ctx context.Context, q db.Querier, e Entry, hash []byte) (Result, error) {
	// A BEFORE INSERT trigger guards closed periods, so an existing key is checked first: a repeat
	// of an entry whose period has since closed is still a no-op.
	if res, found, err := existing(ctx, q, e.Key, hash); found || err != nil {
		return res, err
	}
	n := len(e.Postings)
	lines := make([]int32, n)
	accounts, amounts, currencies := make([]string, n), make([]string, n), make([]string, n)
	customers, products, contracts, memos := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, p := range e.Postings {
		lines[i] = int32(i)
		accounts[i], amounts[i], currencies[i] = p.Account, p.Signed().String(), string(p.Currency)
		customers[i], products[i], contracts[i], memos[i] = p.Customer, p.Product, p.Contract, p.Memo
	}
	// Inside a caller's transaction the insert runs under a savepoint, so a refusal (closed period)
	// leaves the caller's transaction usable.
	exec := q
	var sp pgx.Tx
	if tx, ok := q.(pgx.Tx); ok {
		var err error
		if sp, err = tx.Begin(ctx); err != nil {
			return Result{}, fmt.Errorf("ledger: post %s: savepoint: %w", e.Key, err)
		}
		exec = sp
	}
	tag, err := exec.Exec(ctx, `
		WITH e AS (
			INSERT INTO ledger_entries (key, entity, entry_date, period, memo, reverses, original_period, content_hash)
			VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), NULLIF($7, ''), $8)
			ON CONFLICT (key) DO NOTHING
			RETURNING key)
		INSERT INTO ledger_postings (entry_key, line, account, amount, currency, customer, product, contract, memo)
		SELECT e.key, p.line, p.account, p.amount::numeric, p.currency, p.customer, p.product, p.contract, p.memo
		  FROM e, unnest($9::int[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
		       AS p(line, account, amount, currency, customer, product, contract, memo)`,
		e.Key, e.Entity, e.Date, e.Period(), e.Memo, e.Reverses, e.OriginalPeriod, hash,
		lines, accounts, amounts, currencies, customers, products, contracts, memos)
	if err != nil {
		if sp != nil {
			_ = sp.Rollback(ctx)
		}
		return Result{}, fmt.Errorf("ledger: post %s: %w", e.Key, classify(err))
	}
	if sp != nil {
		if err := sp.Commit(ctx); err != nil {
			return Result{}, fmt.Errorf("ledger: post %s: release savepoint: %w", e.Key, err)
		}
	}
	if tag.RowsAffected() == 0 { // a concurrent poster won the key
		res, found, err := existing(ctx, q, e.Key, hash)
		if err == nil && !found {
			err = fmt.Errorf("ledger: post %s: inserted nothing", e.Key)
		}
		return res, err
	}
	e.CreatedAt = time.Now()
	return Result{Entry: e, Created: true}, nil
}

// classify maps the ledger's database refusals to sentinel errors, keeping the database error.
func classify(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.ConstraintName {
	case "ledger_period_open":
		return fmt.Errorf("%w: %s", ErrPeriodClosed, pgErr.Message)
	case "ledger_entry_balanced":
		return fmt.Errorf("%w: %s", ErrUnbalanced, pgErr.Message)
	}
	return err
}

// Reverse posts reversal:{key}, the original's postings with sides swapped, dated on date (or the
// next open period when date's period is closed). Repeating it with the same date and reason is a no-op.
func Reverse(ctx context.Context, q db.Querier, key string, date time.Time, reason string) (Result, error) {
	orig, err := GetEntry(ctx, q, key)
	if err != nil {
		return Result{}, err
	}
	r, err := Reversal(orig, date, reason)
	if err != nil {
		return Result{}, err
	}
	return PostLate(ctx, q, nil, r)
}

// GetEntry loads one entry with its postings.
func GetEntry(ctx context.Context, q db.Querier, key string) (Entry, error) {
	es, err := loadEntries(ctx, q, `WHERE e.key = $1`, key)
	if err != nil {
		return Entry{}, err
	}
	if len(es) == 0 {
		return Entry{}, fmt.Errorf("entry %s: %w", key, ErrNotFound)
	}
	return es[0], nil
}

// loadEntries loads the entries matching where (over alias e), ordered by creation, with postings.
func loadEntries(ctx context.Context, q db.Querier, where string, args ...any) ([]Entry, error) {
	rows, err := q.Query(ctx, `
		SELECT e.key, e.entity, e.entry_date, e.memo, coalesce(e.reverses, ''), coalesce(e.original_period, ''), e.created_at,
		       p.account, p.amount::text, p.currency, p.customer, p.product, p.contract, p.memo
		  FROM (SELECT * FROM ledger_entries e `+where+`) e
		  JOIN ledger_postings p ON p.entry_key = e.key
		 ORDER BY e.created_at, e.key, p.line`, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: load entries: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var p Posting
		var amount, currency string
		if err := rows.Scan(&e.Key, &e.Entity, &e.Date, &e.Memo, &e.Reverses, &e.OriginalPeriod, &e.CreatedAt,
			&p.Account, &amount, &currency, &p.Customer, &p.Product, &p.Contract, &p.Memo); err != nil {
			return nil, fmt.Errorf("ledger: scan entry: %w", err)
		}
		signed, err := decimal.NewFromString(amount)
		if err != nil {
			return nil, fmt.Errorf("ledger: entry %s: amount %q: %w", e.Key, amount, err)
		}
		p.Currency, p.Side, p.Amount = money.Currency(currency), Debit, signed
		if signed.IsNegative() {
			p.Side, p.Amount = Credit, signed.Neg()
		}
		if len(out) == 0 || out[len(out)-1].Key != e.Key {
			e.Date = civil(e.Date)
			out = append(out, e)
		}
		last := &out[len(out)-1]
		last.Postings = append(last.Postings, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: load entries: %w", err)
	}
	return out, nil
}

// Entries lists the entries of an entity and period range (empty fields do not filter), oldest first.
func Entries(ctx context.Context, q db.Querier, bq BalanceQuery) ([]Entry, error) {
	where, args := bq.entryFilter(nil, false)
	return loadEntries(ctx, q, `WHERE `+where, args...)
}
