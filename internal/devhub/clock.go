package devhub

import "time"

// nowFunc is the wall clock; the dev stack is not a workflow, so reading it here is fine.
var nowFunc = time.Now
