package activities

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/revrec"
)

// The revenue run's ledger side: a schedule's recognition, breakage and month-end reclass entries on the
// chart, and posting them so that a rerun is a no-op and a changed open month is adjusted, never rewritten.

// entries turns the schedule's recognition and breakage suggestions through month into ledger entries on the
// chart: the deferred/unbilled side as revrec.Journal moves the contract's net position, revenue per product.
// Months after closed with nothing to post come as entries without postings (see post).
func (a *Revenue) entries(s *revrec.Schedule, through, closed revrec.Month) ([]ledger.Entry, error) {
	ch := a.deps.Chart
	acc := revrec.Accounts{
		Receivable: ch.RoleAccount(ledger.RoleReceivable), UnbilledReceivable: ch.RoleAccount(ledger.RoleUnbilled),
		DeferredRevenue: ch.RoleAccount(ledger.RoleDeferredRevenue), Breakage: ch.RoleAccount(ledger.RoleBreakage),
		Revenue: map[revrec.Kind]string{},
	}
	for _, k := range []revrec.Kind{revrec.KindPlatform, revrec.KindSeats, revrec.KindUsage, revrec.KindServices, revrec.KindSetup} {
		acc.Revenue[k] = "revenue:" + string(k) // placeholder: revenue credits are rebuilt per product below
	}
	suggested, err := revrec.Journal(s.Lines, acc)
	if err != nil {
		return nil, fmt.Errorf("revenue: contract %s: %w", s.ArrangementID, err)
	}
	type pk struct{ product, kind string }
	revenue := map[string]map[pk]decimal.Decimal{} // month -> product -> revenue
	for _, l := range s.Lines {
		if l.Revenue.IsZero() {
			continue
		}
		m := l.Month.String()
		if revenue[m] == nil {
			revenue[m] = map[pk]decimal.Decimal{}
		}
		k := pk{l.Product, string(l.Kind)}
		revenue[m][k] = revenue[m][k].Add(l.Revenue)
	}
	var out []ledger.Entry
	have := map[string]bool{}
	var months []revrec.Month
	for _, l := range s.Lines {
		if len(months) == 0 || months[len(months)-1].Before(l.Month) {
			months = append(months, l.Month)
		}
	}
	for _, j := range suggested {
		if j.Kind == revrec.EntryBilling || j.Month.After(through) {
			continue
		}
		e := ledger.Entry{Key: j.Key, Entity: j.EntityID, Date: j.Date, Memo: j.Memo}
		dims := ledger.Dimensions{Customer: s.CustomerID, Contract: s.ArrangementID}
		add := func(account string, side revrec.Side, amount decimal.Decimal, product string) {
			if amount.IsZero() {
				return
			}
			if amount.IsNegative() {
				amount = amount.Neg()
				side = map[revrec.Side]revrec.Side{revrec.Debit: revrec.Credit, revrec.Credit: revrec.Debit}[side]
			}
			d := dims
			d.Product = product
			e.Postings = append(e.Postings, ledger.Posting{Account: account, Side: ledger.Side(side), Amount: amount,
				Currency: j.Currency, Dimensions: d})
		}
		for _, l := range j.Lines {
			if l.Account == acc.DeferredRevenue || l.Account == acc.UnbilledReceivable || l.Account == acc.Breakage {
				add(l.Account, l.Side, l.Amount, "")
			}
		}
		if j.Kind == revrec.EntryRecognition {
			byProduct := revenue[j.Month.String()]
			keys := make([]pk, 0, len(byProduct))
			for k := range byProduct {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(x, y int) bool {
				if keys[x].product != keys[y].product {
					return keys[x].product < keys[y].product
				}
				return keys[x].kind < keys[y].kind
			})
			for _, k := range keys {
				add(revenueAccount(ch, k.product, k.kind), revrec.Credit, byProduct[k], k.product)
			}
		}
		out = append(out, e)
		have[j.Key] = true
	}
	// Open months with nothing to recognize any more: whatever an earlier run posted for them is undone.
	for _, m := range months {
		if m.After(through) || !m.After(closed) {
			continue
		}
		for _, kind := range []revrec.EntryKind{revrec.EntryRecognition, revrec.EntryBreakage} {
			key := fmt.Sprintf("revrec:%s:%s:%s", s.ArrangementID, m, kind)
			if !have[key] {
				out = append(out, ledger.Entry{Key: key, Entity: s.EntityID, Date: m.LastDay(),
					Memo: fmt.Sprintf("%s %s recognized in %s", s.ArrangementID, kind, m)})
			}
		}
	}
	return out, nil
}

