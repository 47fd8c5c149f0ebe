package fake

import (
	"encoding/json"
	"net/http"
)

// controlRoutes adds the control API used by tests and `revhub dev` operators:
//
//	GET  /_control/requests              the request log
//	POST /_control/faults                {"path","status","body","retry_after","after_execute"}
//	POST /_control/expire-tokens         invalidate every access token
//	POST /_control/decline-next          next capture: INSTRUMENT_DECLINED
//	POST /_control/pend-next             {"reason"}: next capture PENDING
//	POST /_control/orders/{id}/approve   buyer approval
//	POST /_control/captures/{id}/complete complete a PENDING capture (emits the webhook)
func (s *Server) controlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_control/requests", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Requests()) })
	mux.HandleFunc("POST /_control/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil || f.Status < 400 {
			writeJSON(w, 400, map[string]string{"error": "body must be a fault with a status >= 400"})
			return
		}
		s.InjectFault(f)
		w.WriteHeader(204)
	})
	mux.HandleFunc("POST /_control/expire-tokens", func(w http.ResponseWriter, r *http.Request) { s.ExpireTokens(); w.WriteHeader(204) })
	mux.HandleFunc("POST /_control/decline-next", func(w http.ResponseWriter, r *http.Request) { s.DeclineNext(); w.WriteHeader(204) })
	mux.HandleFunc("POST /_control/pend-next", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Reason string `json:"reason"`
		}
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b.Reason == "" {
			writeJSON(w, 400, map[string]string{"error": "body must be {\"reason\": \"PENDING_REVIEW\"}"})
			return
		}
		s.PendNext(b.Reason)
		w.WriteHeader(204)
	})
	mux.HandleFunc("POST /_control/orders/{id}/approve", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Approve(r.PathValue("id")); err != nil {
			writeJSON(w, 409, map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(204)
	})
	mux.HandleFunc("POST /_control/captures/{id}/complete", func(w http.ResponseWriter, r *http.Request) {
		if err := s.CompletePending(r.PathValue("id")); err != nil {
			writeJSON(w, 409, map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(204)
	})
}
