package usage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/db"
)

// LatePolicy is the lateness setting: how long after a period ends its events still arrive
// on time. Invoicing closes a period only once its grace has passed; events that arrive after
// the close are stored, flagged late and queued as adjustments for the subject's next invoice.
type LatePolicy struct {
	Grace time.Duration // e.g. 48h; zero lets a period close as soon as it ends
}

// ClosableAt returns when a period ending at end may be closed.
func (p LatePolicy) ClosableAt(end time.Time) time.Time { return end.Add(p.Grace) }

// ClosedPeriod is a period of a subject that has been invoiced.
type ClosedPeriod struct {
	Subject   string
	Start     time.Time
	End       time.Time
	Reference string // the invoice (or run) that closed it
	ClosedAt  time.Time
}

// ErrPeriodNotClosable means the period's grace window has not passed yet.
var ErrPeriodNotClosable = errors.New("period cannot be closed before its grace window has passed")

// ErrPeriodConflict means the period overlaps a closed period that differs from it.
var ErrPeriodConflict = errors.New("period overlaps a different closed period")

// ClosePeriod records that [start, end) of subject is invoiced by reference. It is idempotent:
// closing the same period with the same reference again returns the stored record.
func ClosePeriod(ctx context.Context, tx pgx.Tx, policy LatePolicy, now time.Time, subject string, start, end time.Time, reference string) (ClosedPeriod, error) {
	start, end = start.UTC(), end.UTC()
	switch {
	case subject == "":
		return ClosedPeriod{}, errors.New("close period: subject is required")
	case reference == "":
		return ClosedPeriod{}, errors.New("close period: reference is required")
	case !end.After(start):
		return ClosedPeriod{}, fmt.Errorf("close period %s: end %s must be after start %s", subject, end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	// Exclusive against ingest transactions (which hold it shared): events committed before this
	// point count in the period; any later one sees the close and is flagged late. It also makes
	// closers take turns, so the overlap check below cannot race. Keep the transaction short.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(closeLock)); err != nil {
		return ClosedPeriod{}, fmt.Errorf("close period %s: lock: %w", subject, err)
	}
	rows, err := tx.Query(ctx, `SELECT subject, period_start, period_end, reference, closed_at FROM usage_closed_periods
		WHERE subject = $1 AND period_start < $3 AND $2 < period_end`, subject, start, end)
	if err != nil {
		return ClosedPeriod{}, fmt.Errorf("close period %s: %w", subject, err)
	}
	existing, err := pgx.CollectRows(rows, scanPeriod)
	if err != nil {
		return ClosedPeriod{}, fmt.Errorf("close period %s: %w", subject, err)
	}
	if len(existing) > 0 {
		p := existing[0]
		if p.Start.Equal(start) && p.End.Equal(end) && p.Reference == reference {
			return p, nil
		}
		return ClosedPeriod{}, fmt.Errorf("close period %s [%s, %s) by %s: overlaps [%s, %s) closed by %s: %w", subject,
			start.Format(time.RFC3339), end.Format(time.RFC3339), reference, p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339), p.Reference, ErrPeriodConflict)
	}
	if at := policy.ClosableAt(end); now.Before(at) {
		return ClosedPeriod{}, fmt.Errorf("close period %s ending %s: closable from %s: %w", subject, end.Format(time.RFC3339), at.Format(time.RFC3339), ErrPeriodNotClosable)
	}
	var p ClosedPeriod
	err = tx.QueryRow(ctx, `INSERT INTO usage_closed_periods (subject, period_start, period_end, reference, closed_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING subject, period_start, period_end, reference, closed_at`,
		subject, start, end, reference, now).Scan(&p.Subject, &p.Start, &p.End, &p.Reference, &p.ClosedAt)
	if err != nil {
		return ClosedPeriod{}, fmt.Errorf("close period %s: %w", subject, err)
	}
	p.Start, p.End, p.ClosedAt = p.Start.UTC(), p.End.UTC(), p.ClosedAt.UTC()
	return p, nil
}

func scanPeriod(row pgx.CollectableRow) (ClosedPeriod, error) {
	var p ClosedPeriod
	err := row.Scan(&p.Subject, &p.Start, &p.End, &p.Reference, &p.ClosedAt)
	p.Start, p.End, p.ClosedAt = p.Start.UTC(), p.End.UTC(), p.ClosedAt.UTC()
	return p, err
}

