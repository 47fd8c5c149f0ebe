package devhub

import (
	"strconv"
	"testing"

	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/server"
)

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func apiOpts(listen string) server.Options { return server.Options{Listen: listen} }

func moneyCurrency(s string) money.Currency { return money.Currency(s) }
