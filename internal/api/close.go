package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/revhub/revhub/workflows"
)

// closeRoutes are the month-end close controls: start, status and the decisions revenue ops take
// on a blocked close (approve, retry, skip, rerun), each sent as a signal with the API key as actor.
func closeRoutes(c Capabilities) []Route {
	queue := c.CloseTaskQueue
	if queue == "" {
		queue = c.IntakeTaskQueue
	}
	var start, status, approve, retry, skip, rerun http.HandlerFunc
	if c.Temporal == nil || queue == "" {
		na := unavailable("the month-end close (Temporal)")
		start, status, approve, retry, skip, rerun = na, na, na, na, na, na
	} else {
		ctl := closeControl{tc: c.Temporal, queue: queue}
		start, status = ctl.start, ctl.status
		approve = ctl.decide(workflows.SignalCloseApprove)
		retry = ctl.decide(workflows.SignalCloseRetryStep)
		skip = ctl.decide(workflows.SignalCloseSkipCustomer)
		rerun = ctl.decide(workflows.SignalCloseRerunCustomer)
	}
	const p = "/v1/closes/{entity}/{period}"
	return []Route{
		{Method: "POST", Path: p, Scope: ScopeAdmin, Handler: start, Summary: "Start (or re-run) an entity's month-end close of a period; a running close is returned as it is."},
		{Method: "GET", Path: p, Scope: ScopeRead, Handler: status, Summary: "Progress of a month-end close: each step's state, counts, checks and decisions."},
		{Method: "POST", Path: p + "/approve", Scope: ScopeAdmin, Handler: approve, Summary: "Approve a blocked reconciliation check (or one difference key of it), with a reason."},
		{Method: "POST", Path: p + "/retry", Scope: ScopeAdmin, Handler: retry, Summary: "Re-run a blocked step's check as its next attempt, with a reason."},
		{Method: "POST", Path: p + "/skip", Scope: ScopeAdmin, Handler: skip, Summary: "Leave a customer out of the close, with a reason (recorded in the audit log)."},
		{Method: "POST", Path: p + "/rerun", Scope: ScopeAdmin, Handler: rerun, Summary: "Bill one customer's cycles of the period again, then re-check, with a reason."},
	}
}

type closeControl struct {
	tc    client.Client
	queue string
}

// closePath reads and checks {entity} and {period}, naming each bad one.
func closePath(r *http.Request) (string, string, error) {
	entity, period := r.PathValue("entity"), r.PathValue("period")
	var details []ErrorDetail
	if entity == "" || strings.Contains(entity, "/") {
		details = append(details, ErrorDetail{Field: "entity", Reason: "must be a billing entity without '/'"})
	}
	if _, err := time.Parse("2006-01", period); err != nil {
		details = append(details, ErrorDetail{Field: "period", Reason: fmt.Sprintf("%q is not YYYY-MM", period)})
	}
	if len(details) == 0 {
		return entity, period, nil
	}
	return "", "", invalidError("invalid_parameter", details)
}

// closeStartRequest is the optional body of a start.
type closeStartRequest struct {
	Grace     string   `json:"grace,omitempty"` // Go duration, e.g. "2h"
	FanOut    int      `json:"fan_out,omitempty"`
	NoCollect bool     `json:"no_collect,omitempty"`
	Skip      []string `json:"skip,omitempty"`
}

func (ctl closeControl) start(w http.ResponseWriter, r *http.Request) {
	entity, period, err := closePath(r)
	if err != nil {
		WriteError(w, err)
		return
	}
	var req closeStartRequest
	if r.ContentLength != 0 {
		if err := DecodeJSON(r, &req); err != nil {
			WriteError(w, err)
			return
		}
	}
	in := workflows.CloseInput{Entity: entity, Period: period, FanOut: req.FanOut, NoCollect: req.NoCollect, Skip: req.Skip}
	if req.Grace != "" {
		g, err := time.ParseDuration(req.Grace)
		if err != nil {
			WriteError(w, Errorf(http.StatusBadRequest, "invalid_field", "grace", "%q is not a duration such as 2h", req.Grace))
			return
		}
		in.Grace = g
	}
	run, err := workflows.StartClose(r.Context(), ctl.tc, ctl.queue, in)
	if err != nil {
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) && ae.Type() == workflows.ErrInvalidInput {
			WriteError(w, Errorf(http.StatusBadRequest, "invalid_field", "", "%s", ae.Message()))
			return
		}
		WriteError(w, fmt.Errorf("start close: %w", err))
		return
	}
	WriteJSON(w, http.StatusAccepted, map[string]string{"workflow_id": run.GetID(), "run_id": run.GetRunID()})
}

func (ctl closeControl) status(w http.ResponseWriter, r *http.Request) {
	entity, period, err := closePath(r)
	if err != nil {
		WriteError(w, err)
		return
	}
	st, err := workflows.CloseStatus(r.Context(), ctl.tc, entity, period)
	if errors.Is(err, workflows.ErrCloseNotFound) {
		WriteError(w, Errorf(http.StatusNotFound, "not_found", "", "no close of %s for %s", entity, period))
		return
	}
	if err != nil {
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, st)
}

// closeDecisionRequest is the body of a decision; the actor is the calling API key.
type closeDecisionRequest struct {
	Reason        string `json:"reason"`
	Check         string `json:"check,omitempty"`
	DifferenceKey string `json:"difference_key,omitempty"`
	Step          string `json:"step,omitempty"`
	Customer      string `json:"customer,omitempty"`
}

func (ctl closeControl) decide(signal string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		entity, period, err := closePath(r)
		if err != nil {
			WriteError(w, err)
			return
		}
		var req closeDecisionRequest
		if err := DecodeJSON(r, &req); err != nil {
			WriteError(w, err)
			return
		}
		s := workflows.CloseSignal{Actor: Actor(r.Context()), Reason: req.Reason, Check: req.Check, DifferenceKey: req.DifferenceKey,
			Step: req.Step, Customer: req.Customer}
		err = workflows.SignalClose(r.Context(), ctl.tc, entity, period, signal, s)
		var bad *workflows.InvalidSignalError
		switch {
		case errors.As(err, &bad):
			WriteError(w, signalError(bad))
		case errors.Is(err, workflows.ErrCloseNotFound):
			WriteError(w, Errorf(http.StatusConflict, "not_running", "", "the close of %s for %s is not running", entity, period))
		case err != nil:
			WriteError(w, err)
		default:
			WriteJSON(w, http.StatusAccepted, map[string]string{"workflow_id": workflows.CloseID(entity, period), "signal": signal, "actor": s.Actor,
				"note": "the close acts on the decision in order; GET the close to see its outcome"})
		}
	}
}

// signalError turns "field: reason; field: reason" into the API error with every field named.
func signalError(bad *workflows.InvalidSignalError) *Error {
	var details []ErrorDetail
	for _, part := range strings.Split(bad.Err.Error(), "; ") {
		f, reason, _ := strings.Cut(part, ": ")
		details = append(details, ErrorDetail{Field: f, Reason: reason})
	}
	return invalidError("invalid_field", details)
}