// IsClosed reports whether the moment t of subject falls in a closed (invoiced) period.
func IsClosed(ctx context.Context, q db.Querier, subject string, t time.Time) (bool, error) {
	var closed bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM usage_closed_periods
		WHERE subject = $1 AND period_start <= $2 AND $2 < period_end)`, subject, t).Scan(&closed)
	if err != nil {
		return false, fmt.Errorf("is period closed for %s at %s: %w", subject, t.Format(time.RFC3339), err)
	}
	return closed, nil
}

// Adjustment is a late event's reading by one meter, waiting for (or applied to) an invoice.
type Adjustment struct {
	Key         Key
	Meter       string
	Subject     string
	EventTime   time.Time
	Groups      map[string]string
	Value       decimal.Decimal // the reading (1 for COUNT); zero for UNIQUE_COUNT
	UniqueValue string          // UNIQUE_COUNT only
	AppliedRef  string          // the invoice that took it; empty while pending
}

const adjustmentColumns = `key, meter, subject, event_time, groups, coalesce(value::text, '0'), coalesce(unique_value, ''), coalesce(applied_ref, '')`

// PendingAdjustments lists the subject's late readings not yet applied to an invoice.
func PendingAdjustments(ctx context.Context, q db.Querier, subject string) ([]Adjustment, error) {
	rows, err := q.Query(ctx, `SELECT `+adjustmentColumns+` FROM usage_adjustments
		WHERE subject = $1 AND applied_ref IS NULL ORDER BY event_time, key, meter`, subject)
	if err != nil {
		return nil, fmt.Errorf("pending adjustments of %s: %w", subject, err)
	}
	return collectAdjustments(rows)
}

// ApplyAdjustments marks the subject's pending late readings as taken by invoice reference and
// returns every reading carrying that reference, so a retry returns the same set.
func ApplyAdjustments(ctx context.Context, q db.Querier, subject, reference string, now time.Time) ([]Adjustment, error) {
	if reference == "" {
		return nil, errors.New("apply adjustments: reference is required")
	}
	if _, err := q.Exec(ctx, `UPDATE usage_adjustments SET applied_ref = $2, applied_at = $3
		WHERE subject = $1 AND applied_ref IS NULL`, subject, reference, now); err != nil {
		return nil, fmt.Errorf("apply adjustments of %s to %s: %w", subject, reference, err)
	}
	rows, err := q.Query(ctx, `SELECT `+adjustmentColumns+` FROM usage_adjustments
		WHERE subject = $1 AND applied_ref = $2 ORDER BY event_time, key, meter`, subject, reference)
	if err != nil {
		return nil, fmt.Errorf("applied adjustments of %s: %w", subject, err)
	}
	return collectAdjustments(rows)
}

func collectAdjustments(rows pgx.Rows) ([]Adjustment, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Adjustment, error) {
		var a Adjustment
		var key [16]byte
		var value string
		if err := row.Scan(&key, &a.Meter, &a.Subject, &a.EventTime, &a.Groups, &value, &a.UniqueValue, &a.AppliedRef); err != nil {
			return a, fmt.Errorf("read adjustment: %w", err)
		}
		a.Key = key
		a.EventTime = a.EventTime.UTC()
		d, err := decimal.NewFromString(value)
		if err != nil {
			return a, fmt.Errorf("adjustment value %q: %w", value, err)
		}
		a.Value = d
		return a, nil
	})
}

// AdjustmentRef names one late reading (an event's key and the meter that read it).
type AdjustmentRef struct {
	Key   Key
	Meter string
}

// AppliedAdjustments lists the subject's late readings of meter dated in [from, to) that an
// invoice has already taken.
func AppliedAdjustments(ctx context.Context, q db.Querier, subject, meter string, from, to time.Time) ([]Adjustment, error) {
	rows, err := q.Query(ctx, `SELECT `+adjustmentColumns+` FROM usage_adjustments
		WHERE subject = $1 AND meter = $2 AND event_time >= $3 AND event_time < $4 AND applied_ref IS NOT NULL
		ORDER BY event_time, key`, subject, meter, from, to)
	if err != nil {
		return nil, fmt.Errorf("applied adjustments of %s on %s: %w", subject, meter, err)
	}
	return collectAdjustments(rows)
}

// ErrAdjustmentTaken is returned when a late reading meant for an invoice was taken by another
// one in the meantime; the caller retries with fresh data.
var ErrAdjustmentTaken = errors.New("late reading already applied to another invoice")

// MarkAdjustmentsApplied records that invoice reference took exactly these pending late readings;
// run it in the transaction that creates the invoice, so both happen or neither does.
func MarkAdjustmentsApplied(ctx context.Context, q db.Querier, refs []AdjustmentRef, reference string, now time.Time) error {
	if len(refs) == 0 {
		return nil
	}
	if reference == "" {
		return errors.New("mark adjustments applied: reference is required")
	}
	keys := make([][16]byte, len(refs))
	meters := make([]string, len(refs))
	for i, r := range refs {
		keys[i], meters[i] = r.Key, r.Meter
	}
	tag, err := q.Exec(ctx, `UPDATE usage_adjustments a SET applied_ref = $3, applied_at = $4
		FROM unnest($1::uuid[], $2::text[]) AS r (key, meter)
		WHERE a.key = r.key AND a.meter = r.meter AND a.applied_ref IS NULL`, keys, meters, reference, now)
	if err != nil {
		return fmt.Errorf("mark adjustments applied to %s: %w", reference, err)
	}
	if int(tag.RowsAffected()) != len(refs) {
		return fmt.Errorf("mark adjustments applied to %s: %d of %d: %w", reference, tag.RowsAffected(), len(refs), ErrAdjustmentTaken)
	}
	return nil
}
