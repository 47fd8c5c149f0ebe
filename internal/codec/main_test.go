package codec_test

import (
	"testing"

	"github.com/revhub/revhub/internal/temporaltest"
)

func TestMain(m *testing.M) { temporaltest.Main(m) }
