package api

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/revhub/revhub/internal/revrec"
)

// revenueRoutes are the revenue recognition reports over the stored schedules, as CSV.
func revenueRoutes(c Capabilities) []Route {
	h := http.HandlerFunc(unavailable("revenue reports (PostgreSQL)"))
	if c.Pool != nil {
		log := c.Log
		if log == nil {
			log = slog.Default()
		}
		h = revenueReport(c, log)
	}
	return []Route{{Method: "GET", Path: "/v1/reports/revenue/{kind}", Scope: ScopeRead, Handler: h,
		Summary: "Revenue report as CSV: schedule, waterfall, roll-forward, recognized or journal (?from=&to=YYYY-MM, filters)."}}
}

// revenueReport answers one report; every bad parameter is named at once in a 400.
func revenueReport(c Capabilities, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		kind := r.PathValue("kind")
		req, err := revrec.ParseReportRequest(kind, r.URL.Query())
		if err != nil {
			WriteError(w, reportRequestError(err))
			return
		}
		// Buffered so that a failure half-way is still a clean error, not a truncated CSV.
		var buf bytes.Buffer
		if err := revrec.WriteReport(r.Context(), c.Pool, &buf, req); err != nil {
			var bad *revrec.InvalidRequest
			if errors.As(err, &bad) {
				WriteError(w, reportRequestError(err))
				return
			}
			log.ErrorContext(r.Context(), "revenue report failed", "kind", kind, "err", err)
			WriteError(w, err)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="revenue-%s-%s-%s.csv"`, req.Kind, req.From, req.To))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
	}
}

// reportRequestError maps revrec's request problems to the API error shape; the report kind is the {kind} path parameter.
func reportRequestError(err error) error {
	var bad *revrec.InvalidRequest
	if !errors.As(err, &bad) || len(bad.Problems) == 0 {
		return err
	}
	field := func(f string) string {
		if f == "report" {
			return "kind"
		}
		return f
	}
	e := Errorf(http.StatusBadRequest, "invalid_parameter", field(bad.Problems[0].Field), "%s", bad.Problems[0].Reason)
	if len(bad.Problems) > 1 {
		e.Reason = fmt.Sprintf("%d query parameters are invalid (see details)", len(bad.Problems))
	}
	for _, p := range bad.Problems {
		e.Details = append(e.Details, ErrorDetail{Field: field(p.Field), Reason: p.Reason})
	}
	return e
}
