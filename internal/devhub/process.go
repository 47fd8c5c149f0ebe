package devhub

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// child is a process revhub dev started and must stop: its whole process group is signalled.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan error
	log  *os.File
}

// startChild runs bin with args in its own process group, logging to dir/name.log. The child
// gets SIGKILL if revhub itself dies, so nothing is left behind even after `kill -9`.
func startChild(dir, name, bin string, args ...string) (*child, error) {
	logf, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: log file: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("%s: start %s: %w", name, bin, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan error, 1), log: logf}
	go func() { c.done <- cmd.Wait() }()
	return c, nil
}

// stop sends SIGTERM to the process group, then SIGKILL after grace.
func (c *child) stop(grace time.Duration) error {
	defer c.log.Close()
	pgid := -c.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-c.done
	}
	// Make sure grandchildren in the group are gone too.
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	return nil
}

// exited reports a child that died on its own.
func (c *child) exited() <-chan error { return c.done }

// listening reports whether something accepts TCP connections on addr.
func listening(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// waitListening polls addr until it accepts connections, the child exits, or timeout.
func waitListening(ctx context.Context, addr string, c *child, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if listening(addr) {
			return nil
		}
		if c != nil {
			select {
			case err := <-c.done:
				c.done <- err
				return fmt.Errorf("%s exited before listening on %s: %v (see its log)", c.name, addr, err)
			default:
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("nothing listens on %s after %s", addr, timeout)
}

var _ io.Closer = (*os.File)(nil)
