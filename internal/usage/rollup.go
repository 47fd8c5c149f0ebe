package usage

import (
	"bytes"
	"cmp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// rollupKey identifies one hourly rollup row of a group: meter slug, subject and group-by values
// by their ids in the group's interners.
type rollupKey struct {
	meter, subject, groups int32
	index                  int32 // in sorting: the accumulator's index; 0 in map keys
	hour                   int64 // unix seconds of the UTC hour
}

// rollupAcc accumulates one group's contribution to a rollup row.
type rollupAcc struct {
	key        rollupKey
	count      int64
	sum        amount
	max        amount
	latest     amount
	latestTime time.Time
	latestKey  Key
	hasMax     bool
	hasLatest  bool
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

// upsertRollupTypes are the parameter types of upsertRollups.
var upsertRollupTypes = []uint32{oidTextArray, oidTextArray, oidTimestamptzArray, oidTextArray, oidInt8Array, oidNumericArray,
	oidNumericArray, oidNumericArray, oidTimestamptzArray, oidUUIDArray, oidInt2}

const insertDistinct = `INSERT INTO usage_rollup_distinct (meter, subject, hour, groups, value, slot)
SELECT m, s, h, g, v, $6::int2 FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[]) AS u(m, s, h, g, v)
ON CONFLICT DO NOTHING`

// insertDistinctTypes are the parameter types of insertDistinct.
var insertDistinctTypes = []uint32{oidTextArray, oidTextArray, oidTimestamptzArray, oidTextArray, oidTextArray, oidInt2}

const insertAdjustments = `INSERT INTO usage_adjustments (key, meter, subject, event_time, groups, value, unique_value)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[], $6::numeric[], $7::text[])
ON CONFLICT DO NOTHING`

// interner numbers the distinct strings of a group in order of appearance.
type interner struct {
	ids   map[string]int32
	names []string
	rank  []int32 // rank[id] is names[id]'s position in sorted order, after ranks
}

// reset forgets the strings of the last group (keeping the memory).
func (t *interner) reset() {
	if t.ids == nil {
		t.ids = map[string]int32{}
	}
	clear(t.ids)
	clear(t.names)
	t.names = t.names[:0]
}

// id returns s's id, giving it the next one if it is new.
func (t *interner) id(s string) int32 {
	if id, ok := t.ids[s]; ok {
		return id
	}
	id := int32(len(t.names))
	t.ids[s] = id
	t.names = append(t.names, s)
	return id
}

// ranks computes rank: ordering ids by rank orders their strings bytewise.
func (t *interner) ranks() {
	order := make([]int32, len(t.names))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(t.names[a], t.names[b]) })
	t.rank = slices.Grow(t.rank[:0], len(order))[:len(order)]
	for pos, id := range order {
		t.rank[id] = int32(pos)
	}
}

// rollups aggregates a group's meter readings per rollup row in memory, on interned ids and
// integer arithmetic, and encodes the rows as the array parameters of the upserts. One committer
// reuses it from group to group.
type rollups struct {
	meters   interner
	meterOf  map[*Meter]int32 // meter pointer -> id in meters (two reloads of a slug share the id)
	subjects interner         // filled by the caller: subjectOf holds each fresh event's id
	groups   interner
	index    map[rollupKey]int32 // -> accs
	accs     []rollupAcc
	order    []rollupKey // ranks of accs' keys, sorted
	distinct map[distinctKey]struct{}
	dkeys    []distinctKey
	cols     [10]pgArray
	slot     [2]byte
	adj      adjustmentRows
	written  distinctCache // kept across groups
}

// reset readies r for a group.
func (r *rollups) reset() {
	if r.index == nil {
		r.meterOf, r.index, r.distinct = map[*Meter]int32{}, map[rollupKey]int32{}, map[distinctKey]struct{}{}
	}
	r.meters.reset()
	r.subjects.reset()
	r.groups.reset()
	clear(r.meterOf)
	clear(r.index)
	clear(r.accs)
	r.accs = r.accs[:0]
	clear(r.distinct)
	clear(r.dkeys)
	r.dkeys = r.dkeys[:0]
	r.adj = adjustmentRows{}
	r.written.rolledBack()
}

// meterID returns the interned id of m's slug.
func (r *rollups) meterID(m *Meter) int32 {
	if id, ok := r.meterOf[m]; ok {
		return id
	}
	id := r.meters.id(m.Slug)
	r.meterOf[m] = id
	return id
}

// add aggregates the readings of the group's stored events (late ones become adjustments);
// subjectOf[j] is fresh[j]'s subject id in r.subjects.
func (r *rollups) add(fresh []*prepared, subjectOf []int32) {
	for j, p := range fresh {
		if p.status == Late {
			r.adj.add(p)
			continue
		}
		if p.status != Stored {
			continue
		}
		hour := hourUnix(p.ev.Time)
		for i := range p.measures {
			m := &p.measures[i]
			k := rollupKey{meter: r.meterID(m.meter), subject: subjectOf[j], groups: r.groups.id(m.groups), hour: hour}
			if m.meter.Aggregation == UniqueCount {
				r.distinct[distinctKey{rollupKey: k, value: m.unique}] = struct{}{}
			}
			ai, ok := r.index[k]
			if !ok {
				ai = int32(len(r.accs))
				r.index[k] = ai
				r.accs = append(r.accs, rollupAcc{key: k})
			}
			a := &r.accs[ai]
			a.count++
			switch m.meter.Aggregation {
			case Count, Sum:
				a.sum = a.sum.add(m.value)
			case Max:
				if !a.hasMax || m.value.cmp(a.max) > 0 {
					a.max, a.hasMax = m.value, true
				}
			case Latest:
				if !a.hasLatest || p.ev.Time.After(a.latestTime) ||
					(p.ev.Time.Equal(a.latestTime) && bytes.Compare(p.key[:], a.latestKey[:]) > 0) {
					a.latest, a.latestTime, a.latestKey, a.hasLatest = m.value, p.ev.Time, p.key, true
				}
			}
		}
	}
}

