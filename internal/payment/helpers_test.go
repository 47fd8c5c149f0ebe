package payment_test

import (
	"strings"

	"github.com/revhub/revhub/internal/money"
)

func moneyCur(s string) money.Currency { return money.Currency(s) }

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
