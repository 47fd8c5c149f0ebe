package mappings

import "fmt"

func fmtJSON(format string, args ...any) string { return fmt.Sprintf(format, args...) }