// ranked returns k with the ranks of its meter, subject and group-by values in place of their ids.
func (r *rollups) ranked(k rollupKey) rollupKey {
	k.meter, k.subject, k.groups = r.meters.rank[k.meter], r.subjects.rank[k.subject], r.groups.rank[k.groups]
	return k
}

// compareRollups orders rollup rows by meter slug, subject, hour and group-by values: the order
// every ingest transaction writes them in, so that they never deadlock on each other's rows.
func (r *rollups) compareRollups(a, b rollupKey) int {
	return compareRanked(r.ranked(a), r.ranked(b))
}

// compareRanked is compareRollups for keys that hold ranks instead of ids.
func compareRanked(a, b rollupKey) int {
	if c := cmp.Compare(a.meter, b.meter); c != 0 {
		return c
	}
	if c := cmp.Compare(a.subject, b.subject); c != 0 {
		return c
	}
	if c := cmp.Compare(a.hour, b.hour); c != 0 {
		return c
	}
	return cmp.Compare(a.groups, b.groups)
}

// queue adds the upserts of the aggregated rows, into the rows of the committer's slot, to b and
// reports whether there were any.
func (r *rollups) queue(b *pgconn.Batch, slot int16) bool {
	if len(r.accs) == 0 && len(r.distinct) == 0 {
		return false
	}
	queued := false
	r.meters.ranks()
	r.subjects.ranks()
	r.groups.ranks()
	r.slot = [2]byte{byte(uint16(slot) >> 8), byte(slot)}
	if len(r.accs) > 0 {
		// Sort small keys of ranks, not the accumulators.
		r.order = r.order[:0]
		for i := range r.accs {
			k := r.ranked(r.accs[i].key)
			k.index = int32(i)
			r.order = append(r.order, k)
		}
		slices.SortFunc(r.order, compareRanked)
		c := &r.cols
		for i, t := range [...]uint32{oidText, oidText, oidTimestamptz, oidText, oidInt8, oidNumeric, oidNumeric, oidNumeric, oidTimestamptz, oidUUID} {
			c[i].reset(t)
		}
		for _, o := range r.order {
			a := &r.accs[o.index]
			c[0].text(r.meters.names[a.key.meter])
			c[1].text(r.subjects.names[a.key.subject])
			c[2].timestamptz(pgMicrosOfUnix(a.key.hour))
			c[3].text(r.groups.names[a.key.groups])
			c[4].int8(a.count)
			c[5].numeric(a.sum)
			if a.hasMax {
				c[6].numeric(a.max)
			} else {
				c[6].null()
			}
			if a.hasLatest {
				c[7].numeric(a.latest)
				c[8].timestamptz(pgMicros(a.latestTime))
				c[9].uuid(a.latestKey)
			} else {
				c[7].null()
				c[8].null()
				c[9].null()
			}
		}
		params := make([][]byte, 0, 11)
		for i := range c {
			params = append(params, c[i].bytes())
		}
		params = append(params, r.slot[:])
		b.ExecParams(upsertRollups, params, upsertRollupTypes, binaryFormats[:len(params)], nil)
		queued = true
	}
	if len(r.distinct) > 0 {
		for k := range r.distinct {
			r.dkeys = append(r.dkeys, k)
		}
		slices.SortFunc(r.dkeys, func(a, b distinctKey) int {
			if c := r.compareRollups(a.rollupKey, b.rollupKey); c != 0 {
				return c
			}
			return cmp.Compare(a.value, b.value)
		})
		c := &r.cols
		for i, t := range [...]uint32{oidText, oidText, oidTimestamptz, oidText, oidText} {
			c[i].reset(t)
		}
		n := 0
		for _, k := range r.dkeys {
			row := distinctRow{meter: r.meters.names[k.meter], subject: r.subjects.names[k.subject], groups: r.groups.names[k.groups],
				value: k.value, hour: k.hour, slot: slot}
			if r.written.has(row) {
				continue
			}
			r.written.sent(row)
			c[0].text(row.meter)
			c[1].text(row.subject)
			c[2].timestamptz(pgMicrosOfUnix(k.hour))
			c[3].text(row.groups)
			c[4].text(row.value)
			n++
		}
		if n > 0 {
			params := [][]byte{c[0].bytes(), c[1].bytes(), c[2].bytes(), c[3].bytes(), c[4].bytes(), r.slot[:]}
			b.ExecParams(insertDistinct, params, insertDistinctTypes, binaryFormats[:len(params)], nil)
			queued = true
		}
	}
	return queued
}

// binaryFormats asks for the binary format of every parameter (or result column).
var binaryFormats = []int16{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}

// hourUnix returns the Unix time of the start of t's UTC hour.
func hourUnix(t time.Time) int64 {
	return t.Truncate(time.Hour).Unix() // the zero Time starts an hour: Truncate floors to UTC hours
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
