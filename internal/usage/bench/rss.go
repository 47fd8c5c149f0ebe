package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// rssSampler tracks the API process's peak resident memory.
type rssSampler struct {
	mu     sync.Mutex
	max    int64
	source string
}

func (s *rssSampler) sample(ctx context.Context, o Options) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		var v int64
		var src string
		if o.APIPID > 0 {
			v, _ = procStatus(o.APIPID, "VmHWM") // the kernel's own high-water mark
			src = fmt.Sprintf("VmHWM of pid %d", o.APIPID)
		} else {
			v = metricsRSS(ctx, o)
			src = "process_resident_memory_bytes from /metrics (sampled every 200ms)"
		}
		s.mu.Lock()
		if v > s.max {
			s.max, s.source = v, src
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *rssSampler) peak() (int64, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max, s.source
}

// procStatus reads one kB field of /proc/<pid>/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

func metricsRSS(ctx context.Context, o Options) int64 {
	req, err := http.NewRequestWithContext(ctx, "GET", o.URL+"/metrics", nil)
	if err != nil {
		return 0
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
			d, err := decimal.NewFromString(strings.TrimSpace(rest)) // e.g. 1.23456e+08
			if err != nil {
				return 0
			}
			return d.IntPart()
		}
	}
	return 0
}
