package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/netsuite"
)

// period is one row of NetSuite's accountingperiod table.
type period struct {
	id                int
	name              string // "Nov 2026", "Q4 2026", "FY 2026"
	start, end        time.Time
	isQuarter, isYear bool
	closed            bool
	locked            bool   // revhub's role has no "Override Period Restrictions": writes are refused
	month             string // "2026-11" for months
}

// store is the account's data: accounting periods and journal entries.
type store struct {
	periods   []*period
	byMonth   map[string]*period
	nextID    int
	entries   map[int]*netsuite.JournalEntry
	byExtID   map[string]int
	createdAt map[int]time.Time
}

// firstYear and lastYear bound the accounting periods the fake account has.
const firstYear, lastYear = 2015, 2040

func newStore() *store {
	st := &store{byMonth: map[string]*period{}, nextID: 101, entries: map[int]*netsuite.JournalEntry{},
		byExtID: map[string]int{}, createdAt: map[int]time.Time{}}
	id := 1
	for y := firstYear; y <= lastYear; y++ {
		start := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		st.periods = append(st.periods, &period{id: id, name: fmt.Sprintf("FY %d", y), start: start, end: start.AddDate(1, 0, -1), isYear: true})
		id++
		for q := 0; q < 4; q++ {
			qs := start.AddDate(0, 3*q, 0)
			st.periods = append(st.periods, &period{id: id, name: fmt.Sprintf("Q%d %d", q+1, y), start: qs, end: qs.AddDate(0, 3, -1), isQuarter: true})
			id++
			for m := 0; m < 3; m++ {
				ms := qs.AddDate(0, m, 0)
				p := &period{id: id, name: ms.Format("Jan 2006"), start: ms, end: ms.AddDate(0, 1, -1), month: ms.Format("2006-01")}
				st.periods = append(st.periods, p)
				st.byMonth[p.month] = p
				id++
			}
		}
	}
	return st
}

func (st *store) periodByID(id string) *period {
	n, err := strconv.Atoi(id)
	if err != nil {
		return nil
	}
	for _, p := range st.periods {
		if p.id == n && p.month != "" {
			return p
		}
	}
	return nil
}

// route serves the record and query endpoints.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	const rec = "/services/rest/record/v1/journalEntry"
	switch {
	case r.URL.Path == "/services/rest/query/v1/suiteql":
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "INVALID_REQUEST", "", "Method "+r.Method+" is not allowed.")
			return
		}
		s.suiteQL(w, r)
	case r.URL.Path == rec:
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "INVALID_REQUEST", "", "Method "+r.Method+" is not allowed.")
			return
		}
		s.create(w, r)
	case strings.HasPrefix(r.URL.Path, rec+"/"):
		ref := strings.TrimPrefix(r.URL.Path, rec+"/")
		switch r.Method {
		case http.MethodPut:
			s.upsert(w, r, ref)
		case http.MethodGet:
			s.get(w, r, ref)
		case http.MethodDelete:
			s.delete(w, ref)
		default:
			writeError(w, http.StatusMethodNotAllowed, "INVALID_REQUEST", "", "Method "+r.Method+" is not allowed.")
		}
	default:
		writeError(w, http.StatusNotFound, "NONEXISTENT_ID", "", "The record type or path "+r.URL.Path+" does not exist.")
	}
}

// decodeEntry reads a journal entry body; false when it answered an error.
func decodeEntry(w http.ResponseWriter, r *http.Request) (netsuite.JournalEntry, bool) {
	var je netsuite.JournalEntry
	b, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		err = dec.Decode(&je)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_CONTENT", "", "Invalid content in the request body: "+err.Error())
		return je, false
	}
	return je, true
}

