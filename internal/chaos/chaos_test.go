package chaos

import "testing"

func TestDiceRateAndMix(t *testing.T) {
	d := New(0.10, 42)
	for range 20000 {
		d.Roll()
	}
	s := d.Stats()
	if s.Requests != 20000 {
		t.Fatalf("requests = %d", s.Requests)
	}
	faults := s.RateLimited + s.Unavailable
	if faults < 1800 || faults > 2200 {
		t.Fatalf("faults = %d of 20000, want about 10%%", faults)
	}
	if s.RateLimited < faults/3 || s.Unavailable < faults/3 {
		t.Fatalf("mix = %+v, want both kinds", s)
	}
}

func TestDiceReproducibleAndNilSafe(t *testing.T) {
	a, b := New(0.5, 7), New(0.5, 7)
	for i := range 1000 {
		if x, y := a.Roll(), b.Roll(); x != y {
			t.Fatalf("roll %d: %v != %v", i, x, y)
		}
	}
	var none *Dice
	if none.Roll() != None || none.Stats() != (Stats{}) {
		t.Fatal("a nil Dice must never fault")
	}
	if New(0, 1).Roll() != None {
		t.Fatal("rate 0 must never fault")
	}
}
