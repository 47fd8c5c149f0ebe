package fake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// control serves the /__fake/ control API:
//
//	POST   /__fake/faults                         queue a Fault or a list of Faults
//	GET    /__fake/faults, DELETE /__fake/faults  list or clear queued faults
//	POST   /__fake/sessions/expire                invalidate every access token
//	PUT    /__fake/limits                         {"used":N,"limit":M} set the org's API usage
//	POST   /__fake/opportunities/{id}/close-won   {"close_date":"YYYY-MM-DD"} (optional body)
//	POST   /__fake/records/{type}                 create a record (JSON fields), answers {"id":...}
//	GET    /__fake/records/{type}/{id}            read a record
//	PATCH  /__fake/records/{type}/{id}            edit a record as a person in Salesforce would
//	GET    /__fake/requests, DELETE /__fake/requests  read or clear the request log
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/__fake/"), "/"), "/")
	route := r.Method + " " + parts[0]
	switch {
	case route == "POST faults" && len(parts) == 1:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		var fs []Fault
		if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
			var f Fault
			err = strictDecode(t, &f)
			fs = []Fault{f}
		} else {
			err = strictDecode(t, &fs)
		}
		if err != nil {
			controlError(w, http.StatusBadRequest, "faults: "+err.Error())
			return
		}
		s.AddFaults(fs...)
		w.WriteHeader(http.StatusNoContent)
	case route == "GET faults":
		writeJSON(w, http.StatusOK, s.Faults())
	case route == "DELETE faults":
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case route == "POST sessions" && len(parts) == 2 && parts[1] == "expire":
		s.ExpireSessions()
		w.WriteHeader(http.StatusNoContent)
	case route == "PUT limits":
		var l struct {
			Used  int `json:"used"`
			Limit int `json:"limit"`
		}
		if err := decodeBody(r, &l); err != nil {
			controlError(w, http.StatusBadRequest, "limits: "+err.Error())
			return
		}
		s.SetAPIUsage(l.Used, l.Limit)
		w.WriteHeader(http.StatusNoContent)
	case route == "POST opportunities" && len(parts) == 3 && parts[2] == "close-won":
		var b struct {
			CloseDate string `json:"close_date"`
		}
		if r.ContentLength != 0 {
			if err := decodeBody(r, &b); err != nil {
				controlError(w, http.StatusBadRequest, "close-won: "+err.Error())
				return
			}
		}
		if err := s.CloseWon(parts[1], b.CloseDate); err != nil {
			controlError(w, statusFor(err), err.Error())
			return
		}
		rec, _ := s.Record("Opportunity", parts[1])
		writeJSON(w, http.StatusOK, rec)
	case route == "POST records" && len(parts) == 2:
		fields, err := decodeFields(r)
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		id, err := s.Create(parts[1], fields)
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	case route == "GET records" && len(parts) == 3:
		rec, ok := s.Record(parts[1], parts[2])
		if !ok {
			controlError(w, http.StatusNotFound, parts[1]+" "+parts[2]+": not found")
			return
		}
		writeJSON(w, http.StatusOK, rec)
	case route == "PATCH records" && len(parts) == 3:
		fields, err := decodeFields(r)
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		if err := s.Update(parts[1], parts[2], fields); err != nil {
			controlError(w, statusFor(err), err.Error())
			return
		}
		rec, _ := s.Record(parts[1], parts[2])
		writeJSON(w, http.StatusOK, rec)
	case route == "GET requests":
		writeJSON(w, http.StatusOK, s.Requests())
	case route == "DELETE requests":
		s.ClearRequests()
		w.WriteHeader(http.StatusNoContent)
	default:
		controlError(w, http.StatusNotFound, "no control route "+r.Method+" "+r.URL.Path)
	}
}

func controlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func statusFor(err error) int {
	if strings.HasSuffix(err.Error(), ": not found") {
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func decodeBody(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	return strictDecode(body, v)
}

func decodeFields(r *http.Request) (map[string]any, error) {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil {
		return nil, err
	}
	return fields, nil
}
