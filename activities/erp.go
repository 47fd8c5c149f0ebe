package activities

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"

	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/notice"
	"github.com/revhub/revhub/mappings"
)

// Non-retryable error types of the ERP sync (kept equal to the names in package workflows).
const (
	ErrUnmappableEntry  = "UnmappableEntry"  // a ledger entry the NetSuite mapping cannot express
	ErrERPRejected      = "ERPRejected"      // NetSuite refused a journal or a query for good (4xx other than 429)
	ErrERPNotConfigured = "ERPNotConfigured" // the worker has no NetSuite client or mapping
)

// ERPSystem is the system name under which ledger entries are recorded as posted to NetSuite.
const ERPSystem = "netsuite"

// MaxERPBatch is the largest number of ledger entries one PostBatch takes.
const MaxERPBatch = 1000

// defaultERPBatch is the batch size when PostBatchInput.Limit is zero.
const defaultERPBatch = 200

// erpFanOut bounds the journals upserted at once by one activity (the client caps requests too).
const erpFanOut = 4

// ERP holds the ERP sync activities: posting unposted ledger entries to NetSuite as journal
// entries, and reconciling NetSuite against the ledger.
type ERP struct {
	deps *Deps
}

// PostBatchInput asks to post one batch of an entity's unposted ledger entries.
type PostBatchInput struct {
	Entity     string `json:"entity"`
	FromPeriod string `json:"from_period,omitempty"` // inclusive YYYY-MM; empty means from the start
	ToPeriod   string `json:"to_period,omitempty"`   // inclusive YYYY-MM; empty means up to now
	Limit      int    `json:"limit,omitempty"`       // entries per batch, 1-MaxERPBatch; 0 means 200
}

// Validate checks the input.
func (in PostBatchInput) Validate() error {
	if err := validatePeriods(in.Entity, in.FromPeriod, in.ToPeriod); err != nil {
		return err
	}
	if in.Limit < 0 || in.Limit > MaxERPBatch {
		return invalid("limit", "must be 0 (default %d) to %d, got %d", defaultERPBatch, MaxERPBatch, in.Limit)
	}
	return nil
}

// validatePeriods checks an entity and an optional inclusive period range.
func validatePeriods(entity, from, to string) error {
	var probs []string
	if entity == "" {
		probs = append(probs, "entity: required")
	}
	for _, p := range []struct{ name, v string }{{"from_period", from}, {"to_period", to}} {
		if p.v == "" {
			continue
		}
		if _, err := ledger.ParsePeriod(p.v); err != nil {
			probs = append(probs, fmt.Sprintf("%s: %q is not a YYYY-MM period", p.name, p.v))
		}
	}
	if len(probs) == 0 && from != "" && to != "" && from > to {
		probs = append(probs, fmt.Sprintf("to_period: %s is before from_period %s", to, from))
	}
	return invalidAll(probs)
}

// PostBatchOutput is what one batch posted.
type PostBatchOutput struct {
	Posted    int      `json:"posted"`    // ledger entries newly recorded as posted
	Journals  int      `json:"journals"`  // journal entries upserted in NetSuite
	Periods   []string `json:"periods"`   // the periods of the entries posted, sorted
	Remaining bool     `json:"remaining"` // the batch was full: more unposted entries may be waiting
}

// configured reports a permanent error when the worker has no NetSuite client or mapping.
func (a *ERP) configured() error {
	if a.deps.NetSuite == nil || a.deps.NetSuiteMapping == nil {
		return permanent(ErrERPNotConfigured, errors.New("netsuite: the worker has no NetSuite client or mapping configured"))
	}
	return nil
}

