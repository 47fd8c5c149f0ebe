package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/usage"
)

// Options configure a load run; zero values take the defaults noted on each field.
type Options struct {
	URL         string        // base URL of the revhub API, e.g. http://127.0.0.1:8080
	APIKey      string        // sent as a Bearer token; needs events:write, read and admin (to define the run's meters)
	Duration    time.Duration // how long to generate load; default 60s
	MaxEvents   uint64        // stop after this many distinct events (0: no limit)
	Workers     int           // concurrent HTTP clients; default 16
	BatchSize   int           // events per request including duplicates; default 5000
	Customers   int           // distinct subjects; default 1000
	DupShare    int           // per mille of events in a batch that repeat earlier events; default 20
	RetryShare  int           // per mille of acknowledged batches sent again whole (client retries); default 10
	LateShare   int           // per mille of events hours to days old; default 50
	APIPID      int           // process id of the API for its peak RSS (0: read process_resident_memory_bytes from /metrics)
	DatabaseURL string        // PostgreSQL server behind the API, to report its settings and checkpoints ("": not reported)
	Seed        uint64        // default: random
	Log         *slog.Logger
	Client      *http.Client
}

// Report is the outcome of a run.
type Report struct {
	Run            string
	Events         uint64        // distinct events acknowledged
	Sent           uint64        // events sent in acknowledged requests, duplicates and retries included
	DupsReported   uint64        // events the API reported as duplicates
	Batches        int           // acknowledged requests
	Overloaded     int           // 503/429 answers (retried after Retry-After)
	Elapsed        time.Duration // first request to last acknowledgement
	EventsPerSec   uint64        // Events / Elapsed
	P50, P99, Max  time.Duration // acknowledged request latency
	PeakRSS        int64         // bytes; 0 when unknown
	PeakRSSSource  string
	Verified       bool     // every meter total equals the generator's expectation exactly
	Mismatches     []string // the first differences found, if any
	MetersVerified int
	SubjectsPerMtr int
	Postgres       *Postgres // nil unless Options.DatabaseURL was set
}

// Run creates the run's meters, sends load for the duration, then verifies the stored totals.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.URL == "" {
		return nil, errors.New("bench: the API URL is required")
	}
	if o.Duration <= 0 {
		o.Duration = 60 * time.Second
	}
	o.Workers = cmp(o.Workers, 16)
	o.BatchSize = cmp(o.BatchSize, 5000)
	o.Customers = cmp(o.Customers, 1000)
	if o.DupShare == 0 {
		o.DupShare = 20
	}
	if o.RetryShare == 0 {
		o.RetryShare = 10
	}
	if o.LateShare == 0 {
		o.LateShare = 50
	}
	if o.BatchSize > usage.MaxBatch {
		return nil, fmt.Errorf("bench: batch size %d exceeds %d", o.BatchSize, usage.MaxBatch)
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: o.Workers * 2}}
	}
	if o.Seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.Seed = uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 | uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
	}
	run := make([]byte, 4)
	_, _ = rand.Read(run)
	g := &Generator{Run: hex.EncodeToString(run), Seed: o.Seed, Customers: o.Customers, Start: time.Now().UTC(), LateShare: o.LateShare}
	r := &runner{o: o, g: g}
	for _, m := range g.Meters() {
		if err := r.createMeter(ctx, m); err != nil {
			return nil, err
		}
	}
	var pg *pgObserver
	if o.DatabaseURL != "" {
		var err error
		if pg, err = observePostgres(ctx, o.DatabaseURL); err != nil {
			return nil, err
		}
	}
	rep, err := r.load(ctx)
	if pg != nil {
		p, perr := pg.finish(ctx)
		if rep != nil {
			rep.Postgres = p
		}
		if err == nil && perr != nil {
			err = perr
		}
	}
	if err != nil {
		return rep, err
	}
	if err := r.verify(ctx, rep); err != nil {
		return rep, err
	}
	return rep, nil
}

func cmp(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

type runner struct {
	o    Options
	g    *Generator
	next atomic.Uint64 // next distinct event index
}

func (r *runner) do(ctx context.Context, method, path, ctype string, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, r.o.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if r.o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.o.APIKey)
	}
	resp, err := r.o.Client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

