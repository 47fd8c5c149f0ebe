package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/revhub/revhub/internal/usage"
)

// EventsMaxBody is the body limit of POST /v1/events: room for a batch of usage.MaxBatch events.
const EventsMaxBody = 16 << 20

// maxDetails bounds the per-event problems listed in one error response.
const maxDetails = 1000

// UsageRoutes are the usage endpoints: event ingestion and meters. A nil ingester declares the
// routes but answers 503.
func UsageRoutes(ing *usage.Ingester, log *slog.Logger) []Route {
	if log == nil {
		log = slog.Default()
	}
	h := &usageHandlers{ing: ing, log: log}
	return []Route{
		{Method: "POST", Path: "/v1/events", Scope: ScopeEventsWrite, MaxBody: EventsMaxBody, Handler: h.postEvents,
			Summary: "Ingest one CloudEvent or a batch of up to 10,000; 202 once durably stored."},
		{Method: "GET", Path: "/v1/meters", Scope: ScopeRead, Handler: h.listMeters, Summary: "List meters."},
		{Method: "POST", Path: "/v1/meters", Scope: ScopeAdmin, Handler: h.createMeter, Summary: "Define a meter (immutable once created)."},
		{Method: "GET", Path: "/v1/meters/{slug}", Scope: ScopeRead, Handler: h.getMeter, Summary: "Read one meter."},
		{Method: "GET", Path: "/v1/meters/{slug}/query", Scope: ScopeRead, Handler: h.queryMeter,
			Summary: "Aggregate a meter per window, subject and group-by properties."},
	}
}

type usageHandlers struct {
	ing *usage.Ingester
	log *slog.Logger
}

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (h *usageHandlers) unavailable(w http.ResponseWriter) bool {
	if h.ing != nil {
		return false
	}
	WriteError(w, Errorf(http.StatusServiceUnavailable, "unavailable", "", "usage ingestion is not configured"))
	return true
}

// postEvents takes an ingest slot before reading the body, so memory stays bounded when
// PostgreSQL falls behind: callers get 503 with Retry-After instead of a growing queue.
func (h *usageHandlers) postEvents(w http.ResponseWriter, r *http.Request) {
	if h.unavailable(w) {
		return
	}
	batch, err := eventsMode(r.Header.Get("Content-Type"))
	if err != nil {
		WriteError(w, err)
		return
	}
	release, err := h.ing.Acquire(r.Context())
	if err != nil {
		w.Header().Set("Retry-After", "1")
		WriteError(w, Errorf(http.StatusServiceUnavailable, "overloaded", "", "ingestion is at capacity; retry after 1 second"))
		return
	}
	defer release()
	buf := bodyBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer bodyBuffers.Put(buf)
	if n := r.ContentLength; n > 0 && n <= EventsMaxBody {
		// One allocation for the announced body (the pool loses its buffers at each GC) instead of
		// ReadFrom's doublings; ReadFrom wants MinRead spare bytes to see the end.
		buf.Grow(int(n) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(r.Body); err != nil {
		WriteError(w, jsonError(err))
		return
	}
	body := bytes.TrimSpace(buf.Bytes())
	if batch == modeAuto && len(body) > 0 && body[0] == '[' {
		batch = modeBatch
	}
	var events []usage.Event
	if batch == modeBatch {
		events, err = usage.DecodeBatch(body)
	} else {
		var e usage.Event
		e, err = usage.DecodeOne(body)
		events = []usage.Event{e}
	}
	if err != nil {
		WriteError(w, invalidEvents(h.moreProblems(r.Context(), events, err)))
		return
	}
	res, err := h.ing.Ingest(r.Context(), events, usage.IngestOptions{})
	if err != nil {
		var inv *usage.InvalidError
		switch {
		case errors.As(err, &inv):
			WriteError(w, invalidEvents(err))
		case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
			// The client went away before an answer: nothing was acknowledged. The batch is not
			// stored, or (if a committer had taken it) may still commit; a resend then comes back
			// as duplicates.
		default:
			h.log.Error("ingest events", "events", len(events), "err", err)
			w.Header().Set("Retry-After", "2")
			WriteError(w, Errorf(http.StatusServiceUnavailable, "unavailable", "", "the batch was not stored; retry it unchanged"))
		}
		return
	}
	WriteJSON(w, http.StatusAccepted, res)
}

// moreProblems adds the meter and value checks of the events that decoded to a decoding error,
// so a client sees every problem of its batch in one answer.
func (h *usageHandlers) moreProblems(ctx context.Context, events []usage.Event, err error) error {
	var inv *usage.InvalidError
	if len(events) == 0 || !errors.As(err, &inv) {
		return err
	}
	skip := map[int]bool{} // events whose type or data is unusable: meter checks would only repeat that
	for _, p := range inv.Problems {
		if p.Index < 0 {
			return err
		}
		if p.Field == "event" || p.Field == "type" || strings.HasPrefix(p.Field, "data") || events[p.Index].Type == "" {
			skip[p.Index] = true
		}
	}
	more := h.ing.Check(ctx, events, func(i int) bool { return skip[i] })
	if len(more) == 0 {
		return err
	}
	all := append(append([]usage.Problem{}, inv.Problems...), more...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Index < all[j].Index })
	return &usage.InvalidError{Events: inv.Events, Problems: all}
}

type eventsModeKind int

const (
	modeAuto eventsModeKind = iota
	modeSingle
	modeBatch
)

func eventsMode(contentType string) (eventsModeKind, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = "application/json", nil
	}
	if err != nil {
		return 0, Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type", "cannot parse %q", contentType)
	}
	switch mt {
	case "application/cloudevents-batch+json":
		return modeBatch, nil
	case "application/cloudevents+json":
		return modeSingle, nil
	case "application/json":
		return modeAuto, nil
	default:
		return 0, Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type",
			"must be application/cloudevents+json or application/cloudevents-batch+json, got %q", mt)
	}
}

// invalidEvents maps a usage.InvalidError to the 400 error shape with one detail per problem.
func invalidEvents(err error) error {
	var inv *usage.InvalidError
	if !errors.As(err, &inv) {
		return err
	}
	e := &Error{Status: http.StatusBadRequest, Code: "invalid_events"}
	bad := map[int]bool{}
	for i, p := range inv.Problems {
		if p.Index >= 0 {
			bad[p.Index] = true
		}
		if i < maxDetails {
			d := ErrorDetail{Field: p.Field, Reason: p.Reason}
			if p.Index >= 0 {
				idx := p.Index
				d.Index = &idx
			}
			e.Details = append(e.Details, d)
		}
	}
	switch {
	case len(bad) == 0 && len(inv.Problems) > 0:
		e.Field, e.Reason = inv.Problems[0].Field, inv.Problems[0].Reason+"; nothing was stored"
		e.Details = nil
	default:
		e.Reason = fmt.Sprintf("%d of %d events are invalid; nothing from this batch was stored", len(bad), max(inv.Events, len(bad)))
	}
	if len(inv.Problems) > maxDetails {
		e.Reason += fmt.Sprintf(" (the first %d of %d problems are listed)", maxDetails, len(inv.Problems))
	}
	return e
}
