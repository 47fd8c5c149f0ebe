package fake

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// cursor is a query locator: the snapshot of a result still being paged.
type cursor struct {
	version  string
	records  []json.RawMessage
	pageSize int
}

// pageSize honours `Sforce-Query-Options: batchSize=N` (200..2000) under the fake's PageSize cap.
func (s *Server) pageSize(r *http.Request) int {
	size := 2000
	for _, opt := range strings.Split(r.Header.Get("Sforce-Query-Options"), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(opt), "batchSize="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				size = min(max(n, 200), 2000)
			}
		}
	}
	return min(size, s.opts.PageSize)
}

// query serves GET /services/data/vXX.X/query?q=SOQL.
func (s *Server) query(w http.ResponseWriter, r *http.Request, version string) {
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		writeErrors(w, http.StatusBadRequest, apiErr("MALFORMED_QUERY", "A query string has to be specified"))
		return
	}
	sq, err := parseSOQL(q)
	if err == nil {
		s.mu.Lock()
		var rows []json.RawMessage
		var serr *soqlError
		rows, serr = s.st.run(q, sq, version)
		s.mu.Unlock()
		if serr == nil {
			s.writePage(w, &cursor{version: version, records: rows, pageSize: s.pageSize(r)}, 0, "")
			return
		}
		err = serr
	}
	var se *soqlError
	if errors.As(err, &se) {
		writeErrors(w, http.StatusBadRequest, apiErr(se.code, se.msg))
		return
	}
	writeErrors(w, http.StatusBadRequest, apiErr("MALFORMED_QUERY", err.Error()))
}

// queryMore serves GET /services/data/vXX.X/query/<locator>-<offset>.
func (s *Server) queryMore(w http.ResponseWriter, locator string) {
	id, offStr, ok := strings.Cut(locator, "-")
	off, err := strconv.Atoi(offStr)
	s.mu.Lock()
	c := s.cursors[id]
	s.mu.Unlock()
	if !ok || err != nil || c == nil || off <= 0 || off >= len(c.records) {
		writeErrors(w, http.StatusBadRequest, apiErr("INVALID_QUERY_LOCATOR", "invalid query locator"))
		return
	}
	s.writePage(w, c, off, id)
}

// writePage answers one page starting at off, keeping the cursor while records remain.
func (s *Server) writePage(w http.ResponseWriter, c *cursor, off int, id string) {
	end := min(off+c.pageSize, len(c.records))
	page := struct {
		TotalSize      int               `json:"totalSize"`
		Done           bool              `json:"done"`
		NextRecordsURL string            `json:"nextRecordsUrl,omitempty"`
		Records        []json.RawMessage `json:"records"`
	}{TotalSize: len(c.records), Done: end >= len(c.records), Records: c.records[off:end]}
	if page.Records == nil {
		page.Records = []json.RawMessage{}
	}
	s.mu.Lock()
	if page.Done {
		if id != "" {
			delete(s.cursors, id)
		}
	} else {
		if id == "" {
			id = newLocator()
			s.cursors[id] = c
		}
		page.NextRecordsURL = "/services/data/v" + c.version + "/query/" + id + "-" + strconv.Itoa(end)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, page)
}
