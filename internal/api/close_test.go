package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/mocks"

	"github.com/revhub/revhub/internal/apikey"
	"github.com/revhub/revhub/workflows"
)

// closeMux serves the close routes over a mocked Temporal client, as an authenticated admin key.
func closeMux(t *testing.T, tc *mocks.Client) http.Handler {
	t.Helper()
	mux := http.NewServeMux()
	c := Capabilities{CloseTaskQueue: "revhub"}
	if tc != nil {
		c.Temporal = tc
	}
	for _, r := range closeRoutes(c) {
		mux.HandleFunc(r.Method+" "+r.Path, r.Handler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), ctxKey{}, apikey.Key{ID: "k1", Name: "ops"})
		mux.ServeHTTP(w, r.WithContext(ctx))
	})
}

func call(t *testing.T, h http.Handler, method, path, body string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON", method, path, rec.Code, rec.Body.String())
	}
	return rec.Code, out
}

func TestCloseApproveSendsTheSignalWithTheKeyAsActor(t *testing.T) {
	tc := &mocks.Client{}
	want := workflows.CloseSignal{Kind: workflows.SignalCloseApprove, Actor: "apikey:ops(k1)", Reason: "booked by hand", Check: "invoices_vs_ledger", DifferenceKey: "inv_9"}
	tc.On("SignalWorkflow", mock.Anything, "close/acme-us/2026-10", "", workflows.SignalCloseApprove, want).Return(nil).Once()
	code, out := call(t, closeMux(t, tc), "POST", "/v1/closes/acme-us/2026-10/approve", `{"reason":"booked by hand","check":"invoices_vs_ledger","difference_key":"inv_9"}`)
	if code != http.StatusAccepted || out["actor"] != "apikey:ops(k1)" || out["workflow_id"] != "close/acme-us/2026-10" {
		t.Fatalf("%d %v", code, out)
	}
	tc.AssertExpectations(t)
}

func TestCloseDecisionsNameEveryMissingField(t *testing.T) {
	tc := &mocks.Client{} // no signal may be sent
	code, out := call(t, closeMux(t, tc), "POST", "/v1/closes/acme-us/2026-10/skip", `{}`)
	e, _ := out["error"].(map[string]any)
	if code != http.StatusBadRequest || e["field"] != "reason" {
		t.Fatalf("%d %v", code, out)
	}
	details, _ := e["details"].([]any)
	if len(details) != 2 || details[1].(map[string]any)["field"] != "customer" {
		t.Fatalf("details %v", details)
	}
	code, out = call(t, closeMux(t, tc), "POST", "/v1/closes/acme-us/2026-13/retry", `{"reason":"x"}`)
	if e, _ := out["error"].(map[string]any); code != http.StatusBadRequest || e["field"] != "period" {
		t.Fatalf("%d %v", code, out)
	}
	code, _ = call(t, closeMux(t, tc), "POST", "/v1/closes/acme-us/2026-10/retry", `{"reason":"x","actor":"someone else"}`)
	if code != http.StatusBadRequest {
		t.Fatalf("an actor in the body was accepted: %d", code)
	}
	tc.AssertNotCalled(t, "SignalWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything)
}

func TestCloseNotRunningAndNotFound(t *testing.T) {
	tc := &mocks.Client{}
	tc.On("SignalWorkflow", mock.Anything, "close/acme-us/2026-09", "", workflows.SignalCloseRetryStep, mock.Anything).
		Return(serviceerror.NewNotFound("workflow not found")).Once()
	tc.On("QueryWorkflow", mock.Anything, "close/acme-us/2026-09", "", workflows.QueryStatus).
		Return(nil, serviceerror.NewNotFound("workflow not found")).Once()
	h := closeMux(t, tc)
	if code, out := call(t, h, "POST", "/v1/closes/acme-us/2026-09/retry", `{"reason":"payout report arrived"}`); code != http.StatusConflict {
		t.Fatalf("%d %v", code, out)
	}
	if code, out := call(t, h, "GET", "/v1/closes/acme-us/2026-09", ``); code != http.StatusNotFound {
		t.Fatalf("%d %v", code, out)
	}
	tc.AssertExpectations(t)
}

func TestCloseStatusReturnsTheQuery(t *testing.T) {
	tc := &mocks.Client{}
	v := &mocks.Value{}
	v.On("Get", mock.Anything).Run(func(args mock.Arguments) {
		*args.Get(0).(*workflows.CloseState) = workflows.CloseState{Run: "close/acme-us/2026-10", Step: "billing", Recon: workflows.CloseReconBlocked}
	}).Return(nil)
	tc.On("QueryWorkflow", mock.Anything, "close/acme-us/2026-10", "", workflows.QueryStatus).Return(v, nil).Once()
	code, out := call(t, closeMux(t, tc), "GET", "/v1/closes/acme-us/2026-10", ``)
	if code != http.StatusOK || out["recon"] != "blocked" || out["step"] != "billing" {
		t.Fatalf("%d %v", code, out)
	}
}

func TestCloseRoutesUnavailableWithoutTemporal(t *testing.T) {
	code, out := call(t, closeMux(t, nil), "GET", "/v1/closes/acme-us/2026-10", ``)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("%d %v", code, out)
	}
}
