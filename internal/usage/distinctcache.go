package usage

import "strings"

// maxDistinctCache bounds the rows one committer's distinct cache remembers (about 10 MB).
const maxDistinctCache = 100_000

// distinctRow is one usage_rollup_distinct row.
type distinctRow struct {
	meter, subject, groups, value string
	hour                          int64
	slot                          int16
}

// distinctCache remembers the usage_rollup_distinct rows that a committer's committed
// transactions inserted or found present, so that later groups do not send them again: the
// insert would do nothing. It only skips rows known to exist (nothing deletes them); losing it
// costs repeated inserts, never a miscount. It forgets everything when full.
type distinctCache struct {
	rows    map[distinctRow]struct{}
	pending []distinctRow // sent by the current transaction, remembered once it commits
}

// has reports whether r is known to be stored.
func (c *distinctCache) has(r distinctRow) bool {
	_, ok := c.rows[r]
	return ok
}

// sent records that the current transaction inserts r.
func (c *distinctCache) sent(r distinctRow) { c.pending = append(c.pending, r) }

// rolledBack forgets the rows of a transaction that did not commit.
func (c *distinctCache) rolledBack() {
	clear(c.pending)
	c.pending = c.pending[:0]
}

// committed remembers the rows of the transaction that just committed. Their strings are
// copied: an event's subject shares its memory with the rest of its batch.
func (c *distinctCache) committed() {
	if c.rows == nil || len(c.rows)+len(c.pending) > maxDistinctCache {
		c.rows = make(map[distinctRow]struct{}, len(c.pending))
	}
	for _, r := range c.pending {
		if len(c.rows) >= maxDistinctCache {
			break
		}
		r.subject, r.groups, r.value = strings.Clone(r.subject), strings.Clone(r.groups), strings.Clone(r.value)
		c.rows[r] = struct{}{}
	}
	c.rolledBack()
}
