package api

import (
	"net/http"
	"strconv"

	"github.com/revhub/revhub/internal/audit"
)

func (s *Server) auditList(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			WriteError(w, Errorf(http.StatusBadRequest, "invalid_parameter", "limit", "must be an integer from 1 to 1000"))
			return
		}
		limit = n
	}
	entries, err := audit.List(r.Context(), s.d.Pool, r.URL.Query().Get("subject"), limit)
	if err != nil {
		s.d.Log.Error("audit list", "err", err)
		WriteError(w, err)
		return
	}
	if entries == nil {
		entries = []audit.Entry{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"entries": entries})
}
