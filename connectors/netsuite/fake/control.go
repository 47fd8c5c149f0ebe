package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/netsuite"
)

// controlRoutes registers the /__fake/ control API (unauthenticated; for tests and `revhub dev`):
//
//	POST   /__fake/periods/{month}/close        close a month ("2026-11")
//	POST   /__fake/periods/{month}/lock         lock a month (revhub's role cannot override)
//	POST   /__fake/faults                       queue a Fault (JSON body)
//	GET    /__fake/requests                     the request log
//	GET    /__fake/journal-entries              every stored journal entry
//	POST   /__fake/journal-entries/{eid}/lines/{n}  alter a line: {"debit":"1.00"} or {"credit":"1.00"}, {"account":"150"}
//	DELETE /__fake/journal-entries/{eid}        remove an entry behind revhub's back
func (s *Server) controlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /__fake/periods/{month}/close", func(w http.ResponseWriter, r *http.Request) {
		if err := s.ClosePeriod(r.PathValue("month")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /__fake/periods/{month}/lock", func(w http.ResponseWriter, r *http.Request) {
		if err := s.LockPeriod(r.PathValue("month")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /__fake/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
			http.Error(w, "fault: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.InjectFault(f)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /__fake/requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Requests())
	})
	mux.HandleFunc("GET /__fake/journal-entries", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.JournalEntries())
	})
	mux.HandleFunc("POST /__fake/journal-entries/{eid}/lines/{n}", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Debit, Credit, Account string }
		n, err := strconv.Atoi(r.PathValue("n"))
		if err == nil {
			err = json.NewDecoder(r.Body).Decode(&body)
		}
		if err == nil {
			err = s.AlterLine(r.PathValue("eid"), n, func(l *netsuite.JournalLine) error {
				if body.Account != "" {
					l.Account = netsuite.Ref{ID: body.Account}
				}
				return setAmounts(l, body.Debit, body.Credit)
			})
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /__fake/journal-entries/{eid}", func(w http.ResponseWriter, r *http.Request) {
		if !s.RemoveEntry(r.PathValue("eid")) {
			http.Error(w, "no such external id", http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func setAmounts(l *netsuite.JournalLine, debit, credit string) error {
	for _, x := range []struct {
		v   string
		dst **netsuite.Amount
	}{{debit, &l.Debit}, {credit, &l.Credit}} {
		if x.v == "" {
			continue
		}
		d, err := decimal.NewFromString(x.v)
		if err != nil {
			return fmt.Errorf("amount %q: %w", x.v, err)
		}
		*x.dst = netsuite.NewAmount(d)
	}
	return nil
}

// ClosePeriod closes an accounting month ("2026-11"): journal entries dated in it are refused.
func (s *Server) ClosePeriod(month string) error {
	return s.setPeriod(month, func(p *period) { p.closed = true })
}

// LockPeriod locks an accounting month: revhub's role has no override, so its writes are refused.
func (s *Server) LockPeriod(month string) error {
	return s.setPeriod(month, func(p *period) { p.locked = true })
}

func (s *Server) setPeriod(month string, set func(*period)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.store.byMonth[month]
	if !ok {
		return fmt.Errorf("fake netsuite: no accounting period %q (YYYY-MM, %d-%d)", month, firstYear, lastYear)
	}
	set(p)
	return nil
}

// PeriodID returns the internal id of an accounting month ("2026-11").
func (s *Server) PeriodID(month string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.store.byMonth[month]
	if !ok {
		return "", false
	}
	return strconv.Itoa(p.id), true
}

// InjectFault queues a fault for the next matching API requests.
func (s *Server) InjectFault(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []LoggedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LoggedRequest(nil), s.log...)
}

// MaxInFlight is the highest number of API requests the fake admitted at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// JournalEntries returns copies of the stored journal entries by ascending internal id.
func (s *Server) JournalEntries() []netsuite.JournalEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]netsuite.JournalEntry, 0, len(s.store.entries))
	for _, id := range s.store.sortedIDs() {
		je := *s.store.entries[id]
		je.Line.Items = append([]netsuite.JournalLine(nil), je.Line.Items...)
		out = append(out, je)
	}
	return out
}

// SeedJournalEntry stores an entry directly, as if someone had keyed it in NetSuite (no validation).
func (s *Server) SeedJournalEntry(je netsuite.JournalEntry) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if je.Currency == nil {
		je.Currency = &netsuite.Ref{ID: "1"}
	}
	if je.PostingPeriod == nil {
		if p, ok := s.store.byMonth[truncate(je.TranDate, 7)]; ok {
			je.PostingPeriod = &netsuite.Ref{ID: strconv.Itoa(p.id), RefName: p.name}
		}
	}
	return strconv.Itoa(s.store.put(je, s.store.byExtID[je.ExternalID], s.opts.Now()))
}

// AlterLine edits a stored line in place, bypassing validation (for red reconciliation tests).
func (s *Server) AlterLine(externalID string, line int, edit func(*netsuite.JournalLine) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.store.byExtID[externalID]
	if !ok {
		return fmt.Errorf("fake netsuite: no journal entry with external id %q", externalID)
	}
	je := s.store.entries[id]
	if line < 0 || line >= len(je.Line.Items) {
		return fmt.Errorf("fake netsuite: journal entry %s has no line %d", externalID, line)
	}
	items := append([]netsuite.JournalLine(nil), je.Line.Items...)
	if err := edit(&items[line]); err != nil {
		return err
	}
	je.Line.Items = items
	return nil
}

// RemoveEntry deletes an entry by external id, bypassing period rules; false when absent.
func (s *Server) RemoveEntry(externalID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.store.byExtID[externalID]
	if ok {
		s.store.remove(id)
	}
	return ok
}
