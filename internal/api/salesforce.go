package api

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/internal/audit"
	"github.com/revhub/revhub/internal/intake"
	"github.com/revhub/revhub/workflows"
)

// SalesforceNotificationMaxBody bounds a deal push notification (ids only).
const SalesforceNotificationMaxBody = 64 << 10

// Audit log entries of refused Salesforce push notifications.
const (
	AuditActorSalesforce      = "salesforce"
	ActionSalesforceRefused   = "salesforce.notification_refused"
	SubjectSalesforceWebhooks = "webhook:salesforce/deal"
)

// salesforceRoutes is the push endpoint a Salesforce Flow or Apex callout calls when an Opportunity changes.
func salesforceRoutes(c Capabilities) []Route {
	h := http.HandlerFunc(unavailable("the Salesforce intake (verifier, Temporal and PostgreSQL)"))
	if c.SalesforceVerifier != nil && c.Temporal != nil && c.Pool != nil && c.IntakeTaskQueue != "" {
		log := c.Log
		if log == nil {
			log = slog.Default()
		}
		h = salesforceDeal(c, log)
	}
	return []Route{{Method: "POST", Path: "/v1/webhooks/salesforce/deal", Scope: ScopeWebhook, MaxBody: SalesforceNotificationMaxBody, Handler: h,
		Summary: "Salesforce deal notification (X-Revhub-Signature HMAC verified, replays refused): signals the intake to ingest the Opportunities now."}}
}

// salesforceDeal verifies the notification and signals the intake once per Opportunity, starting it if needed.
// A missing, stale, tampered or replayed signature is 401 and recorded in the audit log (never the secret).
func salesforceDeal(c Capabilities, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			WriteError(w, jsonError(err))
			return
		}
		n, err := c.SalesforceVerifier.Verify(ctx, r.Header, body)
		switch {
		case errors.Is(err, salesforce.ErrMissingSignature), errors.Is(err, salesforce.ErrBadSignature),
			errors.Is(err, salesforce.ErrStale), errors.Is(err, salesforce.ErrReplay):
			details := map[string]any{"remote_addr": r.RemoteAddr, "timestamp": r.Header.Get(salesforce.HeaderTimestamp), "body_bytes": len(body)}
			if _, aerr := audit.Record(ctx, c.Pool, AuditActorSalesforce, ActionSalesforceRefused, SubjectSalesforceWebhooks, err.Error(), details); aerr != nil {
				log.ErrorContext(ctx, "audit a refused salesforce notification", "err", aerr)
			}
			log.WarnContext(ctx, "salesforce notification refused", "reason", err.Error(), "remote_addr", r.RemoteAddr)
			WriteError(w, Errorf(http.StatusUnauthorized, "unauthorized", salesforce.HeaderSignature, "%s", err.Error()))
			return
		case errors.Is(err, intake.ErrReplayStore):
			log.ErrorContext(ctx, "salesforce notification replay check", "err", err)
			WriteError(w, Errorf(http.StatusServiceUnavailable, "unavailable", "", "the notification could not be checked now; send it again later"))
			return
		case err != nil:
			WriteError(w, notificationError(err))
			return
		}
		opts := client.StartWorkflowOptions{ID: workflows.IntakeID(), TaskQueue: c.IntakeTaskQueue}
		for _, id := range n.OpportunityIDs {
			if _, err := c.Temporal.SignalWithStartWorkflow(ctx, workflows.IntakeID(), workflows.SignalDealChanged, id, opts,
				workflows.SalesforceIntake, workflows.IntakeInput{}); err != nil {
				log.ErrorContext(ctx, "signal the salesforce intake", "opportunity", id, "err", err)
				WriteError(w, Errorf(http.StatusServiceUnavailable, "unavailable", "", "the intake could not be signalled now; send the notification again later"))
				return
			}
		}
		WriteJSON(w, http.StatusAccepted, map[string]any{"notification_id": n.ID, "opportunity_ids": n.OpportunityIDs, "workflow_id": workflows.IntakeID()})
	}
}

// notificationError names every problem of an authentic but malformed notification.
func notificationError(err error) *Error {
	e := Errorf(http.StatusBadRequest, "invalid_notification", "", "%s", err.Error())
	var joined interface{ Unwrap() []error }
	if inner := errors.Unwrap(err); inner != nil && errors.As(inner, &joined) {
		for _, p := range joined.Unwrap() {
			field, reason, ok := strings.Cut(p.Error(), ": ")
			if !ok {
				field, reason = "", p.Error()
			}
			e.Details = append(e.Details, ErrorDetail{Field: field, Reason: reason})
		}
		if len(e.Details) > 0 {
			e.Field, e.Reason = e.Details[0].Field, e.Details[0].Reason
		}
	}
	return e
}
