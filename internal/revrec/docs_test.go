package revrec

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"
)

// The worked examples of docs/revenue-recognition.md are the table tests of this package: each example's
// YAML input is computed here and every number of its allocation, schedule and journal tables is compared.
// After a deliberate policy change, regenerate the tables with: go test ./internal/revrec -run Docs -update-docs

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated tables of docs/revenue-recognition.md")

const docPath = "../../docs/revenue-recognition.md"

var (
	exampleRe = regexp.MustCompile("(?s)<!-- revrec:example ([a-z0-9-]+) -->\\s*```yaml\\n(.*?)```")
	tablesRe  = regexp.MustCompile(`(?s)(<!-- revrec:tables ([a-z0-9-]+) -->\n)(.*?)(<!-- /revrec:tables -->)`)
)

var accountNames = map[string]string{
	"1100": "Accounts receivable", "1150": "Unbilled receivable", "2400": "Deferred revenue",
	"4010": "Revenue: platform", "4020": "Revenue: seats", "4030": "Revenue: usage",
	"4040": "Revenue: services", "4050": "Revenue: setup", "4950": "Breakage revenue",
}

type docExample struct {
	name  string
	input Arrangement
	sched *Schedule
}

func docExamples(t *testing.T, doc []byte) map[string]docExample {
	t.Helper()
	out := map[string]docExample{}
	for _, m := range exampleRe.FindAllSubmatch(doc, -1) {
		name := string(m[1])
		var a Arrangement
		dec := yaml.NewDecoder(bytes.NewReader(m[2]))
		dec.KnownFields(true)
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("example %s: yaml: %v", name, err)
		}
		s, err := Compute(a, DefaultSSPTable())
		if err != nil {
			t.Fatalf("example %s: %v", name, err)
		}
		out[name] = docExample{name: name, input: a, sched: s}
	}
	return out
}

