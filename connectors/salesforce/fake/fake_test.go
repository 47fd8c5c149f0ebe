package fake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func seeded(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s := New(opts)
	if err := s.Seed(DefaultFixture()); err != nil {
		t.Fatalf("seed: %v", err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

func login(t *testing.T, hs *httptest.Server, s *Server) string {
	t.Helper()
	resp, err := http.PostForm(hs.URL+"/services/oauth2/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {s.ClientID()}, "client_secret": {s.ClientSecret()},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	return tok["access_token"].(string)
}

func get(t *testing.T, hs *httptest.Server, token, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, hs.URL+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func soql(q string) string { return "/services/data/v62.0/query?q=" + url.QueryEscape(q) }

func TestTokenEndpoint(t *testing.T) {
	s, hs := seeded(t, Options{})
	cases := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"missing grant", url.Values{}, 400, `"error":"invalid_request"`},
		{"other grant", url.Values{"grant_type": {"authorization_code"}}, 400, `"error":"unsupported_grant_type"`},
		{"bad secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {s.ClientID()}, "client_secret": {"x"}}, 400, `"error":"invalid_grant"`},
		{"ok", url.Values{"grant_type": {"client_credentials"}, "client_id": {s.ClientID()}, "client_secret": {s.ClientSecret()}}, 200, `"token_type":"Bearer"`},
	}
	for _, c := range cases {
		resp, err := http.PostForm(hs.URL+"/services/oauth2/token", c.form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %s, want %d with %s", c.name, resp.StatusCode, body, c.status, c.want)
		}
		if c.status == 200 {
			var tok map[string]any
			_ = json.Unmarshal(body, &tok)
			if _, ok := tok["issued_at"].(string); !ok || tok["instance_url"] != hs.URL || tok["refresh_token"] != nil || tok["expires_in"] != nil {
				t.Errorf("token response shape: %s", body)
			}
		}
	}
}

func TestQueryWireFormatAndPaging(t *testing.T) {
	s, hs := seeded(t, Options{PageSize: 1000})
	tok := login(t, hs, s)
	// batchSize below 200 is raised to 200 by Salesforce; the fake's PageSize caps it from above.
	resp, body := get(t, hs, tok, soql("SELECT Id, Name, Account.Name, Account.BillingCity FROM Opportunity WHERE IsWon = true ORDER BY Name DESC LIMIT 3"),
		http.Header{"Sforce-Query-Options": {"batchSize=2"}})
	if resp.StatusCode != 200 {
		t.Fatalf("query: %d %s", resp.StatusCode, body)
	}
	if !strings.HasPrefix(resp.Header.Get("Sforce-Limit-Info"), "api-usage=1/100000") {
		t.Errorf("Sforce-Limit-Info = %q", resp.Header.Get("Sforce-Limit-Info"))
	}
	want := `{"totalSize":3,"done":true,"records":[` +
		`{"attributes":{"type":"Opportunity","url":"/services/data/v62.0/sobjects/Opportunity/0065g00000broknAAA"},"Id":"0065g00000broknAAA","Name":"Vandelay - Broken deal","Account":{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/0015g00000broknAAA"},"Name":"Vandelay Industries","BillingCity":"New York"}},` +
		`{"attributes":{"type":"Opportunity","url":"/services/data/v62.0/sobjects/Opportunity/0065g00000umbrlAAA"},"Id":"0065g00000umbrlAAA","Name":"Umbrella - Two-year ramp","Account":{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/0015g00000umbrlAAA"},"Name":"Umbrella SA","BillingCity":"Paris"}},` +
		`{"attributes":{"type":"Opportunity","url":"/services/data/v62.0/sobjects/Opportunity/0065g00000initcAAA"},"Id":"0065g00000initcAAA","Name":"Initech - Payments and email","Account":{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/0015g00000initcAAA"},"Name":"Initech Inc","BillingCity":"Austin"}}]}`
	if strings.TrimSpace(string(body)) != want {
		t.Errorf("body:\n%s\nwant:\n%s", body, want)
	}

	s2, hs2 := seeded(t, Options{PageSize: 7})
	tok2 := login(t, hs2, s2)
	_, body = get(t, hs2, tok2, soql("SELECT Id FROM OpportunityLineItem"), nil)
	var page struct {
		TotalSize      int               `json:"totalSize"`
		Done           bool              `json:"done"`
		NextRecordsURL string            `json:"nextRecordsUrl"`
		Records        []json.RawMessage `json:"records"`
	}
	seen := 0
	for {
		page.NextRecordsURL = ""
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		seen += len(page.Records)
		if page.Done {
			break
		}
		if !strings.HasPrefix(page.NextRecordsURL, "/services/data/v62.0/query/01g") || len(page.Records) != 7 {
			t.Fatalf("page: next %q with %d records", page.NextRecordsURL, len(page.Records))
		}
		_, body = get(t, hs2, tok2, page.NextRecordsURL, nil)
	}
	if page.TotalSize != 20 || seen != 20 || page.NextRecordsURL != "" {
		t.Errorf("totalSize %d, seen %d, last next %q", page.TotalSize, seen, page.NextRecordsURL)
	}
	resp, body = get(t, hs2, tok2, "/services/data/v62.0/query/01gNOPE-7", nil)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "INVALID_QUERY_LOCATOR") {
		t.Errorf("unknown locator: %d %s", resp.StatusCode, body)
	}
}

func TestQueryErrors(t *testing.T) {
	s, hs := seeded(t, Options{SingleCurrency: true})
	tok := login(t, hs, s)
	cases := []struct {
		token, q string
		status   int
		code     string
	}{
		{"bogus", "SELECT Id FROM Opportunity", 401, "INVALID_SESSION_ID"},
		{tok, "SELECT Id FRM Opportunity", 400, "MALFORMED_QUERY"},
		{tok, "SELECT Id FROM Opportunity WHERE IsWon = true OR IsClosed = true", 400, "MALFORMED_QUERY"},
		{tok, "SELECT Id, Bogus__c FROM Opportunity", 400, "INVALID_FIELD"},
		{tok, "SELECT Id, CurrencyIsoCode FROM Opportunity", 400, "INVALID_FIELD"},
		{tok, "SELECT Id, Owner.Name FROM Opportunity", 400, "INVALID_FIELD"},
		{tok, "SELECT Id FROM Widget__c", 400, "INVALID_TYPE"},
		{tok, "SELECT Id FROM Opportunity WHERE SystemModstamp > '2024-01-01T00:00:00Z'", 400, "INVALID_QUERY_FILTER_OPERATOR"},
		{tok, "SELECT Id FROM Opportunity WHERE Name = 'unterminated", 400, "MALFORMED_QUERY"},
	}
	for _, c := range cases {
		resp, body := get(t, hs, c.token, soql(c.q), nil)
		var errs []map[string]any
		if err := json.Unmarshal(body, &errs); err != nil || len(errs) == 0 {
			t.Errorf("%s: body %s is not a non-empty error array", c.q, body)
			continue
		}
		if resp.StatusCode != c.status || errs[0]["errorCode"] != c.code || errs[0]["message"] == "" {
			t.Errorf("%s: %d %s, want %d %s", c.q, resp.StatusCode, body, c.status, c.code)
		}
	}
}

func TestWhereOrderAndInSemantics(t *testing.T) {
	s := New(Options{})
	if err := s.Seed(DefaultFixture()); err != nil {
		t.Fatal(err)
	}
	run := func(q string) []string {
		t.Helper()
		sq, err := parseSOQL(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		rows, serr := s.st.run(q, sq, "62.0")
		if serr != nil {
			t.Fatalf("%s: %v", q, serr)
		}
		var names []string
		for _, r := range rows {
			var m map[string]any
			_ = json.Unmarshal(r, &m)
			names = append(names, m["Name"].(string))
		}
		return names
	}
	got := run("SELECT Name FROM Opportunity WHERE IsWon = false AND StageName != 'negotiation' ORDER BY CloseDate")
	if strings.Join(got, "|") != "Acme - Lost add-on" {
		t.Errorf("lost deals = %v", got)
	}
	got = run("select name from opportunity where Id in ('0065g00000acme1', '0065g00000hooliAAA') and Amount >= 11400 order by Amount desc nulls last")
	if strings.Join(got, "|") != "Acme - Platform and seats 2026|Hooli - Prepaid credits" {
		t.Errorf("IN with 15-char id and amount filter = %v", got)
	}
	got = run("SELECT Name FROM Opportunity WHERE Account.BillingCountry = 'FR'")
	if strings.Join(got, "|") != "Umbrella - Two-year ramp" {
		t.Errorf("relationship filter = %v", got)
	}
}

func TestPatchValidationAndStamps(t *testing.T) {
	s, hs := seeded(t, Options{})
	tok := login(t, hs, s)
	patch := func(id, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPatch, hs.URL+"/services/data/v62.0/sobjects/Opportunity/"+id, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	before, _ := s.Record("Opportunity", "0065g00000acme1AAA")
	if code, body := patch("0065g00000acme1AAA", `{"Revhub_Status__c":"Active","Revhub_Billed_To_Date__c":10.50}`); code != 204 || body != "" {
		t.Fatalf("patch: %d %q", code, body)
	}
	after, _ := s.Record("Opportunity", "0065g00000acme1AAA")
	if after["SystemModstamp"] == before["SystemModstamp"] || after["Revhub_Status__c"] != "Active" {
		t.Errorf("after patch: %v", after)
	}
	for _, c := range []struct{ id, body, code string }{
		{"0065g00000acme1AAB", `{"Name":"x"}`, "MALFORMED_ID"},
		{"0065g00000nopeeAAA", `{"Name":"x"}`, "NOT_FOUND"},
		{"0065g00000acme1AAA", `{"Revhub_Billed_To_Date__c":"ten"}`, "JSON_PARSER_ERROR"},
		{"0065g00000acme1AAA", `{"Revhub_Billed_To_Date__c":-1}`, "FIELD_CUSTOM_VALIDATION_EXCEPTION"},
		{"0065g00000acme1AAA", `{"Revhub_Status__c":"Whatever"}`, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
		{"0065g00000acme1AAA", `{"IsWon":true}`, "INVALID_FIELD_FOR_INSERT_UPDATE"},
		{"0065g00000acme1AAA", `{"Nope__c":1}`, "INVALID_FIELD"},
		{"0065g00000acme1AAA", `{`, "JSON_PARSER_ERROR"},
	} {
		code, body := patch(c.id, c.body)
		if code < 400 || !strings.Contains(body, `"errorCode":"`+c.code+`"`) {
			t.Errorf("patch %s %s: %d %s, want %s", c.id, c.body, code, body, c.code)
		}
	}
}

func TestControlAPI(t *testing.T) {
	s, hs := seeded(t, Options{})
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := do("POST", "/__fake/faults", `{"path_contains":"/query","status":503,"error_code":"SERVER_UNAVAILABLE","message":"down","times":2}`); code != 204 {
		t.Fatalf("add fault: %d %s", code, body)
	}
	if code, body := do("POST", "/__fake/faults", `[{"bogus":1}]`); code != 400 {
		t.Errorf("unknown fault field: %d %s", code, body)
	}
	tok := login(t, hs, s) // the fault targets /query only
	for i := 0; i < 3; i++ {
		resp, body := get(t, hs, tok, soql("SELECT Id FROM Account"), nil)
		want := 503
		if i == 2 {
			want = 200
		}
		if resp.StatusCode != want {
			t.Errorf("query %d: %d %s, want %d", i, resp.StatusCode, body, want)
		}
	}
	if code, body := do("POST", "/__fake/opportunities/0065g00000starkAAA/close-won", `{"close_date":"2026-02-27"}`); code != 200 || !strings.Contains(body, `"IsWon":true`) {
		t.Errorf("close-won: %d %s", code, body)
	}
	if code, body := do("PATCH", "/__fake/records/OpportunityLineItem/00k5g00000l0016AAA", `{"Quantity":2}`); code != 200 || !strings.Contains(body, `"TotalPrice":"36000"`) && !strings.Contains(body, `"TotalPrice":36000`) {
		t.Errorf("edit line: %d %s", code, body)
	}
	stark, _ := s.Record("Opportunity", "0065g00000starkAAA")
	if stark["Amount"] != json.Number("36000") {
		t.Errorf("stark Amount after line edit = %v, want 36000", stark["Amount"])
	}
	if code, body := do("PATCH", "/__fake/records/Opportunity/0065g00000starkAAA", `{"IsWon":false,"Nope":1}`); code != 400 || !strings.Contains(body, "IsWon") || !strings.Contains(body, "Nope") {
		t.Errorf("bad edit: %d %s", code, body)
	}
	if code, body := do("POST", "/__fake/records/OpportunityLineItem", `{"OpportunityId":"0065g00000starkAAA","Product2Id":"01t5g00000seatsAAA","Quantity":3,"UnitPrice":100}`); code != 201 || !strings.Contains(body, `"id":"00k`) {
		t.Errorf("create line: %d %s", code, body)
	}
	if code, _ := do("POST", "/__fake/sessions/expire", ""); code != 204 {
		t.Errorf("expire: %d", code)
	}
	if resp, _ := get(t, hs, tok, soql("SELECT Id FROM Account"), nil); resp.StatusCode != 401 {
		t.Errorf("after expire: %d", resp.StatusCode)
	}
	code, body := do("GET", "/__fake/requests", "")
	if code != 200 || !strings.Contains(body, `"status":503`) || strings.Contains(body, tok) || strings.Contains(body, s.ClientSecret()) {
		t.Errorf("request log: %d %s", code, body)
	}
}

func TestIDs(t *testing.T) {
	st := newStore(true, "USD", nil)
	if got := caseSafeID("0065g00000acme1"); got != "0065g00000acme1AAA" {
		t.Errorf("caseSafeID = %s", got)
	}
	if got := caseSafeID("001A0000006Vm9r"); got != "001A0000006Vm9rIAC" {
		t.Errorf("caseSafeID mixed case = %s", got)
	}
	id := st.newID("00k")
	if !validID(id) || !strings.HasPrefix(id, "00k") || len(id) != 18 {
		t.Errorf("newID = %s", id)
	}
	if validID("0065g00000acme1AAB") || validID("0065g00000acme1!!") {
		t.Error("validID accepts a bad id")
	}
}

func TestFixtureErrorsNameRecordAndField(t *testing.T) {
	if _, err := ParseFixture([]byte(`{"records":{"Lead":[]}}`)); err == nil || !strings.Contains(err.Error(), "records.Lead") {
		t.Errorf("unknown type: %v", err)
	}
	f, err := ParseFixture([]byte(`{"records":{"Account":[{"Name":"A"},{"Name":"B","Bogus__c":1,"BillingCity":7}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	err = New(Options{}).Seed(f)
	if err == nil || !strings.Contains(err.Error(), "records.Account[1]") || !strings.Contains(err.Error(), "Bogus__c") || !strings.Contains(err.Error(), "BillingCity") {
		t.Errorf("seed error = %v", err)
	}
}

func TestSessionIdleTimeoutAndAPILimit(t *testing.T) {
	now := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	s, hs := seeded(t, Options{SessionTimeout: 2 * time.Hour, APILimit: 3, Now: func() time.Time { return now }})
	tok := login(t, hs, s)
	if resp, _ := get(t, hs, tok, soql("SELECT Id FROM Account"), nil); resp.StatusCode != 200 {
		t.Fatalf("fresh session: %d", resp.StatusCode)
	}
	now = now.Add(90 * time.Minute)
	if resp, _ := get(t, hs, tok, soql("SELECT Id FROM Account"), nil); resp.StatusCode != 200 {
		t.Fatalf("session used within the timeout: %d", resp.StatusCode)
	}
	now = now.Add(2*time.Hour + time.Second)
	if resp, body := get(t, hs, tok, soql("SELECT Id FROM Account"), nil); resp.StatusCode != 401 || !strings.Contains(string(body), "INVALID_SESSION_ID") {
		t.Fatalf("idle session: %d %s", resp.StatusCode, body)
	}
	tok = login(t, hs, s)
	if resp, _ := get(t, hs, tok, soql("SELECT Id FROM Account"), nil); resp.StatusCode != 200 {
		t.Fatalf("third call: %d", resp.StatusCode)
	}
	resp, body := get(t, hs, tok, soql("SELECT Id FROM Account"), nil)
	if resp.StatusCode != 403 || !strings.Contains(string(body), "REQUEST_LIMIT_EXCEEDED") || resp.Header.Get("Sforce-Limit-Info") != "api-usage=4/3" {
		t.Fatalf("over the limit: %d %s %q", resp.StatusCode, body, resp.Header.Get("Sforce-Limit-Info"))
	}
}

func TestRenamedWonStage(t *testing.T) {
	f, err := ParseFixture([]byte(`{"won_stages":["Signed"],"lost_stages":["Lost"],"records":{
		"Account":[{"Id":"0015g00000renamAAA","Name":"R"}],
		"Opportunity":[{"Id":"0065g00000renamAAA","Name":"R deal","AccountId":"0015g00000renamAAA","StageName":"Proposal","CloseDate":"2026-01-01"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{})
	if err := s.Seed(f); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Record("Opportunity", "0065g00000renamAAA"); r["IsWon"] != false || r["Amount"] != nil || r["HasOpportunityLineItem"] != false {
		t.Fatalf("open deal without line items = %v", r)
	}
	if err := s.CloseWon("0065g00000renamAAA", ""); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Record("Opportunity", "0065g00000renamAAA"); r["StageName"] != "Signed" || r["IsWon"] != true || r["IsClosed"] != true {
		t.Fatalf("after close-won = %v", r)
	}
}
