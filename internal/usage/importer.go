package usage

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ImportOptions tune an import; zero values take the defaults noted on each field.
type ImportOptions struct {
	Name      string // checkpoint name; default: the file's absolute path
	Format    string // "csv" or "jsonl"; default: from the file extension
	BatchSize int    // events per transaction; default 5000, at most MaxBatch
	Restart   bool   // ignore a stored checkpoint and read from the start (dedup still prevents doubles)
	Progress  func(ImportProgress)
}

// ImportProgress is where an import stands; it is reported after every committed batch.
type ImportProgress struct {
	Bytes      int64 // bytes of the file committed so far (including a resumed prefix)
	TotalBytes int64
	Lines      int64 // data lines committed so far
	Events     int64 // events read in this run
	Stored     int64 // new events stored in this run
	Duplicates int64
	Conflicts  int64
	Late       int64
	Resumed    bool // the run continued from a checkpoint
}

// ErrFileChanged means the file's start differs from the one the checkpoint was taken on.
var ErrFileChanged = errors.New("the file changed since its checkpoint was taken; import again with restart")

// fingerprintBytes is how much of the file's start identifies it.
const fingerprintBytes = 64 << 10

// Import loads a CSV or JSONL file of events through the ingester, batch by batch. Each batch
// commits together with a checkpoint (byte offset and line) of the file, so a run killed at any
// point resumes after the last committed batch; dedup on (source, id) makes re-reading harmless.
// CSV needs a header naming the columns id, source, type, subject, time and optionally data
// (a JSON object) and specversion (default 1.0). Problems are reported with Index set to the
// file's line number.
func Import(ctx context.Context, in *Ingester, path string, opts ImportOptions) (ImportProgress, error) {
	var prog ImportProgress
	if opts.BatchSize <= 0 {
		opts.BatchSize = 5000
	}
	opts.BatchSize = min(opts.BatchSize, MaxBatch)
	if opts.Format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".csv":
			opts.Format = "csv"
		case ".jsonl", ".ndjson":
			opts.Format = "jsonl"
		default:
			return prog, fmt.Errorf("import %s: cannot tell the format from the extension: pass csv or jsonl", path)
		}
	}
	if opts.Format != "csv" && opts.Format != "jsonl" {
		return prog, fmt.Errorf("import %s: format must be csv or jsonl, got %q", path, opts.Format)
	}
	if opts.Name == "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return prog, fmt.Errorf("import %s: %w", path, err)
		}
		opts.Name = abs
	}
	f, err := os.Open(path)
	if err != nil {
		return prog, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return prog, fmt.Errorf("import %s: %w", path, err)
	}
	prog.TotalBytes = st.Size()
	head := make([]byte, fingerprintBytes)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return prog, fmt.Errorf("import %s: %w", path, err)
	}
	sum := sha256.Sum256(head[:n])
	fingerprint := sum[:]

	var offset, line int64
	if !opts.Restart {
		var stored []byte
		err := in.pool.QueryRow(ctx, `SELECT fingerprint, byte_offset, line FROM usage_import_checkpoints WHERE name = $1`, opts.Name).Scan(&stored, &offset, &line)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return prog, fmt.Errorf("import %s: read checkpoint: %w", path, err)
		case !bytes.Equal(stored, fingerprint):
			return prog, fmt.Errorf("import %s: %w", path, ErrFileChanged)
		default:
			prog.Resumed = true
		}
	}
	src, err := newImportSource(f, opts.Format, offset, line)
	if err != nil {
		return prog, fmt.Errorf("import %s: %w", path, err)
	}
	prog.Bytes, prog.Lines = src.offset(), src.line()
	events := make([]Event, 0, opts.BatchSize)
	lines := make([]int64, 0, opts.BatchSize)
	for {
		events, lines = events[:0], lines[:0]
		var probs []Problem
		skip := map[int]bool{}
		for len(events) < opts.BatchSize {
			e, ln, p, err := src.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return prog, fmt.Errorf("import %s: line %d: %w", path, ln, err)
			}
			if len(p) > 0 {
				probs = append(probs, p...)
				skip[len(events)] = true
			}
			events, lines = append(events, e), append(lines, ln)
		}
		if len(events) == 0 {
			return prog, nil
		}
		if len(probs) > 0 { // also run the meter checks on the rest, to report everything at once
			more := in.Check(ctx, events, func(i int) bool { return skip[i] })
			for i := range more {
				more[i].Index = int(lines[more[i].Index])
			}
			probs = append(probs, more...)
			sort.SliceStable(probs, func(i, j int) bool { return probs[i].Index < probs[j].Index })
		}
		if len(probs) > 0 {
			return prog, fmt.Errorf("import %s: nothing after line %d was stored: %w", path, prog.Lines, &ImportError{Problems: probs})
		}
		end, endLine := src.offset(), src.line()
		res, err := in.Ingest(ctx, events, IngestOptions{InTx: func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO usage_import_checkpoints (name, fingerprint, byte_offset, line, events)
				VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint, byte_offset = excluded.byte_offset,
					line = excluded.line, events = usage_import_checkpoints.events + excluded.events, updated_at = now()`,
				opts.Name, fingerprint, end, endLine, int64(len(events)))
			if err != nil {
				return fmt.Errorf("write checkpoint: %w", err)
			}
			return nil
		}})
		var inv *InvalidError
		if errors.As(err, &inv) {
			probs := append([]Problem(nil), inv.Problems...)
			for i := range probs {
				if probs[i].Index >= 0 {
					probs[i].Index = int(lines[probs[i].Index])
				}
			}
			return prog, fmt.Errorf("import %s: nothing after line %d was stored: %w", path, prog.Lines, &ImportError{Problems: probs})
		}
		if err != nil {
			return prog, fmt.Errorf("import %s: batch ending at line %d: %w", path, endLine, err)
		}
		prog.Bytes, prog.Lines = end, endLine
		prog.Events += int64(len(events))
		prog.Stored += int64(res.Stored)
		prog.Duplicates += int64(len(res.Duplicates))
		prog.Conflicts += int64(len(res.Conflicts))
		prog.Late += int64(len(res.Late))
		if opts.Progress != nil {
			opts.Progress(prog)
		}
	}
}

// ImportError lists the problems of an import batch; each Problem's Index is a line number.
type ImportError struct{ Problems []Problem }

func (e *ImportError) Error() string {
	parts := make([]string, 0, min(len(e.Problems), 20))
	for i, p := range e.Problems {
		if i == 20 {
			parts = append(parts, fmt.Sprintf("and %d more", len(e.Problems)-20))
			break
		}
		parts = append(parts, fmt.Sprintf("line %d: %s: %s", p.Index, p.Field, p.Reason))
	}
	return strings.Join(parts, "; ")
}

// importSource reads events from a file position onwards.
type importSource interface {
	next() (e Event, line int64, probs []Problem, err error) // io.EOF at the end
	offset() int64                                           // byte offset after the last event returned
	line() int64                                             // line number of the last event returned
}

func newImportSource(f *os.File, format string, offset, line int64) (importSource, error) {
	if format == "jsonl" {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			return nil, err
		}
		return &jsonlSource{r: bufio.NewReaderSize(f, 1<<20), off: offset, ln: line}, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	header := csv.NewReader(bufio.NewReader(f))
	cols, err := header.Read()
	if err != nil {
		return nil, fmt.Errorf("line 1: CSV header: %w", err)
	}
	s := &csvSource{cols: map[string]int{}}
	for i, c := range cols {
		c = strings.TrimSpace(strings.TrimPrefix(c, "\ufeff"))
		switch c {
		case "id", "source", "type", "subject", "time", "data", "specversion", "datacontenttype":
			s.cols[c] = i
		default:
			return nil, fmt.Errorf("line 1: CSV header: unknown column %q (known: id, source, type, subject, time, data, specversion, datacontenttype)", c)
		}
	}
	for _, c := range []string{"id", "source", "type", "subject", "time"} {
		if _, ok := s.cols[c]; !ok {
			return nil, fmt.Errorf("line 1: CSV header: column %q is required", c)
		}
	}
	if offset == 0 {
		offset, line = header.InputOffset(), 1
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, err
	}
	s.base, s.start, s.ln = offset, line, line
	s.r = csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	s.r.FieldsPerRecord = len(cols)
	s.r.ReuseRecord = true
	return s, nil
}

type jsonlSource struct {
	r   *bufio.Reader
	off int64
	ln  int64
}

func (s *jsonlSource) next() (Event, int64, []Problem, error) {
	for {
		b, err := s.r.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			return Event{}, s.ln, nil, err
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return Event{}, s.ln + 1, nil, err
		}
		s.off += int64(len(b))
		s.ln++
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue // blank line
		}
		var w wireEvent
		if err := json.Unmarshal(b, &w); err != nil {
			var syn *json.SyntaxError
			if errors.As(err, &syn) {
				return Event{}, s.ln, []Problem{{Index: int(s.ln), Field: "event", Reason: fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn)}}, nil
			}
			return Event{}, s.ln, typeProblems(int(s.ln), b), nil
		}
		var e Event
		probs := convert(int(s.ln), &w, &e, nil)
		return e, s.ln, probs, nil
	}
}

func (s *jsonlSource) offset() int64 { return s.off }
func (s *jsonlSource) line() int64   { return s.ln }

type csvSource struct {
	r     *csv.Reader
	cols  map[string]int
	base  int64 // byte offset where the reader started
	start int64 // line number just before the reader's first line
	ln    int64
}

func (s *csvSource) next() (Event, int64, []Problem, error) {
	rec, err := s.r.Read()
	if err != nil {
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			return Event{}, s.start + int64(perr.StartLine), nil, err
		}
		return Event{}, s.ln, nil, err
	}
	line, _ := s.r.FieldPos(0)
	s.ln = s.start + int64(line)
	get := func(c string) string {
		if i, ok := s.cols[c]; ok {
			return rec[i]
		}
		return ""
	}
	w := wireEvent{SpecVersion: get("specversion"), ID: get("id"), Source: get("source"), Type: get("type"),
		Subject: get("subject"), Time: get("time"), DataContentType: get("datacontenttype")}
	if w.SpecVersion == "" {
		w.SpecVersion = "1.0"
	}
	if d := strings.TrimSpace(get("data")); d != "" {
		if !json.Valid([]byte(d)) {
			return Event{}, s.ln, []Problem{{Index: int(s.ln), Field: "data", Reason: "must be a JSON object"}}, nil
		}
		w.Data = json.RawMessage(d)
	}
	var e Event
	probs := convert(int(s.ln), &w, &e, nil)
	return e, s.ln, probs, nil
}

func (s *csvSource) offset() int64 { return s.base + s.r.InputOffset() }
func (s *csvSource) line() int64   { return s.ln }
