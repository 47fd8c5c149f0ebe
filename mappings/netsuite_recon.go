package mappings

import (
	"fmt"
	"sort"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/netsuite"
)

// NetSuiteDifferenceKind classifies a reconciliation difference between the ledger and NetSuite.
type NetSuiteDifferenceKind string

// The differences reconciliation finds.
const (
	MissingInNetSuite    NetSuiteDifferenceKind = "missing_in_netsuite" // posted by revhub, absent in NetSuite
	UnexpectedInNetSuite NetSuiteDifferenceKind = "unexpected_entry"    // revhub's external id in NetSuite, not in the ledger
	DuplicateInNetSuite  NetSuiteDifferenceKind = "duplicate_entry"     // one external id on several NetSuite records
	NetSuiteEntryAmounts NetSuiteDifferenceKind = "entry_amounts"       // an entry's account totals differ
	NetSuitePeriodTotals NetSuiteDifferenceKind = "period_totals"       // a period's subsidiary/account/currency totals differ
)

// NetSuiteDifference is one reconciliation exception, naming the entry (or account) and both sides.
type NetSuiteDifference struct {
	Kind           NetSuiteDifferenceKind
	ExternalID     string
	EntryKeys      []string
	Subsidiary     string
	Account        string
	Currency       string
	LedgerDebit    decimal.Decimal
	LedgerCredit   decimal.Decimal
	NetSuiteDebit  decimal.Decimal
	NetSuiteCredit decimal.Decimal
	Reason         string
}

type nsTotalKey struct{ ext, subsidiary, account, currency string }

type nsAmounts struct{ debit, credit decimal.Decimal }

func (a nsAmounts) add(debit, credit decimal.Decimal) nsAmounts {
	return nsAmounts{a.debit.Add(debit), a.credit.Add(credit)}
}

func nsLineAmounts(l netsuite.JournalLine) (debit, credit decimal.Decimal) {
	if l.Debit != nil {
		debit = l.Debit.Decimal
	}
	if l.Credit != nil {
		credit = l.Credit.Decimal
	}
	return debit, credit
}

func nsRefID(r *netsuite.Ref) string {
	if r == nil {
		return ""
	}
	return r.ID
}

func nsSortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// nsUnionKeys returns the keys of both maps in a stable order.
func nsUnionKeys(a, b map[nsTotalKey]nsAmounts) []nsTotalKey {
	seen := map[nsTotalKey]bool{}
	var out []nsTotalKey
	for _, m := range []map[nsTotalKey]nsAmounts{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		x, y := out[i], out[j]
		return x.ext+"\x00"+x.subsidiary+"\x00"+x.account+"\x00"+x.currency < y.ext+"\x00"+y.subsidiary+"\x00"+y.account+"\x00"+y.currency
	})
	return out
}

