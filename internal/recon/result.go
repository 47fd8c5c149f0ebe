package recon

import (
	"fmt"
	"regexp"
	"time"
)

// checkNamePattern is what a check name may look like: it is part of keys and audit subjects.
var checkNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,99}$`)

// Result is one evaluated attempt of a check in a run, as stored.
type Result struct {
	ID        int64      `json:"id,omitempty"` // set once stored
	Check     Check      `json:"check"`
	Attempt   int        `json:"attempt"` // the close's re-run counter of this check (1, 2, ...), not the activity retry
	Tolerance Tolerance  `json:"tolerance"`
	Status    Status     `json:"status"`             // green, within_tolerance or blocked, as evaluated when saved
	Breaches  []string   `json:"breaches,omitempty"` // why it is blocked
	CreatedAt time.Time  `json:"created_at,omitzero"`
	Decisions []Decision `json:"decisions,omitempty"` // approvals, oldest first (filled by Latest and Blocked)
}

// Decision is one recorded approval of a whole check (DifferenceKey "") or of one difference key.
type Decision struct {
	ID            int64     `json:"id"`
	Run           string    `json:"run"`
	Check         string    `json:"check"`
	Attempt       int       `json:"attempt"`
	DifferenceKey string    `json:"difference_key,omitempty"`
	Actor         string    `json:"actor"`
	Reason        string    `json:"reason"`
	At            time.Time `json:"at"`
}

// NewResult evaluates a check against its tolerance, ready for SaveResult.
func NewResult(c Check, attempt int, t Tolerance) Result {
	return Result{Check: c, Attempt: attempt, Tolerance: t, Status: Evaluate(c, t), Breaches: Breaches(c, t)}
}

// Effective is the status after approvals: a blocked check is approved when the whole check was
// approved, or when its differences left unapproved are within the tolerance.
func (r Result) Effective() Status {
	if r.Status != StatusBlocked || len(r.Decisions) == 0 {
		return r.Status
	}
	approved := map[string]bool{}
	for _, d := range r.Decisions {
		if d.DifferenceKey == "" {
			return StatusApproved
		}
		approved[d.DifferenceKey] = true
	}
	var open []Difference
	for _, d := range r.Check.Differences {
		if !approved[d.Key] {
			open = append(open, d)
		}
	}
	if evaluate(open, r.Tolerance) == StatusBlocked {
		return StatusBlocked
	}
	return StatusApproved
}

// Validate reports every problem of a result at once, including a status that does not follow
// from its differences and tolerance.
func (r Result) Validate() error {
	var ps problems
	c := r.Check
	if !checkNamePattern.MatchString(c.Name) {
		ps.Add("check.name", "must be 1-100 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit")
	}
	if c.Run == "" {
		ps.Add("check.run", "must not be empty")
	}
	if c.Step == "" {
		ps.Add("check.step", "must not be empty")
	}
	if r.Attempt < 1 {
		ps.Add("attempt", "must be at least 1, got %d", r.Attempt)
	}
	validateSide(&ps, "check.left", c.Left)
	validateSide(&ps, "check.right", c.Right)
	seen := map[groupID]bool{}
	for i, d := range c.Differences {
		p := fmt.Sprintf("check.differences[%d]", i)
		if d.Key == "" {
			ps.Add(p+".key", "must not be empty")
		}
		if !d.Currency.Valid() {
			ps.Add(p+".currency", "%q is not a supported ISO 4217 currency", d.Currency)
		}
		if !d.Kind.Valid() {
			ps.Add(p+".kind", "%q is not a known kind of difference", d.Kind)
		}
		if !d.Delta.Equal(d.Left.Sub(d.Right)) {
			ps.Add(p+".delta", "is %s but left - right is %s", d.Delta, d.Left.Sub(d.Right))
		}
		id := groupID{d.Key, d.Currency}
		if seen[id] {
			ps.Add(p, "key %q in %s appears more than once", d.Key, d.Currency)
		}
		seen[id] = true
	}
	r.Tolerance.validate(&ps, "tolerance.")
	if len(ps) == 0 {
		if want := Evaluate(c, r.Tolerance); r.Status != want {
			ps.Add("status", "is %q but the differences and tolerance give %q", r.Status, want)
		}
	}
	return ps.Err("recon", "result of check "+c.Name)
}

func validateSide(ps *problems, path string, s Side) {
	if s.Name == "" {
		ps.Add(path+".name", "must not be empty")
	}
	if s.Count < 0 {
		ps.Add(path+".count", "must not be negative")
	}
	for i, t := range s.Totals {
		if !t.Currency.Valid() {
			ps.Add(fmt.Sprintf("%s.totals[%d].currency", path, i), "%q is not a supported ISO 4217 currency", t.Currency)
		}
	}
}
