package revrec

import (
	"fmt"
	"time"
)

// Month is a calendar month, the unit of revenue schedules and close.
type Month struct {
	Year  int
	Month time.Month
}

// MonthOf returns the calendar month containing the UTC date of t.
func MonthOf(t time.Time) Month {
	y, m, _ := t.UTC().Date()
	return Month{Year: y, Month: m}
}

// ParseMonth parses a YYYY-MM month.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return Month{}, fmt.Errorf("month %q: want YYYY-MM", s)
	}
	return MonthOf(t), nil
}

// MustMonth parses a YYYY-MM month and panics on error; for tests and constants.
func MustMonth(s string) Month {
	m, err := ParseMonth(s)
	if err != nil {
		panic(err)
	}
	return m
}

// String formats the month as YYYY-MM.
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// IsZero reports whether the month is unset.
func (m Month) IsZero() bool { return m.Year == 0 && m.Month == 0 }

// Start returns the first day of the month (midnight UTC).
func (m Month) Start() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, time.UTC) }

// End returns the first day of the next month, the exclusive end of the month.
func (m Month) End() time.Time { return m.Start().AddDate(0, 1, 0) }

// LastDay returns the last calendar day of the month.
func (m Month) LastDay() time.Time { return m.End().AddDate(0, 0, -1) }

// Next returns the following month.
func (m Month) Next() Month { return MonthOf(m.End()) }

// Prev returns the preceding month.
func (m Month) Prev() Month { return MonthOf(m.Start().AddDate(0, 0, -1)) }

// Before reports whether m is earlier than o.
func (m Month) Before(o Month) bool { return m.index() < o.index() }

// After reports whether m is later than o.
func (m Month) After(o Month) bool { return m.index() > o.index() }

func (m Month) index() int { return m.Year*12 + int(m.Month) - 1 }

// MonthsBetween lists the months from first to last inclusive (empty when last is before first).
func MonthsBetween(first, last Month) []Month {
	var out []Month
	for m := first; !m.After(last); m = m.Next() {
		out = append(out, m)
	}
	return out
}

// MarshalText formats the month as YYYY-MM for JSON and YAML.
func (m Month) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText parses a YYYY-MM month.
func (m *Month) UnmarshalText(b []byte) error {
	p, err := ParseMonth(string(b))
	if err != nil {
		return err
	}
	*m = p
	return nil
}

// dateOf drops the time of day, keeping the UTC calendar date.
func dateOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// daysBetween counts the days in [from, to); zero when to is not after from.
func daysBetween(from, to time.Time) int64 {
	if !to.After(from) {
		return 0
	}
	return int64(to.Sub(from) / (24 * time.Hour))
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
