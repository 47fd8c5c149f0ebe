package mappings

import (
	"testing"
)

// FuzzParseSalesforceTiers feeds arbitrary Tiers__c values (typed by sales reps in Salesforce) to
// the tier parser: it must never panic, and an accepted table starts at 0, has no gaps or
// overlaps, no negative price, and ends unbounded.
func FuzzParseSalesforceTiers(f *testing.F) {
	f.Add("0-100000=0.002; 100000+=0.001")
	f.Add("0-10=1;10-20=0.5;20+=0;")
	f.Add("0-10=1;5-20=0.5;20+=0")
	f.Add("1-10=1;10+=1")
	f.Add("0+=1e400")
	f.Add("0-10=-1;10+=1")
	f.Add(" ; ;=")
	f.Fuzz(func(t *testing.T, s string) {
		tiers, err := ParseSalesforceTiers(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if len(tiers) == 0 || !tiers[0].From.IsZero() {
			t.Fatalf("%q: tiers %v do not start at 0", s, tiers)
		}
		for i, tr := range tiers {
			if tr.UnitPrice.IsNegative() {
				t.Fatalf("%q: tier %d has a negative price", s, i)
			}
			last := i == len(tiers)-1
			if last != (tr.UpTo == nil) {
				t.Fatalf("%q: tier %d: only the last tier is unbounded", s, i)
			}
			if !last && (!tr.UpTo.GreaterThan(tr.From) || !tiers[i+1].From.Equal(*tr.UpTo)) {
				t.Fatalf("%q: tier %d [%s, %s) is empty or not followed without a gap", s, i, tr.From, tr.UpTo)
			}
		}
	})
}