func TestDocsWorkedExamples(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	examples := docExamples(t, doc)
	want := []string{"annual-platform", "bundle-discount", "usage-minimum", "prepaid-credits", "upsell-amendment", "setup-fee"}
	for _, n := range want {
		if _, ok := examples[n]; !ok {
			t.Errorf("docs: worked example %q is missing", n)
		}
	}
	if *updateDocs {
		out := tablesRe.ReplaceAllFunc(doc, func(b []byte) []byte {
			sm := tablesRe.FindSubmatch(b)
			ex, ok := examples[string(sm[2])]
			if !ok {
				t.Fatalf("tables for unknown example %s", sm[2])
			}
			return []byte(string(sm[1]) + renderTables(t, ex) + string(sm[4]))
		})
		if err := os.WriteFile(docPath, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	seen := 0
	for _, sm := range tablesRe.FindAllSubmatch(doc, -1) {
		name := string(sm[2])
		ex, ok := examples[name]
		if !ok {
			t.Errorf("docs: tables for unknown example %q", name)
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			compareTables(t, parseTables(string(sm[3])), parseTables(renderTables(t, ex)))
		})
	}
	if seen != len(examples) {
		t.Errorf("docs: %d examples but %d generated table blocks", len(examples), seen)
	}
}

// renderTables writes an example's allocation, schedule and journal as markdown tables.
func renderTables(t *testing.T, ex docExample) string {
	t.Helper()
	s := ex.sched
	var b strings.Builder
	num := func(v decimal.Decimal) string { return amountText(v, s.Currency) }
	allocated := 0
	for _, v := range s.Versions {
		allocated += len(v.Allocations)
	}
	if allocated == 0 {
		b.WriteString("**Allocation**: none, usage is recognized as consumed and not allocated.\n")
	} else {
		b.WriteString("**Allocation**\n\n| Version | Obligation | SSP | Allocated | Catch-up |\n|---|---|--:|--:|--:|\n")
	}
	for _, v := range s.Versions {
		ver := "original"
		if v.AmendmentID != "" {
			ver = fmt.Sprintf("%s (%s, %s)", v.AmendmentID, v.Method, v.Effective.Format("2006-01-02"))
		}
		for _, al := range v.Allocations {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", ver, al.ObligationID, num(al.SSP.Round(2)), num(al.Allocated), num(al.CatchUp))
		}
	}
	var obs []string
	seen := map[string]bool{}
	for _, l := range s.Lines {
		if !seen[l.ObligationID] {
			seen[l.ObligationID] = true
			obs = append(obs, l.ObligationID)
		}
	}
	b.WriteString("\n**Schedule** (revenue per obligation; balances are the arrangement's net position at month end)\n\n| Month |")
	for _, o := range obs {
		fmt.Fprintf(&b, " %s |", o)
	}
	b.WriteString(" Breakage | Billed | Deferred revenue | Unbilled receivable |\n|---|")
	b.WriteString(strings.Repeat("--:|", len(obs)+4) + "\n")
	rev := map[string]map[Month]decimal.Decimal{}
	totals := map[string]decimal.Decimal{}
	for _, l := range s.Lines {
		if rev[l.ObligationID] == nil {
			rev[l.ObligationID] = map[Month]decimal.Decimal{}
		}
		rev[l.ObligationID][l.Month] = l.Revenue
		totals[l.ObligationID] = totals[l.ObligationID].Add(l.Revenue)
	}
	var tb, tk decimal.Decimal
	for _, bal := range Balances(s.Lines) {
		fmt.Fprintf(&b, "| %s |", bal.Month)
		for _, o := range obs {
			fmt.Fprintf(&b, " %s |", num(rev[o][bal.Month]))
		}
		fmt.Fprintf(&b, " %s | %s | %s | %s |\n", num(bal.Breakage), num(bal.Billed), num(bal.Deferred), num(bal.Unbilled))
		tb, tk = tb.Add(bal.Billed), tk.Add(bal.Breakage)
	}
	b.WriteString("| Total |")
	for _, o := range obs {
		fmt.Fprintf(&b, " %s |", num(totals[o]))
	}
	fmt.Fprintf(&b, " %s | %s | | |\n", num(tk), num(tb))
	entries, err := Journal(s.Lines, DefaultAccounts())
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n**Journal entries** (suggested at each month end)\n\n| Month | Entry | Account | Debit | Credit |\n|---|---|---|--:|--:|\n")
	for _, e := range entries {
		for _, l := range e.Lines {
			d, c := "", ""
			if l.Side == Debit {
				d = num(l.Amount)
			} else {
				c = num(l.Amount)
			}
			fmt.Fprintf(&b, "| %s | %s | %s %s | %s | %s |\n", e.Month, e.Kind, l.Account, accountNames[l.Account], d, c)
		}
	}
	return b.String()
}

// parseTables reads the rows of every markdown table, cells trimmed, separator rows dropped.
func parseTables(md string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(md, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	return rows
}

func compareTables(t *testing.T, doc, computed [][]string) {
	t.Helper()
	if len(doc) != len(computed) {
		t.Errorf("docs have %d table rows, the computation %d", len(doc), len(computed))
	}
	for i := 0; i < len(doc) && i < len(computed); i++ {
		if len(doc[i]) != len(computed[i]) {
			t.Errorf("row %d: docs %v, computed %v", i, doc[i], computed[i])
			continue
		}
		for j := range doc[i] {
			a, b := doc[i][j], computed[i][j]
			da, ea := decimal.NewFromString(a)
			db, eb := decimal.NewFromString(b)
			if ea == nil && eb == nil {
				if !da.Equal(db) {
					t.Errorf("row %d %v column %d: docs %s, computed %s", i, doc[i][0], j, a, b)
				}
			} else if a != b {
				t.Errorf("row %d %v column %d: docs %q, computed %q", i, doc[i][0], j, a, b)
			}
		}
	}
}
