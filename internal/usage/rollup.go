package usage

import (
	"bytes"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"
)

// rollupKey identifies one hourly rollup row.
type rollupKey struct {
	meter, subject, groups string
	hour                   int64 // unix seconds of the UTC hour
}

// rollupAcc accumulates one group's contribution to a rollup row.
type rollupAcc struct {
	count      int64
	sum        decimal.Decimal
	max        *decimal.Decimal
	latest     *decimal.Decimal
	latestTime time.Time
	latestKey  Key
}

// distinctKey is one distinct value of a UNIQUE_COUNT meter in an hour.
type distinctKey struct {
	rollupKey
	value string
}

const upsertRollups = `INSERT INTO usage_rollups AS r (meter, subject, hour, groups, slot, count, sum, max, latest, latest_time, latest_key)
SELECT m, s, h, g, $11::int2, c, su, mx, l, lt, lk
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::int8[], $6::numeric[],
            $7::numeric[], $8::numeric[], $9::timestamptz[], $10::uuid[]) AS u(m, s, h, g, c, su, mx, l, lt, lk)
ON CONFLICT (meter, subject, hour, groups, slot) DO UPDATE SET
    count = r.count + excluded.count,
    sum = r.sum + excluded.sum,
    max = greatest(r.max, excluded.max),
    latest = CASE WHEN r.latest_time IS NULL OR (excluded.latest_time, excluded.latest_key) > (r.latest_time, r.latest_key)
                  THEN excluded.latest ELSE r.latest END,
    latest_key = CASE WHEN r.latest_time IS NULL OR (excluded.latest_time, excluded.latest_key) > (r.latest_time, r.latest_key)
                      THEN excluded.latest_key ELSE r.latest_key END,
    latest_time = CASE WHEN r.latest_time IS NULL OR (excluded.latest_time, excluded.latest_key) > (r.latest_time, r.latest_key)
                       THEN excluded.latest_time ELSE r.latest_time END`

const insertDistinct = `INSERT INTO usage_rollup_distinct (meter, subject, hour, groups, value, slot)
SELECT m, s, h, g, v, $6::int2 FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[]) AS u(m, s, h, g, v)
ON CONFLICT DO NOTHING`

const insertAdjustments = `INSERT INTO usage_adjustments (key, meter, subject, event_time, groups, value, unique_value)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[], $6::numeric[], $7::text[])
ON CONFLICT DO NOTHING`

// queueRollups aggregates the group's stored events in memory and queues one upsert per rollup
// table into the rows of the committer's slot (and one insert of adjustments for late events).
func queueRollups(b *pgx.Batch, slot int16, events []*prepared) {
	acc := map[rollupKey]*rollupAcc{}
	distinct := map[distinctKey]struct{}{}
	var adj adjustmentRows
	for _, p := range events {
		if p.status == Late {
			adj.add(p)
			continue
		}
		if p.status != Stored {
			continue
		}
		hour := hourOf(p.ev.Time).Unix()
		for _, m := range p.measures {
			k := rollupKey{meter: m.meter.Slug, subject: p.ev.Subject, groups: m.groups, hour: hour}
			a := acc[k]
			if a == nil {
				a = &rollupAcc{}
				acc[k] = a
			}
			a.count++
			switch m.meter.Aggregation {
			case Count:
				a.sum = a.sum.Add(m.value)
			case Sum:
				a.sum = a.sum.Add(m.value)
			case Max:
				if a.max == nil || m.value.GreaterThan(*a.max) {
					v := m.value
					a.max = &v
				}
			case Latest:
				if a.latest == nil || p.ev.Time.After(a.latestTime) ||
					(p.ev.Time.Equal(a.latestTime) && bytes.Compare(p.key[:], a.latestKey[:]) > 0) {
					v := m.value
					a.latest, a.latestTime, a.latestKey = &v, p.ev.Time, p.key
				}
			case UniqueCount:
				distinct[distinctKey{rollupKey: k, value: m.unique}] = struct{}{}
			}
		}
	}
	if len(acc) > 0 {
		keys := make([]rollupKey, 0, len(acc))
		for k := range acc {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return lessRollup(keys[i], keys[j]) })
		n := len(keys)
		meter, subject, groups := make([]string, n), make([]string, n), make([]string, n)
		hours, latestTimes := make([]time.Time, n), make([]*time.Time, n)
		counts := make([]int64, n)
		sums, maxes, latests := make([]string, n), make([]*string, n), make([]*string, n)
		latestKeys := make([]pgtype.UUID, n)
		for j, k := range keys {
			a := acc[k]
			meter[j], subject[j], groups[j], hours[j], counts[j] = k.meter, k.subject, k.groups, time.Unix(k.hour, 0).UTC(), a.count
			sums[j] = a.sum.String()
			if a.max != nil {
				s := a.max.String()
				maxes[j] = &s
			}
			if a.latest != nil {
				s, t, key := a.latest.String(), a.latestTime, a.latestKey
				latests[j], latestTimes[j], latestKeys[j] = &s, &t, pgtype.UUID{Bytes: key, Valid: true}
			}
		}
		b.Queue(upsertRollups, meter, subject, hours, groups, counts, sums, maxes, latests, latestTimes, latestKeys, slot)
	}
	if len(distinct) > 0 {
		keys := make([]distinctKey, 0, len(distinct))
		for k := range distinct {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].rollupKey != keys[j].rollupKey {
				return lessRollup(keys[i].rollupKey, keys[j].rollupKey)
			}
			return keys[i].value < keys[j].value
		})
		n := len(keys)
		meter, subject, groups, values := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		hours := make([]time.Time, n)
		for j, k := range keys {
			meter[j], subject[j], groups[j], hours[j], values[j] = k.meter, k.subject, k.groups, time.Unix(k.hour, 0).UTC(), k.value
		}
		b.Queue(insertDistinct, meter, subject, hours, groups, values, slot)
	}
	if len(adj.keys) > 0 {
		b.Queue(insertAdjustments, adj.keys, adj.meters, adj.subjects, adj.times, adj.groups, adj.values, adj.uniques)
	}
}

func lessRollup(a, b rollupKey) bool {
	if a.meter != b.meter {
		return a.meter < b.meter
	}
	if a.subject != b.subject {
		return a.subject < b.subject
	}
	if a.hour != b.hour {
		return a.hour < b.hour
	}
	return a.groups < b.groups
}

// adjustmentRows collects late events' meter readings as column arrays.
type adjustmentRows struct {
	keys             [][16]byte
	meters, subjects []string
	times            []time.Time
	groups           []string
	values, uniques  []*string
}

func (r *adjustmentRows) add(p *prepared) {
	for _, m := range p.measures {
		r.keys = append(r.keys, p.key)
		r.meters = append(r.meters, m.meter.Slug)
		r.subjects = append(r.subjects, p.ev.Subject)
		r.times = append(r.times, p.ev.Time)
		r.groups = append(r.groups, m.groups)
		if m.meter.Aggregation == UniqueCount {
			u := m.unique
			r.values, r.uniques = append(r.values, nil), append(r.uniques, &u)
		} else {
			v := m.value.String()
			r.values, r.uniques = append(r.values, &v), append(r.uniques, nil)
		}
	}
}
