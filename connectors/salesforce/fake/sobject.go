package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// sobject serves GET and PATCH /services/data/vXX.X/sobjects/<Type>/<Id>.
func (s *Server) sobject(w http.ResponseWriter, r *http.Request, version string, parts []string) {
	if len(parts) != 2 {
		writeErrors(w, http.StatusNotFound, apiErr("NOT_FOUND", "The requested resource does not exist"))
		return
	}
	typ, id := parts[0], parts[1]
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.schema[typ]
	if o == nil {
		writeErrors(w, http.StatusNotFound, apiErr("NOT_FOUND", "The requested resource does not exist"))
		return
	}
	if !validID(id) || !strings.HasPrefix(id, o.prefix) {
		writeErrors(w, http.StatusBadRequest, apiErr("MALFORMED_ID", fmt.Sprintf("%s ID: id value of incorrect type: %s", typ, id), "Id"))
		return
	}
	rec, ok := s.st.get(typ, id)
	if !ok {
		writeErrors(w, http.StatusNotFound, apiErr("NOT_FOUND", "The requested resource does not exist"))
		return
	}
	switch r.Method {
	case http.MethodGet:
		names := make([]string, 0, len(o.fields))
		if want := r.URL.Query().Get("fields"); want != "" {
			for _, n := range strings.Split(want, ",") {
				name, _, ok := lookupField(o, strings.TrimSpace(n))
				if !ok {
					writeErrors(w, http.StatusBadRequest, apiErr("INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type %s", n, typ)))
					return
				}
				names = append(names, name)
			}
		} else {
			for n := range o.fields {
				names = append(names, n)
			}
			sort.Strings(names)
		}
		refs := make([]fieldRef, len(names))
		for i, n := range names {
			refs[i] = fieldRef{name: n, f: o.fields[n]}
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(s.st.render(typ, rec, refs, version))
	case http.MethodPatch:
		fields, errs := s.validatePatch(typ, r)
		if len(errs) > 0 {
			writeErrors(w, http.StatusBadRequest, errs...)
			return
		}
		if _, err := s.st.put(typ, str(rec["Id"]), fields); err != nil {
			writeErrors(w, http.StatusInternalServerError, apiErr("UNKNOWN_EXCEPTION", err.Error()))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w, r.Method, "GET,PATCH,HEAD")
	}
}

// validatePatch decodes a PATCH body and checks every field as Salesforce would.
func (s *Server) validatePatch(typ string, r *http.Request) (Record, []apiError) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return nil, []apiError{apiErr("UNSUPPORTED_MEDIA_TYPE", "Content-Type header specified in HTTP request is not supported: "+ct)}
	}
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		return nil, []apiError{apiErr("JSON_PARSER_ERROR", "Unexpected character or end of input in request body: "+err.Error())}
	}
	o := s.st.schema[typ]
	out := Record{}
	var errs []apiError
	var readOnly []string
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "attributes" {
			continue
		}
		name, f, ok := lookupField(o, k)
		if !ok {
			errs = append(errs, apiErr("INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type %s", k, typ)))
			continue
		}
		if f.readOnly {
			readOnly = append(readOnly, name)
			continue
		}
		v, reason := coerce(f, body[k])
		if reason != "" {
			if len(f.values) > 0 && strings.HasPrefix(reason, "bad value") {
				errs = append(errs, apiErr("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", f.label+": "+reason, name))
			} else {
				errs = append(errs, apiErr("JSON_PARSER_ERROR", fmt.Sprintf("Cannot deserialize instance of %s from %s: %s", f.typ, jsonKind(body[k]), reason), name))
			}
			continue
		}
		out[name] = v
	}
	if len(readOnly) > 0 {
		errs = append(errs, apiErr("INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: "+strings.Join(readOnly, ", ")+
			". Please check the security settings of this field and verify that it is read/write for your profile or permission set.", readOnly...))
	}
	if d, ok := num(out["Revhub_Billed_To_Date__c"]); ok && d.IsNegative() {
		errs = append(errs, apiErr("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Billed to date cannot be negative", "Revhub_Billed_To_Date__c"))
	}
	return out, errs
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "VALUE_STRING"
	case json.Number:
		return "VALUE_NUMBER"
	case bool:
		return "VALUE_BOOLEAN"
	case nil:
		return "VALUE_NULL"
	case []any:
		return "START_ARRAY"
	}
	return "START_OBJECT"
}
