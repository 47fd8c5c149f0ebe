package recon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/audit"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/money"
)

// TxQuerier is a db.Querier (which can open a transaction, or a savepoint inside one).
type TxQuerier = db.Querier

// Audit log actions written by Approve.
const (
	ActionApproveCheck      = "recon.approve_check"
	ActionApproveDifference = "recon.approve_difference"
)

// Subject is the audit log subject of a check in a run, e.g. "recon:close/acme/2026-10:invoices_vs_ledger".
func Subject(run, check string) string { return "recon:" + run + ":" + check }

// SaveResult stores one attempt of a check with its differences, idempotently: saving the same
// (run, check, attempt) again with the same content returns the stored result (a retried activity
// writes nothing twice); with other content it fails with ErrConflict, and the caller re-runs the
// check as the next attempt. The result is validated first, every problem at once.
func SaveResult(ctx context.Context, q TxQuerier, r Result) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	c := r.Check
	hash, err := inputHash(r)
	if err != nil {
		return Result{}, err
	}
	leftTotals, err := json.Marshal(nonNil(c.Left.Totals))
	if err != nil {
		return Result{}, fmt.Errorf("recon: left totals: %w", err)
	}
	rightTotals, err := json.Marshal(nonNil(c.Right.Totals))
	if err != nil {
		return Result{}, fmt.Errorf("recon: right totals: %w", err)
	}
	tolerance, err := json.Marshal(r.Tolerance)
	if err != nil {
		return Result{}, fmt.Errorf("recon: tolerance: %w", err)
	}
	out := r
	out.Breaches = nonNil(r.Breaches)
	err = pgx.BeginFunc(ctx, q, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO recon_runs (run) VALUES ($1) ON CONFLICT (run) DO NOTHING`, c.Run); err != nil {
			return fmt.Errorf("recon: save run: %w", err)
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO recon_results (run, check_name, attempt, step, status, left_name, left_count, left_totals,
			                           right_name, right_count, right_totals, tolerance, breaches, input_hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
			ON CONFLICT ON CONSTRAINT recon_results_attempt_key DO NOTHING
			RETURNING id, created_at`,
			c.Run, c.Name, r.Attempt, c.Step, string(r.Status), c.Left.Name, c.Left.Count, leftTotals,
			c.Right.Name, c.Right.Count, rightTotals, tolerance, out.Breaches, hash,
		).Scan(&out.ID, &out.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			var stored []byte
			err := tx.QueryRow(ctx, `SELECT id, created_at, input_hash FROM recon_results WHERE run = $1 AND check_name = $2 AND attempt = $3`,
				c.Run, c.Name, r.Attempt).Scan(&out.ID, &out.CreatedAt, &stored)
			if err != nil {
				return fmt.Errorf("recon: read saved result: %w", err)
			}
			if !bytes.Equal(stored, hash) {
				return fmt.Errorf("recon: run %q check %q attempt %d: %w", c.Run, c.Name, r.Attempt, ErrConflict)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("recon: save result %s/%s#%d: %w", c.Run, c.Name, r.Attempt, err)
		}
		if len(c.Differences) == 0 {
			return nil
		}
		n := len(c.Differences)
		keys, curs, kinds, lefts, rights, deltas, reasons := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i, d := range c.Differences {
			keys[i], curs[i], kinds[i], reasons[i] = d.Key, string(d.Currency), string(d.Kind), d.Reason
			lefts[i], rights[i], deltas[i] = d.Left.String(), d.Right.String(), d.Delta.String()
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO recon_differences (result_id, position, key, currency, kind, left_amount, right_amount, delta, reason)
			SELECT $1, u.ord - 1, u.key, u.currency, u.kind, u.l::numeric, u.r::numeric, u.d::numeric, u.reason
			  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
			       WITH ORDINALITY AS u(key, currency, kind, l, r, d, reason, ord)`,
			out.ID, keys, curs, kinds, lefts, rights, deltas, reasons)
		if err != nil {
			return fmt.Errorf("recon: save differences of %s/%s#%d: %w", c.Run, c.Name, r.Attempt, err)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return out, nil
}

// inputHash identifies a result's content for the idempotency check.
func inputHash(r Result) ([]byte, error) {
	b, err := json.Marshal(struct {
		Check     Check     `json:"check"`
		Attempt   int       `json:"attempt"`
		Tolerance Tolerance `json:"tolerance"`
	}{r.Check, r.Attempt, r.Tolerance})
	if err != nil {
		return nil, fmt.Errorf("recon: hash result: %w", err)
	}
	h := sha256.Sum256(b)
	return h[:], nil
}

const resultColumns = `r.id, r.run, r.check_name, r.attempt, r.step, r.status, r.left_name, r.left_count, r.left_totals,
	r.right_name, r.right_count, r.right_totals, r.tolerance, r.breaches, r.created_at`

// Latest lists the latest attempt of every check of a run, in the order they were first saved,
// with differences and approvals; Result.Effective gives each one's status after approvals.
func Latest(ctx context.Context, q db.Querier, run string) ([]Result, error) {
	rs, err := queryResults(ctx, q, `
		SELECT `+resultColumns+` FROM (
		    SELECT DISTINCT ON (check_name) * FROM recon_results WHERE run = $1 ORDER BY check_name, attempt DESC
		) r
		ORDER BY (SELECT min(id) FROM recon_results f WHERE f.run = r.run AND f.check_name = r.check_name)`, run)
	if err != nil {
		return nil, fmt.Errorf("recon: latest results of %q: %w", run, err)
	}
	return rs, nil
}

// LatestCheck returns the latest attempt of one check of a run, or ErrNotFound.
func LatestCheck(ctx context.Context, q db.Querier, run, check string) (Result, error) {
	rs, err := queryResults(ctx, q, `
		SELECT `+resultColumns+` FROM recon_results r
		 WHERE r.run = $1 AND r.check_name = $2 ORDER BY r.attempt DESC LIMIT 1`, run, check)
	if err != nil {
		return Result{}, fmt.Errorf("recon: result of %s/%s: %w", run, check, err)
	}
	if len(rs) == 0 {
		return Result{}, fmt.Errorf("recon: run %q check %q: %w", run, check, ErrNotFound)
	}
	return rs[0], nil
}

// Blocked lists, across every run, the checks whose latest attempt still blocks the close after
// approvals, by run and then in the order they were saved.
func Blocked(ctx context.Context, q db.Querier) ([]Result, error) {
	rs, err := queryResults(ctx, q, `
		SELECT `+resultColumns+` FROM (
		    SELECT DISTINCT ON (run, check_name) * FROM recon_results ORDER BY run, check_name, attempt DESC
		) r
		WHERE r.status = 'blocked'
		  AND NOT EXISTS (SELECT 1 FROM recon_decisions d WHERE d.result_id = r.id AND d.difference_key = '')
		ORDER BY r.run, r.id`)
	if err != nil {
		return nil, fmt.Errorf("recon: blocked checks: %w", err)
	}
	out := rs[:0]
	for _, r := range rs {
		if r.Effective() == StatusBlocked {
			out = append(out, r)
		}
	}
	return out, nil
}

// queryResults runs a query selecting resultColumns and attaches differences and decisions.
func queryResults(ctx context.Context, q db.Querier, sql string, args ...any) ([]Result, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	var out []Result
	for rows.Next() {
		var (
			r                       Result
			status                  string
			leftTotals, rightTotals []byte
			tolerance               []byte
		)
		c := &r.Check
		if err := rows.Scan(&r.ID, &c.Run, &c.Name, &r.Attempt, &c.Step, &status, &c.Left.Name, &c.Left.Count, &leftTotals,
			&c.Right.Name, &c.Right.Count, &rightTotals, &tolerance, &r.Breaches, &r.CreatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		r.Status = Status(status)
		if err := json.Unmarshal(leftTotals, &c.Left.Totals); err != nil {
			rows.Close()
			return nil, fmt.Errorf("left totals of result %d: %w", r.ID, err)
		}
		if err := json.Unmarshal(rightTotals, &c.Right.Totals); err != nil {
			rows.Close()
			return nil, fmt.Errorf("right totals of result %d: %w", r.ID, err)
		}
		if err := json.Unmarshal(tolerance, &r.Tolerance); err != nil {
			rows.Close()
			return nil, fmt.Errorf("tolerance of result %d: %w", r.ID, err)
		}
		if len(r.Breaches) == 0 {
			r.Breaches = nil
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(out))
	byID := make(map[int64]*Result, len(out))
	for i := range out {
		ids[i] = out[i].ID
		byID[out[i].ID] = &out[i]
	}
	if err := attachDifferences(ctx, q, ids, byID); err != nil {
		return nil, err
	}
	if err := attachDecisions(ctx, q, ids, byID); err != nil {
		return nil, err
	}
	return out, nil
}

func attachDifferences(ctx context.Context, q db.Querier, ids []int64, byID map[int64]*Result) error {
	rows, err := q.Query(ctx, `
		SELECT result_id, key, currency, kind, left_amount::text, right_amount::text, delta::text, reason
		  FROM recon_differences WHERE result_id = ANY($1) ORDER BY result_id, position`, ids)
	if err != nil {
		return fmt.Errorf("differences: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id                 int64
			d                  Difference
			cur, kind          string
			left, right, delta string
		)
		if err := rows.Scan(&id, &d.Key, &cur, &kind, &left, &right, &delta, &d.Reason); err != nil {
			return fmt.Errorf("differences: %w", err)
		}
		d.Currency, d.Kind = money.Currency(cur), Kind(kind)
		if d.Left, err = decimal.NewFromString(left); err != nil {
			return fmt.Errorf("difference %q left amount: %w", d.Key, err)
		}
		if d.Right, err = decimal.NewFromString(right); err != nil {
			return fmt.Errorf("difference %q right amount: %w", d.Key, err)
		}
		if d.Delta, err = decimal.NewFromString(delta); err != nil {
			return fmt.Errorf("difference %q delta: %w", d.Key, err)
		}
		r := byID[id]
		r.Check.Differences = append(r.Check.Differences, d)
	}
	return rows.Err()
}

func attachDecisions(ctx context.Context, q db.Querier, ids []int64, byID map[int64]*Result) error {
	rows, err := q.Query(ctx, `
		SELECT d.result_id, d.id, d.difference_key, d.actor, d.reason, d.decided_at
		  FROM recon_decisions d WHERE d.result_id = ANY($1) ORDER BY d.id`, ids)
	if err != nil {
		return fmt.Errorf("decisions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id  int64
			dec Decision
		)
		if err := rows.Scan(&id, &dec.ID, &dec.DifferenceKey, &dec.Actor, &dec.Reason, &dec.At); err != nil {
			return fmt.Errorf("decisions: %w", err)
		}
		r := byID[id]
		dec.Run, dec.Check, dec.Attempt = r.Check.Run, r.Check.Name, r.Attempt
		r.Decisions = append(r.Decisions, dec)
	}
	return rows.Err()
}

// Approval asks to approve a blocked check (DifferenceKey "") or one difference key of it.
type Approval struct {
	Run           string `json:"run"`
	Check         string `json:"check"`
	DifferenceKey string `json:"difference_key,omitempty"` // "" approves the whole check
	Actor         string `json:"actor"`                    // who decides, e.g. api.Actor(ctx) or "user:jane@acme.com"
	Reason        string `json:"reason"`                   // why; required, kept in the audit log
}

// Validate reports every missing field at once.
func (a Approval) Validate() error {
	var ps problems
	if a.Run == "" {
		ps.Add("run", "must not be empty")
	}
	if a.Check == "" {
		ps.Add("check", "must not be empty")
	}
	if a.Actor == "" {
		ps.Add("actor", "must not be empty")
	}
	if a.Reason == "" {
		ps.Add("reason", "must not be empty: every approval says why")
	}
	return ps.Err("recon", "approval")
}

// Approve records the approval of the latest attempt of a blocked check, or of one of its
// difference keys, and writes the audit log in the same transaction. Repeating the same approval
// (same actor and reason) returns the recorded decision and writes nothing (a retried signal or
// activity); an approval of something already approved otherwise fails with ErrAlreadyDecided.
// A check that does not block fails with ErrNotBlocked; an unknown key with an *InvalidError.
func Approve(ctx context.Context, q TxQuerier, a Approval) (Decision, error) {
	if err := a.Validate(); err != nil {
		return Decision{}, err
	}
	var dec Decision
	err := pgx.BeginFunc(ctx, q, func(tx pgx.Tx) error {
		var (
			resultID int64
			attempt  int
			status   string
		)
		err := tx.QueryRow(ctx, `
			SELECT id, attempt, status FROM recon_results WHERE run = $1 AND check_name = $2
			 ORDER BY attempt DESC LIMIT 1 FOR UPDATE`, a.Run, a.Check).Scan(&resultID, &attempt, &status)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("recon: run %q check %q: %w", a.Run, a.Check, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("recon: approve %s/%s: %w", a.Run, a.Check, err)
		}
		dec = Decision{Run: a.Run, Check: a.Check, Attempt: attempt, DifferenceKey: a.DifferenceKey}
		what := fmt.Sprintf("run %q check %q attempt %d", a.Run, a.Check, attempt)
		if a.DifferenceKey != "" {
			what += fmt.Sprintf(" difference %q", a.DifferenceKey)
		}
		err = tx.QueryRow(ctx, `SELECT id, actor, reason, decided_at FROM recon_decisions WHERE result_id = $1 AND difference_key = $2`,
			resultID, a.DifferenceKey).Scan(&dec.ID, &dec.Actor, &dec.Reason, &dec.At)
		switch {
		case err == nil:
			if dec.Actor == a.Actor && dec.Reason == a.Reason {
				return nil
			}
			return fmt.Errorf("recon: %s: %w by %s at %s", what, ErrAlreadyDecided, dec.Actor, dec.At.UTC().Format(time.RFC3339))
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("recon: approve %s: %w", what, err)
		}
		if Status(status) != StatusBlocked {
			return fmt.Errorf("recon: %s is %s: %w", what, status, ErrNotBlocked)
		}
		if a.DifferenceKey != "" {
			var found bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM recon_differences WHERE result_id = $1 AND key = $2)`,
				resultID, a.DifferenceKey).Scan(&found); err != nil {
				return fmt.Errorf("recon: approve %s: %w", what, err)
			}
			if !found {
				var ps problems
				ps.Add("difference_key", "check %q attempt %d of run %q has no difference with key %q", a.Check, attempt, a.Run, a.DifferenceKey)
				return ps.Err("recon", "approval")
			}
		}
		dec.Actor, dec.Reason = a.Actor, a.Reason
		if err := tx.QueryRow(ctx, `INSERT INTO recon_decisions (result_id, difference_key, actor, reason) VALUES ($1, $2, $3, $4) RETURNING id, decided_at`,
			resultID, a.DifferenceKey, a.Actor, a.Reason).Scan(&dec.ID, &dec.At); err != nil {
			return fmt.Errorf("recon: record approval of %s: %w", what, err)
		}
		after, err := LatestCheck(ctx, tx, a.Run, a.Check)
		if err != nil {
			return err
		}
		action := ActionApproveCheck
		if a.DifferenceKey != "" {
			action = ActionApproveDifference
		}
		details := map[string]any{
			"run": a.Run, "check": a.Check, "attempt": attempt, "decision_id": dec.ID,
			"status_before": status, "status_after": after.Effective(),
		}
		if a.DifferenceKey != "" {
			var diffs []Difference
			for _, d := range after.Check.Differences {
				if d.Key == a.DifferenceKey {
					diffs = append(diffs, d)
				}
			}
			details["difference_key"] = a.DifferenceKey
			details["differences"] = diffs
		}
		if _, err := audit.Record(ctx, tx, a.Actor, action, Subject(a.Run, a.Check), a.Reason, details); err != nil {
			return fmt.Errorf("recon: audit approval of %s: %w", what, err)
		}
		return nil
	})
	if err != nil {
		return Decision{}, err
	}
	return dec, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