// ReconcileNetSuite compares the journals revhub posted for one period (as mapped from the ledger)
// with NetSuite's per-entry and per-period totals for that period (netsuite.Client.EntryTotals and
// PeriodTotals): every entry must be there exactly once with the same account totals, and the
// period totals per subsidiary, account and currency must agree. No differences means green.
func ReconcileNetSuite(expected []NetSuiteJournal, perEntry, perPeriod []netsuite.LineTotal) []NetSuiteDifference {
	want := map[nsTotalKey]nsAmounts{}
	wantPeriod := map[nsTotalKey]nsAmounts{}
	keysOf := map[string][]string{}
	for _, j := range expected {
		if j.Empty() {
			continue
		}
		keysOf[j.ExternalID] = j.EntryKeys
		for _, l := range j.Payload.Line.Items {
			k := nsTotalKey{j.ExternalID, nsRefID(j.Payload.Subsidiary), l.Account.ID, nsRefID(j.Payload.Currency)}
			d, c := nsLineAmounts(l)
			want[k] = want[k].add(d, c)
			pk := nsTotalKey{"", k.subsidiary, k.account, k.currency}
			wantPeriod[pk] = wantPeriod[pk].add(d, c)
		}
	}
	var out []NetSuiteDifference
	got := map[nsTotalKey]nsAmounts{}
	internalIDs := map[string]map[string]bool{}
	for _, t := range perEntry {
		k := nsTotalKey{t.ExternalID, t.Subsidiary, t.Account, t.Currency}
		got[k] = got[k].add(t.Debit, t.Credit)
		if internalIDs[t.ExternalID] == nil {
			internalIDs[t.ExternalID] = map[string]bool{}
		}
		internalIDs[t.ExternalID][t.InternalID] = true
	}
	for _, ext := range nsSortedKeys(internalIDs) {
		if _, ok := keysOf[ext]; !ok {
			key, _ := netsuite.KeyFromExternalID(ext)
			out = append(out, NetSuiteDifference{Kind: UnexpectedInNetSuite, ExternalID: ext, Reason: fmt.Sprintf(
				"NetSuite holds journal %s (ledger key %q) that the ledger did not post in this period", ext, key)})
			continue
		}
		if n := len(internalIDs[ext]); n > 1 {
			out = append(out, NetSuiteDifference{Kind: DuplicateInNetSuite, ExternalID: ext, EntryKeys: keysOf[ext], Reason: fmt.Sprintf(
				"journal %s (ledger %s) is in NetSuite %d times: internal ids %s", ext, strings.Join(keysOf[ext], ", "), n,
				strings.Join(nsSortedKeys(internalIDs[ext]), ", "))})
		}
	}
	for _, ext := range nsSortedKeys(keysOf) {
		if internalIDs[ext] == nil {
			out = append(out, NetSuiteDifference{Kind: MissingInNetSuite, ExternalID: ext, EntryKeys: keysOf[ext], Reason: fmt.Sprintf(
				"journal %s (ledger %s) is not in NetSuite", ext, strings.Join(keysOf[ext], ", "))})
		}
	}
	for _, k := range nsUnionKeys(want, got) {
		if _, expectedEntry := keysOf[k.ext]; !expectedEntry || internalIDs[k.ext] == nil {
			continue // already reported as unexpected or missing
		}
		w, g := want[k], got[k]
		if !w.debit.Equal(g.debit) || !w.credit.Equal(g.credit) {
			out = append(out, NetSuiteDifference{Kind: NetSuiteEntryAmounts, ExternalID: k.ext, EntryKeys: keysOf[k.ext], Subsidiary: k.subsidiary,
				Account: k.account, Currency: k.currency, LedgerDebit: w.debit, LedgerCredit: w.credit, NetSuiteDebit: g.debit, NetSuiteCredit: g.credit,
				Reason: fmt.Sprintf("journal %s (ledger %s), account %s: ledger debit %s credit %s, NetSuite debit %s credit %s",
					k.ext, strings.Join(keysOf[k.ext], ", "), k.account, w.debit, w.credit, g.debit, g.credit)})
		}
	}
	gotPeriod := map[nsTotalKey]nsAmounts{}
	for _, t := range perPeriod {
		k := nsTotalKey{"", t.Subsidiary, t.Account, t.Currency}
		gotPeriod[k] = gotPeriod[k].add(t.Debit, t.Credit)
	}
	for _, k := range nsUnionKeys(wantPeriod, gotPeriod) {
		w, g := wantPeriod[k], gotPeriod[k]
		if !w.debit.Equal(g.debit) || !w.credit.Equal(g.credit) {
			out = append(out, NetSuiteDifference{Kind: NetSuitePeriodTotals, Subsidiary: k.subsidiary, Account: k.account, Currency: k.currency,
				LedgerDebit: w.debit, LedgerCredit: w.credit, NetSuiteDebit: g.debit, NetSuiteCredit: g.credit,
				Reason: fmt.Sprintf("subsidiary %s, account %s, currency %s: ledger debit %s credit %s, NetSuite debit %s credit %s",
					k.subsidiary, k.account, k.currency, w.debit, w.credit, g.debit, g.credit)})
		}
	}
	return out
}
