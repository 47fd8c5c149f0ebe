// Package chaos decides, request by request, whether a fake provider answers with an injected
// fault (a rate limit or a server error) instead of serving the request: the random faults of
// `revhub bench close --chaos`. The fakes' queued faults (exact, for tests) come first.
package chaos

import (
	"math/rand/v2"
	"sync"
)

// Kind is the fault a roll produced.
type Kind int

// The kinds of injected fault.
const (
	None        Kind = iota // serve the request
	RateLimited             // answer the provider's 429 (with Retry-After)
	Unavailable             // answer the provider's 5xx
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case RateLimited:
		return "rate_limited"
	case Unavailable:
		return "unavailable"
	default:
		return "none"
	}
}

// Dice injects faults at a rate, half rate limits and half server errors; safe for concurrent use.
type Dice struct {
	mu     sync.Mutex
	rate   float64
	r      *rand.Rand
	rolls  int
	faults map[Kind]int
}

// New returns dice that fault rate (0..1) of the requests, reproducibly for a seed.
func New(rate float64, seed uint64) *Dice {
	return &Dice{rate: rate, r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), faults: map[Kind]int{}}
}

// Roll decides the next request's fate; a nil Dice never faults.
func (d *Dice) Roll() Kind {
	if d == nil {
		return None
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rolls++
	if d.r.Float64() >= d.rate {
		return None
	}
	k := RateLimited
	if d.r.IntN(2) == 1 {
		k = Unavailable
	}
	d.faults[k]++
	return k
}

// Stats are the requests rolled for and the faults injected, by kind.
type Stats struct {
	Requests    int `json:"requests"`
	RateLimited int `json:"rate_limited"`
	Unavailable int `json:"unavailable"`
}

// Stats returns what the dice did so far.
func (d *Dice) Stats() Stats {
	if d == nil {
		return Stats{}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return Stats{Requests: d.rolls, RateLimited: d.faults[RateLimited], Unavailable: d.faults[Unavailable]}
}
