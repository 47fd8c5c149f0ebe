package revrec

import (
	"context"
	"fmt"
	"io"
	"net/url"

	"github.com/revhub/revhub/internal/db"
)

// ReportKind names a report over stored schedules.
type ReportKind string

// The reports.
const (
	ReportSchedule    ReportKind = "schedule"     // schedule lines per obligation and month
	ReportWaterfall   ReportKind = "waterfall"    // recognized revenue per obligation (rows) and month (columns)
	ReportRollForward ReportKind = "roll-forward" // deferred-revenue roll-forward per entity, currency and month
	ReportRecognized  ReportKind = "recognized"   // recognized revenue by product, customer or entity
	ReportJournal     ReportKind = "journal"      // suggested journal entries
)

// ReportRequest selects a report, its months and the schedules it covers.
type ReportRequest struct {
	Kind          ReportKind
	From, To      Month     // inclusive; both required
	Dimension     Dimension // recognized only: product, customer or entity
	ArrangementID string    // optional filters
	CustomerID    string
	EntityID      string
}

// InvalidRequest lists every problem of a report request, each naming its query parameter.
type InvalidRequest struct{ Problems []Problem }

// Error lists every problem as "field: reason".
func (e *InvalidRequest) Error() string {
	return (&InvalidArrangement{Subject: "report request", Problems: e.Problems}).Error()
}

// ParseReportRequest reads a report request from query parameters (from, to, dimension, arrangement_id,
// customer_id, entity_id) for the report kind, reporting every bad parameter at once.
func ParseReportRequest(kind string, q url.Values) (ReportRequest, error) {
	var ps problems
	r := ReportRequest{Kind: ReportKind(kind), ArrangementID: q.Get("arrangement_id"), CustomerID: q.Get("customer_id"), EntityID: q.Get("entity_id")}
	switch r.Kind {
	case ReportSchedule, ReportWaterfall, ReportRollForward, ReportRecognized, ReportJournal:
	default:
		ps.add("report", fmt.Sprintf("%q is not one of schedule, waterfall, roll-forward, recognized, journal", kind))
	}
	month := func(name string) Month {
		v := q.Get(name)
		if v == "" {
			ps.add(name, "is required (YYYY-MM)")
			return Month{}
		}
		m, err := ParseMonth(v)
		if err != nil {
			ps.add(name, err.Error())
		}
		return m
	}
	r.From, r.To = month("from"), month("to")
	if !r.From.IsZero() && !r.To.IsZero() {
		if r.To.Before(r.From) {
			ps.add("to", "must not be before from")
		} else if r.To.index()-r.From.index() >= 120 {
			ps.add("to", "a report covers at most 120 months")
		}
	}
	if r.Kind == ReportRecognized {
		d, err := ParseDimension(q.Get("dimension"))
		if err != nil {
			ps.add("dimension", err.Error())
		}
		r.Dimension = d
	} else if q.Get("dimension") != "" {
		ps.add("dimension", "applies to the recognized report only")
	}
	if len(ps) > 0 {
		return ReportRequest{}, &InvalidRequest{Problems: ps}
	}
	return r, nil
}

// WriteReport loads the stored schedules the request covers and writes its report as CSV.
func WriteReport(ctx context.Context, q db.Querier, w io.Writer, r ReportRequest) error {
	// Balances need each arrangement from its first month, so lines are loaded from the start up to To.
	lines, err := LoadLines(ctx, q, LineFilter{ArrangementID: r.ArrangementID, CustomerID: r.CustomerID, EntityID: r.EntityID, Through: r.To})
	if err != nil {
		return err
	}
	switch r.Kind {
	case ReportSchedule:
		return WriteScheduleCSV(w, within(lines, r.From, r.To))
	case ReportWaterfall:
		months, rows := Waterfall(lines, r.From, r.To)
		return WriteWaterfallCSV(w, months, rows)
	case ReportRollForward:
		return WriteRollForwardCSV(w, RollForward(lines, r.From, r.To))
	case ReportRecognized:
		rows, err := RecognizedBy(lines, r.Dimension, r.From, r.To)
		if err != nil {
			return err
		}
		return WriteRecognizedCSV(w, r.Dimension, rows)
	case ReportJournal:
		entries, err := Journal(lines, DefaultAccounts())
		if err != nil {
			return err
		}
		var in []JournalEntry
		for _, e := range entries {
			if !e.Month.Before(r.From) && !e.Month.After(r.To) {
				in = append(in, e)
			}
		}
		return WriteJournalCSV(w, in)
	}
	return &InvalidRequest{Problems: []Problem{{Field: "report", Reason: fmt.Sprintf("%q is not a report", r.Kind)}}}
}

func within(lines []Line, first, last Month) []Line {
	var out []Line
	for _, l := range lines {
		if !l.Month.Before(first) && !l.Month.After(last) {
			out = append(out, l)
		}
	}
	return out
}
