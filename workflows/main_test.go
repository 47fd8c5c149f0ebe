package workflows

import (
	"testing"

	"github.com/revhub/revhub/internal/temporaltest"
)

// TestMain stops the Temporal dev server the integration tests started, if any.
func TestMain(m *testing.M) { temporaltest.Main(m) }