// revenueAccount is the chart's revenue account of a product, else of its obligation kind, else the default.
func revenueAccount(ch *ledger.Chart, product, kind string) string {
	if code, ok := ch.RevenueByProduct[product]; ok {
		return code
	}
	if code, ok := ch.RevenueByProduct[kind]; ok {
		return code
	}
	return ch.RoleAccount(ledger.RoleRevenue)
}

// post posts a month's entry once. When the key already holds different content (the schedule of a month
// still open changed: a late invoice, an amendment), the difference to everything posted for it so far
// is posted as the adjustment {key}:run-{seq} of this schedule run; retrying the run repeats that key.
// Entries of a closed period are posted late, in the next open one (ledger.PostLate).
// An entry without postings is a month whose amount fell to zero: only what was posted for it is undone.
func (a *Revenue) post(ctx context.Context, e ledger.Entry, seq int) (bool, error) {
	if len(e.Postings) > 0 {
		res, err := ledger.PostLate(ctx, a.deps.Pool, a.deps.Chart, e)
		if err == nil {
			return res.Created, nil
		}
		if !errors.Is(err, ledger.ErrConflict) {
			return false, fmt.Errorf("revenue: post %s: %w", e.Key, err)
		}
	} else if _, err := ledger.GetEntry(ctx, a.deps.Pool, e.Key); errors.Is(err, ledger.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("revenue: %w", err)
	}
	posted := map[postingKey]decimal.Decimal{}
	keys := []string{e.Key}
	for n := 1; n < seq; n++ {
		keys = append(keys, fmt.Sprintf("%s:run-%d", e.Key, n))
	}
	for _, k := range keys {
		prev, err := ledger.GetEntry(ctx, a.deps.Pool, k)
		if errors.Is(err, ledger.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("revenue: %w", err)
		}
		addNet(posted, prev.Postings)
	}
	diff := map[postingKey]decimal.Decimal{}
	addNet(diff, e.Postings)
	for k, v := range posted {
		diff[k] = diff[k].Sub(v)
	}
	adj := ledger.Entry{Key: fmt.Sprintf("%s:run-%d", e.Key, seq), Entity: e.Entity, Date: e.Date,
		Memo: fmt.Sprintf("%s (adjusted by schedule run %d)", e.Memo, seq)}
	pks := make([]postingKey, 0, len(diff))
	for k, v := range diff {
		if !v.IsZero() {
			pks = append(pks, k)
		}
	}
	if len(pks) == 0 {
		return false, nil
	}
	sort.Slice(pks, func(i, j int) bool { // debits first, then by account and product
		if di, dj := diff[pks[i]].IsPositive(), diff[pks[j]].IsPositive(); di != dj {
			return di
		}
		if pks[i].account != pks[j].account {
			return pks[i].account < pks[j].account
		}
		return pks[i].product < pks[j].product
	})
	for _, k := range pks {
		p := ledger.Posting{Account: k.account, Side: ledger.Debit, Amount: diff[k], Currency: money.Currency(k.currency),
			Dimensions: ledger.Dimensions{Customer: k.customer, Product: k.product, Contract: k.contract}}
		if p.Amount.IsNegative() {
			p.Side, p.Amount = ledger.Credit, p.Amount.Neg()
		}
		adj.Postings = append(adj.Postings, p)
	}
	res, err := ledger.PostLate(ctx, a.deps.Pool, a.deps.Chart, adj)
	if err != nil {
		return false, fmt.Errorf("revenue: post %s: %w", adj.Key, err)
	}
	return res.Created, nil
}