// validate applies NetSuite's rules for a journal entry and resolves its posting period.
func (s *Server) validate(w http.ResponseWriter, je *netsuite.JournalEntry) bool {
	if je.Subsidiary == nil || je.Subsidiary.ID == "" {
		writeError(w, http.StatusBadRequest, "USER_ERROR", "subsidiary", "Please enter value(s) for: Subsidiary")
		return false
	}
	if je.ExternalID != "" && !netsuite.ValidExternalID(je.ExternalID) {
		writeError(w, http.StatusBadRequest, "INVALID_CONTENT", "externalId", "Invalid externalId: only letters, digits, '_' and '-' are allowed.")
		return false
	}
	if je.TranDate == "" {
		je.TranDate = s.opts.Now().Format(time.DateOnly)
	}
	d, err := time.Parse(time.DateOnly, je.TranDate)
	if err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_CONTENT", "tranDate", fmt.Sprintf("Invalid value %q for field tranDate: expected YYYY-MM-DD.", je.TranDate))
		return false
	}
	if je.Currency == nil {
		je.Currency = &netsuite.Ref{ID: "1"}
	}
	var p *period
	if je.PostingPeriod != nil {
		if p = s.store.periodByID(je.PostingPeriod.ID); p == nil {
			writeError(w, http.StatusBadRequest, "INVALID_CONTENT", "postingPeriod", "Invalid reference "+je.PostingPeriod.ID+" for field postingPeriod.")
			return false
		}
	} else if p = s.store.byMonth[d.Format("2006-01")]; p == nil {
		writeError(w, http.StatusBadRequest, "USER_ERROR", "tranDate", "No accounting period covers "+je.TranDate+".")
		return false
	}
	je.PostingPeriod = &netsuite.Ref{ID: strconv.Itoa(p.id), RefName: p.name}
	if len(je.Line.Items) < 2 {
		writeError(w, http.StatusBadRequest, "USER_ERROR", "line", "You must enter at least two lines for this transaction.")
		return false
	}
	debit, credit := decimal.Zero, decimal.Zero
	for i, l := range je.Line.Items {
		path := fmt.Sprintf("line.items[%d]", i)
		if l.Account.ID == "" {
			writeError(w, http.StatusBadRequest, "USER_ERROR", path+".account", "Please enter value(s) for: Account")
			return false
		}
		hasD, hasC := l.Debit != nil && !l.Debit.IsZero(), l.Credit != nil && !l.Credit.IsZero()
		if hasD == hasC || hasD && l.Debit.IsNegative() || hasC && l.Credit.IsNegative() {
			writeError(w, http.StatusBadRequest, "USER_ERROR", path, "Each line needs either a positive debit or a positive credit amount.")
			return false
		}
		if hasD {
			debit = debit.Add(l.Debit.Decimal)
		} else {
			credit = credit.Add(l.Credit.Decimal)
		}
	}
	if !debit.Equal(credit) {
		writeError(w, http.StatusBadRequest, "USER_ERROR", "line", "The total of debit entries must equal the total of credit entries.")
		return false
	}
	if p.closed {
		writeError(w, http.StatusBadRequest, "USER_ERROR", "postingPeriod",
			fmt.Sprintf("The accounting period %s is closed. You cannot post transactions to a closed period.", p.name))
		return false
	}
	if p.locked {
		writeError(w, http.StatusBadRequest, "USER_ERROR", "postingPeriod",
			fmt.Sprintf("The accounting period %s is locked. You do not have permission to post to a locked period.", p.name))
		return false
	}
	return true
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	je, ok := decodeEntry(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.validate(w, &je) {
		return
	}
	if je.ExternalID != "" {
		if _, dup := s.store.byExtID[je.ExternalID]; dup {
			writeError(w, http.StatusBadRequest, "USER_ERROR", "externalId",
				"A record with external ID "+je.ExternalID+" already exists. Use a unique external ID or update the existing record.")
			return
		}
	}
	id := s.store.put(je, 0, s.opts.Now())
	w.Header().Set("Location", baseURL(r)+"/services/rest/record/v1/journalEntry/"+strconv.Itoa(id))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) upsert(w http.ResponseWriter, r *http.Request, ref string) {
	ext, ok := strings.CutPrefix(ref, "eid:")
	if !ok {
		writeError(w, http.StatusMethodNotAllowed, "INVALID_REQUEST", "", "PUT is only supported with an external id (eid:...).")
		return
	}
	if !netsuite.ValidExternalID(ext) {
		writeError(w, http.StatusBadRequest, "INVALID_CONTENT", "externalId", "Invalid externalId: only letters, digits, '_' and '-' are allowed.")
		return
	}
	je, ok := decodeEntry(w, r)
	if !ok {
		return
	}
	je.ExternalID = ext
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.validate(w, &je) {
		return
	}
	id := s.store.put(je, s.store.byExtID[ext], s.opts.Now())
	w.Header().Set("Location", baseURL(r)+"/services/rest/record/v1/journalEntry/"+strconv.Itoa(id))
	w.WriteHeader(http.StatusNoContent)
}

