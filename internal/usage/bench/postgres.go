package bench

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Postgres is what a run records of the PostgreSQL server behind the API: the two settings that
// move ingestion throughput most, and the checkpoints taken during the run.
type Postgres struct {
	SharedBuffers string // shared_buffers, as SHOW prints it
	MaxWALSize    string // max_wal_size, as SHOW prints it
	Requested     int64  // checkpoints forced during the run (WAL volume reached max_wal_size, or CHECKPOINT)
	Timed         int64  // checkpoints started by checkpoint_timeout during the run
}

// checkpoints are the server's cumulative checkpoint counters.
type checkpoints struct{ requested, timed int64 }

// pgObserver reads the server's settings and checkpoint counters over one connection.
type pgObserver struct {
	conn  *pgx.Conn
	query string // reads the checkpoint counters on this server's version
	start checkpoints
}

// observePostgres connects to url and records the checkpoint counters at the start of a run.
func observePostgres(ctx context.Context, url string) (*pgObserver, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("bench: connect to PostgreSQL (--database-url): %w", err)
	}
	o := &pgObserver{conn: conn}
	if err := o.begin(ctx); err != nil {
		_ = conn.Close(ctx)
		return nil, err
	}
	return o, nil
}

// begin picks the counters' view for the server's version (pg_stat_checkpointer from PostgreSQL 17,
// pg_stat_bgwriter before) and reads them.
func (o *pgObserver) begin(ctx context.Context) error {
	var version int
	if err := o.conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&version); err != nil {
		return fmt.Errorf("bench: read server_version_num: %w", err)
	}
	o.query = `SELECT checkpoints_req, checkpoints_timed FROM pg_stat_bgwriter`
	if version >= 170000 {
		o.query = `SELECT num_requested, num_timed FROM pg_stat_checkpointer`
	}
	var err error
	o.start, err = o.checkpoints(ctx)
	return err
}

// checkpoints reads the server's cumulative checkpoint counters.
func (o *pgObserver) checkpoints(ctx context.Context) (checkpoints, error) {
	var c checkpoints
	if err := o.conn.QueryRow(ctx, o.query).Scan(&c.requested, &c.timed); err != nil {
		return c, fmt.Errorf("bench: read checkpoint counters: %w", err)
	}
	return c, nil
}

// finish reads the settings and the checkpoints taken since observePostgres, and closes the connection.
func (o *pgObserver) finish(ctx context.Context) (*Postgres, error) {
	defer o.conn.Close(ctx)
	end, err := o.checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	p := &Postgres{Requested: end.requested - o.start.requested, Timed: end.timed - o.start.timed}
	if err := o.conn.QueryRow(ctx, `SELECT current_setting('shared_buffers'), current_setting('max_wal_size')`).Scan(&p.SharedBuffers, &p.MaxWALSize); err != nil {
		return nil, fmt.Errorf("bench: read shared_buffers and max_wal_size: %w", err)
	}
	return p, nil
}
