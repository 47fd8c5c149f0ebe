package revrec

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/money"
)

// Run is one stored computation of an arrangement's schedule.
type Run struct {
	ID            string
	ArrangementID string
	Seq           int
	InputHash     []byte
	ClosedThrough Month // months up to this one were closed and left unchanged (zero: none)
	Versions      []VersionResult
	LineCount     int
	ComputedAt    time.Time
}

// ErrClosedMonthChanged means a new schedule would change a month that is already closed.
var ErrClosedMonthChanged = errors.New("revrec: schedule changes a closed month")

// InputHash is the SHA-256 of everything a schedule is computed from: the arrangement and the SSP table.
func InputHash(a Arrangement, t *SSPTable) ([]byte, error) {
	b, err := json.Marshal(struct {
		A Arrangement
		T *SSPTable
	}{a, t})
	if err != nil {
		return nil, fmt.Errorf("revrec: hash input of %s: %w", a.ID, err)
	}
	h := sha256.Sum256(b)
	return h[:], nil
}

// SaveSchedule stores a schedule as the arrangement's current one, atomically (in a transaction, or a
// savepoint when q is one). When the latest run has the same input hash it does nothing and returns that
// run with created false: a retry of the same computation. Months up to closedThrough must be unchanged
// (ErrClosedMonthChanged otherwise); rows of later months that the new schedule no longer has are removed.
func SaveSchedule(ctx context.Context, q db.Querier, s *Schedule, inputHash []byte, closedThrough Month) (Run, bool, error) {
	if len(inputHash) != sha256.Size {
		return Run{}, false, fmt.Errorf("revrec: save schedule %s: input hash must be %d bytes", s.ArrangementID, sha256.Size)
	}
	var run Run
	var created bool
	err := db.InTx(ctx, q, func(tx pgx.Tx) (err error) {
		run, created, err = saveSchedule(ctx, tx, s, inputHash, closedThrough)
		return err
	})
	if err != nil {
		return Run{}, false, err
	}
	return run, created, nil
}

func saveSchedule(ctx context.Context, tx pgx.Tx, s *Schedule, inputHash []byte, closedThrough Month) (Run, bool, error) {
	arr := s.ArrangementID
	// Serialize runs of one arrangement so the "latest run" read below cannot race.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('revrec:' || $1))`, arr); err != nil {
		return Run{}, false, fmt.Errorf("revrec: save schedule %s: lock: %w", arr, err)
	}
	latest, found, err := LatestRun(ctx, tx, arr)
	if err != nil {
		return Run{}, false, err
	}
	if found && string(latest.InputHash) == string(inputHash) {
		return latest, false, nil
	}
	if !closedThrough.IsZero() {
		if err := checkClosed(ctx, tx, s, closedThrough); err != nil {
			return Run{}, false, err
		}
	}
	versions, err := json.Marshal(s.Versions)
	if err != nil {
		return Run{}, false, fmt.Errorf("revrec: save schedule %s: versions: %w", arr, err)
	}
	run := Run{ArrangementID: arr, Seq: latest.Seq + 1, InputHash: inputHash, ClosedThrough: closedThrough,
		Versions: s.Versions, LineCount: len(s.Lines)}
	run.ID = fmt.Sprintf("revrec:%s:run:%d", arr, run.Seq)
	var closed *string
	if !closedThrough.IsZero() {
		c := closedThrough.String()
		closed = &c
	}
	if err := tx.QueryRow(ctx, `
		INSERT INTO revenue_recognition_runs (id, arrangement_id, seq, input_hash, closed_through, versions, line_count)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING computed_at`,
		run.ID, arr, run.Seq, inputHash, closed, versions, run.LineCount).Scan(&run.ComputedAt); err != nil {
		return Run{}, false, fmt.Errorf("revrec: save schedule %s: insert run: %w", arr, err)
	}
	batch := &pgx.Batch{}
	months := make([]string, 0, len(s.Lines))
	obligations := make([]string, 0, len(s.Lines))
	for _, l := range s.Lines {
		if l.ArrangementID != arr {
			return Run{}, false, fmt.Errorf("revrec: save schedule %s: line of arrangement %s", arr, l.ArrangementID)
		}
		months, obligations = append(months, l.Month.String()), append(obligations, l.ObligationID)
		batch.Queue(`
			INSERT INTO revenue_schedules (arrangement_id, obligation_id, month, customer_id, entity_id, product, kind, currency,
				revenue, catch_up, breakage, billed, deferred, unbilled, run_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::numeric, $10::numeric, $11::numeric, $12::numeric, $13::numeric, $14::numeric, $15)
			ON CONFLICT ON CONSTRAINT revenue_schedules_obligation_month_key DO UPDATE SET
				customer_id = EXCLUDED.customer_id, entity_id = EXCLUDED.entity_id, product = EXCLUDED.product,
				kind = EXCLUDED.kind, currency = EXCLUDED.currency, revenue = EXCLUDED.revenue, catch_up = EXCLUDED.catch_up,
				breakage = EXCLUDED.breakage, billed = EXCLUDED.billed, deferred = EXCLUDED.deferred,
				unbilled = EXCLUDED.unbilled, run_id = EXCLUDED.run_id`,
			arr, l.ObligationID, l.Month.String(), l.CustomerID, l.EntityID, l.Product, string(l.Kind), string(l.Currency),
			l.Revenue.String(), l.CatchUp.String(), l.Breakage.String(), l.Billed.String(), l.Deferred.String(),
			l.Unbilled.String(), run.ID)
	}
	batch.Queue(`
		DELETE FROM revenue_schedules r
		WHERE r.arrangement_id = $1
		  AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS k(obligation_id, month)
		                  WHERE k.obligation_id = r.obligation_id AND k.month = r.month)`, arr, obligations, months)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return Run{}, false, fmt.Errorf("revrec: save schedule %s: write lines: %w", arr, err)
	}
	return run, true, nil
}