func (r *runner) createMeter(ctx context.Context, m *usage.Meter) error {
	body, _ := json.Marshal(m)
	code, _, resp, err := r.do(ctx, "POST", "/v1/meters", "application/json", body)
	if err != nil {
		return fmt.Errorf("bench: create meter %s: %w", m.Slug, err)
	}
	if code != http.StatusCreated && code != http.StatusOK {
		return fmt.Errorf("bench: create meter %s: status %d: %s", m.Slug, code, truncate(resp))
	}
	return nil
}

type ingestAnswer struct {
	Events     int   `json:"events"`
	Stored     int   `json:"stored"`
	Duplicates []int `json:"duplicates"`
	Conflicts  []int `json:"conflicts"`
}

// send posts one batch until it is acknowledged, honouring Retry-After; it returns the answer and
// the latency of the acknowledged attempt.
func (r *runner) send(ctx context.Context, body []byte, overloaded *atomic.Int64) (ingestAnswer, time.Duration, error) {
	for {
		start := time.Now()
		code, hdr, resp, err := r.do(ctx, "POST", "/v1/events", "application/cloudevents-batch+json", body)
		lat := time.Since(start)
		switch {
		case ctx.Err() != nil:
			return ingestAnswer{}, 0, ctx.Err()
		case err != nil:
			r.o.Log.Warn("bench: request failed, retrying the same batch", "err", err)
			time.Sleep(200 * time.Millisecond)
		case code == http.StatusAccepted:
			var a ingestAnswer
			if err := json.Unmarshal(resp, &a); err != nil {
				return a, 0, fmt.Errorf("bench: 202 answer %q: %w", truncate(resp), err)
			}
			return a, lat, nil
		case code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests:
			overloaded.Add(1)
			wait := 100 * time.Millisecond
			if s, err := strconv.Atoi(hdr.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
			time.Sleep(wait)
		default:
			return ingestAnswer{}, 0, fmt.Errorf("bench: POST /v1/events: status %d: %s", code, truncate(resp))
		}
	}
}

func (r *runner) load(ctx context.Context) (*Report, error) {
	rep := &Report{Run: r.g.Run}
	var rss rssSampler
	sctx, stopSampling := context.WithCancel(ctx)
	var swg sync.WaitGroup
	swg.Add(1)
	go func() { defer swg.Done(); rss.sample(sctx, r.o) }()

	deadline := time.Now().Add(r.o.Duration)
	dups := r.o.BatchSize * r.o.DupShare / 1000
	fresh := uint64(r.o.BatchSize - dups)
	var (
		mu         sync.Mutex
		lats       []time.Duration
		sent, dupN atomic.Uint64
		acked      atomic.Uint64
		batches    atomic.Int64
		overloaded atomic.Int64
		firstErr   error
		wg         sync.WaitGroup
	)
	started := time.Now()
	var lastAck atomic.Int64
	for w := range r.o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			defer func() { mu.Lock(); lats = append(lats, local...); mu.Unlock() }()
			body := make([]byte, 0, r.o.BatchSize*320)
			rnd := splitmix(r.o.Seed + uint64(w)*7919)
			var done [][2]uint64 // this client's last acknowledged index ranges
			for time.Now().Before(deadline) && ctx.Err() == nil {
				lo := r.next.Add(fresh) - fresh
				if r.o.MaxEvents > 0 && lo >= r.o.MaxEvents {
					return
				}
				n := fresh
				if r.o.MaxEvents > 0 && lo+n > r.o.MaxEvents {
					n = r.o.MaxEvents - lo
				}
				body = append(body[:0], '[')
				for k := range n {
					if k > 0 {
						body = append(body, ',')
					}
					body = r.g.AppendJSON(body, lo+k)
				}
				for range dups { // repeats inside this batch, or of this client's acknowledged batches
					rnd = splitmix(rnd)
					body = append(body, ',')
					if len(done) == 0 || rnd&1 == 0 {
						body = r.g.AppendJSON(body, lo+(rnd>>1)%n)
					} else {
						rg := done[(rnd>>1)%uint64(len(done))]
						body = r.g.AppendJSON(body, rg[0]+(rnd>>8)%(rg[1]-rg[0]))
					}
				}
				body = append(body, ']')
				a, lat, err := r.send(ctx, body, &overloaded)
				if err == nil && len(a.Conflicts) > 0 {
					err = fmt.Errorf("bench: %d conflicts reported for identical events", len(a.Conflicts))
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				local = append(local, lat)
				if len(done) == 8 {
					done = done[1:]
				}
				done = append(done, [2]uint64{lo, lo + n})
				acked.Add(uint64(a.Stored))
				sent.Add(uint64(a.Events))
				dupN.Add(uint64(len(a.Duplicates)))
				batches.Add(1)
				lastAck.Store(time.Now().UnixNano())
				rnd = splitmix(rnd)
				if int(rnd%1000) < r.o.RetryShare { // the client did not see the 202 and sends again
					a, _, err := r.send(ctx, body, &overloaded)
					if err == nil && (a.Stored != 0 || len(a.Duplicates) != a.Events) {
						err = fmt.Errorf("bench: a resent batch stored %d events, want 0 (all %d duplicates)", a.Stored, a.Events)
					}
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						return
					}
					sent.Add(uint64(a.Events))
					dupN.Add(uint64(len(a.Duplicates)))
					batches.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	stopSampling()
	swg.Wait()
	if firstErr != nil {
		return rep, firstErr
	}
	end := time.Unix(0, lastAck.Load())
	rep.Events = min(r.next.Load(), maxOr(r.o.MaxEvents))
	rep.Sent, rep.DupsReported, rep.Batches, rep.Overloaded = sent.Load(), dupN.Load(), int(batches.Load()), int(overloaded.Load())
	if acked.Load() != rep.Events {
		return rep, fmt.Errorf("bench: the API stored %d new events, the generator sent %d distinct ones", acked.Load(), rep.Events)
	}
	rep.Elapsed = end.Sub(started)
	if rep.Elapsed > 0 {
		rep.EventsPerSec = rep.Events * uint64(time.Second) / uint64(rep.Elapsed)
	}
	slices.Sort(lats)
	if len(lats) > 0 {
		rep.P50, rep.P99, rep.Max = lats[len(lats)/2], lats[(len(lats)*99)/100], lats[len(lats)-1]
	}
	rep.PeakRSS, rep.PeakRSSSource = rss.peak()
	return rep, nil
}

func maxOr(v uint64) uint64 {
	if v == 0 {
		return ^uint64(0)
	}
	return v
}

type queryAnswer struct {
	Data []struct {
		Subject string          `json:"subject"`
		Value   decimal.Decimal `json:"value"`
	} `json:"data"`
}

// verify compares every meter's stored totals per subject with the generator's expectation.
func (r *runner) verify(ctx context.Context, rep *Report) error {
	want := r.g.Expect(rep.Events)
	from := r.g.Start.Add(-21 * 24 * time.Hour).Truncate(time.Hour)
	to := r.g.Start.Add(2 * time.Hour).Truncate(time.Hour)
	rep.Verified = true
	for _, m := range r.g.Meters() {
		q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
		code, _, body, err := r.do(ctx, "GET", "/v1/meters/"+m.Slug+"/query?"+q.Encode(), "", nil)
		if err != nil {
			return fmt.Errorf("bench: query %s: %w", m.Slug, err)
		}
		if code != http.StatusOK {
			return fmt.Errorf("bench: query %s: status %d: %s", m.Slug, code, truncate(body))
		}
		var a queryAnswer
		if err := json.Unmarshal(body, &a); err != nil {
			return fmt.Errorf("bench: query %s: %w", m.Slug, err)
		}
		got := map[string]decimal.Decimal{}
		for _, row := range a.Data {
			got[row.Subject] = row.Value
		}
		exp := want[m.Slug]
		rep.MetersVerified++
		rep.SubjectsPerMtr = max(rep.SubjectsPerMtr, len(exp))
		for subj, v := range exp {
			if g, ok := got[subj]; !ok || !g.Equal(v) {
				rep.Verified = false
				if len(rep.Mismatches) < 20 {
					rep.Mismatches = append(rep.Mismatches, fmt.Sprintf("%s %s: stored %s, expected %s", m.Slug, subj, g, v))
				}
			}
		}
		for subj, g := range got {
			if _, ok := exp[subj]; !ok {
				rep.Verified = false
				if len(rep.Mismatches) < 20 {
					rep.Mismatches = append(rep.Mismatches, fmt.Sprintf("%s %s: stored %s, expected nothing", m.Slug, subj, g))
				}
			}
		}
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
