package fake

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
)

// auditFields are maintained by the org and cannot be set, not even through the control API.
var auditFields = map[string]bool{"Id": true, "CreatedDate": true, "LastModifiedDate": true, "SystemModstamp": true, "IsDeleted": true}

// derivedFields are computed by the org from other fields.
var derivedFields = map[string]bool{"IsWon": true, "IsClosed": true, "HasOpportunityLineItem": true, "Subtotal": true}

// validateEdit checks fields for a control-API create or edit: every field must exist and fit its type;
// read-only fields other than audit and derived ones may be set (as an admin or data load could).
func (st *store) validateEdit(typ string, fields map[string]any) (Record, error) {
	o := st.schema[typ]
	if o == nil {
		return nil, fmt.Errorf("sObject type %q is not supported", typ)
	}
	out := Record{}
	var errs []error
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name, f, ok := lookupField(o, k)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s.%s: no such field", typ, k))
		case auditFields[name] || derivedFields[name]:
			errs = append(errs, fmt.Errorf("%s.%s: computed by the org, cannot be set", typ, name))
		default:
			v, reason := coerce(f, normalize(fields[k]))
			if reason != "" {
				errs = append(errs, fmt.Errorf("%s.%s: %s", typ, name, reason))
				continue
			}
			if f.typ == tRef && v != nil {
				if target, known := st.objectFor(v.(string)); known && st.records[target][v.(string)] == nil {
					errs = append(errs, fmt.Errorf("%s.%s: no record with id %s", typ, name, v))
					continue
				}
			}
			out[name] = v
		}
	}
	return out, errors.Join(errs...)
}

// normalize turns float64 (from a caller's map literal) into json.Number; other values pass through.
func normalize(v any) any {
	if f, ok := v.(float64); ok {
		return json.Number(fmt.Sprint(f))
	}
	if i, ok := v.(int); ok {
		return json.Number(fmt.Sprint(i))
	}
	return v
}

// Create adds a record of type typ and returns its id; fields may include an "Id" to fix it.
func (s *Server) Create(typ string, fields map[string]any) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.create(typ, fields)
}

func (s *Server) create(typ string, fields map[string]any) (string, error) {
	id, _ := fields["Id"].(string)
	rest := maps.Clone(fields)
	delete(rest, "Id")
	rec, err := s.st.validateEdit(typ, rest)
	if err != nil {
		return "", err
	}
	if id != "" {
		if !validID(id) || s.st.schema[typ] == nil || !strings.HasPrefix(id, s.st.schema[typ].prefix) {
			return "", fmt.Errorf("%s.Id: %q is not an 18-character %s id", typ, id, typ)
		}
		if _, exists := s.st.get(typ, id); exists {
			return "", fmt.Errorf("%s.Id: %s already exists", typ, id)
		}
		s.st.records[typ][id] = Record{"Id": id}
	}
	return s.st.put(typ, id, rec)
}

// Update edits a record as a person in Salesforce would, bumping SystemModstamp (and the parent
// Opportunity's, for a line item).
func (s *Server) Update(typ, id string, fields map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.get(typ, id); !ok {
		return fmt.Errorf("%s %s: not found", typ, id)
	}
	rec, err := s.st.validateEdit(typ, fields)
	if err != nil {
		return err
	}
	_, err = s.st.put(typ, id, rec)
	return err
}

// CloseWon moves an Opportunity to the first won stage with the given close date (YYYY-MM-DD; "" keeps it).
func (s *Server) CloseWon(id, closeDate string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.get("Opportunity", id); !ok {
		return fmt.Errorf("opportunity %s: not found", id)
	}
	fields := map[string]any{"StageName": s.st.wonStages[0]}
	if closeDate != "" {
		fields["CloseDate"] = closeDate
	}
	rec, err := s.st.validateEdit("Opportunity", fields)
	if err != nil {
		return err
	}
	_, err = s.st.put("Opportunity", id, rec)
	return err
}

// Corrupt stores raw as the JSON value of field, bypassing validation, to model a malformed record.
func (s *Server) Corrupt(typ, id, field string, raw json.RawMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.get(typ, id); !ok {
		return fmt.Errorf("%s %s: not found", typ, id)
	}
	if !json.Valid(raw) {
		return fmt.Errorf("corrupt %s.%s: the raw value must itself be valid JSON", typ, field)
	}
	_, err := s.st.put(typ, id, Record{field: raw})
	return err
}

// Record returns a copy of one record.
func (s *Server) Record(typ, id string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.st.get(typ, id)
	if !ok {
		return nil, false
	}
	return maps.Clone(r), true
}