// checkClosed refuses a schedule that differs from the stored one in any month up to closedThrough.
func checkClosed(ctx context.Context, tx pgx.Tx, s *Schedule, closedThrough Month) error {
	stored, err := LoadLines(ctx, tx, LineFilter{ArrangementID: s.ArrangementID, Through: closedThrough})
	if err != nil {
		return err
	}
	type key struct{ ob, month string }
	old := map[key]Line{}
	for _, l := range stored {
		old[key{l.ObligationID, l.Month.String()}] = l
	}
	var diffs []string
	for _, l := range s.Lines {
		if l.Month.After(closedThrough) {
			continue
		}
		k := key{l.ObligationID, l.Month.String()}
		o, ok := old[k]
		delete(old, k)
		if !ok {
			if !l.Recognized().IsZero() || !l.Billed.IsZero() {
				diffs = append(diffs, fmt.Sprintf("%s %s: new", l.ObligationID, l.Month))
			}
			continue
		}
		if !o.Revenue.Equal(l.Revenue) || !o.Breakage.Equal(l.Breakage) || !o.Billed.Equal(l.Billed) {
			diffs = append(diffs, fmt.Sprintf("%s %s: revenue %s -> %s, breakage %s -> %s, billed %s -> %s", l.ObligationID, l.Month,
				o.Revenue, l.Revenue, o.Breakage, l.Breakage, o.Billed, l.Billed))
		}
	}
	for k, o := range old {
		if !o.Recognized().IsZero() || !o.Billed.IsZero() {
			diffs = append(diffs, fmt.Sprintf("%s %s: removed", k.ob, k.month))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w through %s: arrangement %s: %s", ErrClosedMonthChanged, closedThrough, s.ArrangementID, strings.Join(diffs, "; "))
	}
	return nil
}

// LatestRun returns the arrangement's most recent run; found is false when there is none.
func LatestRun(ctx context.Context, q db.Querier, arrangementID string) (Run, bool, error) {
	var r Run
	var closed *string
	var versions []byte
	err := q.QueryRow(ctx, `
		SELECT id, arrangement_id, seq, input_hash, closed_through, versions, line_count, computed_at
		FROM revenue_recognition_runs WHERE arrangement_id = $1 ORDER BY seq DESC LIMIT 1`, arrangementID).
		Scan(&r.ID, &r.ArrangementID, &r.Seq, &r.InputHash, &closed, &versions, &r.LineCount, &r.ComputedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, fmt.Errorf("revrec: latest run of %s: %w", arrangementID, err)
	}
	if closed != nil {
		if r.ClosedThrough, err = ParseMonth(*closed); err != nil {
			return Run{}, false, fmt.Errorf("revrec: run %s: %w", r.ID, err)
		}
	}
	if err := json.Unmarshal(versions, &r.Versions); err != nil {
		return Run{}, false, fmt.Errorf("revrec: run %s: versions: %w", r.ID, err)
	}
	return r, true, nil
}

// LineFilter selects stored schedule lines; empty fields match everything.
type LineFilter struct {
	ArrangementID string
	CustomerID    string
	EntityID      string
	Through       Month // last month to load; lines always start at each arrangement's first month so balances are whole
}

// LoadLines reads stored schedule lines ordered by arrangement, obligation and month, ready for Balances,
// Journal and the reports.
func LoadLines(ctx context.Context, q db.Querier, f LineFilter) ([]Line, error) {
	var through *string
	if !f.Through.IsZero() {
		t := f.Through.String()
		through = &t
	}
	rows, err := q.Query(ctx, `
		SELECT arrangement_id, obligation_id, month, customer_id, entity_id, product, kind, currency,
			revenue::text, catch_up::text, breakage::text, billed::text, deferred::text, unbilled::text
		FROM revenue_schedules
		WHERE ($1 = '' OR arrangement_id = $1) AND ($2 = '' OR customer_id = $2) AND ($3 = '' OR entity_id = $3)
		  AND ($4::text IS NULL OR month <= $4)
		ORDER BY arrangement_id, obligation_id, month`, f.ArrangementID, f.CustomerID, f.EntityID, through)
	if err != nil {
		return nil, fmt.Errorf("revrec: load lines: %w", err)
	}
	defer rows.Close()
	var out []Line
	for rows.Next() {
		var l Line
		var month, kind, cur string
		var amounts [6]string
		if err := rows.Scan(&l.ArrangementID, &l.ObligationID, &month, &l.CustomerID, &l.EntityID, &l.Product, &kind, &cur,
			&amounts[0], &amounts[1], &amounts[2], &amounts[3], &amounts[4], &amounts[5]); err != nil {
			return nil, fmt.Errorf("revrec: load lines: %w", err)
		}
		if l.Month, err = ParseMonth(month); err != nil {
			return nil, fmt.Errorf("revrec: load lines: %w", err)
		}
		l.Kind, l.Currency = Kind(kind), money.Currency(cur)
		dst := []*decimal.Decimal{&l.Revenue, &l.CatchUp, &l.Breakage, &l.Billed, &l.Deferred, &l.Unbilled}
		for i, a := range amounts {
			if *dst[i], err = decimal.NewFromString(a); err != nil {
				return nil, fmt.Errorf("revrec: load lines %s %s: amount %q: %w", l.ArrangementID, l.ObligationID, a, err)
			}
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("revrec: load lines: %w", err)
	}
	return out, nil
}