// postingKey identifies what a posting moves, for netting entries against each other.
type postingKey struct{ account, currency, customer, product, contract string }

// addNet adds the postings' signed amounts (debits positive) to net.
func addNet(net map[postingKey]decimal.Decimal, ps []ledger.Posting) {
	for _, p := range ps {
		k := postingKey{p.Account, string(p.Currency), p.Customer, p.Product, p.Contract}
		net[k] = net[k].Add(p.Signed())
	}
}

// reclasses are the month-end entries that split the contract's net position in the ledger into exactly the
// schedule's deferred revenue and unbilled receivable (key revrec:{contract}:{YYYY-MM}:reclass). Billing credits
// each invoice line to one of the two by its own treatment, so one contract can end a month with both a
// deferred and an unbilled balance in the ledger where the schedule (ASC 606-10-45, one net position per
// contract) has only their difference. The ledger's balances are those of the invoices' finalization entries
// and of this run's entries, all known here. Should the ledger's net position differ from the schedule's
// (billing posted other amounts), nothing is reclassified and the difference is logged for reconciliation.
func (a *Revenue) reclasses(ctx context.Context, s *revrec.Schedule, billed, posted []ledger.Entry,
	through, closed revrec.Month) []ledger.Entry {
	deferredAcct, unbilledAcct := a.deps.Chart.RoleAccount(ledger.RoleDeferredRevenue), a.deps.Chart.RoleAccount(ledger.RoleUnbilled)
	deferred, unbilled := map[revrec.Month]decimal.Decimal{}, map[revrec.Month]decimal.Decimal{} // moves per month
	add := func(m revrec.Month, ps []ledger.Posting) {
		for _, p := range ps {
			switch p.Account {
			case deferredAcct:
				deferred[m] = deferred[m].Sub(p.Signed()) // a liability: credits raise it
			case unbilledAcct:
				unbilled[m] = unbilled[m].Add(p.Signed())
			}
		}
	}
	for _, e := range billed {
		add(revrec.MonthOf(e.Date), e.Postings)
	}
	for _, e := range posted {
		add(revrec.MonthOf(e.Date), e.Postings)
	}
	var out []ledger.Entry
	def, unb := decimal.Zero, decimal.Zero
	for _, b := range revrec.Balances(s.Lines) {
		if b.Month.After(through) {
			break
		}
		def, unb = def.Add(deferred[b.Month]), unb.Add(unbilled[b.Month])
		e := ledger.Entry{Key: fmt.Sprintf("revrec:%s:%s:reclass", s.ArrangementID, b.Month), Entity: s.EntityID,
			Date: b.Month.LastDay(), Memo: fmt.Sprintf("%s deferred revenue and unbilled receivable netted at %s", s.ArrangementID, b.Month)}
		if !def.Sub(unb).Equal(b.Closing) {
			a.deps.Log.WarnContext(ctx, "ledger contract position differs from the revenue schedule", "contract", s.ArrangementID,
				"month", b.Month.String(), "ledger_net", def.Sub(unb).String(), "schedule_net", b.Closing.String())
			return out
		}
		x := def.Sub(b.Deferred) // too much deferred revenue (and as much unbilled receivable) in the ledger
		if x.IsZero() {
			if b.Month.After(closed) {
				out = append(out, e) // nothing to reclassify; an earlier run's reclass of this month is undone
			}
			continue
		}
		dims := ledger.Dimensions{Customer: s.CustomerID, Contract: s.ArrangementID}
		dr, cr := deferredAcct, unbilledAcct
		if x.IsNegative() {
			dr, cr = cr, dr
		}
		e.Postings = []ledger.Posting{
			{Account: dr, Side: ledger.Debit, Amount: x.Abs(), Currency: s.Currency, Dimensions: dims},
			{Account: cr, Side: ledger.Credit, Amount: x.Abs(), Currency: s.Currency, Dimensions: dims},
		}
		out = append(out, e)
		def, unb = def.Sub(x), unb.Sub(x)
	}
	return out
}