// PostBatch takes up to Limit unposted ledger entries, maps them to journal entries, upserts each
// journal in NetSuite by its external id and then records its entries as posted. A retry, or a
// crash between the NetSuite call and the record, upserts the same external id again and never
// creates a second journal. In summarized mode every entry of each affected day is mapped, since
// a day's journal is recomputed from all of them. Progress is heartbeated.
func (a *ERP) PostBatch(ctx context.Context, in PostBatchInput) (PostBatchOutput, error) {
	if err := in.Validate(); err != nil {
		return PostBatchOutput{}, err
	}
	if err := a.configured(); err != nil {
		return PostBatchOutput{}, err
	}
	limit := in.Limit
	if limit == 0 {
		limit = defaultERPBatch
	}
	bq := ledger.BalanceQuery{Entity: in.Entity, FromPeriod: in.FromPeriod, ToPeriod: in.ToPeriod}
	entries, err := ledger.Unposted(ctx, a.deps.Pool, ERPSystem, bq, limit)
	if err != nil {
		return PostBatchOutput{}, fmt.Errorf("erp post batch %s: %w", in.Entity, err)
	}
	out := PostBatchOutput{Remaining: len(entries) == limit, Periods: []string{}}
	if len(entries) == 0 {
		return out, nil
	}
	unposted := make(map[string]bool, len(entries))
	for _, e := range entries {
		unposted[e.Key] = true
	}
	cfg := a.deps.NetSuiteMapping
	if cfg.Mode == mappings.NetSuiteSummarized {
		if entries, err = a.wholeDays(ctx, entries); err != nil {
			return PostBatchOutput{}, err
		}
	}
	journals, err := mappings.NetSuiteJournals(cfg, entries)
	if err != nil {
		if errors.Is(err, mappings.ErrUnmappableEntry) {
			a.raise(ctx, "erp-sync:"+in.Entity, "erp_unmappable_entry", err.Error())
			return PostBatchOutput{}, permanent(ErrUnmappableEntry, err)
		}
		return PostBatchOutput{}, fmt.Errorf("erp post batch %s: map: %w", in.Entity, err)
	}
	periods := map[string]bool{}
	for _, e := range entries {
		periods[e.Period()] = true
	}
	for p := range periods {
		out.Periods = append(out.Periods, p)
	}
	sort.Strings(out.Periods)

	var posted, upserted atomic.Int64
	stop := a.heartbeat(ctx, func() any { return map[string]int64{"journals": upserted.Load(), "entries": posted.Load()} })
	defer stop()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(erpFanOut)
	for _, j := range journals {
		g.Go(func() error {
			if err := a.postJournal(gctx, j); err != nil {
				return err
			}
			if !j.Empty() {
				upserted.Add(1)
			}
			for _, k := range j.EntryKeys {
				if unposted[k] {
					posted.Add(1)
				}
			}
			return nil
		})
	}
	err = g.Wait()
	out.Posted, out.Journals = int(posted.Load()), int(upserted.Load())
	if err != nil {
		return out, err
	}
	a.deps.Log.InfoContext(ctx, "erp batch posted", "system", ERPSystem, "entity", in.Entity, "entries", out.Posted, "journals", out.Journals)
	return out, nil
}

// postJournal upserts one journal (an empty summary is only recorded) and records its entries
// as posted under its external id.
func (a *ERP) postJournal(ctx context.Context, j mappings.NetSuiteJournal) error {
	internalID := ""
	if !j.Empty() {
		id, err := a.deps.NetSuite.UpsertJournalEntry(ctx, j.ExternalID, j.Payload)
		if err != nil {
			return a.netsuiteError(ctx, fmt.Sprintf("upsert journal %s (ledger %s)", j.ExternalID, strings.Join(j.EntryKeys, ", ")), err)
		}
		internalID = id
	}
	if err := ledger.MarkPosted(ctx, a.deps.Pool, ERPSystem, j.EntryKeys, j.ExternalID, internalID, a.deps.Now()); err != nil {
		if errors.Is(err, ledger.ErrConflict) {
			return permanent(ErrKeyConflict, err)
		}
		return fmt.Errorf("erp: record journal %s as posted: %w", j.ExternalID, err)
	}
	return nil
}

// wholeDays widens a batch to every entry (posted or not) of each entity and day it touches, as
// a summarized journal is recomputed from the whole day.
func (a *ERP) wholeDays(ctx context.Context, batch []ledger.Entry) ([]ledger.Entry, error) {
	type day struct{ entity, date string }
	days := map[day]bool{}
	periods := map[[2]string]bool{}
	for _, e := range batch {
		days[day{e.Entity, e.Date.Format(time.DateOnly)}] = true
		periods[[2]string{e.Entity, e.Period()}] = true
	}
	keys := make([][2]string, 0, len(periods))
	for k := range periods {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	var out []ledger.Entry
	for _, k := range keys {
		all, err := ledger.Entries(ctx, a.deps.Pool, ledger.BalanceQuery{Entity: k[0], FromPeriod: k[1], ToPeriod: k[1]})
		if err != nil {
			return nil, fmt.Errorf("erp: entries of %s %s: %w", k[0], k[1], err)
		}
		for _, e := range all {
			if days[day{e.Entity, e.Date.Format(time.DateOnly)}] {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// netsuiteError makes NetSuite's permanent refusals (4xx other than 429) non-retryable and tells
// revenue ops; rate limits, server errors and transport errors stay retryable.
func (a *ERP) netsuiteError(ctx context.Context, what string, err error) error {
	var ae *netsuite.APIError
	if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != 429 {
		a.raise(ctx, "erp-sync", "erp_rejected", what+": "+err.Error())
		return permanent(ErrERPRejected, fmt.Errorf("%s: %w", what, err))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// raise records a notice for revenue ops; a failure is logged, since the caller's error matters more.
func (a *ERP) raise(ctx context.Context, subject, kind, msg string) {
	if _, err := notice.Raise(ctx, a.deps.Pool, subject, kind, msg, msg); err != nil {
		a.deps.Log.WarnContext(ctx, "raise notice", "subject", subject, "kind", kind, "err", err)
	}
}

// heartbeat records progress every few seconds while an activity runs (so a dead worker is noticed
// by the heartbeat timeout even while one call waits out a rate limit); stop ends it.
func (a *ERP) heartbeat(ctx context.Context, progress func() any) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	activity.RecordHeartbeat(ctx, progress())
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, progress())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