// put stores je under id (a new id when 0) and returns the id.
func (st *store) put(je netsuite.JournalEntry, id int, now time.Time) int {
	if id == 0 {
		id = st.nextID
		st.nextID++
		st.createdAt[id] = now
	}
	je.ID = strconv.Itoa(id)
	st.entries[id] = &je
	if je.ExternalID != "" {
		st.byExtID[je.ExternalID] = id
	}
	return id
}

func (st *store) lookup(ref string) (int, bool) {
	if ext, ok := strings.CutPrefix(ref, "eid:"); ok {
		id, found := st.byExtID[ext]
		return id, found
	}
	id, err := strconv.Atoi(ref)
	if err != nil {
		return 0, false
	}
	_, found := st.entries[id]
	return id, found
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, ref string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.store.lookup(ref)
	if !ok {
		writeError(w, http.StatusNotFound, "NONEXISTENT_ID", "", "The record instance does not exist. Provide a valid record instance ID.")
		return
	}
	je := s.store.entries[id]
	self := baseURL(r) + "/services/rest/record/v1/journalEntry/" + je.ID
	link := func(href string) []map[string]string { return []map[string]string{{"rel": "self", "href": href}} }
	ref2 := func(x *netsuite.Ref, kind string) map[string]any {
		if x == nil {
			return nil
		}
		name := x.RefName
		if name == "" {
			name = kind + " " + x.ID
		}
		return map[string]any{"id": x.ID, "refName": name, "links": link(baseURL(r) + "/services/rest/record/v1/" + kind + "/" + x.ID)}
	}
	body := map[string]any{
		"links": link(self), "id": je.ID, "tranId": "JE" + je.ID, "externalId": je.ExternalID, "tranDate": je.TranDate,
		"memo": je.Memo, "subsidiary": ref2(je.Subsidiary, "subsidiary"), "currency": ref2(je.Currency, "currency"),
		"postingPeriod": ref2(je.PostingPeriod, "accountingPeriod"),
	}
	lines := map[string]any{"links": link(self + "/line")}
	if r.URL.Query().Get("expandSubResources") == "true" {
		items := make([]map[string]any, 0, len(je.Line.Items))
		for i, l := range je.Line.Items {
			it := map[string]any{"links": link(fmt.Sprintf("%s/line/%d", self, i)), "line": i, "account": ref2(&l.Account, "account"), "memo": l.Memo}
			if l.Debit != nil {
				it["debit"] = l.Debit
			}
			if l.Credit != nil {
				it["credit"] = l.Credit
			}
			for k, v := range map[string]*netsuite.Ref{"entity": l.Entity, "department": l.Department, "class": l.Class, "location": l.Location} {
				if v != nil {
					it[k] = ref2(v, k)
				}
			}
			items = append(items, it)
		}
		lines["items"], lines["count"], lines["totalResults"], lines["hasMore"], lines["offset"] = items, len(items), len(items), false, 0
	}
	body["line"] = lines
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) delete(w http.ResponseWriter, ref string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.store.lookup(ref)
	if !ok {
		writeError(w, http.StatusNotFound, "NONEXISTENT_ID", "", "The record instance does not exist. Provide a valid record instance ID.")
		return
	}
	je := s.store.entries[id]
	if p := s.store.periodByID(je.PostingPeriod.ID); p != nil && p.closed {
		writeError(w, http.StatusBadRequest, "USER_ERROR", "postingPeriod", "You cannot delete a transaction in a closed period.")
		return
	}
	s.store.remove(id)
	w.WriteHeader(http.StatusNoContent)
}

func (st *store) remove(id int) {
	if je, ok := st.entries[id]; ok {
		delete(st.byExtID, je.ExternalID)
		delete(st.entries, id)
		delete(st.createdAt, id)
	}
}

// sortedIDs returns the stored internal ids in ascending order.
func (st *store) sortedIDs() []int {
	ids := make([]int, 0, len(st.entries))
	for id := range st.entries {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}
