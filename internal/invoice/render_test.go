package invoice

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// renderedDocument is a finalized, partly paid and partly credited invoice with rating-style
// explanations, built by hand so that the golden files do not move with the rating engine.
func renderedDocument() Document {
	fin := time.Date(2026, 2, 1, 9, 30, 0, 0, time.UTC)
	lines := []Line{
		{No: 1, Kind: "recurring", ComponentID: "platform", Product: "PLATFORM", Description: "Platform <Enterprise> & support",
			PeriodStart: date("2026-01-01"), PeriodEnd: date("2026-02-01"), Quantity: dec("1"), UnitPrice: price("1000.00"), Amount: dec("1000.00"),
			Explanation: json.RawMessage(`{"line_key":"ctr_acme:2026-01-01:v2:recurring:platform","kind":"recurring","contract_version":2,"component":"platform","clause":"components[0]","model":"flat","formula":"1000.00","unrounded":"1000","rounding":"half-away-from-zero to 2 decimal places (USD)"}`)},
		{No: 2, Kind: "usage", ComponentID: "api", Product: "API", Description: "API calls",
			PeriodStart: date("2026-01-01"), PeriodEnd: date("2026-02-01"), Quantity: dec("149001"), UnitPrice: nil, Amount: dec("249.00"),
			Explanation: json.RawMessage(`{"contract_version":2,"clause":"components[1]","model":"graduated","metered":"150001","free_units":"1000","tiers":[{"tier":0,"from":"0","up_to":"100000","units":"100000","unit_price":"0.002","amount":"200"},{"tier":1,"from":"100000","units":"49001","unit_price":"0.001","amount":"49.001"}],"formula":"tier 1: 100000 x 0.002 + tier 2: 49001 x 0.001","unrounded":"249.001","rounding":"half-away-from-zero to 2 decimal places (USD)"}`)},
		{No: 3, Kind: "seat_change", ComponentID: "seats", Product: "SEATS", Description: "Seats removed Jan 17",
			PeriodStart: date("2026-01-17"), PeriodEnd: date("2026-02-01"), Quantity: dec("-2"), UnitPrice: price("40.123456789012"), Amount: dec("-38.83"),
			Explanation: json.RawMessage(`{"contract_version":2,"clause":"components[2]","model":"seats","proration":{"days":15,"period_days":31},"formula":"seat delta x unit price x days/period days: -2 x 40.123456789012 x 15/31","unrounded":"-38.829151731302","rounding":"half-away-from-zero to 2 decimal places (USD)"}`)},
		{No: 4, Kind: "discount", Product: "DISCOUNT", Description: "Invoice discount 10%", Quantity: dec("1"), Amount: dec("-121.02")},
	}
	tot := ComputeTotals(lines)
	inv := Invoice{
		ID: "inv_0001", Key: "invoice:ctr_acme:2026-01-01..2026-02-01", Kind: KindCycle, ContractID: "ctr_acme", ContractVersion: 2,
		CustomerID: "cus_acme", BillingEntity: "acme-us", Currency: "USD", PeriodStart: date("2026-01-01"), PeriodEnd: date("2026-02-01"),
		Status: StatusPartiallyPaid, Number: "INV-ACMEUS-000042", IssueDate: date("2026-02-01"), DueDate: date("2026-03-03"),
		PaymentTermsDays: 30, Memo: "PO 4711", Lines: lines, Subtotal: tot.Subtotal, Discount: tot.Discount, Total: tot.Total,
		AmountPaid: dec("500.00"), AmountCredited: dec("50.00"), PaymentReference: "RF20INVACMEUS000042",
		CreatedAt: fin.Add(-time.Hour), FinalizedAt: &fin,
	}
	inv.AmountDue = amountDue(inv.Total, inv.AmountPaid, inv.AmountCredited)
	if !CheckPaymentReference(inv.PaymentReference) {
		panic("fixture payment reference has a wrong check")
	}
	return Document{
		Invoice: inv,
		Seller:  Party{Name: "Acme Billing Inc.", Address: []string{"1 Market St", "San Francisco, CA 94105", "USA"}, TaxID: "US12-3456789", Email: "billing@acme.example"},
		Buyer:   Party{Name: "Müller & Söhne GmbH", Address: []string{"Königstraße 1", "70173 Stuttgart", "Germany"}, TaxID: "DE123456789"},
		Bank:    &BankAccount{AccountHolder: "Acme Billing Inc.", BankName: "First Bank", AccountNumber: "000123456789", RoutingNumber: "021000021"},
		CreditNotes: []CreditNote{{Number: "CN-ACMEUS-000007", IssueDate: date("2026-02-10"), Total: dec("50.00"),
			Currency: "USD"}},
	}
}

