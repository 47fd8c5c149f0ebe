package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/revhub/revhub/internal/usage"
)

func (h *usageHandlers) listMeters(w http.ResponseWriter, r *http.Request) {
	if h.unavailable(w) {
		return
	}
	ms, err := usage.ListMeters(r.Context(), h.ing.Pool())
	if err != nil {
		h.log.Error("list meters", "err", err)
		WriteError(w, err)
		return
	}
	if ms == nil {
		ms = []*usage.Meter{}
	}
	WriteJSON(w, http.StatusOK, struct {
		Data []*usage.Meter `json:"data"`
	}{ms})
}

func (h *usageHandlers) getMeter(w http.ResponseWriter, r *http.Request) {
	if h.unavailable(w) {
		return
	}
	m, err := usage.GetMeter(r.Context(), h.ing.Pool(), r.PathValue("slug"))
	if errors.Is(err, usage.ErrMeterNotFound) {
		WriteError(w, Errorf(http.StatusNotFound, "not_found", "slug", "no meter %q", r.PathValue("slug")))
		return
	}
	if err != nil {
		h.log.Error("get meter", "err", err)
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, m)
}

// createMeter answers 201 for a new meter, 200 when the identical meter exists and 409 when
// the slug is taken by another definition.
func (h *usageHandlers) createMeter(w http.ResponseWriter, r *http.Request) {
	if h.unavailable(w) {
		return
	}
	var m usage.Meter
	if err := DecodeJSON(r, &m); err != nil {
		WriteError(w, err)
		return
	}
	if probs := m.Validate(""); len(probs) > 0 {
		WriteError(w, problemsError(probs))
		return
	}
	created, err := h.ing.CreateMeter(r.Context(), &m)
	switch {
	case errors.Is(err, usage.ErrMeterConflict):
		WriteError(w, Errorf(http.StatusConflict, "conflict", "slug", "meter %q exists with a different definition; meters are immutable, use a new slug", m.Slug))
	case err != nil:
		h.log.Error("create meter", "slug", m.Slug, "err", err)
		WriteError(w, err)
	case created:
		WriteJSON(w, http.StatusCreated, &m)
	default:
		WriteJSON(w, http.StatusOK, &m)
	}
}

// meterQueryResponse is the answer of GET /v1/meters/{slug}/query.
type meterQueryResponse struct {
	Meter       string            `json:"meter"`
	Aggregation usage.Aggregation `json:"aggregation"`
	From        time.Time         `json:"from"`
	To          time.Time         `json:"to"`
	Window      usage.Window      `json:"window,omitempty"`
	Data        []usage.Row       `json:"data"`
}

func (h *usageHandlers) queryMeter(w http.ResponseWriter, r *http.Request) {
	if h.unavailable(w) {
		return
	}
	q := r.URL.Query()
	p := usage.QueryParams{Meter: r.PathValue("slug"), Subject: q.Get("subject"), Window: usage.Window(strings.ToUpper(q.Get("window")))}
	var probs []usage.Problem
	for _, name := range []string{"from", "to"} {
		v := q.Get(name)
		t, err := time.Parse(time.RFC3339, v)
		switch {
		case v == "":
			probs = append(probs, usage.Problem{Index: -1, Field: name, Reason: "is required (RFC 3339, on a whole hour)"})
		case err != nil:
			probs = append(probs, usage.Problem{Index: -1, Field: name, Reason: fmt.Sprintf("must be an RFC 3339 timestamp, got %q", v)})
		case name == "from":
			p.From = t
		default:
			p.To = t
		}
	}
	for _, g := range q["group_by"] {
		for _, part := range strings.Split(g, ",") {
			if part = strings.TrimSpace(part); part != "" {
				p.GroupBy = append(p.GroupBy, part)
			}
		}
	}
	meters := h.ing.Meters()
	if meters.Get(p.Meter) == nil {
		_ = h.ing.Reload(r.Context()) // the meter may have been created by another process
		meters = h.ing.Meters()
		if meters.Get(p.Meter) == nil {
			WriteError(w, Errorf(http.StatusNotFound, "not_found", "slug", "no meter %q", p.Meter))
			return
		}
	}
	_, more := p.Validate(meters)
	for _, pr := range more {
		if (pr.Field == "from" || pr.Field == "to") && len(probs) > 0 {
			continue // from or to did not parse: their range checks would only repeat that
		}
		probs = append(probs, pr)
	}
	if len(probs) > 0 {
		WriteError(w, problemsError(probs))
		return
	}
	rows, err := usage.Query(r.Context(), h.ing.Pool(), meters, p)
	if err != nil {
		h.log.Error("query meter", "slug", p.Meter, "err", err)
		WriteError(w, err)
		return
	}
	if rows == nil {
		rows = []usage.Row{}
	}
	m := meters.Get(p.Meter)
	WriteJSON(w, http.StatusOK, meterQueryResponse{Meter: m.Slug, Aggregation: m.Aggregation, From: p.From.UTC(), To: p.To.UTC(), Window: p.Window, Data: rows})
}

// problemsError turns request-level problems into a 400 naming the first field and listing all.
func problemsError(probs []usage.Problem) error {
	e := &Error{Status: http.StatusBadRequest, Code: "invalid_field", Field: probs[0].Field, Reason: probs[0].Reason}
	if len(probs) > 1 {
		for _, p := range probs {
			e.Details = append(e.Details, ErrorDetail{Field: p.Field, Reason: p.Reason})
		}
	}
	return e
}
