package invoice

import (
	"errors"
	"testing"
)

func TestNext(t *testing.T) {
	cases := []struct {
		from    Status
		a       Action
		settled bool
		want    Status // "" means refused
	}{
		{StatusDraft, ActionFinalize, false, StatusFinalized},
		{StatusDraft, ActionFinalize, true, StatusPaid},
		{StatusFinalized, ActionFinalize, false, ""},
		{StatusPaid, ActionFinalize, false, ""},
		{StatusVoid, ActionFinalize, false, ""},
		{StatusFinalized, ActionPay, false, StatusPartiallyPaid},
		{StatusFinalized, ActionPay, true, StatusPaid},
		{StatusPartiallyPaid, ActionPay, false, StatusPartiallyPaid},
		{StatusPartiallyPaid, ActionPay, true, StatusPaid},
		{StatusUncollectible, ActionPay, true, StatusPaid},
		{StatusDraft, ActionPay, true, ""},
		{StatusPaid, ActionPay, true, ""},
		{StatusVoid, ActionPay, true, ""},
		{StatusFinalized, ActionCredit, false, StatusFinalized},
		{StatusFinalized, ActionCredit, true, StatusPaid},
		{StatusPartiallyPaid, ActionCredit, false, StatusPartiallyPaid},
		{StatusUncollectible, ActionCredit, false, StatusUncollectible},
		{StatusPaid, ActionCredit, true, StatusPaid},
		{StatusDraft, ActionCredit, false, ""},
		{StatusVoid, ActionCredit, false, ""},
		{StatusDraft, ActionVoid, false, StatusVoid},
		{StatusFinalized, ActionVoid, false, StatusVoid},
		{StatusUncollectible, ActionVoid, false, StatusVoid},
		{StatusPartiallyPaid, ActionVoid, false, ""},
		{StatusPaid, ActionVoid, false, ""},
		{StatusVoid, ActionVoid, false, ""},
		{StatusFinalized, ActionMarkUncollectible, false, StatusUncollectible},
		{StatusPartiallyPaid, ActionMarkUncollectible, false, StatusUncollectible},
		{StatusDraft, ActionMarkUncollectible, false, ""},
		{StatusPaid, ActionMarkUncollectible, false, ""},
		{StatusUncollectible, ActionMarkUncollectible, false, ""},
	}
	for _, c := range cases {
		got, err := Next(c.from, c.a, c.settled)
		if c.want == "" {
			var te *TransitionError
			if !errors.As(err, &te) {
				t.Errorf("Next(%s, %s) = %s, %v; want a TransitionError", c.from, c.a, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Next(%s, %s, settled=%v) = %s, %v; want %s", c.from, c.a, c.settled, got, err, c.want)
		}
	}
}

func TestTransitionErrorMessage(t *testing.T) {
	_, err := Next(StatusPaid, ActionFinalize, false)
	if got, want := err.Error(), "invoice: cannot finalize: status is paid"; got != want {
		t.Fatalf("error = %q, want %q", got, want)
	}
}
