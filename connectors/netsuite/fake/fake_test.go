package fake_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/connectors/netsuite/fake"
)

// call sends one signed API request and returns status, headers and body.
func call(t *testing.T, srv *httptest.Server, method, path, body string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	u, _ := url.Parse(srv.URL + path)
	h, err := netsuite.AuthorizationHeader(method, u, "1234567_SB1", fake.DefaultCredentials, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, u.String(), strings.NewReader(body))
	req.Header.Set("Authorization", h)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

const je = `{"externalId":"rh-1","subsidiary":{"id":"1"},"tranDate":"2026-11-03","line":{"items":[
	{"account":{"id":"119"},"debit":10.5},{"account":{"id":"250"},"credit":10.50}]}}`

func TestCreateGetAndWireShapes(t *testing.T) {
	f := fake.New(fake.Options{})
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	status, h, body := call(t, srv, "POST", "/services/rest/record/v1/journalEntry", je, nil)
	if status != 204 || body != "" || !strings.HasPrefix(h.Get("Location"), srv.URL+"/services/rest/record/v1/journalEntry/") {
		t.Fatalf("create: %d %q %q", status, h.Get("Location"), body)
	}
	status, _, body = call(t, srv, "GET", "/services/rest/record/v1/journalEntry/eid:rh-1", "", nil)
	if status != 200 || strings.Contains(body, `"items"`) || !strings.Contains(body, `"refName":"Nov 2026"`) {
		t.Fatalf("get without expansion: %d %s", status, body)
	}
	status, _, body = call(t, srv, "GET", "/services/rest/record/v1/journalEntry/eid:rh-1?expandSubResources=true", "", nil)
	if status != 200 || !strings.Contains(body, `"debit":10.5`) {
		t.Fatalf("get expanded: %d %s", status, body)
	}
	status, _, body = call(t, srv, "POST", "/services/rest/record/v1/journalEntry", `{"line":`, nil)
	var ae netsuite.APIError
	if status != 400 || json.Unmarshal([]byte(body), &ae) != nil || ae.Details[0].ErrorCode != "INVALID_CONTENT" ||
		ae.Type != "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1" || ae.Title != "Bad Request" {
		t.Fatalf("malformed body: %d %s", status, body)
	}
	status, _, _ = call(t, srv, "GET", "/services/rest/record/v1/journalEntry/eid:rh-nope", "", nil)
	if status != 404 {
		t.Fatalf("missing record: %d", status)
	}
}

func TestSuiteQLRules(t *testing.T) {
	f := fake.New(fake.Options{})
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	if s, _, _ := call(t, srv, "POST", "/services/rest/record/v1/journalEntry", je, nil); s != 204 {
		t.Fatal(s)
	}
	q := func(sql string, prefer bool, query string) (int, string) {
		b, _ := json.Marshal(map[string]string{"q": sql})
		h := map[string]string{}
		if prefer {
			h["Prefer"] = "transient"
		}
		s, _, body := call(t, srv, "POST", "/services/rest/query/v1/suiteql"+query, string(b), h)
		return s, body
	}
	if s, body := q("SELECT id FROM transaction", false, ""); s != 400 || !strings.Contains(body, "transient") {
		t.Fatalf("without Prefer: %d %s", s, body)
	}
	if s, _ := q("SELECT id FROM transaction", true, "?limit=1001"); s != 400 {
		t.Fatalf("limit over 1000: %d", s)
	}
	for _, bad := range []string{
		"SELECT id FROM nosuchtable",
		"SELECT t.externalid, SUM(tl.debitforeignamount) AS d FROM transaction t JOIN transactionline tl ON tl.transaction = t.id",
		"SELECT id FROM transaction t JOIN transactionline tl ON tl.transaction = t.id", // ambiguous id
		"DELETE FROM transaction",
		"SELECT id FROM transaction WHERE id = 1 OR id = 2",
	} {
		if s, body := q(bad, true, ""); s != 400 || !strings.Contains(body, "INVALID_PARAMETER") {
			t.Errorf("%s: %d %s", bad, s, body)
		}
	}
	s, body := q(`SELECT tl.expenseaccount AS account, SUM(tl.debitforeignamount) AS debit, SUM(tl.creditforeignamount) AS credit, COUNT(*) AS n
		FROM transaction t INNER JOIN transactionline tl ON tl.transaction = t.id WHERE t.externalid IN ('rh-1', 'rh-2')
		GROUP BY tl.expenseaccount ORDER BY account DESC`, true, "")
	var page struct {
		Items []map[string]any `json:"items"`
		Links []map[string]string
		Count int
	}
	if s != 200 || json.Unmarshal([]byte(body), &page) != nil || page.Count != 2 {
		t.Fatalf("aggregate: %d %s", s, body)
	}
	first := page.Items[0]
	if first["account"] != "250" || first["credit"] != "10.5" || first["n"] != "1" || first["debit"] != nil {
		t.Fatalf("aggregate row: %v (a SUM of only NULLs is omitted)", first)
	}
}

func TestControlAPI(t *testing.T) {
	f := fake.New(fake.Options{})
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	post := func(path, body string) int {
		resp, err := http.Post(srv.URL+path, "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := post("/__fake/periods/2026-11/close", ""); s != 204 {
		t.Fatalf("close: %d", s)
	}
	if s, _, body := call(t, srv, "POST", "/services/rest/record/v1/journalEntry", je, nil); s != 400 || !strings.Contains(body, "closed") {
		t.Fatalf("closed period: %d %s", s, body)
	}
	if s := post("/__fake/periods/2026-09/lock", ""); s != 204 {
		t.Fatalf("lock: %d", s)
	}
	locked := strings.Replace(je, "2026-11-03", "2026-09-03", 1)
	if s, _, body := call(t, srv, "PUT", "/services/rest/record/v1/journalEntry/eid:rh-9", locked, nil); s != 400 || !strings.Contains(body, "locked") {
		t.Fatalf("locked period: %d %s", s, body)
	}
	if s := post("/__fake/faults", `{"status":503,"count":1,"retry_after":"2"}`); s != 204 {
		t.Fatalf("fault: %d", s)
	}
	s, h, _ := call(t, srv, "GET", "/services/rest/record/v1/journalEntry/1", "", nil)
	if s != 503 || h.Get("Retry-After") != "2" {
		t.Fatalf("injected 503: %d %q", s, h.Get("Retry-After"))
	}
	moved := strings.Replace(je, "2026-11-03", "2026-12-01", 1)
	if s, _, _ := call(t, srv, "POST", "/services/rest/record/v1/journalEntry", moved, nil); s != 204 {
		t.Fatalf("create in open period: %d", s)
	}
	if s := post("/__fake/journal-entries/rh-1/lines/0", `{"debit":"11.00"}`); s != 204 {
		t.Fatalf("alter: %d", s)
	}
	got := f.JournalEntries()
	if len(got) != 1 || got[0].Line.Items[0].Debit.String() != "11" {
		t.Fatalf("altered entry: %+v", got)
	}
	reqs := f.Requests()
	if len(reqs) != 4 || reqs[0].Code != "USER_ERROR" || reqs[1].Code != "USER_ERROR" || reqs[2].Status != 503 {
		t.Fatalf("request log: %+v", reqs)
	}
}