func TestFormatAmount(t *testing.T) {
	cases := map[string]string{"0": "0.00", "1015.2": "1,015.20", "-1234567.891": "-1,234,567.89", "999": "999.00", "100000": "100,000.00"}
	for in, want := range cases {
		if got := FormatAmount(dec(in), "USD"); got != want {
			t.Errorf("FormatAmount(%s) = %s, want %s", in, got, want)
		}
	}
	if got := FormatAmount(dec("1234567"), "JPY"); got != "1,234,567" {
		t.Errorf("JPY: %s", got)
	}
	if got := FormatAmount(dec("1.5"), "BHD"); got != "1.500" {
		t.Errorf("BHD: %s", got)
	}
	for in, want := range map[string]string{"1000": "1000.00", "0.5": "0.50", "0.000002": "0.000002", "40.123456789012": "40.123456789012"} {
		if got := FormatUnitPrice(dec(in), "USD"); got != want {
			t.Errorf("FormatUnitPrice(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestRenderHTMLGolden(t *testing.T) {
	doc := renderedDocument()
	if got, want := doc.Invoice.AmountDue, dec("539.15"); !got.Equal(want) {
		t.Fatalf("fixture amount due %s, want %s", got, want)
	}
	var buf bytes.Buffer
	if err := RenderHTML(&buf, doc); err != nil {
		t.Fatal(err)
	}
	golden(t, "invoice.golden.html", buf.Bytes())
	html := buf.String()
	for _, want := range []string{
		"Invoice INV-ACMEUS-000042", "RF20INVACMEUS000042", "Platform &lt;Enterprise&gt; &amp; support",
		"Tier 2 (100000 and above): 49001 x 0.001 = 49.001.", "Prorated for 15 of 31 days.",
		"Rounded half-away-from-zero to 2 decimal places (USD): -38.83.", "Müller &amp; Söhne GmbH",
		"Credit note CN-ACMEUS-000007 (2026-02-10)", "539.15 USD", "Service period</td><td>2026-01-01 to 2026-01-31",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// A draft says so and shows no remittance block.
	doc.Invoice.Status, doc.Invoice.Number, doc.Invoice.PaymentReference = StatusDraft, "", ""
	buf.Reset()
	if err := RenderHTML(&buf, doc); err != nil {
		t.Fatal(err)
	}
	golden(t, "draft.golden.html", buf.Bytes())
	if !strings.Contains(buf.String(), "DRAFT invoice") || strings.Contains(buf.String(), "Pay by bank transfer") {
		t.Fatal("draft rendering")
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the rendering (run with -update after checking the change):\n%s", path, got)
	}
}

func TestRenderPDF(t *testing.T) {
	doc := renderedDocument()
	var buf bytes.Buffer
	if err := RenderPDF(&buf, doc); err != nil {
		t.Fatal(err)
	}
	pdf := buf.Bytes()
	checkPDFStructure(t, pdf)
	text := pdfText(t, pdf)
	for _, want := range []string{"Invoice INV-ACMEUS-000042", "RF20INVACMEUS000042", "539.15 USD", "-38.83", "Prorated for 15 of 31 days.", "CN-ACMEUS-000007"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	var again bytes.Buffer
	if err := RenderPDF(&again, doc); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pdf, again.Bytes()) {
		t.Error("PDF rendering is not deterministic")
	}
	// Many lines flow onto further pages, each page complete.
	for i := 0; i < 60; i++ {
		l := doc.Invoice.Lines[1]
		l.No = 5 + i
		doc.Invoice.Lines = append(doc.Invoice.Lines, l)
	}
	buf.Reset()
	if err := RenderPDF(&buf, doc); err != nil {
		t.Fatal(err)
	}
	checkPDFStructure(t, buf.Bytes())
	if n := bytes.Count(buf.Bytes(), []byte("/Type /Page\n")); n < 3 {
		t.Errorf("long invoice has %d pages, want at least 3", n)
	}
	if !strings.Contains(pdfText(t, buf.Bytes()), "page 3 of") {
		t.Error("page footer missing")
	}
}

// checkPDFStructure verifies the header, trailer and that every cross-reference entry points at
// the object it names.
func checkPDFStructure(t *testing.T, pdf []byte) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.")) || !bytes.HasSuffix(bytes.TrimSpace(pdf), []byte("%%EOF")) {
		t.Fatal("not a PDF: header or end-of-file marker missing")
	}
	m := regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("startxref missing")
	}
	off, _ := strconv.Atoi(string(m[1]))
	if off >= len(pdf) || !bytes.HasPrefix(pdf[off:], []byte("xref")) {
		t.Fatalf("startxref %d does not point at the xref table", off)
	}
	xref := regexp.MustCompile(`^xref\s+0 (\d+)\s+`).FindSubmatch(pdf[off:])
	if xref == nil {
		t.Fatal("xref table header unreadable")
	}
	n, _ := strconv.Atoi(string(xref[1]))
	entries := regexp.MustCompile(`(\d{10}) (\d{5}) ([nf])`).FindAllSubmatch(pdf[off:], n)
	if len(entries) != n {
		t.Fatalf("xref has %d entries, header says %d", len(entries), n)
	}
	for i, e := range entries[1:] {
		if string(e[3]) != "n" {
			continue
		}
		o, _ := strconv.Atoi(string(e[1]))
		if want := strconv.Itoa(i+1) + " 0 obj"; !bytes.HasPrefix(pdf[o:], []byte(want)) {
			t.Fatalf("xref entry %d points at %q, want %q", i+1, pdf[o:min(o+12, len(pdf))], want)
		}
	}
	if !bytes.Contains(pdf, []byte("/Root")) {
		t.Fatal("trailer has no /Root")
	}
}

// pdfText inflates every Flate stream and returns the string operands of the text operators.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	var out strings.Builder
	streams := regexp.MustCompile(`(?s)/Filter /FlateDecode[^>]*>>\s*stream\r?\n(.*?)endstream`).FindAllSubmatch(pdf, -1)
	if len(streams) == 0 {
		t.Fatal("no compressed streams")
	}
	tj := regexp.MustCompile(`\(((?:\\.|[^\\)])*)\)\s*Tj`)
	for _, s := range streams {
		r, err := zlib.NewReader(bytes.NewReader(s[1]))
		if err != nil {
			continue // a font or image stream in another encoding
		}
		content, err := io.ReadAll(r)
		if err != nil {
			continue
		}
		for _, m := range tj.FindAllSubmatch(content, -1) {
			s := strings.NewReplacer(`\(`, "(", `\)`, ")", `\\`, `\`).Replace(string(m[1]))
			out.WriteString(s)
			out.WriteByte('\n')
		}
	}
	return out.String()
}
